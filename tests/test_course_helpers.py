"""Helpers the notebooks use: the curriculum replayed from a run's log, its figure, and ck.versions()."""

from __future__ import annotations

import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import crlqas_kit as ck  # noqa: E402
from crlqas_kit.results import curriculum_trace, load_run  # noqa: E402
from crlqas_kit.rl import curriculum  # noqa: E402
from crlqas_kit.viz import curriculum_curve  # noqa: E402

RUNS = Path(ck.__file__).parent / "data" / "runs"


def test_trace_follows_the_rule_by_hand():
    """delta = 0.4, K = 2 (shrink 0.2), N_s = 2, T = 4; E_min = 0."""
    cfg = curriculum.CurriculumConfig(delta=0.4, greedy_period=4, n_successes=2, n_shrinks=2)
    success = [True, True, False, True, True, True, False, False]
    energies = [0.9, 0.7, 0.8, 0.5, 0.6, 0.3, 0.9, 0.9]
    t = curriculum.trace(cfg, success, energies, threshold0=1.0, e_min=0.0)
    # ep 2: second success -> shrink to 0.8; ep 4: greedy reset -> |0 - 0.5| + 0.4 = 0.9;
    # ep 6: two successes -> 0.7; ep 8: reset -> best 0.3 + 0.4 = 0.7
    np.testing.assert_allclose(t["threshold"], [1.0, 1.0, 0.8, 0.8, 0.9, 0.9, 0.7, 0.7])
    np.testing.assert_allclose(t["next_threshold"], [1.0, 0.8, 0.8, 0.9, 0.9, 0.7, 0.7, 0.7])
    assert t["shrink"].tolist() == [False, True, False, False, False, True, False, False]
    assert t["greedy"].tolist() == [False, False, False, True, False, False, False, True]
    assert t["count"].tolist() == [1, 2, 0, 1, 1, 2, 0, 0]
    assert t["successes"].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    np.testing.assert_allclose(t["best_energy"], [0.9, 0.7, 0.7, 0.5, 0.5, 0.3, 0.3, 0.3])
    with pytest.raises(ValueError, match="1-D of one length"):
        curriculum.trace(cfg, success, energies[:-1], 1.0, 0.0)


@pytest.mark.parametrize(("name", "seed"), [("lih-4q_fast", 1), ("h2-3q_fast", 0), ("h2-3q_random_fast", 2)])
def test_shipped_runs_followed_the_rule(name, seed):
    run = load_run(RUNS / name)
    t = curriculum_trace(run, seed)
    n = len(run.episodes_of(seed))
    assert t["threshold"].shape == t["gap"].shape == (n,) and t["episode"][0] == 1
    np.testing.assert_allclose(t["threshold"], t["logged_threshold"], rtol=1e-12)
    assert t["greedy"].sum() == n // run.config.curriculum.greedy_period
    assert t["e_min"] == pytest.approx(run.problem["e0"])


def test_random_search_has_no_curriculum():
    run = load_run(RUNS / "h2-2q_fast")
    run.config = run.config.replace(agent="random-search")
    with pytest.raises(ValueError, match="no curriculum"):
        curriculum_trace(run, 0)
    with pytest.raises(ValueError, match="no training episodes of seed 7"):
        curriculum_trace(load_run(RUNS / "h2-2q_fast"), 7)


def test_curriculum_curve_draws_the_trace():
    run = load_run(RUNS / "lih-4q_fast")
    fig = curriculum_curve(run, seed=1)
    top, bottom = fig.axes[:2]
    gids = {a.get_gid() for a in top.get_children()} | {a.get_gid() for a in bottom.get_children()}
    assert {"threshold", "success", "fail", "best", "greedy", "chemical_accuracy", "successes"} <= gids
    assert "N_s = 3" in top.get_title()
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="two Axes"):
        curriculum_curve(run, 1, ax=axes)
    plt.close(fig)


def test_versions_line():
    line = ck.versions()
    assert line.startswith(f"crlqas_kit {ck.__version__}, jax ")
    assert "jaxlib" in line and "numpy" in line and "python" in line
    assert datetime.date.today().isoformat() in line and line.endswith(f"{ck.notebook_mode()} mode")
