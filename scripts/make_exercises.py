#!/usr/bin/env python3
"""Generate the exercise notebooks from their sources.

``instructor/source/exNN_*.txt`` hold each exercise notebook as a list of cells. A line
``%% KIND [id=GRADE_ID] [points=N]`` starts a cell; KIND is

* ``markdown`` / ``code`` -- instructions and setup (read-only for the student);
* ``solution id=...``  -- a code cell the student completes; the answer sits between marker lines
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (nbgrader's markers);
* ``tests id=...``     -- a code cell that calls one ``check_*`` function (autograded; its points are
  the checker's ``points``, so the notebook and the checker cannot disagree);
* ``manual id=... points=N`` -- a markdown answer graded by hand; the model answer sits between the
  markers.

From each source two notebooks are written, both with nbgrader cell metadata (schema 3:
``grade_id``, ``points``, ``grade``, ``solution``, ``locked``):

* ``instructor/solutions/exNN_*.ipynb`` -- the solutions in place (an nbgrader *source* notebook);
* ``notebooks/exercises/exNN_*.ipynb`` -- the student version: in a code cell each marked block
  becomes ``# YOUR CODE HERE`` plus ``raise NotImplementedError`` inside a function, or
  ``name = ...`` for the last name a top-level block assigns (its answer) (so the untouched notebook runs top to
  bottom and every check scores 0 with a hint); a manual answer becomes ``YOUR ANSWER HERE``.
  Locked cells are also ``editable: false, deletable: false`` for JupyterLab.

Outputs are deterministic (same input, same bytes), so ``--check`` tells whether the committed
notebooks are up to date.

Usage::

    python scripts/make_exercises.py            # write instructor/solutions/ and notebooks/exercises/
    python scripts/make_exercises.py --check    # exit 1 if a committed notebook is stale
    python scripts/make_exercises.py --summary  # the exercises, their kinds and points
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "instructor" / "source"
SOLUTIONS = ROOT / "instructor" / "solutions"
EXERCISES = ROOT / "notebooks" / "exercises"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
TEXT_STUB = "YOUR ANSWER HERE"
SCHEMA_VERSION = 3  # nbgrader 0.6-0.9 (0.9.6, the latest release, validates schema 3 exactly)
KINDS = {"markdown", "code", "solution", "tests", "manual"}
_MARKER = re.compile(r"^(\s*)(### (BEGIN|END) SOLUTION)\s*$")
_HEADER = re.compile(r"^%% (\w+)((?: \w+=\S+)*)\s*$")
_CHECK_CALL = re.compile(r"\b(check_\w+)\(")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class MarkerError(ValueError):
    """Unbalanced or nested solution markers, or a malformed source."""


def _stub_for(block: list[str], indent: str, where: str) -> list[str]:
    """The student's stub for one solution block (lines without the markers)."""
    if indent:
        return [indent + s for s in STUB]
    try:
        tree = ast.parse(textwrap.dedent("\n".join(block)))
    except SyntaxError as err:
        raise MarkerError(f"{where}: the solution block does not parse ({err})") from None
    names: list[str] = []
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for t in targets:
            if isinstance(t, ast.Name) and t.id not in names:
                names.append(t.id)
    if not names:
        return list(STUB)
    return ["# YOUR CODE HERE", f"{names[-1]} = ..."]  # the answer is the block's last assignment


def strip_solution(source: str, where: str = "cell") -> str:
    """Replace every marked solution block in a code cell by its stub, keeping its indentation."""
    out: list[str] = []
    inside: str | None = None
    block: list[str] = []
    for lineno, line in enumerate(source.split("\n"), 1):
        m = _MARKER.match(line)
        if m is None:
            if inside is None:
                out.append(line)
            else:
                block.append(line)
            continue
        indent, kind = m.group(1), m.group(3)
        if kind == "BEGIN":
            if inside is not None:
                raise MarkerError(f"{where}, line {lineno}: {BEGIN} inside another solution block")
            inside, block = indent, []
        else:
            if inside is None:
                raise MarkerError(f"{where}, line {lineno}: {END} without a {BEGIN}")
            out.extend(_stub_for(block, inside, where))
            inside = None
    if inside is not None:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def strip_text_solution(source: str, where: str = "cell") -> str:
    """A manual (markdown) answer: each marked block becomes ``YOUR ANSWER HERE``."""
    out, inside = [], False
    for line in source.split("\n"):
        m = _MARKER.match(line)
        if m is None:
            if not inside:
                out.append(line)
        elif m.group(3) == "BEGIN":
            if inside:
                raise MarkerError(f"{where}: {BEGIN} inside another solution block")
            inside = True
            out.append(TEXT_STUB)
        else:
            if not inside:
                raise MarkerError(f"{where}: {END} without a {BEGIN}")
            inside = False
    if inside:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def parse_source(text: str, name: str) -> list[dict]:
    """``[{"kind", "id", "points", "source"}, ...]`` from a ``.txt`` source."""
    cells: list[dict] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.startswith("%%"):
            m = _HEADER.match(line)
            if m is None or m.group(1) not in KINDS:
                raise MarkerError(
                    f"{name}, line {lineno}: bad cell header {line!r} (kinds: {', '.join(sorted(KINDS))})"
                )
            opts = dict(kv.split("=", 1) for kv in m.group(2).split())
            unknown = set(opts) - {"id", "points"}
            if unknown:
                raise MarkerError(f"{name}, line {lineno}: unknown option(s) {', '.join(sorted(unknown))}")
            cells.append({"kind": m.group(1), "id": opts.get("id"), "points": opts.get("points"), "lines": []})
        elif cells:
            cells[-1]["lines"].append(line)
        elif line.strip():
            raise MarkerError(f"{name}, line {lineno}: text before the first %% header")
    for cell in cells:
        cell["source"] = "\n".join(cell.pop("lines")).strip("\n")
        where = f"{name} cell {cell['id'] or cells.index(cell)}"
        graded = cell["kind"] in ("solution", "tests", "manual")
        if graded and not cell["id"]:
            raise MarkerError(f"{where}: a {cell['kind']} cell needs id=")
        if cell["kind"] == "manual" and cell["points"] is None:
            raise MarkerError(f"{where}: a manual cell needs points=")
        has_marker = BEGIN in cell["source"] or END in cell["source"]
        if cell["kind"] in ("solution", "manual") and BEGIN not in cell["source"]:
            raise MarkerError(f"{where}: a {cell['kind']} cell needs a {BEGIN} block")
        if cell["kind"] not in ("solution", "manual") and has_marker:
            raise MarkerError(f"{where}: solution markers belong in solution or manual cells")
    ids = [c["id"] for c in cells if c["id"]]
    if len(ids) != len(set(ids)):
        raise MarkerError(f"{name}: repeated cell ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return cells


def _checkers():
    sys.path.insert(0, str(ROOT))
    from crlqas_kit import exercises

    return {c.__name__: c for group in exercises.EXERCISES.values() for c in group}


def _nbgrader(cell: dict, index: int, checkers: dict) -> tuple[dict, dict | None]:
    """(nbgrader metadata, crlqas metadata) of one parsed cell."""
    kind = cell["kind"]
    meta = {"grade": False, "locked": True, "schema_version": SCHEMA_VERSION, "solution": False}
    meta["grade_id"] = cell["id"] or f"readonly-{index:02d}"
    extra = None
    if kind == "solution":
        meta.update(locked=False, solution=True)
    elif kind == "tests":
        called = _CHECK_CALL.findall(cell["source"])
        if len(called) != 1 or called[0] not in checkers:
            raise MarkerError(f"tests cell {cell['id']}: call exactly one known check_* function, found {called}")
        chk = checkers[called[0]]
        meta.update(grade=True, points=chk.points)
        extra = {"checker": chk.__name__, "kind": chk.kind}
    elif kind == "manual":
        meta.update(grade=True, solution=True, locked=False, points=float(cell["points"]))
        extra = {"kind": "explain"}
    return meta, extra


def build(text: str, name: str, checkers: dict | None = None) -> tuple[dict, dict]:
    """(solution notebook, student notebook) as JSON dicts from one source."""
    checkers = _checkers() if checkers is None else checkers
    cells = parse_source(text, name)
    sol_cells, stu_cells = [], []
    for i, cell in enumerate(cells):
        nbg, extra = _nbgrader(cell, i, checkers)
        cell_type = "markdown" if cell["kind"] in ("markdown", "manual") else "code"
        metadata = {"nbgrader": nbg}
        if extra:
            metadata["crlqas"] = extra
        base = {"cell_type": cell_type, "id": nbg["grade_id"], "metadata": metadata, "source": cell["source"]}
        if cell_type == "code":
            base.update(execution_count=None, outputs=[])
        sol_cells.append(copy.deepcopy(base))
        student = copy.deepcopy(base)
        where = f"{name} cell {nbg['grade_id']}"
        if cell["kind"] == "solution":
            student["source"] = strip_solution(cell["source"], where)
        elif cell["kind"] == "manual":
            student["source"] = strip_text_solution(cell["source"], where)
        if nbg["locked"]:
            student["metadata"].update(deletable=False, editable=False)
        stu_cells.append(student)
    stem = name.removesuffix(".txt")
    first = cells[0] if cells else None
    if first is None or first["kind"] != "markdown" or "**Goal:**" not in first["source"]:
        raise MarkerError(f"{name}: the first cell must be markdown with the notebook's **Goal:**")
    metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    solution = {"cells": sol_cells, "metadata": copy.deepcopy(metadata), "nbformat": 4, "nbformat_minor": 5}
    solution["metadata"]["crlqas_exercise"] = {
        "role": "solution",
        "generated_from": f"instructor/source/{name}",
        "generator": "scripts/make_exercises.py (edit the source, then re-run it)",
    }
    student_nb = {"cells": stu_cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    student_nb["metadata"]["crlqas_exercise"] = {
        "role": "student",
        "solutions": f"instructor/solutions/{stem}.ipynb",
        "generator": "scripts/make_exercises.py (edit instructor/source/, then re-run it)",
    }
    return solution, student_nb


def render(nb: dict) -> str:
    """Deterministic JSON text in nbformat's layout (sources as lists of lines, indent 1, sorted keys)."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        src = cell["source"]
        cell["source"] = ("".join(src) if isinstance(src, list) else src).splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(sources: Path = SOURCES) -> dict[str, tuple[str, str]]:
    """``{notebook file name: (solution text, student text)}`` for every source."""
    paths = sorted(sources.glob("ex*.txt"))
    if not paths:
        raise FileNotFoundError(f"no exercise sources (ex*.txt) in {sources}")
    checkers = _checkers()
    out = {}
    for path in paths:
        solution, student = build(path.read_text(encoding="utf-8"), path.name, checkers)
        out[path.stem + ".ipynb"] = (render(solution), render(student))
    return out


def summary(sources: Path = SOURCES) -> list[dict]:
    """One row per graded exercise: notebook, grade id, kind, points."""
    checkers = _checkers()
    rows = []
    for path in sorted(sources.glob("ex*.txt")):
        for i, cell in enumerate(parse_source(path.read_text(encoding="utf-8"), path.name)):
            nbg, extra = _nbgrader(cell, i, checkers)
            if nbg["grade"]:
                rows.append({"notebook": path.stem, "grade_id": nbg["grade_id"], "kind": extra["kind"],
                             "points": nbg["points"], "checker": extra.get("checker")})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=SOURCES, help=f"folder of the sources (default {SOURCES})")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="output folder of the solution notebooks")
    parser.add_argument("--out", type=Path, default=EXERCISES, help="output folder of the student notebooks")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    parser.add_argument("--summary", action="store_true", help="print the exercises, kinds and points")
    args = parser.parse_args(argv)
    try:
        if args.summary:
            rows = summary(args.sources)
            for r in rows:
                print(f"{r['notebook']:22s} {r['grade_id']:24s} {r['kind']:8s} {r['points']:g}")
            n_pred = sum(r["kind"] in ("predict", "explain") for r in rows)
            print(f"{len(rows)} exercises, {n_pred} derive/predict/explain ({n_pred / len(rows):.0%})")
            return 0
        notebooks = generate(args.sources)
    except (MarkerError, FileNotFoundError) as err:
        print(f"make_exercises: error: {err}", file=sys.stderr)
        return 2
    targets = {}
    for name, (solution, student) in notebooks.items():
        targets[args.solutions / name] = solution
        targets[args.out / name] = student
    if args.check:
        stale = [p for p, text in targets.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
        extra = [p for d in (args.solutions, args.out) for p in sorted(d.glob("ex*.ipynb")) if p not in targets]
        for p in stale:
            print(f"stale or missing: {p}", file=sys.stderr)
        for p in extra:
            print(f"no source for: {p}", file=sys.stderr)
        if stale or extra:
            print("run `python scripts/make_exercises.py` to regenerate the exercise notebooks", file=sys.stderr)
        return 1 if stale or extra else 0
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
