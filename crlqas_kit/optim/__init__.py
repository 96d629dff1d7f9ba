"""Inner optimisers: SPSA / Adam-SPSA (optax-style), their presets and the VQE loop."""

from .presets import PRESETS, PUBLISHED, preset_config, published_config
from .spsa import SPSAResult, adam_spsa, minimize, scale_by_spsa_gain, spsa_gradient
from .spsa_config import SPSAConfig
from .vqe import VQEResult, energy_objective, optimize, optimize_starts, warm_start

__all__ = [
    "PRESETS",
    "PUBLISHED",
    "SPSAConfig",
    "SPSAResult",
    "VQEResult",
    "adam_spsa",
    "energy_objective",
    "minimize",
    "optimize",
    "optimize_starts",
    "preset_config",
    "published_config",
    "scale_by_spsa_gain",
    "spsa_gradient",
    "warm_start",
]
