#!/usr/bin/env python3
"""How far readout-error mitigation brings the device-noise problems: the best noisy error of
the shortest chemically accurate noiseless circuits, measured plainly and with mitigation.

For every chemically accurate noiseless best circuit of H2-2q, H2-3q and LiH-4q in
``benchmarks/results/crlqas_runs.json``, re-optimise its angles under ``mumbai-median`` with
exact-gradient Adam (``vqe.optimize(method="adam")``, the QASM angles and ``--starts - 1``
random starts, the lowest exact energy kept), once with the readout error as measured and once
mitigated (``mitigate_readout=True``: the readout-free energy, gate noise kept). Writes
``benchmarks/results/readout_floors.json`` and prints a Markdown table (docs/devices.md).

    .venv/bin/python scripts/readout_floors.py            # ~2 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RUNS = ROOT / "benchmarks" / "results" / "crlqas_runs.json"
OUT = ROOT / "benchmarks" / "results" / "readout_floors.json"
PROBLEMS = ("H2-2q", "H2-3q", "LiH-4q")
NOISE = "mumbai-median"


def best_error(problem, circuit, mitigate: bool, starts: int, steps: int) -> float:
    from crlqas_kit.optim.vqe import optimize_starts

    runs = optimize_starts(
        problem, circuit, NOISE, starts=starts, seed=0, method="adam", budget=steps, mitigate_readout=mitigate
    )  # start 0: the circuit's own angles
    return float(min(r.exact_energy for r in runs) - problem.e0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    from crlqas_kit import load_problem
    from crlqas_kit.results import package_versions
    from crlqas_kit.sim.qasm import from_qasm

    t0 = time.perf_counter()
    rows = []
    for run in json.loads(RUNS.read_text())["runs"]:
        if run["noise"] != "none" or run["problem"] not in PROBLEMS:
            continue
        problem = load_problem(run["problem"])
        for seed in run["seeds"]:
            if not seed.get("best_chemically_accurate"):
                continue
            circuit = from_qasm(seed["best_qasm"])
            row = {
                "problem": problem.name,
                "seed": seed["seed"],
                "gates": seed["best_gates"],
                "cnots": seed["best_cnots"],
                "noiseless_error": seed["best_error"],
                "plain_error": best_error(problem, circuit, False, args.starts, args.steps),
                "mitigated_error": best_error(problem, circuit, True, args.starts, args.steps),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    out = {
        "noise": NOISE,
        "method": f"exact-gradient Adam, {args.steps} steps, {args.starts} starts (the QASM angles + random)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.processor() or platform.machine(),
        "versions": package_versions(),
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print("| problem | seed | gates / CNOTs | noiseless error (Ha) | mumbai-median (Ha) | mitigated (Ha) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['problem']} | {r['seed']} | {r['gates']} / {r['cnots']} | {r['noiseless_error']:.1e} | "
            f"{r['plain_error']:.2e} | {r['mitigated_error']:.2e} |"
        )


if __name__ == "__main__":
    main()
