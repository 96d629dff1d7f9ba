#!/usr/bin/env python3
"""The data behind docs/results.md's "main job" paragraph: ``crlqas demo``'s two runs as JSON.

Usage (from the repository root)::

    .venv/bin/crlqas demo --out runs/demo
    .venv/bin/python scripts/demo_data.py runs/demo --out benchmarks/results/demo_h2_3q.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_runs  # noqa: E402  (write_json: date, machine and versions)

WINDOW = 15


def main(argv: list[str] | None = None) -> int:
    from crlqas_kit.results import learning_stats, load_run

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("demo_dir", help="the directory `crlqas demo --out` wrote")
    parser.add_argument("--out", default="benchmarks/results/demo_h2_3q.json")
    args = parser.parse_args(argv)
    root = Path(args.demo_dir)
    runs = {"ddqn": load_run(root), "random": load_run(root / "random-agent")}
    last = {name: [e for e in res.episodes if e["episode"] > len(res.episodes) - WINDOW] for name, res in runs.items()}
    results_runs.write_json(
        Path(args.out),
        [],
        command=f"crlqas demo --out {root} (seed 0)",
        made=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        seconds={name: res.seconds for name, res in runs.items()},
        episodes={name: len(res.episodes) for name, res in runs.items()},
        evaluations={name: res.evaluations.get(0) for name, res in runs.items()},
        **{f"curves_window_{WINDOW}": {name: learning_stats(res.episodes, WINDOW) for name, res in runs.items()}},
        last_window={
            name: {
                "episodes": [e["episode"] for e in eps][:1] + [e["episode"] for e in eps][-1:],
                "accurate_fraction": sum(e["chemically_accurate"] for e in eps) / max(1, len(eps)),
                "median_gates": sorted(e["gates"] for e in eps)[len(eps) // 2] if eps else None,
                "median_error": sorted(e["error"] for e in eps)[len(eps) // 2] if eps else None,
            }
            for name, eps in last.items()
        },
        best={name: (res.best.get(0) or [None])[0] for name, res in runs.items()},
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
