"""OpenQASM 2.0 export and import for the kit's gate set.

Supported statements: ``OPENQASM 2.0;``, ``include "qelib1.inc";``, one ``qreg``, any ``creg``,
``barrier`` and ``measure`` (both ignored: energies are read from the final state, so a gate
after a ``measure`` is an error rather than silently changing the circuit's meaning), and the
gates ``rx ry rz x y z h s sx cx cz``. Angles may use ``pi``, numbers, ``+ - * /`` and
parentheses. Anything else raises ``ValueError`` naming the statement and line. Parsing is
linear in the file's length; more than :data:`~crlqas_kit.sim.circuit.MAX_GATES` gates is
refused before parsing. Plain numbers and products such as ``-3*pi/4`` are read directly; other
angle expressions go through Python's parser (~2 us per character), so each is limited to
:data:`MAX_ANGLE_CHARS` characters and a file to :data:`MAX_EXPRESSION_CHARS` characters of
them: any file loads in a few seconds or is refused with the limit it exceeds.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from pathlib import Path

from .circuit import GATES, MAX_GATES, Circuit, _encode

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


#: Longest general angle expression (characters); plain numbers and products such as
#: ``-3*pi/4`` may be of any length.
MAX_ANGLE_CHARS = 256
#: Most characters of general angle expressions in one QASM program (about 2 s of parsing).
MAX_EXPRESSION_CHARS = 2**20

_NUMBER = r"(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|pi)"
_PRODUCT = re.compile(rf"^([+-]?)\s*({_NUMBER})((?:\s*[*/]\s*{_NUMBER})*)$")
_FACTOR = re.compile(rf"([*/])\s*({_NUMBER})")


def _product(text: str) -> float | None:
    """``[+-] a [*/ b ...]`` with numbers or ``pi``, left to right (Python's order and rounding);
    None for any other expression."""
    m = _PRODUCT.match(text)
    if not m:
        return None
    value = math.pi if m.group(2) == "pi" else float(m.group(2))
    for op, token in _FACTOR.findall(m.group(3)):
        factor = math.pi if token == "pi" else float(token)
        value = value * factor if op == "*" else value / factor
    return -value if m.group(1) == "-" else value


def _eval_angle(text: str, where: str) -> float:
    text = text.strip()
    try:
        value = _product(text)
    except ZeroDivisionError:
        raise ValueError(f"{where}: division by zero in angle {text!r}") from None
    if value is not None:
        if not math.isfinite(value):
            raise ValueError(f"{where}: angle {text[:40]!r}{'...' if len(text) > 40 else ''} is not finite")
        return value
    if len(text) > MAX_ANGLE_CHARS:
        raise ValueError(
            f"{where}: angle expression of {len(text)} characters; at most {MAX_ANGLE_CHARS} "
            "(plain numbers and products such as -3*pi/4 may be longer)"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, MemoryError, RecursionError):  # the parser reports deep nesting as MemoryError
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
    except (OverflowError, RecursionError):  # an integer beyond float64, nesting deeper than the stack
        raise ValueError(f"{where}: angle {text!r} is not a finite float64 expression") from None
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
    if body.count(";") > MAX_GATES + 1000:  # gates + a few declarations: refuse before parsing
        raise ValueError(f"QASM program has {body.count(';')} statements; a circuit holds at most {MAX_GATES} gates")
    statements, line = [], 1
    for chunk in body.split(";"):  # line numbers counted as we go: linear in the text
        if chunk.strip():
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            statements.append((" ".join(chunk.split()), line + lead.count("\n")))
        line += chunk.count("\n")
    if not statements or not re.match(r"^OPENQASM\s+2(\.0)?$", statements[0][0]):
        raise ValueError("not an OpenQASM 2.0 program: the first statement must be 'OPENQASM 2.0;'")
    n_qubits, reg, ops, lines, measured = None, None, [], [], None
    expression_chars = 0  # characters of general angle expressions so far (MAX_EXPRESSION_CHARS)
    for stmt, line in statements[1:]:
        where = f"QASM line {line}"
        if stmt.startswith("include"):
            continue
        if stmt.startswith(("creg", "barrier")):
            continue
        if stmt.startswith("measure"):
            measured = measured or line
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
        if measured is not None:
            raise ValueError(
                f"{where}: gate {name!r} after the measurement on line {measured}; the kit reads energies from "
                "the final state, so measurements may only come at the end"
            )
        wires = []
        for arg in arg_text.split(","):
            qm = _QUBIT_RE.match(arg.strip())
            if not qm or qm.group(1) != reg:
                raise ValueError(f"{where}: bad qubit argument {arg.strip()!r} (expected {reg}[i])")
            wires.append(int(qm.group(2)))
        parametric = GATES[name][2]
        if parametric != (angle_text is not None):
            raise ValueError(f"{where}: gate {name!r} {'needs one angle' if parametric else 'takes no angle'}")
        if parametric and not _PRODUCT.match(angle_text.strip()):
            expression_chars += len(angle_text.strip())
            if expression_chars > MAX_EXPRESSION_CHARS:
                raise ValueError(
                    f"{where}: the program's angle expressions exceed {MAX_EXPRESSION_CHARS} characters in all; "
                    "write the angles as plain numbers or products such as -3*pi/4"
                )
        op = (name, tuple(wires), _eval_angle(angle_text, where) if parametric else None)
        try:
            _encode(*op, n_qubits=n_qubits)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None
        ops.append(op)
        lines.append(line)
    if n_qubits is None:
        raise ValueError("QASM program declares no qreg")
    if len(ops) > MAX_GATES:
        raise ValueError(f"QASM program has {len(ops)} gates; a circuit holds at most {MAX_GATES}")
    if capacity is not None and len(ops) > Circuit(n_qubits, capacity).capacity:  # validates capacity first
        raise ValueError(
            f"QASM line {lines[capacity]}: circuit capacity exceeded: {len(ops)} gates in a circuit of capacity "
            f"{capacity}"
        )
    return Circuit.from_ops(n_qubits, ops, capacity)


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
