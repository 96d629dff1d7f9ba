"""Checkers for notebook 05 the QAS environment (``ex05_environment``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker, make_rng


def _random_last_actions(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """``last_action`` after a random legal gate sequence (the environment's bookkeeping)."""
    from ..rl.actions import action_table

    table = action_table(n)
    last = np.full(n, -1)
    for _ in range(length):
        a = int(rng.integers(len(table)))
        for q in table[a][1]:
            last[q] = a
    return last


@checker
def check_action_mask(legal_actions: Callable, seed: int | None = None) -> int:
    """``legal_actions(last_action, n_qubits)`` -> ``n(n+2)`` booleans (the illegal-action rule)."""
    import jax.numpy as jnp

    from ..rl.actions import action_arrays, legal_mask

    rng = make_rng(seed)
    cases = [(2, np.array([-1, -1])), (2, np.array([0, 0])), (3, np.array([8, 8, -1]))]
    cases += [(n, _random_last_actions(rng, n, int(rng.integers(1, 8)))) for n in (2, 3, 4, 4)]
    for n, last in cases:
        wires = jnp.asarray(action_arrays(n)["wires"])
        want = np.asarray(legal_mask(jnp.asarray(last), jnp.ones(n * (n + 2), bool), wires))
        got = call(legal_actions, last.copy(), n, show=f"last_action = {last.tolist()}")
        got = as_array(got, (n * (n + 2),), f"the mask for last_action = {last.tolist()}").astype(bool)
        if np.array_equal(got, want):
            continue
        bad = int(np.flatnonzero(got != want)[0])
        from ..rl.actions import action_table

        gate, w = action_table(n)[bad]
        verdict = "legal" if want[bad] else "illegal"
        raise Hint(
            f"with last_action = {last.tolist()} ({n} qubits) action {bad} = {gate}{w} is {verdict}. Rule: an action "
            "is illegal iff it equals the most recent action on EVERY qubit it acts on"
        )
    return len(cases)


@checker
def check_asap_layers(asap_layers: Callable, seed: int | None = None) -> int:
    """``asap_layers(ops, n_qubits)`` -> the ASAP layer of every gate (``ops``: ``[(gate, wires), ...]``)."""
    import jax.numpy as jnp

    from ..rl.actions import action_table, place

    rng = make_rng(seed)
    cases = [(2, [("ry", (0,)), ("cx", (0, 1)), ("rx", (1,))]), (3, [("rx", (0,)), ("rx", (2,)), ("cx", (0, 2))])]
    for n in (2, 3, 4, 4):
        table = action_table(n)
        cases.append((n, [table[int(i)] for i in rng.integers(len(table), size=int(rng.integers(3, 12)))]))
    for n, ops in cases:
        moments, want = jnp.zeros(n, jnp.int32), []
        for gate, wires in ops:
            w = jnp.asarray(wires if len(wires) == 2 else (wires[0], wires[0]))
            layer, moments = place(moments, w, gate == "cx")
            want.append(int(layer))
        got = as_array(call(asap_layers, list(ops), n, show=f"ops = {ops}"), (len(ops),), "the list of layers")
        if np.array_equal(np.rint(got), want):
            continue
        if np.array_equal(np.rint(got), np.asarray(want) + 1):
            raise Hint("layers count from 0: the first gate on an empty wire goes to layer 0")
        raise Hint(
            f"for ops = {ops} the layers are {want}: a rotation on q goes to moments[q], a CNOT(c, t) to "
            "max(moments[c], moments[t]); then every wire it touches moves to layer + 1"
        )
    return len(cases)
