"""The noisy PTM simulator: Pauli sums, PTMs and channels, noise models, circuits, QASM."""

from .circuit import GATES, Circuit, hardware_efficient
from .devices import coupling_map, device_model, list_devices, load_device, uniform_device_model
from .noise import (
    NoiseModel,
    amplitude_damping,
    depolarizing_1q,
    depolarizing_2q,
    depolarizing_pair,
    phase_damping,
    readout_map,
    thermal_relaxation,
)
from .noise_spec import known_models, noise_preset, parse_noise
from .noise_spec import preset as preset  # deprecated name of noise_preset, not in __all__ (warns when called)
from .paulis import PauliSum, pauli_index, pauli_matrix, pauli_string
from .ptm import is_cptp, is_trace_preserving, is_unital, ptm_from_kraus, ptm_from_unitary, rotation_ptm
from .qasm import from_qasm, load_qasm, save_qasm, to_qasm
from .shots import sample_energy
from .simulator import Evaluator, density_matrix, expectation, expectation_batch, pauli_vector

__all__ = [
    "GATES",
    "Circuit",
    "Evaluator",
    "NoiseModel",
    "PauliSum",
    "amplitude_damping",
    "coupling_map",
    "density_matrix",
    "depolarizing_1q",
    "depolarizing_2q",
    "depolarizing_pair",
    "device_model",
    "expectation",
    "expectation_batch",
    "from_qasm",
    "hardware_efficient",
    "is_cptp",
    "is_trace_preserving",
    "is_unital",
    "known_models",
    "list_devices",
    "load_device",
    "load_qasm",
    "noise_preset",
    "parse_noise",
    "pauli_index",
    "pauli_matrix",
    "pauli_string",
    "pauli_vector",
    "phase_damping",
    "ptm_from_kraus",
    "ptm_from_unitary",
    "readout_map",
    "rotation_ptm",
    "sample_energy",
    "save_qasm",
    "thermal_relaxation",
    "to_qasm",
    "uniform_device_model",
]
