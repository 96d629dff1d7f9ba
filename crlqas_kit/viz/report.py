"""The run report: ``report.md`` with its figures, and the comparison of runs against baselines.

:func:`write_report` writes ``report.md`` and PNG figures into a run directory (the ``crlqas
report`` command); :func:`comparison_table` and :func:`comparison_summary` tabulate and summarise
several runs (e.g. DDQN against the random agent) for its "Against the baselines" section.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .search_curves import (
    _by_seed,
    _default_window,
    _records,
    best_entry,
    comparison_curves,
    error_curve,
    learning_curve,
    threshold_curve,
)


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
