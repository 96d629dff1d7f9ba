"""scripts/results_grid.py: a grid grows over machines through the committed grid.json.

A machine that runs part of the grid leaves only grid.json behind (checkpoints are not committed).
The next machine must keep the finished rows and baselines of runs it does not have, must not
re-run them, must give the random methods the CRLQAS seed's spent evaluations from the JSON, and
must drop an unfinished row whose run directory is gone (it restarts).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "results_grid.py"


@pytest.fixture()
def grid(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("results_grid_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    previous = tmp_path / "grid.json"
    rows = [
        {"seed": 0, "finished": True, "evaluations": 1234, "success": False, "best_error": 4e-3},
        {"seed": 2, "finished": False, "evaluations": 99, "success": False, "best_error": 7e-3},
    ]
    random_rows = [{"seed": 0, "finished": True, "evaluations": 1234, "success": False, "best_error": 9e-3}]
    entry = {
        "name": "lih-6q_none",
        "methods": {"ddqn": rows, "random": random_rows, "random-search": []},
        "baselines": {"hea": {"1": {"best_error": 0.03}}},
    }
    previous.write_text(json.dumps({"entries": [entry]}))
    monkeypatch.setattr(module, "OUT_JSON", previous)
    return module, tmp_path / "runs"


class _SweepResult:
    """What the grid script reads of a sweep's result."""

    def __init__(self, interrupted: bool = False) -> None:
        self.interrupted = interrupted

    def table(self) -> str:
        return ""


def record_sweeps(monkeypatch, describe, interrupted: bool = False) -> list:
    """Replace the Ray sweep by a recorder of ``describe(grid, out, only)``: these tests check what
    the grid script asks of it (the sweep itself runs on a real Ray head in tests/test_sweep.py)."""
    from crlqas_kit import sweep as sweep_module

    calls = []

    def record(grid, out, num_cpus=None, only=None):
        calls.append(describe(grid, out, only))
        return _SweepResult(interrupted)

    monkeypatch.setattr(sweep_module, "sweep", record)
    return calls


def test_collect_keeps_finished_rows_and_baselines_of_gone_runs(grid):
    module, run_dir = grid
    entries = {e["name"]: e for e in module.collect(run_dir)}
    assert list(entries) == ["lih-6q_none"]  # nothing else ran anywhere
    methods = entries["lih-6q_none"]["methods"]
    assert [r["seed"] for r in methods["ddqn"]] == [0]  # seed 2 was unfinished: gone, not kept
    assert methods["ddqn"][0]["evaluations"] == 1234
    assert [r["seed"] for r in methods["random"]] == [0]
    assert methods["random-search"] == []
    assert entries["lih-6q_none"]["baselines"] == {"hea": {"1": {"best_error": 0.03}}}


def test_finished_elsewhere_is_not_rerun_and_gives_the_budget(grid):
    module, run_dir = grid
    assert module._done_elsewhere(run_dir, "lih-6q_none", "ddqn", 0)
    assert not module._done_elsewhere(run_dir, "lih-6q_none", "ddqn", 1)  # never ran
    assert not module._done_elsewhere(run_dir, "lih-6q_none", "ddqn", 2)  # unfinished: restarts
    assert module._spent(run_dir, "lih-6q_none", 0) == 1234
    assert module._spent(run_dir, "lih-6q_none", 2) is None
    assert module._done_elsewhere(run_dir, "lih-6q_none", "random", 0)
    assert not module._done_elsewhere(run_dir, "lih-6q_none", "random-search", 0)


def test_an_unfinished_local_copy_of_a_finished_seed(grid):
    """This machine holds a started (here: empty) directory of a seed grid.json has finished: the
    seed stays in this machine's sweep (its grid must not shrink), but the table shows the finished
    row and the random methods get its budget."""
    module, run_dir = grid
    path, _ = module._where(run_dir, "lih-6q_none", 0, "ddqn")
    path.mkdir(parents=True)
    assert not module._done_elsewhere(run_dir, "lih-6q_none", "ddqn", 0)
    assert module._spent(run_dir, "lih-6q_none", 0) == 1234
    rows = {e["name"]: e for e in module.collect(run_dir)}["lih-6q_none"]["methods"]["ddqn"]
    assert [(r["seed"], r["finished"], r["evaluations"]) for r in rows] == [(0, True, 1234)]


def test_table_counts_finished_seeds_only():
    spec = importlib.util.spec_from_file_location("results_grid_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = {"success": True, "best_error": 1e-3, "best_accurate": True, "best_gates": 9, "best_cnots": 4,
           "improvements": [{"error": 8e-4}]}  # fmt: skip
    cell = module._method_cell(
        [{**row, "finished": True}, {**row, "finished": False, "improvements": [{"error": 1e-9}]}]
    )
    assert cell == "1/1 (+1 unfinished), 8.0e-04, 9/4"
    # an accurate seed without its record of improvements: its lowest error is unknown, not best_error
    assert module._method_cell([{**row, "finished": True, "improvements": None}]) == "1/1, -, 9/4"


def test_table_quotes_the_lowest_error_and_the_shortest_accurate_circuit_apart():
    """A seed's best circuit is its shortest accurate one (1.5 mHa, 4 CNOTs) while its lowest error
    came from a longer circuit (0.2 mHa, 9 CNOTs): the cell's error is the lowest, its circuit the
    shortest accurate; an inaccurate seed with a lower best_error but no lower episode loses."""
    spec = importlib.util.spec_from_file_location("results_grid_lowest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steps = [{"error": 3e-3, "cnots": 2}, {"error": 2e-4, "cnots": 9}]
    accurate = {"finished": True, "success": True, "best_error": 1.5e-3, "best_accurate": True, "best_gates": 16,
                "best_cnots": 4, "best_depth": 9, "best_rotations": 12, "improvements": steps,
                "evaluations": 10, "seconds": 1.0}  # fmt: skip
    other = {**accurate, "success": False, "best_error": 9e-4, "best_accurate": False, "improvements": None,
             "best_gates": 7, "best_cnots": 2}  # fmt: skip
    assert module.lowest_error(accurate) == 2e-4 and module.lowest_error(other) == 9e-4
    assert module._method_cell([accurate, other]) == "1/2, 2.0e-04, 16/4"
    entry = {"problem": "LiH-4q", "noise": "none", "mitigate_readout": False, "shots": None,
             "methods": {"ddqn": [accurate, other], "random": [], "random-search": []}, "baselines": None}  # fmt: skip
    assert "| CRLQAS (DDQN, fast) | 1/2 | 2.00e-04 | 1.50e-03, 16/4/9/12 | 10 | 1 |" in module.details([entry])
    # two seeds of 10 and 40 evaluations, 1 s and 5 s: the median is the middle, 25 and 3 s (the upper
    # of the two would read 40 and 5)
    entry["methods"]["ddqn"] = [accurate, {**other, "evaluations": 40, "seconds": 5.0}]
    assert "| CRLQAS (DDQN, fast) | 1/2 | 2.00e-04 | 1.50e-03, 16/4/9/12 | 25 | 3 |" in module.details([entry])


def test_table_into_a_document_replaces_only_between_the_markers(grid, tmp_path):
    module, _ = grid
    data = tmp_path / "grid.json"
    row = {"seed": 0, "finished": True, "success": False, "best_error": 4e-3, "best_accurate": False,
           "best_gates": 9, "best_cnots": 4, "best_depth": 5, "best_rotations": 5, "evaluations": 10,
           "seconds": 1.0}  # fmt: skip
    entry = {"name": "x", "problem": "LiH-6q", "noise": "none", "mitigate_readout": False, "shots": None,
             "methods": {"ddqn": [row], "random": [], "random-search": []}, "baselines": None}  # fmt: skip
    data.write_text(json.dumps({"entries": [entry]}))
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{module.BEGIN}\nold table\n{module.END}\nafter\n")
    args = ["table", "--json", str(data), "--into", str(doc)]
    assert module.main(args) == 0
    first = doc.read_text()
    assert first.startswith("before\n") and first.endswith("after\n") and "old table" not in first
    assert "| LiH-6q `none` | 0/1, 4.0e-03, - |" in first
    assert module.main(args) == 0 and doc.read_text() == first  # the same again: idempotent
    doc.write_text("no markers\n")
    with pytest.raises(SystemExit, match="needs one"):
        module.main(args)


def test_seeds_option_picks_some_seeds_and_refuses_others(grid):
    module, _ = grid
    args = module.argparse.Namespace(seeds=[2, 0])
    assert module._seeds(args, "h2o-8q_none") == ([0, 2], {})  # the configuration's order
    assert module._seeds(module.argparse.Namespace(seeds=None), "h2o-8q_none") == ([0, 1, 2], {})
    with pytest.raises(SystemExit, match=r"unknown seed\(s\) \[5\]"):
        module._seeds(module.argparse.Namespace(seeds=[5]), "h2o-8q_none")


def test_seeds_option_keeps_the_seeds_a_sweep_directory_holds(grid, tmp_path):
    """A sweep directory's grid only grows: after ``--seeds 0``, ``--seeds 1``'s sweep must still
    name seed 0 (the sweep refuses a grid that drops a recorded run), and makes seed 1 only."""
    from crlqas_kit.sweep.grid import GRID_FILE, SweepError
    from crlqas_kit.sweep.summary import check_sweep_dir

    module, _ = grid
    held = tmp_path / "sweep"
    held.mkdir()
    (held / GRID_FILE).write_text(json.dumps({"format": 1, "runs": [module.run_spec("lih-4q_none", 0).to_dict()]}))
    now, recorded = module._seeds(module.argparse.Namespace(seeds=[1]), "lih-4q_none", held)
    assert (now, list(recorded)) == ([1], [0]) and recorded[0]["name"] == module.run_spec("lih-4q_none", 0).name
    check_sweep_dir(held, [module.run_spec("lih-4q_none", s) for s in sorted({*now, *recorded})])  # accepted
    with pytest.raises(SweepError, match="holds the sweep of another grid"):
        check_sweep_dir(held, [module.run_spec("lih-4q_none", 1)])  # what seed 1 alone would give


def test_crlqas_step_sweeps_the_recorded_seeds_but_makes_the_picked_ones(grid, tmp_path, monkeypatch):
    """``crlqas --seeds 1`` beside a recorded, unfinished seed 0: the sweep's grid names both, its
    ``only`` seed 1 alone (seed 0 is not resumed behind the user's back)."""
    from crlqas_kit.sweep.grid import GRID_FILE, expand

    module, run_dir = grid
    held = module.config_dir(run_dir, "lih-4q_none", "crlqas")
    held.mkdir(parents=True)
    (held / GRID_FILE).write_text(json.dumps({"format": 1, "runs": [module.run_spec("lih-4q_none", 0).to_dict()]}))
    calls = record_sweeps(monkeypatch, lambda grid, out, only: ([r.name for r in expand(grid)], only, out))
    assert module.main(["crlqas", "--run-dir", str(run_dir), "--only", "lih-4q_none", "--seeds", "1"]) == 0
    names = [module.run_spec("lih-4q_none", s).name for s in (0, 1)]
    assert calls == [(names, [names[1]], held)]


def test_figures_only_where_a_random_method_ran_beside_crlqas(grid, tmp_path):
    module, _ = grid
    row = {"seed": 0, "finished": True, "evaluations": 300, "success": True, "best_error": 1e-3,
           "improvements": [{"evaluations": 10, "error": 5e-2}, {"evaluations": 200, "error": 1e-3}],
           "curve": {"evaluations": [100.0, 300.0], "accurate_rate": [0.0, 0.4]}}  # fmt: skip
    both = {"name": "both", "problem": "LiH-4q", "noise": "none", "mitigate_readout": False, "shots": None,
            "methods": {"ddqn": [row], "random": [{**row, "curve": None}], "random-search": []}}  # fmt: skip
    alone = {**both, "name": "alone", "methods": {"ddqn": [row], "random": [], "random-search": []}}
    unfinished = {**both, "name": "unfinished", "methods": {"ddqn": [row], "random": [{**row, "finished": False}]}}
    data = tmp_path / "grid.json"
    data.write_text(json.dumps({"entries": [both, alone, unfinished]}))
    out = tmp_path / "figs"
    assert module.main(["figures", "--json", str(data), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["grid_both.png"]
    assert (out / "grid_both.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = module.figure(both)
    low, rate = fig.axes
    # one step line per seed with a record: the ddqn's and the random agent's; one curve (ddqn)
    assert len([ln for ln in low.get_lines() if ln.get_label() != "chemical accuracy"]) == 2
    assert len(rate.get_lines()) == 1
    assert list(low.get_lines()[0].get_xdata()) == [10, 200, 300]  # ends at the evaluations spent
    assert [t.get_text() for t in low.get_legend().get_texts()] == [
        "CRLQAS (DDQN) (seed 0)", "random agent (seed 0)", "chemical accuracy"]  # fmt: skip


def test_figure_legend_names_a_method_whose_first_seed_has_no_record(grid):
    """LiH-6q: the DDQN's seeds 0 and 1 predate the record of improvements, seed 2 has one: its line
    is labelled with the seed it shows (the legend used to key on seed 0 and drop the DDQN)."""
    module, _ = grid
    row = {"finished": True, "evaluations": 300, "success": False, "best_error": 5e-3,
           "improvements": [{"evaluations": 10, "error": 5e-2}, {"evaluations": 200, "error": 5e-3}]}  # fmt: skip
    entry = {"name": "lih-6q_none", "problem": "LiH-6q", "noise": "none", "mitigate_readout": False, "shots": None,
             "methods": {"ddqn": [{**row, "seed": 0, "improvements": None}, {**row, "seed": 1, "improvements": []},
                                  {**row, "seed": 2}],
                         "random": [{**row, "seed": 0}, {**row, "seed": 1}], "random-search": []}}  # fmt: skip
    low, _ = module.figure(entry).axes
    labels = [t.get_text() for t in low.get_legend().get_texts()]
    assert labels == ["CRLQAS (DDQN) (seed 2)", "random agent (seeds 0, 1)", "chemical accuracy"]


def test_comparison_counts_seed_by_seed_over_the_seeds_both_finished(grid):
    """Seed 0: DDQN lower than both; seed 1: a tie with the random agent (not lower) and no random
    search; seed 2: the random agent unfinished (not compared); seed 3: no DDQN row."""
    module, _ = grid

    def row(seed, error, success=False, finished=True):
        return {"seed": seed, "finished": finished, "success": success, "best_error": error,
                "best_accurate": success, "improvements": [{"error": error, "evaluations": 50}],
                "evaluations": 100}  # fmt: skip

    entry = {"problem": "LiH-4q", "noise": "none", "mitigate_readout": False, "shots": None,
             "methods": {"ddqn": [row(0, 1e-3, True), row(1, 3e-3), row(2, 2e-3)],
                         "random": [row(0, 5e-3), row(1, 3e-3), row(2, 9e-3, finished=False), row(3, 1e-4, True)],
                         "random-search": [row(0, 4e-3, True)]}}  # fmt: skip
    text = module.comparison([entry])
    assert "| LiH-4q `none` | 0, 1 | 1 vs 0 of 2 | 1/2 (1 tied) | 1 vs 1 of 1 | 1/1 |" in text
    # a random run that spent fewer evaluations than the DDQN seed is not an equal-budget control
    entry["methods"]["random"][0]["evaluations"] = 10
    text = module.comparison([entry])
    assert "| 0, 1 | 0 vs 0 of 1 (1 short of the budget, left out) | 0/1 (1 tied) |" in text
    # errors 1e-12 Ha apart (the same optimum found twice) are a tie, 2e-6 Ha apart are not
    entry["methods"]["random"][0]["evaluations"] = 100
    entry["methods"]["random"][0]["improvements"] = [{"error": 1e-3 - 1e-12, "evaluations": 50}]
    assert "| 0, 1 | 1 vs 0 of 2 | 0/2 (2 tied) |" in module.comparison([entry])
    entry["methods"]["random"][0]["improvements"] = [{"error": 1e-3 + 2e-8, "evaluations": 50}]
    assert "| 0, 1 | 1 vs 0 of 2 | 1/2 (1 tied) |" in module.comparison([entry])
    # an improvement after the DDQN seed's 100 evaluations (a random run overruns by a chunk) does not count
    entry["methods"]["random"][0]["improvements"] += [{"error": 1e-4, "evaluations": 101}]
    assert "| 0, 1 | 1 vs 0 of 2 | 1/2 (1 tied) |" in module.comparison([entry])
    # a seed whose lowest error is unknown (accurate, without its record) is not compared
    entry["methods"]["random"][0].update(improvements=None, best_accurate=True)
    assert "| 0, 1 | 1 vs 0 of 2 | 0/1 (1 tied, 1 unknown) |" in module.comparison([entry])
    assert module.comparison([{**entry, "methods": {"ddqn": [row(0, 1e-3)], "random": [], "random-search": []}}]) == ""


def test_random_step_keeps_a_recorded_seed_whose_crlqas_budget_is_gone(tmp_path, monkeypatch, capsys):
    """The random sweep directory records seed 1 (budget 555) but grid.json no longer has its CRLQAS
    row: ``random --seeds 0`` still names seed 1 in the sweep's grid with its recorded budget (the
    directory's grid must not shrink), makes seed 0 only, and does not call seed 1 skipped."""
    from crlqas_kit.sweep.grid import GRID_FILE, expand

    spec = importlib.util.spec_from_file_location("results_grid_random", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    done = {"finished": True, "success": False, "best_error": 5e-3}
    entry = {"name": "lih-6q_none", "methods": {"ddqn": [{**done, "seed": 0, "evaluations": 1234}], "random": [],
             "random-search": [{**done, "seed": 0, "evaluations": 1234}]}}  # fmt: skip
    previous = tmp_path / "grid.json"
    previous.write_text(json.dumps({"entries": [entry]}))
    monkeypatch.setattr(module, "OUT_JSON", previous)
    run_dir = tmp_path / "runs"
    held = module.config_dir(run_dir, "lih-6q_none", "random")
    held.mkdir(parents=True)
    old = module.run_spec("lih-6q_none", 1, "random", **module._random_settings("lih-6q_none", 555))
    (held / GRID_FILE).write_text(json.dumps({"format": 1, "runs": [old.to_dict()]}))
    calls = record_sweeps(
        monkeypatch, lambda grid, out, only: ({r.name: r.max_evaluations for r in expand(grid)}, only)
    )
    assert module.main(["random", "--run-dir", str(run_dir), "--only", "lih-6q_none", "--seeds", "0"]) == 0
    new = module.run_spec("lih-6q_none", 0, "random", **module._random_settings("lih-6q_none", 1234))
    assert calls == [({new.name: 1234, old.name: 555}, [new.name])]
    assert "skipped" not in capsys.readouterr().err


def test_missing_lists_unfinished_crlqas_seeds_and_absent_controls(grid):
    """LiH-6q: CRLQAS seed 0 finished (3600 s) with its random agent (1800 s: 0.5x), seed 1
    finished without controls, seed 2 unfinished: seed 2's hour is counted, seed 1's controls and
    seed 0's random search are listed; a complete configuration is not mentioned."""
    module, _ = grid
    done = {"finished": True, "success": False, "best_error": 5e-3}
    lih6 = {"name": "lih-6q_none", "methods": {
        "ddqn": [{**done, "seed": 0, "seconds": 3600.0}, {**done, "seed": 1, "seconds": 3600.0},
                 {**done, "seed": 2, "finished": False, "seconds": 10.0}],
        "random": [{**done, "seed": 0, "seconds": 1800.0}], "random-search": []}}  # fmt: skip
    full = {s: [{**done, "seed": k, "seconds": 60.0} for k in (0, 1, 2)] for s in ("ddqn", "random", "random-search")}
    text = module.missing([lih6, {"name": "h2-2q_none", "methods": full}])
    assert "- `lih-6q_none`: CRLQAS seed 2 (60 min); random agent seed 1; random search seeds 0, 1\n" in text
    assert "`h2-2q_none`" not in text and "taken 0.5-1.0x a CRLQAS seed's wall time" in text
    assert "- `h2-4q_none`: CRLQAS seeds 0, 1, 2 (10 min each)\n" in text
    # every other configuration lacks all three CRLQAS seeds: their hours add up
    others = sum(3 * c["time_limit"] for n, c in module.CONFIGS.items() if n not in ("lih-6q_none", "h2-2q_none"))
    assert f"Not run yet: {(others + 3600) / 3600:.1f} core-hours" in text


def test_missing_without_crlqas_seeds_to_run_names_only_the_controls(grid):
    """Every CRLQAS seed finished, some controls not: the head does not offer "0.0 core-hours of
    CRLQAS seeds" (it did on 2026-12-07), it names the random methods alone."""
    module, _ = grid
    done = {"finished": True, "success": False, "best_error": 5e-3, "seconds": 60.0}
    entries = [{"name": name, "methods": {"ddqn": [{**done, "seed": s} for s in config["seeds"]],
                                          "random": [], "random-search": []}}
               for name, config in module.CONFIGS.items()]  # fmt: skip
    text = module.missing(entries)
    assert text.startswith("Not run yet: the random agents and random searches at equal evaluations:\n\n")
    assert "core-hours" not in text
    assert "- `lih-6q_none`: random agent seeds 0, 1, 2; random search seeds 0, 1, 2\n" in text


def test_an_interrupted_sweep_stops_the_step(grid, monkeypatch):
    """Ctrl-C / SIGTERM stops the random agent's sweep: the step returns 130 and starts no random
    search (it used to go on to them, found when a sweep was stopped on 2026-12-06)."""
    module, run_dir = grid
    record_sweeps(monkeypatch, lambda grid, out, only: None, interrupted=True)
    started = []
    monkeypatch.setattr(module, "_run_child", lambda cmd: started.append(cmd) or 0)
    # lih-6q_none seed 0: CRLQAS finished in grid.json, random agent done there, random search not
    assert module.main(["random", "--run-dir", str(run_dir), "--only", "lih-6q_none", "--seeds", "0"]) == 0
    assert len(started) == 1  # no sweep to make: straight to the random search
    started.clear()
    monkeypatch.setattr(module, "_done_elsewhere", lambda *a: False)  # now the random agent must run too
    assert module.main(["random", "--run-dir", str(run_dir), "--only", "lih-6q_none", "--seeds", "0"]) == 130
    assert started == []
    assert module.main(["crlqas", "--run-dir", str(run_dir), "--only", "lih-6q_none", "lih-4q_none"]) == 130


CHILD = """
import signal, sys, time
from pathlib import Path
log = Path(sys.argv[1])
got = []
def handle(signum, frame):
    got.append(signal.Signals(signum).name)
signal.signal(signal.SIGINT, handle)
signal.signal(signal.SIGTERM, handle)
log.with_suffix(".ready").write_text("ready")
deadline = time.monotonic() + 30
while not got and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)  # "saving": a duplicate signal would arrive meanwhile
log.write_text(" ".join(got))
sys.exit(130 if got else 3)
"""


@pytest.mark.parametrize(
    "how", ["SIGTERM to the driver", "SIGINT to the driver", "Ctrl-C at the terminal (the driver's process group)"]
)
def test_a_signal_to_the_random_step_reaches_its_search_once_and_is_waited_for(tmp_path, how):
    """`kill` of the driver used to leave its random-search subprocess running as an orphan (found
    on 2026-12-06). A real driver process and a real child: the child gets exactly one signal, the
    driver waits for it to finish "saving" and returns its exit code (130)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    child, log = tmp_path / "child.py", tmp_path / "child.log"
    child.write_text(CHILD)
    driver = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('grid', {str(SCRIPT)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"sys.exit(m._run_child([sys.executable, {str(child)!r}, {str(log)!r}]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", driver], process_group=0)
    deadline = time.monotonic() + 60
    while not log.with_suffix(".ready").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the child never started"
        time.sleep(0.02)
    if how.startswith("SIGTERM"):
        os.kill(proc.pid, signal.SIGTERM)
    elif how.startswith("SIGINT"):
        os.kill(proc.pid, signal.SIGINT)
    else:
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
    assert proc.wait(timeout=60) == 130
    assert log.read_text() == ("SIGTERM" if how.startswith("SIGTERM") else "SIGINT")


def test_random_search_gets_the_budget_and_four_times_the_crlqas_time(grid, monkeypatch):
    """Random search spends its evaluations up to 3.4x slower than the DDQN on small noisy problems; at
    the random agent's 2x safety stop it stopped short of the equal budget (H2-2q ``depolarizing``,
    2026-12-07). lih-6q_none: 1 hour per CRLQAS seed (issue 17), 1234 evaluations in grid.json."""
    module, run_dir = grid
    started = []
    monkeypatch.setattr(module, "_run_child", lambda cmd: started.append(cmd) or 0)
    assert module.main(["random", "--run-dir", str(run_dir), "--only", "lih-6q_none", "--seeds", "0"]) == 0
    (cmd,) = started
    assert cmd[cmd.index("--max-evaluations") + 1] == "1234"
    assert float(cmd[cmd.index("--time-limit") + 1]) == 4 * 3600
