"""``python -m crlqas_kit.exercises grade NOTEBOOK...``: run exercise notebooks and print a score table.

Each notebook runs top to bottom in a fresh kernel (nbclient, errors allowed, so one broken cell
costs only its own exercise). Its graded cells are found by their nbgrader metadata (``grade: true``);
a notebook that lost its metadata is graded by the ``check_*`` calls in its code cells instead.

* an autograded (code) cell scores the points of the :class:`~crlqas_kit.exercises._harness.Score`
  it displays; a cell that raised, or showed no score, scores 0;
* a manually graded (markdown) cell is listed as ``manual`` with its points, for the instructor;
  an untouched ``YOUR ANSWER HERE`` is marked ``not answered``.

The table gives one row per exercise and a total per notebook and over all notebooks. ``--json``
writes the same as JSON. Exit status 0, or 2 when a notebook cannot be read or run at all.
Needs the ``test`` extra (nbclient, nbformat, ipykernel).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from ._harness import SCORE_MIME

_CHECK_CALL = re.compile(r"^\s*(check_\w+)\(", re.M)


def _score_outputs(cell) -> list[dict]:
    scores = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if SCORE_MIME in data:
            value = data[SCORE_MIME]
            scores.append(json.loads(value) if isinstance(value, str) else dict(value))
    return scores


def _error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"[:200]
    return None


def grade_cells(nb) -> list[dict]:
    """One row per graded cell of an EXECUTED notebook: id, kind, points, max_points, note."""
    rows = []
    has_metadata = any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb.cells)
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if has_metadata and not meta.get("grade"):
            continue
        if not has_metadata and not (cell.cell_type == "code" and _CHECK_CALL.search(cell.source)):
            continue
        grade_id = meta.get("grade_id") or f"cell {i}"
        kind = cell.get("metadata", {}).get("crlqas", {}).get("kind", "code")
        if cell.cell_type == "markdown":
            answered = bool(cell.source.strip()) and "YOUR ANSWER HERE" not in cell.source
            rows.append({"id": grade_id, "kind": "explain", "auto": False, "points": None,
                         "max_points": float(meta.get("points", 0)),
                         "note": "manual: grade by hand" if answered else "manual: not answered"})  # fmt: skip
            continue
        scores, error = _score_outputs(cell), _error(cell)
        max_points = float(meta["points"]) if "points" in meta else sum(s["max_points"] for s in scores) or None
        if error is not None:
            points, note = 0.0, f"cell raised {error}"
        elif not scores:
            points, note = 0.0, "no score shown (cell not run, or the check call was changed)"
        else:
            points = sum(float(s["points"]) for s in scores)
            note = "; ".join(m for s in scores for m in s["messages"])[:200]
        if max_points is not None:
            points = min(points, max_points)
        rows.append({"id": grade_id, "kind": kind, "auto": True, "points": points,
                     "max_points": max_points or 0.0, "note": note})  # fmt: skip
    return rows


def run(path: Path, timeout: int = 600, kernel_name: str = "python3"):
    """Execute a notebook in a fresh kernel (errors allowed); return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        resources={"metadata": {"path": str(Path(path).resolve().parent)}},
    )
    client.execute()
    return nb


def grade(path: Path, timeout: int = 600) -> dict:
    """Run and grade one notebook: ``{"notebook", "rows", "points", "max_points", "manual_points", "seconds"}``."""
    t0 = time.perf_counter()
    nb = run(path, timeout=timeout)
    rows = grade_cells(nb)
    auto = [r for r in rows if r["auto"]]
    return {
        "notebook": str(path),
        "rows": rows,
        "points": sum(r["points"] for r in auto),
        "max_points": sum(r["max_points"] for r in auto),
        "manual_points": sum(r["max_points"] for r in rows if not r["auto"]),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def format_table(results: list[dict]) -> str:
    lines = []
    for res in results:
        lines.append(f"{res['notebook']}  ({res['seconds']:.0f} s)")
        lines.append(f"  {'exercise':28s} {'kind':8s} {'points':>10s}  note")
        for r in res["rows"]:
            pts = "manual" if r["points"] is None else f"{r['points']:g}"
            lines.append(
                f"  {r['id']:28s} {r['kind']:8s} {pts + ' / ' + format(r['max_points'], 'g'):>10s}  {r['note']}"
            )
        manual = f" (+ {res['manual_points']:g} graded by hand)" if res["manual_points"] else ""
        lines.append(f"  {'total':37s} {res['points']:g} / {res['max_points']:g}{manual}")
        lines.append("")
    if len(results) > 1:
        pts, mx = sum(r["points"] for r in results), sum(r["max_points"] for r in results)
        manual = sum(r["manual_points"] for r in results)
        lines.append(
            f"all notebooks: {pts:g} / {mx:g} automatic points" + (f" (+ {manual:g} by hand)" if manual else "")
        )
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crlqas_kit.exercises", description="Exercise tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="run exercise notebooks and print a score table")
    g.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    g.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    g.add_argument("--json", type=Path, metavar="FILE", help="also write the scores as JSON to FILE")
    args = parser.parse_args(argv)
    try:
        import nbclient  # noqa: F401
    except ImportError:
        print("crlqas_kit.exercises: error: grading needs nbclient (pip install 'crlqas_kit[test]')", file=sys.stderr)
        return 2
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    results, status = [], 0
    for path in args.notebooks:
        if not path.is_file():
            print(f"crlqas_kit.exercises: error: no such notebook: {path}", file=sys.stderr)
            status = 2
            continue
        try:
            results.append(grade(path, timeout=args.timeout))
        except Exception as err:  # an unreadable notebook or a dead kernel: report, go on with the others
            print(f"crlqas_kit.exercises: error: {path}: {type(err).__name__}: {err}", file=sys.stderr)
            status = 2
    if results:
        sys.stdout.write(format_table(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return status
