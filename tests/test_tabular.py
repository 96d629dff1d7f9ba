"""The RL primer's tabular toys (crlqas_kit.rl.tabular): MDPs, value iteration, Q-learning and its options."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from crlqas_kit.rl import tabular as tb


@pytest.fixture(scope="module")
def gates():
    return tb.gate_choice_mdp()


@pytest.fixture(scope="module")
def bias():
    return tb.one_more_gate_mdp()


def _error(mdp, q_history, q_star):
    out = tb.q_error(mdp, q_history, q_star)
    assert out.shape == np.shape(q_history)[:-2]
    return out


# -- the MDPs ---------------------------------------------------------------------------------------


def test_gate_choice_transitions_are_the_gates(gates):
    s = {name: i for i, name in enumerate(gates.states)}
    a = {name: i for i, name in enumerate(gates.actions)}
    step = lambda state, gate: gates.states[gates.next_state[s[state], a[gate]]]  # noqa: E731
    assert step("|0⟩", "H") == "|+⟩" and step("|0⟩", "X") == "|1⟩" and step("|0⟩", "S") == "|0⟩"
    assert step("|+⟩", "S") == "|+i⟩" and step("|+i⟩", "X") == "|−i⟩" and step("|−⟩", "S") == "|−i⟩"
    assert step("|+i⟩", "H") == "|−i⟩"  # H maps Y to -Y
    assert gates.terminal.tolist() == [name == "|−i⟩" for name in gates.states]
    assert np.all(gates.reward[gates.next_state == s["|−i⟩"]] == 1.0)
    assert np.all(gates.reward[gates.next_state != s["|−i⟩"]] == -0.1)


def test_value_iteration_gives_the_shortest_circuit(gates, bias):
    q = tb.value_iteration(gates)
    # three gates from |0>: -0.1 - 0.9 * 0.1 + 0.9^2 * 1 (H S X or X H S)
    assert q[0, 0] == pytest.approx(0.62) and q[0, 2] == pytest.approx(0.62) and q[0, 1] < 0.62
    assert np.all(np.isnan(q[gates.terminal]))
    steps = tb.rollout(0, gates, q, epsilon=0.0)
    assert len(steps) == 3 and steps[-1]["terminated"] and steps[-1]["next"] == "|−i⟩"
    qb = tb.value_iteration(bias)
    assert qb[0, 0] == 0 and qb[0, 1] == pytest.approx(-0.1) and np.allclose(qb[1, 2:], -0.1)
    assert np.isnan(qb[0, 2:]).all() and np.isnan(qb[1, :2]).all()
    assert tb.greedy_policy(bias, qb) == {"A": "stop", "B": "candidate 1"}


def test_value_iteration_refuses_a_divergent_mdp():
    loop = tb.TabularMDP(
        next_state=[[0], [1]],
        reward=[[1.0], [0.0]],
        reward_std=[[0.0], [0.0]],
        legal=[[True], [True]],
        terminal=[False, True],
        start=0,
        gamma=1.0,
        states=("loop", "end"),
        actions=("again",),
    )
    with pytest.raises(RuntimeError, match="did not converge"):
        tb.value_iteration(loop, max_iter=100)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(next_state=[[0, 1]]), "next_state must have shape"),
        (dict(next_state=[[0], [2]]), "state indices"),
        (dict(legal=[[False], [True]]), "at least one legal action"),
        (dict(start=1), "start state must be a non-terminal"),
        (dict(gamma=1.5), r"gamma must be in \(0, 1\]"),
        (dict(reward_std=[[-1.0], [0.0]]), "reward_std >= 0"),
    ],
)
def test_mdp_validation(change, match):
    base = dict(
        next_state=[[1], [1]],
        reward=[[1.0], [0.0]],
        reward_std=[[0.0], [0.0]],
        legal=[[True], [True]],
        terminal=[False, True],
        start=0,
        gamma=0.9,
        states=("s", "end"),
        actions=("a",),
    )
    with pytest.raises(ValueError, match=match):
        tb.TabularMDP(**{**base, **change})


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="target must be one of"):
        tb.gate_choice_mdp(target="|0⟩")
    with pytest.raises(ValueError, match="number of candidate gates k"):
        tb.one_more_gate_mdp(k=0)
    with pytest.raises(ValueError, match="mean reward of a candidate must be a finite number"):
        tb.one_more_gate_mdp(mean=float("nan"))


# -- acting ----------------------------------------------------------------------------------------


def test_epsilon_greedy_matches_its_probabilities():
    q_row = np.array([0.5, 2.0, 2.0, -1.0])
    legal = np.array([True, True, True, False])
    p = tb.epsilon_greedy_probabilities(q_row, legal, 0.3)
    assert p.sum() == pytest.approx(1) and p[3] == 0 and p[1] == p[2] == pytest.approx(0.1 + 0.35)
    keys = jax.random.split(jax.random.key(7), 6000)
    picks = np.asarray(jax.vmap(lambda k: tb.epsilon_greedy(k, q_row, legal, 0.3))(keys))
    assert np.abs(np.bincount(picks, minlength=4) / picks.size - p).max() < 0.02


def test_rollout_flags_truncation_and_termination(gates):
    steps = tb.rollout(3, gates, epsilon=1.0, max_steps=2)
    assert len(steps) <= 2
    last = steps[-1]
    assert last["terminated"] != last["truncated"] or not (last["terminated"] or last["truncated"])
    if len(steps) == 2 and not last["terminated"]:
        assert last["truncated"]
    assert tb.discounted_return([1.0, 1.0, 1.0], 0.5) == pytest.approx(1.75)


# -- learning ---------------------------------------------------------------------------------------


def test_q_learning_is_deterministic_in_its_key(gates):
    a = tb.q_learning(jax.random.key(3), gates, episodes=30)
    b = tb.q_learning(3, gates, episodes=30)
    c = tb.q_learning(4, gates, episodes=30)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(np.asarray(a.lengths), np.asarray(c.lengths))


def test_q_learning_learns_the_optimal_circuit(gates):
    r = tb.q_learning(0, gates, episodes=300, alpha=0.5, epsilon=0.3, history=True)
    q_star = tb.value_iteration(gates)
    assert r.q_history.shape == (300, 6, 3) and r.returns.shape == (300,)
    assert _error(gates, r.q_history[-1], q_star) < 0.02
    steps = tb.rollout(0, gates, r.q, epsilon=0.0)
    assert [s["action"] for s in steps] in (["H", "S", "X"], ["X", "H", "S"])
    assert float(r.start_value[-1]) == pytest.approx(0.62, abs=0.02)


def test_truncated_episodes_bootstrap(gates):
    """One gate per episode: every episode is cut (truncated), none terminates, and the cut transition
    still bootstraps. S keeps |0>, so Q(|0>, S) = -0.1 + 0.9 max_a Q(|0>, a) = -0.19 (a terminal
    cut would give -0.1); H and X lead to states never updated (zeros): -0.1."""
    r = tb.q_learning(1, gates, episodes=3000, max_steps=1, alpha=0.5, epsilon=1.0)
    assert np.all(np.asarray(r.lengths) == 1)
    np.testing.assert_allclose(np.asarray(r.returns), -0.1)
    np.testing.assert_allclose(np.asarray(r.q)[0], [-0.1, -0.19, -0.1], atol=1e-5)


def test_replay_learns_faster_per_episode(gates):
    q_star = tb.value_iteration(gates)
    online = tb.q_learning(0, gates, runs=8, episodes=40, history=True)
    replay = tb.q_learning(0, gates, runs=8, episodes=40, history=True, replay=500, updates=8)
    assert online.q_history.shape == (8, 40, 6, 3)
    assert (
        _error(gates, replay.q_history[:, -1], q_star).mean()
        < 0.5 * _error(gates, online.q_history[:, -1], q_star).mean()
    )


def test_a_frozen_target_table_stops_bootstrapping(gates):
    """target_every beyond the run: every target uses the initial zeros, so Q(s, a) -> r(s, a)."""
    r = tb.q_learning(2, gates, episodes=200, alpha=0.5, epsilon=1.0, replay=100, target_every=10**6)
    q = np.asarray(r.q)
    visited = np.abs(q) > 0
    np.testing.assert_allclose(q[visited], gates.reward[visited], atol=1e-3)
    copied = tb.q_learning(2, gates, episodes=200, alpha=0.5, epsilon=1.0, replay=100, target_every=5)
    assert float(copied.start_value[-1]) > 0.3  # a refreshed copy does bootstrap


def test_double_q_learning_removes_the_maximization_bias(bias):
    q_runs = tb.q_learning(0, bias, runs=300, episodes=100, max_steps=2)
    d_runs = tb.q_learning(0, bias, runs=300, episodes=100, max_steps=2, double=True)
    add = lambda r: (np.asarray(r.first_action)[:, 5:50] == 1).mean()  # noqa: E731
    assert add(q_runs) > 0.7 and add(d_runs) < 0.45
    # Q-learning believes adding a gate is worth more than stopping; its true value is -0.1
    assert np.asarray(q_runs.q)[:, 0, 1].mean() > -0.05
    assert np.asarray(d_runs.q)[:, 0, 1].mean() < np.asarray(q_runs.q)[:, 0, 1].mean()


def test_max_estimates_single_is_biased_double_is_not():
    out = tb.max_estimates(0, [-0.1] * 10, std=1.0, samples=10, runs=4000)
    assert out["true"] == pytest.approx(-0.1)
    assert out["single"].mean() > out["true"] + 0.3
    assert abs(out["double"].mean() - out["true"]) < 0.05


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (dict(updates=4), "needs a replay buffer"),
        (dict(double=True, target_every=10), "use target_every=1"),
        (dict(epsilon=1.5), "epsilon must be a probability"),
        (dict(alpha=0.0), "alpha must be a positive"),
        (dict(alpha=2.0), r"alpha must be in \(0, 1\]"),
        (dict(episodes=0), "episodes must be a positive integer"),
        (dict(replay=-1), "replay capacity must be an integer >= 0"),
    ],
)
def test_q_learning_config_is_checked(gates, options, match):
    with pytest.raises(ValueError, match=match):
        tb.q_learning(0, gates, **options)
