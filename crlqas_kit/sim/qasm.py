"""OpenQASM 2.0 export and import for the kit's gate set.

Supported statements: ``OPENQASM 2.0;``, ``include "qelib1.inc";``, one ``qreg``, any ``creg``,
``barrier`` and ``measure`` (both ignored: energies are read from the final state), and the gates
``rx ry rz x y z h s sx cx cz``. Angles may use ``pi``, numbers, ``+ - * /`` and parentheses.
Anything else raises ``ValueError`` naming the statement and line.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from pathlib import Path

from .circuit import DEFAULT_CAPACITY, GATES, Circuit

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_SUPPORTED = [g for g in GATES if g != "id"]


def to_qasm(circuit: Circuit, params=None) -> str:
    """OpenQASM 2.0 text of ``circuit`` with angles ``params`` (default: the circuit's own)."""
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{circuit.n_qubits}];"]
    for name, wires, angle in circuit.ops(params if params is None else _padded(circuit, params)):
        args = ",".join(f"q[{w}]" for w in wires)
        lines.append(f"{name}({angle!r}) {args};" if angle is not None else f"{name} {args};")
    return "\n".join(lines) + "\n"


def _padded(circuit: Circuit, params):
    from .circuit import check_params

    values = check_params(params, circuit.n_params)
    out = [0.0] * circuit.capacity
    out[: circuit.n_params] = list(values)
    return out


def _eval_angle(text: str, where: str) -> float:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"{where}: cannot parse angle expression {text!r}") from None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id == "pi":
            return math.pi
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand))
        raise ValueError(f"{where}: unsupported angle expression {text!r} (numbers, pi, + - * / only)")

    try:
        value = ev(tree)
    except ZeroDivisionError:
        raise ValueError(f"{where}: division by zero in angle {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: angle {text!r} is not finite")
    return value


_GATE_RE = re.compile(r"^([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:\((.*)\))?\s+(.+)$")
_QUBIT_RE = re.compile(r"^([a-zA-Z_][a-zA-Z0-9_]*)\[(\d+)\]$")


def from_qasm(text: str, capacity: int | None = None) -> Circuit:
    """Parse OpenQASM 2.0 text into a :class:`Circuit` whose angles are the file's angles."""
    if not isinstance(text, str):
        raise TypeError(f"from_qasm needs the QASM text as a string, got {type(text).__name__}")
    body = re.sub(r"//[^\n]*", "", text)
    statements, pos = [], 0
    for chunk in body.split(";"):
        if chunk.strip():
            start = pos + len(chunk) - len(chunk.lstrip())
            statements.append((" ".join(chunk.split()), body.count("\n", 0, start) + 1))
        pos += len(chunk) + 1
    if not statements or not re.match(r"^OPENQASM\s+2(\.0)?$", statements[0][0]):
        raise ValueError("not an OpenQASM 2.0 program: the first statement must be 'OPENQASM 2.0;'")
    n_qubits, reg, ops = None, None, []
    for stmt, line in statements[1:]:
        where = f"QASM line {line}"
        if stmt.startswith("include"):
            continue
        if stmt.startswith(("creg", "barrier", "measure")):
            continue
        if stmt.startswith("qreg"):
            m = re.match(r"^qreg\s+([a-zA-Z_][a-zA-Z0-9_]*)\[(\d+)\]$", stmt)
            if not m:
                raise ValueError(f"{where}: malformed qreg declaration {stmt!r}")
            if reg is not None:
                raise ValueError(f"{where}: only one quantum register is supported")
            reg, n_qubits = m.group(1), int(m.group(2))
            if n_qubits < 1:
                raise ValueError(f"{where}: a register needs at least one qubit")
            continue
        m = _GATE_RE.match(stmt)
        if not m:
            raise ValueError(f"{where}: cannot parse statement {stmt!r}")
        name, angle_text, arg_text = m.group(1).lower(), m.group(2), m.group(3)
        if name not in _SUPPORTED:
            raise ValueError(f"{where}: unsupported gate {name!r}; supported gates: {', '.join(_SUPPORTED)}")
        if reg is None:
            raise ValueError(f"{where}: gate {name!r} before any qreg declaration")
        wires = []
        for arg in arg_text.split(","):
            qm = _QUBIT_RE.match(arg.strip())
            if not qm or qm.group(1) != reg:
                raise ValueError(f"{where}: bad qubit argument {arg.strip()!r} (expected {reg}[i])")
            wires.append(int(qm.group(2)))
        parametric = GATES[name][2]
        if parametric != (angle_text is not None):
            raise ValueError(f"{where}: gate {name!r} {'needs one angle' if parametric else 'takes no angle'}")
        ops.append((name, tuple(wires), _eval_angle(angle_text, where) if parametric else None, line))
    if n_qubits is None:
        raise ValueError("QASM program declares no qreg")
    circuit = Circuit(n_qubits, capacity or max(DEFAULT_CAPACITY, len(ops)))
    for name, wires, angle, line in ops:
        try:
            circuit = circuit.add(name, wires, angle)
        except ValueError as err:
            raise ValueError(f"QASM line {line}: {err}") from None
    return circuit


def load_qasm(path: str | Path, capacity: int | None = None) -> Circuit:
    """Read a ``.qasm`` file (errors name the file)."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ValueError(f"cannot read QASM file {path}: {err.strerror}") from None
    try:
        return from_qasm(text, capacity)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def save_qasm(circuit: Circuit, path: str | Path, params=None) -> None:
    Path(path).write_text(to_qasm(circuit, params))
