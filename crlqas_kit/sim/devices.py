"""Device noise profiles (calibration data as JSON) turned into :class:`NoiseModel` s.

Profiles live in ``crlqas_kit/data/devices/`` and were extracted from the calibration snapshots
shipped with ``qiskit-ibm-runtime``'s fake backends by ``scripts/make_device_profiles.py``
(source, version and calibration date inside each file; see ``docs/devices.md``).

Gate noise model (per gate, per qubit)
--------------------------------------
after a 1-qubit gate: ``D(p) o TR(T1, T2, t_1q)``; after a CNOT: the same on both qubits with the
CNOT duration and ``D_2(p_2)``. ``TR`` is :func:`thermal_relaxation` (T2 clipped to ``2 T1``),
``D`` a depolarizing channel whose strength makes the channel's average gate infidelity equal the
calibrated gate error (as Qiskit's ``NoiseModel.from_backend`` does); when relaxation alone
already exceeds the reported error, ``p = 0``. Readout: the calibrated ``p(1|0)``, ``p(0|1)``.
The kit's rotations RX/RY/RZ are each charged one ``sx`` (error and duration): RZ is virtual on
IBM hardware and RX/RY need one or two ``sx``, so this is a middle estimate, stated here.

Uniform presets (the paper's settings): ``<device>-median``, ``<device>-max`` and
``<device>-10xmax`` give every qubit the median / worst (max error, max duration, min T1 and T2) /
ten-times-worst values (gate errors x10, capped at 0.5 / 0.75; T1 and T2 / 10). Readout in
``10xmax`` stays at the max values: ten times Mumbai's worst readout (10 %) would pass p = 0.5,
where a measurement carries no information and every circuit scores the same.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._checks import check_int
from .noise import NoiseModel, depolarizing_1q, depolarizing_2q, thermal_relaxation

_DATA = Path(__file__).resolve().parent.parent / "data" / "devices"
_STATS = ("median", "max", "10xmax")


def list_devices() -> list[str]:
    return sorted(p.name[:-5] for p in (_DATA).iterdir() if p.name.endswith(".json"))


@cache
def load_device(name: str) -> dict:
    """The raw profile of ``name`` (e.g. ``"ibm-mumbai"``)."""
    names = list_devices()
    if name not in names:
        raise ValueError(f"unknown device profile {name!r}; available: {', '.join(names)}")
    return json.loads((_DATA / f"{name}.json").read_text())


def average_infidelity(ptm: np.ndarray) -> float:
    """``1 - F_avg`` with ``F_avg = (d F_pro + 1)/(d + 1)``, ``F_pro = Tr(R)/d^2``."""
    d = int(round(np.sqrt(ptm.shape[0])))
    return 1.0 - (np.trace(ptm) / d + 1.0) / (d + 1.0)


def _gate_channel(relax: np.ndarray, error: float) -> np.ndarray:
    """``D(p) @ relax`` with ``p`` chosen so the average infidelity equals ``error``."""
    k = 1 if relax.shape[0] == 4 else 2
    d = 2**k
    # D(p) scales every non-identity Pauli by (1-p): Tr(D R) = 1 + (1-p) (Tr R - 1).
    tr = np.trace(relax)
    target_tr = d * ((1.0 - error) * (d + 1.0) - 1.0)
    p = 0.0 if tr <= 1 else float(np.clip(1.0 - (target_tr - 1.0) / (tr - 1.0), 0.0, 1.0))
    dep = depolarizing_1q(p) if k == 1 else depolarizing_2q(p)
    return dep @ relax


def _uniform_values(profile: dict, stat: str) -> dict[str, float]:
    s = profile["summary"]
    worst = stat != "median"
    pick_err = (lambda key: s[key]["max"]) if worst else (lambda key: s[key]["median"])
    pick_time = (lambda key: s[key]["min"]) if worst else (lambda key: s[key]["median"])
    v = {
        "t1": pick_time("t1"),
        "t2": min(pick_time("t2_clipped"), 2 * pick_time("t1")),
        "e1": pick_err("sx_error"),
        "t1q": pick_err("sx_duration"),
        "e2": pick_err("cx_error"),
        "t2q": pick_err("cx_duration"),
        "p10": pick_err("readout_p10"),
        "p01": pick_err("readout_p01"),
    }
    if stat == "10xmax":
        # readout keeps its max values: ten times the worst qubit's (10 %) would exceed p = 0.5,
        # where a measured Pauli carries no information and every circuit scores the same
        v.update(t1=v["t1"] / 10, t2=v["t2"] / 10, e1=min(10 * v["e1"], 0.5), e2=min(10 * v["e2"], 0.75))
    return v


def _model_from_values(values: Sequence[dict[str, float]], pair_values, name: str, meta: dict) -> NoiseModel:
    n = len(values)
    one = np.stack([_gate_channel(thermal_relaxation(v["t1"], v["t2"], v["t1q"]), v["e1"]) for v in values])
    two = np.zeros((n, n, 16, 16))
    for a in range(n):
        for b in range(n):
            if a == b:
                two[a, b] = np.eye(16)
                continue
            e2, t2q = pair_values(a, b)
            relax = np.kron(
                thermal_relaxation(values[a]["t1"], values[a]["t2"], t2q),
                thermal_relaxation(values[b]["t1"], values[b]["t2"], t2q),
            )
            two[a, b] = _gate_channel(relax, e2)
    readout = np.array([[v["p10"], v["p01"]] for v in values])
    return NoiseModel(rotation=one, fixed_1q=one, two_qubit=two, readout=readout, n_qubits=n, name=name, metadata=meta)


def uniform_device_model(device: str, stat: str, n_qubits: int) -> NoiseModel:
    """Every qubit and pair gets the profile's ``stat`` values (``median``, ``max``, ``10xmax``)."""
    if stat not in _STATS:
        raise ValueError(f"unknown statistic {stat!r}; use one of {_STATS}")
    check_int(n_qubits, "n_qubits")
    profile = load_device(device)
    v = _uniform_values(profile, stat)
    meta = {"device": device, "stat": stat, "values": v, "source": profile["source"]}
    return _model_from_values([v] * n_qubits, lambda a, b: (v["e2"], v["t2q"]), f"{device}-{stat}", meta)


def device_model(device: str, qubits: Sequence[int]) -> NoiseModel:
    """Per-qubit model from the calibration of the chosen physical ``qubits`` (circuit qubit k ->
    physical ``qubits[k]``). CNOTs between physical qubits that are not coupled get the device's
    median CNOT error and duration (a routed CNOT would be worse; restrict actions to
    :func:`coupling_map` to stay native)."""
    profile = load_device(device)
    n_dev = profile["n_qubits"]
    qubits = list(qubits)
    if any(isinstance(q, bool) or not isinstance(q, numbers.Integral) for q in qubits):
        raise ValueError(f"physical qubits of {device} must be integers (0..{n_dev - 1}), got {qubits}")
    qubits = [int(q) for q in qubits]
    if not qubits or len(set(qubits)) != len(qubits) or any(not 0 <= q < n_dev for q in qubits):
        raise ValueError(f"qubits must be distinct physical qubits of {device} (0..{n_dev - 1}), got {qubits}")
    sx = {g["qubit"]: g for g in profile["gates_1q"]["sx"]}
    cx = {tuple(g["qubits"]): g for g in profile["gates_2q"]["cx"]}
    med = profile["summary"]
    values = []
    for q in qubits:
        qd = profile["qubits"][q]
        values.append(
            {
                "t1": qd["t1"],
                "t2": min(qd["t2_clipped"], 2 * qd["t1"]),
                "e1": sx[q]["error"],
                "t1q": sx[q]["duration"],
                "p10": qd["readout_p10"],
                "p01": qd["readout_p01"],
            }
        )

    def pair(a: int, b: int) -> tuple[float, float]:
        g = cx.get((qubits[a], qubits[b]))
        return (g["error"], g["duration"]) if g else (med["cx_error"]["median"], med["cx_duration"]["median"])

    meta = {"device": device, "physical_qubits": qubits, "source": profile["source"]}
    return _model_from_values(values, pair, f"{device}{qubits}", meta)


def coupling_map(device: str, qubits: Sequence[int]) -> list[tuple[int, int]]:
    """Directed CNOT pairs among the chosen physical qubits, in circuit-qubit indices."""
    index = {int(q): k for k, q in enumerate(qubits)}
    edges = load_device(device)["coupling_map"]
    return [(index[a], index[b]) for a, b in edges if a in index and b in index]


@cache
def device_builders() -> Mapping[str, Callable[..., NoiseModel]]:
    """The named device models, ``name -> builder(n_qubits, qubits=None)`` (read-only).

    For every profile ``ibm-<device>``: ``<device>-median``, ``<device>-max`` and
    ``<device>-10xmax`` (:func:`uniform_device_model`; ``qubits`` not accepted) and ``ibm-<device>``
    itself (:func:`device_model` on physical qubits ``qubits``, default ``0..n_qubits-1``).
    :mod:`crlqas_kit.sim.noise_spec` reads this to parse spec strings; nothing is registered
    anywhere by importing this module.
    """
    builders: dict[str, Callable[..., NoiseModel]] = {}
    for device in list_devices():
        short = device.removeprefix("ibm-")
        for stat in _STATS:
            builders[f"{short}-{stat}"] = lambda n_qubits, _d=device, _s=stat: uniform_device_model(_d, _s, n_qubits)
        builders[device] = lambda n_qubits, qubits=None, _d=device: device_model(
            _d, range(n_qubits) if qubits is None else qubits
        )
    return MappingProxyType(builders)
