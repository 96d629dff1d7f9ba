"""OpenQASM 2 export / import, its errors, and the CLI's handling of bad QASM and Hamiltonian files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crlqas_kit as ck
from crlqas_kit import cli
from crlqas_kit.sim.circuit import GATES, Circuit
from crlqas_kit.sim.paulis import PauliSum
from crlqas_kit.sim.qasm import from_qasm, load_qasm, save_qasm, to_qasm

FAST = settings(max_examples=50, deadline=None, database=None, derandomize=True)
GATE_NAMES = sorted(g for g in GATES if g != "id")
CIRCUITS = Path(ck.__file__).resolve().parent / "data" / "circuits"
HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


@st.composite
def circuits(draw):
    n = draw(st.integers(1, 5))
    ops = []
    for _ in range(draw(st.integers(0, 30))):
        name = draw(st.sampled_from(GATE_NAMES if n > 1 else [g for g in GATE_NAMES if GATES[g][1] == 1]))
        if GATES[name][1] == 2:
            a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
            ops.append((name, (a, b), None))
        else:
            angle = draw(st.floats(allow_nan=False, allow_infinity=False)) if GATES[name][2] else None
            ops.append((name, (draw(st.integers(0, n - 1)),), angle))
    return Circuit.from_ops(n, ops, capacity=max(1, len(ops)))


@FAST
@given(circuits())
def test_round_trip_is_bit_for_bit(circuit):
    text = to_qasm(circuit)
    back = from_qasm(text, capacity=circuit.capacity)
    assert back.n_qubits == circuit.n_qubits and back.capacity == circuit.capacity
    assert back.ops() == circuit.ops()
    for (_, _, a), (_, _, b) in zip(back.ops(), circuit.ops(), strict=True):
        assert (a is None and b is None) or a.hex() == b.hex()  # exactly the same double (incl. -0.0)
    np.testing.assert_array_equal(back.gates, circuit.gates)
    np.testing.assert_array_equal(back.wires, circuit.wires)
    np.testing.assert_array_equal(back.slots, circuit.slots)
    assert to_qasm(back) == text


def test_export_format_and_params_override():
    c = Circuit(2, 8).ry(0, 0.1).cx(1, 0).rz(1, -2.5).sx(0)
    assert to_qasm(c) == HEADER + "qreg q[2];\nry(0.1) q[0];\ncx q[1],q[0];\nrz(-2.5) q[1];\nsx q[0];\n"
    assert from_qasm(to_qasm(c, params=[1e-300, math.pi])).params.tolist() == [1e-300, math.pi]
    with pytest.raises(ValueError, match="finite"):
        to_qasm(c, params=[0.1, float("nan")])


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("pi", math.pi),
        ("-pi", -math.pi),
        ("pi/2", math.pi / 2),
        ("-pi/4", -math.pi / 4),
        ("2*pi/3", 2 * math.pi / 3),
        ("3*pi/2 - 0.1", 3 * math.pi / 2 - 0.1),
        ("(pi + 1) / 2", (math.pi + 1) / 2),
        ("+0.5", 0.5),
        ("1.5e-3", 1.5e-3),
        ("-2", -2.0),
        ("0", 0.0),
        ("pi*pi", math.pi * math.pi),
        ("-0.7853981633974483 * pi / 3", -0.7853981633974483 * math.pi / 3),  # the product fast path
        (".5/pi*2e-1", 0.5 / math.pi * 2e-1),
        ("--1", 1.0),  # not a product: Python's parser
        ("9" * 300 + "*1e-300", float("9" * 300) * 1e-300),
    ],
)
def test_angle_expressions(expr, value):
    c = from_qasm(HEADER + f"qreg q[1];\nrx({expr}) q[0];\n")
    assert c.params[0] == value  # exact: evaluated like Python would


def test_comments_whitespace_and_ignored_statements():
    text = """// a circuit with comments
OPENQASM 2.0;   // version
include "qelib1.inc";
qreg q[3];  creg c[3];
// rx(0.3) q[0];   <- commented out
ry( pi / 2 )  q[0];   h q[1];
cx q[0],
   q[2];
barrier q[0],q[1],q[2];
CZ q[2], q[1];  // upper case gate names are accepted
measure q[0] -> c[0];
measure q -> c;
"""
    c = from_qasm(text)
    assert c.n_qubits == 3
    assert c.ops() == [("ry", (0,), math.pi / 2), ("h", (1,), None), ("cx", (0, 2), None), ("cz", (2, 1), None)]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("u3(0.1,0.2,0.3) q[0];", "QASM line 4: unsupported gate 'u3'; supported gates: rx, ry, rz, x, y, z, h, s, sx"),
        ("ccx q[0],q[1],q[2];", "unsupported gate 'ccx'"),
        ("swap q[0],q[1];", "unsupported gate 'swap'"),
        ("reset q[0];", "unsupported gate 'reset'"),
        ("t q[0];", "unsupported gate 't'"),
        ("rx(0.1) q[3];", r"QASM line 4: qubit index 3 out of range for a 3-qubit circuit"),
        ("cx q[1],q[1];", "QASM line 4: cx\\(1, 1\\): control and target must be different"),
        ("h r[0];", r"bad qubit argument 'r\[0\]' \(expected q\[i\]\)"),
        ("h q;", "bad qubit argument 'q'"),
        ("rx q[0];", "gate 'rx' needs one angle"),
        ("h(0.5) q[0];", "gate 'h' takes no angle"),
        ("rx(theta) q[0];", "unsupported angle expression 'theta'"),
        ("rx(sin(0.1)) q[0];", "unsupported angle expression"),
        ("rx(2**3) q[0];", "unsupported angle expression"),
        ("rx(1/0) q[0];", "division by zero"),
        ("rx(1e400) q[0];", "not finite"),
        ("rx(" + "9" * 400 + ") q[0];", "not finite"),  # an int beyond float64 (was an OverflowError)
        ("rx(1e200*1e200+1) q[0];", "not finite"),
        ("rx(2*pi/0) q[0];", "division by zero"),
        ("rx(" + "-" * 2000 + "1) q[0];", "angle expression of 2001 characters; at most 256"),  # was a RecursionError
        ("rx(" + "(" * 300 + "1" + ")" * 300 + ") q[0];", "angle expression of 601 characters"),
        ("rx(" + "+".join(["1"] * 100_000) + ") q[0];", "at most 256"),  # was a RecursionError in ast.parse
        ("rx(0.1 q[0];", "cannot parse"),
        ("qreg r[2];", "only one quantum register"),
        ("cx q[0] q[1];", "bad qubit argument"),
        ("h;", "cannot parse statement"),
    ],
)
def test_bad_statements(body, match):
    text = HEADER + "qreg q[3];\n" + body + "\n"
    with pytest.raises(ValueError, match=match):
        from_qasm(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "not an OpenQASM 2.0 program"),
        ("qreg q[2];\nh q[0];", "first statement must be 'OPENQASM 2.0;'"),
        ("OPENQASM 3.0;\nqubit[2] q;", "not an OpenQASM 2.0 program"),
        (HEADER, "declares no qreg"),
        (HEADER + "h q[0];\nqreg q[1];", "gate 'h' before any qreg declaration"),
        (HEADER + "qreg q[0];", "at least one qubit"),
        (HEADER + "qreg q;", "malformed qreg"),
    ],
)
def test_bad_programs(text, match):
    with pytest.raises(ValueError, match=match):
        from_qasm(text)


def test_angle_expression_budget(monkeypatch):
    """General angle expressions cost ~2 us a character: a program holds MAX_EXPRESSION_CHARS of them
    (plain numbers and products do not count)."""
    from crlqas_kit.sim import qasm

    monkeypatch.setattr(qasm, "MAX_EXPRESSION_CHARS", 30)
    ok = HEADER + "qreg q[1];\n" + "rx(pi/2+0.1) q[0];\n" * 2 + "rx(-3*pi/4) q[0];\n" * 50
    assert from_qasm(ok).num_gates == 52
    with pytest.raises(ValueError, match=r"QASM line 57: the program's angle expressions exceed 30 characters in all"):
        from_qasm(ok + "rx(pi/2+0.1) q[0];\n" * 2)


def test_capacity_and_types():
    text = HEADER + "qreg q[2];\n" + "h q[0];\n" * 3
    assert from_qasm(text).capacity == 64
    assert from_qasm(text, capacity=3).capacity == 3
    assert from_qasm(HEADER + "qreg q[1];\n" + "x q[0];\n" * 70).capacity == 128  # power-of-two bucket
    with pytest.raises(ValueError, match="QASM line 6: circuit capacity exceeded"):
        from_qasm(text, capacity=2)
    with pytest.raises(TypeError, match="QASM text as a string"):
        from_qasm(b"OPENQASM 2.0;")


def test_files(tmp_path):
    c = Circuit(2, 8).ry(0, 0.7).cx(0, 1)
    path = tmp_path / "c.qasm"
    save_qasm(c, path)
    assert load_qasm(path, capacity=8).ops() == c.ops()
    path.write_text(HEADER + "qreg q[1];\nfoo q[0];\n")
    with pytest.raises(ValueError, match=rf"{path}: QASM line 4: unsupported gate 'foo'"):
        load_qasm(path)
    with pytest.raises(ValueError, match="cannot read QASM file .*missing.qasm"):
        load_qasm(tmp_path / "missing.qasm")


@pytest.mark.parametrize("path", sorted(CIRCUITS.glob("*.qasm")), ids=lambda p: p.name)
def test_shipped_circuits_round_trip(path):
    c = load_qasm(path)
    assert len(c) > 0
    assert from_qasm(to_qasm(c)).ops() == c.ops()


# ----------------------------------------------------------------------------- more qubits than the Hamiltonian
def _write(tmp_path: Path, qasm: str, terms: list, n: int) -> tuple[Path, Path]:
    q, h = tmp_path / "c.qasm", tmp_path / "h.json"
    q.write_text(qasm)
    h.write_text(json.dumps({"n_qubits": n, "terms": terms}))
    return q, h


def test_qasm_with_more_qubits_than_hamiltonian(tmp_path):
    circuit = from_qasm(HEADER + "qreg q[3];\nh q[2];\n")
    ham = PauliSum.from_list([("ZZ", 1.0)])
    with pytest.raises(ValueError, match="circuit acts on 3 qubits but the Hamiltonian on 2"):
        ck.expectation(circuit, ham)


def _run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_rejects_qasm_with_more_qubits(tmp_path, capsys):
    q, h = _write(tmp_path, HEADER + "qreg q[3];\nh q[2];\ncx q[2],q[0];\n", [["ZZ", 1.0]], 2)
    code, out, err = _run_cli(capsys, "--qasm", str(q), "--hamiltonian", str(h))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("crlqas: error: ") and "declares 3 qubits but the Hamiltonian acts on 2" in err


def test_cli_evaluates_a_matching_file(tmp_path, capsys):
    q, h = _write(tmp_path, HEADER + "qreg q[1];\nrx(pi/3) q[0];\n", [["I", 0.5], ["Z", 2.0]], 1)
    code, out, err = _run_cli(capsys, "--qasm", str(q), "--hamiltonian", str(h), "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["energy"] == pytest.approx(0.5 + 2.0 * math.cos(math.pi / 3), abs=1e-14)


@pytest.mark.parametrize(
    ("qasm", "ham", "noise", "match"),
    [
        (
            HEADER + "qreg q[1];\nu1(0.1) q[0];\n",
            '{"n_qubits": 1, "terms": [["Z", 1.0]]}',
            "none",
            "unsupported gate 'u1'",
        ),
        (HEADER + "qreg q[1];\nh q[0];\n", '{"n_qubits": 1, "terms": [["Z", 1.0]]}', "nonsense", "unknown noise model"),
        (HEADER + "qreg q[1];\nh q[0];\n", '{"n_qubits": 1, "terms": [["Q", 1.0]]}', "none", "allowed letters"),
        (HEADER + "qreg q[1];\nh q[0];\n", '{"n_qubits": 1, "terms": [["Z", NaN]]}', "none", "finite"),
        (HEADER + "qreg q[1];\nh q[0];\n", '{"n_qubits": 1, "terms": [["Z", 1.0]', "none", "not valid JSON"),
        (HEADER + "qreg q[1];\nh q[0];\n", '{"n_qubits": 1, "terms": [["Z", "x"]]}', "none", "real number"),
        (HEADER + "qreg q[1];\nrx(nan) q[0];\n", '{"n_qubits": 1, "terms": [["Z", 1.0]]}', "none", "angle"),
    ],
)
def test_cli_bad_inputs_give_one_line(tmp_path, capsys, qasm, ham, noise, match):
    q, h = tmp_path / "c.qasm", tmp_path / "h.json"
    q.write_text(qasm)
    h.write_text(ham)
    code, out, err = _run_cli(capsys, "--qasm", str(q), "--hamiltonian", str(h), "--noise", noise)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and match in err
