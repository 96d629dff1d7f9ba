"""The state-vector engine against independent references and the PTM engine.

References: ``tests/reference_dm.py`` (dense density matrices, Kraus formalism) for n <= 5, and
for larger registers a dense *state-vector* reference built here from the same module's gate
matrices and ``embed_operator`` (``psi -> U_full psi``, ``<psi|P|psi>`` with dense Pauli
matrices): nothing of the kit's bit-flip / phase tables or kernels is reused. Gradients are
checked against the parameter-shift rule evaluated with the reference.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import crlqas_kit as ck
from crlqas_kit.rl import env as E
from crlqas_kit.rl.batch import for_batch
from crlqas_kit.sim import simulator
from crlqas_kit.sim import statevector as sv
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.paulis import PauliSum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

ATOL = 1e-10
CAP = 24
N_TERMS = 12
ROTATIONS = ("rx", "ry", "rz")
FIXED_1Q = ("x", "y", "z", "h", "s", "sx")
TWO_QUBIT = ("cx", "cz")


@pytest.fixture(autouse=True)
def _x64():
    """The kernels are called directly (``simulator._energy``): run them in float64 as the kit does."""
    with ck.enable_x64():
        yield


# ----------------------------------------------------------------------------- random problems
def random_terms(n: int, rng: np.random.Generator, k: int = N_TERMS) -> list[tuple[str, float]]:
    """Identity, an all-Y string (odd/even Y phases) and distinct random strings; random coefficients."""
    strings = ["I" * n, "Y" * n]
    while len(strings) < k:
        s = "".join(rng.choice(list("IXYZ"), size=n))
        if s not in strings:
            strings.append(s)
    return [(s, float(c)) for s, c in zip(strings, rng.normal(size=k), strict=True)]


def random_ops(n: int, rng: np.random.Generator, length: int = CAP) -> list[tuple]:
    """Every gate of the kit at least once when ``length >= 13`` (2-qubit ones reversed and
    non-adjacent too), then random gates; ``length`` gates in all."""
    names = list(ROTATIONS + FIXED_1Q + TWO_QUBIT)
    forced = [("cx", (n - 1, 0), None), ("cz", (n - 1, 0), None)]
    names += list(rng.choice(names, size=max(0, length - len(names) - len(forced))))
    names = names[: max(0, length - len(forced))]
    ops = list(forced)[:length]
    for name in names:
        if name in TWO_QUBIT:
            a, b = rng.choice(n, size=2, replace=False)
            ops.append((str(name), (int(a), int(b)), None))
        else:
            angle = float(rng.uniform(-2 * np.pi, 2 * np.pi)) if name in ROTATIONS else None
            ops.append((str(name), (int(rng.integers(n)),), angle))
    return [ops[i] for i in rng.permutation(len(ops))]


def ref_ops(ops: list[tuple]) -> list[tuple]:
    return [op if op[2] is not None else op[:2] for op in ops]


def ref_state(n: int, ops: list[tuple], initial: str | None = None) -> np.ndarray:
    """Dense state-vector reference: ``psi -> U_full psi`` with the reference's gate matrices."""
    psi = np.zeros(2**n, complex)
    psi[int(initial, 2) if initial else 0] = 1.0
    for name, wires, angle in ops:
        u = {"rx": ref.rx, "ry": ref.ry, "rz": ref.rz}[name](angle) if name in ROTATIONS else ref._FIXED[name]
        psi = ref.embed_operator(u, wires, n) @ psi
    return psi


def ref_energy(n: int, ops: list[tuple], terms, initial: str | None = None) -> float:
    if n <= 5:  # the density-matrix reference itself
        rho = ref.run(n, ref_ops(ops), None if initial is None else ref.basis_state(initial))
        return ref.expectation(rho, terms)
    psi = ref_state(n, ops, initial)
    return float(sum(c * np.vdot(psi, ref.pauli_matrix(s) @ psi).real for s, c in terms))


def with_angles(ops: list[tuple], angles) -> list[tuple]:
    it = iter(angles)
    return [(name, w, next(it) if a is not None else None) for name, w, a in ops]


# ----------------------------------------------------------------------------- engine choice
@pytest.mark.parametrize(
    ("noise", "engine"),
    [
        (None, "statevector"),
        ("none", "statevector"),
        ("depolarizing:p1=0", "statevector"),  # every channel the identity
        ("depolarizing", "ptm"),
        ("readout", "ptm"),
        ("depolarizing-2q", "ptm"),
    ],
)
def test_auto_engine_choice(noise, engine):
    ham = PauliSum.from_list([("ZI", 1.0), ("XX", 0.5)])
    assert simulator.Evaluator.create(ham, noise).engine == engine
    assert simulator.Evaluator.create(ham, noise, engine="ptm").engine == "ptm"


@pytest.mark.parametrize("noise", ["depolarizing", "readout:p10=0.01,p01=0.02", "thermal"])
def test_impossible_override_is_a_clear_error(noise):
    ham = PauliSum.from_list([("ZI", 1.0), ("XX", 0.5)])
    with pytest.raises(ValueError, match="engine='statevector' needs a noiseless model without readout error"):
        simulator.Evaluator.create(ham, noise, engine="statevector")
    circ = Circuit(2, CAP).ry(0, 0.3).cx(0, 1)
    with pytest.raises(ValueError, match="engine='statevector'"):
        ck.expectation(circ, ham, noise, engine="statevector")
    with pytest.raises(ValueError, match="engine must be one of"):
        simulator.Evaluator.create(ham, engine="dense")


def test_environment_uses_the_state_vector_when_noiseless():
    h2 = ck.load_problem("H2-2q")
    assert E.make_params(h2, None, max_steps=8).evaluator.engine == "statevector"
    assert E.make_params(h2, "depolarizing", max_steps=8).evaluator.engine == "ptm"
    assert E.make_params(h2, None, max_steps=8, engine="ptm").evaluator.engine == "ptm"
    batch = for_batch(E.make_params(h2, None, max_steps=8))
    assert batch.evaluator.kernel == "gather" and batch.evaluator.engine == "statevector"


# ----------------------------------------------------------------------------- against the references
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 8, 10])
def test_random_circuits_match_reference_and_ptm(n):
    rng = np.random.default_rng(100 + n)
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ev = simulator.Evaluator.create(ham)
    assert ev.engine == "statevector"
    ptm = simulator.Evaluator.create(ham, engine="ptm") if n <= 6 else None
    for draw in range(3 if n <= 6 else 2):
        ops = random_ops(n, rng, length=CAP - 3 * draw)  # some padding in the buffer
        circuit = Circuit.from_ops(n, ops, capacity=CAP)
        params = np.asarray(circuit.angles)
        e_ref = ref_energy(n, ops, terms)
        for kernel in ("switch", "gather"):
            for loop in ("scan", "while"):
                e = float(simulator._energy(dataclasses.replace(ev, kernel=kernel, loop=loop), circuit, params))
                assert abs(e - e_ref) <= ATOL, (n, draw, kernel, loop, e, e_ref)
        if ptm is not None:
            assert abs(float(simulator._energy(ptm, circuit, params)) - e_ref) <= ATOL
        # the amplitudes themselves (global phase included: same gate conventions)
        with ck.enable_x64():
            psi = np.asarray(simulator._state(ev, circuit, params)).reshape(-1)
        np.testing.assert_allclose(psi, ref_state(n, ops), rtol=0, atol=ATOL)


def test_public_functions_and_initial_bitstring():
    rng = np.random.default_rng(7)
    n = 4
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ops = random_ops(n, rng, length=20)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    for initial in (None, "1011"):
        e_ref = ref_energy(n, ops, terms, initial)
        for engine in ("auto", "statevector", "ptm"):
            assert abs(ck.expectation(circuit, ham, initial=initial, engine=engine) - e_ref) <= ATOL
    params = rng.uniform(-np.pi, np.pi, size=(5, circuit.n_params))
    batch = ck.expectation_batch(circuit, ham, params=params)
    expected = [ref_energy(n, with_angles(ops, row), terms) for row in params]
    np.testing.assert_allclose(batch, expected, rtol=0, atol=ATOL)
    ptm = ck.expectation_batch(circuit, ham, params=params, engine="ptm")
    np.testing.assert_allclose(ptm, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("n", [3, 7])
def test_per_term_expectations(n):
    """``expectations`` (used for finite-shot sampling) term by term against the reference."""
    rng = np.random.default_rng(20 + n)
    terms = random_terms(n, rng)
    ev = simulator.Evaluator.create(PauliSum.from_list(terms))
    ops = random_ops(n, rng)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    with ck.enable_x64():
        values = np.asarray(jax.jit(lambda e, c, p: e.expectations(c, p))(ev, circuit, circuit.angles))
    psi = ref_state(n, ops)
    expected = [np.vdot(psi, ref.pauli_matrix(s) @ psi).real for s, _ in terms]
    np.testing.assert_allclose(values, expected, rtol=0, atol=ATOL)
    assert abs(float(np.dot([c for _, c in terms], values)) - ref_energy(n, ops, terms)) <= ATOL


def test_pauli_masks_act_like_the_dense_matrices():
    n = 3
    for s in ["XYZ", "YYI", "IZY", "YII", "III"]:
        x, z, n_y = sv.pauli_masks(s)
        dense = ref.pauli_matrix(s)
        for b in range(2**n):
            col = np.zeros(2**n)
            col[b ^ x] = 1
            sign = (-1) ** bin(b & z).count("1")
            np.testing.assert_allclose(dense[:, b], (1j) ** n_y * sign * col, atol=1e-15)


# ----------------------------------------------------------------------------- grad and vmap
def param_shift(n, ops, terms, angles) -> np.ndarray:
    """Exact gradient of the reference energy by the parameter-shift rule (RX/RY/RZ generators P/2)."""
    grads = []
    for i in range(len(angles)):
        plus, minus = np.array(angles, float), np.array(angles, float)
        plus[i] += np.pi / 2
        minus[i] -= np.pi / 2
        grads.append(
            0.5 * (ref_energy(n, with_angles(ops, plus), terms) - ref_energy(n, with_angles(ops, minus), terms))
        )
    return np.array(grads)


@pytest.mark.parametrize("n", [3, 6])
def test_grad_matches_parameter_shift_and_ptm(n):
    rng = np.random.default_rng(40 + n)
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ops = random_ops(n, rng, length=18)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    angles = circuit.params
    expected = param_shift(n, ops, terms, angles)
    padded = jnp.asarray(circuit.angles)
    for engine in ("statevector", "ptm"):
        ev = simulator.Evaluator.create(ham, engine=engine)
        with ck.enable_x64():
            g = np.asarray(jax.jit(jax.grad(lambda p, e=ev: e.energy(circuit, p)))(padded))
        np.testing.assert_allclose(g[: len(angles)], expected, rtol=0, atol=ATOL, err_msg=engine)
        np.testing.assert_array_equal(g[len(angles) :], 0.0)


def test_vmap_over_parameters_and_over_circuits():
    rng = np.random.default_rng(11)
    n = 4
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    all_ops = [random_ops(n, rng, length=length) for length in (9, 14, 20, 24)]
    circuits = [Circuit.from_ops(n, ops, capacity=CAP) for ops in all_ops]
    stacked = jax.tree.map(lambda *a: jnp.stack([jnp.asarray(x) for x in a]), *circuits)
    expected = [ref_energy(n, ops, terms) for ops in all_ops]
    ev = simulator.Evaluator.create(ham)
    with ck.enable_x64():
        for kernel in ("gather", "switch"):
            for loop in ("scan", "while"):
                e = dataclasses.replace(ev, kernel=kernel, loop=loop)
                out = jax.jit(jax.vmap(lambda c, e=e: e.energy(c, c.angles)))(stacked)
                np.testing.assert_allclose(np.asarray(out), expected, rtol=0, atol=ATOL, err_msg=f"{kernel} {loop}")
        # vmap over parameter sets of one circuit, and the chunked ``energies``
        params = rng.uniform(-np.pi, np.pi, size=(6, CAP))
        want = [ref_energy(n, with_angles(all_ops[2], row), terms) for row in params]
        got = jax.jit(jax.vmap(ev.energy, in_axes=(None, 0)))(circuits[2], params)
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=ATOL)
        np.testing.assert_allclose(np.asarray(simulator._energies(ev, circuits[2], params)), want, rtol=0, atol=ATOL)


# ----------------------------------------------------------------------------- compile once
def test_new_architectures_angles_and_coefficients_do_not_recompile():
    rng = np.random.default_rng(5)
    n = 5
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ev = simulator.Evaluator.create(ham)
    assert ev.engine == "statevector"
    first = Circuit.from_ops(n, random_ops(n, rng, length=20), capacity=CAP + 1)  # own shape
    simulator._energy(ev, first, first.angles)  # compiles
    before = simulator.TRACE_COUNT["simulate"]
    for length in (4, 12, 23, 25):
        ops = random_ops(n, rng, length=length)
        circuit = Circuit.from_ops(n, ops, capacity=CAP + 1)
        e = float(simulator._energy(ev, circuit, circuit.angles))
        assert abs(e - ref_energy(n, ops, terms)) <= ATOL
    # new coefficients, same Pauli strings: a new evaluator of the same shapes
    ev2 = simulator.Evaluator.create(PauliSum.from_list([(s, 2 * c) for s, c in terms]))
    e2 = float(simulator._energy(ev2, circuit, circuit.angles))
    assert abs(e2 - 2 * ref_energy(n, ops, terms)) <= ATOL
    assert simulator.TRACE_COUNT["simulate"] == before, "a new circuit architecture / coefficients recompiled"
    simulator._energy(ev, Circuit.from_ops(n, ops, capacity=CAP + 2), np.zeros(CAP + 2))  # new capacity
    assert simulator.TRACE_COUNT["simulate"] == before + 1
