"""A search's figures: learning, error, threshold and comparison curves over episodes.

They take per-episode records (``Results.episodes``, ``episodes.jsonl`` or a
:class:`~crlqas_kit.results.Results`): :func:`learning_curve` (mean ± band over seeds),
:func:`error_curve` (true error with the chemical-accuracy line), :func:`threshold_curve` (the
curriculum threshold ξ) and :func:`comparison_curves` (several runs, windows pooled over seeds).
:func:`best_entry` picks a run's best circuit. Every figure function accepts ``ax=`` (except
:func:`comparison_curves`, which makes its own panels) and returns the figure; artists carry gids
for tests. The physics figures are in :mod:`crlqas_kit.viz.plots`, ``report.md`` in
:mod:`crlqas_kit.viz.report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..problems import CHEMICAL_ACCURACY
from ..results import best_of
from .draw import figure_axes, shown_once


def _records(episodes) -> list[dict[str, Any]]:
    return list(getattr(episodes, "episodes", episodes))


def _by_seed(episodes, key: str) -> dict[int, np.ndarray]:
    out: dict[int, list] = {}
    for e in _records(episodes):
        out.setdefault(e.get("seed", 0), []).append(e[key])
    return {s: np.asarray(v, dtype=float) for s, v in out.items()}


def _band(ax, series: dict[int, np.ndarray], label: str, smooth: int, band: str):
    length = min((len(v) for v in series.values()), default=0)
    if length == 0:
        return
    data = np.stack([v[:length] for v in series.values()])
    if smooth > 1 and length >= smooth:
        kernel = np.ones(smooth) / smooth
        data = np.stack([np.convolve(d, kernel, mode="valid") for d in data])
    x = np.arange(1, data.shape[1] + 1) + (smooth - 1 if smooth > 1 and length >= smooth else 0)
    mean = data.mean(0)
    (line,) = ax.plot(x, mean, label=label, gid="mean")
    if data.shape[0] > 1:
        lo, hi = (data.min(0), data.max(0)) if band == "minmax" else (mean - data.std(0), mean + data.std(0))
        ax.fill_between(x, lo, hi, alpha=0.25, color=line.get_color(), gid="band")


@shown_once
def learning_curve(episodes, ax=None, smooth: int = 10, band: str = "std"):
    """Episode return: mean over seeds with a band (``"std"``: ± one standard deviation,
    ``"minmax"``: min to max), after a moving average over ``smooth`` episodes. Seeds are cut to
    the shortest one's length."""
    if band not in ("std", "minmax"):
        raise ValueError(f"band must be 'std' or 'minmax', got {band!r}")
    fig, ax = figure_axes(ax)
    series = _by_seed(episodes, "return")
    _band(ax, series, f"return (mean of {len(series)} seeds)" if len(series) > 1 else "return", smooth, band)
    ax.set(xlabel="episode", ylabel="return", title="Learning curve")
    return fig


@shown_once
def error_curve(episodes, ax=None, chemical_accuracy: float = CHEMICAL_ACCURACY):
    """True error ``|E - E0|`` at each episode's end (log scale) with the chemical-accuracy line."""
    fig, ax = figure_axes(ax)
    for seed, err in _by_seed(episodes, "error").items():
        x = np.arange(1, len(err) + 1)
        ax.semilogy(x, np.maximum(err, 1e-12), ".", ms=3, label=f"seed {seed}", gid=f"error:{seed}")
    ax.axhline(chemical_accuracy, color="k", ls="--", lw=1, label="chemical accuracy", gid="chemical_accuracy")
    ax.set(xlabel="episode", ylabel="|E − E0| (Ha)", title="Error at episode end")
    ax.legend(fontsize=7)
    return fig


@shown_once
def threshold_curve(episodes, ax=None):
    """The curriculum threshold ξ per episode (log scale)."""
    fig, ax = figure_axes(ax)
    for seed, thr in _by_seed(episodes, "threshold").items():
        ax.semilogy(np.arange(1, len(thr) + 1), thr, label=f"seed {seed}", gid=f"threshold:{seed}")
    ax.set(xlabel="episode", ylabel="threshold ξ (Ha)", title="Curriculum threshold")
    ax.legend(fontsize=7)
    return fig


_PANELS = (
    ("success_rate", "success rate (vs ξ)", False),
    ("accurate_rate", "chemically accurate rate", False),
    ("median_error", "median |E − E0| (Ha)", True),
    ("median_gates", "median gates", False),
    ("eps", "ε", False),
    ("threshold", "median threshold ξ (Ha)", True),
)


@shown_once
def curriculum_curve(run, seed: int = 0, ax=None):
    """What the curriculum did in one seed of a run (:func:`crlqas_kit.results.curriculum_trace`).

    Top (log scale): the threshold ξ each training episode ran under (steps), each episode's
    ``|E − E_min|`` at its end (dots: filled when the episode succeeded, i.e. ended below its ξ),
    the best ``|E_best − E_min|`` so far (dashed), the greedy resets (dotted vertical lines) and
    the shrinks of ξ by δ/K (triangles). Bottom: the success counter (successes since the last
    shrink or reset, the episode's own included) against N_s. ``ax``: two Axes (top, bottom), or None for a new figure.
    """
    from ..results import curriculum_trace

    t = curriculum_trace(run, seed)
    cfg = t["config"]
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(
            2, 1, figsize=(9, 5), sharex=True, layout="constrained", gridspec_kw={"height_ratios": [2.2, 1]}
        )
    else:
        axes = list(ax)
        if len(axes) != 2:
            raise ValueError(f"curriculum_curve draws two panels: pass two Axes, got {len(axes)}")
        fig = axes[0].figure
    top, bottom = axes
    ep = t["episode"]
    edges = np.concatenate([ep - 0.5, [ep[-1] + 0.5]])
    top.stairs(t["threshold"], edges, baseline=None, color="C0", lw=1.8, label="threshold ξ", gid="threshold")
    gap = np.maximum(t["gap"], 1e-12)
    won = np.asarray(t["gap"] < t["threshold"])
    top.semilogy(ep[won], gap[won], "o", ms=3.5, color="C2", label="|E − E_min|: success", gid="success")
    top.semilogy(ep[~won], gap[~won], "o", ms=3.5, mfc="none", color="C3", label="|E − E_min|: no success", gid="fail")
    best = np.maximum(np.abs(t["best_energy"] - t["e_min"]), 1e-12)
    top.semilogy(ep, best, "--", color="0.4", lw=1, label="best |E_best − E_min| so far", gid="best")
    lowered = t["shrink"] & (t["next_threshold"] < t["threshold"])
    top.plot(ep[lowered] + 0.5, t["next_threshold"][lowered], "v", color="C0", ms=5, label="ξ − δ/K", gid="shrink")
    for i, e in enumerate(ep[t["greedy"]]):
        top.axvline(e + 0.5, color="0.6", ls=":", lw=1, label=None if i else "greedy reset", gid="greedy")
        bottom.axvline(e + 0.5, color="0.6", ls=":", lw=1)
    top.axhline(CHEMICAL_ACCURACY, color="k", ls="--", lw=0.8, label="chemical accuracy", gid="chemical_accuracy")
    title = f"Curriculum of seed {seed}: T = {cfg.greedy_period}, N_s = {cfg.n_successes}, K = {cfg.n_shrinks}"
    top.set(ylabel="Ha", title=f"{title}, δ = {cfg.delta:g} Ha")
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    bottom.stairs(t["count"], edges, baseline=None, color="C2", gid="successes")
    bottom.axhline(cfg.n_successes, color="C0", ls="--", lw=1, label=f"N_s = {cfg.n_successes}: shrink")
    bottom.set(xlabel="training episode", ylabel="successes", ylim=(-0.3, cfg.n_successes + 0.6))
    bottom.set_xlim(0.5, ep[-1] + 0.5)
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


@shown_once
def comparison_curves(runs: Mapping[str, Any], window: int | None = None):
    """Learning curves of several runs on one figure (e.g. ``{"DDQN": res, "random": res2}``).

    Six panels over episodes, in windows of ``window`` episodes pooled over seeds
    (:func:`crlqas_kit.results.learning_stats`; default: a twentieth of the shortest run, at
    least 1): success rate against the curriculum threshold, chemical-accuracy rate, median
    error (log, with the chemical-accuracy line), median circuit length, ε, and ξ.
    """
    import matplotlib.pyplot as plt

    from ..results import learning_stats

    if not runs:
        raise ValueError("comparison_curves needs at least one run")
    if window is None:
        window = min(_default_window(r) for r in runs.values())
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), layout="constrained")
    for label, run in runs.items():
        stats = learning_stats(run, window)
        for ax, (key, _, log) in zip(axes.flat, _PANELS, strict=True):
            y = np.asarray(stats[key], dtype=float)
            if np.all(~np.isfinite(y)):
                continue
            (ax.semilogy if log else ax.plot)(stats["episode"], y, marker=".", label=label, gid=f"{key}:{label}")
    for ax, (key, title, _) in zip(axes.flat, _PANELS, strict=True):
        ax.set(xlabel="episode", title=title)
        if key == "median_error":
            ax.axhline(CHEMICAL_ACCURACY, color="k", ls="--", lw=1, gid="chemical_accuracy")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"Learning curves (windows of {window} episodes, seeds pooled)")
    return fig


def _default_window(episodes) -> int:
    lengths = [len(v) for v in _by_seed(episodes, "error").values()]
    return max(1, min(lengths, default=0) // 20)


def best_entry(best: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The overall best of ``Results.best`` by the kit's ranking (:func:`crlqas_kit.results.rank_key`)."""
    return best_of(best)
