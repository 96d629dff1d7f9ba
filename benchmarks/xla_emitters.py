"""XLA:CPU's fusion emitters against its older ones: compiler memory and run time (issue 14).

Run from the repository root (each setting in its own child process, since XLA reads its flags
once per process)::

    PYTHONPATH=. python benchmarks/xla_emitters.py --out benchmarks/results/xla_emitters.json
    python benchmarks/xla_emitters.py --report benchmarks/results/xla_emitters.json

Settings, for every program of the process: ``legacy`` (``XLA_FLAGS=--xla_cpu_use_fusion_emitters=false``,
the option the kit's single-environment entry points compile with: ``crlqas_kit._xla``) and
``default`` (XLA's MLIR fusion emitters; ``CRLQAS_XLA_EMITTERS=default`` so the kit adds nothing),
in fresh processes with the compilation cache off, pinned to cores 0,1, alternating for
``--rounds`` rounds so both see the same background load.

Cases (each a child process):

* ``memory``: what notebook 06 compiles, in its order: an ``InteractiveEnv`` on H2-2q (reset and
  one 500-evaluation step), a fast-preset DDQN ``search`` of 4 tiny episodes, the same with the
  random agent; the process's peak resident memory (``VmHWM``) after each, and the time of each.
* ``batch``: ``simulator._energies`` for 64 and 2 parameter sets (the workload of
  ``benchmarks/cores.py``): noisy PTM at n = 6 and 8, state vector at n = 10; best and median.
* ``step``: one 500-evaluation Adam-SPSA optimisation on LiH-6q under ``depolarizing``.
* ``env``: ``benchmarks/env.py``'s measurement on LiH-4q ``depolarizing``: 8 sequential
  ``step_jit`` steps against ``step_batch`` of 8 environments (``vmap``, gather kernel).
* ``chunk``: a search's compiled chunk (``trainer._CHUNK``, fast preset) on H2-2q and LiH-4q:
  compile time, then best and median of 8 calls.

Energies of the two settings are compared (max deviation in the JSON).
"""

from __future__ import annotations

import argparse
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

from _machine import CpuMonitor, brief_environment, loadavg, vm_hwm  # noqa: E402

SETTINGS = ("legacy", "default")


def _mb() -> int:
    return round(vm_hwm() / 2**20)  # MiB, as benchmarks/notebooks.py reports


def child_memory() -> dict:
    import crlqas_kit as ck
    from crlqas_kit.rl import InteractiveEnv
    from crlqas_kit.search import search
    from crlqas_kit.search_config import preset

    out = {"XLA_FLAGS": os.environ.get("XLA_FLAGS", ""), "imports_mb": _mb()}
    t = time.perf_counter()
    env = InteractiveEnv(ck.load_problem("H2-2q"))
    env.reset(seed=0)
    env.step("ry(0)")
    out.update(env_step_s=time.perf_counter() - t, env_step_mb=_mb())
    cfg = preset("fast", "H2-2q", 2, episodes=4, max_steps=10, halt_min=5, eval_episodes=0)
    t = time.perf_counter()
    ddqn = search(cfg, seeds=[0])
    out.update(search_s=time.perf_counter() - t, search_mb=_mb())
    t = time.perf_counter()
    rand = search(cfg.replace(agent="random"), seeds=[0])
    out.update(random_s=time.perf_counter() - t, random_mb=_mb())
    out["energies"] = [e["energy"] for e in ddqn.episodes + rand.episodes]
    return out


def child_chunk(problem: str, n: int) -> dict:
    import jax

    from crlqas_kit._x64 import enable_x64
    from crlqas_kit.search_config import preset
    from crlqas_kit.trainer import _CHUNK, make_trainer

    with enable_x64():
        trainer = make_trainer(preset("fast", problem, n, episodes=4))
        ts = trainer.init(jax.random.key(0))
        t = time.perf_counter()
        ts, metrics = _CHUNK(trainer, ts)
        jax.block_until_ready(ts)
        first = time.perf_counter() - t
        times = []
        for _ in range(8):
            t = time.perf_counter()
            ts, metrics = _CHUNK(trainer, ts)
            jax.block_until_ready(ts)
            times.append(time.perf_counter() - t)
    return {
        "first_call_s": first,
        "times_s": times,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "energy": np.asarray(metrics["energy"]).ravel().tolist(),
        "peak_mb": _mb(),
    }


def child(args: list[str]) -> dict:
    import cores

    mon = CpuMonitor()
    mon.start()
    if args[0] == "memory":
        out = child_memory()
    elif args[0] == "batch":
        out = cores.child_batch(args[1], int(args[2]), int(args[3]))
    elif args[0] == "step":
        out = cores.child_step(args[1], int(args[2]))
    elif args[0] == "env":
        import env as env_bench

        row = env_bench.measure(args[1], args[2], quick=False, alt=False)
        out = {k: row[k] for k in ("single", "batch", "speedup")}
    else:
        out = child_chunk(args[1], int(args[2]))
    out["cpu"] = mon.stop()
    return out


def run_child(args: list[str], setting: str) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{HERE}", CRLQAS_NO_COMPILE_CACHE="1", CI="true")
    env.pop("XLA_FLAGS", None)
    if setting == "legacy":  # every program of the process, the kit's and the benchmark's own
        env["XLA_FLAGS"] = "--xla_cpu_use_fusion_emitters=false"
    else:
        env["CRLQAS_XLA_EMITTERS"] = "default"
    cmd = ["taskset", "-c", "0,1", sys.executable, __file__, "--child", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


CASES = [
    ("memory", ["memory"]),
    ("PTM n=6 batch", ["batch", "ptm", "6", "9"]),
    ("PTM n=8 batch", ["batch", "ptm", "8", "9"]),
    ("state vector n=10 batch", ["batch", "statevector", "10", "9"]),
    ("Adam-SPSA 500, LiH-6q depolarizing", ["step", "LiH-6q", "5"]),
    ("8 environments, LiH-4q depolarizing", ["env", "LiH-4q", "depolarizing"]),
    ("chunk H2-2q fast", ["chunk", "H2-2q", "2"]),
    ("chunk LiH-4q fast", ["chunk", "LiH-4q", "4"]),
]


def _spread(values: list[float], scale: float = 1e3) -> str:
    return f"{scale * min(values):.3g} ({scale * statistics.median(values):.3g})"


def render(data: dict) -> str:
    lines = [
        "| case | legacy emitters: best (median) | fusion emitters (XLA default) | default / legacy | max dev |",
        "|---|---|---|---|---|",
    ]
    mem = ["| memory case | legacy: peak MB (time) | default: peak MB (time) |", "|---|---|---|"]
    for case in data["cases"]:
        rounds = case["rounds"]
        if any("error" in r[s] for r in rounds for s in SETTINGS):
            lines.append(f"| {case['name']} | error | | | |")
            continue
        if case["args"][0] == "memory":
            for label, key, t in [
                ("after the imports", "imports_mb", None),
                ("+ InteractiveEnv reset and step", "env_step_mb", "env_step_s"),
                ("+ DDQN search (chunk compile)", "search_mb", "search_s"),
                ("+ random-agent search", "random_mb", "random_s"),
            ]:
                cells = []
                for s in SETTINGS:
                    peaks = [r[s][key] for r in rounds]
                    times = f", {min(r[s][t] for r in rounds):.1f} s" if t else ""
                    cells.append(f"{max(peaks)} (max of {len(peaks)}{times})")
                mem.append(f"| {label} | {cells[0]} | {cells[1]} |")
            dev = max(
                float(np.max(np.abs(np.subtract(r["legacy"]["energies"], r["default"]["energies"])))) for r in rounds
            )
            mem.append(f"| energies, max deviation | {dev:.1e} | |")
            continue
        if case["args"][0] == "env":
            for what in ("single", "batch"):
                rate = {st: [r[st][what]["steps_per_s"] for r in rounds] for st in SETTINGS}
                ratio = max(rate["legacy"]) / max(rate["default"])
                lines.append(
                    f"| {case['name']}: {'8 sequential steps' if what == 'single' else 'step_batch of 8'} | "
                    f"{max(rate['legacy']):.0f} env-steps/s | {max(rate['default']):.0f} env-steps/s | "
                    f"{ratio:.2f} (time) | - |"
                )
            speed = {st: max(r[st]["speedup"] for r in rounds) for st in SETTINGS}
            lines.append(
                f"| {case['name']}: batch speed-up over sequential | {speed['legacy']:.2f}x | "
                f"{speed['default']:.2f}x | - | - |"
            )
            continue
        keys = ["64", "2"] if case["args"][0] == "batch" else [None]
        for b in keys:
            best = {s: [(r[s][b] if b else r[s])["best_s"] for r in rounds] for s in SETTINGS}
            if b:
                dev = max(
                    float(np.max(np.abs(np.subtract(r["legacy"][b]["energies"], r["default"][b]["energies"]))))
                    for r in rounds
                )
            elif "energy" in rounds[0]["legacy"]:
                dev = max(
                    float(np.max(np.abs(np.subtract(r["legacy"]["energy"], r["default"]["energy"])))) for r in rounds
                )
            else:
                dev = float("nan")
            ratio = min(best["default"]) / min(best["legacy"])
            label = f"{case['name']} {b}" if b else case["name"]
            if case["args"][0] == "chunk":
                first = {s: min(r[s]["first_call_s"] for r in rounds) for s in SETTINGS}
                label += f" (first call incl. compile: {first['legacy']:.1f} s / {first['default']:.1f} s)"
            lines.append(
                f"| {label} | {_spread(best['legacy'])} ms | {_spread(best['default'])} ms | {ratio:.2f} | {dev:.1e} |"
            )
    return "\n".join(mem + [""] + lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "xla_emitters.json"))
    parser.add_argument("--report", metavar="JSON", help="print the tables of a results file")
    args = parser.parse_args(argv)
    if args.report:
        print(render(json.loads(Path(args.report).read_text())))
        return 0
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    t_start = time.perf_counter()
    data: dict = {
        "command": " ".join(sys.argv),
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": brief_environment(ROOT, ["jax", "jaxlib", "flax", "numpy"]),
        "cases": [],
    }
    for name, child_args in CASES:
        rounds = [{s: run_child(child_args, s) for s in SETTINGS} for _ in range(args.rounds)]
        data["cases"].append({"name": name, "args": child_args, "rounds": rounds})
        print(f"[xla_emitters] {name} done", file=sys.stderr, flush=True)
        Path(args.out).write_text(json.dumps(data, indent=1))
    data["environment"]["loadavg_at_end"] = loadavg()
    data["total_s"] = time.perf_counter() - t_start
    Path(args.out).write_text(json.dumps(data, indent=1))
    print(render(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
