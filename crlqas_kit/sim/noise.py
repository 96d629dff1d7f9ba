"""Noise channels (as PTMs) and the :class:`NoiseModel` that places them after gates.

Every builder returns a float64 numpy PTM (see :mod:`crlqas_kit.sim.ptm`) and validates its
parameters with a ``ValueError`` naming the allowed range.

Depolarizing convention
-----------------------
``rho -> (1 - p) rho + p I/d`` (``d = 2**k``), ``0 <= p <= 1``. This is Qiskit Aer's
``depolarizing_error(p, k)`` parameter unchanged. PennyLane's ``DepolarizingChannel(q)``, Cirq's
``depolarize(q)`` and qulacs' ``DepolarizingNoise(q)`` apply each non-identity Pauli with
probability ``q/3`` (1 qubit), i.e. ``p = 4q/3``. A reported average gate error ``r`` of a
depolarizing gate corresponds to ``p = r d / (d - 1)`` (``2r`` for one qubit, ``4r/3`` for two).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_probability
from .ptm import GATE_PTMS


def _check_probability(name: str, p: float) -> float:
    return check_probability(p, name)


def _check_positive(name: str, t: float, allow_zero: bool = False) -> float:
    try:
        value = float(t)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {t!r}") from None
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not math.isfinite(value):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {t!r}")
    return value


def depolarizing_1q(p: float) -> np.ndarray:
    """``rho -> (1-p) rho + p I/2``. PTM ``diag(1, 1-p, 1-p, 1-p)``; ``0 <= p <= 1``."""
    p = _check_probability("depolarizing probability p", p)
    return np.diag([1.0, 1 - p, 1 - p, 1 - p])


def depolarizing_2q(p: float) -> np.ndarray:
    """Two-qubit ``rho -> (1-p) rho + p I/4``. PTM ``diag(1, (1-p) * 15)``; ``0 <= p <= 1``."""
    p = _check_probability("two-qubit depolarizing probability p", p)
    return np.diag([1.0] + [1 - p] * 15)


def depolarizing_pair(p: float, p_second: float | None = None) -> np.ndarray:
    """Independent 1-qubit depolarizing on both qubits of a 2-qubit gate: ``D(p) (x) D(p_second)``.

    ``p_second`` defaults to ``p`` (the published CRLQAS CNOT noise, ``p = 5e-3``).
    """
    return np.kron(depolarizing_1q(p), depolarizing_1q(p if p_second is None else p_second))


def amplitude_damping(gamma: float) -> np.ndarray:
    """Kraus ``K0 = [[1,0],[0,sqrt(1-g)]]``, ``K1 = [[0,sqrt(g)],[0,0]]``; ``0 <= gamma <= 1``.

    ``r_X, r_Y -> sqrt(1-g) r_X, sqrt(1-g) r_Y``;  ``r_Z -> (1-g) r_Z + g``.
    """
    g = _check_probability("amplitude damping gamma", gamma)
    s = math.sqrt(1 - g)
    m = np.diag([1.0, s, s, 1 - g])
    m[3, 0] = g
    return m


def phase_damping(lam: float) -> np.ndarray:
    """Kraus ``K0 = [[1,0],[0,sqrt(1-l)]]``, ``K1 = [[0,0],[0,sqrt(l)]]`` (Qiskit's); ``0 <= lam <= 1``.

    PTM ``diag(1, sqrt(1-l), sqrt(1-l), 1)``.
    """
    lam = _check_probability("phase damping lambda", lam)
    s = math.sqrt(1 - lam)
    return np.diag([1.0, s, s, 1.0])


def thermal_relaxation(t1: float, t2: float, time: float, excited_population: float = 0.0) -> np.ndarray:
    """Relaxation for ``time`` towards the thermal state (Qiskit's ``thermal_relaxation_error``).

    ``r_X, r_Y -> e^{-t/T2} r_{X,Y}``;  ``r_Z -> e^{-t/T1} r_Z + (1 - e^{-t/T1}) (1 - 2 p_exc)``.
    Requires ``T1 > 0``, ``0 < T2 <= 2 T1`` (complete positivity), ``time >= 0``,
    ``0 <= excited_population <= 1``. ``T1 = inf`` is allowed (pure dephasing).
    """
    t1 = float(t1) if t1 == math.inf else _check_positive("T1", t1)
    t2 = float(t2) if t2 == math.inf and t1 == math.inf else _check_positive("T2", t2)
    time = _check_positive("gate time", time, allow_zero=True)
    p_exc = _check_probability("excited_population", excited_population)
    if t2 > 2 * t1:
        raise ValueError(f"T2 = {t2:g} exceeds 2*T1 = {2 * t1:g}; thermal relaxation needs T2 <= 2*T1")
    e1, e2 = math.exp(-time / t1), math.exp(-time / t2)
    m = np.diag([1.0, e2, e2, e1])
    m[3, 0] = (1 - e1) * (1 - 2 * p_exc)
    return m


def readout_map(p10: float, p01: float) -> np.ndarray:
    """Measurement-side 4x4 map folding a bit-flip readout error into Pauli expectations.

    ``p10 = p(read 1 | true 0)``, ``p01 = p(read 0 | true 1)``. A Pauli letter P != I on the
    qubit is measured as ``(1 - p01 - p10) <P> + (p01 - p10)``, so the map is
    ``r_P -> (1 - p01 - p10) r_P + (p01 - p10) r_I``. It is applied to the final Pauli vector
    before the energy is read, never to the state a later gate sees.
    """
    p10 = _check_probability("readout p10 = p(1|0)", p10)
    p01 = _check_probability("readout p01 = p(0|1)", p01)
    m = np.diag([1.0] + [1 - p01 - p10] * 3)
    m[1:, 0] = p01 - p10
    return m


# -------------------------------------------------------------------------------------------
# Noise model
# -------------------------------------------------------------------------------------------

ROTATION_GATES = ("rx", "ry", "rz")
FIXED_1Q_GATES = ("x", "y", "z", "h", "s", "sx")
TWO_QUBIT_GATES = ("cx", "cz")


def _per_site(name: str, value, site_shape: tuple[int, ...], n_qubits: int, site_dims: int) -> np.ndarray:
    """Broadcast a channel given once (``site_shape``) to every qubit (``site_dims=1``) or ordered
    pair (``site_dims=2``), or check a per-site array's shape."""
    arr = np.asarray(value, dtype=np.float64)
    full = (n_qubits,) * site_dims + site_shape
    if arr.shape == site_shape:
        return np.broadcast_to(arr, full).copy()
    if arr.shape != full:
        raise ValueError(f"{name}: expected shape {site_shape} or {full} for {n_qubits} qubits, got {arr.shape}")
    return arr.copy()


@dataclass(frozen=True, eq=False)
class NoiseModel:
    """Which channel follows which gate kind on which qubits, plus readout.

    Each field is a PTM applied right after the gate (``None`` = no noise):

    * ``rotation`` -- after RX/RY/RZ: shape ``(4, 4)`` for every qubit, or ``(n, 4, 4)`` per qubit;
    * ``fixed_1q`` -- after X, Y, Z, H, S, SX: same shapes;
    * ``two_qubit`` -- after CNOT/CZ on (first, second) wire: ``(16, 16)``, or ``(n, n, 16, 16)``
      indexed by the ordered wire pair;
    * ``readout`` -- ``(p10, p01)`` for every qubit, or ``(n, 2)`` per qubit (see :func:`readout_map`).

    ``n_qubits`` is set for qubit-specific (device) models and ``None`` for uniform ones.
    Build models with the channel builders, :func:`~crlqas_kit.sim.noise_spec.noise_preset` or
    :func:`~crlqas_kit.sim.noise_spec.parse_noise`.
    """

    rotation: np.ndarray | None = None
    fixed_1q: np.ndarray | None = None
    two_qubit: np.ndarray | None = None
    readout: np.ndarray | None = None
    n_qubits: int | None = None
    name: str = "custom"
    metadata: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attr in ("rotation", "fixed_1q", "two_qubit", "readout"):
            value = getattr(self, attr)
            if value is not None:
                arr = np.array(value, dtype=np.float64)
                if not np.all(np.isfinite(arr)):
                    raise ValueError(f"NoiseModel.{attr} contains NaN or inf")
                arr.setflags(write=False)
                object.__setattr__(self, attr, arr)
        if self.readout is not None:
            if self.readout.ndim not in (1, 2) or self.readout.shape[-1] != 2:
                raise ValueError(
                    f"NoiseModel.readout must be (p10, p01) or an (n, 2) array, got shape {self.readout.shape}"
                )
            r = self.readout.reshape(-1, 2)
            for p10, p01 in r:
                readout_map(p10, p01)  # validates

    @property
    def is_noiseless(self) -> bool:
        return all(getattr(self, a) is None for a in ("rotation", "fixed_1q", "two_qubit", "readout"))

    @property
    def has_readout(self) -> bool:
        return self.readout is not None

    def check_qubits(self, n_qubits: int) -> None:
        if self.n_qubits is not None and self.n_qubits != n_qubits:
            raise ValueError(f"noise model {self.name!r} is defined for {self.n_qubits} qubits, circuit has {n_qubits}")

    def arrays(self, n_qubits: int) -> dict[str, np.ndarray]:
        """Dense per-qubit arrays for the simulator.

        Returns ``one_qubit`` ``(2, n, 4, 4)`` (index 0: after rotations, 1: after fixed gates),
        ``two_qubit`` ``(n, n, 16, 16)`` and ``readout`` ``(n, 4, 4)``; identities where no noise.
        """
        self.check_qubits(n_qubits)
        n = n_qubits
        eye4, eye16 = np.eye(4), np.eye(16)
        one = np.stack(
            [
                _per_site(f"{self.name}.{a}", eye4 if getattr(self, a) is None else getattr(self, a), (4, 4), n, 1)
                for a in ("rotation", "fixed_1q")
            ]
        )
        two = _per_site(f"{self.name}.two_qubit", eye16 if self.two_qubit is None else self.two_qubit, (16, 16), n, 2)
        if self.readout is None:
            ro = np.broadcast_to(eye4, (n, 4, 4)).copy()
        else:
            r = np.asarray(self.readout)
            r = np.broadcast_to(r, (n, 2)) if r.shape == (2,) else r
            if r.shape != (n, 2):
                raise ValueError(f"{self.name}.readout: expected shape (2,) or ({n}, 2), got {r.shape}")
            ro = np.stack([readout_map(p10, p01) for p10, p01 in r])
        return {"one_qubit": one, "two_qubit": two, "readout": ro}

    def then(self, other: NoiseModel) -> NoiseModel:
        """The model applying ``self``'s channel and then ``other``'s after each gate."""
        if self.n_qubits is not None and other.n_qubits is not None and self.n_qubits != other.n_qubits:
            raise ValueError("cannot combine noise models defined for different qubit counts")

        def comp(a, b):
            if a is None or b is None:
                return b if a is None else a
            return np.matmul(b, a)

        if self.readout is not None and other.readout is not None:
            raise ValueError("both noise models define a readout error; give it once")
        return NoiseModel(
            rotation=comp(self.rotation, other.rotation),
            fixed_1q=comp(self.fixed_1q, other.fixed_1q),
            two_qubit=comp(self.two_qubit, other.two_qubit),
            readout=self.readout if other.readout is None else other.readout,
            n_qubits=self.n_qubits if self.n_qubits is not None else other.n_qubits,
            name=f"{self.name}+{other.name}",
            metadata={**self.metadata, **other.metadata},
        )

    def __repr__(self) -> str:
        parts = [a for a in ("rotation", "fixed_1q", "two_qubit", "readout") if getattr(self, a) is not None]
        return f"NoiseModel({self.name!r}, channels={parts or 'none'})"


#: Names that moved to the layer above this module: old name -> new home.
_MOVED = {
    "PRESETS": "crlqas_kit.sim.noise_spec.PRESETS",
    "DEVICE_MODELS": "crlqas_kit.sim.devices.device_builders()",
    "parse_noise": "crlqas_kit.sim.noise_spec.parse_noise",
    "preset": "crlqas_kit.sim.noise_spec.noise_preset",
}


def __getattr__(name: str):
    """An old name gets an error that says where it went; nothing is imported from the layer
    above (a lazy import of ``noise_spec`` here would close the noise -> noise_spec -> noise cycle)."""
    if name in _MOVED:
        raise AttributeError(f"crlqas_kit.sim.noise.{name} moved: use {_MOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Re-exported for convenience: noiseless gate PTMs.
__all__ = [
    "GATE_PTMS",
    "NoiseModel",
    "amplitude_damping",
    "depolarizing_1q",
    "depolarizing_2q",
    "depolarizing_pair",
    "phase_damping",
    "readout_map",
    "thermal_relaxation",
]
