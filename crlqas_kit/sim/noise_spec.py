"""Named noise models and the textual noise spec: the layer above :mod:`.noise` and :mod:`.devices`.

:mod:`crlqas_kit.sim.noise` builds channels and the :class:`~crlqas_kit.sim.noise.NoiseModel`;
:mod:`crlqas_kit.sim.devices` turns calibration profiles into models. This module names them:

* :data:`PRESETS` / :func:`noise_preset` -- the uniform textbook models (``"depolarizing"``, ...);
* the device models of :func:`crlqas_kit.sim.devices.device_builders` (``"mumbai-median"``, ...);
* :func:`known_models` -- every name :func:`parse_noise` accepts (what a UI lists);
* :func:`parse_noise` -- the CLI's spec strings (``"depolarizing:p1=2e-3+readout"``).

Why a separate module: the names of both kinds of model live in one place that imports both
builders, so neither :mod:`.noise` nor :mod:`.devices` needs the other (no import cycle, no
registration by import side effect).
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from .devices import device_builders
from .noise import (
    NoiseModel,
    amplitude_damping,
    depolarizing_1q,
    depolarizing_2q,
    depolarizing_pair,
    phase_damping,
    thermal_relaxation,
)


def _depolarizing(p1: float = 1e-3) -> NoiseModel:
    return NoiseModel(rotation=depolarizing_1q(p1), name="depolarizing", metadata={"p1": p1})


def _depolarizing_cnot(p1: float = 1e-3, p2: float = 5e-3) -> NoiseModel:
    return NoiseModel(
        rotation=depolarizing_1q(p1),
        two_qubit=depolarizing_pair(p2),
        name="depolarizing-cnot",
        metadata={"p1": p1, "p2": p2},
    )


def _depolarizing_2q(p1: float = 1e-3, p2: float = 1e-2) -> NoiseModel:
    d1 = depolarizing_1q(p1)
    return NoiseModel(
        rotation=d1, fixed_1q=d1, two_qubit=depolarizing_2q(p2), name="depolarizing-2q", metadata={"p1": p1, "p2": p2}
    )


def _thermal(t1: float = 100e-6, t2: float = 100e-6, t1q: float = 35e-9, t2q: float = 300e-9) -> NoiseModel:
    one = thermal_relaxation(t1, t2, t1q)
    two = np.kron(thermal_relaxation(t1, t2, t2q), thermal_relaxation(t1, t2, t2q))
    return NoiseModel(
        rotation=one, fixed_1q=one, two_qubit=two, name="thermal", metadata=dict(t1=t1, t2=t2, t1q=t1q, t2q=t2q)
    )


def _amplitude_damping(gamma: float = 1e-3) -> NoiseModel:
    a = amplitude_damping(gamma)
    return NoiseModel(
        rotation=a, fixed_1q=a, two_qubit=np.kron(a, a), name="amplitude-damping", metadata={"gamma": gamma}
    )


def _phase_damping(lam: float = 1e-3) -> NoiseModel:
    a = phase_damping(lam)
    return NoiseModel(rotation=a, fixed_1q=a, two_qubit=np.kron(a, a), name="phase-damping", metadata={"lam": lam})


def _readout(p10: float = 1e-2, p01: float = 1e-2) -> NoiseModel:
    return NoiseModel(readout=np.array([p10, p01]), name="readout", metadata={"p10": p10, "p01": p01})


def _none() -> NoiseModel:
    return NoiseModel(name="none")


#: Named uniform presets: ``name -> builder(**params)`` (read-only). Parameters are overridable
#: in :func:`parse_noise` (``"depolarizing:p1=2e-3"``) and :func:`noise_preset`.
PRESETS: Mapping[str, Callable[..., NoiseModel]] = MappingProxyType(
    {
        "none": _none,
        "depolarizing": _depolarizing,
        "depolarizing-cnot": _depolarizing_cnot,
        "depolarizing-2q": _depolarizing_2q,
        "thermal": _thermal,
        "amplitude-damping": _amplitude_damping,
        "phase-damping": _phase_damping,
        "readout": _readout,
    }
)


def known_models() -> tuple[str, ...]:
    """Every model name :func:`parse_noise` accepts: the :data:`PRESETS`, then the device models.

    Device models (``"mumbai-median"``, ``"ibm-mumbai"``, ...) need the number of qubits when parsed;
    ``"ibm-<device>"`` also takes a physical-qubit list, ``"ibm-mumbai[3,5,8]"``.
    """
    return (*PRESETS, *device_builders())


def noise_preset(name: str, **params: float) -> NoiseModel:
    """A named uniform noise model, e.g. ``noise_preset("depolarizing", p1=1e-3)``.

    Raises ``ValueError`` for an unknown name or a parameter the preset does not take.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown noise preset {name!r}; known presets: {', '.join(PRESETS)}")
    builder = PRESETS[name]
    allowed = list(inspect.signature(builder).parameters)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"noise preset {name!r} takes parameters {allowed or 'none'}, got {sorted(params)}")
    return builder(**params)


def preset(name: str, **params: float) -> NoiseModel:
    """Deprecated name of :func:`noise_preset` (kept for one release; warns)."""
    warnings.warn(
        "crlqas_kit.preset / crlqas_kit.sim.preset is renamed noise_preset (search presets are "
        "crlqas_kit.search_config.preset); the old name goes in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    return noise_preset(name, **params)


_PART = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\[\]]*)\])?\s*(?::(.*))?$")


def _parse_params(spec: str, arg_text: str) -> dict[str, float]:
    """``"p1=1e-3, p2=0.01"`` -> ``{"p1": 0.001, "p2": 0.01}``; a malformed or repeated key is a ValueError."""
    params: dict[str, float] = {}
    for item in filter(None, (a.strip() for a in arg_text.split(","))):
        key, eq, value = (t.strip() for t in item.partition("="))
        try:
            number = float(value)
        except ValueError:
            number = None
        if not eq or not key or number is None:
            raise ValueError(f"noise spec {spec!r}: expected key=number, got {item!r}")
        if key in params:
            raise ValueError(f"noise spec {spec!r}: parameter {key!r} is given twice (each key at most once per model)")
        params[key] = number
    return params


def _parse_qubits(spec: str, qubit_text: str) -> list[int]:
    """``"3, 5,8"`` -> ``[3, 5, 8]``: non-negative integers separated by commas, none repeated."""
    items = [t.strip() for t in qubit_text.split(",")]
    if items == [""]:
        return []
    qubits: list[int] = []
    for item in items:
        if not re.fullmatch(r"[0-9]+", item):  # refuses "", "-1", "3.0", "3 4", "a"
            raise ValueError(
                f"cannot parse noise spec {spec!r}: the qubit list [..] takes non-negative integers "
                f"separated by commas, got {item!r}"
            )
        if int(item) in qubits:
            raise ValueError(f"noise spec {spec!r}: physical qubit {int(item)} is repeated (each qubit at most once)")
        qubits.append(int(item))
    return qubits


def parse_noise(spec: str | NoiseModel | None, n_qubits: int | None = None) -> NoiseModel:
    """Parse the CLI's textual noise spec into a :class:`NoiseModel`.

    Grammar: ``part ["+" part]*`` with ``part = name ["[" qubits "]"] [":" key=value ["," key=value]*]``.
    Examples: ``"none"``, ``"depolarizing"``, ``"depolarizing:p1=2e-3"``,
    ``"depolarizing-cnot:p1=1e-3,p2=5e-3+readout:p10=0.02,p01=0.03"``,
    ``"thermal:t1=50e-6,t2=70e-6"``, or a device model name such as ``"mumbai-median"`` or
    ``"ibm-mumbai[3,5,8]"`` (device models need ``n_qubits``). Parts are applied in order after
    each gate. ``None`` is the noiseless model and a :class:`NoiseModel` is returned as it is.
    Every malformed spec raises a ``ValueError`` naming the part and the known names.
    """
    if spec is None:
        return NoiseModel(name="none")
    if isinstance(spec, NoiseModel):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"noise spec must be a non-empty string such as 'depolarizing', got {spec!r}")
    devices = device_builders()
    model: NoiseModel | None = None
    for part in spec.split("+"):
        m = _PART.match(part)
        if not m:
            raise ValueError(
                f"cannot parse noise spec part {part.strip()!r} in {spec!r} "
                "(expected name[:key=value,...] or device[q0,q1,...])"
            )
        name, qubit_text, arg_text = m.group(1), m.group(2), m.group(3) or ""
        params: dict = _parse_params(spec, arg_text)
        if qubit_text is not None and name not in devices:
            raise ValueError(f"noise spec {spec!r}: a qubit list [..] is only allowed after a device name")
        if name in devices:
            if n_qubits is None:
                raise ValueError(f"device noise model {name!r} needs the number of qubits")
            if params:  # physical qubits go in brackets, never as qubits=...
                hint = f" (choose physical qubits as {name}[0,1,...])" if "qubits" in params else ""
                raise ValueError(f"device noise model {name!r} takes no parameters, got {sorted(params)}{hint}")
            if qubit_text is not None:
                if "qubits" not in inspect.signature(devices[name]).parameters:
                    calibrated = ", ".join(d for d in devices if d.startswith("ibm-"))
                    raise ValueError(
                        f"device noise model {name!r} takes no qubit list [..] "
                        f"(physical qubits are chosen on the calibrated models: {calibrated})"
                    )
                qubits = _parse_qubits(spec, qubit_text)
                if len(qubits) != n_qubits:
                    raise ValueError(f"noise spec {spec!r} names {len(qubits)} physical qubits for {n_qubits} qubits")
                params["qubits"] = qubits
            part_model = devices[name](n_qubits, **params)
        elif name in PRESETS:
            part_model = noise_preset(name, **params)
        else:
            raise ValueError(f"unknown noise model {name!r} in spec {spec!r}; known: {', '.join(known_models())}")
        model = part_model if model is None else model.then(part_model)
    assert model is not None  # spec.split("+") has at least one part
    return model


__all__ = ["PRESETS", "known_models", "noise_preset", "parse_noise"]  # preset: deprecated, not exported
