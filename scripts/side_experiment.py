"""Side experiments of docs/results.md: runs made with ``crlqas search`` outside the grid, summarised
like the grid's seeds and compared with the grid's rows of the same problem at equal evaluations.

    python scripts/side_experiment.py collect NAME GRID_NAME DIR ... [--time-limit S]
    python scripts/side_experiment.py table NAME

``collect`` writes ``benchmarks/results/side_<NAME>.json``: the run's configuration, and per run
directory (one seed each) the grid's seed row (:func:`results_grid._seed_row`: success, first
accurate episode, lowest-error record, learning curve, best circuit's QASM, ...); a seed is finished
once its training time reached ``--time-limit``. ``table`` prints, from that file and
``benchmarks/results/grid.json`` alone, each seed's lowest error beside the grid configuration
``GRID_NAME``'s methods (same seed) at the same objective evaluations.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_grid as grid  # noqa: E402

OUT = grid.ROOT / "benchmarks" / "results"


def _file(name: str) -> Path:
    return OUT / f"side_{name}.json"


def cmd_collect(args) -> int:
    from crlqas_kit.results import load_run

    rows, config = [], None
    for d in map(Path, args.dirs):
        run = load_run(d)
        config = run.config.to_dict() if config is None else config
        if run.config.to_dict() != config:
            raise SystemExit(f"{d}: another configuration than the first run directory's")
        for seed in run.seeds:
            rows.append(grid._seed_row(d, run.seconds >= args.time_limit, seed))
    data = {"name": args.name, "grid": args.grid_name, "time_limit": args.time_limit, "config": config, "rows": rows}
    _file(args.name).write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {_file(args.name)} ({len(rows)} seeds)")
    return 0


def table(name: str) -> str:
    """Per seed: this experiment's lowest error, first accurate episode and evaluations, and the grid
    methods' lowest errors on the same seed within those evaluations (mHa; "-" where the grid row has
    no record of its improvements)."""
    data = json.loads(_file(name).read_text())
    entry = next(e for e in json.loads(grid.OUT_JSON.read_text())["entries"] if e["name"] == data["grid"])
    methods = [m for m in ("ddqn", "random", "random-search") if entry["methods"].get(m)]
    head = ["seed", "finished", "evaluations", "lowest error", "first accurate episode", "shortest accurate"]
    head += [f"grid {m} at these evaluations" for m in methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in data["rows"]:
        budget = row["evaluations"]
        cells = [
            str(row["seed"]),
            "yes" if row["finished"] else "no",
            f"{budget:.3g}",
            f"{grid.lowest_error(row) * 1e3:.2f}",
            str(row.get("first_chemically_accurate_episode") or "-"),
            f"{row['best_gates']} / {row['best_cnots']}" if row.get("best_accurate") else "-",
        ]
        for m in methods:
            other = next((r for r in entry["methods"][m] if r["seed"] == row["seed"]), None)
            if other is None or not other.get("improvements"):  # no record of when it got there
                cells.append("-")
                continue
            cells.append(f"{grid.lowest_error(other, within=budget) * 1e3:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("name")
    c.add_argument("grid_name", help="the grid configuration to compare with, e.g. lih-6q_none")
    c.add_argument("dirs", nargs="+")
    c.add_argument("--time-limit", type=float, default=3600.0)
    c.set_defaults(func=cmd_collect)
    t = sub.add_parser("table")
    t.add_argument("name")
    t.set_defaults(func=lambda a: print(table(a.name)) or 0)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
