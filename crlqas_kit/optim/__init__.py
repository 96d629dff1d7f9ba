"""Inner optimisers: SPSA / Adam-SPSA (optax-style) and the VQE loop."""

from .spsa import SPSAConfig, SPSAResult, adam_spsa, minimize, scale_by_spsa_gain, spsa_gradient
from .vqe import PRESETS, VQEResult, energy_objective, optimize, preset_config, warm_start

__all__ = [
    "PRESETS",
    "SPSAConfig",
    "SPSAResult",
    "VQEResult",
    "adam_spsa",
    "energy_objective",
    "minimize",
    "optimize",
    "preset_config",
    "scale_by_spsa_gain",
    "spsa_gradient",
    "warm_start",
]
