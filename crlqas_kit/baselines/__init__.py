"""Baselines run in the same harness as CRLQAS (same environment, inner optimiser and budgets).

* the random agent: ``SearchConfig(agent="random")`` (uniform legal actions in the CRLQAS
  environment; see :mod:`crlqas_kit.search`);
* random search: :func:`random_search` (``SearchConfig(agent="random-search")``);
* the hardware-efficient ansatz: :func:`crlqas_kit.sim.circuit.hardware_efficient`.
"""

from .random_search import random_search

__all__ = ["random_search"]
