"""Environment-step benchmark: steps per second of the QAS environment, single and batched.

Run from the repository root::

    PYTHONPATH=. python benchmarks/env.py                      # full run (~6-10 min on 2 cores)
    PYTHONPATH=. python benchmarks/env.py --quick --problems H2-2q LiH-4q   # smoke test
    python benchmarks/env.py --report benchmarks/results/env.json          # markdown table

One environment step = append a gate, re-optimise ALL angles with the inner optimiser, evaluate,
reward (``crlqas_kit.rl.env.step``). The inner optimiser is the default of ``make_params``:
Adam-SPSA with the published hyperparameters for the problem where known, budget 500, i.e.
**499 objective evaluations per step** (249 iterations x 2 + 1 final evaluation). Every round draws 8 random
episodes from ``|0...0>``: fixed-length sequences of uniformly random *legal* actions (an action
that repeats the most recent gate on every qubit it acts on is redrawn, as the mask does).
Success is switched off (threshold < 0: H2-2q is often solved exactly in two steps) and the
episodes are shorter than the halting window, so no episode ends early.

The same 8 episodes are run three ways, interleaved round by round so that a varying background
load affects all of them alike:

* ``single``: one after another with ``step_jit`` ("8 sequential steps"); wall and CPU time of
  every step (waited for with ``block_until_ready``);
* ``batch``: ``step_batch`` on the 8 environments (strategy ``auto``: lock-step ``vmap`` with the
  branch-free gather kernel up to 4 qubits, ``lax.map`` with the switch kernel above); one call
  steps all 8, so env-steps/s = 8 x calls/s; ``speedup`` = batch env-steps/s / single steps/s;
* ``alt``: for the noisy configurations, ``step_batch`` with the other strategy, to document
  the ``auto`` choice.

Compile time: ``jax.clear_caches()`` before every configuration, then the first call of each (a
one-step episode: reset and step compile) minus the median steady-state call. Peak RSS of
H2O-8q: a fresh subprocess builds the noisy environment and runs 8 single and 4 batched steps;
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (whole process: Python + JAX + XLA), measured
*first*, while this process is still small: on Linux a child's ``ru_maxrss`` starts from the
high-water mark of the process it was forked from, so a child started late would report this
process's peak. ``VmHWM`` of ``/proc/self/status`` (not inherited) is recorded as a cross-check.

The machine may be shared: the CPU seconds used by other processes while a configuration was
measured are recorded (``others_cores``), and the CPU time of our own process is reported next
to the wall time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import CpuMonitor, git_commit, loadavg, lscpu, package_versions, run_json_child, vm_hwm, wait_for_quiet

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROBLEMS = ("H2-2q", "LiH-4q", "LiH-6q", "H2O-8q")
NOISES = ("none", "depolarizing")
BATCH = 8
SEED = 20240611
# (steps per episode, rounds). Every round draws 8 random legal episodes and runs them three
# ways, interleaved so that a varying background load affects all alike: one after another with
# ``step_jit`` ("8 sequential"), with ``step_batch`` (strategy ``auto``) and, for the noisy
# configurations, with ``step_batch`` and the other strategy
EPISODES = {2: (15, 3), 4: (15, 3), 6: (15, 1), 8: (6, 1)}
QUICK = {2: (8, 1), 4: (8, 1), 6: (6, 1), 8: (3, 1)}
TARGET_STEP_S = 0.2  # LiH-4q noisy single step
TARGET_SPEEDUP = 4.0  # batch of 8 vs 8 sequential steps
TARGET_RSS_BYTES = 2 * 1024**3  # H2O-8q noisy
NO_SUCCESS = -1.0  # success threshold: |E - E_min| < -1 never holds, so every episode has the same length


# ----------------------------------------------------------------------------------------------
# measurement
# ----------------------------------------------------------------------------------------------
def random_episodes(n_qubits: int, n_steps: int, count: int, rng) -> np.ndarray:
    """``(count, n_steps)`` uniformly random legal action sequences: an action is redrawn when it
    repeats the most recent gate on every qubit it acts on (the environment's mask)."""
    from crlqas_kit.rl import actions as A

    table = A.action_table(n_qubits)
    out = np.zeros((count, n_steps), np.int32)
    for e in range(count):
        last, t = [-1] * n_qubits, 0
        while t < n_steps:
            a = int(rng.integers(len(table)))
            if all(last[q] == a for q in table[a][1]):
                continue
            for q in table[a][1]:
                last[q] = a
            out[e, t], t = a, t + 1
    return out


def single_episodes(params, actions: np.ndarray, key, times=None) -> int:
    """Each row of ``actions`` as one ``step_jit`` episode, one after another; appends the
    (wall, cpu) time of every step to ``times``; returns the gate count at the end."""
    import jax

    from crlqas_kit.rl import env as E

    for row in actions:
        key, k_reset = jax.random.split(key)
        _, state = E.reset_jit(k_reset, params, NO_SUCCESS)
        for action in row:
            key, k = jax.random.split(key)
            t, c = time.perf_counter(), time.process_time()
            _, state, _, term, trunc, info = E.step_jit(k, state, int(action), params)
            state.energy.block_until_ready()
            if times is not None:
                times.append((time.perf_counter() - t, time.process_time() - c))
            assert not bool(info["illegal"]) and not bool(term | trunc), "episode ended early"
    return int(state.step)


def batch_episode(params, actions: np.ndarray, key, strategy: str = "auto", times=None) -> None:
    """The rows of ``actions`` as one episode of ``step_batch`` (one call steps every environment)."""
    import jax
    import jax.numpy as jnp

    from crlqas_kit.rl.batch import reset_batch, step_batch

    key, k_reset = jax.random.split(key)
    _, states = reset_batch(jax.random.split(k_reset, actions.shape[0]), params, NO_SUCCESS)
    for column in actions.T:
        key, k = jax.random.split(key)
        keys, column = jax.random.split(k, actions.shape[0]), jnp.asarray(column)
        t, c = time.perf_counter(), time.process_time()
        _, states, _, term, trunc, info = step_batch(keys, states, column, params, strategy=strategy)
        states.energy.block_until_ready()
        if times is not None:
            times.append((time.perf_counter() - t, time.process_time() - c))
        assert not np.asarray(info["illegal"]).any() and not np.asarray(term | trunc).any()


def first_call(fn) -> float:
    """Wall time of a call that compiles (after ``jax.clear_caches()``)."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def summarise(times: list, per_call: int, first_s: float) -> dict:
    wall, cpu = [t[0] for t in times], [t[1] for t in times]
    return {
        "calls": len(wall),
        "env_steps": per_call * len(wall),
        "steps_per_s": per_call * len(wall) / sum(wall),
        "steps_per_cpu_s": per_call * len(cpu) / sum(cpu),
        "call_mean_s": statistics.fmean(wall),
        "call_median_s": statistics.median(wall),
        "call_max_s": max(wall),
        "first_call_s": first_s,
        "compile_s": max(0.0, first_s - statistics.median(wall)),
    }


def measure(name: str, noise: str, quick: bool, alt: bool) -> dict:
    import jax

    from crlqas_kit import load_problem
    from crlqas_kit.rl import env as E
    from crlqas_kit.rl.batch import auto_strategy

    problem = load_problem(name)
    n = problem.n_qubits
    n_steps, rounds = (QUICK if quick else EPISODES)[n]
    auto = auto_strategy(BATCH, n)
    other = "map" if auto == "vmap" else "vmap"
    jax.clear_caches()
    mon = CpuMonitor()
    mon.start()
    rng = np.random.default_rng(SEED)
    key = jax.random.key(SEED)
    with jax.enable_x64(True):
        params = E.make_params(problem, None if noise == "none" else noise)
        row = {
            "problem": name,
            "noise": noise,
            "n_qubits": n,
            "n_terms": len(problem.hamiltonian),
            "max_steps": params.max_steps,
            "inner_optimiser": {
                "method": params.spsa.method,
                "evaluations_per_step": 2 * params.spsa.iterations + 1,
                "config": {
                    k: getattr(params.spsa, k) for k in ("a", "c", "A", "alpha", "gamma", "beta1", "beta2", "lam")
                },
            },
            "steps_per_episode": n_steps,
            "rounds": rounds,
            "auto_strategy": auto,
        }
        # compile (first call of each, cold) -- a one-step episode from the empty circuit
        warm = random_episodes(n, 1, BATCH, rng)
        first = {
            "single": first_call(lambda: single_episodes(params, warm[:1], key)),
            "batch": first_call(lambda: batch_episode(params, warm, key)),
        }
        if alt:
            first["alt"] = first_call(lambda: batch_episode(params, warm, key, strategy=other))
        times = {k: [] for k in first}
        gates = None
        for _ in range(rounds):  # interleaved; the same 8 random episodes for all three
            actions = random_episodes(n, n_steps, BATCH, rng)
            key, k1, k2, k3 = jax.random.split(key, 4)
            gates = single_episodes(params, actions, k1, times["single"])
            batch_episode(params, actions, k2, "auto", times["batch"])
            if alt:
                batch_episode(params, actions, k3, other, times["alt"])
        row["gates_at_end"] = gates
        row["single"] = summarise(times["single"], 1, first["single"])
        row["batch"] = {"strategy": auto, **summarise(times["batch"], BATCH, first["batch"])}
        if alt:
            row["alt"] = {"strategy": other, **summarise(times["alt"], BATCH, first["alt"])}
            row["alt"]["speedup"] = row["alt"]["steps_per_s"] / row["single"]["steps_per_s"]
            row["alt"]["speedup_cpu"] = row["alt"]["steps_per_cpu_s"] / row["single"]["steps_per_cpu_s"]
    row["speedup"] = row["batch"]["steps_per_s"] / row["single"]["steps_per_s"]
    row["speedup_cpu"] = row["batch"]["steps_per_cpu_s"] / row["single"]["steps_per_cpu_s"]
    # env.json's background_load has never carried others_cpu_s (simulator.json's does): keep its keys
    row["background_load"] = {k: v for k, v in mon.stop().items() if k != "others_cpu_s"}
    return row


# ----------------------------------------------------------------------------------------------
# peak memory in a fresh process
# ----------------------------------------------------------------------------------------------
def rss_child(name: str, noise: str) -> None:
    import jax

    from crlqas_kit import load_problem
    from crlqas_kit.rl import env as E

    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # noqa: E731 (Linux: KiB)
    out = {"problem": name, "noise": noise, "peak_rss_after_imports_bytes": rss()}
    out["parent_rss_bytes"] = int(os.environ.get("CRLQAS_BENCH_PARENT_RSS", "0"))
    with jax.enable_x64(True):
        params = E.make_params(load_problem(name), None if noise == "none" else noise)
        rng, key = np.random.default_rng(SEED), jax.random.key(SEED)
        actions = random_episodes(params.n_qubits, 8, BATCH, rng)
        out["gates_at_end"] = single_episodes(params, actions[:1], key)
        out["single_steps"] = 8
        out["peak_rss_after_single_bytes"] = rss()
        batch_episode(params, actions[:, :4], key)
        out["batch_steps"] = 4
        out["peak_rss_bytes"] = rss()
        out["vm_hwm_bytes"] = vm_hwm()
    print(json.dumps(out))


def measure_rss(name: str, noise: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", name, noise]
    parent_rss = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    out, wall = run_json_child(cmd, ROOT, CRLQAS_BENCH_PARENT_RSS=parent_rss)
    out["wall_s"] = round(wall, 1)
    out["method"] = "resource.getrusage(RUSAGE_SELF).ru_maxrss of a fresh subprocess (Python + JAX + XLA)"
    return out


# ----------------------------------------------------------------------------------------------
# environment description
# ----------------------------------------------------------------------------------------------
def environment() -> dict:
    cpu = lscpu()
    versions = package_versions(("jax", "jaxlib", "numpy", "optax", "crlqas_kit"))
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu.get("Model name", platform.processor()),
        "cores": os.cpu_count(),
        "threads_per_core": cpu.get("Thread(s) per core"),
        "hypervisor": cpu.get("Hypervisor vendor"),
        "l2_l3": [cpu.get("L2 cache"), cpu.get("L3 cache")],
        "memory_total_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": git_commit(ROOT),
        "loadavg_at_start": loadavg(),
    }


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def targets(data: dict) -> list[dict]:
    rows = {(r["problem"], r["noise"]): r for r in data["results"]}
    out = []
    lih = rows.get(("LiH-4q", "depolarizing"))
    if lih:
        s = lih["single"]
        out.append(
            {
                "target": f"LiH-4q noisy step <= {TARGET_STEP_S} s (single; Adam-SPSA, budget 500, included)",
                "measured": f"mean {s['call_mean_s']:.3f} s, max {s['call_max_s']:.3f} s over {s['calls']} steps",
                "met": s["call_max_s"] <= TARGET_STEP_S,
            }
        )
        out.append(
            {
                "target": f">= {TARGET_SPEEDUP:.0f}x more steps/s vmapped over 8 environments than "
                "8 sequential steps (LiH-4q noisy)",
                "measured": f"{lih['speedup']:.2f}x wall ({lih['speedup_cpu']:.2f}x CPU time)",
                "met": lih["speedup"] >= TARGET_SPEEDUP,
            }
        )
    mem = data.get("memory")
    if mem:
        out.append(
            {
                "target": "H2O-8q noisy steps run within 2 GB RAM",
                "measured": f"peak RSS {mem['peak_rss_bytes'] / 1024**2:.0f} MiB "
                f"({mem['single_steps']} single + {mem['batch_steps']} batched steps of 8 envs)",
                "met": mem["peak_rss_bytes"] <= TARGET_RSS_BYTES,
            }
        )
    return out


def render(data: dict) -> str:
    env = data["environment"]
    lines = [
        f"Command: `{data['command']}`; date {env['date']}; CPU {env['cpu_model']} ({env['cores']} cores, "
        f"{env.get('hypervisor') or 'bare metal'}); jax {env['versions'].get('jax')}, jaxlib "
        f"{env['versions'].get('jaxlib')}, numpy {env['versions'].get('numpy')}, Python {env['python']}; "
        f"commit {env['git_commit'][:10]}; load average at start {env['loadavg_at_start']}.",
        "",
        "| problem | noise | single steps/s | step mean / max (ms) | batch-8 env-steps/s | speedup vs 8 sequential "
        "| compile single / batch (s) | other strategy: speedup | bg load (cores) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        s, b = r["single"], r["batch"]
        alt = r.get("alt")
        alt_cell = f"{alt['strategy']}: {alt['speedup']:.2f}x" if alt else "-"
        lines.append(
            f"| {r['problem']} | {r['noise']} | {s['steps_per_s']:.1f} | {1e3 * s['call_mean_s']:.1f} / "
            f"{1e3 * s['call_max_s']:.1f} | {b['steps_per_s']:.1f} | {r['speedup']:.2f}x "
            f"({r['speedup_cpu']:.2f}x CPU) | {s['compile_s']:.1f} / {b['compile_s']:.1f} | {alt_cell} "
            f"| {r['background_load'].get('others_cores', '-')} |"
        )
    if data.get("targets"):
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |" for t in data["targets"]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--noise", nargs="+", default=list(NOISES), choices=NOISES)
    parser.add_argument("--quick", action="store_true", help="one short episode per configuration")
    parser.add_argument("--no-alt", action="store_true", help="skip the alternative batch strategy")
    parser.add_argument("--no-memory", action="store_true", help="skip the H2O-8q peak-RSS subprocess")
    parser.add_argument(
        "--memory-only", action="store_true", help="only (re)measure the H2O-8q peak RSS and update --out"
    )
    parser.add_argument("--max-wait", type=float, default=20.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "env.json"))
    parser.add_argument("--report", metavar="JSON", help="print the markdown table of a results file and exit")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(*args.rss_child)
        return 0
    if args.report:
        data = json.loads(Path(args.report).read_text())
        data["targets"] = targets(data)
        print(render(data))
        return 0
    command = ("python benchmarks/env.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    if args.memory_only:
        out = Path(args.out)
        data = json.loads(out.read_text())
        data["memory"] = {"command": command, "date": environment()["date"], **measure_rss("H2O-8q", "depolarizing")}
        data["targets"] = targets(data)
        out.write_text(json.dumps(data, indent=2) + "\n")
        print(render(data))
        return 0
    data = {"command": command, "environment": environment(), "results": []}
    data["workload"] = {
        "step": "append the gate, Adam-SPSA on all angles (warm start), evaluate, reward",
        "actions": "uniformly random legal actions from |0...0>, fixed episode length (no early ends)",
        "batch": BATCH,
        "episodes": {str(k): v for k, v in (QUICK if args.quick else EPISODES).items()},
        "quick": args.quick,
    }
    print(f"# {data['environment']['cpu_model']}; {command}", flush=True)
    t_start = time.perf_counter()
    if not args.no_memory and "H2O-8q" in args.problems:  # first, while this process is small
        data["memory"] = measure_rss("H2O-8q", "depolarizing")
        print(f"H2O-8q depolarizing peak RSS {data['memory']['peak_rss_bytes'] / 1024**2:.0f} MiB", flush=True)
    for name in args.problems:
        for noise in args.noise:
            waited = wait_for_quiet(args.max_wait, threshold=0.3) if args.max_wait > 0 else 0.0
            row = measure(name, noise, args.quick, alt=not args.no_alt and noise != "none")
            row["waited_for_quiet_s"] = round(waited, 1)
            data["results"].append(row)
            s, b = row["single"], row["batch"]
            print(
                f"{name:7s} {noise:12s} single {s['steps_per_s']:8.1f} steps/s (mean {1e3 * s['call_mean_s']:.1f} ms, "
                f"compile {s['compile_s']:.1f} s) | batch {b['steps_per_s']:8.1f} env-steps/s "
                f"(compile {b['compile_s']:.1f} s) | speedup {row['speedup']:.2f}x"
                + (f" | alt {row['alt']['strategy']} {row['alt']['speedup']:.2f}x" if "alt" in row else "")
                + f" | bg {row['background_load'].get('others_cores')}",
                flush=True,
            )
    data["total_s"] = round(time.perf_counter() - t_start, 1)
    data["targets"] = targets(data)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(render(data))
    print(f"# wrote {out} in {data['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
