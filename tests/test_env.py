"""The QAS environment (spec sections 2-5): one test per rule, with hand-built action sequences.

Compilation budget: every distinct static configuration compiles the step once (seconds), so the
tests share a few module-scoped configurations:

* ``h2``   H2-2q, noiseless, L = 8, no halting, the default inner optimiser (Adam-SPSA, 500
  evaluations, the published H2 preset) -- where convergence matters;
* ``h3``   H2-3q, noiseless, L = 10, no halting, ``SPSAConfig(budget=61)`` -- rules on 3 qubits;
* ``h2_alt`` H2-2q, L = 3, 1000 shots per term, halting at step 2 (``halt_min=2``, NB mean ~0)
  as a truncation (``halt_terminal=False``) -- the non-default options share one compile.

Arrays that are replaced by hand keep their dtype and weak type, so no test recompiles a step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import crlqas_kit
from crlqas_kit import load_problem
from crlqas_kit.optim.presets import preset_config
from crlqas_kit.optim.spsa import SPSAConfig
from crlqas_kit.problems import Problem
from crlqas_kit.rl import actions as A
from crlqas_kit.rl import env as E
from crlqas_kit.rl.batch import VMAP_MAX_QUBITS, env_devices, reset_batch, step_batch, step_many
from crlqas_kit.sim import simulator as S
from crlqas_kit.sim.circuit import GATE_NAMES, Circuit
from crlqas_kit.sim.paulis import PauliSum

H2 = load_problem("H2-2q")
H3 = load_problem("H2-3q")
#: a 7-qubit toy problem: the smallest size at which the noisy optimiser splits its points
PROBLEM_7Q = Problem("toy-7q", PauliSum.from_list([("ZZIIIII", 0.5), ("IIIIIXX", -0.3)]), -0.8, 0.2, "1100000")
CHEM = 1.6e-3
FAST = SPSAConfig(budget=61)


@pytest.fixture(scope="module")
def h2():
    return E.make_params(H2, None, max_steps=8, halting=False)


@pytest.fixture(scope="module")
def h3():
    return E.make_params(H3, None, max_steps=10, halting=False, spsa=FAST)


@pytest.fixture(scope="module")
def h2_alt():
    # NB(r=1, p=0.999) is 0 with probability 0.999 (<= 2 with prob. 1 - 1e-9): h = clip(., 2, 3) = 2
    return E.make_params(
        H2, None, max_steps=3, halt_min=2, halt_r=1.0, halt_p=0.999, halt_terminal=False, shots=1000, spsa=FAST
    )


class Step(NamedTuple):
    obs: np.ndarray
    state: Any
    reward: float
    terminated: bool
    truncated: bool
    info: dict


def _action(params, a):
    return A.parse_action(params.n_qubits, a) if isinstance(a, str) else a


def reset(params, seed=0, threshold=CHEM):
    with jax.enable_x64(True):
        return E.reset_jit(jax.random.key(seed), params, threshold)[1]


def play(params, actions, seed=0, threshold=CHEM, state=None) -> list[Step]:
    """Reset (unless ``state`` is given) and apply ``actions`` (indices or names) with step_jit."""
    with jax.enable_x64(True):
        if state is None:
            state = E.reset_jit(jax.random.key(seed), params, threshold)[1]
        key, out = jax.random.key(seed + 1000), []
        for a in actions:
            key, sub = jax.random.split(key)
            obs, state, r, term, trunc, info = E.step_jit(sub, state, _action(params, a), params)
            out.append(
                Step(np.asarray(obs), state, float(r), bool(term), bool(trunc), {k: v.item() for k, v in info.items()})
            )
    return out


def mask_names(state, params) -> set[str]:
    """Names of the masked (illegal) actions."""
    with jax.enable_x64(True):
        mask = np.asarray(E.action_mask_jit(state, params))
    table = A.action_table(params.n_qubits)
    return {f"{table[i][0]}({','.join(map(str, table[i][1]))})" for i in np.flatnonzero(~mask)}


def like(x, value):
    """``value`` with the dtype and weak type of ``x`` (so a replaced leaf does not recompile)."""
    with jax.enable_x64(True):
        return x - x + value


def host_circuit(state, n) -> Circuit:
    c = state.circuit
    gates, wires, slots, angles = (np.asarray(v) for v in (c.gates, c.wires, c.slots, c.angles))
    ops = []
    for i in range(int(c.length)):
        name = GATE_NAMES[int(gates[i])]
        w = (int(wires[i, 0]), int(wires[i, 1])) if name == "cx" else (int(wires[i, 0]),)
        ops.append((name, w, float(angles[slots[i]]) if slots[i] >= 0 else None))
    return Circuit.from_ops(n, ops)


# -------------------------------------------------------------------------------------------
# parameters and reset
# -------------------------------------------------------------------------------------------


def test_make_params_published_defaults():
    p = E.make_params(H2)
    assert p.max_steps == 40 and p.n_actions == 8
    assert (p.halting, p.halt_r, p.halt_p, p.halt_min, p.halt_terminal) == (True, 70.0, 0.573, 25, True)
    assert (p.success_reward, p.failure_reward) == (5.0, -5.0)
    assert p.spsa == preset_config("H2-2q", "adam-spsa", 500)
    assert p.spsa.method == "adam-spsa" and p.spsa.budget == 500
    assert float(p.e_min) == float(p.e0) == H2.e0  # the exact E0, not the Pauli-norm bound
    assert bool(np.all(np.asarray(p.allowed)))
    # xi0 derived from the problem: the Hartree-Fock error |E_HF - E0| (positive)
    assert float(p.threshold0) == pytest.approx(abs(H2.e_hf - H2.e0), abs=1e-12) and float(p.threshold0) > 0
    # the energy feature's scale: the empty circuit's distance to E_min
    e_empty = crlqas_kit.expectation(Circuit(2), H2.hamiltonian)
    assert float(p.energy_scale) == pytest.approx(abs(e_empty - H2.e0), abs=1e-12)
    assert E.DEFAULT_MAX_STEPS[2] == E.DEFAULT_MAX_STEPS[3] == E.DEFAULT_MAX_STEPS[4] == 40
    assert E.DEFAULT_MAX_STEPS[6] == 70 and E.DEFAULT_MAX_STEPS[8] == 250
    bound = E.make_params(H2, e_min="pauli-bound")
    assert float(bound.e_min) == pytest.approx(H2.hamiltonian.constant - H2.hamiltonian.l1_norm)


def test_e_min_choices_and_their_initial_thresholds():
    bound = H2.hamiltonian.constant - H2.hamiltonian.l1_norm
    fake = E.make_params(H2, e_min="pauli-bound")
    # the published xi0 belongs to the fake minimum (spec section 6): 0.97 for H2-2q
    assert float(fake.e_min) == pytest.approx(bound) and float(fake.threshold0) == 0.97
    number = E.make_params(H2, e_min=-1.2)
    assert float(number.e_min) == -1.2
    assert float(number.threshold0) == pytest.approx(abs(H2.e_hf + 1.2), abs=1e-12)  # HF error w.r.t. it
    assert float(E.make_params(H2, e_min="pauli-bound", threshold0=0.5).threshold0) == 0.5  # explicit wins


def test_step_reports_the_objective_evaluations(h3):
    """info["evaluations"]: the inner optimiser's real count (x0 included) + the reported energy; a
    CNOT on an empty circuit has no angle to optimise."""
    steps = play(h3, ["cx(0,1)", "ry(0)", "rx(1)"])
    # FAST: budget 61 -> x0 + 29 iterations x 2 + the last iterate = 60 (one left unused), + 1 reported
    assert [int(s.info["evaluations"]) for s in steps] == [1, 61, 61]
    assert FAST.evaluations == 60 and FAST.iterations == 29


def test_make_params_short_episode_clips_halt_min():
    assert E.make_params(H2, max_steps=8).halt_min == 8  # the published h_min = 25 > L = 8
    with pytest.raises(ValueError, match="halt_min"):
        E.make_params(H2, max_steps=8, halt_min=9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(threshold0=0.0), "positive"),
        (dict(threshold0=-0.1), "positive"),
        (dict(halt_p=1.0), "halting"),
        (dict(halt_r=0.0), "halting"),
        (dict(max_steps=0), "max_steps"),
        (dict(start="plus"), "start"),
        (dict(e_min="fake"), "e_min must be 'exact', 'pauli-bound' or a finite number"),
        (dict(e_min=float("nan")), "e_min must be"),
        (dict(e_min=True), "e_min must be"),
        (dict(variance="binomial"), "variance must be one of \\('exact', 'published'\\)"),
        (dict(threshold0=float("nan")), "positive"),
        (dict(reward_floor=0.0), "reward_floor"),
        (dict(not_an_option=1), "unknown"),
        (dict(new_angle="ones"), "new_angle"),
    ],
)
def test_make_params_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        E.make_params(H2, **kwargs)


def test_reset_empty_circuit(h3):
    state = reset(h3)
    L, n = 10, 3
    assert int(state.step) == 0 and int(state.circuit.length) == 0
    assert np.asarray(state.tensor).shape == (L, n + 3, n) and not np.asarray(state.tensor).any()
    assert np.asarray(state.moments).tolist() == [0, 0, 0]
    assert np.asarray(state.last_action).tolist() == [-1, -1, -1]
    e_empty = crlqas_kit.expectation(Circuit(3), H3.hamiltonian)
    assert float(state.energy) == pytest.approx(e_empty, abs=1e-12)
    assert int(state.halt_step) == L  # halting off
    assert float(state.threshold) == CHEM and not bool(state.done)


def test_observation_layout(h3):
    steps = play(h3, ["cx(0,1)", "ry(2)"])
    s = steps[-1]
    L, n = 10, 3
    assert s.obs.shape == (h3.obs_size,) == (L * (n + 3) * n + 2,)
    np.testing.assert_array_equal(s.obs[: L * (n + 3) * n].reshape(L, n + 3, n), np.asarray(s.state.tensor))
    e_feature = (float(s.state.energy) - H3.e0) / float(h3.energy_scale)
    assert s.obs[-2] == pytest.approx(e_feature, abs=1e-12) and abs(s.obs[-2]) < 10  # normalised, not raw Ha
    assert s.obs[-1] == pytest.approx(2 / L)


# -------------------------------------------------------------------------------------------
# the mask (spec section 2): "illegal iff identical to the most recent gate on EVERY qubit it acts on"
# -------------------------------------------------------------------------------------------


def test_first_step_unmasked(h3):
    assert mask_names(reset(h3), h3) == set()


@pytest.mark.parametrize(
    "sequence, masked",
    [
        (["cx(0,1)"], {"cx(0,1)"}),  # repeated CNOT masked; cx(1,0) stays legal
        (["cx(1,0)"], {"cx(1,0)"}),
        (["ry(0)"], {"ry(0)"}),  # repeated same-axis rotation masked; rx(0), rz(0) legal
        (["rz(2)"], {"rz(2)"}),
        (["cx(0,1)", "cx(1,0)"], {"cx(1,0)"}),  # the reversed CNOT was legal and un-masks cx(0,1)
        (["ry(0)", "rx(0)"], {"rx(0)"}),  # other axis legal, and it un-masks ry(0)
        # a rotation in between un-masks the CNOT only if it touched one of its qubits:
        (["cx(0,1)", "rz(2)"], {"cx(0,1)", "rz(2)"}),
        (["cx(0,1)", "rz(1)"], {"rz(1)"}),  # touched the target
        (["cx(0,1)", "rx(0)"], {"rx(0)"}),  # touched the control
        # ... and a CNOT in between un-masks it iff it shares a qubit with it
        (["cx(0,1)", "cx(1,2)"], {"cx(1,2)"}),
        (["cx(0,2)", "cx(2,1)", "cx(0,2)"], {"cx(0,2)"}),
        # a rotation is re-allowed only by a gate on its own qubit
        (["ry(0)", "rz(1)"], {"ry(0)", "rz(1)"}),
        (["ry(0)", "cx(1,2)"], {"ry(0)", "cx(1,2)"}),
        (["ry(0)", "cx(1,0)"], {"cx(1,0)"}),
    ],
)
def test_mask_after_sequence(h3, sequence, masked):
    steps = play(h3, sequence, threshold=1e-12)
    assert not any(s.info["illegal"] for s in steps)
    assert mask_names(steps[-1].state, h3) == masked


def test_masked_action_is_rejected_but_reversed_cnot_is_not(h3):
    rev = play(h3, ["cx(0,1)", "cx(1,0)"], threshold=1e-12)
    assert not rev[-1].info["illegal"] and int(rev[-1].state.step) == 2
    rep = play(h3, ["cx(0,1)", "cx(0,1)"], threshold=1e-12)
    assert rep[-1].info["illegal"] and int(rep[-1].state.step) == 1


def test_coupling_map_restricts_cnots():
    p = E.make_params(H3, None, max_steps=10, halting=False, spsa=FAST, coupling_map=[(0, 1), (1, 2)])
    assert mask_names(reset(p), p) == {"cx(0,2)", "cx(1,0)", "cx(2,0)", "cx(2,1)"}
    ok = play(p, ["cx(1,2)"], threshold=1e-12)[-1]
    assert not ok.info["illegal"]
    bad = play(p, ["cx(2,1)"], threshold=1e-12)[-1]
    assert bad.info["illegal"] and bad.terminated and bad.reward == -5.0
    # the coupling map and the repetition rule combine
    assert mask_names(ok.state, p) == {"cx(0,2)", "cx(1,0)", "cx(2,0)", "cx(2,1)", "cx(1,2)"}


# -------------------------------------------------------------------------------------------
# ASAP placement, depth and the encoding (spec section 3)
# -------------------------------------------------------------------------------------------

# (gate, moments after it) hand-computed for 3 qubits; see also tests/test_actions.py
ASAP = [
    ("cx(0,1)", (1, 1, 0)),
    ("rx(0)", (2, 1, 0)),
    ("ry(2)", (2, 1, 1)),  # layer 0: qubit 2 was still free
    ("cx(2,1)", (2, 2, 2)),
    ("rz(1)", (2, 3, 2)),
    ("cx(0,1)", (4, 4, 2)),  # layer max(2, 3) = 3: the target was the busier qubit
    ("cx(0,2)", (5, 4, 5)),  # layer max(4, 2) = 4: the control was the busier qubit
    ("rx(2)", (5, 4, 6)),
    ("ry(1)", (5, 5, 6)),  # layer 4, next to cx(0,2)
]
ASAP_ONES = {(0, 1, 0), (1, 3, 0), (0, 4, 2), (1, 1, 2), (2, 5, 1), (3, 1, 0), (4, 2, 0), (5, 3, 2), (4, 4, 1)}


def test_asap_layers_and_depth(h3):
    steps = play(h3, [g for g, _ in ASAP], threshold=1e-12)
    cnots = 0
    for t, ((gate, moments), s) in enumerate(zip(ASAP, steps, strict=True)):
        cnots += gate.startswith("cx")
        assert tuple(np.asarray(s.state.moments)) == moments, gate
        assert s.info["depth"] == max(moments)
        assert s.info["gates"] == t + 1 and s.info["cnots"] == cnots
    tensor = np.asarray(steps[-1].state.tensor)
    assert {tuple(int(i) for i in ix) for ix in zip(*np.nonzero(tensor), strict=True)} == ASAP_ONES
    assert tensor.sum() == len(ASAP)
    assert host_circuit(steps[-1].state, 3).depth() == 6 == steps[-1].info["depth"]


@pytest.mark.parametrize("control, target", [(0, 1), (1, 0)])
def test_encoding_cnot_target_row_control_column(h2, control, target):
    s = play(h2, [f"cx({control},{target})"], threshold=1e-12)[-1]
    tensor = np.asarray(s.state.tensor)
    assert tensor[0, target, control] == 1.0  # T[d, target, control]
    assert tensor[0, control, target] == 0.0  # not the transposed (published) convention
    assert tensor.sum() == 1.0
    # the simulated circuit has the same orientation: wires = (control, target)
    assert tuple(np.asarray(s.state.circuit.wires[0])) == (control, target)


def test_encoding_rotation_rows(h3):
    s = play(h3, ["rx(2)", "ry(1)", "rz(0)"], threshold=1e-12)[-1]
    tensor = np.asarray(s.state.tensor)
    assert tensor[0, 3 + 0, 2] == tensor[0, 3 + 1, 1] == tensor[0, 3 + 2, 0] == 1.0
    assert tensor.sum() == 3.0


def test_decode_of_env_tensor_reproduces_gate_list(h3):
    names = [g for g, _ in ASAP]
    state = play(h3, names, threshold=1e-12)[-1].state
    decoded = A.decode(np.asarray(state.tensor))
    seq = [A.action_table(3)[A.parse_action(3, g)] for g in names]
    assert sorted(decoded) == sorted(seq)
    for q in range(3):  # same order on every qubit: equal up to commuting disjoint gates
        assert [g for g in decoded if q in g[1]] == [g for g in seq if q in g[1]]
    # and the circuit the simulator ran holds exactly the sequence, in order
    ops = [(g, w) for g, w, _ in host_circuit(state, 3).ops()]
    assert ops == seq


# -------------------------------------------------------------------------------------------
# the step optimises the NEW circuit (no published one-step lag)
# -------------------------------------------------------------------------------------------


def test_step_optimises_new_circuit(h2):
    """ry(0) then cx(0,1) spans the H2-2q ground state cos|00> + sin|11>: after the second step
    the energy must be E0. The published lag would return the optimum of ry(0) alone."""
    s1, s2 = play(h2, ["ry(0)", "cx(0,1)"])
    # step 1: the optimum of the 1-gate circuit ry(theta)|00> (brute force), not the empty circuit
    thetas = np.linspace(-np.pi, np.pi, 2001)
    one_gate = min(crlqas_kit.expectation(Circuit(2).ry(0), H2.hamiltonian, params=[t]) for t in thetas[::20])
    e_empty = crlqas_kit.expectation(Circuit(2), H2.hamiltonian)
    assert float(s1.state.energy) == pytest.approx(one_gate, abs=2e-3)
    assert abs(float(s1.state.energy) - e_empty) > 0.5
    assert s1.info["error"] > 0.5 and not s1.info["chemically_accurate"]
    # step 2: the optimum of the NEW 2-gate circuit = E0
    assert s2.info["error"] < CHEM and s2.info["chemically_accurate"]
    assert float(s2.state.energy) == pytest.approx(H2.e0, abs=CHEM)
    assert s2.reward == 5.0 and s2.terminated and s2.info["success"]


def test_returned_energy_is_the_returned_circuit_and_angles(h3):
    steps = play(h3, ["ry(0)", "cx(0,1)", "rx(2)", "cx(2,1)"], threshold=1e-12)
    for s in steps:
        circ = host_circuit(s.state, 3)
        assert circ.num_gates == int(s.state.step)
        e = crlqas_kit.expectation(circ, H3.hamiltonian)
        assert float(s.state.energy) == pytest.approx(e, abs=1e-10)
        assert float(s.state.exact_energy) == pytest.approx(e, abs=1e-10)
        assert s.info["error"] == pytest.approx(abs(e - H3.e0), abs=1e-10)


def test_append_gate_warm_start_new_angle_zero():
    append = jax.jit(E.append_gate, static_argnums=2)
    with jax.enable_x64(True):
        c = Circuit(3, 6).ry(0, 0.7).cx(0, 1).rz(2, -0.3)
        c = jax.tree.map(jnp.asarray, c)
        out = append(c, A.parse_action(3, "rx(1)"), 3, 0.0)
        assert int(out.length) == 4 and int(out.slots[3]) == 2
        np.testing.assert_allclose(np.asarray(out.angles[:3]), [0.7, -0.3, 0.0])
        out = append(c, A.parse_action(3, "cx(2,0)"), 3, 1.0)
        assert int(out.slots[3]) == -1 and tuple(np.asarray(out.wires[3])) == (2, 0)
        np.testing.assert_allclose(np.asarray(out.angles[:3]), [0.7, -0.3, 0.0])


def test_draw_new_angle_zeros_and_random():
    """zeros: exactly 0; random: N(0, scale^2) (4000 draws: sample sd within 6 % of the scale,
    mean within 4 standard errors of 0)."""
    zeros = E.make_params(H2, None, max_steps=8, halting=False)
    assert E.draw_new_angle(jax.random.key(0), zeros) == 0.0
    wide = dataclasses.replace(zeros, new_angle="random", new_angle_scale=0.3)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(1), 4000)
        draws = np.asarray(jax.vmap(lambda k: E.draw_new_angle(k, wide))(keys))
    assert abs(draws.std() / 0.3 - 1) < 0.06 and abs(draws.mean()) < 4 * 0.3 / np.sqrt(4000)
    with pytest.raises(ValueError, match="new_angle_scale must be a positive"):
        E.make_params(H2, new_angle="random", new_angle_scale=0.0)


@pytest.mark.parametrize("new_angle", ["zeros", "random"])
def test_random_new_angle_leaves_a_stationary_start(new_angle):
    """RX(0) on |00> of H2-2q (PTM engine: no start jitter). The Hamiltonian is real, so
    ``E(t) = cos^2(t/2) H[00,00] + sin^2(t/2) H[10,10]`` (the cross term ``Im`` of a real matrix
    element vanishes) is even in ``t``: at ``t = 0`` every SPSA difference ``f(c D) - f(-c D)`` is
    exactly 0 and a zero start stays at the maximum ``H[00,00]`` (up to its calibration points, a
    move of ~0.1 rad); a small random start sees the slope and reaches the minimum ``H[10,10]`` at
    ``t = pi``. Both values come from the Hamiltonian's matrix, not from the simulator."""
    matrix = np.asarray(H2.hamiltonian.to_matrix()).real
    top, bottom = matrix[0, 0], matrix[2, 2]  # |00>, |10> (qubit 0 leftmost)
    assert top - bottom > 0.8 and abs(matrix[0, 2]) == 0.0
    params = E.make_params(
        H2, None, max_steps=4, halting=False, engine="ptm", new_angle=new_angle, new_angle_scale=0.05
    )
    energies = [float(play(params, ["rx(0)"], seed=s)[0].state.energy) for s in range(2)]
    if new_angle == "zeros":
        assert all(e > top - 0.01 for e in energies), energies
    else:
        np.testing.assert_allclose(energies, bottom, atol=1e-6)


# -------------------------------------------------------------------------------------------
# reward (spec section 5)
# -------------------------------------------------------------------------------------------


def shaped(prev, new, e_min, floor=1e-4):
    return float(np.clip((prev - new) / max(abs(prev - e_min), floor), -1.0, 1.0))


def test_reward_normalisation_is_bounded_near_convergence(h2):
    """Next to E_min the denominator |E_{t-1} - E_min| goes to 0; the floor (1e-4 Ha) bounds it.
    By hand: E_min = E_new - 1e-5, E_{t-1} = E_new + 2e-5: without the floor 2e-5 / 3e-5 = 0.67,
    with it 2e-5 / 1e-4 = 0.2."""
    e_new = float(play(h2, ["ry(0)"], threshold=1e-12)[0].state.energy)
    fake = dataclasses.replace(h2, e_min=like(h2.e_min, e_new - 1e-5))
    state = dataclasses.replace(reset(fake, threshold=1e-12), energy=like(h2.e_min, e_new + 2e-5))
    s = play(fake, ["ry(0)"], state=state, threshold=1e-12)[0]
    assert float(s.state.energy) == pytest.approx(e_new, abs=1e-12) and not s.info["success"]
    assert s.reward == pytest.approx(0.2, abs=1e-6)
    loose = dataclasses.replace(fake, reward_floor=1e-9)  # the unbounded published form
    assert play(loose, ["ry(0)"], state=state, threshold=1e-12)[0].reward == pytest.approx(2 / 3, abs=1e-6)


def test_shaped_reward_formula(h2):
    steps = play(h2, ["rx(0)", "ry(1)", "rz(0)", "ry(0)", "rx(1)"])  # product states: no success
    prev = float(reset(h2).energy)
    for s in steps:
        e = float(s.state.energy)
        assert not s.terminated and not s.info["success"]
        assert s.reward == pytest.approx(shaped(prev, e, H2.e0), abs=1e-12)
        prev = e
    assert steps[1].reward != 0.0  # at least one reward is a non-trivial improvement


def test_shaped_reward_clipped_at_minus_one(h2):
    state = reset(h2)
    state = dataclasses.replace(state, energy=like(state.energy, H2.e0 + 1e-3))  # E_{t-1} next to E_min
    s = play(h2, ["ry(1)"], state=state)[0]
    raw = (H2.e0 + 1e-3 - float(s.state.energy)) / 1e-3
    assert raw < -100 and s.reward == -1.0 and not s.terminated


def test_shaped_reward_clipped_at_plus_one(h2):
    fake = dataclasses.replace(h2, e_min=like(h2.e_min, -0.2))  # a reference above the reachable energy
    state = reset(fake)
    state = dataclasses.replace(state, energy=like(state.energy, 0.0))
    s = play(fake, ["ry(0)"], state=state)[0]
    e = float(s.state.energy)
    assert e < -0.3  # the optimum of ry(0)|00> is about -0.35
    assert (0.0 - e) / 0.2 > 1.0 and s.reward == 1.0 and not s.info["success"]


def test_success_reward_and_termination(h2):
    s = play(h2, ["ry(0)", "cx(0,1)"])[-1]
    assert s.reward == 5.0 and s.terminated and not s.truncated and s.info["success"]
    assert bool(s.state.done)
    # success is measured against the threshold xi, not chemical accuracy: a loose xi succeeds at step 1
    s = play(h2, ["ry(0)"], threshold=1.0)[-1]
    assert s.info["success"] and s.reward == 5.0 and s.terminated and not s.info["chemically_accurate"]


def test_failure_reward_at_last_step(h2):
    steps = play(h2, ["rx(0)", "ry(0)", "rx(0)", "ry(0)", "rx(1)", "ry(1)", "rx(1)", "ry(1)"])  # L = 8
    assert [s.terminated for s in steps] == [False] * 7 + [True]
    assert steps[-1].reward == -5.0 and not steps[-1].info["success"] and not steps[-1].truncated
    assert all(-1.0 <= s.reward <= 1.0 for s in steps[:-1])
    # nothing more can be appended
    after = play(h2, ["rz(0)"], state=steps[-1].state)[0]
    assert after.info["illegal"] and int(after.state.step) == 8


def test_failure_reward_tiny_max_steps(h2_alt):
    state = reset(h2_alt)
    state = dataclasses.replace(state, halt_step=like(state.halt_step, 3))  # no halt before L = 3
    steps = play(h2_alt, ["rx(0)", "ry(1)", "rz(0)"], state=state)
    assert [s.reward for s in steps][-1] == -5.0
    assert [s.terminated for s in steps] == [False, False, True] and not steps[-1].truncated
    assert not steps[-1].info["halted"]


def test_illegal_action_ends_episode(h2):
    s1, s2 = play(h2, ["ry(0)", "ry(0)"], threshold=1e-12)
    assert not s1.info["illegal"]
    assert s2.info["illegal"] and s2.reward == -5.0 and s2.terminated and not s2.truncated
    assert not s2.info["success"]
    # nothing was appended: same circuit, tensor, energy; only `done` changed
    assert int(s2.state.step) == 1 and int(s2.state.circuit.length) == 1
    np.testing.assert_array_equal(np.asarray(s2.state.tensor), np.asarray(s1.state.tensor))
    assert float(s2.state.energy) == float(s1.state.energy) and bool(s2.state.done)
    assert s2.info["gates"] == 1


@pytest.mark.parametrize("action", [8, 100, -1])
def test_out_of_range_action_is_illegal(h2, action):
    s = play(h2, [action])[0]
    assert s.info["illegal"] and s.reward == -5.0 and s.terminated and int(s.state.step) == 0


def test_step_after_done_is_illegal(h2):
    done = play(h2, ["ry(0)", "cx(0,1)"])[-1]
    assert done.terminated
    assert mask_names(done.state, h2) == set(n for n in (f"{g}({','.join(map(str, w))})" for g, w in A.action_table(2)))
    after = play(h2, ["rx(1)"], state=done.state)[0]
    assert after.info["illegal"] and int(after.state.step) == 2


def test_info_reports_true_error_separately(h2):
    fake = dataclasses.replace(h2, e_min=like(h2.e_min, H2.e0 - 1.0))  # reward reference != E0
    s = play(fake, ["ry(0)", "cx(0,1)"])[-1]
    assert s.info["error"] < CHEM and s.info["chemically_accurate"]  # true error vs E0 ...
    assert not s.info["success"] and s.reward != 5.0  # ... while the reward uses E_min
    assert set(s.info) >= {"error", "chemically_accurate", "success", "illegal", "halted", "gates", "cnots", "depth"}


# -------------------------------------------------------------------------------------------
# random halting (spec section 4)
# -------------------------------------------------------------------------------------------


_draw = jax.jit(jax.vmap(E.sample_halt_step, in_axes=(0, None)))  # one compile per static config


def halt_draws(params, n, seed=0):
    with jax.enable_x64(True):
        return np.asarray(_draw(jax.random.split(jax.random.key(seed), n), params))


def test_halting_follows_negative_binomial(h2):
    """Mean r(1-p)/p and variance r(1-p)/p^2 (failures before the r-th success), clip negligible."""
    n, r, p = 20000, 70.0, 0.573
    wide = dataclasses.replace(h2, halting=True, halt_r=r, halt_p=p, halt_min=0, max_steps=10**6)
    h = halt_draws(wide, n)
    mean, var = r * (1 - p) / p, r * (1 - p) / p**2
    kurtosis = 6 / r + p**2 / (r * (1 - p))  # excess kurtosis of the negative binomial
    se_mean = np.sqrt(var / n)
    se_var = var * np.sqrt(2 / (n - 1) + kurtosis / n)
    assert abs(h.mean() - mean) < 5 * se_mean, (h.mean(), mean)
    assert abs(h.var(ddof=1) - var) < 5 * se_var, (h.var(ddof=1), var)
    # and the distribution itself: P(h <= median) against scipy's nbinom(r, p)
    q = int(stats.nbinom.median(r, p))
    cdf = stats.nbinom.cdf(q, r, p)
    assert abs(np.mean(h <= q) - cdf) < 5 * np.sqrt(cdf * (1 - cdf) / n)


@pytest.mark.parametrize(("r", "p", "L"), [(70.0, 0.573, 10**6), (70.0, 0.573, 70), (70.0, 0.737, 40), (1.5, 0.2, 500)])
def test_halting_table_is_the_negative_binomial_cdf(r, p, L):
    """The sampler's inverse-CDF table against scipy's nbinom, and it reaches (almost) 1 unless cut at L."""
    table = E.halt_cdf(r, p, L)
    k = np.arange(table.size)
    np.testing.assert_allclose(table, stats.nbinom.cdf(k, r, p), rtol=1e-12, atol=1e-15)
    assert table.size == L or (table.size < L and 1 - table[-1] < 1e-13)  # cumsum rounding


def test_halting_frequencies_follow_the_pmf(h2):
    """Every value's frequency over 40,000 draws (a wide clip) against nbinom's pmf: a sampler off
    by one (e.g. counting entries < u instead of <= u) shifts the whole histogram and fails."""
    n, r, p = 40000, 70.0, 0.573
    wide = dataclasses.replace(h2, halting=True, halt_r=r, halt_p=p, halt_min=0, max_steps=10**6)
    h = halt_draws(wide, n, seed=3)
    k = np.arange(20, 100)
    observed = np.array([np.sum(h == v) for v in k])
    expected = n * stats.nbinom.pmf(k, r, p)
    chi2 = np.sum((observed - expected) ** 2 / expected)
    assert chi2 < stats.chi2.ppf(0.9999, k.size - 1), chi2
    shifted = n * stats.nbinom.pmf(k - 1, r, p)  # the off-by-one sampler's expected counts
    assert np.sum((observed - shifted) ** 2 / shifted) > stats.chi2.ppf(0.9999, k.size - 1)


def test_halting_published_clip_support(h2):
    """The published clip [25, L=70]: support inside it, the clipped mass piles up at both ends;
    and ``reset`` draws its halting step with exactly this sampler."""
    n = 40000
    pub = dataclasses.replace(h2, halting=True, halt_r=70.0, halt_p=0.573, halt_min=25, max_steps=70)
    h = halt_draws(pub, n, seed=1)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(1), n)[:16]
        np.testing.assert_array_equal(np.asarray(reset_batch(keys, pub, CHEM)[1].halt_step), h[:16])
    assert h.min() >= 25 and h.max() <= 70
    low, high = stats.nbinom.cdf(25, 70, 0.573), stats.nbinom.sf(69, 70, 0.573)
    for observed, expected in ((np.mean(h == 25), low), (np.mean(h == 70), high)):
        assert abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / n) + 1e-4
    assert (h == 25).any() and (h == 70).any()
    k = np.arange(0, 400)
    clipped_mean = np.sum(np.clip(k, 25, 70) * stats.nbinom.pmf(k, 70, 0.573))
    assert abs(h.mean() - clipped_mean) < 5 * h.std() / np.sqrt(n)


def test_halting_off(h2):
    assert set(halt_draws(h2, 10)) == {8}  # halting=False: the episode runs to L
    assert int(reset(h2).halt_step) == 8


def test_halting_is_terminal_by_default(h2):
    assert h2.halt_terminal is True
    state = reset(h2)
    state = dataclasses.replace(state, halt_step=like(state.halt_step, 2))
    s1, s2 = play(h2, ["rx(0)", "ry(1)"], state=state)
    assert not s1.terminated and not s1.info["halted"]
    assert s2.info["halted"] and s2.terminated and not s2.truncated and bool(s2.state.done)
    assert s2.reward == pytest.approx(shaped(float(s1.state.energy), float(s2.state.energy), H2.e0), abs=1e-12)


def test_success_at_halting_step_is_a_success(h2):
    state = reset(h2)
    state = dataclasses.replace(state, halt_step=like(state.halt_step, 2))
    s = play(h2, ["ry(0)", "cx(0,1)"], state=state)[-1]
    assert s.info["success"] and not s.info["halted"] and s.reward == 5.0 and s.terminated


def test_halting_truncates_with_halt_terminal_false(h2_alt):
    state = reset(h2_alt, seed=3)
    assert int(state.halt_step) == 2
    s1, s2 = play(h2_alt, ["rx(0)", "ry(1)"], state=state)
    assert not s1.terminated and not s1.truncated
    assert s2.truncated and not s2.terminated and s2.info["halted"] and bool(s2.state.done)
    assert -1.0 <= s2.reward <= 1.0  # the shaped reward, not the failure reward
    assert play(h2_alt, ["rz(0)"], state=s2.state)[0].info["illegal"]


# -------------------------------------------------------------------------------------------
# compilation, batching, reproducibility, shots
# -------------------------------------------------------------------------------------------


def test_no_recompilation_as_circuit_grows(h3):
    actions = ["ry(0)", "cx(0,1)", "rz(2)", "cx(2,1)", "rx(1)", "cx(1,0)", "ry(2)", "cx(0,2)"]
    state = reset(h3, threshold=1e-12)
    play(h3, actions[:1], state=state)  # compiles (or reuses) the step
    traces, cache = S.TRACE_COUNT["simulate"], E.step_jit._cache_size()
    steps = play(h3, actions, state=state, threshold=1e-12)
    assert [int(s.state.step) for s in steps] == list(range(1, 9))
    assert not any(s.info["illegal"] for s in steps)
    assert S.TRACE_COUNT["simulate"] == traces
    assert E.step_jit._cache_size() == cache


@pytest.mark.parametrize("strategy", ["auto", "map"])
def test_batch_of_8_envs_equals_8_single_runs(h3, strategy):
    """``auto`` is the lock-step vmap on 3 qubits (gather kernel); ``map`` runs the 8 one after
    another inside one compiled call (switch kernel, as ``step_jit``)."""
    B, rng = 8, np.random.default_rng(0)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(42), B)
        _, batch = reset_batch(keys, h3, CHEM)
        singles = [E.reset_jit(keys[i], h3, CHEM)[1] for i in range(B)]
        for t in range(3):
            masks = np.asarray(jax.jit(jax.vmap(E.action_mask, in_axes=(0, None)))(batch, h3))
            actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks], np.int32)
            keys = jax.random.split(jax.random.fold_in(jax.random.key(7), t), B)
            _, batch, rewards, term, trunc, info = step_batch(keys, batch, jnp.asarray(actions), h3, strategy=strategy)
            for i in range(B):
                _, singles[i], r, te, tr, inf = E.step_jit(keys[i], singles[i], int(actions[i]), h3)
                assert float(batch.energy[i]) == pytest.approx(float(singles[i].energy), abs=1e-9)
                assert float(rewards[i]) == pytest.approx(float(r), abs=1e-9)
                assert bool(term[i]) == bool(te) and bool(trunc[i]) == bool(tr)
                np.testing.assert_allclose(
                    np.asarray(batch.circuit.angles[i]), np.asarray(singles[i].circuit.angles), atol=1e-7
                )
                np.testing.assert_array_equal(np.asarray(batch.tensor[i]), np.asarray(singles[i].tensor))
                assert int(info["depth"][i]) == int(inf["depth"])
    assert len({float(e) for e in np.asarray(batch.energy)}) > 1  # the 8 environments differ


def test_batch_strategy_validated(h3):
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(0), 2)
        _, states = reset_batch(keys, h3, CHEM)
        with pytest.raises(ValueError, match="strategy"):
            step_many(keys, states, jnp.zeros(2, jnp.int32), h3, strategy="pmap")
    assert VMAP_MAX_QUBITS == 4


def test_env_devices_rule(h3):
    """A batch is split from 2 environments and 2 devices, one part per device at most, unless the
    inner optimiser splits its own points (noisy from 7 qubits): the two splits never nest."""
    devices = jax.devices()
    with jax.enable_x64(True):
        h7 = E.make_params(PROBLEM_7Q, "depolarizing")
        h7_clean = E.make_params(PROBLEM_7Q, None)
    assert env_devices(1, h3) is None
    if len(devices) < 2:
        assert env_devices(8, h3) is None
        return
    assert env_devices(8, h3) == devices[: min(len(devices), 8)] and env_devices(2, h3) == devices[:2]
    assert env_devices(8, h7) is None  # 2 points x 4^7 entries: the optimiser splits them
    assert env_devices(8, h7_clean) == devices[: min(len(devices), 8)]  # 2 x 2^7 amplitudes: it does not


def test_same_key_reproduces_episode(h3):
    actions = ["ry(0)", "cx(0,1)", "rx(2)", "cx(1,2)", "rz(0)"]
    a = play(h3, actions, seed=5, threshold=1e-12)
    b = play(h3, actions, seed=5, threshold=1e-12)
    c = play(h3, actions, seed=6, threshold=1e-12)
    for x, y in zip(a, b, strict=True):
        assert x.reward == y.reward and x.info == y.info
        np.testing.assert_array_equal(x.obs, y.obs)
        np.testing.assert_array_equal(np.asarray(x.state.circuit.angles), np.asarray(y.state.circuit.angles))
    assert any(
        not np.array_equal(np.asarray(x.state.circuit.angles), np.asarray(z.state.circuit.angles))
        for x, z in zip(a, c, strict=True)
    )


def test_shots_energy_is_noisy_and_reproducible(h2_alt):
    def episode(seed):
        state = reset(h2_alt, seed=seed, threshold=1e-12)
        state = dataclasses.replace(state, halt_step=like(state.halt_step, 3))  # no halt before L = 3
        return play(h2_alt, ["ry(0)", "rx(1)", "cx(0,1)"], seed=seed, state=state)

    a, b, c = episode(1), episode(1), episode(2)
    sigma = np.sqrt(np.sum(np.asarray(H2.hamiltonian.coeffs) ** 2) / 1000)  # upper bound of the shot noise
    for x, y, z in zip(a, b, c, strict=True):
        e, exact = float(x.state.energy), float(x.state.exact_energy)
        assert e != exact and abs(e - exact) < 6 * sigma
        assert e == float(y.state.energy) and exact == float(y.state.exact_energy)
        assert e != float(z.state.energy)
        circ = host_circuit(x.state, 2)
        assert exact == pytest.approx(crlqas_kit.expectation(circ, H2.hamiltonian), abs=1e-10)
        assert x.info["error"] == pytest.approx(abs(exact - H2.e0), abs=1e-12)  # logged without shot noise
