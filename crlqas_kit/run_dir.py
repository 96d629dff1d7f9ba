"""The rules of a run directory: what the kit accepts from one it may not have written.

A run directory (:meth:`crlqas_kit.results.Results.save`) may come from elsewhere, so before the
kit reads or writes one, :func:`refuse_symlinks` refuses symbolic links (and FIFOs, sockets,
devices) anywhere inside it (the directory itself may be a link), and every file read is checked
by :func:`check_size` (a regular file within its limit) and every record by :func:`check_record`
against its schema. ``*`` marks an optional field; "number" is a JSON number, NaN and infinities
allowed; "int" is a JSON integer (not ``1.0``, not ``true``) below 2^63::

    config.json        config: object (then SearchConfig.from_dict), seeds: non-empty list of distinct
                       ints in [0, 2^32), problem: PROBLEM, seconds: number, stopped: bool,
                       versions: object of strings, evaluations*: {"<seed>": int >= 0}, summary*: list
      PROBLEM          n_qubits*: int in [1, MAX_QUBITS], n_terms*: int >= 0, e0*, e_hf*: number,
                       name*, hf_bitstring*: string, molecule*, mapping*: string or null
    episodes.jsonl     seed: int in [0, 2^32), episode: int >= 1, return, energy, exact_energy, error,
      (each row)       threshold, seconds: number, success, chemically_accurate: bool, gates: int in
                       [0, MAX_GATES], cnots, depth: int >= 0, eps*, loss*: number, evaluations*: int >= 0,
                       agent*: string
    evals.jsonl        seed, after_episodes: int >= 0, return, exact_energy, error: number,
                       chemically_accurate: bool, gates: int in [0, MAX_GATES]
    best/seed<S>_<i>.json  episode: int >= 1, error, exact_energy, energy: number, gates, cnots, depth:
                       int >= 0, chemically_accurate: bool, circuit: {n_qubits: int in [1, MAX_QUBITS]
                       (the problem's, when it says), ops: at most MAX_GATES [gate, wires, angle]},
                       gate a name of GATES but "id", wires a list of its 1 or 2 distinct qubits
                       in range, angle null or (rotations only) a finite number

Unknown fields are ignored (a newer kit may add some). Errors are one-line ValueErrors naming the
file (and line), the field, what was found and what is allowed.
"""

from __future__ import annotations

import math
import os
import reprlib
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._checks import MAX_SEED
from .sim.circuit import GATES, MAX_GATES
from .sim.simulator import MAX_QUBITS as _ENGINE_QUBITS

#: Largest register a run directory may name: the PTM engine's (also ``crlqas evaluate``'s limit).
MAX_QUBITS = _ENGINE_QUBITS["ptm"]
#: ``config.json`` and each ``best/*.json`` (indented, a circuit of MAX_GATES gates is ~5 MB).
MAX_JSON_BYTES = 16 * 2**20
#: ``episodes.jsonl`` and ``evals.jsonl`` (a kit row is ~400 bytes: millions of episodes).
MAX_LOG_BYTES = 2**30
#: One JSONL row.
MAX_LINE_BYTES = 2**20
#: Entries (files and directories) :func:`refuse_symlinks` scans before refusing the directory.
MAX_ENTRIES = 100_000

_INT_MAX = 2**63 - 1
#: ``(what is allowed, test)`` for one field's value.
Kind = tuple[str, Callable[[Any], bool]]
#: field name -> (kind, or a nested schema for an object, required?)
Schema = Mapping[str, tuple[Any, bool]]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def integer(lo: int, hi: int = _INT_MAX) -> Kind:
    """A JSON integer in ``[lo, hi]`` (booleans refused)."""
    return (f"an integer in [{lo}, {hi}]" if hi < _INT_MAX else f"an integer >= {lo}"), (
        lambda v: _is_int(v) and lo <= v <= hi
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, float) or (_is_int(v) and abs(v) <= _INT_MAX)


def _is_seed_key(k: str) -> bool:
    return k.isascii() and k.isdigit() and len(k) <= 10 and int(k) < MAX_SEED


NUMBER: Kind = ("a number", _is_number)
BOOL: Kind = ("true or false", lambda v: isinstance(v, bool))
STRING: Kind = ("a string", lambda v: isinstance(v, str))
STRING_OR_NULL: Kind = ("a string or null", lambda v: v is None or isinstance(v, str))
OBJECT: Kind = ("an object", lambda v: isinstance(v, dict))
LIST: Kind = ("a list", lambda v: isinstance(v, list))
SEED = integer(0, MAX_SEED - 1)
COUNT = integer(0)
GATE_COUNT = integer(0, MAX_GATES)
SEEDS: Kind = (
    "a non-empty list of distinct integers in [0, 2^32)",
    lambda v: isinstance(v, list) and len(v) > 0 and all(SEED[1](s) for s in v) and len(set(v)) == len(v),
)
VERSIONS: Kind = ("an object of strings", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
EVALUATIONS: Kind = (
    'an object {"<seed>": integer >= 0}',
    lambda v: isinstance(v, dict) and all(_is_seed_key(k) and COUNT[1](x) for k, x in v.items()),
)
QUBITS = integer(1, MAX_QUBITS)
OPS: Kind = (f"a list of at most {MAX_GATES} gates", lambda v: isinstance(v, list) and len(v) <= MAX_GATES)

PROBLEM: Schema = {
    "n_qubits": (QUBITS, False),
    "n_terms": (COUNT, False),
    "e0": (NUMBER, False),
    "e_hf": (NUMBER, False),
    "name": (STRING, False),
    "hf_bitstring": (STRING, False),
    "molecule": (STRING_OR_NULL, False),
    "mapping": (STRING_OR_NULL, False),
}
CONFIG: Schema = {
    "config": (OBJECT, True),
    "seeds": (SEEDS, True),
    "problem": (PROBLEM, True),
    "seconds": (NUMBER, True),
    "stopped": (BOOL, True),
    "versions": (VERSIONS, True),
    "evaluations": (EVALUATIONS, False),
    "summary": (LIST, False),
}
EPISODE: Schema = {
    "seed": (SEED, True),
    "episode": (integer(1), True),
    **{k: (NUMBER, True) for k in ("return", "energy", "exact_energy", "error", "threshold", "seconds")},
    "success": (BOOL, True),
    "chemically_accurate": (BOOL, True),
    "gates": (GATE_COUNT, True),
    "cnots": (COUNT, True),
    "depth": (COUNT, True),
    "eps": (NUMBER, False),
    "loss": (NUMBER, False),
    "evaluations": (COUNT, False),
    "agent": (STRING, False),
}
EVAL: Schema = {
    "seed": (SEED, True),
    "after_episodes": (COUNT, True),
    **{k: (NUMBER, True) for k in ("return", "exact_energy", "error")},
    "chemically_accurate": (BOOL, True),
    "gates": (GATE_COUNT, True),
}
BEST: Schema = {
    "episode": (integer(1), True),
    **{k: (NUMBER, True) for k in ("error", "exact_energy", "energy")},
    "gates": (GATE_COUNT, True),
    "cnots": (COUNT, True),
    "depth": (COUNT, True),
    "chemically_accurate": (BOOL, True),
    "circuit": ({"n_qubits": (QUBITS, True), "ops": (OPS, True)}, True),
}
#: The gates a circuit record may name: what ``Circuit.from_ops`` accepts, in the kit's spelling.
GATE_NAMES = tuple(g for g in GATES if g != "id")

_JSON_TYPES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}
_REPR = reprlib.Repr()  # short: a field may hold megabytes
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 40, 40, 4, 3, 2


def _show(value: Any) -> str:
    kind = "an object" if isinstance(value, dict) else _JSON_TYPES.get(type(value), type(value).__name__)
    return "null" if value is None else f"{kind} {_REPR.repr(value)}"


def check_record(record: Any, schema: Schema, where: str, prefix: str = "") -> dict[str, Any]:
    """``record`` if it satisfies ``schema``, else a one-line ValueError starting with ``where``."""
    if not isinstance(record, dict):
        what = f"field {prefix[:-1]!r}" if prefix else "the record"
        raise ValueError(f"{where}: {what} is {_show(record)}; allowed: an object")
    for name, (kind, required) in schema.items():
        field = prefix + name
        if name not in record:
            if required:
                allowed = "an object" if isinstance(kind, Mapping) else kind[0]
                raise ValueError(f"{where}: missing field {field!r} ({allowed})")
        elif isinstance(kind, Mapping):
            check_record(record[name], kind, where, field + ".")
        elif not kind[1](record[name]):
            raise ValueError(f"{where}: field {field!r} is {_show(record[name])}; allowed: {kind[0]}")
    return record


def _op_ok(op: Any, n_qubits: int) -> bool:
    if not (isinstance(op, list) and len(op) == 3 and isinstance(op[0], str) and op[0] in GATE_NAMES):
        return False
    name, wires, angle = op
    _, arity, parametric = GATES[name]
    if not (isinstance(wires, list) and len(wires) == arity and all(_is_int(q) and 0 <= q < n_qubits for q in wires)):
        return False
    finite = parametric and _is_number(angle) and math.isfinite(angle)
    return len(set(wires)) == arity and (angle is None or finite)


def check_best(record: Any, where: str, n_qubits: int | None = None) -> dict[str, Any]:
    """A best-circuit record (:data:`BEST`, then each gate); ``n_qubits``: the problem's, if known."""
    check_record(record, BEST, where)
    n = record["circuit"]["n_qubits"]
    if n_qubits is not None and n != n_qubits:
        raise ValueError(f"{where}: field 'circuit.n_qubits' is {n}; allowed: {n_qubits} (the run's problem)")
    for i, op in enumerate(record["circuit"]["ops"]):
        if not _op_ok(op, n):
            raise ValueError(
                f"{where}: field 'circuit.ops[{i}]' is {_show(op)}; allowed: [gate, wires, angle] with gate one of "
                f"{', '.join(GATE_NAMES)}, wires a list of its 1 or 2 distinct qubits in [0, {n - 1}], "
                "angle null or (rx, ry, rz) a finite number"
            )
    return record


def check_size(path: str | os.PathLike, limit: int) -> None:
    """A regular file (not a link) of at most ``limit`` bytes, checked before it is read."""
    st = os.stat(path, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path}: not a regular file (run directories hold regular files only)")
    if st.st_size > limit:
        raise ValueError(f"{path}: {st.st_size} bytes; the limit for this file is {limit} bytes")


def refuse_symlinks(path: str | os.PathLike) -> None:
    """A ValueError if the directory ``path`` holds a symbolic link (or a FIFO, socket or device)
    anywhere inside it: a planted link could make the kit read, overwrite or delete files outside
    the directory. ``path`` itself may be a link; a missing ``path`` or a file passes."""
    root = Path(path)
    if not root.is_dir():
        return
    pending, seen = [root], 0
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    raise ValueError(f"{root}: more than {MAX_ENTRIES} entries; not a run directory (refused)")
                if entry.is_symlink():
                    raise ValueError(f"{entry.path} is a symbolic link; symlinks are refused in run directories")
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif not entry.is_file(follow_symlinks=False):
                    raise ValueError(f"{entry.path} is not a regular file or directory; refused in run directories")
