#!/usr/bin/env python3
"""Generate the student exercise notebooks from the solution notebooks.

``notebooks/exercises/solutions/exNN_*.ipynb`` hold the solutions between marker lines::

    ### BEGIN SOLUTION
    ...the answer...
    ### END SOLUTION

In ``notebooks/exercises/exNN_*.ipynb`` each such block (markers included) becomes, at the marker's
indentation::

    # YOUR CODE HERE
    raise NotImplementedError

Outputs, execution counts and widget state are dropped; the output is deterministic (same input,
same bytes), so ``--check`` can tell whether the committed student notebooks are up to date.

Usage::

    python scripts/make_exercises.py                 # write notebooks/exercises/*.ipynb
    python scripts/make_exercises.py --out DIR       # write them somewhere else
    python scripts/make_exercises.py --check         # exit 1 if the committed ones are stale
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "exercises" / "solutions"
EXERCISES = ROOT / "notebooks" / "exercises"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
_MARKER = re.compile(r"^(\s*)(### (BEGIN|END) SOLUTION)\s*$")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def strip_solution(source: str, where: str = "cell") -> str:
    """Replace every marked solution block in ``source`` by the stub, keeping its indentation."""
    out: list[str] = []
    inside: str | None = None
    for lineno, line in enumerate(source.split("\n"), 1):
        m = _MARKER.match(line)
        if m is None:
            if inside is None:
                out.append(line)
            continue
        indent, kind = m.group(1), m.group(3)
        if kind == "BEGIN":
            if inside is not None:
                raise MarkerError(f"{where}, line {lineno}: {BEGIN} inside another solution block")
            inside = indent
            out.extend(indent + s for s in STUB)
        else:
            if inside is None:
                raise MarkerError(f"{where}, line {lineno}: {END} without a {BEGIN}")
            inside = None
    if inside is not None:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def student_notebook(solution: dict, name: str) -> dict:
    """The student version of a solution notebook (a JSON dict), stripped of outputs."""
    nb = copy.deepcopy(solution)
    n_blocks = 0
    for i, cell in enumerate(nb.get("cells", [])):
        src = _source(cell)
        n_blocks += src.count(BEGIN)
        if cell.get("cell_type") == "code":
            cell["source"] = strip_solution(src, f"{name} cell {i}")
            cell["outputs"] = []
            cell["execution_count"] = None
        elif BEGIN in src or END in src:
            raise MarkerError(f"{name} cell {i}: solution markers are only allowed in code cells")
        else:
            cell["source"] = src
        cell.get("metadata", {}).pop("execution", None)
    if n_blocks == 0:
        raise MarkerError(f"{name}: no {BEGIN} block found; is this a solution notebook?")
    metadata = nb.setdefault("metadata", {})
    metadata.pop("widgets", None)
    metadata["crlqas_exercise"] = {
        "generated_from": f"solutions/{name}",
        "generator": "scripts/make_exercises.py (edit the solution notebook, then re-run it)",
    }
    return nb


def render(nb: dict) -> str:
    """Deterministic JSON text in nbformat's layout (sources as lists of lines, indent 1, sorted keys)."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        cell["source"] = _source(cell).splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """``{file name: notebook text}`` for every solution notebook."""
    out = {}
    paths = sorted(solutions.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no solution notebooks in {solutions}")
    for path in paths:
        solution = json.loads(path.read_text(encoding="utf-8"))
        out[path.name] = render(student_notebook(solution, path.name))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=EXERCISES, help=f"output folder (default {EXERCISES})")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="folder of the solution notebooks")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing; exit 1 if stale")
    args = parser.parse_args(argv)
    try:
        notebooks = generate(args.solutions)
    except (MarkerError, FileNotFoundError, json.JSONDecodeError) as err:
        print(f"make_exercises: error: {err}", file=sys.stderr)
        return 2
    if args.check:
        stale = [
            n
            for n, text in notebooks.items()
            if not (args.out / n).is_file() or (args.out / n).read_text(encoding="utf-8") != text
        ]
        for n in stale:
            print(f"stale or missing: {args.out / n}", file=sys.stderr)
        if stale:
            print("run `python scripts/make_exercises.py` to regenerate the student notebooks", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in notebooks.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
