"""Memory bandwidth and core scaling of the noisy PTM kernel (issue 12, items "bandwidth" and "both cores").

Run from the repository root (one process per setting; the driver starts the children)::

    PYTHONPATH=. python benchmarks/bandwidth.py --out benchmarks/results/bandwidth.json

Measured, in this order, on the workload of ``benchmarks/simulator.py`` (RY/RZ layers + CNOT ladder,
``depolarizing-2q`` noise, 100 random Pauli strings, batch 64):

* **STREAM-like copy**: ``np.copyto`` of a 512 MB float64 array, best of 7; bandwidth counted as
  STREAM does for "copy": 2 x 512 MB (read + write) / time. One thread, and two threads copying one
  half each (numpy releases the GIL during the copy).
* **Kit kernel, n = 8 (and 10)**: ``_energies`` (what ``expectation_batch`` runs) best and median
  of several batch-64 calls. Bytes moved per evaluation = passes x 2 x 8 x 4^n: each pass of the
  fused kernel (one per 2-qubit gate, the pending 1-qubit PTMs folded in, plus one per qubit left
  with pending 1-qubit gates at the end) must read and write the whole float64 Pauli vector once;
  this is the minimum traffic (XLA's einsum may move more).
* **Cores**: the same kernel in child processes with one CPU device (``CRLQAS_CPU_DEVICES=1``)
  pinned with ``taskset -c 0`` and ``-c 0,1`` (XLA's own thread pool), and with the kit's default
  two devices pinned to 0,1: the 64 parameter sets split 32 + 32 over them by
  ``Evaluator.energies`` (``jax.shard_map``; ``benchmarks/cores.py`` has the full 1-vs-2 table).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from _machine import CpuMonitor, brief_environment, loadavg

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

COPY_BYTES = 512 * 1024**2


def stream_copy(reps: int = 7) -> dict:
    n = COPY_BYTES // 8
    src = np.random.default_rng(0).random(n)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch the pages
    one = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        one.append(time.perf_counter() - t0)
    half = n // 2

    def part(i):
        np.copyto(dst[i * half : (i + 1) * half], src[i * half : (i + 1) * half])

    two = []
    for _ in range(reps):
        ts = [threading.Thread(target=part, args=(i,)) for i in range(2)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        two.append(time.perf_counter() - t0)
    return {
        "array_bytes": COPY_BYTES,
        "one_thread_times_s": one,
        "one_thread_gb_per_s": 2 * COPY_BYTES / min(one) / 1e9,
        "two_threads_times_s": two,
        "two_threads_gb_per_s": 2 * COPY_BYTES / min(two) / 1e9,
    }


def passes(n: int, ops: list[tuple]) -> int:
    """Full-state passes of the fused kernel (n >= 6): one per 2-qubit gate, plus one per qubit
    with 1-qubit gates after its last 2-qubit gate."""
    dirty = [False] * n
    count = 0
    for op in ops:
        if len(op[1]) == 2:
            count += 1
            for q in op[1]:
                dirty[q] = False
        else:
            dirty[op[1][0]] = True
    return count + sum(dirty)


def kernel_child(n: int, gates: int, mode: str, reps: int) -> None:
    """Time the batch-64 kernel in this process and print one JSON line."""
    import jax
    import simulator as bench

    from crlqas_kit.sim import simulator as sim
    from crlqas_kit.sim.circuit import Circuit
    from crlqas_kit.sim.noise_spec import parse_noise
    from crlqas_kit.sim.paulis import PauliSum

    ops = bench.workload_ops(n, gates)
    circuit = Circuit.from_ops(n, ops)
    params = bench.parameter_sets(n, gates, circuit.n_params)
    padded = np.zeros((bench.BATCH, circuit.capacity))
    padded[:, : circuit.n_params] = params
    with jax.enable_x64(True):
        ev = sim.Evaluator.create(PauliSum.from_list(bench.hamiltonian_terms(n)), parse_noise(bench.NOISE_SPEC))
        ndev = jax.local_device_count()

        def run():
            return np.asarray(sim._energies(ev, circuit, padded))

        t0 = time.perf_counter()
        run()
        first = time.perf_counter() - t0
        mon = CpuMonitor()
        mon.start()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            e = run()
            times.append(time.perf_counter() - t0)
        load = mon.stop()
        check = np.asarray([float(sim._energy(ev, circuit, p)) for p in padded[:4]])
    n_pass = passes(n, ops)
    bytes_eval = n_pass * 2 * 8 * 4**n
    print(
        json.dumps(
            {
                "n": n,
                "gates": len(ops),
                "mode": mode,
                "devices": ndev,
                "affinity": sorted(os.sched_getaffinity(0)),
                "first_call_s": first,
                "times_s": times,
                "best_s": min(times),
                "median_s": statistics.median(times),
                "passes_per_eval": n_pass,
                "bytes_per_eval": bytes_eval,
                "gb_per_s_best": bytes_eval * bench.BATCH / min(times) / 1e9,
                "gb_per_s_median": bytes_eval * bench.BATCH / statistics.median(times) / 1e9,
                "max_dev_vs_single_evaluations": float(np.max(np.abs(e[:4] - check))),
                "cpu": load,
            }
        )
    )


def run_child(n: int, gates: int, mode: str, cpus: str, reps: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CRLQAS_CPU_DEVICES="2" if mode == "split" else "1")
    cmd = ["taskset", "-c", cpus, sys.executable, __file__, "--child", str(n), str(gates), mode, str(reps)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"n": n, "gates": gates, "mode": mode, "cpus": cpus, "error": proc.stderr[-2000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["cpus"] = cpus
    out["process_wall_s"] = time.perf_counter() - t0
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, nargs="+", default=[8, 10])
    parser.add_argument("--gates", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--reps-10", type=int, default=3, help="repetitions at n >= 10")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bandwidth.json"))
    args = parser.parse_args(argv)
    if args.child:
        n, g, mode, reps = args.child
        kernel_child(int(n), int(g), mode, int(reps))
        return 0
    data: dict = {
        "command": " ".join(sys.argv),
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": brief_environment(ROOT, ["jax", "jaxlib", "numpy"]),
    }
    mon = CpuMonitor()
    mon.start()
    data["stream_copy"] = stream_copy()
    data["stream_copy"]["cpu"] = mon.stop()
    print(json.dumps({k: v for k, v in data["stream_copy"].items() if "gb" in k}), flush=True)
    data["kernel"] = []
    for n in args.n:
        reps = args.reps if n < 10 else args.reps_10
        for g in args.gates:
            for mode, cpus in (("one-device", "0"), ("one-device", "0,1"), ("split", "0,1")):
                r = run_child(n, g, mode, cpus, reps)
                data["kernel"].append(r)
                print(
                    json.dumps(
                        {
                            k: r.get(k)
                            for k in ("n", "gates", "mode", "cpus", "best_s", "median_s", "gb_per_s_best", "error")
                        }
                    ),
                    flush=True,
                )
                Path(args.out).write_text(json.dumps(data, indent=1))
    data["environment"]["loadavg_at_end"] = loadavg()
    Path(args.out).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
