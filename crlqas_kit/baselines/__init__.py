"""Baselines to compare CRLQAS against, each in its own module, exported lazily.

* the random agent: ``SearchConfig(agent="random")`` (uniform legal actions in the CRLQAS
  environment; see :mod:`crlqas_kit.search`);
* random search: :func:`random_search` (``SearchConfig(agent="random-search")``), at the
  environment's evaluation cost;
* qubit-ADAPT-VQE: :func:`adapt_vqe` (:mod:`.adapt`), an ansatz grown from Pauli rotations by
  energy gradients, compiled to the agent's gate set;
* the hardware-efficient ansatz: :func:`hea_baseline` (:mod:`.hea`) optimises
  :func:`crlqas_kit.sim.circuit.hardware_efficient` from several starts.

``import crlqas_kit.baselines`` loads none of them: ``random_search`` pulls in the RL layer
(flax, optax), the others only the simulator, so each name is imported on first use.
"""

import importlib

#: name -> (module, attribute) imported on first use
_LAZY = {
    "random_search": (".random_search", "random_search"),
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


__all__ = list(_LAZY)
