"""Circuits as fixed-capacity data: builder, views and validation."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crlqas_kit.sim.circuit import GATE_IDS, GATES, Circuit, check_params, hardware_efficient

FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True)


def test_builder_fills_the_arrays():
    c = Circuit(3, capacity=8).ry(0, 0.3).cx(2, 0).h(1).rz(1).cz(0, 2).sx(2).rx(1, -1.5)
    assert c.num_gates == len(c) == 7 and c.capacity == 8
    np.testing.assert_array_equal(c.gates, [GATE_IDS[g] for g in ("ry", "cx", "h", "rz", "cz", "sx", "rx")] + [0])
    np.testing.assert_array_equal(c.wires[:7], [[0, 0], [2, 0], [1, 0], [1, 0], [0, 2], [2, 0], [1, 0]])
    np.testing.assert_array_equal(c.slots, [0, -1, -1, 1, -1, -1, 2, -1])
    np.testing.assert_array_equal(c.angles, [0.3, 0.0, -1.5, 0, 0, 0, 0, 0])
    assert c.gates.dtype == np.int32 and c.wires.dtype == np.int32 and c.angles.dtype == np.float64
    assert c.n_params == 3
    np.testing.assert_array_equal(c.params, [0.3, 0.0, -1.5])
    assert c.ops() == [
        ("ry", (0,), 0.3),
        ("cx", (2, 0), None),
        ("h", (1,), None),
        ("rz", (1,), 0.0),
        ("cz", (0, 2), None),
        ("sx", (2,), None),
        ("rx", (1,), -1.5),
    ]
    assert "cx(2,0)" in repr(c)


def test_padding_is_identity_and_gate_table():
    c = Circuit(2, capacity=5).x(1)
    np.testing.assert_array_equal(c.gates[1:], 0)
    assert GATES["id"] == (0, 1, False)
    assert sorted(g for g in GATES if g != "id") == sorted(
        ["rx", "ry", "rz", "x", "y", "z", "h", "s", "sx", "cx", "cz"]
    )
    assert len(set(GATE_IDS.values())) == len(GATE_IDS)


def test_builder_returns_new_circuits():
    base = Circuit(2, capacity=4).h(0)
    longer = base.cx(0, 1)
    assert len(base) == 1 and len(longer) == 2
    assert base.gates[1] == 0 and longer.gates[1] == GATE_IDS["cx"]
    assert Circuit(2, 4).cnot(1, 0).ops() == [("cx", (1, 0), None)]
    assert Circuit(2, 4).add("CNOT", (0, 1)).ops() == [("cx", (0, 1), None)]
    assert Circuit(2, 4).add("RY", 1, 0.5).ops() == [("ry", (1,), 0.5)]
    assert Circuit(2, 4).add("x", np.int64(1)).ops() == [("x", (1,), None)]


def test_from_ops_views_and_params():
    ops = [("ry", (0,), 0.1), ("cx", (0, 1)), ("rz", (1,), 0.2), ("h", (2,)), ("rx", (2,), 0.3), ("cx", (1, 2))]
    c = Circuit.from_ops(3, ops)
    assert c.capacity == 64  # default
    assert Circuit.from_ops(3, ops * 20).capacity == 128  # grows to the next power of two (bounded compiles)
    assert c.counts() == {"gates": 6, "cnots": 2, "rotations": 3, "depth": 4}
    assert Circuit(2, 4).depth() == 0
    new = c.with_params([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(new.params, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(new.gates, c.gates)
    np.testing.assert_array_equal(c.params, [0.1, 0.2, 0.3])  # unchanged
    assert [a for *_, a in c.ops([9.0, 8.0, 7.0])] == [9.0, None, 8.0, None, 7.0, None]
    small = c.with_capacity(6)
    assert small.capacity == 6 and small.ops() == c.ops()
    with pytest.raises(ValueError, match="capacity exceeded"):
        c.with_capacity(5)


@FAST
@given(
    st.lists(st.tuples(st.sampled_from(sorted(g for g in GATES if g != "id")), st.integers(0, 3), st.integers(1, 3)))
)
def test_ops_round_trip(spec):
    ops = []
    for name, a, shift in spec:
        if GATES[name][1] == 2:
            ops.append((name, (a, (a + shift) % 4), None))
        else:
            ops.append((name, (a,), 0.25 * a - shift if GATES[name][2] else None))
    c = Circuit.from_ops(4, ops, capacity=max(1, len(ops)))
    assert c.ops() == ops
    assert c.n_params == sum(GATES[name][2] for name, *_ in ops)


def test_circuit_is_a_pytree_with_static_shape():
    c = Circuit(2, 6).ry(0, 0.3).cx(0, 1)
    leaves, treedef = jax.tree_util.tree_flatten(c)
    assert len(leaves) == 5  # gates, wires, slots, angles, length
    other = Circuit(2, 6).h(1).cz(1, 0).rx(0, 1.0)
    assert jax.tree_util.tree_structure(other) == treedef  # same shape -> same compiled code
    assert jax.tree_util.tree_structure(Circuit(2, 7)) != treedef
    assert jax.tree_util.tree_structure(Circuit(3, 6)) != treedef
    back = jax.tree_util.tree_unflatten(treedef, leaves)
    assert back.ops() == c.ops()


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("q", [-1, 3, 10])
def test_qubit_out_of_range(q):
    with pytest.raises(ValueError, match=rf"qubit index {q} out of range for a 3-qubit circuit \(allowed 0..2\)"):
        Circuit(3, 4).h(q)
    with pytest.raises(ValueError, match="out of range"):
        Circuit(3, 4).cx(0, q)
    with pytest.raises(ValueError, match="out of range"):
        Circuit.from_ops(3, [("ry", (q,), 0.1)])


@pytest.mark.parametrize("q", [1.0, "1", None, True])
def test_qubit_must_be_an_integer(q):
    with pytest.raises(TypeError, match="qubit index must be an integer"):
        Circuit(3, 4).cx(0, q)


@pytest.mark.parametrize("q", [0, 2])
def test_cnot_control_equals_target(q):
    with pytest.raises(ValueError, match=rf"cx\({q}, {q}\): control and target must be different qubits"):
        Circuit(3, 4).cx(q, q)
    with pytest.raises(ValueError, match="control and target must be different"):
        Circuit(3, 4).cz(q, q)


def test_capacity_exceeded():
    c = Circuit(2, capacity=3).h(0).cx(0, 1).rz(1, 0.1)
    with pytest.raises(ValueError, match="circuit capacity exceeded: already 3 gates in a circuit of capacity 3"):
        c.x(0)
    with pytest.raises(ValueError, match="capacity exceeded"):
        Circuit.from_ops(2, [("h", (0,))] * 4, capacity=3)


@pytest.mark.parametrize("theta", [float("nan"), float("inf"), -np.inf, np.float64("nan")])
def test_nan_angle_rejected(theta):
    with pytest.raises(ValueError, match="rx angle must be finite"):
        Circuit(1, 4).rx(0, theta)
    with pytest.raises(ValueError, match="finite"):
        Circuit(1, 4).ry(0, 0.1).with_params([theta])


@pytest.mark.parametrize("theta", ["0.1", 1j, True, [0.1]])
def test_non_real_angle_rejected(theta):
    with pytest.raises(TypeError, match="angle must be a real number"):
        Circuit(1, 4).rz(0, theta)


def test_other_bad_gates():
    with pytest.raises(ValueError, match="unknown gate 'ccx'; supported gates: rx, ry, rz"):
        Circuit(3, 4).add("ccx", (0, 1, 2))
    with pytest.raises(ValueError, match="unknown gate 'id'"):
        Circuit(1, 4).add("id", 0)
    with pytest.raises(ValueError, match=r"gate cx acts on 2 qubit\(s\), got wires \(0,\)"):
        Circuit(2, 4).add("cx", 0)
    with pytest.raises(ValueError, match="gate h takes no angle"):
        Circuit(2, 4).add("h", 0, 0.5)
    with pytest.raises(TypeError, match="gate name must be a string"):
        Circuit(2, 4).add(7, 0)


def test_bad_shapes_and_params():
    for bad in (0, -2, True, 2.5):
        with pytest.raises(ValueError, match="capacity must be a positive integer"):
            Circuit(2, bad)
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="n_qubits must be a positive integer"):
            Circuit(bad, 4)
    with pytest.raises(ValueError, match=r"Circuit.gates must have shape \(4,\)"):
        Circuit(2, 4, gates=np.zeros(5))
    c = Circuit(2, 4).ry(0, 0.1).ry(1, 0.2)
    with pytest.raises(ValueError, match=r"expected 2 circuit parameters, got an array of shape \(1,\)"):
        c.with_params([0.3])
    with pytest.raises(ValueError, match="expected 2 circuit parameters"):
        check_params(np.zeros((2, 2)), 2)
    np.testing.assert_array_equal(check_params([1.0, 2.0, 0.0], 2), [1.0, 2.0])  # longer: zero-padded slots


@pytest.mark.parametrize("n, layers", [(2, 2), (4, 2), (6, 1), (3, 0)])
def test_hardware_efficient_layout(n, layers):
    circ = hardware_efficient(n, layers)
    ops = circ.ops()
    counts = circ.counts()
    assert counts["rotations"] == (layers + 1) * n and counts["cnots"] == layers * (n - 1)
    assert counts["gates"] == len(ops) == (layers + 1) * n + layers * (n - 1)
    block = n + n - 1
    for layer in range(layers):
        part = ops[layer * block : (layer + 1) * block]
        assert [(g, w) for g, w, _ in part[:n]] == [("ry", (q,)) for q in range(n)]
        assert [(g, w) for g, w, _ in part[n:]] == [("cx", (q, q + 1)) for q in range(n - 1)]
    assert [(g, w) for g, w, _ in ops[-n:]] == [("ry", (q,)) for q in range(n)]
    assert np.all(circ.params == 0.0)


@pytest.mark.parametrize(
    "bad", [dict(n_qubits=1), dict(n_qubits=2.0), dict(n_qubits=4, layers=-1), dict(n_qubits=4, layers=True)]
)
def test_hardware_efficient_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_qubits|layers"):
        hardware_efficient(**bad)
