"""Figures of a search: learning curves, error vs episode, curriculum threshold, and the report.

All functions take plain per-episode records (``Results.episodes`` or ``episodes.jsonl``), accept
``ax=`` and return the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..problems import CHEMICAL_ACCURACY


def _by_seed(episodes: list[dict[str, Any]], key: str) -> dict[int, np.ndarray]:
    out: dict[int, list] = {}
    for e in episodes:
        out.setdefault(e["seed"], []).append(e[key])
    return {s: np.asarray(v, dtype=float) for s, v in out.items()}


def _ax(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        return fig, ax
    return ax.figure, ax


def _band(ax, series: dict[int, np.ndarray], label: str, smooth: int):
    length = min(len(v) for v in series.values())
    if length == 0:
        return
    data = np.stack([v[:length] for v in series.values()])
    if smooth > 1 and length >= smooth:
        kernel = np.ones(smooth) / smooth
        data = np.stack([np.convolve(d, kernel, mode="valid") for d in data])
    x = np.arange(1, data.shape[1] + 1) + (smooth - 1 if smooth > 1 and length >= smooth else 0)
    mean = data.mean(0)
    ax.plot(x, mean, label=label)
    if data.shape[0] > 1:
        ax.fill_between(x, data.min(0), data.max(0), alpha=0.25)


def learning_curve(episodes, ax=None, smooth: int = 10):
    """Episode return, mean over seeds with a min-max band (moving average of ``smooth``)."""
    fig, ax = _ax(ax)
    _band(ax, _by_seed(episodes, "return"), "return", smooth)
    ax.set(xlabel="episode", ylabel="return", title="Learning curve")
    return fig


def error_curve(episodes, ax=None, chemical_accuracy: float = CHEMICAL_ACCURACY):
    """True error |E - E0| at each episode's end (log scale) with the chemical-accuracy line."""
    fig, ax = _ax(ax)
    for seed, err in _by_seed(episodes, "error").items():
        ax.semilogy(np.arange(1, len(err) + 1), np.maximum(err, 1e-12), ".", ms=3, label=f"seed {seed}")
    ax.axhline(chemical_accuracy, color="k", ls="--", lw=1, label="chemical accuracy")
    ax.set(xlabel="episode", ylabel="|E - E0| (Ha)", title="Error at episode end")
    ax.legend(fontsize=7)
    return fig


def threshold_curve(episodes, ax=None):
    """The curriculum threshold xi per episode."""
    fig, ax = _ax(ax)
    for seed, thr in _by_seed(episodes, "threshold").items():
        ax.semilogy(np.arange(1, len(thr) + 1), thr, label=f"seed {seed}")
    ax.set(xlabel="episode", ylabel="threshold ξ (Ha)", title="Curriculum threshold")
    ax.legend(fontsize=7)
    return fig


def write_report(run_dir: str | Path) -> Path:
    """``report.md`` with PNG figures (learning curve, error, threshold, best circuit) in ``run_dir``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..results import load_run, record_to_circuit
    from .draw import draw, draw_text

    run_dir = Path(run_dir)
    res = load_run(run_dir)
    figures = {
        "learning_curve.png": learning_curve(res.episodes),
        "error.png": error_curve(res.episodes),
        "threshold.png": threshold_curve(res.episodes),
    }
    best = min(
        (entries[0] for entries in res.best.values() if entries),
        key=lambda e: (
            (not e["chemically_accurate"], e["cnots"], e["gates"])
            if e["chemically_accurate"]
            else (True, e["error"], 0)
        ),
        default=None,
    )
    if best is not None:
        circ = record_to_circuit(best["circuit"])
        figures["best_circuit.png"] = draw(circ, title=f"best circuit: error {best['error']:.2e} Ha")
    for name, fig in figures.items():
        fig.tight_layout()
        fig.savefig(run_dir / name, dpi=110)
        plt.close(fig)
    cfg = res.config
    lines = [
        f"# CRLQAS report: {cfg.problem}, noise `{cfg.noise}`, preset `{cfg.preset}`",
        "",
        f"E0 = {res.problem['e0']:.10f} Ha, {res.problem['n_qubits']} qubits, {res.problem['n_terms']} Pauli terms. "
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
    out.write_text("\n".join(lines))
    return out
