"""Cold vs warm start with the persistent compilation cache (notebook 00's first widget step).

Run from the repository root::

    PYTHONPATH=. python benchmarks/cold_start.py [--repeats 3]

Each measurement is a fresh interpreter that imports the kit, builds notebook 00's
``CircuitBuilder`` on H2-2q and applies ``ry(0)`` (an environment step: reset, Adam-SPSA,
energy), timing the whole cell from process start. Three settings, each with its own empty
``XDG_CACHE_HOME``: cache off (``CRLQAS_NO_COMPILE_CACHE=1``), cold (empty cache directory) and
warm (the same directory, second and later processes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CELL = """
import json, time
t0 = time.perf_counter()
import crlqas_kit as ck
from crlqas_kit.viz.widgets import CircuitBuilder
t_import = time.perf_counter() - t0
builder = CircuitBuilder(ck.load_problem("H2-2q"))
builder.apply("ry(0)")
print(json.dumps({"import_s": t_import, "first_step_s": time.perf_counter() - t0 - t_import}))
"""


def one(cache: Path, disabled: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CRLQAS_NO_COMPILE_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    env.update(XDG_CACHE_HOME=str(cache), JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    if disabled:
        env["CRLQAS_NO_COMPILE_CACHE"] = "1"
    out = subprocess.run([sys.executable, "-c", CELL], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = {"off": [], "cold": [], "warm": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            rows["off"].append(one(Path(tmp) / "off", disabled=True))
            rows["cold"].append(one(Path(tmp) / "on", disabled=False))
            rows["warm"].append(one(Path(tmp) / "on", disabled=False))
    for name, runs in rows.items():
        steps = [r["first_step_s"] for r in runs]
        imports = [r["import_s"] for r in runs]
        print(
            f"{name:5s} first widget step median {statistics.median(steps):.2f} s "
            f"(min {min(steps):.2f}, max {max(steps):.2f}); import {statistics.median(imports):.2f} s"
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
