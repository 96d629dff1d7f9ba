#!/usr/bin/env python3
"""Precompute the CRLQAS runs that ship with the package (``crlqas_kit/data/runs/<name>/``).

Runs the kit itself (:func:`crlqas_kit.search.search`, fast preset, three seeds trained together)
and saves each run directory without its ``checkpoint.npz`` so the package stays small. The
command, the wall time of every run and the package versions are written to
``crlqas_kit/data/runs/README.md``. Notebook 07 reads the runs with
:func:`crlqas_kit.results.load_run`.

Usage (from the repository root; ~10-20 min on 2 CPU cores)::

    .venv/bin/python scripts/precompute_results.py               # all runs
    .venv/bin/python scripts/precompute_results.py --only h2-2q_fast
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from crlqas_kit.problems import load_problem
from crlqas_kit.results import load_run, package_versions
from crlqas_kit.search import search
from crlqas_kit.search_config import preset

OUT = Path(__file__).resolve().parents[1] / "crlqas_kit" / "data" / "runs"
SEEDS = [0, 1, 2]

#: name -> (problem, noise, episodes). Fast preset, three seeds.
RUNS = {
    "h2-2q_fast": ("H2-2q", "none", 100),
    "h2-2q_depolarizing_fast": ("H2-2q", "depolarizing", 100),
    "lih-4q_fast": ("LiH-4q", "none", 150),
}


def run_one(name: str, problem: str, noise: str, episodes: int) -> dict:
    cfg = preset("fast", problem, load_problem(problem).n_qubits, episodes=episodes, noise=noise)
    print(f"[precompute] {name}: {cfg.problem}, noise={cfg.noise}, {episodes} episodes, seeds {SEEDS}", flush=True)
    t0 = time.perf_counter()
    results = search(cfg, seeds=SEEDS)
    wall = time.perf_counter() - t0
    results.checkpoint = None  # keep the package small: no resumable training state
    out = results.save(OUT / name)
    (out / "checkpoint.npz").unlink(missing_ok=True)
    load_run(out)  # the saved directory must read back
    print(results.summary_table(), flush=True)
    print(f"[precompute] {name}: {wall:.0f} s", flush=True)
    return {"name": name, "problem": problem, "noise": noise, "episodes": episodes, "seconds": round(wall, 1)}


def write_readme(rows: list[dict]) -> None:
    versions = package_versions()
    lines = [
        "# Precomputed CRLQAS runs",
        "",
        "Run directories written by `crlqas_kit.results.Results.save` (see `crlqas_kit/results.py`),",
        "without `checkpoint.npz`. Produced from the kit itself by:",
        "",
        "```bash",
        ".venv/bin/python scripts/precompute_results.py",
        "```",
        "",
        "which, for each run below, calls",
        '`search(preset("fast", problem, n_qubits, episodes=E, noise=NOISE), seeds=[0, 1, 2])`',
        "(the same as `crlqas search --problem P --noise NOISE --preset fast --episodes E --seeds 0 1 2 --out DIR`).",
        "Load one with `crlqas_kit.results.load_run(RUNS / name)`, where",
        '`RUNS = pathlib.Path(crlqas_kit.__file__).parent / "data" / "runs"` (notebook 07 does this).',
        "The runs took the wall times below on a shared 2-core machine (CPU, float64).",
        "",
        "| run | problem | noise | episodes / seed | seeds | wall time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| `{r['name']}` | {r['problem']} | {r['noise']} | {r['episodes']} | 0 1 2 | {r['seconds']} |")
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), ""]
    (OUT / "README.md").write_text("\n".join(lines))
    (OUT / "runs.json").write_text(json.dumps(rows, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), help="run only these (default: all)")
    parser.add_argument("--readme-only", action="store_true", help="rewrite README.md from runs.json, run nothing")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    previous = {}
    if (OUT / "runs.json").exists():
        previous = {r["name"]: r for r in json.loads((OUT / "runs.json").read_text())}
    for name in [] if args.readme_only else args.only or list(RUNS):
        previous[name] = run_one(name, *RUNS[name])
    write_readme([previous[n] for n in RUNS if n in previous])
    return 0


if __name__ == "__main__":
    sys.exit(main())
