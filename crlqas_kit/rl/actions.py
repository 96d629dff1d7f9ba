"""The action table, the illegal-action mask and the 3D tensor encoding (spec sections 2-3).

Action table for ``n`` qubits (``n(n+2)`` actions):

* ``0 .. n(n-1)-1``: ``CNOT(c, t)`` for every ordered pair ``c != t``, control-major
  (``c = 0: t = 1..n-1``, then ``c = 1: t = 0, 2, ..``);
* ``n(n-1) + 3q + k``: rotation about axis ``k`` (0 = X, 1 = Y, 2 = Z) on qubit ``q``.

An action is **illegal** iff it equals the most recent gate on *every* qubit it acts on: an
immediately repeated CNOT(c, t) cancels and an immediately repeated same-axis rotation merges,
while CNOT(t, c) after CNOT(c, t) or RY after RX stay legal.

Encoding: the circuit is placed ASAP in layers with a per-qubit counter ``moments[q]``. A
rotation on ``q`` goes to layer ``moments[q]``; ``CNOT(c, t)`` to ``max(moments[c], moments[t])``.
The tensor ``T`` has shape ``(L, n + 3, n)``: ``T[d, target, control] = 1`` for a CNOT in layer
``d`` (rows ``0..n-1`` index the **target**, columns the **control**) and ``T[d, n + k, q] = 1``
for a rotation about axis ``k`` on ``q``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..sim.circuit import GATE_IDS

AXES = "xyz"


def n_actions(n_qubits: int) -> int:
    """``n(n-1) + 3n = n(n+2)``."""
    return n_qubits * (n_qubits + 2)


def action_table(n_qubits: int) -> list[tuple[str, tuple[int, ...]]]:
    """``[(gate, wires), ...]`` in action order, e.g. ``("cx", (0, 1))``, ``("ry", (2,))``."""
    cnots = [("cx", (c, t)) for c in range(n_qubits) for t in range(n_qubits) if c != t]
    rots = [(f"r{a}", (q,)) for q in range(n_qubits) for a in AXES]
    return cnots + rots


def action_arrays(n_qubits: int) -> dict[str, np.ndarray]:
    """Per-action ``gate`` id, ``wires`` ``(A, 2)`` (second = first for rotations), ``is_cnot``, ``axis``."""
    table = action_table(n_qubits)
    gates = np.array([GATE_IDS[g] for g, _ in table], np.int32)
    wires = np.array([(w[0], w[1]) if len(w) == 2 else (w[0], w[0]) for _, w in table], np.int32)
    axis = np.array([AXES.index(g[1]) if g != "cx" else -1 for g, _ in table], np.int32)
    return {"gate": gates, "wires": wires, "is_cnot": axis < 0, "axis": axis}


def action_index(n_qubits: int, gate: str, wires: tuple[int, ...]) -> int:
    """Inverse of :func:`action_table`; raises ``ValueError`` for gates outside the action set."""
    key = (gate.lower().replace("cnot", "cx"), tuple(int(w) for w in wires))
    table = action_table(n_qubits)
    if key not in table:
        names = "cx(c,t), rx(q), ry(q), rz(q)"
        raise ValueError(f"{key[0]}{key[1]} is not an action on {n_qubits} qubits; actions are {names}")
    return table.index(key)


def parse_action(n_qubits: int, text: str) -> int:
    """``"cx(0,1)"``, ``"CNOT(0, 1)"``, ``"ry(2)"`` -> action index."""
    import re

    m = re.fullmatch(r"\s*([a-zA-Z]+)\s*\(\s*([0-9\s,]+)\)\s*", text)
    if not m:
        raise ValueError(f"cannot parse action {text!r}; write it like 'cx(0,1)' or 'ry(2)'")
    wires = tuple(int(w) for w in m.group(2).split(",") if w.strip())
    return action_index(n_qubits, m.group(1), wires)


def legal_mask(last_action: jnp.ndarray, allowed: jnp.ndarray, wires: jnp.ndarray) -> jnp.ndarray:
    """``(A,)`` bool: allowed and not identical to the last gate on every qubit it acts on.

    Args:
        last_action: ``(n,)`` most recent action on each qubit (``-1``: none yet).
        allowed: ``(A,)`` static permissions (coupling map).
        wires: ``(A, 2)`` action wires (rotations repeat their qubit).
    """
    ids = jnp.arange(wires.shape[0])
    repeated = (last_action[wires[:, 0]] == ids) & (last_action[wires[:, 1]] == ids)
    return allowed & ~repeated


def place(moments: jnp.ndarray, wires: jnp.ndarray, is_cnot) -> tuple[jnp.ndarray, jnp.ndarray]:
    """ASAP layer of a gate and the updated counters: ``(layer, moments')``."""
    a, b = wires[0], wires[1]
    layer = jnp.where(is_cnot, jnp.maximum(moments[a], moments[b]), moments[a])
    moments = moments.at[a].set(layer + 1)
    return layer, moments.at[b].set(jnp.where(is_cnot, layer + 1, moments[b]))


def encode(tensor: jnp.ndarray, layer, wires: jnp.ndarray, is_cnot, axis, n_qubits: int) -> jnp.ndarray:
    """Set the gate's entry in the ``(L, n+3, n)`` tensor (``T[d, target, control]`` for CNOT)."""
    row = jnp.where(is_cnot, wires[1], n_qubits + axis)
    col = wires[0]
    return tensor.at[layer, row, col].set(1.0)


def decode(tensor: np.ndarray) -> list[tuple[str, tuple[int, ...]]]:
    """Gate list ``[(gate, wires), ...]`` layer by layer from an encoding tensor ``(L, n+3, n)``.

    Within a layer gates act on disjoint qubits, so the order inside a layer is immaterial; the
    result reproduces the circuit up to such commutations.
    """
    tensor = np.asarray(tensor)
    n = tensor.shape[2]
    out = []
    for d in range(tensor.shape[0]):
        for row, col in zip(*np.nonzero(tensor[d]), strict=True):
            out.append(("cx", (int(col), int(row))) if row < n else (f"r{AXES[row - n]}", (int(col),)))
    return out
