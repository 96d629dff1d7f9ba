"""Baselines to compare CRLQAS against, each in its own module, exported lazily.

* the random agent: ``SearchConfig(agent="random")`` (uniform legal actions in the CRLQAS
  environment; see :mod:`crlqas_kit.search`);
* random search: :func:`random_search` (``SearchConfig(agent="random-search")``), at the
  environment's evaluation cost;
* qubit-ADAPT-VQE: :func:`adapt_vqe` (:mod:`.adapt`), an ansatz grown from Pauli rotations by
  energy gradients, compiled to the agent's gate set;
* the hardware-efficient ansatz: :func:`hea_baseline` (:mod:`.hea`) optimises
  :func:`crlqas_kit.sim.circuit.hardware_efficient` from several starts.

``random_search`` is imported with the package (it pulls in the RL layer: flax, optax): the
function shares its module's name, and a lazily exported name would be shadowed by the submodule
once anything imports ``crlqas_kit.baselines.random_search``. The others are imported on first use.
"""

import importlib

from .random_search import random_search

#: name -> (module, attribute) imported on first use
_LAZY = {
    "adapt_vqe": (".adapt", "adapt_vqe"),
    "AdaptResult": (".adapt", "AdaptResult"),
    "hea_baseline": (".hea", "hea_baseline"),
    "HEAResult": (".hea", "HEAResult"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'crlqas_kit.baselines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["random_search", *_LAZY]
