#!/usr/bin/env python3
"""Precompute the CRLQAS runs that ship with the package (``crlqas_kit/data/runs/<name>/``).

Runs the kit itself (:func:`crlqas_kit.search.search`, fast preset, three seeds trained together)
and saves each run directory without its ``checkpoint.npz`` so the package stays small. The
command, the wall time of every run and the package versions are written to
``crlqas_kit/data/runs/README.md``. Notebook 07 reads the runs with
:func:`crlqas_kit.results.load_run`; ``h2-3q_fast`` and ``h2-3q_random_fast`` are the DDQN and the
random agent (``agent="random"``: uniform legal actions, no learning) on the same configuration,
which notebook 07 compares on one figure.

Usage (from the repository root; ~10-20 min on 2 CPU cores)::

    .venv/bin/python scripts/precompute_results.py               # all runs
    .venv/bin/python scripts/precompute_results.py --only h2-2q_fast
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import subprocess
import sys
import time
from pathlib import Path

from crlqas_kit.problems import load_problem
from crlqas_kit.results import load_run, package_versions
from crlqas_kit.search import search
from crlqas_kit.search_config import preset

OUT = Path(__file__).resolve().parents[1] / "crlqas_kit" / "data" / "runs"
SEEDS = [0, 1, 2]

#: name -> (problem, noise, episodes, agent). Fast preset, three seeds.
RUNS = {
    "h2-2q_fast": ("H2-2q", "none", 100, "ddqn"),
    "h2-2q_depolarizing_fast": ("H2-2q", "depolarizing", 100, "ddqn"),
    "lih-4q_fast": ("LiH-4q", "none", 150, "ddqn"),
    "h2-3q_fast": ("H2-3q", "none", 200, "ddqn"),
    "h2-3q_random_fast": ("H2-3q", "none", 200, "random"),
}


def run_one(name: str, problem: str, noise: str, episodes: int, agent: str) -> dict:
    cfg = preset("fast", problem, load_problem(problem).n_qubits, episodes=episodes, noise=noise, agent=agent)
    print(
        f"[precompute] {name}: {cfg.problem}, noise={cfg.noise}, agent={agent}, {episodes} episodes, seeds {SEEDS}",
        flush=True,
    )
    t0 = time.perf_counter()
    results = search(cfg, seeds=SEEDS)
    wall = time.perf_counter() - t0
    results.checkpoint = None  # keep the package small: no resumable training state
    out = results.save(OUT / name)
    (out / "checkpoint.npz").unlink(missing_ok=True)
    load_run(out)  # the saved directory must read back
    print(results.summary_table(), flush=True)
    print(f"[precompute] {name}: {wall:.0f} s", flush=True)
    return {
        "name": name,
        "problem": problem,
        "noise": noise,
        "agent": agent,
        "episodes": episodes,
        "seconds": round(wall, 1),
        "made": _dt.date.today().isoformat(),
        "commit": _commit(),
    }


def _commit() -> str:
    """The checkout's commit (``+`` when it has uncommitted changes), or ``?`` outside git."""
    root = OUT.parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "crlqas_kit", ":!crlqas_kit/data"],
            cwd=root,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "?"
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "") if head.returncode == 0 else "?"


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
        '`search(preset("fast", problem, n_qubits, episodes=E, noise=NOISE, agent=AGENT), seeds=[0, 1, 2])`',
        "(the same as `crlqas search --problem P --noise NOISE --preset fast --agent AGENT --episodes E "
        "--seeds 0 1 2 --out DIR`).",
        "The random agent (`agent=random`) picks uniformly among the legal actions in the same environment,",
        "inner optimiser, halting and curriculum, and never learns: notebook 07 compares it with the DDQN.",
        "Load one with `crlqas_kit.results.load_run(RUNS / name)`, where",
        '`RUNS = pathlib.Path(crlqas_kit.__file__).parent / "data" / "runs"` (notebook 07 does this).',
        "The runs took the wall times below on a shared 2-core machine (CPU, float64). A `+` after the",
        "commit: the package had uncommitted changes when the run was made.",
        "",
        "| run | problem | noise | agent | episodes / seed | seeds | wall time (s) | made (code of commit) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        agent = r.get("agent", "ddqn")
        made = f"{r['made']} ({r['commit']})" if "made" in r else "2026-11-25 (d386cbc)"
        lines.append(
            f"| `{r['name']}` | {r['problem']} | {r['noise']} | {agent} | {r['episodes']} | 0 1 2 | {r['seconds']} "
            f"| {made} |"
        )
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
