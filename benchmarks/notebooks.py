"""Wall time and kernel peak memory of every notebook, in full mode (what Binder users run) and fast mode.

Run from the repository root (needs the notebooks and test extras: nbclient, ipykernel)::

    PYTHONPATH=. python benchmarks/notebooks.py                      # both modes, the 9 main notebooks
    PYTHONPATH=. python benchmarks/notebooks.py --mode fast          # fast mode only (~2 minutes)
    PYTHONPATH=. python benchmarks/notebooks.py --mode full --only 06_dqn_agent --timeout 1200
    python benchmarks/notebooks.py --report benchmarks/results/notebooks.json   # the markdown table

Each notebook runs top to bottom in a fresh kernel (nbclient, this interpreter's ``python3`` kernel,
working directory ``notebooks/``, ``PYTHONPATH`` = the repository). **Modes:** ``fast`` sets
``CI=true``, ``full`` removes ``CI`` (``crlqas_kit.notebook_mode()``). **Time** is the wall time from
kernel start to the last cell. **Peak memory** is the kernel process's peak resident set size,
``VmHWM`` of ``/proc/<kernel pid>/status``, polled every 0.25 s from here and read once more by a cell
appended to an in-memory copy of the notebook (the larger is kept), so a run that times out still has
its peak so far. The JupyterLab server's own memory (~100-150 MB) is not included. **Compilation
cache:** ``--cache cold`` (default) gives each run the kit's persistent compilation cache in a fresh
empty ``XDG_CACHE_HOME``, like a new Binder session; ``warm`` runs the notebook once to fill the
cache and measures the second run; ``off`` sets ``CRLQAS_NO_COMPILE_CACHE=1`` (what the test suite
does). **Timeout:** ``--timeout`` seconds per notebook (default 1200); on expiry the kernel is killed
and the run is recorded as ``timeout`` with its elapsed time and peak so far. Every run also records
the load average before it and the CPU that other processes used meanwhile (``others_cores``).

Results are merged into ``--out`` (default ``benchmarks/results/notebooks.json``) per mode and
notebook, so runs of single notebooks add up. The budget asserted here is the issue's: <= 700 MB peak
per notebook in fast mode (``--check`` exits 1 when a fast-mode run is above it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import CpuMonitor, brief_environment, loadavg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "benchmarks" / "results" / "notebooks.json"
FAST_BUDGET_MB = 700
MODES = ("fast", "full")
PEAK_CELL = """\
import crlqas_kit as _ck
_p = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print("CRLQAS_PEAK_RSS_BYTES", _p, "CRLQAS_MODE", _ck.notebook_mode())"""


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class KernelWatch(threading.Thread):
    """Polls the kernel's VmHWM and kills the kernel when the notebook's time is up."""

    def __init__(self, client, timeout: float) -> None:
        super().__init__(daemon=True)
        self.client, self.timeout = client, timeout
        self.peak, self.timed_out, self.pid = 0, False, None
        self.done = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.done.wait(0.25):
            km = getattr(self.client, "km", None)
            prov = getattr(km, "provisioner", None) if km is not None else None
            pid = getattr(prov, "pid", None)
            if pid:
                self.pid = pid
                self.peak = max(self.peak, _vm_hwm(pid) or 0)
            if time.monotonic() - t0 > self.timeout and self.pid and not self.timed_out:
                self.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, 9)


def _kernel_env(mode: str, cache: str, cache_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CRLQAS_NO_COMPILE_CACHE")}
    env.update(JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(cache_home))
    if mode == "fast":
        env["CI"] = "true"
    if cache == "off":
        env["CRLQAS_NO_COMPILE_CACHE"] = "1"
    return env


def run_notebook(path: Path, mode: str, *, timeout: float, cache_home: Path, cache: str) -> dict:
    """Execute ``path`` once; return status, seconds, peak_rss_mb (and the error, if any)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(
        nb, timeout=int(timeout) + 60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    watch = KernelWatch(client, timeout)
    monitor, load_before = CpuMonitor(), loadavg()
    status, error = "ok", None
    monitor.start()
    watch.start()
    t0 = time.perf_counter()
    try:
        client.execute(env=_kernel_env(mode, cache, cache_home))
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as err:
        status = "timeout" if watch.timed_out else "error"
        error = str(err)[-1500:]
    seconds = time.perf_counter() - t0
    watch.done.set()
    watch.join(2)
    load = monitor.stop()
    text = "\n".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
    )
    m = re.search(r"CRLQAS_PEAK_RSS_BYTES (\d+) CRLQAS_MODE (\w+)", text)
    peak = max(watch.peak, int(m.group(1)) if m else 0)
    if m and m.group(2) != mode:
        raise RuntimeError(f"{path.name} ran in {m.group(2)} mode, not {mode}")
    row = {
        "status": status,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak / 2**20) if peak else None,
        "cache": cache,
        "timeout_s": timeout,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_before": load_before,
        "others_cores": load.get("others_cores"),
    }
    if error:
        row["error"] = error
    return row


def measure(path: Path, mode: str, *, timeout: float, cache: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="crlqas-nb-cache-") as tmp:
        if cache == "warm":
            first = run_notebook(path, mode, timeout=timeout, cache_home=Path(tmp), cache="warm")
            if first["status"] != "ok":
                return first
        return run_notebook(path, mode, timeout=timeout, cache_home=Path(tmp), cache=cache)


def _load(out: Path) -> dict:
    if out.exists():
        return json.loads(out.read_text())
    return {"runs": {}}


def run_key(mode: str, cache: str) -> str:
    """Where a run goes in the results: ``fast``/``full`` (cold cache), else ``fast, warm cache`` etc."""
    return mode if cache == "cold" else f"{mode}, {cache} cache"


def report(data: dict) -> str:
    runs = data.get("runs", {})
    keys = sorted(runs, key=lambda k: (k.split(",")[0] != "fast", k))
    names = sorted({n for key in keys for n in runs[key]})
    head = " | ".join(f"{k}: time | {k}: peak" for k in keys)
    lines = [f"| notebook | {head} |", "|---|" + "---|---|" * len(keys)]

    def cell(row: dict | None) -> tuple[str, str]:
        if not row:
            return "not run", ""
        t = f"{row['seconds']:.0f} s" if row["seconds"] >= 10 else f"{row['seconds']:.1f} s"
        if row["status"] == "timeout":
            t = f"timeout ({row['timeout_s'] / 60:.0f} min)"
        elif row["status"] != "ok":
            t += f" ({row['status']})"
        peak = row.get("peak_rss_mb")
        return t, "" if peak is None else f"{peak} MB" + (" (so far)" if row["status"] == "timeout" else "")

    for name in names:
        cells = [" | ".join(cell(runs[k].get(name))) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    parser.add_argument("--only", nargs="*", default=None, help="notebook stems, e.g. 06_dqn_agent")
    parser.add_argument("--exercises", action="store_true", help="also the exercise notebooks (and solutions)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per notebook (default 20 min)")
    parser.add_argument("--cache", choices=("cold", "warm", "off"), default="cold")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report", type=Path, default=None, help="print the table of a results file and exit")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a fast run peaks over {FAST_BUDGET_MB} MB")
    args = parser.parse_args(argv)

    if args.report:
        print(report(json.loads(args.report.read_text())))
        return 0
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.exercises:
        paths += sorted((NOTEBOOKS / "exercises").glob("ex*.ipynb"))
        paths += sorted((ROOT / "instructor" / "solutions").glob("ex*.ipynb"))  # outside the Binder tree
    if args.only is not None:
        paths = [p for p in paths if p.stem in args.only or str(p.relative_to(ROOT)) in args.only]
        if not paths:
            parser.error(f"no notebook matches {args.only}")
    modes = MODES if args.mode == "both" else (args.mode,)

    data = _load(args.out)
    data["machine"] = brief_environment(ROOT, ["jax", "jaxlib", "flax", "numpy", "ipykernel", "nbclient"])
    data["budget"] = {"fast_peak_mb": FAST_BUDGET_MB}
    over = []
    for mode in modes:
        for path in paths:
            name = str(path.relative_to(NOTEBOOKS if path.is_relative_to(NOTEBOOKS) else ROOT).with_suffix(""))
            row = measure(path, mode, timeout=args.timeout, cache=args.cache)
            data.setdefault("runs", {}).setdefault(run_key(mode, args.cache), {})[name] = row
            flag = ""
            if mode == "fast" and (row["peak_rss_mb"] or 0) > FAST_BUDGET_MB:
                over.append(name)
                flag = f"  OVER {FAST_BUDGET_MB} MB"
            print(
                f"{mode:4s} {name:34s} {row['status']:7s} {row['seconds']:8.1f} s  "
                f"{row['peak_rss_mb'] or '?':>5} MB  (others {row['others_cores']} cores){flag}",
                flush=True,
            )
            if row["status"] == "error":
                print(row["error"], file=sys.stderr)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")  # after every run
    print(report(data))
    if args.check and over:
        print(f"over {FAST_BUDGET_MB} MB in fast mode: {over}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
