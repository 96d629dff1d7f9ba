"""scripts/side_experiment.py: a side run's seeds beside the grid's rows at equal evaluations."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_compares_at_the_side_runs_evaluations(tmp_path, monkeypatch):
    """Seed 0 spent 1000 evaluations: the grid's random agent had 9 mHa by then (its 2 mHa came at
    5000), the DDQN row has no record ("-"); seed 1 has no grid row ("-")."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    side = _module("side_experiment")
    grid = sys.modules["results_grid"]
    steps = lambda *pairs: [{"evaluations": e, "error": err} for e, err in pairs]  # noqa: E731
    entry = {
        "name": "lih-6q_none",
        "methods": {
            "ddqn": [{"seed": 0, "best_error": 5e-3, "best_accurate": False, "improvements": []}],
            "random": [{"seed": 0, "improvements": steps((100, 30e-3), (900, 9e-3), (5000, 2e-3))}],
            "random-search": [],
        },
    }
    (tmp_path / "grid.json").write_text(json.dumps({"entries": [entry]}))
    monkeypatch.setattr(grid, "OUT_JSON", tmp_path / "grid.json")
    monkeypatch.setattr(side, "OUT", tmp_path)
    rows = [
        {"seed": 0, "finished": True, "evaluations": 1000, "improvements": steps((10, 40e-3), (800, 1.5e-3)),
         "first_chemically_accurate_episode": 7, "best_accurate": True, "best_gates": 30, "best_cnots": 12},
        {"seed": 1, "finished": False, "evaluations": 2000, "improvements": steps((10, 8e-3)), "best_accurate": False},
    ]  # fmt: skip
    (tmp_path / "side_x.json").write_text(json.dumps({"name": "x", "grid": "lih-6q_none", "rows": rows}))
    lines = side.table("x").splitlines()
    assert lines[0].split(" | ")[-2:] == ["grid ddqn at these evaluations", "grid random at these evaluations |"]
    assert lines[2] == "| 0 | yes | 1e+03 | 1.50 | 7 | 30 / 12 | - | 9.00 |"
    assert lines[3] == "| 1 | no | 2e+03 | 8.00 | - | - | - | - |"
