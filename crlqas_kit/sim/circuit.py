"""Circuits as data: fixed-capacity integer arrays that jit never has to retrace.

A :class:`Circuit` on ``n`` qubits with capacity ``C`` holds

* ``gates``  int32 ``(C,)``   -- gate id (see :data:`GATE_IDS`); ``0`` is the identity (padding);
* ``wires``  int32 ``(C, 2)`` -- (qubit, 0) for 1-qubit gates, (first, second) for 2-qubit gates;
* ``slots``  int32 ``(C,)``   -- parameter slot of a rotation (``-1`` for fixed gates);
* ``angles`` float64 ``(C,)`` -- default parameter values, indexed by slot;
* ``length`` int              -- number of gates in use.

Only ``n_qubits`` and ``capacity`` are static, so every circuit of the same shape runs through
the same compiled simulator. The builder methods (``rx``, ``cx``, ...) return a **new** circuit::

    circ = Circuit(2).ry(0, 0.3).cx(0, 1).rz(1)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int

#: gate name -> (id, number of wires, parametric?)
GATES: dict[str, tuple[int, int, bool]] = {
    "id": (0, 1, False),
    "rx": (1, 1, True),
    "ry": (2, 1, True),
    "rz": (3, 1, True),
    "x": (4, 1, False),
    "y": (5, 1, False),
    "z": (6, 1, False),
    "h": (7, 1, False),
    "s": (8, 1, False),
    "sx": (9, 1, False),
    "cx": (10, 2, False),
    "cz": (11, 2, False),
}
GATE_IDS = {name: spec[0] for name, spec in GATES.items()}
GATE_NAMES = {spec[0]: name for name, spec in GATES.items()}
_ALIASES = {"cnot": "cx"}
DEFAULT_CAPACITY = 64
#: Most gates one circuit may hold (QASM files and ``from_ops`` beyond it are refused).
MAX_GATES = 2**16


def bucket_capacity(n_gates: int) -> int:
    """Capacity for ``n_gates``: :data:`DEFAULT_CAPACITY`, or the next power of two above it.

    The simulator compiles once per capacity, so rounding up to powers of two bounds the number
    of compiles for long circuits (64, 128, 256, ...) instead of one per distinct length."""
    return max(DEFAULT_CAPACITY, 1 << max(0, int(n_gates) - 1).bit_length())


def _check_qubit(q: object, n_qubits: int) -> int:
    if isinstance(q, bool) or not isinstance(q, numbers.Integral):
        raise TypeError(f"qubit index must be an integer, got {type(q).__name__}: {q!r}")
    if not 0 <= int(q) < n_qubits:
        raise ValueError(f"qubit index {q} out of range for a {n_qubits}-qubit circuit (allowed 0..{n_qubits - 1})")
    return int(q)


def _check_angle(theta: object, what: str = "angle") -> float:
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real | np.floating | np.integer):
        raise TypeError(f"{what} must be a real number, got {type(theta).__name__}: {theta!r}")
    value = float(theta)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value


def _encode(name: str, wires, theta=None, *, n_qubits: int) -> tuple[int, tuple[int, int], float | None]:
    """Validate one gate: ``(gate id, (wire, wire-or-0), angle or None for fixed gates)``."""
    if not isinstance(name, str):
        raise TypeError(f"gate name must be a string, got {name!r}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in GATES or key == "id":
        allowed = ", ".join(g for g in GATES if g != "id")
        raise ValueError(f"unknown gate {name!r}; supported gates: {allowed}")
    gid, n_wires, parametric = GATES[key]
    if isinstance(wires, numbers.Number | np.number):
        wires = (wires,)
    elif not isinstance(wires, Sequence | np.ndarray) or isinstance(wires, str):
        raise TypeError(f"gate {key}: wires must be an integer or a sequence of integers, got {wires!r}")
    wires = tuple(wires)
    if len(wires) != n_wires:
        raise ValueError(f"gate {key} acts on {n_wires} qubit(s), got wires {wires}")
    wires = tuple(_check_qubit(q, n_qubits) for q in wires)
    if n_wires == 2 and wires[0] == wires[1]:
        raise ValueError(f"{key}({wires[0]}, {wires[1]}): control and target must be different qubits")
    if not parametric and theta is not None:
        raise ValueError(f"gate {key} takes no angle, got {theta!r}")
    angle = (0.0 if theta is None else _check_angle(theta, f"{key} angle")) if parametric else None
    return gid, (wires if n_wires == 2 else (wires[0], 0)), angle


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class Circuit:
    """A parameterized circuit as fixed-capacity arrays (see module docstring)."""

    n_qubits: int = dataclasses.field(metadata=dict(static=True))
    capacity: int = dataclasses.field(default=DEFAULT_CAPACITY, metadata=dict(static=True))
    gates: np.ndarray = None  # type: ignore[assignment]
    wires: np.ndarray = None  # type: ignore[assignment]
    slots: np.ndarray = None  # type: ignore[assignment]
    angles: np.ndarray = None  # type: ignore[assignment]
    length: int | np.ndarray = 0

    def __post_init__(self) -> None:
        data = (self.gates, self.wires, self.slots, self.angles)
        if any(a is not None and not isinstance(a, np.ndarray | list | tuple) for a in data):
            return  # jax arrays, tracers or tree placeholders: built by a jax transformation, trusted
        if isinstance(self.n_qubits, bool):
            raise ValueError(f"n_qubits must be a positive integer, got {self.n_qubits!r}")
        if not isinstance(self.n_qubits, numbers.Integral):
            kind = type(self.n_qubits).__name__
            raise TypeError(f"n_qubits must be a positive integer, got {kind}: {self.n_qubits!r}")
        if self.n_qubits < 1:
            raise ValueError(f"n_qubits must be a positive integer, got {self.n_qubits!r}")
        check_int(self.capacity, "capacity")
        cap = int(self.capacity)
        defaults = {
            "gates": np.zeros(cap, np.int32),
            "wires": np.zeros((cap, 2), np.int32),
            "slots": np.full(cap, -1, np.int32),
            "angles": np.zeros(cap, np.float64),
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            if value is None:
                value = default
            else:
                value = np.asarray(value, dtype=default.dtype)
                if value.shape != default.shape:
                    raise ValueError(f"Circuit.{name} must have shape {default.shape}, got {value.shape}")
            object.__setattr__(self, name, value)

    # -- building -------------------------------------------------------------------------------
    def add(self, name: str, wires: Sequence[int] | int, theta: float | None = None) -> Circuit:
        """Return a new circuit with gate ``name`` appended on ``wires`` (angle ``theta`` for rotations)."""
        gid, pair, angle = _encode(name, wires, theta, n_qubits=self.n_qubits)
        n = self.num_gates
        if n >= self.capacity:
            raise ValueError(f"circuit capacity exceeded: already {n} gates in a circuit of capacity {self.capacity}")
        gates, wires_arr, slots, angles = (np.array(a) for a in (self.gates, self.wires, self.slots, self.angles))
        gates[n], wires_arr[n] = gid, pair
        if angle is not None:
            slot = self.n_params
            slots[n], angles[slot] = slot, angle
        return dataclasses.replace(self, gates=gates, wires=wires_arr, slots=slots, angles=angles, length=n + 1)

    def rx(self, q: int, theta: float | None = None) -> Circuit:
        return self.add("rx", q, theta)

    def ry(self, q: int, theta: float | None = None) -> Circuit:
        return self.add("ry", q, theta)

    def rz(self, q: int, theta: float | None = None) -> Circuit:
        return self.add("rz", q, theta)

    def x(self, q: int) -> Circuit:
        return self.add("x", q)

    def y(self, q: int) -> Circuit:
        return self.add("y", q)

    def z(self, q: int) -> Circuit:
        return self.add("z", q)

    def h(self, q: int) -> Circuit:
        return self.add("h", q)

    def s(self, q: int) -> Circuit:
        return self.add("s", q)

    def sx(self, q: int) -> Circuit:
        return self.add("sx", q)

    def cx(self, control: int, target: int) -> Circuit:
        return self.add("cx", (control, target))

    cnot = cx

    def cz(self, a: int, b: int) -> Circuit:
        return self.add("cz", (a, b))

    @classmethod
    def from_ops(cls, n_qubits: int, ops: Iterable[tuple], capacity: int | None = None) -> Circuit:
        """From ``[("ry", (0,), 0.3), ("cx", (0, 1)), ...]`` in one pass (linear in the gates).

        ``capacity`` defaults to :func:`bucket_capacity` (64, or the next power of two)."""
        ops = list(ops)
        if len(ops) > MAX_GATES:
            raise ValueError(f"a circuit holds at most {MAX_GATES} gates, got {len(ops)}")
        circ = cls(n_qubits, capacity or bucket_capacity(len(ops)))
        if len(ops) > circ.capacity:
            raise ValueError(f"circuit capacity exceeded: {len(ops)} gates in a circuit of capacity {circ.capacity}")
        gates, wires, slots, angles = (np.array(a) for a in (circ.gates, circ.wires, circ.slots, circ.angles))
        n_params = 0
        for i, op in enumerate(ops):
            if not isinstance(op, tuple | list) or not 2 <= len(op) <= 3:
                raise ValueError(f"gate {i}: expected (name, wires) or (name, wires, angle), got {op!r}")
            gates[i], wires[i], angle = _encode(*op, n_qubits=circ.n_qubits)
            if angle is not None:
                slots[i], angles[n_params] = n_params, angle
                n_params += 1
        return dataclasses.replace(circ, gates=gates, wires=wires, slots=slots, angles=angles, length=len(ops))

    # -- views ----------------------------------------------------------------------------------
    @property
    def num_gates(self) -> int:
        return int(self.length)

    def __len__(self) -> int:
        return self.num_gates

    @property
    def n_params(self) -> int:
        """Number of rotation angles (parameter slots in use)."""
        return int(np.count_nonzero(np.asarray(self.slots)[: self.num_gates] >= 0))

    @property
    def params(self) -> np.ndarray:
        """The default angles, shape ``(n_params,)``."""
        return np.asarray(self.angles)[: self.n_params].copy()

    def with_params(self, params: Sequence[float]) -> Circuit:
        """The same circuit with its angles replaced (``params`` of length ``n_params``)."""
        values = check_params(params, self.n_params)
        angles = np.zeros(self.capacity)
        angles[: self.n_params] = values
        return dataclasses.replace(self, angles=angles)

    def ops(self, params: Sequence[float] | None = None) -> list[tuple]:
        """The gate list ``[(name, wires, angle_or_None), ...]``."""
        angles = np.asarray(self.angles) if params is None else np.asarray(params, dtype=float)
        out = []
        for g, w, s in zip(
            *(np.asarray(a)[: self.num_gates] for a in (self.gates, self.wires, self.slots)), strict=True
        ):
            name = GATE_NAMES[int(g)]
            wires = (int(w[0]), int(w[1])) if GATES[name][1] == 2 else (int(w[0]),)
            out.append((name, wires, float(angles[s]) if s >= 0 else None))
        return out

    def counts(self) -> dict[str, int]:
        """``{"gates": ..., "cnots": ..., "rotations": ..., "depth": ...}``."""
        ops = self.ops()
        return {
            "gates": len(ops),
            "cnots": sum(name == "cx" for name, *_ in ops),
            "rotations": sum(GATES[name][2] for name, *_ in ops),
            "depth": self.depth(),
        }

    def depth(self) -> int:
        """ASAP depth: each gate goes to the first layer after all its wires are free."""
        moments = [0] * self.n_qubits
        for _, wires, _ in self.ops():
            layer = max(moments[q] for q in wires)
            for q in wires:
                moments[q] = layer + 1
        return max(moments, default=0)

    def with_capacity(self, capacity: int) -> Circuit:
        """A copy with a different capacity (at least the number of gates in use)."""
        return Circuit.from_ops(self.n_qubits, self.ops(), capacity)

    def __repr__(self) -> str:
        body = " ".join(
            f"{name}({','.join(map(str, wires))}{'' if a is None else f'; {a:.4g}'})" for name, wires, a in self.ops()
        )
        return f"Circuit(n_qubits={self.n_qubits}, capacity={self.capacity}, gates=[{body}])"


def fold_gates(step, state, circuit: Circuit, loop: str = "scan"):
    """Fold ``step(state, (gate, wires, slot, active)) -> state`` over the circuit's gates.

    ``loop="while"``: a ``fori_loop`` over the ``length`` gates in use (forward only; under a
    ``vmap`` over circuits it runs to the batch's longest circuit). ``loop="scan"``: a
    ``lax.scan`` over all ``capacity`` slots (reverse-differentiable) in which padding and
    unused slots skip the gate through ``lax.cond`` -- a real branch when the circuit is not
    batched, so a short circuit in a long buffer costs its own gates plus a loop step per slot.
    """
    gates, wires, slots = (jnp.asarray(a) for a in (circuit.gates, circuit.wires, circuit.slots))
    if loop == "while":

        def body(i, state):
            return step(state, (gates[i], wires[i], slots[i], jnp.asarray(True)))

        return jax.lax.fori_loop(0, circuit.length, body, state)
    active = jnp.arange(circuit.capacity) < circuit.length

    def scan_step(state, gate):
        used = gate[3] & (gate[0] != 0)
        return jax.lax.cond(used, lambda s: step(s, gate), lambda s: s, state), None

    state, _ = jax.lax.scan(scan_step, state, (gates, wires, slots, active))
    return state


def check_params(params, n_params: int) -> np.ndarray:
    """Validate a concrete parameter vector: shape ``(n_params,)`` (or longer, zero padded), finite."""
    arr = np.asarray(params, dtype=np.float64) if not isinstance(params, jax.core.Tracer) else params
    if isinstance(arr, jax.core.Tracer):
        return arr
    if arr.ndim != 1 or arr.shape[0] < n_params:
        raise ValueError(f"expected {n_params} circuit parameters, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"circuit parameters must be finite; got NaN/inf at positions {np.flatnonzero(~np.isfinite(arr)).tolist()}"
        )
    return arr[:n_params]


def hardware_efficient(n_qubits: int, layers: int = 2, capacity: int | None = None) -> Circuit:
    """The RY hardware-efficient ansatz: ``layers`` x (RY on every qubit, CNOT ladder), final RY layer.

    The ladder is ``cx(0,1) cx(1,2) ... cx(n-2,n-1)``. Gates: ``(layers + 1) n`` RY and
    ``layers (n - 1)`` CNOTs (2 layers on 4 qubits: 12 + 6 = 18). All angles start at 0.
    It uses only the agent's gate set, so it is the baseline the searched circuits are compared with.
    """
    check_int(n_qubits, "n_qubits", minimum=2)
    check_int(layers, "layers", minimum=0)
    rotations = [("ry", (q,)) for q in range(n_qubits)]
    ladder = [("cx", (q, q + 1)) for q in range(n_qubits - 1)]
    return Circuit.from_ops(n_qubits, (rotations + ladder) * layers + rotations, capacity)
