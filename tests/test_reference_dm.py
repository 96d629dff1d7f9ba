"""Tests of the independent density-matrix reference against analytic facts."""

import itertools
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

ATOL = 1e-10
RNG = np.random.default_rng(1234)


def random_state(n, rng=RNG):
    """Random full-rank density matrix."""
    A = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    rho = A @ A.conj().T
    return rho / np.trace(rho)


def ket_to_dm(psi):
    psi = np.asarray(psi, dtype=complex)
    return np.outer(psi, psi.conj())


def compose(first, second):
    """Kraus ops of 'second after first'."""
    return [B @ A for A in first for B in second]


# ----------------------------------------------------------------------------- states and gates
def test_states():
    rho = ref.basis_state("10")
    assert rho.shape == (4, 4) and rho.dtype == np.complex128
    assert rho[2, 2] == 1 and np.trace(rho) == 1
    assert np.allclose(ref.zero_state(3), ref.basis_state("000"))
    assert ref.expectation(rho, [("ZI", 1.0)]) == pytest.approx(-1)
    assert ref.expectation(rho, [("IZ", 1.0)]) == pytest.approx(1)


def test_gate_matrices():
    for M in (ref.X, ref.Y, ref.Z, ref.H, ref.S, ref.SX, ref.CNOT, ref.CZ, ref.rx(0.3), ref.ry(1.1), ref.rz(-2)):
        assert np.allclose(M @ M.conj().T, np.eye(len(M)))
    assert np.allclose(ref.SX @ ref.SX, ref.X)
    assert np.allclose(ref.S @ ref.S, ref.Z)
    assert np.allclose(ref.rx(np.pi), -1j * ref.X)
    assert np.allclose(ref.ry(np.pi), -1j * ref.Y)
    assert np.allclose(ref.rz(np.pi), -1j * ref.Z)
    t = 0.77
    for R, P in ((ref.rx, ref.X), (ref.ry, ref.Y), (ref.rz, ref.Z)):
        w, V = np.linalg.eigh(P)  # exp(-i t P/2) by eigendecomposition
        assert np.allclose(R(t), V @ np.diag(np.exp(-0.5j * t * w)) @ V.conj().T)


@pytest.mark.parametrize("theta", [0.0, 0.4, 1.3, np.pi, -2.2])
def test_rotations_expectations(theta):
    rho = ref.run(1, [("rx", (0,), theta)])
    assert ref.expectation(rho, [("Z", 1)]) == pytest.approx(np.cos(theta), abs=ATOL)
    assert ref.expectation(rho, [("Y", 1)]) == pytest.approx(-np.sin(theta), abs=ATOL)
    assert ref.expectation(rho, [("X", 1)]) == pytest.approx(0, abs=ATOL)
    rho = ref.run(1, [("ry", (0,), theta)])
    assert ref.expectation(rho, [("Z", 1)]) == pytest.approx(np.cos(theta), abs=ATOL)
    assert ref.expectation(rho, [("X", 1)]) == pytest.approx(np.sin(theta), abs=ATOL)
    rho = ref.run(1, [("h", (0,)), ("rz", (0,), theta)])
    assert ref.expectation(rho, [("X", 1)]) == pytest.approx(np.cos(theta), abs=ATOL)
    assert ref.expectation(rho, [("Y", 1)]) == pytest.approx(np.sin(theta), abs=ATOL)


def test_bell_state():
    rho = ref.run(2, [("h", (0,)), ("cx", (0, 1))])
    assert np.allclose(rho, ket_to_dm([1, 0, 0, 1]) / 2)
    for s, v in (("XX", 1), ("YY", -1), ("ZZ", 1), ("ZI", 0), ("XI", 0)):
        assert ref.expectation(rho, [(s, 1)]) == pytest.approx(v, abs=ATOL)


def test_cnot_orientation():
    assert np.allclose(ref.run(2, [("cx", (0, 1))], ref.basis_state("10")), ref.basis_state("11"))
    assert np.allclose(ref.run(2, [("cx", (0, 1))], ref.basis_state("01")), ref.basis_state("01"))
    assert np.allclose(ref.run(2, [("cx", (1, 0))], ref.basis_state("01")), ref.basis_state("11"))
    # non-adjacent and reversed wires on 4 qubits
    assert np.allclose(ref.run(4, [("cx", (3, 0))], ref.basis_state("0001")), ref.basis_state("1001"))
    assert np.allclose(ref.run(4, [("cx", (0, 2))], ref.basis_state("1000")), ref.basis_state("1010"))
    assert np.allclose(ref.run(4, [("cx", (3, 0))], ref.basis_state("1000")), ref.basis_state("1000"))
    assert np.allclose(ref.run(3, [("x", (1,))]), ref.basis_state("010"))


def test_embedding_matches_kron_and_swap():
    n = 3
    A, B = ref.rx(0.3) @ ref.ry(0.9), ref.H @ ref.rz(0.4)
    U2 = ref.CNOT @ np.kron(A, B)
    full = np.kron(U2, np.eye(2))
    assert np.allclose(ref.embed_operator(U2, (0, 1), n), full)
    assert np.allclose(ref.embed_operator(A, (1,), n), np.kron(np.kron(np.eye(2), A), np.eye(2)))
    # reversed order = conjugation by SWAP of the 2-qubit matrix
    SWAP = ref.CNOT @ np.kron(ref.H, ref.H) @ ref.CNOT @ np.kron(ref.H, ref.H) @ ref.CNOT
    assert np.allclose(ref.embed_operator(U2, (1, 0), n), np.kron(SWAP @ U2 @ SWAP, np.eye(2)))
    # CZ is symmetric
    assert np.allclose(ref.embed_operator(ref.CZ, (2, 0), n), ref.embed_operator(ref.CZ, (0, 2), n))
    # permuting qubits of the whole register: wires (2,0) on |q0 q1 q2> equals wires (0,1) on |q2 q0 q1>
    perm = [2, 0, 1]  # new qubit j <- old qubit perm[j]
    P = np.zeros((8, 8))
    for x in range(8):
        b = [(x >> (2 - q)) & 1 for q in range(3)]
        y = sum(b[perm[j]] << (2 - j) for j in range(3))
        P[y, x] = 1
    assert np.allclose(ref.embed_operator(U2, (2, 0), n), P.T @ np.kron(U2, np.eye(2)) @ P)


def test_apply_unitary_preserves_trace_and_hermiticity():
    rho = random_state(3)
    out = ref.run(3, [("h", (2,)), ("cx", (2, 0)), ("ry", (1,), 0.3), ("cz", (0, 2)), ("sx", (1,)), ("s", (0,))], rho)
    assert np.trace(out).real == pytest.approx(1)
    assert np.allclose(out, out.conj().T)
    assert np.allclose(np.linalg.eigvalsh(out), np.linalg.eigvalsh(rho))


# ----------------------------------------------------------------------------- channels
def random_channels(rng):
    t1 = rng.uniform(1e-5, 2e-4)
    return [
        ref.kraus_depolarizing_1q(rng.uniform()),
        ref.kraus_depolarizing_2q(rng.uniform()),
        ref.kraus_amplitude_damping(rng.uniform()),
        ref.kraus_phase_damping(rng.uniform()),
        ref.kraus_thermal_relaxation(t1, rng.uniform(0.05, 2.0) * t1, rng.uniform(0, 3e-4), rng.uniform()),
        ref.kraus_thermal_relaxation(t1, 2 * t1, rng.uniform(0, 3e-4)),
    ]


@pytest.mark.parametrize("seed", range(5))
def test_kraus_completeness(seed):
    for ops in random_channels(np.random.default_rng(seed)):
        d = ops[0].shape[0]
        assert np.allclose(sum(K.conj().T @ K for K in ops), np.eye(d), atol=1e-10)


def test_depolarizing():
    rho = random_state(1)
    assert np.allclose(ref.apply_kraus(rho, ref.kraus_depolarizing_1q(1.0), (0,), 1), np.eye(2) / 2)
    p = 0.3
    assert np.allclose(ref.apply_kraus(rho, ref.kraus_depolarizing_1q(p), (0,), 1), (1 - p) * rho + p * np.eye(2) / 2)
    assert np.allclose(ref.ptm_of_kraus(ref.kraus_depolarizing_1q(p)), np.diag([1, 1 - p, 1 - p, 1 - p]))
    rho2 = random_state(2)
    assert np.allclose(ref.apply_kraus(rho2, ref.kraus_depolarizing_2q(1.0), (0, 1), 2), np.eye(4) / 4)
    assert np.allclose(
        ref.apply_kraus(rho2, ref.kraus_depolarizing_2q(p), (1, 0), 2), (1 - p) * rho2 + p * np.eye(4) / 4
    )
    assert np.allclose(ref.ptm_of_kraus(ref.kraus_depolarizing_2q(p)), np.diag([1] + [1 - p] * 15))
    # on a pair of a 3-qubit register: (1-p) rho + p * I/4 (x) Tr_{0,2}(rho)
    rho3 = random_state(3)
    r1 = np.einsum("aibajb->ij", rho3.reshape(2, 2, 2, 2, 2, 2))
    expect = (1 - p) * rho3 + p * np.einsum("ac,ij,bd->aibcjd", np.eye(2) / 2, r1, np.eye(2) / 2).reshape(8, 8)
    assert np.allclose(ref.apply_kraus(rho3, ref.kraus_depolarizing_2q(p), (2, 0), 3), expect)


def test_amplitude_and_phase_damping_ptm():
    g = 0.37
    assert np.allclose(
        ref.ptm_of_kraus(ref.kraus_amplitude_damping(g)),
        [[1, 0, 0, 0], [0, np.sqrt(1 - g), 0, 0], [0, 0, np.sqrt(1 - g), 0], [g, 0, 0, 1 - g]],
    )
    lam = 0.21
    assert np.allclose(
        ref.ptm_of_kraus(ref.kraus_phase_damping(lam)), np.diag([1, np.sqrt(1 - lam), np.sqrt(1 - lam), 1])
    )
    rho = ref.apply_kraus(ref.basis_state("1"), ref.kraus_amplitude_damping(g), (0,), 1)
    assert np.allclose(rho, np.diag([g, 1 - g]))


@pytest.mark.parametrize("t1,t2", [(100e-6, 60e-6), (100e-6, 100e-6), (50e-6, 80e-6), (50e-6, 100e-6)])
def test_thermal_relaxation_decays(t1, t2):
    for t in (0.0, 1e-6, 3e-5, 2e-4):
        ops = ref.kraus_thermal_relaxation(t1, t2, t)
        rho = ref.apply_kraus(ref.basis_state("1"), ops, (0,), 1)
        assert ref.expectation(rho, [("Z", 1)]) == pytest.approx(1 - 2 * np.exp(-t / t1), abs=ATOL)
        plus = ref.run(1, [("h", (0,))])
        rho = ref.apply_kraus(plus, ops, (0,), 1)
        assert ref.expectation(rho, [("X", 1)]) == pytest.approx(np.exp(-t / t2), abs=ATOL)
        assert ref.expectation(rho, [("Z", 1)]) == pytest.approx(1 - np.exp(-t / t1), abs=ATOL)
        # closed form for p1 = 0: amplitude damping then phase damping, valid for all T2 <= 2 T1
        g = 1 - np.exp(-t / t1)
        lam = 1 - np.exp(-2 * t / t2 + t / t1)
        ad_pd = compose(ref.kraus_amplitude_damping(g), ref.kraus_phase_damping(lam))
        assert np.allclose(ref.ptm_of_kraus(ops), ref.ptm_of_kraus(ad_pd), atol=1e-10)


def test_thermal_relaxation_excited_population():
    t1, t2, p1 = 80e-6, 50e-6, 0.2
    for start in ("0", "1"):
        for t in (1e-5, 1e-4, 1.0):
            rho = ref.apply_kraus(ref.basis_state(start), ref.kraus_thermal_relaxation(t1, t2, t, p1), (0,), 1)
            e = np.exp(-t / t1)
            pop1 = int(start) * e + p1 * (1 - e)
            assert rho[1, 1].real == pytest.approx(pop1, abs=ATOL)
    assert np.allclose(ref.ptm_of_kraus(ref.kraus_thermal_relaxation(t1, t2, 0.0, p1)), np.eye(4), atol=1e-10)


def test_invalid_parameters():
    bad = [
        lambda: ref.kraus_depolarizing_1q(-0.1),
        lambda: ref.kraus_depolarizing_1q(1.2),
        lambda: ref.kraus_depolarizing_1q(np.nan),
        lambda: ref.kraus_depolarizing_2q(1.01),
        lambda: ref.kraus_amplitude_damping(-1e-3),
        lambda: ref.kraus_amplitude_damping(1.5),
        lambda: ref.kraus_phase_damping(2.0),
        lambda: ref.kraus_phase_damping(-0.5),
        lambda: ref.kraus_thermal_relaxation(10e-6, 21e-6, 1e-6),
        lambda: ref.kraus_thermal_relaxation(0.0, 1e-6, 1e-6),
        lambda: ref.kraus_thermal_relaxation(1e-5, -1e-6, 1e-6),
        lambda: ref.kraus_thermal_relaxation(1e-5, 1e-5, -1e-6),
        lambda: ref.kraus_thermal_relaxation(1e-5, 1e-5, 1e-6, 1.5),
        lambda: ref.apply_unitary(ref.zero_state(2), ref.CNOT, (1, 1), 2),
        lambda: ref.apply_unitary(ref.zero_state(2), ref.X, (2,), 2),
        lambda: ref.apply_unitary(ref.zero_state(2), ref.CNOT, (0,), 2),
        lambda: ref.run(2, [("foo", (0,))]),
        lambda: ref.run(1, [("rx", (0,))]),
        lambda: ref.basis_state("012"),
        lambda: ref.pauli_matrix("XA"),
        lambda: ref.readout_expectation(ref.zero_state(1), [("Z", 1)], 1.5, 0.0),
    ]
    for f in bad:
        with pytest.raises(ValueError):
            f()


def test_run_with_kraus_op():
    p = 0.25
    rho = ref.run(2, [("x", (1,)), ("kraus", (1,), ref.kraus_depolarizing_1q(p))])
    assert ref.expectation(rho, [("IZ", 1)]) == pytest.approx(-(1 - p))
    assert ref.expectation(rho, [("ZI", 1)]) == pytest.approx(1)


# ----------------------------------------------------------------------------- observables
def test_pauli_vector_and_reconstruction():
    assert np.allclose(ref.pauli_vector(ref.zero_state(1)), [1, 0, 0, 1])
    v = ref.pauli_vector(ref.basis_state("01"))
    assert v[0] == pytest.approx(1) and v[3] == pytest.approx(-1) and v[12] == pytest.approx(1)  # IZ=3, ZI=12
    assert v[15] == pytest.approx(-1)  # ZZ
    rho = random_state(2)
    v = ref.pauli_vector(rho)
    strings = ["".join(s) for s in itertools.product("IXYZ", repeat=2)]
    assert strings[6] == "XY"
    assert v[6] == pytest.approx(ref.expectation(rho, [("XY", 1)]))
    assert np.allclose(sum(c * ref.pauli_matrix(s) for s, c in zip(strings, v, strict=True)) / 4, rho)


def test_ptm_consistent_with_pauli_vector():
    rho = random_state(2)
    ops = ref.kraus_depolarizing_2q(0.1)
    ops = compose(
        ops,
        [
            np.kron(ref.kraus_amplitude_damping(0.3)[i], ref.kraus_phase_damping(0.2)[j])
            for i in range(2)
            for j in range(2)
        ],
    )
    R = ref.ptm_of_kraus(ops)
    assert np.allclose(R @ ref.pauli_vector(rho), ref.pauli_vector(ref.apply_kraus(rho, ops, (0, 1), 2)))
    U = ref.CNOT
    assert np.allclose(ref.ptm_of_kraus([U]) @ ref.pauli_vector(rho), ref.pauli_vector(U @ rho @ U.conj().T))


def test_expectation_and_pauli_matrix():
    assert np.allclose(ref.pauli_matrix("XZ"), np.kron(ref.X, ref.Z))
    rho = ref.basis_state("10")
    assert ref.expectation(rho, [("II", -0.5), ("ZI", 0.3), ("IZ", 0.7), ("ZZ", 2.0)]) == pytest.approx(
        -0.5 - 0.3 + 0.7 - 2.0
    )
    assert isinstance(ref.expectation(rho, [["ZZ", 1.0]]), float)


def test_readout_no_error_equals_expectation():
    rho = random_state(3)
    terms = [("".join(s), RNG.normal()) for s in itertools.product("IXYZ", repeat=3)]
    assert ref.readout_expectation(rho, terms, [0.0] * 3, [0.0] * 3) == pytest.approx(ref.expectation(rho, terms))


def test_readout_basic_flips():
    p10, p01 = 0.07, 0.13
    assert ref.readout_expectation(ref.zero_state(1), [("Z", 1)], [p10], [p01]) == pytest.approx(1 - 2 * p10)
    assert ref.readout_expectation(ref.basis_state("1"), [("Z", 1)], [p10], [p01]) == pytest.approx(-1 + 2 * p01)
    plus = ref.run(1, [("h", (0,))])
    assert ref.readout_expectation(plus, [("X", 1)], [p10], [p01]) == pytest.approx(1 - 2 * p10)
    y_plus = ref.run(1, [("rx", (0,), -np.pi / 2)])  # <Y> = +1
    assert ref.readout_expectation(y_plus, [("Y", 1)], [p10], [p01]) == pytest.approx(1 - 2 * p10)
    assert ref.readout_expectation(
        ref.zero_state(2), [("ZZ", 1), ("II", 0.5)], [0.1, 0.2], [0.0, 0.0]
    ) == pytest.approx(0.8 * 0.6 + 0.5)
    # qubits outside the term's support do not matter
    assert ref.readout_expectation(ref.zero_state(2), [("ZI", 1)], [0.1, 0.4], [0.3, 0.3]) == pytest.approx(0.8)


def test_readout_matches_analytic_formula_random_state():
    """Single-qubit response: E[(-1)^b] = (p01 - p10) + (1 - p10 - p01) <P>; the product over the support
    expands to sum over subsets T of the support of prod_{T}(1-p10-p01) prod_{support\\T}(p01-p10) <P_T>."""
    n = 3
    rho = random_state(n)
    p10, p01 = [0.02, 0.1, 0.05], [0.08, 0.03, 0.2]
    for s in ("ZZZ", "XIY", "YXZ", "IIX", "III"):
        support = [q for q in range(n) if s[q] != "I"]
        want = 0.0
        for mask in itertools.product([0, 1], repeat=len(support)):
            sub, w = list("I" * n), 1.0
            for q, keep in zip(support, mask, strict=True):
                if keep:
                    sub[q] = s[q]
                    w *= 1 - p10[q] - p01[q]
                else:
                    w *= p01[q] - p10[q]
            want += w * ref.expectation(rho, [("".join(sub), 1.0)])
        assert ref.readout_expectation(rho, [(s, 1.0)], p10, p01) == pytest.approx(want, abs=1e-12)
