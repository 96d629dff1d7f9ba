"""The PTM engine: a Pauli vector carried through a circuit, gate by gate.

Maths (see ``docs/simulator.md``)
----------------------------------
The state is the real Pauli vector ``r_P = Tr(P rho)``, stored as an ``(4,) * n`` tensor (axis q
= qubit q, index I/X/Y/Z). A gate on wires ``w`` with noise channel ``N`` multiplies the axes ``w``
by the fused local PTM ``N @ G`` (4x4 or 16x16); nothing of size ``4^n x 4^n`` is ever built.
The fused switch kernel (``fused=True``; :class:`~crlqas_kit.sim.simulator.Evaluator` uses it from
:data:`~crlqas_kit.sim.simulator.FUSE_MIN_QUBITS` qubits) keeps each qubit's 1-qubit PTMs pending
and folds them into its next 2-qubit pass: ``N2 G2 (P_a (x) P_b)`` (exact: they commute with gates
on other qubits). Readout errors act on the final vector (:func:`measure`,
:func:`crlqas_kit.sim.noise.readout_map`).

Kernels: ``"switch"`` applies each gate with a ``lax.switch`` over its wires; ``"gather"`` moves
the gate's two wires to the front with an index gather (branch-free, for a ``vmap`` over different
circuits). Both give the same numbers; the state-vector counterpart is
:func:`crlqas_kit.sim.statevector.evolve`.
"""

from __future__ import annotations

import functools
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .circuit import GATE_IDS, Circuit, fold_gates
from .ptm import GATE_PTMS, rotation_ptm, swap_qubits_ptm

_FIXED_1Q = np.stack([GATE_PTMS[g] for g in ("x", "y", "z", "h", "s", "sx")])
_FIXED_2Q = np.stack([GATE_PTMS["cx"], GATE_PTMS["cz"]])
_FIRST_FIXED, _FIRST_2Q = GATE_IDS["x"], GATE_IDS["cx"]


def _pair_table(n: int) -> np.ndarray:
    """``table[a, b]`` = index of the unordered pair ``{a, b}`` among the ``n(n-1)/2`` pairs."""
    table = np.zeros((n, n), np.int32)
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    for k, (a, b) in enumerate(pairs):
        table[a, b] = table[b, a] = k
    return table


def _apply_1q(state: jnp.ndarray, m: jnp.ndarray, q: int) -> jnp.ndarray:
    """``state`` (4,)*n, ``m`` (4, 4): contract ``m`` into axis ``q``.

    Written as 16 scaled slice-adds rather than an einsum: XLA fuses them into one pass over the
    state, while ``dot_general`` would transpose the state around the contraction (4x slower).
    """
    n = state.ndim
    s = state.reshape(4**q, 4, 4 ** (n - 1 - q))
    rows = [sum(m[i, j] * s[:, j] for j in range(4)) for i in range(4)]
    return jnp.stack(rows, axis=1).reshape(state.shape)


def _apply_2q(state: jnp.ndarray, m: jnp.ndarray, a: int, b: int) -> jnp.ndarray:
    """``m`` (16, 16) on axes ``a < b`` (``a`` the more significant factor)."""
    n = state.ndim
    s = state.reshape(4**a, 4, 4 ** (b - a - 1), 4, 4 ** (n - 1 - b))
    out = jnp.einsum("ikjl,xjylz->xiykz", m.reshape(4, 4, 4, 4), s)
    return out.reshape(state.shape)


@functools.cache
def _pair_permutations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``src[a, b]``: flat source index of each position when axes ``(a, b)`` are moved to the
    front (remaining axes ascending), and its inverse ``dst[a, b]``; int32 ``(n, n, 4**n)``."""
    src = np.zeros((n, n, 4**n), np.int32)
    for a in range(n):
        for b in range(n):
            if a != b:
                rest = [q for q in range(n) if q not in (a, b)]
                src[a, b] = np.arange(4**n).reshape((4,) * n).transpose([a, b, *rest]).reshape(-1)
    dst = np.argsort(src, axis=-1).astype(np.int32)
    return src, dst


def _apply_pair_gather(state: jnp.ndarray, m: jnp.ndarray, a, b) -> jnp.ndarray:
    """``m`` (16, 16) on dynamic wires ``(a, b)`` (``a`` the more significant factor of ``m``).

    Gathers the state into the order ``(a, b, remaining axes ascending)``, multiplies by ``m``
    and gathers back with the inverse permutation; no branch depends on the wires.
    """
    n = state.ndim
    src, dst = (jnp.asarray(t) for t in _pair_permutations(n))
    flat = state.reshape(-1)
    out = (m @ flat[src[a, b]].reshape(16, -1)).reshape(-1)
    return out[dst[a, b]].reshape(state.shape)


def _branches(n: int) -> list:
    """``lax.switch`` branches: one per qubit, one per unordered pair, then the identity."""
    one = [partial(lambda q, s, m1, m2: _apply_1q(s, m1, q), q) for q in range(n)]
    two = [partial(lambda a, b, s, m1, m2: _apply_2q(s, m2, a, b), a, b) for a in range(n) for b in range(a + 1, n)]
    return [*one, *two, lambda s, m1, m2: s]


def evolve(
    initial: jnp.ndarray,
    one_qubit: jnp.ndarray,
    two_qubit: jnp.ndarray,
    circuit: Circuit,
    params: jnp.ndarray,
    kernel: str = "switch",
    loop: str = "scan",
    fused: bool = True,
) -> jnp.ndarray:
    """Final Pauli vector, float64 ``(4,) * n``, before readout (call under x64).

    ``initial`` ``(n, 4)`` per-qubit Pauli vectors of the product state; ``one_qubit``
    ``(2, n, 4, 4)`` and ``two_qubit`` ``(n, n, 16, 16)`` the noise channels after each gate
    (:meth:`crlqas_kit.sim.noise.NoiseModel.arrays`); ``params`` indexed by slot. ``kernel``:
    ``"switch"`` or ``"gather"`` (the latter for 2 or more qubits); ``loop``: ``"scan"`` or
    ``"while"`` (:func:`~crlqas_kit.sim.circuit.fold_gates`); ``fused``: the switch kernel folds
    each qubit's pending 1-qubit PTMs into its next 2-qubit pass (else one pass per gate).
    """
    n = initial.shape[0]
    state = initial[0]
    for q in range(1, n):
        state = jnp.multiply.outer(state, initial[q])
    pairs = jnp.asarray(_pair_table(n))
    branches = _branches(n)
    fixed1, fixed2 = jnp.asarray(_FIXED_1Q), jnp.asarray(_FIXED_2Q)
    eye = jnp.eye(4, dtype=state.dtype)

    def gate_ptms(g, w, slot):
        theta = params[jnp.maximum(slot, 0)]
        table1 = jnp.concatenate(
            [eye[None], jnp.stack([rotation_ptm(a, theta) for a in "xyz"]), fixed1, eye[None], eye[None]]
        )
        kind = (g >= _FIRST_FIXED).astype(jnp.int32)
        m1 = one_qubit[kind, w[0]] @ table1[g]
        m2 = two_qubit[w[0], w[1]] @ fixed2[jnp.clip(g - _FIRST_2Q, 0, 1)]
        return m1, m2

    def step_unfused(state, gate):
        g, w, slot, active = gate
        m1, m2 = gate_ptms(g, w, slot)
        m2 = jnp.where(w[0] > w[1], swap_qubits_ptm(m2), m2)
        branch = jnp.where(g >= _FIRST_2Q, n + pairs[w[0], w[1]], w[0])
        branch = jnp.where((g == 0) | ~active, len(branches) - 1, branch)
        return jax.lax.switch(branch, branches, state, m1, m2)

    def step(carry, gate):
        """Fused: a 1-qubit gate (with its noise) only multiplies its qubit's pending 4x4
        PTM; a 2-qubit gate applies ``N2 G2 (P_a (x) P_b)`` -- the pending PTMs of its two
        qubits folded in -- in one 16x16 pass. Exact: gates on other qubits commute with
        the pending ones. ``dirty`` (which qubits have pending gates) depends on the circuit
        only, so the final flush is a real branch per qubit even under a vmap over params."""
        state, pending, dirty = carry
        g, w, slot, active = gate
        m1, m2 = gate_ptms(g, w, slot)
        used = (g != 0) & active
        is_2q = used & (g >= _FIRST_2Q)
        is_1q = used & (g < _FIRST_2Q)
        m = m2 @ jnp.kron(pending[w[0]], pending[w[1]])
        m = jnp.where(w[0] > w[1], swap_qubits_ptm(m), m)
        branch = jnp.where(is_2q, n + pairs[w[0], w[1]], len(branches) - 1)
        state = jax.lax.switch(branch, branches, state, m1, m)
        eye_n = jnp.broadcast_to(eye, pending.shape)
        on_pair = (jnp.arange(n) == w[0]) | (jnp.arange(n) == w[1])
        pending = jnp.where((is_2q & on_pair)[:, None, None], eye_n, pending)
        pending = pending.at[w[0]].set(jnp.where(is_1q, m1 @ pending[w[0]], pending[w[0]]))
        dirty = jnp.where(is_2q & on_pair, False, dirty).at[w[0]].set(dirty[w[0]] | is_1q)
        return (state, pending, dirty), None

    def step_gather(state, gate):
        g, w, slot, active = gate
        m1, m2 = gate_ptms(g, w, slot)
        is_2q = g >= _FIRST_2Q
        m = jnp.where(is_2q, m2, jnp.kron(m1, eye))
        m = jnp.where((g == 0) | ~active, jnp.eye(16, dtype=m.dtype), m)
        second = jnp.where(is_2q, w[1], (w[0] + 1) % n)
        return _apply_pair_gather(state, m, w[0], second), None

    if kernel == "gather" and n >= 2:  # branch-free: vmaps over circuits without select
        return fold_gates(lambda s, gate: step_gather(s, gate)[0], state, circuit, loop)
    if not fused:  # one pass per gate: the 16x16 products would cost more than they save
        carry = (state, jnp.broadcast_to(eye, (n, 4, 4)), jnp.zeros(n, bool))
        return fold_gates(lambda c, gate: (step_unfused(c[0], gate), *c[1:]), carry, circuit, loop)[0]
    pending = jnp.broadcast_to(eye, (n, 4, 4))
    carry = (state, pending, jnp.zeros(n, bool))
    state, pending, dirty = fold_gates(lambda c, gate: step(c, gate)[0], carry, circuit, loop)
    for q in range(n):  # flush the 1-qubit gates left after each qubit's last 2-qubit gate
        state = jax.lax.cond(dirty[q], partial(_apply_1q, q=q), lambda s, m: s, state, pending[q])
    return state


def measure(state: jnp.ndarray, readout: jnp.ndarray) -> jnp.ndarray:
    """Apply the ``(n, 4, 4)`` readout maps to a Pauli vector ``(4,) * n``, qubit by qubit."""
    for q in range(state.ndim):
        state = _apply_1q(state, readout[q], q)
    return state
