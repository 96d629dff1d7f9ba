"""Sweeps on one 2-core machine: 4 LiH-4q runs one after another vs ``crlqas sweep`` (issue 16).

Run from the repository root, with the ``scale`` extra installed::

    .venv/bin/python benchmarks/sweep.py --out benchmarks/results/sweep.json
    .venv/bin/python benchmarks/sweep.py --report benchmarks/results/sweep.json

Workload: 4 runs of equal length, LiH-4q, ``fast`` preset, noise ``none``, seeds 0-3, a fixed
episode count (``--episodes``, default 1300: 60-100 s of training for each of these seeds on this
machine; ``auto``: from a warm-up run's rate, for about ``--target-seconds`` of training). All
runs save every 30 s and use the same persistent compilation cache (``XDG_CACHE_HOME`` in the
work directory), warmed by a warm-up run before any arm starts, so none pays a first compile the
others do not.

* **sequential**: ``crlqas search --problem LiH-4q --noise none --preset fast --episodes N
  --seeds S --out DIR`` for S = 0..3, one process after another.
* **sweep**: ``crlqas sweep --problem LiH-4q --noise none --preset fast --episodes N --seeds 0 1 2 3
  --num-cpus 2 --out DIR``: a local Ray instance with 2 CPUs, one task (process) per run, two at a
  time.
* **sweep, pinned**: the same with ``--pin-cpus`` (each worker on a core of its own).
* **one core**: seed 0 alone under ``taskset -c 0``: what a run loses without the second core,
  the limit of two runs side by side on two cores.

Measured: the wall time of each arm (process start to exit), the ratio sweep / sequential
(target <= 0.55, i.e. >= 1.8x), each run's wall and training time, and Ray's overhead per task:
from the task's submission to its first episode event (the first-wave tasks: worker start, Ray's
runtime environment, importing the kit, loading the compiled chunk; recorded in
``sweep_tasks/``) and the local instance's start (``ray.init``), against a plain ``crlqas
search`` process from its start to its first episode (the first progress line on stderr that
counts an episode: the progress and the episode events are both emitted at the end of the chunk
that finishes the episode). Every run is compared with its sequential twin: the episodes must be
equal (minus the wall-clock ``seconds``). Background load (CPU used by other processes; Ray's
own processes, sampled from ``/proc``, are not counted as background) is recorded per arm.

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


def search(out: Path, seed: int, episodes: int, env: dict, taskset: str | None = None) -> dict:
    """One ``crlqas search`` process: wall time and process start -> first episode."""
    cmd = [str(BIN / "crlqas"), "search", "--problem", PROBLEM, "--noise", NOISE, "--preset", "fast"]
    cmd = (["taskset", "-c", taskset] if taskset else []) + cmd
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
        "taskset": taskset,
        "wall_s": round(wall, 2),
        "start_to_first_episode_s": round(first["t"] - t0, 2) if "t" in first else None,
        "training_s": round(cfg["seconds"], 2),
        "episodes": cfg["summary"][0]["episodes"],
    }


class TreeCpu:
    """CPU seconds used by the descendants of a process (Ray's processes under ``crlqas sweep``),
    sampled from ``/proc`` every 0.2 s while it runs: they are not waited-for children of this
    process, so :class:`CpuMonitor` would count them as other processes' load."""

    def __init__(self, root: int) -> None:
        self.root, self.seen, self.stop = root, {}, threading.Event()
        self.hz = os.sysconf("SC_CLK_TCK")
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        parents, stats = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry)] = int(fields[1])
            stats[int(entry)] = (fields[19], int(fields[11]) + int(fields[12]))  # start time, utime + stime
        for pid, (start, ticks) in stats.items():
            p, depth = pid, 0
            while p in parents and p != self.root and depth < 50:
                p, depth = parents[p], depth + 1
            if p == self.root and pid != self.root:
                self.seen[(pid, start)] = max(self.seen.get((pid, start), 0), ticks)

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return sum(self.seen.values()) / self.hz


def sweep_arm(work: Path, tag: str, episodes: int, env: dict, extra: list[str]) -> dict:
    """``crlqas sweep`` of the 4 runs on a local Ray with 2 CPUs: wall time and per-task timings."""
    out = work / tag
    cmd = [str(BIN / "crlqas"), "sweep", "--problem", PROBLEM, "--noise", NOISE, "--preset", "fast"]
    cmd += ["--episodes", str(episodes), "--seeds", *map(str, SEEDS), "--num-cpus", "2", "--out", str(out), "--quiet"]
    mon = CpuMonitor()
    mon.start()
    t0 = time.time()
    proc = subprocess.Popen([*cmd, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    tree = TreeCpu(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.time() - t0
    ray_cpu = tree.finish()
    load = mon.stop()
    if load:
        load["ray_processes_cpu_s"] = round(ray_cpu, 3)
        load["others_cpu_s"] = round(max(0.0, load["others_cpu_s"] - ray_cpu), 3)
        load["others_cores"] = round(load["others_cpu_s"] / wall, 3)
    if proc.returncode != 0:
        raise RuntimeError(f"crlqas sweep failed ({proc.returncode}): {stderr[-2000:]}")
    summary = json.loads((out / "sweep_summary.json").read_text())
    runs = []
    for seed in SEEDS:
        name = f"{PROBLEM}_{NOISE}_fast_seed{seed}"
        r = summary["runs"][name]
        cfg = json.loads((out / name / "config.json").read_text())
        attempt = json.loads((out / "sweep_tasks" / f"{name}.json").read_text())["attempts"][-1]
        runs.append(
            {
                "seed": seed,
                "cpus": attempt.get("cpus"),
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
    return {
        "command": " ".join(["crlqas", *cmd[1:], *extra]).replace(str(work) + "/", ""),
        "wall_s": round(wall, 2),
        "ray_init_s": round(summary["timings"]["ray_init_seconds"], 2),
        "runs": runs,
        "first_wave_submit_to_first_episode_s": [r["submit_to_first_episode_s"] for r in first_wave],
        "reused_worker_start_to_first_episode_s": [r["start_to_first_episode_s"] for r in runs if r not in first_wave],
        "background": load,
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
    if not waited["below"]:
        raise SystemExit(f"[sweep bench] the machine stayed busy for {args.max_wait:.0f} s: not measured")
    machine = brief_environment(ROOT, ["crlqas_kit", "jax", "jaxlib", "flax", "ray"])
    started = _dt.datetime.now(_dt.UTC)

    # warm-up: fills the compilation cache; its episode rate (after the first chunk) sizes the runs
    warm = search(work / "warmup", 99, args.warmup_episodes, env)
    times = [json.loads(line)["seconds"] for line in (work / "warmup" / "episodes.jsonl").read_text().splitlines()]
    rate = (len(times) - 10) / max(times[-1] - times[9], 1e-9)
    auto = args.episodes == "auto"
    episodes = max(50, int(round(rate * args.target_seconds, -2))) if auto else int(args.episodes)
    warm["episodes_per_s_after_10"] = round(rate, 2)
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

    arms = {"sweep": sweep_arm(work, "sweep", episodes, env, [])}
    print(f"[sweep bench] sweep {arms['sweep']['wall_s']} s", file=sys.stderr, flush=True)
    arms["sweep_pinned"] = sweep_arm(work, "sweep-pinned", episodes, env, ["--pin-cpus"])
    print(f"[sweep bench] sweep --pin-cpus {arms['sweep_pinned']['wall_s']} s", file=sys.stderr, flush=True)
    # one run on one core: what a run loses without the second core (the limit of 2 runs on 2 cores)
    # the kit's device count as in the other arms (it would follow the one core: another compile)
    one_core = search(work / "one-core", SEEDS[0], episodes, {**env, "CRLQAS_CPU_DEVICES": "2"}, taskset="0")
    one_core["equal_to_sequential"] = episodes_of(work / "one-core") == episodes_of(work / "seq" / f"seed{SEEDS[0]}")
    print(f"[sweep bench] one core {one_core}", file=sys.stderr, flush=True)

    plain_first = statistics.median(r["start_to_first_episode_s"] for r in sequential)
    for arm in arms.values():
        arm["ratio_to_sequential"] = round(arm["wall_s"] / seq_wall, 3)
        arm["speedup"] = round(seq_wall / arm["wall_s"], 3)
        arm["target_met"] = arm["wall_s"] / seq_wall <= 0.55
        arm["all_runs_equal"] = all(r["equal_to_sequential"] for r in arm["runs"])
        arm["ray_overhead_per_task_s"] = round(
            statistics.median(arm["first_wave_submit_to_first_episode_s"]) - plain_first, 2
        )
        arm["training_s_vs_sequential"] = [
            round(r["training_s"] / s["training_s"], 3) for r, s in zip(arm["runs"], sequential, strict=True)
        ]
    result = {
        "benchmark": "sweep",
        "date": started.strftime("%Y-%m-%d"),
        "utc": f"{started.strftime('%H:%M')}-{_dt.datetime.now(_dt.UTC).strftime('%H:%M')}",
        "machine": machine,
        "load_wait": waited,
        "workload": {"problem": PROBLEM, "noise": NOISE, "preset": "fast", "seeds": list(SEEDS), "episodes": episodes},
        "warmup": warm,
        "sequential": {
            "wall_s": round(seq_wall, 2),
            "runs": sequential,
            "background": seq_load,
            "cores_used_per_run": round(seq_load.get("own_cpu_s", 0) / seq_wall, 3) if seq_load else None,
            "plain_search_start_to_first_episode_s": plain_first,
        },
        **arms,
        "one_core": one_core,
        "one_core_training_s_vs_sequential": round(one_core["training_s"] / sequential[0]["training_s"], 3),
        "target_ratio": 0.55,
        "loadavg_at_end": loadavg(),
    }
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(data: dict) -> str:
    seq = data["sequential"]
    walls = [r["wall_s"] for r in seq["runs"]]
    lines = [
        f"{data['date']} {data['utc']} UTC, {data['machine']['cpu']}, load average at start "
        f"{data['load_wait']['loadavg']}; {data['workload']['episodes']} episodes per run",
        "",
        "| arm | wall (s) | ratio to sequential | per run (s) | training time vs alone | background load (cores) |",
        "|---|---|---|---|---|---|",
        f"| sequential, 4 x crlqas search | {seq['wall_s']:.0f} | 1 | {min(walls):.0f}-{max(walls):.0f} | 1 "
        f"| {seq['background'].get('others_cores')} |",
    ]
    for key, label in (("sweep", "crlqas sweep, 2 CPUs"), ("sweep_pinned", "crlqas sweep --pin-cpus, 2 CPUs")):
        arm = data[key]
        per = [r["task_wall_s"] for r in arm["runs"]]
        vs = arm["training_s_vs_sequential"]
        lines.append(
            f"| {label} | {arm['wall_s']:.0f} | **{arm['ratio_to_sequential']:.3f}** "
            f"({'met' if arm['target_met'] else 'MISSED'}) | {min(per):.0f}-{max(per):.0f} "
            f"| {min(vs):.2f}-{max(vs):.2f} | {arm['background'].get('others_cores')} |"
        )
    sw = data["sweep"]
    lines += [
        "",
        f"runs equal to the sequential ones: {data['sweep']['all_runs_equal']} (pinned: "
        f"{data['sweep_pinned']['all_runs_equal']}; one core: {data['one_core']['equal_to_sequential']}); "
        f"one run alone uses {seq['cores_used_per_run']} cores on average; on one core (taskset) its training takes "
        f"{data['one_core_training_s_vs_sequential']:.2f}x",
        f"start to first episode: plain crlqas search {seq['plain_search_start_to_first_episode_s']:.1f} s; sweep "
        f"task (first wave) {sw['first_wave_submit_to_first_episode_s']} s from submission, reused worker "
        f"{sw['reused_worker_start_to_first_episode_s']} s from start; ray.init {sw['ray_init_s']:.1f} s; "
        f"Ray's overhead per task {sw['ray_overhead_per_task_s']:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sweep.json"))
    parser.add_argument("--report", metavar="JSON", help="print the tables of a results file and exit")
    parser.add_argument(
        "--episodes",
        default="1300",
        help="episodes per run (default 1300: 60-100 s of training per seed here), or auto (from the warm-up's rate)",
    )
    parser.add_argument("--target-seconds", type=float, default=90.0, help="auto: training seconds per run")
    parser.add_argument("--warmup-episodes", type=int, default=150)
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
