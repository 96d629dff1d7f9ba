"""The action table, the legality rule and the 3D encoding (spec sections 2-3), pure functions only.

Everything here runs without the inner optimiser: the env-level versions of these rules (the
mask and the tensor carried by a real episode) are tested in ``test_env.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.rl import actions as A
from crlqas_kit.sim.circuit import GATE_IDS

# -------------------------------------------------------------------------------------------
# the action table
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, count", [(2, 8), (3, 15), (4, 24), (5, 35), (6, 48), (7, 63), (8, 80)])
def test_action_count_is_n_times_n_plus_2(n, count):
    assert A.n_actions(n) == count == n * (n + 2)
    table = A.action_table(n)
    assert len(table) == count
    assert len(set(table)) == count  # no duplicates
    assert sum(g == "cx" for g, _ in table) == n * (n - 1)
    assert sum(g != "cx" for g, _ in table) == 3 * n


def test_action_table_two_qubits_explicit():
    assert A.action_table(2) == [
        ("cx", (0, 1)),
        ("cx", (1, 0)),
        ("rx", (0,)),
        ("ry", (0,)),
        ("rz", (0,)),
        ("rx", (1,)),
        ("ry", (1,)),
        ("rz", (1,)),
    ]


def test_action_table_three_qubits_explicit():
    assert A.action_table(3) == [
        ("cx", (0, 1)),
        ("cx", (0, 2)),
        ("cx", (1, 0)),
        ("cx", (1, 2)),
        ("cx", (2, 0)),
        ("cx", (2, 1)),
        ("rx", (0,)),
        ("ry", (0,)),
        ("rz", (0,)),
        ("rx", (1,)),
        ("ry", (1,)),
        ("rz", (1,)),
        ("rx", (2,)),
        ("ry", (2,)),
        ("rz", (2,)),
    ]


@pytest.mark.parametrize("n", range(2, 9))
def test_action_table_layout_every_size(n):
    """The documented layout: CNOTs control-major, then ``n(n-1) + 3q + k`` for axis k on qubit q."""
    table = A.action_table(n)
    index = 0
    for c in range(n):
        for t in range(n):
            if c != t:
                assert table[index] == ("cx", (c, t)), (n, index)
                index += 1
    assert index == n * (n - 1)
    for q in range(n):
        for k, axis in enumerate("xyz"):
            assert table[n * (n - 1) + 3 * q + k] == (f"r{axis}", (q,))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_action_table_spot_checks(n):
    table = A.action_table(n)
    assert table[0] == ("cx", (0, 1))
    assert table[n - 2] == ("cx", (0, n - 1))  # last CNOT with control 0
    assert table[n - 1] == ("cx", (1, 0))  # first CNOT with control 1
    assert table[n * (n - 1) - 1] == ("cx", (n - 1, n - 2))
    assert table[n * (n - 1)] == ("rx", (0,))
    assert table[-1] == ("rz", (n - 1,))
    if n == 8:
        assert table[7] == ("cx", (1, 0))
        assert table[13] == ("cx", (1, 7))
        assert table[55] == ("cx", (7, 6))
        assert table[56 + 3 * 5 + 1] == ("ry", (5,))


@pytest.mark.parametrize("n", range(2, 9))
def test_action_arrays_match_table(n):
    arr = A.action_arrays(n)
    for i, (gate, wires) in enumerate(A.action_table(n)):
        assert arr["gate"][i] == GATE_IDS[gate]
        assert bool(arr["is_cnot"][i]) == (gate == "cx")
        if gate == "cx":
            assert tuple(arr["wires"][i]) == wires
            assert arr["axis"][i] == -1
        else:
            assert tuple(arr["wires"][i]) == (wires[0], wires[0])  # rotations repeat their qubit
            assert arr["axis"][i] == "xyz".index(gate[1])


@pytest.mark.parametrize("n", range(2, 9))
def test_action_index_inverts_table(n):
    for i, (gate, wires) in enumerate(A.action_table(n)):
        assert A.action_index(n, gate, wires) == i
        text = f"{gate}({','.join(map(str, wires))})"
        assert A.parse_action(n, text) == i


def test_parse_action_spellings():
    assert A.parse_action(3, "cx(0,1)") == 0
    assert A.parse_action(3, " CNOT( 0 , 2 ) ") == 1
    assert A.parse_action(3, "cnot(2,1)") == 5
    assert A.parse_action(3, "RY(2)") == 13


@pytest.mark.parametrize(
    "text", ["", "foo", "cx(0,0)", "cx(0,3)", "cx(0)", "rx(0,1)", "h(0)", "ry(3)", "ry(-1)", "cx 0 1"]
)
def test_parse_action_rejects(text):
    with pytest.raises(ValueError):
        A.parse_action(3, text)


# -------------------------------------------------------------------------------------------
# the legality rule (pure form)
# -------------------------------------------------------------------------------------------


def _last_after(n, sequence):
    """Most recent action per qubit after ``sequence`` (a hand fold, independent of the env)."""
    last = np.full(n, -1)
    for name in sequence:
        a = A.parse_action(n, name)
        for q in A.action_table(n)[a][1]:
            last[q] = a
    return last


def _masked(n, sequence, allowed=None):
    wires = jnp.asarray(A.action_arrays(n)["wires"])
    allowed = jnp.ones(A.n_actions(n), bool) if allowed is None else jnp.asarray(allowed)
    mask = np.asarray(A.legal_mask(jnp.asarray(_last_after(n, sequence)), allowed, wires))
    table = A.action_table(n)
    return {f"{table[i][0]}({','.join(map(str, table[i][1]))})" for i in np.flatnonzero(~mask)}


@pytest.mark.parametrize(
    "sequence, masked",
    [
        ([], set()),  # first step: nothing masked
        (["cx(0,1)"], {"cx(0,1)"}),  # repeated CNOT masked, reversed CNOT allowed
        (["ry(0)"], {"ry(0)"}),  # repeated same-axis rotation masked, other axes allowed
        (["cx(0,1)", "rz(2)"], {"cx(0,1)", "rz(2)"}),  # rz(2) does not touch 0 or 1
        (["cx(0,1)", "rz(1)"], {"rz(1)"}),  # touched the target: cx(0,1) legal again
        (["cx(0,1)", "rz(0)"], {"rz(0)"}),  # touched the control
        (["ry(0)", "cx(1,2)"], {"ry(0)", "cx(1,2)"}),
        (["cx(0,1)", "cx(1,2)"], {"cx(1,2)"}),
        (["cx(0,1)", "cx(1,0)"], {"cx(1,0)"}),
    ],
)
def test_legal_mask_pure(sequence, masked):
    assert _masked(3, sequence) == masked


def test_legal_mask_coupling_map_pure():
    table = A.action_table(3)
    allowed = np.array([g != "cx" or w in {(0, 1), (1, 2)} for g, w in table])
    assert _masked(3, [], allowed) == {"cx(0,2)", "cx(1,0)", "cx(2,0)", "cx(2,1)"}


# -------------------------------------------------------------------------------------------
# ASAP placement and the tensor encoding (pure form)
# -------------------------------------------------------------------------------------------


def encode_sequence(n, L, sequence):
    """Fold :func:`place`/:func:`encode` over a gate list; returns (tensor, layers, moments)."""
    arr = A.action_arrays(n)
    tensor, moments, layers = jnp.zeros((L, n + 3, n)), jnp.zeros(n, jnp.int32), []
    for name in sequence:
        a = A.parse_action(n, name)
        wires, is_cnot = jnp.asarray(arr["wires"][a]), bool(arr["is_cnot"][a])
        layer, moments = A.place(moments, wires, is_cnot)
        tensor = A.encode(tensor, layer, wires, is_cnot, int(arr["axis"][a]), n)
        layers.append(int(layer))
    return np.asarray(tensor), layers, np.asarray(moments)


# (gate, ASAP layer, moments after it) hand-computed for n = 3
ASAP_SEQUENCE = [
    ("cx(0,1)", 0, (1, 1, 0)),
    ("rx(0)", 1, (2, 1, 0)),
    ("ry(2)", 0, (2, 1, 1)),  # goes back to layer 0: qubit 2 was free
    ("cx(2,1)", 1, (2, 2, 2)),
    ("rz(1)", 2, (2, 3, 2)),
    ("cx(0,1)", 3, (4, 4, 2)),  # the target is the busier qubit: max(2, 3)
    ("cx(0,2)", 4, (5, 4, 5)),  # the control is the busier qubit: max(4, 2)
    ("rx(2)", 5, (5, 4, 6)),
    ("ry(1)", 4, (5, 5, 6)),  # back to layer 4, next to cx(0,2)
]
# (layer, row, column) of every 1 in the tensor: CNOT rows = target, columns = control
ASAP_ONES = {
    (0, 1, 0),  # cx(0,1): T[0, target 1, control 0]
    (1, 3 + 0, 0),  # rx(0)
    (0, 3 + 1, 2),  # ry(2)
    (1, 1, 2),  # cx(2,1): T[1, target 1, control 2]
    (2, 3 + 2, 1),  # rz(1)
    (3, 1, 0),  # cx(0,1) again, in layer 3
    (4, 2, 0),  # cx(0,2): T[4, target 2, control 0]
    (5, 3 + 0, 2),  # rx(2)
    (4, 3 + 1, 1),  # ry(1)
}
DEPTH = 6


def test_place_asap_hand_computed():
    with jax.enable_x64(True):
        moments = jnp.zeros(3, jnp.int32)
        arr = A.action_arrays(3)
        for name, layer_expected, moments_expected in ASAP_SEQUENCE:
            a = A.parse_action(3, name)
            layer, moments = A.place(moments, jnp.asarray(arr["wires"][a]), bool(arr["is_cnot"][a]))
            assert int(layer) == layer_expected, name
            assert tuple(np.asarray(moments)) == moments_expected, name
        assert int(jnp.max(moments)) == DEPTH


def test_encode_hand_computed():
    with jax.enable_x64(True):
        tensor, layers, _ = encode_sequence(3, 8, [g for g, _, _ in ASAP_SEQUENCE])
    assert layers == [layer for _, layer, _ in ASAP_SEQUENCE]
    assert tensor.shape == (8, 3 + 3, 3)
    assert {tuple(int(i) for i in idx) for idx in zip(*np.nonzero(tensor), strict=True)} == ASAP_ONES
    assert set(np.unique(tensor)) == {0.0, 1.0}


@pytest.mark.parametrize("control, target", [(0, 1), (1, 0), (0, 2), (2, 0)])
def test_cnot_convention_target_row_control_column(control, target):
    """``T[d, target, control] = 1`` and NOT ``T[d, control, target]``, both directions."""
    with jax.enable_x64(True):
        tensor, _, _ = encode_sequence(3, 2, [f"cx({control},{target})"])
    assert tensor[0, target, control] == 1.0
    assert tensor[0, control, target] == 0.0
    assert tensor.sum() == 1.0
    # and decode reads it back the same way
    assert A.decode(tensor) == [("cx", (control, target))]


def test_decode_hand_built_tensor():
    t = np.zeros((3, 2 + 3, 2))
    t[0, 1, 0] = 1  # cx(0,1)
    t[1, 2 + 1, 1] = 1  # ry(1) in layer 1
    t[1, 2 + 2, 0] = 1  # rz(0) in layer 1
    t[2, 0, 1] = 1  # cx(1,0)
    out = A.decode(t)
    assert out[0] == ("cx", (0, 1))
    assert set(out[1:3]) == {("ry", (1,)), ("rz", (0,))}
    assert out[3] == ("cx", (1, 0))


def _per_qubit(n, gates):
    """The subsequence of gates on each qubit: equal for two lists iff they differ only by
    commuting gates on disjoint qubits."""
    return [[g for g in gates if q in g[1]] for q in range(n)]


def test_decode_encode_roundtrip():
    seq_names = [g for g, _, _ in ASAP_SEQUENCE]
    seq = [A.action_table(3)[A.parse_action(3, g)] for g in seq_names]
    with jax.enable_x64(True):
        tensor, _, _ = encode_sequence(3, 8, seq_names)
        decoded = A.decode(tensor)
        names = [f"{g}({','.join(map(str, w))})" for g, w in decoded]
        again, _, _ = encode_sequence(3, 8, names)
    assert sorted(decoded) == sorted(seq)
    assert _per_qubit(3, decoded) == _per_qubit(3, seq)
    np.testing.assert_array_equal(again, tensor)
    # layer-ordered input comes back in exactly the same order
    assert A.decode(again) == decoded


@pytest.mark.parametrize("seed", range(5))
def test_decode_encode_roundtrip_random(seed):
    rng = np.random.default_rng(seed)
    n, L = 4, 12
    table = A.action_table(n)
    seq, last = [], np.full(n, -1)
    while len(seq) < L:
        a = int(rng.integers(len(table)))
        if all(last[q] == a for q in table[a][1]):
            continue  # illegal: repeats the last gate on every qubit it acts on
        for q in table[a][1]:
            last[q] = a
        seq.append(table[a])
    names = [f"{g}({','.join(map(str, w))})" for g, w in seq]
    with jax.enable_x64(True):
        tensor, _, moments = encode_sequence(n, L, names)
    decoded = A.decode(tensor)
    assert len(decoded) == L == tensor.sum()
    assert _per_qubit(n, decoded) == _per_qubit(n, seq)
    # depth from the counters = number of non-empty layers
    assert int(moments.max()) == int((tensor.reshape(L, -1).sum(1) > 0).sum())
