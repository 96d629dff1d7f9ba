"""Sweeps on one 2-core machine: 4 LiH-4q runs one after another vs ``crlqas sweep`` (issue 16).

Run from the repository root, with the ``scale`` extra installed::

    .venv/bin/python benchmarks/sweep.py --out benchmarks/results/sweep.json
    .venv/bin/python benchmarks/sweep.py --report benchmarks/results/sweep.json

Workload: 4 runs of equal length, LiH-4q, ``fast`` preset, noise ``none``, seeds 0-3, a fixed
episode count (``--episodes``; ``auto``: chosen from a warm-up run so that one run takes about
``--target-seconds`` of training alone). Both arms save every 30 s and use the same persistent
compilation cache (``XDG_CACHE_HOME`` in the work directory), warmed by the warm-up run before
either arm starts, so neither pays a first compile the other does not.

* **sequential**: ``crlqas search --problem LiH-4q --noise none --preset fast --episodes N
  --seeds S --out DIR`` for S = 0..3, one process after another.
* **sweep**: ``crlqas sweep --problem LiH-4q --noise none --preset fast --episodes N --seeds 0 1 2 3
  --num-cpus 2 --out DIR``: a local Ray instance with 2 CPUs, one task (process) per run, two at a
  time.

Measured: the wall time of each arm (process start to exit), the ratio sweep / sequential
(target <= 0.55, i.e. >= 1.8x), each run's wall time, and Ray's overhead per task: from the task's
submission to its first episode event (the first-wave tasks: worker start, Ray's runtime
environment, importing the kit, loading the compiled chunk; recorded in ``sweep_tasks/``) and the
local instance's start (``ray.init``), against a plain ``crlqas search`` process from its start to
its first episode (the first progress line on stderr that counts an episode: the progress and the
episode events are both emitted at the end of the chunk that finishes the episode). The runs of
the two arms are also compared: the sweep's episodes must equal the sequential runs' (minus the
wall-clock ``seconds``). Background load (CPU used by other processes) is recorded per arm.

CPU rule: the machine is shared; ``--max-load`` (default 0.8) waits (up to ``--max-wait`` seconds)
until the 1-minute load average is below it before the measurement starts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from _machine import CpuMonitor, brief_environment, loadavg  # noqa: E402

PROBLEM, NOISE, SEEDS = "LiH-4q", "none", (0, 1, 2, 3)
BIN = Path(sys.executable).parent
PROGRESS = re.compile(r"\] (\d+)/(\d+) episodes")


def _stream(proc: subprocess.Popen, first: dict) -> None:
    """Read the child's stderr; stamp the first progress line that counts an episode."""
    buf = ""
    while chunk := proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(4096):
        buf = (buf + chunk.decode(errors="replace"))[-4096:]
        if "t" not in first:
            m = [int(k) for k, _ in PROGRESS.findall(buf)]
            if m and max(m) >= 1:
                first["t"] = time.time()
    first["tail"] = buf[-2000:]


def search(out: Path, seed: int, episodes: int, env: dict) -> dict:
    """One ``crlqas search`` process: wall time and process start -> first episode."""
    cmd = [str(BIN / "crlqas"), "search", "--problem", PROBLEM, "--noise", NOISE, "--preset", "fast"]
    cmd += ["--episodes", str(episodes), "--seeds", str(seed), "--save-every", "30", "--out", str(out)]
    first: dict = {}
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    reader = threading.Thread(target=_stream, args=(proc, first))
    reader.start()
    proc.wait()
    reader.join()
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"crlqas search failed ({proc.returncode}): {first.get('tail')}")
    cfg = json.loads((out / "config.json").read_text())
    return {
        "seed": seed,
        "wall_s": round(wall, 2),
        "start_to_first_episode_s": round(first["t"] - t0, 2) if "t" in first else None,
        "training_s": round(cfg["seconds"], 2),
        "episodes": cfg["summary"][0]["episodes"],
    }


def episodes_of(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in (path / "episodes.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def wait_for_load(max_load: float, max_wait: float) -> dict:
    t0 = time.time()
    while True:
        one = float(loadavg().split()[0])
        if one < max_load or time.time() - t0 > max_wait:
            return {"waited_s": round(time.time() - t0), "loadavg": loadavg(), "below": one < max_load}
        print(f"[sweep bench] load average {one:.2f} >= {max_load}: waiting", file=sys.stderr, flush=True)
        time.sleep(30)


def measure(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sweepbench-", dir=args.workdir))
    env = {k: v for k, v in os.environ.items() if k not in ("CRLQAS_NO_COMPILE_CACHE", "RAY_ADDRESS")}
    env.update(XDG_CACHE_HOME=str(work / "cache"), PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    waited = wait_for_load(args.max_load, args.max_wait)
    print(f"[sweep bench] load: {waited}", file=sys.stderr, flush=True)
    machine = brief_environment(ROOT, ["crlqas_kit", "jax", "jaxlib", "flax", "ray"])
    started = _dt.datetime.now(_dt.UTC)

    # warm-up: fills the compilation cache; its rate chooses the episode count
    warm = search(work / "warmup", 99, args.warmup_episodes, env)
    rate = warm["episodes"] / max(warm["training_s"], 1e-9)
    episodes = int(args.episodes) if args.episodes != "auto" else max(50, int(round(rate * args.target_seconds, -1)))
    print(f"[sweep bench] warm-up {warm}; {episodes} episodes per run", file=sys.stderr, flush=True)

    mon = CpuMonitor()
    mon.start()
    t0 = time.time()
    sequential = []
    for seed in SEEDS:
        sequential.append(search(work / "seq" / f"seed{seed}", seed, episodes, env))
        print(f"[sweep bench] sequential {sequential[-1]}", file=sys.stderr, flush=True)
    seq_wall = time.time() - t0
    seq_load = mon.stop()

    out = work / "sweep"
    cmd = [str(BIN / "crlqas"), "sweep", "--problem", PROBLEM, "--noise", NOISE, "--preset", "fast"]
    cmd += ["--episodes", str(episodes), "--seeds", *map(str, SEEDS), "--num-cpus", "2", "--out", str(out), "--quiet"]
    mon.start()
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    sweep_wall = time.time() - t0
    sweep_load = mon.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"crlqas sweep failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = json.loads((out / "sweep_summary.json").read_text())
    runs = []
    for seed in SEEDS:
        name = f"{PROBLEM}_{NOISE}_fast_seed{seed}"
        r = summary["runs"][name]
        cfg = json.loads((out / name / "config.json").read_text())
        runs.append(
            {
                "seed": seed,
                "submit_to_start_s": round(r["started"] - r["submitted"], 2),
                "submit_to_first_episode_s": round(r["first_episode"] - r["submitted"], 2),
                "start_to_first_episode_s": round(r["first_episode"] - r["started"], 2),
                "driver_start_to_first_episode_s": round(r["first_episode"] - t0, 2),
                "task_wall_s": round(r["finished"] - r["started"], 2),
                "training_s": round(cfg["seconds"], 2),
                "episodes": cfg["summary"][0]["episodes"],
                "equal_to_sequential": episodes_of(out / name) == episodes_of(work / "seq" / f"seed{seed}"),
            }
        )
    first_wave = sorted(runs, key=lambda r: r["submit_to_start_s"])[:2]
    plain_first = statistics.median(r["start_to_first_episode_s"] for r in sequential)
    ratio = sweep_wall / seq_wall
    result = {
        "benchmark": "sweep",
        "date": started.strftime("%Y-%m-%d"),
        "utc": f"{started.strftime('%H:%M')}-{_dt.datetime.now(_dt.UTC).strftime('%H:%M')}",
        "machine": machine,
        "load_wait": waited,
        "workload": {"problem": PROBLEM, "noise": NOISE, "preset": "fast", "seeds": list(SEEDS), "episodes": episodes},
        "warmup": warm,
        "sequential": {"wall_s": round(seq_wall, 2), "runs": sequential, "background": seq_load},
        "sweep": {
            "wall_s": round(sweep_wall, 2),
            "ray_init_s": round(summary["timings"]["ray_init_seconds"], 2),
            "runs": runs,
            "background": sweep_load,
        },
        "ratio_sweep_over_sequential": round(ratio, 3),
        "speedup": round(1 / ratio, 3),
        "target_ratio": 0.55,
        "target_met": ratio <= 0.55,
        "overhead": {
            "plain_search_start_to_first_episode_s": plain_first,
            "sweep_first_wave_submit_to_first_episode_s": [r["submit_to_first_episode_s"] for r in first_wave],
            "sweep_reused_worker_start_to_first_episode_s": [
                r["start_to_first_episode_s"] for r in runs if r not in first_wave
            ],
            "ray_overhead_per_task_s": round(
                statistics.median(r["submit_to_first_episode_s"] for r in first_wave) - plain_first, 2
            ),
        },
        "all_runs_equal": all(r["equal_to_sequential"] for r in runs),
        "loadavg_at_end": loadavg(),
    }
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(data: dict) -> str:
    seq, sw, ov = data["sequential"], data["sweep"], data["overhead"]
    walls = [r["wall_s"] for r in seq["runs"]]
    lines = [
        f"{data['date']} {data['utc']} UTC, {data['machine']['cpu']}, load average at start "
        f"{data['load_wait']['loadavg']}; {data['workload']['episodes']} episodes per run",
        "",
        "| arm | wall (s) | per run (s) | background load (cores) |",
        "|---|---|---|---|",
        f"| sequential, 4 x crlqas search | {seq['wall_s']:.0f} | {min(walls):.0f}-{max(walls):.0f} "
        f"| {seq['background'].get('others_cores')} |",
        f"| crlqas sweep, local Ray, 2 CPUs | {sw['wall_s']:.0f} | "
        f"{min(r['task_wall_s'] for r in sw['runs']):.0f}-{max(r['task_wall_s'] for r in sw['runs']):.0f} "
        f"| {sw['background'].get('others_cores')} |",
        "",
        f"ratio sweep / sequential: **{data['ratio_sweep_over_sequential']:.3f}** ({data['speedup']:.2f}x; target "
        f"<= 0.55: {'met' if data['target_met'] else 'MISSED'}); runs equal to the sequential ones: "
        f"{data['all_runs_equal']}",
        f"start to first episode: plain crlqas search {ov['plain_search_start_to_first_episode_s']:.1f} s; sweep "
        f"task (first wave) {ov['sweep_first_wave_submit_to_first_episode_s']} s from submission, reused worker "
        f"{ov['sweep_reused_worker_start_to_first_episode_s']} s from start; ray.init {sw['ray_init_s']:.1f} s; "
        f"Ray's overhead per task {ov['ray_overhead_per_task_s']:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sweep.json"))
    parser.add_argument("--report", metavar="JSON", help="print the tables of a results file and exit")
    parser.add_argument("--episodes", default="auto", help="episodes per run, or auto (default)")
    parser.add_argument("--target-seconds", type=float, default=80.0, help="auto: training seconds per run")
    parser.add_argument("--warmup-episodes", type=int, default=30)
    parser.add_argument("--max-load", type=float, default=0.8, help="wait for a 1-minute load average below this")
    parser.add_argument("--max-wait", type=float, default=2400.0, help="seconds to wait for it at most")
    parser.add_argument("--workdir", default=None, help="where the runs go (a temporary directory, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return 0
    data = measure(args)
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    print(report(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
