"""One core against two: the kit's batch split over CPU devices (issue 12, "both cores").

Run from the repository root (each setting in its own child process, since the device count is
fixed when JAX starts)::

    PYTHONPATH=. python benchmarks/cores.py --out benchmarks/results/cores.json
    python benchmarks/cores.py --report benchmarks/results/cores.json

For every case the same computation runs with ``CRLQAS_CPU_DEVICES=1`` (one device: XLA:CPU runs
it on one core) and ``CRLQAS_CPU_DEVICES=2`` (the kit's default on this machine: the batch is
split over two devices with ``jax.shard_map`` when :data:`crlqas_kit.sim.sharding.SHARD_MIN_WORK`
says so, else nothing changes), both children pinned to cores 0,1, one after the other and
repeated ``--rounds`` times alternating, so both see the same background load.

Cases:

* ``batch``: ``simulator._energies`` (what ``expectation_batch`` runs) for 64 and for 2
  parameter sets (2 = SPSA's two perturbed points, the RL step's batch), noisy PTM engine
  (``depolarizing-2q``, 60 nominal gates, the workload of ``benchmarks/simulator.py``) at
  n = 4, 5, 6, 7, 8, 10 and noiseless state vector (70 nominal gates, ``benchmarks/noiseless.py``)
  at n = 6, 7, 8, 10, 11, 12, 14. Best and median of repeated calls after a warm-up.
* ``step``: one 500-evaluation Adam-SPSA inner optimisation (``vqe.optimize``), ``depolarizing``
  noise: a 41-gate circuit on H2O-8q (RY layer, CNOT ladder, RY and RZ layers, half a ladder, RY
  layer: the RL step's work at 8 qubits; split) and a 23-gate one on LiH-6q (RY, CNOT ladder, RY,
  RZ layers; 2 x 4^6 is below the split's threshold, so both settings run the same code), best of
  several calls.

Energies of the two settings are compared (max deviation in the JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from _machine import CpuMonitor, brief_environment, loadavg  # noqa: E402

BATCH_CASES = [("ptm", n) for n in (4, 5, 6, 7, 8, 10)] + [("statevector", n) for n in (6, 7, 8, 10, 11, 12, 14)]


def _times(fn, reps: int, budget_s: float = 20.0) -> list[float]:
    fn()
    times: list[float] = []
    while len(times) < reps and (len(times) < 3 or sum(times) < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def child_batch(engine: str, n: int, reps: int) -> dict:
    import jax
    import simulator as bench

    from crlqas_kit.sim import simulator as sim
    from crlqas_kit.sim.circuit import Circuit
    from crlqas_kit.sim.paulis import PauliSum

    gates = 60 if engine == "ptm" else 70
    ops = bench.workload_ops(n, gates)
    circuit = Circuit.from_ops(n, ops)
    params = bench.parameter_sets(n, gates, circuit.n_params)
    padded = np.zeros((64, circuit.capacity))
    padded[:, : circuit.n_params] = params
    terms = bench.hamiltonian_terms(n)
    out: dict = {"gates": len(ops)}
    with jax.enable_x64(True):
        noise = bench.NOISE_SPEC if engine == "ptm" else None
        ev = sim.Evaluator.create(PauliSum.from_list(terms), noise, engine=engine)
        ev = dataclasses.replace(ev, loop="while")
        for batch in (64, 2):
            x = padded[:batch]
            mon = CpuMonitor()
            mon.start()
            times = _times(lambda x=x: np.asarray(sim._energies(ev, circuit, x)), reps)
            out[str(batch)] = {
                "times_s": times,
                "best_s": min(times),
                "median_s": statistics.median(times),
                "split": sim.shard_devices(n, ev.engine, batch) is not None,
                "energies": np.asarray(sim._energies(ev, circuit, x)).tolist(),
                "cpu": mon.stop(),
            }
    return out


def child_step(problem_name: str, reps: int) -> dict:
    import crlqas_kit as ck
    from crlqas_kit.optim import vqe
    from crlqas_kit.sim.circuit import Circuit

    problem = ck.load_problem(problem_name)
    n = problem.n_qubits
    ops = [("ry", q) for q in range(n)] + [("cx", (q, q + 1)) for q in range(n - 1)]
    ops += [(g, q) for g in ("ry", "rz") for q in range(n)]
    if n == 8:
        ops += [("cx", (q, q + 1)) for q in range(0, n - 1, 2)]
        ops += [("ry", q) for q in range(n - 2)]
    circuit = Circuit.from_ops(n, ops)

    def run():
        return vqe.optimize(problem, circuit, "depolarizing", budget=500, key=1).energy

    mon = CpuMonitor()
    mon.start()
    times = _times(run, reps, budget_s=60.0)
    return {
        "gates": len(ops),
        "times_s": times,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "energy": run(),
        "cpu": mon.stop(),
    }


def run_child(args: list[str], devices: int) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{HERE}", CRLQAS_CPU_DEVICES=str(devices), CRLQAS_NO_COMPILE_CACHE="1")
    cmd = ["taskset", "-c", "0,1", sys.executable, __file__, "--child", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def render(data: dict) -> str:
    lines = [
        "| case | n | gates | batch | split | 1 device (ms) | 2 devices (ms) | speed-up | max dev |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in data["cases"]:
        rounds = case["rounds"]
        if any("error" in r[d] for r in rounds for d in ("1", "2")):  # a failed child
            lines.append(f"| {case['name']} | error | | | | | | | |")
            continue
        batches = ["64", "2"] if case["kind"] == "batch" else [None]
        for b in batches:
            one = [min(r["1"][b]["times_s"]) if b else r["1"]["best_s"] for r in rounds]
            two = [min(r["2"][b]["times_s"]) if b else r["2"]["best_s"] for r in rounds]
            if b:
                dev = max(
                    float(np.max(np.abs(np.subtract(r["1"][b]["energies"], r["2"][b]["energies"])))) for r in rounds
                )
                split = rounds[0]["2"][b]["split"]
            else:
                dev = max(abs(r["1"]["energy"] - r["2"]["energy"]) for r in rounds)
                split = case["n"] >= 7
            ratios = [a / c for a, c in zip(one, two, strict=True)]
            lines.append(
                f"| {case['name']} | {case['n']} | {rounds[0]['1']['gates']} | {b or '2 (500 evals)'} | "
                f"{'yes' if split else 'no'} | {1e3 * min(one):.3g} | {1e3 * min(two):.3g} | "
                f"{min(one) / min(two):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | {dev:.1e} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="alternating 1/2-device rounds per case")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--only", choices=["batch", "step"])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cores.json"))
    parser.add_argument("--report", metavar="JSON", help="print the table of a results file")
    args = parser.parse_args(argv)
    if args.report:
        print(render(json.loads(Path(args.report).read_text())))
        return 0
    if args.child:
        if args.child[0] == "batch":
            result = child_batch(args.child[1], int(args.child[2]), int(args.child[3]))
        else:
            result = child_step(args.child[1], int(args.child[2]))
        print(json.dumps(result))
        return 0
    t_start = time.perf_counter()
    data: dict = {
        "command": " ".join(sys.argv),
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": brief_environment(ROOT, ["jax", "jaxlib", "numpy"]),
        "cases": [],
    }
    cases = []
    if args.only in (None, "batch"):
        cases += [("batch", f"{e} batch", n, ["batch", e, str(n), str(args.reps)]) for e, n in BATCH_CASES]
    if args.only in (None, "step"):
        cases.append(("step", "Adam-SPSA 500, H2O-8q noisy", 8, ["step", "H2O-8q", "3"]))
        cases.append(("step", "Adam-SPSA 500, LiH-6q noisy", 6, ["step", "LiH-6q", "5"]))
    for kind, name, n, child_args in cases:
        rounds = []
        for _ in range(args.rounds):
            rounds.append({str(d): run_child(child_args, d) for d in (1, 2)})
        data["cases"].append({"kind": kind, "name": name, "n": n, "rounds": rounds})
        print(render({"cases": [data["cases"][-1]]}).splitlines()[-1], flush=True)
        Path(args.out).write_text(json.dumps(data, indent=1))
    data["environment"]["loadavg_at_end"] = loadavg()
    data["total_s"] = time.perf_counter() - t_start
    Path(args.out).write_text(json.dumps(data, indent=1))
    print(render(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
