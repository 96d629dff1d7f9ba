"""PTMs of unitaries and Kraus channels, the closed-form rotations, the CPTP / unital checks."""

from __future__ import annotations

import itertools
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crlqas_kit as ck
from crlqas_kit.sim.ptm import (
    GATE_PTMS,
    UNITARIES,
    choi_from_ptm,
    is_cptp,
    is_trace_preserving,
    is_unital,
    ptm_from_kraus,
    ptm_from_unitary,
    rotation_ptm,
    swap_qubits_ptm,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

FAST = settings(max_examples=30, deadline=None, database=None, derandomize=True)
angles = st.floats(-4 * np.pi, 4 * np.pi, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)
REF_GATES = {"x": ref.X, "y": ref.Y, "z": ref.Z, "h": ref.H, "s": ref.S, "sx": ref.SX, "cx": ref.CNOT, "cz": ref.CZ}
REF_ROT = {"x": ref.rx, "y": ref.ry, "z": ref.rz}
SWAP = np.eye(4)[[0, 2, 1, 3]]


def haar_unitary(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_kraus(d: int, m: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The ``m`` blocks of a random ``(m d) x d`` isometry: a random CPTP channel."""
    q, _ = np.linalg.qr(rng.normal(size=(m * d, d)) + 1j * rng.normal(size=(m * d, d)))
    return [q[i * d : (i + 1) * d] for i in range(m)]


# ----------------------------------------------------------------------------- gates
@pytest.mark.parametrize("name", list(REF_GATES))
def test_gate_ptms_match_reference(name):
    np.testing.assert_allclose(GATE_PTMS[name], ref.ptm_of_kraus([REF_GATES[name]]), atol=1e-14)
    np.testing.assert_allclose(UNITARIES[name], REF_GATES[name], atol=1e-15)
    r = GATE_PTMS[name]
    np.testing.assert_allclose(r @ r.T, np.eye(len(r)), atol=1e-14)  # orthogonal
    assert set(np.unique(r)) <= {-1.0, 0.0, 1.0}  # Clifford: a signed permutation
    assert is_cptp(r) and is_unital(r)


def test_known_gate_ptm_entries():
    # H swaps X and Z and flips Y; S maps X -> Y, Y -> -X; CNOT maps XI -> XX and IZ -> ZZ
    np.testing.assert_array_equal(GATE_PTMS["h"], [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, -1, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(GATE_PTMS["s"], [[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    cx = GATE_PTMS["cx"]
    assert cx[ck.pauli_index("XX"), ck.pauli_index("XI")] == 1
    assert cx[ck.pauli_index("ZZ"), ck.pauli_index("IZ")] == 1
    assert cx[ck.pauli_index("ZI"), ck.pauli_index("ZI")] == 1


@FAST
@given(angles, st.sampled_from("xyz"))
def test_rotation_closed_form_matches_unitary(theta, axis):
    with ck.enable_x64():
        r = np.asarray(rotation_ptm(axis, theta))
    assert r.dtype == np.float64
    np.testing.assert_allclose(r, ref.ptm_of_kraus([REF_ROT[axis](theta)]), atol=1e-13)
    np.testing.assert_allclose(r, ptm_from_unitary(REF_ROT[axis](theta)), atol=1e-13)
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-13)


def test_rotation_ptm_signs():
    # RX(t)|0>: <Z> = cos t, <Y> = -sin t  =>  column Z of the PTM is (0, 0, -sin t, cos t)
    t = 0.7
    with ck.enable_x64():
        np.testing.assert_allclose(rotation_ptm("x", t)[:, 3], [0, 0, -np.sin(t), np.cos(t)], atol=1e-15)
        np.testing.assert_allclose(rotation_ptm("y", t)[:, 3], [0, np.sin(t), 0, np.cos(t)], atol=1e-15)
        np.testing.assert_allclose(rotation_ptm("z", t)[:, 1], [0, np.cos(t), np.sin(t), 0], atol=1e-15)
    with pytest.raises(ValueError, match="rotation axis must be 'x', 'y' or 'z'"):
        rotation_ptm("w", 0.1)


def test_rotation_ptm_is_jittable_and_differentiable():
    with ck.enable_x64():
        t = 0.3
        d = jax.jacfwd(lambda th: rotation_ptm("y", th))(t)
        expected = np.zeros((4, 4))
        expected[3, 3] = expected[1, 1] = -np.sin(t)
        expected[1, 3], expected[3, 1] = np.cos(t), -np.cos(t)
        np.testing.assert_allclose(d, expected, atol=1e-15)
        batched = jax.jit(jax.vmap(lambda th: rotation_ptm("z", th)))(jnp.array([0.0, np.pi]))
        np.testing.assert_allclose(batched[1], np.diag([1, -1, -1, 1]), atol=1e-15)


# ----------------------------------------------------------------------------- unitaries and Kraus
@FAST
@given(seeds, st.sampled_from([2, 4]))
def test_random_unitary_ptm_orthogonal(seed, d):
    u = haar_unitary(d, np.random.default_rng(seed))
    r = ptm_from_unitary(u)
    assert r.shape == (d * d, d * d) and r.dtype == np.float64
    np.testing.assert_allclose(r @ r.T, np.eye(d * d), atol=1e-12)
    np.testing.assert_allclose(r, ref.ptm_of_kraus([u]), atol=1e-12)
    assert is_cptp(r) and is_unital(r)
    # a global phase does not change the PTM
    np.testing.assert_allclose(ptm_from_unitary(np.exp(0.7j) * u), r, atol=1e-12)


@FAST
@given(seeds, st.sampled_from([2, 4]), st.integers(1, 5))
def test_random_kraus_ptm_is_cptp_and_matches_reference(seed, d, m):
    kraus = random_kraus(d, m, np.random.default_rng(seed))
    r = ptm_from_kraus(kraus)
    assert r.dtype == np.float64
    np.testing.assert_allclose(r, ref.ptm_of_kraus(kraus), atol=1e-12)
    assert is_cptp(r) and is_trace_preserving(r)
    # and its Choi matrix round-trips through the reference's own Kraus extraction
    np.testing.assert_allclose(ref.ptm_of_kraus(ref.kraus_from_choi(choi_from_ptm(r))), r, atol=1e-10)


@FAST
@given(seeds, st.sampled_from([2, 4]))
def test_composition_and_tensor_products_stay_cptp(seed, d):
    rng = np.random.default_rng(seed)
    ka, kb = random_kraus(d, int(rng.integers(1, 4)), rng), random_kraus(d, int(rng.integers(1, 4)), rng)
    ra, rb = ptm_from_kraus(ka), ptm_from_kraus(kb)
    composed = [b @ a for a in ka for b in kb]  # b after a
    np.testing.assert_allclose(rb @ ra, ptm_from_kraus(composed), atol=1e-12)
    assert is_cptp(rb @ ra) and is_cptp(ra @ rb)
    if d == 2:
        np.testing.assert_allclose(np.kron(ra, rb), ptm_from_kraus([np.kron(a, b) for a in ka for b in kb]), atol=1e-12)
        assert is_cptp(np.kron(ra, rb))


def test_choi_matrix_layout():
    """``J[(i, a), (j, b)] = <a| L(|i><j|) |b>`` built directly from Kraus operators."""
    rng = np.random.default_rng(3)
    for d in (2, 4):
        kraus = random_kraus(d, 3, rng)
        direct = np.zeros((d * d, d * d), dtype=complex)
        for i, j in itertools.product(range(d), repeat=2):
            e = np.zeros((d, d))
            e[i, j] = 1
            direct[i * d : (i + 1) * d, j * d : (j + 1) * d] = sum(k @ e @ k.conj().T for k in kraus)
        np.testing.assert_allclose(choi_from_ptm(ptm_from_kraus(kraus)), direct, atol=1e-12)


def test_checks_can_say_no():
    transpose = np.diag([1.0, 1.0, -1.0, 1.0])  # rho -> rho^T: positive, trace preserving, not CP
    assert is_trace_preserving(transpose) and is_unital(transpose) and not is_cptp(transpose)
    assert not is_cptp(np.diag([1.0, 1.0, 1.0, 1.0 + 1e-3]))  # slightly too expanding
    lossy = np.diag([0.9, 1.0, 1.0, 1.0])
    assert not is_trace_preserving(lossy) and not is_cptp(lossy)
    ad = ref.ptm_of_kraus(ref.kraus_amplitude_damping(0.3))
    assert is_cptp(ad) and not is_unital(ad)
    assert not is_cptp(np.kron(transpose, np.eye(4)))


def test_swap_qubits_ptm():
    rng = np.random.default_rng(4)
    ra, rb = ptm_from_kraus(random_kraus(2, 2, rng)), ptm_from_kraus(random_kraus(2, 3, rng))
    np.testing.assert_allclose(swap_qubits_ptm(np.kron(ra, rb)), np.kron(rb, ra), atol=1e-14)
    kraus = random_kraus(4, 3, rng)
    r = ptm_from_kraus(kraus)
    swapped = ref.ptm_of_kraus([SWAP @ k @ SWAP for k in kraus])
    np.testing.assert_allclose(swap_qubits_ptm(r), swapped, atol=1e-12)
    np.testing.assert_allclose(swap_qubits_ptm(swap_qubits_ptm(r)), r, atol=0)
    with ck.enable_x64():
        np.testing.assert_allclose(np.asarray(swap_qubits_ptm(jnp.asarray(r))), swapped, atol=1e-12)
    # CNOT with control and target exchanged
    np.testing.assert_allclose(swap_qubits_ptm(GATE_PTMS["cx"]), ref.ptm_of_kraus([SWAP @ ref.CNOT @ SWAP]), atol=1e-14)


def test_bad_operators_rejected():
    with pytest.raises(ValueError, match="unitary"):
        ptm_from_unitary(np.array([[1, 1], [0, 1]]))
    with pytest.raises(ValueError, match="unitary"):
        ptm_from_unitary(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-empty list of square matrices"):
        ptm_from_kraus([])
    with pytest.raises(ValueError, match="square matrices of equal shape"):
        ptm_from_kraus([np.eye(2), np.eye(4)])
    with pytest.raises(ValueError, match="power of two"):
        ptm_from_kraus([np.eye(3)])
