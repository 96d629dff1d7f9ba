"""``InteractiveEnv``: the stateful notebook wrapper around the pure environment.

The environments use the same static configuration as the ``h2`` fixture of ``test_env.py``
(H2-2q, L = 8, no halting, default inner optimiser), so in one pytest process the step compiles
once for both files.
"""

from __future__ import annotations

import numpy as np
import pytest

import crlqas_kit
from crlqas_kit import load_problem
from crlqas_kit.rl import InteractiveEnv
from crlqas_kit.sim.circuit import Circuit

H2 = load_problem("H2-2q")
OPTIONS = dict(max_steps=8, halting=False)


@pytest.fixture(scope="module")
def env():
    return InteractiveEnv(H2, None, **OPTIONS)


@pytest.fixture(scope="module")
def noisy_env():
    return InteractiveEnv(H2, "depolarizing", **OPTIONS)


def test_reset_returns_numpy_observation(env):
    obs = env.reset(seed=0)
    assert isinstance(obs, np.ndarray) and obs.shape == (env.params.obs_size,) == (8 * 5 * 2 + 2,)
    assert not obs[: 8 * 5 * 2].any()
    assert env.history == [] and len(env.circuit) == 0
    assert env.legal_actions() == list(range(8))  # first step: everything legal


def test_step_by_name_and_index(env):
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("rx(1)")
    assert isinstance(obs, np.ndarray) and obs.shape == (env.params.obs_size,)
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    assert info["action"] == 5 and info["gate"] == ("rx", (1,))
    assert all(isinstance(v, int | float | bool | tuple) for v in info.values())
    _, _, _, _, info = env.step(3)  # ry(0) by index
    assert info["gate"] == ("ry", (0,)) and info["gates"] == 2
    _, _, _, _, info = env.step(np.int64(0))  # cx(0,1) by a numpy integer
    assert info["gate"] == ("cx", (0, 1)) and info["cnots"] == 1
    assert [h["action"] for h in env.history] == [5, 3, 0]


def test_legal_actions_follow_the_mask(env):
    env.reset(seed=0)
    env.step("cx(0,1)")
    assert env.legal_actions() == [1, 2, 3, 4, 5, 6, 7]  # only the repeated cx(0,1) is illegal
    env.step("ry(1)")
    assert env.legal_actions() == [0, 1, 2, 3, 4, 5, 7]  # cx(0,1) legal again, ry(1) not


def test_circuit_has_the_optimised_angles(env):
    env.reset(seed=1)
    env.step("ry(0)")
    env.step("rx(1)")
    circ = env.circuit
    assert isinstance(circ, Circuit)
    assert [(g, w) for g, w, _ in circ.ops()] == [("ry", (0,)), ("rx", (1,))]
    assert circ.params[0] != 0.0  # optimised, not the initial 0
    e = crlqas_kit.expectation(circ, H2.hamiltonian)
    assert e == pytest.approx(float(env.state.exact_energy), abs=1e-10)
    assert e == pytest.approx(env.energy, abs=1e-10)
    assert env.error == pytest.approx(abs(e - H2.e0), abs=1e-10)


def test_hf_start_circuit_acts_on_the_hf_state():
    env = InteractiveEnv(H2, "depolarizing", start="hf")
    assert env.initial == H2.hf_bitstring and InteractiveEnv(H2).initial == "00"
    env.reset(seed=4)
    env.step("ry(0)")
    circ = env.circuit
    e = crlqas_kit.expectation(circ, H2.hamiltonian, "depolarizing", initial=env.initial)
    assert e == pytest.approx(float(env.state.exact_energy), abs=1e-10)
    # the same gates on |00> give a different energy: the initial state is part of the answer
    assert e != pytest.approx(crlqas_kit.expectation(circ, H2.hamiltonian, "depolarizing"), abs=1e-6)


def test_noisy_circuit_energy_matches_expectation(noisy_env):
    noisy_env.reset(seed=2)
    for a in ("ry(0)", "cx(0,1)"):
        noisy_env.step(a)
    circ = noisy_env.circuit
    e = crlqas_kit.expectation(circ, H2.hamiltonian, "depolarizing")
    assert e == pytest.approx(float(noisy_env.state.exact_energy), abs=1e-10)
    assert e != pytest.approx(crlqas_kit.expectation(circ, H2.hamiltonian), abs=1e-6)  # noise matters
    assert noisy_env.history[-1]["error"] == pytest.approx(abs(e - H2.e0), abs=1e-10)


def test_history_records_every_step(env):
    env.reset(seed=3)
    rewards = [env.step(a)[1] for a in ("rx(0)", "ry(1)", "rz(0)")]
    assert len(env.history) == 3
    assert [h["reward"] for h in env.history] == rewards
    assert [h["gates"] for h in env.history] == [1, 2, 3]
    assert env.history[-1]["energy"] == pytest.approx(env.energy)
    assert {"error", "chemically_accurate", "success", "illegal", "depth"} <= set(env.history[-1])
    env.reset(seed=3)
    assert env.history == []


def test_success_ends_episode_and_step_after_done_raises(env):
    env.reset(seed=0)  # default threshold: chemical accuracy
    env.step("ry(0)")
    _, reward, terminated, truncated, info = env.step("cx(0,1)")
    assert reward == 5.0 and terminated and not truncated and info["chemically_accurate"]
    assert env.legal_actions() == []
    with pytest.raises(ValueError, match="over"):
        env.step("rx(0)")


def test_same_seed_same_episode(env):
    def episode(seed):
        env.reset(seed=seed)
        for a in ("ry(0)", "rz(1)", "cx(1,0)"):
            env.step(a)
        return [h["energy"] for h in env.history], env.circuit.params

    e1, p1 = episode(4)
    e2, p2 = episode(4)
    assert e1 == e2 and np.array_equal(p1, p2)


@pytest.mark.parametrize(
    "sequence, message",
    [
        (["cx(0,1)", "cx(0,1)"], "repeats the most recent gate"),
        (["ry(0)", "ry(0)"], "repeats the most recent gate"),
        (["cx(1,0)", "rz(1)", "rz(1)"], "repeats the most recent gate"),
    ],
)
def test_illegal_action_raises_naming_the_rule(env, sequence, message):
    env.reset(seed=0)
    for a in sequence[:-1]:
        env.step(a)
    n_before = len(env.history)
    with pytest.raises(ValueError, match=message):
        env.step(sequence[-1])
    assert len(env.history) == n_before  # nothing happened
    env.step("rx(0)" if sequence[-1] != "rx(0)" else "rx(1)")  # the episode goes on


def test_coupling_map_violation_raises():
    env = InteractiveEnv(H2, None, coupling_map=[(0, 1)], **OPTIONS)
    env.reset(seed=0)
    assert 1 not in env.legal_actions()
    with pytest.raises(ValueError, match="coupling map"):
        env.step("cx(1,0)")
    env.step("cx(0,1)")  # allowed pair


@pytest.mark.parametrize("bad", ["foo", "cx(0,0)", "cx(0,2)", "rx(0,1)", "cx(0)", "h(0)", "ry(5)", ""])
def test_bad_action_strings_raise(env, bad):
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(bad)
    assert env.history == []


@pytest.mark.parametrize("bad, error", [(8, ValueError), (-1, ValueError), (1.0, TypeError), (True, TypeError)])
def test_bad_action_values_raise(env, bad, error):
    env.reset(seed=0)
    with pytest.raises(error):
        env.step(bad)


def test_step_before_reset_raises():
    env = InteractiveEnv(H2, None, **OPTIONS)
    with pytest.raises(RuntimeError, match="reset"):
        env.step("rx(0)")
    with pytest.raises(RuntimeError, match="reset"):
        env.legal_actions()
