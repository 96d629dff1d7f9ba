"""Checkers for notebook 05 the QAS environment (``ex05_environment``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, as_float, call, checker


def _random_last_actions(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """``last_action`` after a random gate sequence (the environment's bookkeeping)."""
    from ..rl.actions import action_table

    table = action_table(n)
    last = np.full(n, -1)
    for _ in range(length):
        a = int(rng.integers(len(table)))
        for q in table[a][1]:
            last[q] = a
    return last


@checker(points=2)
def check_action_mask(legal_actions: Callable, rng: np.random.Generator) -> int:
    """``legal_actions(last_action, n_qubits)`` -> ``n(n+2)`` booleans (the illegal-action rule).

    Wrong answers:

    * ``ANY qubit``: illegal if the action is the last one on ANY of its qubits (caught by
      ``last_action = [0, 6]`` on 2 qubits: CNOT(0,1) was last on qubit 0 only, so it is legal).
    * ``all legal``: no mask at all (caught by ``[0, 0]``).
    * ``any rotation``: a rotation illegal after any rotation on its qubit (caught by ``[3, -1]``:
      RX(0) after RY(0) is legal).
    * ``reversed CNOT``: CNOT(1,0) illegal after CNOT(0,1) (caught by ``[0, 0]``).
    """
    import jax.numpy as jnp

    from ..rl.actions import action_arrays, action_table, legal_mask

    cases = [(2, np.array([0, 6])), (2, np.array([0, 0])), (2, np.array([3, -1])), (2, np.array([-1, -1]))]
    cases += [(3, np.array([8, 8, -1])), (3, np.array([1, 4, 1]))]
    cases += [(n, _random_last_actions(rng, n, int(rng.integers(1, 8)))) for n in (2, 3, 4)]
    for n, last in cases:
        wires = jnp.asarray(action_arrays(n)["wires"])
        want = np.asarray(legal_mask(jnp.asarray(last), jnp.ones(n * (n + 2), bool), wires))
        got = call(legal_actions, last.copy(), n, show=f"last_action = {last.tolist()}")
        got, _ = as_array(got, (n * (n + 2),), f"the mask for last_action = {last.tolist()}")
        got = got.astype(bool)
        if np.array_equal(got, want):
            continue
        bad = int(np.flatnonzero(got != want)[0])
        gate, w = action_table(n)[bad]
        verdict = "legal" if want[bad] else "illegal"
        raise Hint(
            f"with last_action = {last.tolist()} ({n} qubits) action {bad} = {gate}{w} is {verdict}. Rule: an action "
            "is illegal iff it equals the most recent action on EVERY qubit it acts on"
        )
    return len(cases)


def _kit_layers(ops, n: int) -> list[int]:
    import jax.numpy as jnp

    from ..rl.actions import place

    moments, layers = jnp.zeros(n, jnp.int32), []
    for gate, wires in ops:
        w = jnp.asarray(wires if len(wires) == 2 else (wires[0], wires[0]))
        layer, moments = place(moments, w, gate == "cx")
        layers.append(int(layer))
    return layers


@checker(points=2)
def check_asap_layers(asap_layers: Callable, rng: np.random.Generator) -> int:
    """``asap_layers(ops, n_qubits)`` -> the ASAP layer of every gate (``ops``: ``[(gate, wires), ...]``).

    Wrong answers:

    * ``1-based``: layers counted from 1 (caught by every case).
    * ``sequential``: gate i in layer i (caught by ``rx(0), rx(2), cx(0,2)``).
    * ``CNOT at min``: a CNOT placed at the smaller of its wires' moments (caught by ``ry(0), cx(0,1)``).
    * ``only target moves``: after a CNOT only the target's moment advances (caught by ``cx(0,1), rx(0)``).
    """
    from ..rl.actions import action_table

    cases = [
        (2, [("ry", (0,)), ("cx", (0, 1)), ("rx", (1,))]),
        (3, [("rx", (0,)), ("rx", (2,)), ("cx", (0, 2))]),
        (2, [("cx", (0, 1)), ("rx", (0,))]),
    ]
    for n in (2, 3, 4):
        table = action_table(n)
        cases.append((n, [table[int(i)] for i in rng.integers(len(table), size=int(rng.integers(3, 12)))]))
    for n, ops in cases:
        want = _kit_layers(ops, n)
        got, _ = as_array(call(asap_layers, list(ops), n, show=f"ops = {ops}"), (len(ops),), "the list of layers")
        if np.array_equal(np.rint(got), want):
            continue
        if np.array_equal(np.rint(got), np.asarray(want) + 1):
            raise Hint("layers count from 0: the first gate on an empty wire goes to layer 0")
        raise Hint(
            f"for ops = {ops} the layers are {want}: a rotation on q goes to moments[q], a CNOT(c, t) to "
            "max(moments[c], moments[t]); then every wire it touches moves to layer + 1"
        )
    return len(cases)


#: the circuit of the depth prediction (3 qubits)
DEPTH_OPS = [("ry", (0,)), ("ry", (1,)), ("cx", (0, 1)), ("rx", (2,)), ("cx", (1, 2)), ("rz", (0,)), ("ry", (2,))]


@checker(points=1, kind="predict", answer="value")
def check_depth_prediction(depth: int, rng: np.random.Generator) -> int:
    """``depth``: your prediction of the number of ASAP layers of :data:`DEPTH_OPS` on 3 qubits,
    worked out by hand (draw the moments) before running your ``asap_layers``.

    Wrong answers:

    * ``gate count``: 7, every gate in its own layer.
    * ``most gates on a qubit``: 3, ignoring that a CNOT waits for both wires.
    * ``CNOTs ignored``: 2, only the rotations counted.
    """
    got, _ = as_float(depth, "your predicted depth")
    want = max(_kit_layers(DEPTH_OPS, 3)) + 1
    if got == want:
        return 1
    if got == len(DEPTH_OPS):
        raise Hint("gates on different qubits share a layer: the depth is smaller than the gate count")
    raise Hint("a CNOT starts only when BOTH its wires are free; follow moments[q] gate by gate")
