#!/usr/bin/env python3
"""The CRLQAS results table of ``docs/results.md``: a sweep of every configuration, then the tables.

``run`` is a sweep (:mod:`crlqas_kit.sweep`, ``docs/scaling.md``) of :data:`CONFIGS` into
``runs/results/`` (not committed): one Ray task per (configuration, seed), each the run
``crlqas search --preset fast --seeds S --time-limit T ...`` would make, several side by side
(one per core, or on a cluster with ``--address``). Finished runs are skipped and interrupted
ones resume on a re-run. Run it from a checkout nobody edits meanwhile: a worker started after an
edit imports the edited tree, and the sweep's code check fails that run (docs/scaling.md).

``table`` reads the run directories, optimises the 2-layer hardware-efficient ansatz of each
problem (the baseline of the issue's "at least as short" target) and writes
``benchmarks/results/crlqas_runs.json`` (per seed: episodes, wall time, first chemically
accurate episode and its time, the best circuit as QASM) and the Markdown tables printed on stdout.

Usage (from the repository root)::

    .venv/bin/python scripts/results_runs.py run --num-cpus 2        # ~2 h on 2 cores
    .venv/bin/python scripts/results_runs.py run --address HEAD:6379  # on a Ray cluster (shared runs/)
    .venv/bin/python scripts/results_runs.py table > /tmp/tables.md   # --only NAME ... refreshes some entries
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_DIR = ROOT / "runs" / "results"
OUT_JSON = ROOT / "benchmarks" / "results" / "crlqas_runs.json"

#: name -> (problem, noise, seeds, time limit in seconds, stop once the seed is accurate)
CONFIGS = {
    "h2-2q_none": ("H2-2q", "none", [0, 1, 2, 3, 4], 120, True),
    "lih-4q_none": ("LiH-4q", "none", [0, 1, 2], 1200, False),
    "h2o-8q_none": ("H2O-8q", "none", [0], 3600, False),
    "lih-4q_depolarizing": ("LiH-4q", "depolarizing", [0, 1, 2], 1200, False),
    "h2-3q_none": ("H2-3q", "none", [0, 1, 2], 180, False),
    "h2-4q_none": ("H2-4q", "none", [0, 1, 2], 360, False),
    "lih-6q_none": ("LiH-6q", "none", [0, 1, 2], 360, False),
    "h2-3q_mumbai-median": ("H2-3q", "mumbai-median", [0, 1, 2], 180, False),
    "lih-4q_mumbai-median": ("LiH-4q", "mumbai-median", [0, 1, 2], 360, False),
}
EPISODES = 100_000  # the time limit ends every run, not the episode count


def grid() -> dict:
    """The sweep's grid: one block per configuration (its seeds and stopping rule)."""
    blocks = []
    for name in CONFIGS:
        problem, noise, seeds, limit, until = CONFIGS[name]
        blocks.append(
            {"problem": problem, "noise": noise, "seeds": seeds, "time_limit": limit, "until_accurate": until}
        )
    return {"preset": "fast", "episodes": EPISODES, "block": blocks}


def run_name(name: str, seed: int) -> str:
    """The run directory of a configuration's seed in the sweep (``<problem>_<noise>_fast_seed<S>``)."""
    problem, noise, *_ = CONFIGS[name]
    return f"{problem}_{noise}_fast_seed{seed}"


def command(name: str, seed: int) -> list[str]:
    """The ``crlqas search`` command that makes the same run alone (docs/scaling.md: seeds and keys)."""
    problem, noise, _, limit, until = CONFIGS[name]
    cmd = [sys.executable, "-m", "crlqas_kit.cli", "search", "--problem", problem, "--noise", noise]
    cmd += ["--preset", "fast", "--episodes", str(EPISODES), "--seeds", str(seed), "--time-limit", str(limit)]
    return cmd + (["--until-accurate"] if until else []) + ["--quiet", "--out", str(RUN_DIR / run_name(name, seed))]


def cmd_run(args) -> int:
    from crlqas_kit.sweep import sweep

    result = sweep(grid(), args.run_dir, num_cpus=args.num_cpus, address=args.address)
    print(result.table())
    return 130 if result.interrupted else 1 if result.failed else 0


# ------------------------------------------------------------------------------------- table
def hea_baseline(problem_name: str, noise: str, layers: int = 2) -> dict:
    """Best error of the RY hardware-efficient ansatz (:func:`crlqas_kit.baselines.hea.hea_baseline`:
    exact-gradient Adam, 5 starts x 2000 steps; 1 x 200 at 8 qubits), as this table's keys."""
    from crlqas_kit.baselines.hea import hea_baseline as run_hea

    res = run_hea(problem_name, noise, layers=layers)
    keys = ("layers", "gates", "cnots", "depth", "best_error", "starts", "steps")
    return {key: getattr(res, key) for key in keys}


def collect(name: str) -> dict | None:
    from crlqas_kit.results import load_run, record_to_circuit
    from crlqas_kit.sim.qasm import to_qasm

    problem, noise, seeds, limit, until = CONFIGS[name]
    rows = []
    for seed in seeds:
        path = RUN_DIR / run_name(name, seed)
        if not path.exists():  # made before the runs were a sweep
            path = RUN_DIR / f"{name}_s{seed}"
        if not (path / "config.json").exists():
            continue
        res = load_run(path)
        row = res.summary()[0]
        best = (res.best.get(seed) or [None])[0]
        row["stopped"] = res.stopped
        row["best_qasm"] = None if best is None else to_qasm(record_to_circuit(best["circuit"]))
        row["best_chemically_accurate"] = bool(best and best["chemically_accurate"])
        rows.append(row)
    if not rows:
        return None
    return {
        "name": name,
        "problem": problem,
        "noise": noise,
        "time_limit": limit,
        "until_accurate": until,
        "command": " ".join(command(name, seeds[0])[3:]).replace(str(ROOT) + "/", ""),
        "seeds": rows,
    }


def markdown(entry: dict) -> str:
    lines = [
        f"### {entry['problem']}, `{entry['noise']}`",
        "",
        "| seed | episodes | wall (s) | chem. acc. | first episode | time to it (s) | best error (Ha) "
        "| gates | CNOTs | depth |",
        "|" + "---|" * 10,
    ]
    for r in entry["seeds"]:
        err = "-" if r["best_error"] is None else f"{r['best_error']:.2e}"
        t = "-" if r["seconds_to_chemical_accuracy"] is None else f"{r['seconds_to_chemical_accuracy']:.0f}"
        lines.append(
            f"| {r['seed']} | {r['episodes']} | {r['seconds']:.0f} | {'yes' if r['success'] else 'no'} | "
            f"{r['first_chemically_accurate_episode'] or '-'} | {t} | {err} | {r['best_gates']} | "
            f"{r['best_cnots']} | {r['best_depth']} |"
        )
    n_ok = sum(r["success"] for r in entry["seeds"])
    hea = entry["hea"]
    lines += [
        "",
        f"Success rate {n_ok}/{len(entry['seeds'])}. 2-layer hardware-efficient ansatz (RY + CNOT ladder): "
        f"{hea['gates']} gates, {hea['cnots']} CNOTs, depth {hea['depth']}, best error {hea['best_error']:.2e} Ha "
        f"(exact-gradient Adam, {hea['starts']} x {hea['steps']} steps).",
        "",
    ]
    return "\n".join(lines)


def overview(entries: list[dict]) -> str:
    """One line per configuration: success rate, times, the shortest accurate circuit vs HEA-2."""
    lines = [
        "| problem | noise | limit (s) | accurate seeds | first accurate episode | time to it (s) "
        "| shortest accurate circuit: gates / CNOTs / depth (error, Ha) | 2-layer HEA: gates / CNOTs (error, Ha) |",
        "|" + "---|" * 8,
    ]
    for e in entries:
        rows = e["seeds"]
        ok = [r for r in rows if r["success"]]
        firsts = ", ".join(str(r["first_chemically_accurate_episode"] or "-") for r in rows)
        times = ", ".join(
            "-" if r["seconds_to_chemical_accuracy"] is None else f"{r['seconds_to_chemical_accuracy']:.0f}"
            for r in rows
        )
        acc = [r for r in rows if r["best_chemically_accurate"]]
        if acc:
            b = min(acc, key=lambda r: (r["best_cnots"], r["best_gates"], r["best_error"]))
            best = f"{b['best_gates']} / {b['best_cnots']} / {b['best_depth']} ({b['best_error']:.2e})"
        else:
            b = min(rows, key=lambda r: r["best_error"] if r["best_error"] is not None else float("inf"))
            best = f"none; lowest error {b['best_error']:.2e} ({b['best_gates']} gates, {b['best_cnots']} CNOTs)"
        h = e["hea"]
        lines.append(
            f"| {e['problem']} | `{e['noise']}` | {e['time_limit']} | {len(ok)}/{len(rows)} | {firsts} | {times} "
            f"| {best} | {h['gates']} / {h['cnots']} ({h['best_error']:.2e}) |"
        )
    return "\n".join(lines) + "\n"


def cmd_table(args) -> int:
    # --only refreshes some configurations and keeps the others' saved entries
    saved = {e["name"]: e for e in json.loads(OUT_JSON.read_text())["runs"]} if OUT_JSON.exists() else {}
    for name in args.only or CONFIGS:
        entry = collect(name)
        if entry is None:
            saved.pop(name, None)
            continue
        t0 = time.perf_counter()
        entry["hea"] = hea_baseline(entry["problem"], entry["noise"])
        print(f"{name}: HEA baseline {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        saved[name] = entry
    entries = [saved[n] for n in CONFIGS if n in saved]
    for entry in entries:
        print(markdown(entry), flush=True)
    print(overview(entries))
    write_json(OUT_JSON, entries, preset="fast")
    return 0


def write_json(path: Path, entries: list[dict], **extra) -> None:
    """The raw numbers behind docs/results.md: date, machine, versions, ``extra`` fields, the runs."""
    from crlqas_kit.results import package_versions

    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "versions": package_versions(),
        **extra,
        "runs": entries,
    }
    path.write_text(json.dumps(meta, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    run = sub.add_parser("run", help="the sweep (skips finished runs, resumes interrupted ones)")
    run.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    run.add_argument("--address", default=None, help="join the Ray cluster at HOST:PORT instead")
    run.add_argument("--run-dir", default=str(RUN_DIR), help="the sweep's directory (default runs/results)")
    run.set_defaults(func=cmd_run)
    table = sub.add_parser("table", help="summarise the runs: JSON + Markdown tables")
    table.add_argument("--only", nargs="+", choices=list(CONFIGS))
    table.set_defaults(func=cmd_table)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
