"""State-vector engine: noiseless expectation values from ``2^n`` complex amplitudes.

Maths (see ``docs/simulator.md``)
---------------------------------
The state is ``psi[b] = <b|psi>``, complex128 of length ``2^n``; the basis index ``b`` has the
bit of qubit ``q`` at position ``n - 1 - q`` (qubit 0 most significant, as in the PTM engine).
Every gate of the kit is a controlled 2x2 unitary: a 1-qubit gate ``U`` on target ``t`` (no
control), CX = controlled-X and CZ = controlled-Z (control = first wire, target = second). With
``m = 2^(n-1-t)`` and ``bit = (b >> (n-1-t)) & 1``

    ``psi'[b] = U[bit, bit] psi[b] + U[bit, 1-bit] psi[b XOR m]``   where the control bits are 1,
    ``psi'[b] = psi[b]``                                            elsewhere.

A Pauli string with X/Y on the qubits of mask ``x``, Z/Y on those of mask ``z`` and ``n_Y`` Y
letters acts as ``P|b> = i^(n_Y) (-1)^popcount(b & z) |b XOR x>`` (bit-flip / phase form), so

    ``<psi|P|psi> = Re sum_b conj(psi[b XOR x]) i^(n_Y) (-1)^popcount(b & z) psi[b]``.

Terms sharing a flip mask ``x`` share the gather ``psi[b XOR x]``: a Hamiltonian with ``G``
distinct flip masks is stored as ``G`` masks and a ``(G, 2^n)`` complex table
``D[g, b] = sum_{k: x_k = x_g} c_k i^(n_Y,k) (-1)^popcount(b & z_k)``, and

    ``E = Re sum_g sum_b conj(psi[b XOR x_g]) D[g, b] psi[b]``      (``G 2^n`` work, no matrix).

Compilation
-----------
As for the PTM engine the circuit is data: one loop over the gates (``lax.scan`` over the
capacity, or a ``while`` loop over the ``length`` gates in use), the gate's 2x2 matrix is built
from its id and angle inside the loop. Kernels: ``"switch"`` (a ``lax.switch`` over the target
qubit, contiguous slices) and ``"gather"`` (branch-free index arithmetic and one gather, for a
``vmap`` over different circuits). Compiled once per ``(n_qubits, capacity, K, G)``.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .circuit import GATE_IDS, Circuit, fold_gates
from .paulis import PauliSum

_FIRST_2Q = GATE_IDS["cx"]
_SQRT_HALF = 1 / np.sqrt(2)
#: 2x2 unitaries of the fixed gates by gate id (CX / CZ: the controlled X / Z), complex128.
_FIXED = {
    GATE_IDS["x"]: [[0, 1], [1, 0]],
    GATE_IDS["y"]: [[0, -1j], [1j, 0]],
    GATE_IDS["z"]: [[1, 0], [0, -1]],
    GATE_IDS["h"]: [[_SQRT_HALF, _SQRT_HALF], [_SQRT_HALF, -_SQRT_HALF]],
    GATE_IDS["s"]: [[1, 0], [0, 1j]],
    GATE_IDS["sx"]: [[0.5 + 0.5j, 0.5 - 0.5j], [0.5 - 0.5j, 0.5 + 0.5j]],
    GATE_IDS["cx"]: [[0, 1], [1, 0]],
    GATE_IDS["cz"]: [[1, 0], [0, -1]],
}
_N_GATES = max(GATE_IDS.values()) + 1


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PauliTables:
    """A :class:`PauliSum` in bit-flip / phase form (see module docstring), as jit-friendly arrays.

    Attributes:
        flips: int32 ``(G,)`` distinct flip masks ``x_g``.
        diag: complex128 ``(G, 2^n)`` ``D[g, b]``, the coefficient-weighted phases of group ``g``.
        term_flip: int32 ``(K,)`` flip mask ``x_k`` of each term.
        term_phase_mask: int32 ``(K,)`` phase mask ``z_k`` of each term.
        term_phase: complex128 ``(K,)`` ``i^(n_Y,k)``.
    """

    flips: jnp.ndarray
    diag: jnp.ndarray
    term_flip: jnp.ndarray
    term_phase_mask: jnp.ndarray
    term_phase: jnp.ndarray


def batch_chunk(n_qubits: int) -> int:
    """Parameter sets evaluated together in a vmapped chunk: ``2^17`` complex amplitudes up to
    8 qubits (the whole batch of 64 in one vmap), ``2^13`` above, where the energy's
    ``(G, 2^n)`` table no longer fits in cache next to the states (measured, batch 64:
    n = 10 17 ms vs 23 ms with ``2^17``; n = 12 88 ms vs 125 ms)."""
    return max(1, 2 ** (17 - n_qubits) if n_qubits <= 8 else 2 ** (13 - n_qubits))


def pauli_masks(pauli: str) -> tuple[int, int, int]:
    """``(x, z, n_Y)`` of a Pauli string: ``P|b> = i^n_Y (-1)^popcount(b & z) |b ^ x>``."""
    n = len(pauli)
    x = sum(1 << (n - 1 - q) for q, ch in enumerate(pauli) if ch in "XY")
    z = sum(1 << (n - 1 - q) for q, ch in enumerate(pauli) if ch in "ZY")
    return x, z, pauli.count("Y")


def _popcount_parity(a: np.ndarray) -> np.ndarray:
    """``popcount(a) & 1`` elementwise for non-negative int64 arrays."""
    parity = np.zeros_like(a)
    while np.any(a):
        parity ^= a & 1
        a = a >> 1
    return parity


def pauli_tables(hamiltonian: PauliSum) -> PauliTables:
    """Bit-flip / phase tables of ``hamiltonian`` (host side, numpy; ``G 2^n`` complex entries)."""
    n = hamiltonian.n_qubits
    masks = np.array([pauli_masks(p) for p in hamiltonian.paulis], dtype=np.int64).reshape(-1, 3)
    phases = (1j) ** masks[:, 2]
    flips, group = np.unique(masks[:, 0], return_inverse=True)
    b = np.arange(2**n, dtype=np.int64)
    diag = np.zeros((len(flips), 2**n), np.complex128)
    for k, (c, z) in enumerate(zip(hamiltonian.coeffs, masks[:, 1], strict=True)):
        diag[group[k]] += c * phases[k] * (1 - 2 * _popcount_parity(b & z))
    return PauliTables(
        flips=jnp.asarray(flips, jnp.int32),
        diag=jnp.asarray(diag),
        term_flip=jnp.asarray(masks[:, 0], jnp.int32),
        term_phase_mask=jnp.asarray(masks[:, 1], jnp.int32),
        term_phase=jnp.asarray(phases.astype(np.complex128)),
    )


def basis_index(initial: jnp.ndarray) -> jnp.ndarray:
    """Basis index of the product state whose per-qubit Pauli vectors ``(n, 4)`` are ``initial``
    (``Z = +1`` for ``|0>``, ``-1`` for ``|1>``); qubit 0 is the most significant bit."""
    n = initial.shape[0]
    bits = (initial[:, 3] < 0).astype(jnp.int32)
    return jnp.sum(bits << jnp.arange(n - 1, -1, -1, dtype=jnp.int32))


#: 2x2 matrices of the fixed gates indexed by gate id (identity for id 0 and the rotations).
_FIXED_TABLE = np.stack([np.array(_FIXED.get(g, np.eye(2)), np.complex128) for g in range(_N_GATES)])
_AXES = np.zeros((_N_GATES, 3))  # one-hot rotation axis (x, y, z) by gate id
_AXES[GATE_IDS["rx"], 0] = _AXES[GATE_IDS["ry"], 1] = _AXES[GATE_IDS["rz"], 2] = 1.0


def gate_matrix(g: jnp.ndarray, theta: jnp.ndarray) -> jnp.ndarray:
    """The 2x2 complex matrix applied by gate id ``g`` with angle ``theta`` (target only for CX/CZ).

    Rotations ``exp(-i t A / 2) = cos(t/2) I - i sin(t/2) A`` with ``A = xX + yY + zZ`` one-hot:
    ``[[c - isz, -isx - sy], [-isx + sy, c + isz]]``; fixed gates from a constant table; the
    identity for id 0 (padding). Built with a few scalar selects (no per-gate table of matrices:
    at small ``n`` the loop body's op count, not the arithmetic, sets the time).
    """
    c, s = jnp.cos(theta / 2), jnp.sin(theta / 2)
    x, y, z = (jnp.asarray(_AXES)[g, k] for k in range(3))
    rot = jnp.array([[c - 1j * s * z, -1j * s * x - s * y], [-1j * s * x + s * y, c + 1j * s * z]])
    is_rot = (g >= GATE_IDS["rx"]) & (g <= GATE_IDS["rz"])
    return jnp.where(is_rot, rot.astype(jnp.complex128), jnp.asarray(_FIXED_TABLE)[g])


def _control_mask(g, wires, n: int):
    """Control-bit mask ``2^(n-1-w0)`` for CX/CZ, 0 for 1-qubit gates; and the target wire."""
    is_2q = g >= _FIRST_2Q
    target = jnp.where(is_2q, wires[1], wires[0])
    cmask = jnp.where(is_2q, jnp.left_shift(1, n - 1 - wires[0]), 0)
    return target, cmask.astype(jnp.int32)


def _controlled(new: jnp.ndarray, old: jnp.ndarray, cmask, n: int) -> jnp.ndarray:
    """``new`` where all bits of ``cmask`` are set, ``old`` elsewhere (flat ``(2^n,)`` states)."""
    idx = jnp.arange(2**n, dtype=jnp.int32)
    return jnp.where((idx & cmask) == cmask, new, old)


def apply_gather(psi: jnp.ndarray, u: jnp.ndarray, target, cmask, n: int) -> jnp.ndarray:
    """Branch-free controlled-``u`` on a dynamic ``target``: one gather ``psi[b ^ m]`` and a select."""
    idx = jnp.arange(2**n, dtype=jnp.int32)
    shift = n - 1 - target
    bit = (idx >> shift) & 1
    partner = psi[idx ^ jnp.left_shift(1, shift)]
    new = jnp.where(bit == 1, u[1, 1], u[0, 0]) * psi + jnp.where(bit == 1, u[1, 0], u[0, 1]) * partner
    return _controlled(new, psi, cmask, n)


def _apply_static(psi: jnp.ndarray, u: jnp.ndarray, cmask, q: int, n: int) -> jnp.ndarray:
    """Controlled-``u`` on a static target ``q``: the state as ``(2^q, 2, 2^(n-1-q))`` slices."""
    s = psi.reshape(2**q, 2, 2 ** (n - 1 - q))
    a0, a1 = s[:, 0], s[:, 1]
    new = jnp.stack([u[0, 0] * a0 + u[0, 1] * a1, u[1, 0] * a0 + u[1, 1] * a1], axis=1).reshape(-1)
    return _controlled(new, psi, cmask, n)


def evolve(
    initial: jnp.ndarray,
    circuit: Circuit,
    params: jnp.ndarray,
    kernel: str = "switch",
    loop: str = "scan",
) -> jnp.ndarray:
    """Final state ``psi`` (flat ``(2^n,)`` complex128) of ``circuit`` from the product state
    ``initial`` ``(n, 4)``, rotation angles ``params`` indexed by slot ``(capacity,)``.

    ``loop="scan"`` visits every capacity slot (reverse-differentiable; padding and unused
    slots take the identity branch); ``loop="while"`` only the ``length`` gates in use.
    """
    n = circuit.n_qubits
    params = jnp.asarray(params)
    psi = jnp.zeros(2**n, jnp.complex128).at[basis_index(initial)].set(1.0)
    branches = [partial(lambda q, s, u, c: _apply_static(s, u, c, q, n), q) for q in range(n)]
    branches.append(lambda s, u, c: s)  # identity: padding, unused slots

    def step(psi, gate):
        g, w, slot, active = gate
        u = gate_matrix(g, params[jnp.maximum(slot, 0)])
        target, cmask = _control_mask(g, w, n)
        if kernel == "gather":
            return apply_gather(psi, u, target, cmask, n)
        branch = jnp.where((g == 0) | ~active, n, target)
        return jax.lax.switch(branch, branches, psi, u, cmask)

    return fold_gates(step, psi, circuit, loop)


def energy(psi: jnp.ndarray, tables: PauliTables) -> jnp.ndarray:
    """``<psi|H|psi> = Re sum_g sum_b conj(psi[b ^ x_g]) D[g, b] psi[b]``; float64 scalar.

    Small tables (``G 2^n <= 2^13``) in one vectorised pass; larger ones by a ``lax.scan``
    over the ``G`` flip groups: each step is one gather and one fused
    multiply-reduce over ``2^n`` amplitudes (under ``vmap``, over the batch's ``(B, 2^n)``), so
    no ``(G, 2^n)`` (or ``(B, G, 2^n)``) intermediate is materialised.
    """
    idx = jnp.arange(psi.shape[-1], dtype=jnp.int32)
    if tables.diag.size <= 2**13:  # small: one vectorised pass (a loop's overhead would dominate)
        flipped = psi[idx[None, :] ^ tables.flips[:, None]]
        return jnp.real(jnp.sum(jnp.conj(flipped) * tables.diag * psi[None, :]))

    def group(total, xd):
        x, d = xd
        return total + jnp.real(jnp.sum(jnp.conj(psi[idx ^ x]) * d * psi)), None

    total, _ = jax.lax.scan(group, jnp.zeros((), jnp.float64), (tables.flips, tables.diag))
    return total


def term_expectations(psi: jnp.ndarray, tables: PauliTables) -> jnp.ndarray:
    """``<psi|P_k|psi>`` of every term, float64 ``(K,)`` (for finite-shot sampling)."""
    idx = jnp.arange(psi.shape[-1], dtype=jnp.int32)
    flipped = psi[idx[None, :] ^ tables.term_flip[:, None]]  # (K, 2^n)
    parity = jax.lax.population_count(idx[None, :] & tables.term_phase_mask[:, None]) & 1
    sign = (1 - 2 * parity).astype(jnp.float64)
    inner = jnp.sum(jnp.conj(flipped) * sign * psi[None, :], axis=1)
    return jnp.real(tables.term_phase * inner)
