"""Pauli transfer matrices (PTMs) of gates and channels.

Maths
-----
A k-qubit state is the real Pauli vector ``r_P = Tr(P rho)`` over the ``4**k`` Pauli strings
(index order I, X, Y, Z per qubit, qubit 0 most significant), so ``r_{I..I} = 1``.
A linear map ``L`` acts on it through its PTM

    ``R_PQ = Tr(P L(Q)) / 2**k``,   ``r' = R r``.

Composition is the matrix product (``R_{B after A} = R_B @ R_A``), tensor products are
``np.kron`` (qubit 0 the left factor), a unitary's PTM is orthogonal, a trace-preserving map has
first row ``(1, 0, ..., 0)`` and a unital map has first column ``(1, 0, ..., 0)``.
Complete positivity is checked on the Choi matrix ``J = sum_PQ R_PQ Q^T (x) P / 2**k`` (PSD).

A rotation ``R_A(t) = exp(-i t A / 2)`` (A in X, Y, Z) fixes I and A and rotates the two other
Paulis ``(B, C)``, cyclic after A (X -> Y -> Z -> X): ``B -> cos t B + sin t C``,
``C -> cos t C - sin t B``. :func:`rotation_ptm` uses this closed form and is jittable.
"""

from __future__ import annotations

import itertools
from functools import reduce

import jax.numpy as jnp
import numpy as np

from .paulis import PAULI_MATRICES

_SQRT_HALF = 1 / np.sqrt(2)

#: Unitaries of the kit's fixed (non-parametric) gates. Two-qubit ones act on (first, second) wire.
UNITARIES: dict[str, np.ndarray] = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
    "h": np.array([[1, 1], [1, -1]], dtype=complex) * _SQRT_HALF,
    "s": np.array([[1, 0], [0, 1j]], dtype=complex),
    "sx": 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex),
    "cx": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex),
    "cz": np.diag([1, 1, 1, -1]).astype(complex),
}


def rotation_unitary(axis: str, theta: float) -> np.ndarray:
    """``exp(-i theta A / 2)`` for ``axis`` in ``"x", "y", "z"`` (numpy, for references)."""
    a = PAULI_MATRICES["ixyz".index(axis)]
    return np.cos(theta / 2) * np.eye(2) - 1j * np.sin(theta / 2) * a


def _pauli_basis(k: int) -> np.ndarray:
    """All ``4**k`` k-qubit Pauli matrices in index order, shape ``(4**k, 2**k, 2**k)``."""
    return np.array([reduce(np.kron, combo) for combo in itertools.product(PAULI_MATRICES, repeat=k)])


def _n_qubits_of(dim: int) -> int:
    k = int(round(np.log2(dim)))
    if dim < 2 or 2**k != dim:
        raise ValueError(f"operator dimension {dim} is not a power of two >= 2")
    return k


def ptm_from_kraus(kraus: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """PTM of the channel ``rho -> sum_i K_i rho K_i^dagger``; shape ``(4**k, 4**k)``, real."""
    ops = [np.asarray(k, dtype=complex) for k in kraus]
    if not ops or any(op.ndim != 2 or op.shape != ops[0].shape or op.shape[0] != op.shape[1] for op in ops):
        raise ValueError("Kraus operators must be a non-empty list of square matrices of equal shape")
    k = _n_qubits_of(ops[0].shape[0])
    basis = _pauli_basis(k)
    images = sum(np.einsum("ab,qbc,dc->qad", op, basis, op.conj()) for op in ops)  # L(Q) for each Q
    ptm = np.einsum("pba,qab->pq", basis, images) / 2**k  # Tr(P L(Q)) / d
    if np.abs(ptm.imag).max() > 1e-10:
        raise ValueError("Kraus operators gave a non-Hermitian-preserving map (complex PTM)")
    return np.ascontiguousarray(ptm.real)


def ptm_from_unitary(u: np.ndarray) -> np.ndarray:
    """PTM of ``rho -> U rho U^dagger`` (an orthogonal matrix); raises if ``U`` is not unitary."""
    u = np.asarray(u, dtype=complex)
    if u.ndim != 2 or u.shape[0] != u.shape[1] or not np.allclose(u.conj().T @ u, np.eye(u.shape[0]), atol=1e-10):
        raise ValueError("ptm_from_unitary needs a square unitary matrix")
    return ptm_from_kraus([u])


def choi_from_ptm(ptm: np.ndarray) -> np.ndarray:
    """Choi matrix ``J = sum_ij |i><j| (x) L(|i><j|) = sum_PQ R_PQ Q^T (x) P / 2**k``."""
    ptm = np.asarray(ptm, dtype=float)
    k = _n_qubits_of(int(round(np.sqrt(ptm.shape[0]))))
    basis = _pauli_basis(k)
    return np.einsum("pq,qab,pcd->acbd", ptm, basis.transpose(0, 2, 1), basis).reshape(4**k, 4**k) / 2**k


def is_trace_preserving(ptm: np.ndarray, atol: float = 1e-10) -> bool:
    """First row equals ``(1, 0, ..., 0)``: ``Tr L(Q) = Tr Q`` for every Pauli ``Q``."""
    e0 = np.zeros(ptm.shape[0])
    e0[0] = 1
    return bool(np.allclose(ptm[0], e0, atol=atol))


def is_unital(ptm: np.ndarray, atol: float = 1e-10) -> bool:
    """First column equals ``(1, 0, ..., 0)``: ``L(I) = I``."""
    return is_trace_preserving(np.asarray(ptm).T, atol)


def is_cptp(ptm: np.ndarray, atol: float = 1e-10) -> bool:
    """Trace preserving and completely positive (Choi matrix positive semidefinite)."""
    return is_trace_preserving(ptm, atol) and bool(np.linalg.eigvalsh(choi_from_ptm(ptm)).min() > -atol)


#: PTMs of the fixed gates, float64 numpy.
GATE_PTMS: dict[str, np.ndarray] = {name: np.round(ptm_from_unitary(u), 14) for name, u in UNITARIES.items()}

# (fixed axis, B, C) with C = the Pauli after B in the cycle X -> Y -> Z -> X
_ROTATION_PLANES = {"x": (2, 3), "y": (3, 1), "z": (1, 2)}


def rotation_ptm(axis: str, theta) -> jnp.ndarray:
    """Closed-form ``4 x 4`` PTM of ``exp(-i theta A / 2)``; jittable and differentiable in ``theta``."""
    if axis not in _ROTATION_PLANES:
        raise ValueError(f"rotation axis must be 'x', 'y' or 'z', got {axis!r}")
    b, c = _ROTATION_PLANES[axis]
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    m = jnp.eye(4, dtype=jnp.result_type(theta, float))
    m = m.at[b, b].set(cos).at[c, c].set(cos)
    return m.at[c, b].set(sin).at[b, c].set(-sin)


def swap_qubits_ptm(ptm2: np.ndarray | jnp.ndarray):
    """Re-express a 2-qubit PTM with its two qubits exchanged (``(a,b) -> (b,a)``)."""
    xp = jnp if isinstance(ptm2, jnp.ndarray) else np
    return xp.reshape(xp.transpose(xp.reshape(ptm2, (4, 4, 4, 4)), (1, 0, 3, 2)), (16, 16))
