"""Figures: a search's curves, energy landscapes, PTMs, noise channels and optimiser traces.

Search figures take per-episode records (``Results.episodes``, ``episodes.jsonl`` or a
:class:`~crlqas_kit.results.Results`): :func:`learning_curve` (mean ± band over seeds),
:func:`error_curve` (true error with the chemical-accuracy line), :func:`threshold_curve` (the
curriculum threshold ξ), :func:`curriculum_curve` (what the curriculum did in one seed: ξ,
successes, shrinks and greedy resets). Physics figures: :func:`energy_landscape` (energy along one or two
angles), :func:`ptm_heatmap`, :func:`bloch_shrink` (what a 1-qubit channel does to the Bloch
ball) and :func:`spsa_trace` (optimiser traces). Every function accepts ``ax=`` and returns the
figure; artists carry gids (``"landscape"``, ``"trace:<label>"``, ...) for tests.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..problems import CHEMICAL_ACCURACY, Problem
from ..results import best_of
from .draw import MINUS, as_circuit, format_angle, shown_once


def _records(episodes) -> list[dict[str, Any]]:
    return list(getattr(episodes, "episodes", episodes))


def _by_seed(episodes, key: str) -> dict[int, np.ndarray]:
    out: dict[int, list] = {}
    for e in _records(episodes):
        out.setdefault(e.get("seed", 0), []).append(e[key])
    return {s: np.asarray(v, dtype=float) for s, v in out.items()}


def _ax(ax, figsize=(6, 3.5)):
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


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
    fig, ax = _ax(ax)
    series = _by_seed(episodes, "return")
    _band(ax, series, f"return (mean of {len(series)} seeds)" if len(series) > 1 else "return", smooth, band)
    ax.set(xlabel="episode", ylabel="return", title="Learning curve")
    return fig


@shown_once
def error_curve(episodes, ax=None, chemical_accuracy: float = CHEMICAL_ACCURACY):
    """True error ``|E - E0|`` at each episode's end (log scale) with the chemical-accuracy line."""
    fig, ax = _ax(ax)
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
    fig, ax = _ax(ax)
    for seed, thr in _by_seed(episodes, "threshold").items():
        ax.semilogy(np.arange(1, len(thr) + 1), thr, label=f"seed {seed}", gid=f"threshold:{seed}")
    ax.set(xlabel="episode", ylabel="threshold ξ (Ha)", title="Curriculum threshold")
    ax.legend(fontsize=7)
    return fig


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


_PANELS = (
    ("success_rate", "success rate (vs ξ)", False),
    ("accurate_rate", "chemically accurate rate", False),
    ("median_error", "median |E − E0| (Ha)", True),
    ("median_gates", "median gates", False),
    ("eps", "ε", False),
    ("threshold", "median threshold ξ (Ha)", True),
)


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


def comparison_summary(runs: Mapping[str, Any], window: int | None = None) -> str:
    """One sentence per run: its last window's chemical-accuracy rate, median error and length."""
    from ..results import learning_stats

    window = window or min(_default_window(r) for r in runs.values())
    parts = []
    for label, run in runs.items():
        st = learning_stats(run, window)
        if not st["episode"]:
            parts.append(f"{label}: fewer than {window} episodes")
            continue
        parts.append(
            f"{label}: {100 * st['accurate_rate'][-1]:.0f} % chemically accurate, median error "
            f"{st['median_error'][-1]:.1e} Ha, median {st['median_gates'][-1]:.0f} gates"
        )
    last = min((len(learning_stats(r, window)["episode"]) for r in runs.values()), default=0) * window
    return f"Over episodes {max(1, last - window + 1)}-{last} (seeds pooled): " + "; ".join(parts) + "."


def comparison_table(runs: Mapping[str, Any], window: int | None = None) -> str:
    """Markdown: per run, overall counts and the last window's rates and medians, and the best circuit."""
    from ..results import learning_stats

    head = (
        "| run | agent | episodes | objective evaluations | accurate episodes | success rate, last window | "
        "accurate rate, last window | median error, last window (Ha) | median gates, last window | "
        "best circuit: error (Ha) / gates / CNOTs |"
    )
    lines = [head, "|" + "---|" * 10]
    for label, run in runs.items():
        eps = _records(run)
        stats = learning_stats(eps, window or _default_window(eps))
        last = {k: (v[-1] if v else float("nan")) for k, v in stats.items()}
        best = best_entry(getattr(run, "best", {}) or {})
        per_seed = _by_seed(eps, "evaluations") if eps and all("evaluations" in e for e in eps) else {}
        evals = int(sum(v[-1] for v in per_seed.values()))
        agent = eps[0].get("agent", "ddqn") if eps else "-"
        bc = "-" if best is None else f"{best['error']:.2e} / {best['gates']} / {best['cnots']}"
        lines.append(
            f"| {label} | {agent} | {len(eps)} | {evals} | {sum(bool(e['chemically_accurate']) for e in eps)} | "
            f"{last['success_rate']:.2f} | {last['accurate_rate']:.2f} | {last['median_error']:.2e} | "
            f"{last['median_gates']:.0f} | {bc} |"
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------
# physics figures
# -------------------------------------------------------------------------------------------


def param_names(circuit) -> list[str]:
    """``["θ0 RY(0)", "θ1 RX(1)", ...]``: each rotation angle with its gate, in parameter order."""
    ops = [op for op in as_circuit(circuit).ops() if op[2] is not None]
    return [f"θ{k} {name.upper()}({wires[0]})" for k, (name, wires, _) in enumerate(ops)]


def _pi_ticks(axis, span):
    if np.allclose(span, (-np.pi, np.pi)):
        ticks = np.linspace(-np.pi, np.pi, 5)
        axis.set_ticks(ticks, [format_angle(t, "pi", MINUS) for t in ticks])


@shown_once
def energy_landscape(
    problem_or_hamiltonian,
    circuit,
    which: int | Sequence[int] = (0,),
    noise=None,
    grid: int | None = None,
    ax=None,
    *,
    span: tuple[float, float] = (-np.pi, np.pi),
    params=None,
):
    """Energy of ``circuit`` as one angle (``which=(i,)``, a curve) or two (``(i, j)``, a map)
    sweep ``span``, the other angles fixed at ``params`` (default: the circuit's own).

    Angles are numbered in gate order (:func:`param_names`). With a :class:`Problem` the exact
    ground energy E0 is drawn (1-D: a dashed line; 2-D: noted in the title). The current point is
    marked; one batched, compiled simulator call evaluates the whole grid (``grid`` points per
    axis, default 61 for a curve and 41 for a map).
    """
    from ..sim.simulator import expectation_batch

    problem = problem_or_hamiltonian if isinstance(problem_or_hamiltonian, Problem) else None
    ham = problem.hamiltonian if problem else problem_or_hamiltonian
    circuit = as_circuit(circuit)
    which = (which,) if isinstance(which, int | np.integer) else tuple(which)
    names = param_names(circuit)
    if len(which) not in (1, 2) or any(not 0 <= int(i) < len(names) for i in which):
        raise ValueError(
            f"which must name 1 or 2 of the circuit's {len(names)} angles (0..{len(names) - 1}), got {which}"
        )
    base = np.asarray(circuit.params if params is None else params, dtype=float)
    grid = grid or (61 if len(which) == 1 else 41)
    thetas = np.linspace(span[0], span[1], grid)
    fig, ax = _ax(ax, (5, 3.5) if len(which) == 1 else (5, 4))
    if len(which) == 1:
        i = int(which[0])
        batch = np.tile(base, (grid + 1, 1))  # the last row is the current point: one call
        batch[:grid, i] = thetas
        *energies, current = expectation_batch(circuit, ham, noise, batch)
        ax.plot(thetas, energies, gid="landscape")
        ax.plot([base[i]], [current], "o", color="C3", label="current angles", gid="current")
        if problem is not None:
            ax.axhline(problem.e0, color="k", ls="--", lw=1, label="E0", gid="e0")
        ax.set(xlabel=names[i], ylabel="energy (Ha)", title="Energy landscape")
        _pi_ticks(ax.xaxis, span)
        ax.legend(fontsize=7)
        return fig
    i, j = (int(w) for w in which)
    ti, tj = np.meshgrid(thetas, thetas)  # rows: angle j (y axis), columns: angle i (x axis)
    batch = np.tile(base, (grid * grid, 1))
    batch[:, i], batch[:, j] = ti.ravel(), tj.ravel()
    energies = expectation_batch(circuit, ham, noise, batch).reshape(grid, grid)
    mesh = ax.pcolormesh(thetas, thetas, energies, shading="auto", cmap="viridis", gid="landscape")
    ax.contour(thetas, thetas, energies, levels=8, colors="white", linewidths=0.5, alpha=0.6)
    fig.colorbar(mesh, ax=ax, label="energy (Ha)")
    ax.plot([base[i]], [base[j]], "o", color="C3", label="current angles", gid="current")
    k = np.unravel_index(np.argmin(energies), energies.shape)
    ax.plot([thetas[k[1]]], [thetas[k[0]]], "*", color="white", ms=10, label="grid minimum", gid="minimum")
    title = "Energy landscape" + (f" (E0 = {problem.e0:.4f} Ha)" if problem else "")
    ax.set(xlabel=names[i], ylabel=names[j], title=title)
    _pi_ticks(ax.xaxis, span)
    _pi_ticks(ax.yaxis, span)
    ax.legend(fontsize=7, loc="upper right")
    return fig


@shown_once
def ptm_heatmap(ptm, ax=None, title: str | None = None, annotate: bool | None = None, colorbar: bool = True):
    """A PTM ``R_PQ`` (rows: output Pauli P, columns: input Pauli Q) on a red-blue scale from −1
    to 1. ``annotate``: print the entries (default for 1-qubit, 4 x 4 matrices)."""
    from ..sim.paulis import pauli_string

    R = np.asarray(ptm, dtype=float)
    k = int(round(np.log(R.shape[0]) / np.log(4))) if R.ndim == 2 and R.shape[0] > 1 else 0
    if R.ndim != 2 or R.shape[0] != R.shape[1] or k < 1 or 4**k != R.shape[0]:
        raise ValueError(f"a PTM is a square 4^k x 4^k matrix, got shape {R.shape}")
    fig, ax = _ax(ax, (4.4, 3.5) if k == 1 else (6.8, 5.6))
    im = ax.imshow(R, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", gid="ptm")  # auto: the layout fits
    labels = [pauli_string(i, k) for i in range(4**k)]
    ax.set_xticks(range(4**k), labels, fontsize=8 if k == 1 else 6, rotation=0 if k == 1 else 90)
    ax.set_yticks(range(4**k), labels, fontsize=8 if k == 1 else 6)
    ax.set(xlabel="input Pauli Q", ylabel="output Pauli P", title=title or "Pauli transfer matrix")
    if annotate if annotate is not None else k == 1:
        for (p, q), v in np.ndenumerate(R):
            color = "white" if abs(v) > 0.6 else "black"
            ax.text(q, p, f"{v:.2f}".replace("-", MINUS), ha="center", va="center", fontsize=8, color=color)
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.85)
    return fig


_AXES = {"x": 1, "y": 2, "z": 3}


@shown_once
def bloch_shrink(channel_ptm, ax=None, planes: Sequence[str] | None = None, title: str | None = None):
    """What a 1-qubit channel does to the Bloch ball, one panel per plane (``"xz"``, ``"xy"``, ``"yz"``).

    The dashed unit circle is the pure states of that plane before the channel; each curve is
    its image ``r -> T r + t`` (``T = R[1:, 1:]``, ``t = R[1:, 0]``) projected on the plane, and the
    dot is the image of the maximally mixed state (the centre moves only for non-unital channels
    such as amplitude damping). For the usual channels (depolarizing, damping, thermal) the curve
    is the cross-section of the shrunk ellipsoid. ``channel_ptm``: a 4 x 4 PTM or ``{label: PTM}``.
    ``ax``: one Axes (one plane, default ``"xz"``) or a sequence of Axes (one per plane).
    """
    channels = dict(channel_ptm) if isinstance(channel_ptm, Mapping) else {"after": channel_ptm}
    channels = {str(k): np.asarray(v, dtype=float) for k, v in channels.items()}
    for label, R in channels.items():
        if R.shape != (4, 4):
            raise ValueError(f"bloch_shrink needs 1-qubit (4 x 4) PTMs; {label!r} has shape {R.shape}")
    if ax is None:
        import matplotlib.pyplot as plt

        planes = tuple(planes or ("xz", "xy"))
        fig, axes = plt.subplots(1, len(planes), figsize=(3.2 * len(planes), 3.4), squeeze=False, layout="constrained")
        axes = list(axes[0])
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        planes = tuple(planes or ("xz", "xy", "yz")[: len(axes)])
        fig = axes[0].figure
    if len(planes) != len(axes) or any(len(p) != 2 or set(p) - set(_AXES) or p[0] == p[1] for p in planes):
        raise ValueError(f"planes must be {len(axes)} pair(s) of distinct letters from 'xyz', got {planes}")
    phi = np.linspace(0, 2 * np.pi, 200)
    for plane, a in zip(planes, axes, strict=True):
        i, j = _AXES[plane[0]], _AXES[plane[1]]
        a.fill(np.cos(phi), np.sin(phi), color="0.93", zorder=0)
        a.plot(np.cos(phi), np.sin(phi), "--", color="0.5", lw=1, label="before", gid="before")
        for c, (label, R) in enumerate(channels.items()):
            r = np.zeros((phi.size, 4))
            r[:, 0], r[:, i], r[:, j] = 1.0, np.cos(phi), np.sin(phi)
            out = r @ R.T
            a.plot(out[:, i], out[:, j], color=f"C{c}", lw=1.8, label=label, gid=f"after:{label}")
            a.fill(out[:, i], out[:, j], color=f"C{c}", alpha=0.12)
            a.plot([R[i, 0]], [R[j, 0]], "o", color=f"C{c}", ms=4, gid=f"centre:{label}")
        a.set(xlim=(-1.15, 1.15), ylim=(-1.15, 1.15), xlabel=f"⟨{plane[0].upper()}⟩", ylabel=f"⟨{plane[1].upper()}⟩")
        a.set_aspect("equal")
        a.axhline(0, color="0.8", lw=0.5, zorder=0)
        a.axvline(0, color="0.8", lw=0.5, zorder=0)
    if ax is None:  # our own figure: the legend goes under the panels
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=7)
        fig.suptitle(title or "Bloch ball before and after the channel", fontsize=10)
    else:
        axes[0].legend(fontsize=7, loc="lower left")
        if title:
            axes[0].set_title(title, fontsize=10)
    return fig


def _history(trace) -> np.ndarray:
    h = trace.get("history") if isinstance(trace, Mapping) else getattr(trace, "history", trace)
    h = np.asarray(h, dtype=float).reshape(-1)
    if h.size == 0:
        raise ValueError("empty optimiser trace")
    return h


@shown_once
def spsa_trace(trace, ax=None, e0: float | Problem | None = None, error: bool = False, best: bool = True):
    """Optimiser traces: the objective per iteration (for SPSA the mean of its two perturbed
    evaluations) with the running best dashed. ``trace``: a ``VQEResult``/``SPSAResult``, a
    history array, or ``{label: trace}`` / a list of them to compare. ``e0`` (a number or a
    :class:`Problem`) adds the E0 line; ``error=True`` plots ``|E - E0|`` on a log scale with the
    chemical-accuracy line instead."""
    if isinstance(trace, Mapping) and "history" not in trace:
        traces = dict(trace)
    elif isinstance(trace, list | tuple):
        traces = {f"run {k}": t for k, t in enumerate(trace)}
    else:
        traces = {getattr(trace, "method", "trace"): trace}
    e0 = e0.e0 if isinstance(e0, Problem) else e0
    if error and e0 is None:
        raise ValueError("error=True needs e0 (a number or a Problem)")
    fig, ax = _ax(ax)
    for c, (label, t) in enumerate(traces.items()):
        h = _history(t)
        y = np.maximum(np.abs(h - e0), 1e-12) if error else h
        x = np.arange(1, h.size + 1)
        ax.plot(x, y, color=f"C{c}", lw=1, alpha=0.8, label=str(label), gid=f"trace:{label}")
        if best:
            ax.plot(x, np.minimum.accumulate(y), "--", color=f"C{c}", lw=1.2, gid=f"best:{label}")
    if error:
        ax.set_yscale("log")
        ax.axhline(CHEMICAL_ACCURACY, color="k", ls=":", lw=1, label="chemical accuracy", gid="chemical_accuracy")
    elif e0 is not None:
        ax.axhline(e0, color="k", ls=":", lw=1, label="E0", gid="e0")
    ylabel = "|E − E0| (Ha)" if error else "energy (Ha)"
    ax.set(xlabel="iteration", ylabel=ylabel, title="Optimiser trace" + (" (dashed: best so far)" if best else ""))
    ax.legend(fontsize=7)
    return fig


def best_entry(best: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The overall best of ``Results.best`` by the kit's ranking (:func:`crlqas_kit.results.rank_key`)."""
    return best_of(best)


def write_report(run_dir: str | Path, compare: Sequence[str | Path] = (), labels: Sequence[str] | None = None) -> Path:
    """``report.md`` with PNG figures (learning curve, error, threshold, best circuit) in ``run_dir``.

    ``compare``: other run directories (e.g. the random agent's) overlaid on ``comparison.png``
    and tabulated against this run; ``labels`` names ``[run_dir, *compare]`` (default: each run's
    agent, or its directory name when two share an agent).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._checks import write_atomic
    from ..results import load_run, record_to_circuit
    from .draw import draw, draw_text

    run_dir = Path(run_dir)
    # every run is checked before anything is written (load_run refuses links inside a run directory)
    res = load_run(run_dir)
    others = [load_run(d) for d in compare]

    def save_figure(fig, name: str) -> None:  # renamed into place: never written through a planted link
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        write_atomic(run_dir / name, buf.getvalue())

    figures = {
        "learning_curve.png": learning_curve(res.episodes),
        "error.png": error_curve(res.episodes),
        "threshold.png": threshold_curve(res.episodes),
    }
    best = best_entry(res.best)
    if best is not None:
        circ = record_to_circuit(best["circuit"])
        figures["best_circuit.png"] = draw(circ, title=f"best circuit: error {best['error']:.2e} Ha")
    for name, fig in figures.items():  # laid out already (constrained layout / fitted circuit axes)
        save_figure(fig, name)
    runs = {}
    if others:
        names = list(labels) if labels is not None else [r.config.agent for r in (res, *others)]
        if len(names) != 1 + len(others):
            raise ValueError(f"labels must name the run and each compared run: {1 + len(others)} labels")
        if len(set(names)) < len(names):
            names = [Path(d).name for d in (run_dir, *compare)]
        runs = dict(zip(names, (res, *others), strict=True))
        save_figure(comparison_curves(runs), "comparison.png")
    cfg = res.config
    lines = [
        f"# CRLQAS report: {cfg.problem}, noise `{cfg.noise}`, preset `{cfg.preset}`",
        "",
        f"E0 = {res.problem.get('e0', math.nan):.10f} Ha, {res.problem.get('n_qubits', '?')} qubits, "
        f"{res.problem.get('n_terms', '?')} Pauli terms. "
        f"Seeds {res.seeds}, {len(res.episodes)} training episodes in {res.seconds:.1f} s"
        + (" (stopped early)" if res.stopped else "")
        + ".",
        "",
        "## Summary",
        "",
        res.summary_table(),
        "",
        "## Figures",
        "",
        "![learning curve](learning_curve.png)",
        "",
        "![error](error.png)",
        "",
        "![threshold](threshold.png)",
        "",
    ]
    if runs:
        lines += [
            "## Against the baselines",
            "",
            "The same problem, environment, inner optimiser and budgets; windows of episodes pooled over seeds.",
            "",
            comparison_table(runs),
            "",
            comparison_summary(runs),
            "",
            "![comparison](comparison.png)",
            "",
        ]
    if best is not None:
        lines += [
            "## Best circuit",
            "",
            "![best circuit](best_circuit.png)",
            "",
            "```",
            draw_text(circ),
            "```",
            "",
            f"error {best['error']:.3e} Ha, {best['gates']} gates, {best['cnots']} CNOTs, depth {best['depth']}",
            "",
        ]
    lines += ["## Versions", "", ", ".join(f"{k} {v}" for k, v in res.versions.items()), ""]
    out = run_dir / "report.md"
    write_atomic(out, "\n".join(lines).encode())
    return out
