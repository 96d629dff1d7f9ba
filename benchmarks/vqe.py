"""VQE inner-optimiser benchmark: Adam-SPSA, SPSA, COBYLA and Adam (exact gradients) on LiH-4q.

Run from the repository root::

    PYTHONPATH=. python benchmarks/vqe.py                       # full run (~5 min on 2 cores)
    PYTHONPATH=. python benchmarks/vqe.py --quick --out /tmp/vqe-quick.json   # smoke test
    python benchmarks/vqe.py --report benchmarks/results/vqe.json            # markdown tables

Workload. LiH-4q (``crlqas_kit.problems``), initial state |0000>, a fixed 2-layer
hardware-efficient ansatz: RY on every qubit, CNOT ladder cx(0,1) cx(1,2) cx(2,3), twice, then a
final RY layer (18 gates, 12 angles). Two settings, both with 10^4 shots per Pauli term for the
shot-based methods: ``noiseless`` and ``depolarizing`` (the kit's preset: 1-qubit depolarizing
p = 1e-3 after every rotation).

Targets (one per setting). ``E*`` is the lowest noise-exact energy that exact-gradient Adam finds
from 8 starts (3000 steps, lr 0.05, the best then refined with 3000 steps of lr 0.005) *in that
setting's own noise model*; the target is ``E* + 1.6e-3`` Ha (chemical accuracy of the ansatz's
optimum). A run reaches the target at the first objective evaluation after which the
noise-exact energy (no shot noise; ``VQEResult.exact_energy``-like) of the optimiser's current
best point is <= the target. "Current best" is the optimiser's own choice: for the SPSA methods
and COBYLA the point with the lowest *finite-shot* value seen so far (what ``optimize`` returns),
for Adam the lowest exact energy seen so far. A second table measures the same on the iterate
``x_k`` itself (SPSA methods and Adam), which is not selected by noisy values.

Per method, 10 seeds (seed s: start ``x0 = 0.3 N(0, 1)`` from ``numpy.random.default_rng(s)``,
PRNG key s for SPSA directions and shot noise); reported: the median of evaluations-to-target
with unreached runs counted as infinite (so the median is "not reached within budget N" unless
at least 6 of 10 runs reach it), how many runs reached it, and the median final error to ``E*``.

* Adam-SPSA: ``preset_config("LiH-4q", "adam-spsa", N)`` (the published LiH-4q values, as the kit
  ships them: ``A = 0.1 * iterations``), plus a row with the published step schedule ``A = 0``.
* SPSA: ``preset_config("LiH-4q", "spsa", N)`` (the preset's c and gamma, calibrated step gain).
* COBYLA: scipy, ``rhobeg = 0.5`` as in ``optimize``, on the same finite-shot objective (a fresh
  shot-noise key per evaluation), a Python loop over the compiled energy.
* COBYLA, exact objective: ``optimize(method="cobyla")`` (no shots), for comparison.
* Adam (exact): optax Adam (lr 0.05) on the exact gradient (``jax.grad`` through the simulator),
  no shots; one "evaluation" = one energy with its gradient (about 3x an energy in time; on
  hardware the parameter-shift gradient costs 2 x 12 = 24 extra circuits, also reported).

The SPSA runs are recorded by a copy of ``crlqas_kit.optim.spsa.run`` that also outputs, per
iteration, the exact energy of the current best point; the script asserts it returns the same
result as the kit's compiled ``_run_spsa`` for one seed of each configuration.

Wall time. One 500-evaluation Adam-SPSA run (LiH-4q preset, 10^4 shots, ``depolarizing``) on
a 20-gate circuit (the ansatz above with a closing cx(3,0) in each CNOT layer) and on the 18-gate
ansatz: (a) compiled, ``optimize``'s kernel ``vqe._run_spsa`` after a warm-up call (median and minimum
of 20 calls; the first call after ``jax.clear_caches()`` gives the compile time);
(b) the same algorithm as a Python loop of single evaluations: one jitted single-energy call
(with its shot noise) per evaluation, gains and Adam moments in numpy, as the published code runs
it (directions pre-generated in one call; median and minimum of 5 runs). Both use the same
random numbers; the script asserts that they return the same best point (so they are the same
algorithm), then reports the ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from _machine import git_commit, loadavg, lscpu, package_versions

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHEM = 1.6e-3
SHOTS = 10_000
SETTINGS = {"noiseless": "none", "depolarizing": "depolarizing"}
METHODS = ("adam-spsa", "adam-spsa-A0", "spsa", "cobyla", "cobyla-exact", "adam")
LABELS = {
    "adam-spsa": "Adam-SPSA (published LiH-4q preset, kit's A = 0.1 x iterations)",
    "adam-spsa-A0": "Adam-SPSA (same values, published schedule A = 0)",
    "spsa": "SPSA (calibrated gain)",
    "cobyla": "COBYLA",
    "cobyla-exact": "COBYLA, exact objective (no shots)",
    "adam": "Adam, exact gradients (no shots)",
}


# ----------------------------------------------------------------------------------------------
# workload
# ----------------------------------------------------------------------------------------------
def ansatz(closing_cnot: bool = False):
    """2 x (RY on all, CNOT ladder), final RY; ``closing_cnot`` adds cx(3, 0) per layer (20 gates)."""
    from crlqas_kit.sim.circuit import Circuit, hardware_efficient

    if not closing_cnot:
        return hardware_efficient(4, 2, capacity=32)
    ops: list[tuple] = []
    for _ in range(2):
        ops += [("ry", (q,)) for q in range(4)] + [("cx", (q, q + 1)) for q in range(3)] + [("cx", (3, 0))]
    ops += [("ry", (q,)) for q in range(4)]
    return Circuit.from_ops(4, ops, capacity=32)


def start(seed: int, n: int) -> np.ndarray:
    return 0.3 * np.random.default_rng(seed).standard_normal(n)


def spsa_config(method: str, budget: int):
    from crlqas_kit.optim.presets import preset_config

    if method == "adam-spsa-A0":
        return preset_config("LiH-4q", "adam-spsa", budget).replace(A=0.0)
    return preset_config("LiH-4q", method, budget)


# ----------------------------------------------------------------------------------------------
# reference optimum E* per setting
# ----------------------------------------------------------------------------------------------
def reference_optimum(problem, circuit, noise: str, steps: int, n_starts: int) -> dict:
    from crlqas_kit.optim.vqe import optimize

    n = circuit.n_params
    starts = [np.zeros(n)] + [
        (0.3 if i < n_starts // 2 + 1 else 1.0) * np.random.default_rng(900 + i).standard_normal(n)
        for i in range(1, n_starts)
    ]
    runs = [optimize(problem, circuit, noise, method="adam", x0=x0, budget=steps, lr=0.05) for x0 in starts]
    best = min(runs, key=lambda r: r.exact_energy)
    refined = optimize(problem, circuit, noise, method="adam", x0=best.params, budget=steps, lr=0.005)
    e_star = min(best.exact_energy, refined.exact_energy)
    return {
        "e_star": e_star,
        "e_star_minus_e0": e_star - problem.e0,
        "target": e_star + CHEM,
        "starts_minus_e0": [r.exact_energy - problem.e0 for r in runs],
        "refined_minus_e0": refined.exact_energy - problem.e0,
        "params": [float(v) for v in (refined.params if refined.exact_energy <= best.exact_energy else best.params)],
    }


# ----------------------------------------------------------------------------------------------
# SPSA curves: a copy of spsa.run that also outputs the exact energy of the current best point
# ----------------------------------------------------------------------------------------------
def _objective(ev, circuit, shots):
    from crlqas_kit.optim.vqe import energy_objective

    return energy_objective(dataclasses.replace(ev, loop="while"), circuit, shots)  # as vqe._run_spsa


def _make_spsa_curve():
    import jax

    from crlqas_kit.optim import spsa
    from crlqas_kit.optim.vqe import batched_objective, param_mask

    @partial(jax.jit, static_argnames=("config", "shots"))
    def spsa_curve(ev, circuit, x0, key, config, shots):
        exact_ev = dataclasses.replace(ev, loop="while")
        batched = batched_objective(_objective(ev, circuit, shots))
        trace = lambda best_x, x: (exact_ev.energy(circuit, best_x), exact_ev.energy(circuit, x))  # noqa: E731
        res = spsa.run(batched, x0, key, config, param_mask(circuit), trace=trace)
        return res.x, res.fun, res.trace, exact_ev.energy(circuit, res.x)

    return spsa_curve


def spsa_run(curve_fn, problem, circuit, ev, method, budget, seed, target, check: bool) -> dict:
    import jax
    import jax.numpy as jnp

    from crlqas_kit.optim import vqe

    cfg = spsa_config(method, budget)
    x0 = np.zeros(circuit.capacity)
    x0[: circuit.n_params] = start(seed, circuit.n_params)
    key = jax.random.key(seed)
    x_best, f_best, (curve, iterate), final_exact = curve_fn(ev, circuit, jnp.asarray(x0), key, cfg, SHOTS)
    curve, iterate = np.asarray(curve), np.asarray(iterate)
    evals = 1 + cfg.calibration_evaluations + 2 * (np.arange(curve.size) + 1)  # x0 is measured first
    evals = np.append(evals, cfg.evaluations)
    curve = np.append(curve, float(final_exact))
    iterate = np.append(iterate, iterate[-1])  # the final evaluation does not move the iterate
    if check:  # the copy above is the kit's algorithm: same best point as optimize's kernel
        ref = vqe._run_spsa(ev, circuit, jnp.asarray(x0), key, cfg, SHOTS, "exact")
        np.testing.assert_allclose(np.asarray(ref.x), np.asarray(x_best), rtol=0, atol=1e-10)
        assert abs(float(ref.fun) - float(f_best)) < 1e-10 and int(ref.evaluations) == int(evals[-1])
    return _summary(curve, evals, target, budget, iterate)


def _summary(curve_exact_best, evals, target, budget, iterate=None) -> dict:
    hit = np.flatnonzero(np.asarray(curve_exact_best) <= target)
    out = {
        "evaluations_to_target": int(evals[hit[0]]) if hit.size else None,
        "final_exact_energy": float(curve_exact_best[-1]),
        "evaluations": int(evals[-1]),
        "budget": budget,
    }
    if iterate is not None:  # the exact energy of the iterate x_k itself (not chosen by noisy values)
        hit = np.flatnonzero(np.asarray(iterate) <= target)
        out["iterate_evaluations_to_target"] = int(evals[hit[0]]) if hit.size else None
        out["final_iterate_exact_energy"] = float(iterate[-1])
    return out


# ----------------------------------------------------------------------------------------------
# COBYLA (finite-shot objective) and Adam (exact gradients)
# ----------------------------------------------------------------------------------------------
def cobyla_run(problem, circuit, ev, budget, seed, target) -> dict:
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize as scipy_minimize

    noisy, exact = _cobyla_kernels()
    n = circuit.n_params
    keys = jax.random.split(jax.random.key(seed), budget + 16)
    padded = np.zeros(circuit.capacity)
    state = {"calls": 0, "best": math.inf, "best_exact": math.inf}
    curve, evals = [], []

    def fun(x):
        padded[:n] = x
        i = state["calls"]
        value = float(noisy(ev, circuit, jnp.asarray(padded), keys[i]))
        state["calls"] = i + 1
        if value < state["best"]:
            state["best"] = value
            state["best_exact"] = float(exact(ev, circuit, jnp.asarray(padded)))
        curve.append(state["best_exact"])
        evals.append(i + 1)
        return value

    scipy_minimize(fun, start(seed, n), method="COBYLA", options={"maxiter": budget, "rhobeg": 0.5})
    return _summary(np.asarray(curve), np.asarray(evals), target, budget)


_KERNELS: dict = {}


def _cobyla_kernels():
    if not _KERNELS:
        import jax

        @jax.jit
        def noisy(ev, circuit, x, key):
            return _objective(ev, circuit, SHOTS)(x, key)

        @jax.jit
        def exact(ev, circuit, x):
            return dataclasses.replace(ev, loop="while").energy(circuit, x)

        _KERNELS.update(noisy=noisy, exact=exact)
    return _KERNELS["noisy"], _KERNELS["exact"]


def exact_run(problem, circuit, noise, method, budget, seed, target) -> dict:
    """``optimize`` with an exact objective (adam or cobyla): its history holds every evaluated
    (noise-exact) energy, so the current best is the running minimum."""
    from crlqas_kit.optim.vqe import optimize

    x0 = start(seed, circuit.n_params)
    res = optimize(problem, circuit, noise, method=method, x0=x0, budget=budget, lr=0.05)
    curve = np.minimum.accumulate(res.history)
    iterate = res.history if method == "adam" else None  # Adam's history: the exact energy of x_k
    return _summary(curve, np.arange(1, curve.size + 1), target, budget, iterate)


# ----------------------------------------------------------------------------------------------
# wall time: compiled vs Python loop
# ----------------------------------------------------------------------------------------------
def timing(problem, circuit, reps: int) -> dict:
    import jax
    import jax.numpy as jnp

    from crlqas_kit.optim import vqe
    from crlqas_kit.optim.presets import preset_config
    from crlqas_kit.optim.vqe import param_mask
    from crlqas_kit.sim.simulator import Evaluator

    ev = Evaluator.create(problem.hamiltonian, "depolarizing")
    cfg = preset_config("LiH-4q", "adam-spsa", 500)
    x0 = np.zeros(circuit.capacity)
    x0[: circuit.n_params] = start(0, circuit.n_params)
    x0j, key = jnp.asarray(x0), jax.random.key(0)

    def compiled():
        out = vqe._run_spsa(ev, circuit, x0j, key, cfg, SHOTS, "exact")
        out.fun.block_until_ready()
        return out

    t0 = time.perf_counter()
    ref = compiled()
    first = time.perf_counter() - t0
    compiled_times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        compiled()
        compiled_times.append(time.perf_counter() - t0)

    # the Python loop: the same random numbers as spsa.run (x0's key, then per iteration the
    # direction, the two evaluations' keys and an unused iterate key, then the last iterate's)
    f = _objective(ev, circuit, SHOTS)
    single = jax.jit(lambda x, k: f(x, k))
    mask = np.asarray(param_mask(circuit))
    iters = cfg.iterations

    @jax.jit
    def draws(key):
        key, k_x0 = jax.random.split(key)

        def body(key, _):
            key, k_dir, k_fun, _ = jax.random.split(key, 4)
            delta = jax.random.rademacher(k_dir, (circuit.capacity,), dtype=jnp.float64)
            return key, (delta, jax.random.split(k_fun, 2))

        key, (deltas, keys) = jax.lax.scan(body, key, None, length=iters)
        return jax.random.split(k_x0, 1)[0], deltas, keys, jax.random.split(jax.random.fold_in(key, 1), 1)[0]

    def python_loop():
        k_x0, deltas, keys, k_last = draws(key)
        deltas = np.asarray(deltas) * mask
        x, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
        best_x, best_f = x0.copy(), float(single(x0, k_x0))  # the start is measured first
        A = cfg.stability
        for k in range(iters):
            c_k = cfg.c / (k + 1.0) ** cfg.gamma
            xp, xm = x + c_k * deltas[k], x - c_k * deltas[k]
            fp = float(single(xp, keys[k, 0]))
            fm = float(single(xm, keys[k, 1]))
            if min(fp, fm) < best_f:
                best_f, best_x = (fp, xp) if fp <= fm else (fm, xm)
            g = (fp - fm) / (2.0 * c_k) * deltas[k]
            b1k = cfg.beta1 / (k + 1.0) ** cfg.lam
            m = b1k * m + (1 - b1k) * g
            v = cfg.beta2 * v + (1 - cfg.beta2) * g**2
            gain = cfg.a / (k + 1.0 + A) ** cfg.alpha
            step = -gain * (m / (1 - cfg.beta1 ** (k + 1.0))) / (np.sqrt(v / (1 - cfg.beta2 ** (k + 1.0))) + cfg.eps)
            x = x + step * mask
        f_last = float(single(x, k_last))
        if f_last < best_f:  # ties keep the earlier point, as spsa.run does
            best_f, best_x = f_last, x
        return best_x, best_f, 2 * iters + 2

    best_x, best_f, evals = python_loop()  # warm-up (compiles the single call) and check
    np.testing.assert_allclose(best_x, np.asarray(ref.x), rtol=0, atol=1e-8)
    assert abs(best_f - float(ref.fun)) < 1e-8 and evals == int(ref.evaluations) == 500
    loop_times = []
    for _ in range(max(5, reps // 4)):
        t0 = time.perf_counter()
        python_loop()
        loop_times.append(time.perf_counter() - t0)
    compiled_s = statistics.median(compiled_times)
    loop_s = statistics.median(loop_times)
    return {
        "compiled_min_s": min(compiled_times),
        "python_loop_min_s": min(loop_times),
        "ratio_of_minima": min(loop_times) / min(compiled_times),
        "gates": len(circuit),
        "angles": circuit.n_params,
        "evaluations": int(ref.evaluations),
        "compiled_first_call_s": first,
        "compiled_median_s": compiled_s,
        "compiled_times_s": compiled_times,
        "python_loop_median_s": loop_s,
        "python_loop_times_s": loop_times,
        "ratio": loop_s / compiled_s,
        "same_result": True,
    }


# ----------------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------------
def run(args) -> dict:
    import jax

    from crlqas_kit import enable_x64
    from crlqas_kit.problems import load_problem
    from crlqas_kit.sim.simulator import Evaluator

    problem = load_problem("LiH-4q")
    circuit = ansatz()
    seeds = list(range(args.seeds))
    out: dict = {
        "problem": problem.name,
        "e0": problem.e0,
        "circuit": {"gates": len(circuit), "angles": circuit.n_params, "ops": [op[:2] for op in circuit.ops()]},
        "shots": SHOTS,
        "budget": args.budget,
        "adam_steps": args.adam_steps,
        "seeds": seeds,
        "settings": {},
    }
    t_start = time.perf_counter()
    with enable_x64():
        curve_fn = _make_spsa_curve()
        for name, noise in SETTINGS.items():
            t0 = time.perf_counter()
            ref = reference_optimum(problem, circuit, noise, args.ref_steps, args.ref_starts)
            print(f"[{name}] E* - E0 = {ref['e_star_minus_e0']:.3e} Ha ({time.perf_counter() - t0:.0f} s)", flush=True)
            ev = Evaluator.create(problem.hamiltonian, noise)
            rows = {}
            for method in METHODS:
                t0 = time.perf_counter()
                runs = []
                for i, seed in enumerate(seeds):
                    if method == "cobyla":
                        r = cobyla_run(problem, circuit, ev, args.budget, seed, ref["target"])
                    elif method == "cobyla-exact":
                        r = exact_run(problem, circuit, noise, "cobyla", args.budget, seed, ref["target"])
                    elif method == "adam":
                        r = exact_run(problem, circuit, noise, "adam", args.adam_steps, seed, ref["target"])
                    else:
                        r = spsa_run(curve_fn, problem, circuit, ev, method, args.budget, seed, ref["target"], i == 0)
                    r["seed"] = seed
                    r["final_error_to_e_star"] = r["final_exact_energy"] - ref["e_star"]
                    if "final_iterate_exact_energy" in r:
                        r["final_iterate_error_to_e_star"] = r["final_iterate_exact_energy"] - ref["e_star"]
                    runs.append(r)
                rows[method] = {"label": LABELS[method], "runs": runs, **_aggregate(runs), "seconds": 0.0}
                rows[method]["seconds"] = time.perf_counter() - t0
                print(f"[{name}] {method:<13} {_cell(rows[method])}  ({rows[method]['seconds']:.0f} s)", flush=True)
            out["settings"][name] = {"noise": noise, "reference": ref, "methods": rows}
        out["timing"] = {}
        for label, circ in (("20-gate", ansatz(closing_cnot=True)), ("18-gate", circuit)):
            jax.clear_caches()  # the first call is a cold compile
            out["timing"][label] = timing(problem, circ, args.reps)
        for k, t in out["timing"].items():
            print(
                f"[timing {k}] compiled {1e3 * t['compiled_median_s']:.1f} ms, Python loop "
                f"{1e3 * t['python_loop_median_s']:.0f} ms, ratio {t['ratio']:.1f}x (of minima "
                f"{t['ratio_of_minima']:.1f}x)",
                flush=True,
            )
    out["total_seconds"] = time.perf_counter() - t_start
    out["environment"] = environment()
    return out


def _aggregate(runs: list[dict]) -> dict:
    out = {}
    for prefix in ("", "iterate_"):
        if prefix and f"{prefix}evaluations_to_target" not in runs[0]:
            continue
        to_target = [r[f"{prefix}evaluations_to_target"] for r in runs]
        reached = [e for e in to_target if e is not None]
        median = statistics.median([math.inf if e is None else e for e in to_target])
        out[f"{prefix}reached"] = len(reached)
        out[f"{prefix}median_evaluations_to_target"] = None if math.isinf(median) else median
        out[f"{prefix}median_over_reached"] = statistics.median(reached) if reached else None
    out["median_final_error_to_e_star"] = statistics.median(r["final_error_to_e_star"] for r in runs)
    if "final_iterate_error_to_e_star" in runs[0]:
        out["median_final_iterate_error_to_e_star"] = statistics.median(
            r["final_iterate_error_to_e_star"] for r in runs
        )
    return out


def _cell(row: dict, prefix: str = "") -> str:
    n = len(row["runs"])
    budget = row["runs"][0]["budget"]
    med = row[f"{prefix}median_evaluations_to_target"]
    head = f"{med:g}" if med is not None else f"not reached within budget {budget}"
    return f"{head} ({row[f'{prefix}reached']}/{n} reached)"


def _method_rows(res: dict, prefix: str, final_key: str) -> list[str]:
    """Table rows, one per method that recorded ``{prefix}reached``: per setting, the evaluations
    to target and the median final error ``final_key``."""
    rows = []
    for method in METHODS:
        if f"{prefix}reached" not in next(iter(res["settings"].values()))["methods"][method]:
            continue
        cells = []
        for s in res["settings"].values():
            row = s["methods"][method]
            cells += [_cell(row, prefix), f"{row[final_key]:.2e}"]
        rows.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return rows


def environment() -> dict:
    cpu = lscpu()
    versions = package_versions(("jax", "jaxlib", "optax", "numpy", "scipy", "crlqas_kit"))
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu.get("Model name", platform.processor()),
        "cores": os.cpu_count(),
        "loadavg_at_end": loadavg(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": git_commit(ROOT),
    }


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def report(res: dict) -> str:
    env = res["environment"]
    lines = [
        f"LiH-4q, {res['circuit']['gates']}-gate ansatz ({res['circuit']['angles']} angles), "
        f"{res['shots']} shots per term for the shot-based methods, {len(res['seeds'])} seeds, "
        f"budget {res['budget']} evaluations (Adam: {res['adam_steps']} steps).",
        "",
        "| setting | E* - E0 (Ha) | target = E* + 1.6e-3 |",
        "|---|---|---|",
    ]
    for name, s in res["settings"].items():
        ref = s["reference"]
        lines.append(f"| {name} | {ref['e_star_minus_e0']:.3e} | E0 + {ref['target'] - res['e0']:.3e} |")
    lines += [
        "",
        "Median evaluations until the optimiser's current best point is within 1.6e-3 Ha of E* "
        "(its noise-exact energy), runs reaching it, and median final error to E*:",
        "",
        "| method | " + " | ".join(f"{n}: evaluations to target | {n}: final E - E*" for n in res["settings"]) + " |",
        "|---|" + "---|---|" * len(res["settings"]),
    ]
    lines += _method_rows(res, "", "median_final_error_to_e_star")
    lines += [
        "",
        "The same measured on the iterate x_k itself (its noise-exact energy; SPSA methods and Adam):",
        "",
        "| method | "
        + " | ".join(f"{n}: evaluations to target | {n}: final E(x) - E*" for n in res["settings"])
        + " |",
        "|---|" + "---|---|" * len(res["settings"]),
    ]
    lines += _method_rows(res, "iterate_", "median_final_iterate_error_to_e_star")
    lines += [
        "",
        "Wall time of one 500-evaluation Adam-SPSA run (LiH-4q preset, `depolarizing`, 10^4 shots):",
        "",
        "| circuit | compiled, median (min) | first call (compile) | Python loop, median (min) | ratio of medians "
        "(of minima) |",
        "|---|---|---|---|---|",
    ]
    for t in res["timing"].values():
        lines.append(
            f"| {t['gates']} gates, {t['angles']} angles | {1e3 * t['compiled_median_s']:.1f} "
            f"({1e3 * t['compiled_min_s']:.1f}) ms | {t['compiled_first_call_s']:.1f} s | "
            f"{1e3 * t['python_loop_median_s']:.0f} ({1e3 * t['python_loop_min_s']:.0f}) ms | "
            f"{t['ratio']:.1f}x ({t['ratio_of_minima']:.1f}x) |"
        )
    lines += [
        "",
        f"{env['date']}, {env['cpu_model']} ({env['cores']} cores), load average at the end "
        f"{env['loadavg_at_end']}, Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
        + f"; total {res['total_seconds']:.0f} s.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=5000, help="evaluations per SPSA / COBYLA run")
    parser.add_argument("--adam-steps", type=int, default=1000)
    parser.add_argument("--ref-steps", type=int, default=3000, help="Adam steps per start for E*")
    parser.add_argument("--ref-starts", type=int, default=8)
    parser.add_argument("--reps", type=int, default=20, help="timing repetitions of the compiled run")
    parser.add_argument("--quick", action="store_true", help="2 seeds, small budgets (smoke test)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "vqe.json"))
    parser.add_argument("--report", metavar="JSON", help="print the markdown tables of a results file")
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return 0
    if args.quick:
        args.seeds, args.budget, args.adam_steps, args.ref_steps, args.ref_starts, args.reps = 2, 1000, 300, 500, 3, 5
    res = run(args)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1))
    print(report(res))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
