"""Machine-description helpers shared by the benchmark scripts: background CPU load, peak memory, CPU,
versions, git state, and JSON-printing child processes."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path


class CpuMonitor:
    """CPU seconds used by OTHER processes between ``start`` and ``stop``.

    Measured as the machine-wide busy time of ``/proc/stat`` (idle, iowait and guest time
    excluded: guest time is already counted in user) minus this process's own CPU time
    (``getrusage`` of itself and its waited-for children). ``others_cores`` ~ 0 on a quiet
    machine; 1.0 means one whole core was busy with something else while we were timing.
    """

    def __init__(self) -> None:
        self.hz = os.sysconf("SC_CLK_TCK")

    def _busy(self) -> float | None:
        """Machine-wide non-idle CPU seconds since boot (``/proc/stat``), or None if unreadable."""
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        guest = sum(fields[8:10]) if len(fields) > 9 else 0  # guest time is already in user
        return (sum(fields) - idle - guest) / self.hz

    @staticmethod
    def _own() -> float:
        """User + system CPU seconds of this process and its waited-for children."""
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def start(self) -> None:
        self.t0, self.busy0, self.own0 = time.perf_counter(), self._busy(), self._own()

    def stop(self) -> dict:
        """``wall_s``, ``own_cpu_s``, ``others_cpu_s`` and ``others_cores`` (= others_cpu_s / wall_s)
        since ``start``; an empty dict where ``/proc/stat`` cannot be read."""
        wall, busy, own = time.perf_counter() - self.t0, self._busy(), self._own()
        if busy is None or self.busy0 is None:
            return {}
        others = max(0.0, (busy - self.busy0) - (own - self.own0))
        return {
            "wall_s": round(wall, 3),
            "own_cpu_s": round(own - self.own0, 3),
            "others_cpu_s": round(others, 3),
            "others_cores": round(others / wall, 3) if wall else None,
        }


def wait_for_quiet(max_wait_s: float, threshold: float, need: int = 3) -> float:
    """Sleep until other processes used < ``threshold`` cores (``CpuMonitor.others_cores``) for
    ``need`` consecutive 1-s windows, or ``max_wait_s`` passed; returns the seconds waited (0.0 if
    the load cannot be measured)."""
    t0, quiet = time.perf_counter(), 0
    mon = CpuMonitor()
    while quiet < need and time.perf_counter() - t0 < max_wait_s:
        mon.start()
        time.sleep(1.0)
        load = mon.stop().get("others_cores")
        if load is None:
            return 0.0
        quiet = quiet + 1 if load < threshold else 0
    return time.perf_counter() - t0


def vm_hwm() -> int | None:
    """Peak resident set size of THIS process image so far (``VmHWM`` in ``/proc/self/status``), in
    bytes; unlike ``ru_maxrss`` it is not inherited from the parent across fork/exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def lscpu() -> dict[str, str]:
    """The ``key: value`` lines of ``lscpu`` (CPU model, caches, flags, hypervisor, ...); empty if
    ``lscpu`` is missing or fails."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if v}


def loadavg() -> str | None:
    """The raw contents of ``/proc/loadavg`` (1, 5, 15-minute load averages, runnable/total tasks,
    last pid), or None if unreadable."""
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return None


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Installed distribution version of each package in ``names`` (in that order); None where the
    package is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(root: str | os.PathLike[str]) -> str | None:
    """``git rev-parse HEAD`` of the checkout at ``root`` (an empty string if git reports an error,
    e.g. not a repository); None if git cannot be run at all."""
    try:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        return None
    return proc.stdout.strip()


def git_modified_files(root: str | os.PathLike[str]) -> list[str] | None:
    """Tracked files with uncommitted changes in the checkout at ``root`` (``git status --porcelain
    --untracked-files=no``); None if git cannot be run."""
    try:
        lines = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return None
    return [line[3:] for line in lines if line.strip()]


def cpu_mhz() -> float | None:
    """The nominal clock of the first CPU (``cpu MHz`` in ``/proc/cpuinfo``), or None if unreadable."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1])
    except OSError:
        pass
    return None


def brief_environment(root: str | os.PathLike[str], packages: Iterable[str]) -> dict:
    """The short machine description of the multi-process benchmarks: CPU model, all of ``lscpu``,
    Python, the versions of ``packages``, the commit of ``root`` and the load average now."""
    cpu = lscpu()
    return {
        "cpu": cpu.get("Model name"),
        "lscpu": cpu,
        "python": platform.python_version(),
        "versions": package_versions(packages),
        "git_commit": git_commit(root),
        "loadavg_at_start": loadavg(),
    }


def run_json_child(cmd: list[str], root: str | os.PathLike[str], **extra_env: str) -> tuple[dict, float]:
    """Run ``cmd`` with ``root`` first on ``PYTHONPATH`` (and ``extra_env`` set); returns the JSON
    object on its last line of output and the wall seconds it took. A failing child raises
    ``subprocess.CalledProcessError``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    env.update(extra_env)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), time.perf_counter() - t0
