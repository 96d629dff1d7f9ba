"""Noiseless benchmark: the kit's state-vector engine against Aer, qulacs and PennyLane lightning,
and the RL-step timing of issue 12.

Run from the repository root (or through ``benchmarks/simulator.py --noiseless``)::

    PYTHONPATH=. python benchmarks/noiseless.py                 # ~5 min on 2 cores
    PYTHONPATH=. python benchmarks/noiseless.py --n 8 --no-rl   # one size, no RL step
    PYTHONPATH=. python benchmarks/noiseless.py --report benchmarks/results/noiseless.json

Simulator workload (as ``benchmarks/simulator.py``, no noise): ``L`` layers of RY, RZ on every
qubit + CNOT ladder, ``L = round(70 / (3n - 1))`` (69 / 58 / 70 gates at n = 8 / 10 / 12);
observable: the H2O-8q Hamiltonian at n = 8 (193 terms, the issue's workload), 100 random Pauli
strings at n = 10 and 12; 64 random parameter sets. Per library, in one process: median of
repeated calls after a warm-up; batch = 64 evaluations (kit: ``expectation_batch``'s jitted
kernel; Aer ``AerSimulator(method="statevector")``, one ``run`` of 64 bound circuits; qulacs
``QuantumState``, a Python loop; PennyLane ``lightning.qubit``, parameter broadcasting; the
adapters are in ``benchmarks/_references.py``). Every energy is checked against the kit's to
1e-8. The kit's PTM engine on the same noiseless work (what ran before the state-vector engine)
is the "kit PTM" column.

RL step: ``rl.env.step_jit`` with the default Adam-SPSA (500 evaluations), noiseless, after
random legal gates from ``|0..0>`` (LiH-6q after 40, H2O-8q after 45), median over random legal
actions from that state, with the state-vector engine (automatic) and the PTM engine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from _machine import CpuMonitor, lscpu, package_versions  # noqa: E402
from _references import SETUPS  # noqa: E402
from simulator import hamiltonian_terms, workload_ops  # noqa: E402

BATCH = 64
TOL = 1e-8
RL_CASES = (("LiH-6q", 40, 10e-3, 0.113), ("H2O-8q", 45, 60e-3, 2.76))  # (problem, gates, target s, issue's s)
TARGETS = {8: 10.0, 10: 5.0, 12: 5.0}  # required batch ratio over Aer statevector


def median_time(fn, reps: int, budget_s: float = 3.0):
    fn()
    times, out = [], None
    while len(times) < reps and (len(times) < 3 or sum(times) < budget_s):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def workload(n: int):
    import crlqas_kit as ck

    ops = workload_ops(n, 70)
    if n == 8:
        ham = ck.load_problem("H2O-8q").hamiltonian
        terms = list(zip(ham.paulis, ham.coeffs.tolist(), strict=True))
    else:
        terms = hamiltonian_terms(n)
    n_params = sum(op[0] != "cx" for op in ops)
    params = np.random.default_rng([20240611, n, 70]).uniform(0.0, 2 * np.pi, size=(BATCH, n_params))
    return ops, terms, params


def bench_kit(n, ops, terms, params, engine: str, reps: int) -> dict:
    import jax

    from crlqas_kit.sim import simulator as sim
    from crlqas_kit.sim.circuit import Circuit
    from crlqas_kit.sim.paulis import PauliSum

    jax.clear_caches()
    circuit = Circuit.from_ops(n, ops)
    padded = np.zeros((BATCH, circuit.capacity))
    padded[:, : circuit.n_params] = params
    out: dict = {}
    with jax.enable_x64(True):
        ev = dataclasses.replace(sim.Evaluator.create(PauliSum.from_list(terms), engine=engine), loop="while")
        out["engine"] = ev.engine
        t = time.perf_counter()
        e0 = float(sim._energy(ev, circuit, padded[0]))
        first = time.perf_counter() - t
        med, times, _ = median_time(lambda: float(sim._energy(ev, circuit, padded[0])), reps)
        out.update(single_s=med, single_times_s=times, compile_single_s=first - med)
        if engine == "ptm" and med * BATCH > 60:
            out["batch"] = f"skipped: estimated {med * BATCH:.0f} s"
            return out | {"energies": None, "e0": e0}
        t = time.perf_counter()
        np.asarray(sim._energies(ev, circuit, padded))
        bfirst = time.perf_counter() - t
        bmed, btimes, energies = median_time(lambda: np.asarray(sim._energies(ev, circuit, padded)), reps)
        out.update(batch_s=bmed, batch_times_s=btimes, compile_batch_s=bfirst - bmed)
    return out | {"energies": np.asarray(energies), "e0": e0}


def measure_size(n: int, libs, reps: int) -> dict:
    ops, terms, params = workload(n)
    row: dict = {"n": n, "gates": len(ops), "n_terms": len(terms), "max_dev": {}}
    monitor = CpuMonitor()
    monitor.start()
    kit = bench_kit(n, ops, terms, params, "auto", reps)
    ref = kit.pop("energies")
    row["kit"] = kit
    print(
        f"n={n:2d} gates={len(ops)} kit {kit['engine']}: single {kit['single_s'] * 1e3:.3f} ms, "
        f"batch {kit['batch_s'] * 1e3:.2f} ms",
        flush=True,
    )
    if n <= 10:
        ptm = bench_kit(n, ops, terms, params, "ptm", max(3, reps // 3))
        dev = abs(ptm.pop("e0") - kit["e0"])
        if ptm.get("energies") is not None:
            dev = max(dev, float(np.max(np.abs(ptm["energies"] - ref))))
        ptm.pop("energies", None)
        row["kit_ptm"], row["max_dev"]["kit_ptm"] = ptm, dev
        print(
            f"      kit ptm: single {ptm['single_s'] * 1e3:.2f} ms, batch "
            f"{ptm.get('batch_s', float('nan')) * 1e3:.1f} ms, dev {dev:.1e}",
            flush=True,
        )
    for lib in libs:
        try:
            single, batch, _ = SETUPS[lib](n, ops, terms, params)  # noiseless: no depolarizing
        except ImportError as err:
            row[lib] = {"status": f"not installed: {err}"}
            continue
        smed, stimes, e_single = median_time(single, reps)
        bmed, btimes, energies = median_time(batch, max(3, reps // 2))
        dev = max(abs(e_single - ref[0]), float(np.max(np.abs(energies - ref))))
        row[lib] = {"single_s": smed, "single_times_s": stimes, "batch_s": bmed, "batch_times_s": btimes}
        row["max_dev"][lib] = dev
        assert dev < TOL, f"{lib} disagrees with crlqas_kit at n={n}: {dev:.2e}"
        print(f"      {lib:9s} single {smed * 1e3:.3f} ms, batch {bmed * 1e3:.2f} ms, dev {dev:.1e}", flush=True)
    row["background_load"] = monitor.stop()
    return row


def measure_rl_step(name: str, n_gates: int, reps: int) -> dict:
    import jax

    import crlqas_kit as ck
    from crlqas_kit.rl import env as E

    problem = ck.load_problem(name)
    out: dict = {"problem": name, "gates": n_gates}
    with jax.enable_x64(True):
        params = {e: E.make_params(problem, None, halting=False, engine=e) for e in ("auto", "ptm")}
        out["engine_auto"] = params["auto"].evaluator.engine
        rng, key = np.random.default_rng(0), jax.random.key(0)
        _, state = E.reset_jit(key, params["auto"], 1e-14)  # success off: threshold 1e-14
        for _ in range(n_gates):
            action = int(rng.choice(np.flatnonzero(np.asarray(E.action_mask_jit(state, params["auto"])))))
            key, k = jax.random.split(key)
            _, state, *_ = E.step_jit(k, state, action, params["auto"])
        assert int(state.step) == n_gates and not bool(state.done)
        legal = np.flatnonzero(np.asarray(E.action_mask_jit(state, params["auto"])))
        for engine, p in params.items():
            count = reps if engine == "auto" else max(2, reps // 4)
            times = []
            for i, action in enumerate(rng.choice(legal, size=count + 1)):
                key, k = jax.random.split(key)
                t = time.perf_counter()
                E.step_jit(k, state, int(action), p)[1].energy.block_until_ready()
                if i:  # the first call compiles
                    times.append(time.perf_counter() - t)
            out[engine] = {
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
                "times_s": times,
            }
            print(
                f"RL step {name} after {n_gates} gates, {engine}: median {out[engine]['median_s'] * 1e3:.1f} ms "
                f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f})",
                flush=True,
            )
    return out


def render(data: dict) -> str:
    env = data["environment"]
    ms = lambda x: "-" if x is None else (f"{x * 1e3:.3g}" if x < 1 else f"{x * 1e3:,.0f}")  # noqa: E731
    lines = [
        f"Command: `{data['command']}`  ",
        f"Date: {env['date']}; CPU: {env['cpu']} ({env['cores']} cores); versions: "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
        + ".",
        "",
        "Times in ms (median); batch = 64 parameter sets; ratio = Aer batch / kit batch; spread = "
        "kit batch min-max; bg load = other processes' CPU in cores while measured.",
        "",
        "| n | gates | terms | kit single | kit batch (spread) | kit PTM batch | Aer single | Aer batch "
        "| qulacs batch | lightning batch | ratio vs Aer | target | max dev | bg load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        kit, aer = r["kit"], r.get("aer", {})
        ratio = aer.get("batch_s") / kit["batch_s"] if aer.get("batch_s") else None
        need = TARGETS.get(r["n"])
        spread = f"{ms(min(kit['batch_times_s']))}-{ms(max(kit['batch_times_s']))}"
        dev = max((v for v in r["max_dev"].values() if v is not None), default=None)
        lines.append(
            f"| {r['n']} | {r['gates']} | {r['n_terms']} | {ms(kit['single_s'])} | {ms(kit['batch_s'])} ({spread}) "
            f"| {ms(r.get('kit_ptm', {}).get('batch_s'))} | {ms(aer.get('single_s'))} | {ms(aer.get('batch_s'))} "
            f"| {ms(r.get('qulacs', {}).get('batch_s'))} | {ms(r.get('pennylane', {}).get('batch_s'))} "
            f"| {'-' if ratio is None else f'{ratio:.1f}x'} "
            f"| {'-' if need is None else f'>= {need:.0f}x ' + ('met' if ratio and ratio >= need else 'MISSED')} "
            f"| {'-' if dev is None else f'{dev:.0e}'} | {r['background_load'].get('others_cores', '-')} |"
        )
    if data.get("rl_steps"):
        lines += [
            "",
            "| RL step (500-eval Adam-SPSA) | state vector (auto) | PTM | speed-up | issue (before) | target |",
            "|---|---|---|---|---|---|",
        ]
        for r in data["rl_steps"]:
            case = next(c for c in RL_CASES if c[0] == r["problem"])
            sv, ptm = r["auto"]["median_s"], r["ptm"]["median_s"]
            lines.append(
                f"| {r['problem']} after {r['gates']} gates | {sv * 1e3:.1f} ms ({r['auto']['min_s'] * 1e3:.1f}-"
                f"{r['auto']['max_s'] * 1e3:.1f}) | {ptm * 1e3:,.0f} ms | {ptm / sv:.0f}x | {case[3] * 1e3:,.0f} ms "
                f"| <= {case[2] * 1e3:.0f} ms {'met' if sv <= case[2] else 'MISSED'} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[8, 10, 12])
    parser.add_argument("--libs", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--no-rl", action="store_true", help="skip the RL-step timing")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "noiseless.json"))
    parser.add_argument("--report", metavar="JSON", help="print the markdown tables of a results file and exit")
    args = parser.parse_args(argv)
    if args.report:
        print(render(json.loads(Path(args.report).read_text())))
        return 0
    cpu = lscpu()
    data: dict = {
        "command": "python benchmarks/noiseless.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": {
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "cpu": cpu.get("Model name"),
            "cores": __import__("os").cpu_count(),
            "versions": package_versions(
                ("jax", "jaxlib", "numpy", "qiskit", "qiskit-aer", "qulacs", "pennylane", "pennylane_lightning")
            ),
        },
        "results": [measure_size(n, args.libs, args.reps) for n in args.n],
    }
    if not args.no_rl:
        data["rl_steps"] = [measure_rl_step(name, gates, args.reps) for name, gates, *_ in RL_CASES]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, default=float) + "\n")
    print()
    print(render(data))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
