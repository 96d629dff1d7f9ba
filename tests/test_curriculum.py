"""The moving-threshold curriculum (spec section 6): hand-computed shrink / greedy-reset sequences."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crlqas_kit import load_problem
from crlqas_kit.rl import curriculum as C
from crlqas_kit.rl import env as E


def run(config, threshold0, e_min, episodes, evaluation=False, jit=False):
    """Apply ``update`` for ``[(success, episode_best_energy), ...]``; returns the states after each."""
    update = jax.jit(C.update, static_argnums=(0, 5)) if jit else C.update
    with jax.enable_x64(True):
        state = C.init(config, threshold0, e_min)
        out = []
        for success, best in episodes:
            state = update(config, state, success, best, e_min, evaluation)
            out.append(state)
    return out


def row(state):
    return (
        float(state.threshold),
        float(state.best_energy),
        int(state.successes),
        int(state.shrinks),
        int(state.episodes),
    )


# delta = 0.3, T = 6, N_s = 2, K = 3 => every shrink is delta/K = 0.1; E_min = -1
CFG = C.CurriculumConfig(delta=0.3, greedy_period=6, n_successes=2, n_shrinks=3)
EPISODES = [(True, -0.5), (True, -0.6), (False, -0.4), (True, -0.7), (True, -0.65), (True, -0.5)]
EPISODES += [(True, -0.55), (True, -0.6), (True, -0.6), (True, -0.6), (True, -0.6), (True, -0.9)]
# (threshold, E_best, successes, shrinks, episodes), by hand
EXPECTED = [
    (1.0, -0.5, 1, 0, 1),
    (0.9, -0.6, 0, 1, 2),  # 2nd success: shrink by 0.1
    (0.9, -0.6, 0, 1, 3),  # failure: nothing changes
    (0.9, -0.7, 1, 1, 4),
    (0.8, -0.7, 0, 2, 5),  # shrink
    (0.6, -0.7, 0, 0, 6),  # episode 6 = T: greedy reset, |-1 - (-0.7)| + 0.3 = 0.6, counters 0
    (0.6, -0.7, 1, 0, 7),
    (0.5, -0.7, 0, 1, 8),
    (0.5, -0.7, 1, 1, 9),
    (0.4, -0.7, 0, 2, 10),
    (0.4, -0.7, 1, 2, 11),
    (0.4, -0.9, 0, 0, 12),  # 3rd shrink (to 0.3) then the greedy reset: |-1 - (-0.9)| + 0.3 = 0.4
]


@pytest.mark.parametrize("jit", [False, True])
def test_shrink_and_greedy_reset_hand_computed(jit):
    states = run(CFG, 1.0, -1.0, EPISODES, jit=jit)
    for got, want in zip(states, EXPECTED, strict=True):
        assert row(got) == pytest.approx(want, abs=1e-12)


def test_at_most_k_shrinks_between_greedy_resets():
    cfg = C.CurriculumConfig(delta=0.3, greedy_period=1000, n_successes=1, n_shrinks=3)
    states = run(cfg, 1.0, -1.0, [(True, -0.5)] * 6)
    assert [float(s.threshold) for s in states] == pytest.approx([0.9, 0.8, 0.7, 0.7, 0.7, 0.7])
    assert [int(s.shrinks) for s in states] == [1, 2, 3, 3, 3, 3]
    assert min(float(s.threshold) for s in states) == pytest.approx(1.0 - cfg.delta)  # xi0 - delta > 0


def test_greedy_reset_without_any_energy_keeps_threshold():
    cfg = C.CurriculumConfig(delta=0.3, greedy_period=2, n_successes=5, n_shrinks=3)
    states = run(cfg, 1.0, -1.0, [(True, np.inf), (True, np.inf)])
    assert row(states[-1]) == (1.0, np.inf, 0, 0, 2)  # counters reset, threshold kept


def test_greedy_reset_uses_best_energy_ever():
    cfg = C.CurriculumConfig(delta=0.01, greedy_period=3, n_successes=10, n_shrinks=10)
    states = run(cfg, 0.5, -2.0, [(False, -1.9), (False, -1.5), (False, -1.8)])
    assert float(states[-1].threshold) == pytest.approx(abs(-2.0 - (-1.9)) + 0.01)
    assert float(states[-1].best_energy) == -1.9


def test_collapse_case_is_stopped_at_the_floor():
    """The collapse the spec warns about: E_min = E0 exactly, a greedy reset at E_best = E0 gives
    xi = 0 + delta; then K shrinks of delta/K would leave xi = 0 (success impossible until the next
    reset). With the floor the K-th shrink stops at delta/K. By hand: delta = 5e-4, K = 10, so
    xi = 5e-4, 4.5e-4, ..., 1e-4 after 8 shrinks, then the floor 5e-5 twice."""
    cfg = C.CurriculumConfig(delta=5e-4, greedy_period=4, n_successes=1, n_shrinks=10)
    e0 = -7.7890888981
    episodes = [(False, -7.5), (False, -7.7), (False, -7.78), (False, e0)]  # reset at episode 4: E_best = E0
    episodes += [(True, e0)] * 3  # three shrinks before the next reset (episode 8)
    states = run(cfg, 0.1, e0, episodes, jit=True)
    assert float(states[3].threshold) == pytest.approx(5e-4, abs=1e-15)  # |E0 - E0| + delta
    assert [float(s.threshold) for s in states[4:]] == pytest.approx([4.5e-4, 4e-4, 3.5e-4], abs=1e-15)
    # now ten and more shrinks in one greedy period
    cfg = C.CurriculumConfig(delta=5e-4, greedy_period=100, n_successes=1, n_shrinks=10)
    episodes = [(False, e0)] * 99 + [(False, e0)] + [(True, e0)] * 12
    states = run(cfg, 0.1, e0, episodes, jit=True)
    thresholds = [float(s.threshold) for s in states[100:]]
    expected = [5e-4 - 5e-5 * k for k in range(1, 10)] + [5e-5, 5e-5, 5e-5]  # 9 shrinks, the 10th at the floor
    assert thresholds == pytest.approx(expected, abs=1e-15)
    assert min(thresholds) == pytest.approx(cfg.floor) and cfg.floor == pytest.approx(5e-5)


@settings(max_examples=150, deadline=None)
@given(
    delta=st.floats(1e-5, 1e-1),
    period=st.integers(1, 12),
    n_successes=st.integers(1, 4),
    n_shrinks=st.integers(1, 12),
    factor=st.floats(1.0001, 50.0),
    min_threshold=st.one_of(st.just(0.0), st.floats(0.0, 1e-2)),
    episodes=st.lists(
        st.tuples(st.booleans(), st.one_of(st.just(0.0), st.floats(0.0, 1e-3), st.floats(0.0, 2.0))),
        min_size=1,
        max_size=80,
    ),
)
def test_threshold_never_falls_below_the_floor(delta, period, n_successes, n_shrinks, factor, min_threshold, episodes):
    """Property: in every sequence of training episodes (including energies exactly at E_min) the
    threshold stays >= max(delta/K, min_threshold) > 0."""
    cfg = C.CurriculumConfig(delta, period, n_successes, n_shrinks, min_threshold)
    assert cfg.floor >= max(delta / n_shrinks, min_threshold)
    e_min = -1.0
    states = run(cfg, delta * factor, e_min, [(ok, e_min + gap) for ok, gap in episodes])
    assert min(float(s.threshold) for s in states) >= cfg.floor * (1 - 1e-12) > 0


def test_evaluation_episodes_do_not_change_the_state():
    with jax.enable_x64(True):
        state = C.init(CFG, 1.0, -1.0)
        for success, best in EPISODES[:5]:
            state = C.update(CFG, state, success, best, -1.0)
        assert int(state.successes) == 0 and int(state.episodes) == 5
        # a successful evaluation episode with a new best energy, at what would be the greedy period
        after = C.update(CFG, state, True, -0.99, -1.0, evaluation=True)
        after = C.update(CFG, after, True, -0.99, -1.0, evaluation=True)
    assert row(after) == row(state)
    with jax.enable_x64(True):
        trained = C.update(CFG, state, True, -0.99, -1.0)
    assert row(trained) != row(state)  # the same episode as a training episode does change it


@pytest.mark.parametrize("threshold0", [0.3, 0.1, 0.0, -0.97])
def test_init_rejects_threshold_not_above_delta(threshold0):
    """xi0 <= delta is rejected (K shrinks of delta/K would reach 0); negative xi (published noisy H2) too."""
    with pytest.raises(ValueError, match="threshold"):
        C.init(CFG, threshold0, -1.0)
    C.init(CFG, 0.3 * 1.001, -1.0)  # just above delta is fine


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(delta=0.0),
        dict(delta=-1e-3),
        dict(greedy_period=0),
        dict(n_successes=0),
        dict(n_shrinks=0),
        dict(n_shrinks=2.5),
        dict(greedy_period=True),
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ValueError):
        C.CurriculumConfig(**kwargs)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_published_defaults_small(n):
    cfg = C.CurriculumConfig.published(n)
    assert (cfg.delta, cfg.greedy_period, cfg.n_successes, cfg.n_shrinks) == (5e-4, 500, 25, 10)


@pytest.mark.parametrize("n", [6, 8])
def test_published_defaults_large(n):
    cfg = C.CurriculumConfig.published(n)
    assert (cfg.delta, cfg.greedy_period, cfg.n_successes, cfg.n_shrinks) == (1e-3, 2000, 50, 10)


def test_default_config_is_the_small_published_one():
    assert C.CurriculumConfig() == C.CurriculumConfig.published(2)


@pytest.mark.parametrize("name", ["H2-2q", "LiH-4q"])
def test_env_threshold0_is_a_valid_curriculum_start(name):
    """The env's default xi0 (derived from the problem, not the published fake-minimum values)
    is positive and above the published delta, so it starts a valid curriculum."""
    problem = load_problem(name)
    params = E.make_params(problem, max_steps=4)
    cfg = C.CurriculumConfig.published(problem.n_qubits)
    state = C.init(cfg, float(params.threshold0), float(params.e_min))
    assert float(state.threshold) > cfg.delta


def test_min_threshold_stops_shrinks_resets_and_the_start():
    """``min_threshold`` (e.g. chemical accuracy): by hand, delta = 5e-4, K = 10, floor 1.6e-3.
    Start 1e-3 -> 1.6e-3; shrinks from a reset at 2.1e-3 (best 1.6e-3 above E_min) stop at 1.6e-3;
    a reset at E_best = E_min gives max(0 + 5e-4, 1.6e-3) = 1.6e-3, not 5e-4."""
    cfg = C.CurriculumConfig(delta=5e-4, greedy_period=3, n_successes=1, n_shrinks=10, min_threshold=1.6e-3)
    assert cfg.floor == 1.6e-3
    e_min = -1.0
    episodes = [(False, e_min + 1.6e-3)] * 3 + [(True, e_min + 1.6e-3)] * 2 + [(False, e_min)]
    with jax.enable_x64(True):
        assert float(C.init(cfg, 1e-3, e_min).threshold) == 1.6e-3
    states = run(cfg, 1e-3, e_min, episodes)
    thresholds = [float(s.threshold) for s in states]
    assert thresholds[2] == pytest.approx(2.1e-3, abs=1e-15)  # reset: 1.6e-3 + delta
    assert thresholds[3:5] == pytest.approx([2.05e-3, 2.0e-3], abs=1e-15)  # shrinks of delta/K
    assert thresholds[5] == pytest.approx(1.6e-3, abs=1e-15)  # reset at E_best = E_min: the floor


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "0.001", True])
def test_min_threshold_is_validated(bad):
    with pytest.raises(ValueError, match="min_threshold must be a finite number >= 0"):
        C.CurriculumConfig(min_threshold=bad)
