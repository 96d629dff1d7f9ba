#!/usr/bin/env python3
"""DDQN against the random agent in the same harness: runs and learning data.

``run`` is a sweep (:mod:`crlqas_kit.sweep`, ``docs/scaling.md``) of :data:`CONFIGS`: one Ray
task per (agent, seed), each the run ``crlqas search --agent A --seeds S --time-limit 600 ...``
would make, two side by side on 2 cores; the tasks take turns over the agents, so DDQN and random
of one seed run side by side, under the same load. ``table`` reads the run directories and writes
``benchmarks/results/learning_curves.json``: per run the learning curves in windows of episodes
(success rate against the threshold, chemical-accuracy rate, median error, median length,
epsilon, threshold; ``crlqas_kit.results.learning_stats``), and per seed the summary, every
chemically accurate circuit's size, and as QASM the first and the shortest accurate circuit and
the lowest-error circuit; plus the Markdown tables of ``docs/results.md`` on stdout.

Usage (from the repository root)::

    .venv/bin/python scripts/learning_runs.py run --num-cpus 2     # 3 x 2 runs of 10 min: ~30 min
    .venv/bin/python scripts/learning_runs.py table > /tmp/learning.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_runs  # noqa: E402  (the HEA baseline, the JSON writer)

ROOT = Path(__file__).resolve().parents[1]
RUN_DIR = ROOT / "runs" / "learning"
OUT_JSON = ROOT / "benchmarks" / "results" / "learning_curves.json"

#: name -> (problem, noise, agent, seeds, time limit in seconds, window of the learning curves)
CONFIGS = {
    "lih-4q_none_ddqn": ("LiH-4q", "none", "ddqn", [0, 1, 2], 600, 100),
    "lih-4q_none_random": ("LiH-4q", "none", "random", [0, 1, 2], 600, 100),
}


def grid() -> dict:
    blocks = [
        {"problem": problem, "noise": noise, "agent": agent, "seeds": seeds, "time_limit": limit}
        for problem, noise, agent, seeds, limit, _ in CONFIGS.values()
    ]
    return {"preset": "fast", "episodes": 100_000, "block": blocks}


def run_name(name: str, seed: int) -> str:
    """The run directory of a configuration's seed in the sweep."""
    problem, noise, agent, *_ = CONFIGS[name]
    return f"{problem}_{noise}_fast" + ("" if agent == "ddqn" else f"_{agent}") + f"_seed{seed}"


def command(name: str, seed: int, run_dir: Path = RUN_DIR) -> list[str]:
    """The ``crlqas search`` command that makes the same run alone."""
    problem, noise, agent, _, limit, _ = CONFIGS[name]
    cmd = [sys.executable, "-m", "crlqas_kit.cli", "search", "--problem", problem, "--noise", noise]
    cmd += ["--preset", "fast", "--agent", agent, "--episodes", "100000", "--seeds", str(seed)]
    return cmd + ["--time-limit", str(limit), "--quiet", "--out", str(run_dir / run_name(name, seed))]


def cmd_run(args) -> int:
    from crlqas_kit.sweep import sweep

    result = sweep(grid(), args.run_dir, num_cpus=args.num_cpus, address=args.address)
    print(result.table())
    return 130 if result.interrupted else 1 if result.failed else 0


def collect(name: str, run_dir: Path = RUN_DIR) -> dict | None:
    from crlqas_kit.results import learning_stats, load_run, record_to_circuit
    from crlqas_kit.sim.qasm import to_qasm

    problem, noise, agent, seeds, limit, window = CONFIGS[name]
    rows, runs = [], []
    for seed in seeds:
        path = run_dir / run_name(name, seed)
        if not path.exists():  # made before the runs were a sweep
            path = run_dir / f"{name}_s{seed}"
        if not (path / "config.json").exists():
            continue
        res = load_run(path)
        runs.append(res)
        eps = res.episodes_of(seed)
        accurate = [e for e in eps if e["chemically_accurate"]]
        kept = res.best.get(seed) or []  # the kit's ranking: accurate first, fewer CNOTs, gates
        lowest = min(kept, key=lambda e: e["error"]) if kept else None
        qasm = lambda e: None if e is None else to_qasm(record_to_circuit(e["circuit"]))  # noqa: E731
        row = res.summary()[0]
        row.update(
            stopped=res.stopped,
            evaluations=res.evaluations.get(seed),
            accurate_episodes=[[e["episode"], e["gates"], e["cnots"], e["error"]] for e in accurate],
            best=None if not kept else {k: kept[0][k] for k in ("episode", "error", "gates", "cnots", "depth")},
            best_qasm=qasm(kept[0] if kept else None),
            lowest_error=None if lowest is None else {k: lowest[k] for k in ("episode", "error", "gates", "cnots")},
            lowest_error_qasm=qasm(lowest),
            curves=learning_stats(eps, window),
        )
        rows.append(row)
    if not rows:
        return None
    return {
        "name": name,
        "problem": problem,
        "noise": noise,
        "agent": agent,
        "time_limit": limit,
        "window": window,
        "command": " ".join(command(name, seeds[0])[3:]).replace(str(ROOT) + "/", ""),
        "pooled_curves": learning_stats([e for r in runs for e in r.episodes], window),
        "seeds": rows,
    }


def markdown(entries: list[dict], hea: dict) -> str:
    lines = [
        "| agent | seed | episodes | first accurate episode (s) | accurate episodes | shortest accurate circuit: "
        "gates / CNOTs (error, mHa) | lowest error (mHa): gates / CNOTs |",
        "|" + "---|" * 7,
    ]
    for e in entries:
        for r in e["seeds"]:
            first = r["first_chemically_accurate_episode"]
            first = "-" if first is None else f"{first} ({r['seconds_to_chemical_accuracy']:.0f})"
            acc = r["accurate_episodes"]
            short = "-"
            if acc:
                b = r["best"]
                short = f"{b['gates']} / {b['cnots']} ({b['error'] * 1e3:.2f})"
            low = r["lowest_error"]
            lines.append(
                f"| {e['agent']} | {r['seed']} | {r['episodes']} | {first} | {len(acc)} | {short} | "
                f"{low['error'] * 1e3:.2f}: {low['gates']} / {low['cnots']} |"
            )
    lines += ["", f"2-layer HEA: {hea['gates']} gates / {hea['cnots']} CNOTs, {hea['best_error'] * 1e3:.2f} mHa.", ""]
    for e in entries:
        c = e["pooled_curves"]
        lines += [f"{e['agent']}, windows of {e['window']} episodes, seeds pooled:", ""]
        lines.append("| episodes | " + " | ".join(str(x) for x in c["episode"]) + " |")
        lines.append("|" + "---|" * (len(c["episode"]) + 1))
        for key, fmt, scale in (
            ("success_rate", "{:.2f}", 1),
            ("accurate_rate", "{:.2f}", 1),
            ("median_error", "{:.1f}", 1e3),
            ("median_gates", "{:.0f}", 1),
            ("eps", "{:.2f}", 1),
            ("threshold", "{:.2f}", 1e3),
        ):
            label = {"median_error": "median error (mHa)", "threshold": "threshold (mHa)"}.get(key, key)
            lines.append(f"| {label} | " + " | ".join(fmt.format(v * scale) for v in c[key]) + " |")
        lines.append("")
    return "\n".join(lines)


def cmd_table(args) -> int:
    entries = [e for e in (collect(n, Path(args.run_dir)) for n in CONFIGS) if e is not None]
    hea = results_runs.hea_baseline("LiH-4q", "none")
    print(markdown(entries, hea))
    results_runs.write_json(Path(args.out), entries, hea_2_layers=hea, run_dir=str(Path(args.run_dir).name))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    run = sub.add_parser("run", help="the sweep (skips finished runs, resumes interrupted ones)")
    run.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    run.add_argument("--address", default=None, help="join the Ray cluster at HOST:PORT instead")
    run.add_argument("--run-dir", default=str(RUN_DIR), help="where to write the run directories")
    run.set_defaults(func=cmd_run)
    table = sub.add_parser("table", help="learning data JSON + Markdown tables")
    table.add_argument("--run-dir", default=str(RUN_DIR), help="where the run directories are")
    table.add_argument("--out", default=str(OUT_JSON), help="the JSON to write")
    table.set_defaults(func=cmd_table)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
