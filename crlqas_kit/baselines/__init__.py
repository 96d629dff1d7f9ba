"""Baselines to compare CRLQAS against, each in its own module.

* the random agent: ``SearchConfig(agent="random")`` (uniform legal actions in the CRLQAS
  environment; see :mod:`crlqas_kit.search`);
* random search: :func:`random_search` (``SearchConfig(agent="random-search")``), at the
  environment's evaluation cost;
* qubit-ADAPT-VQE: :func:`adapt_vqe` (:mod:`.adapt`), an ansatz grown from Pauli rotations by
  energy gradients, compiled to the agent's gate set;
* the hardware-efficient ansatz: :func:`hea_baseline` (:mod:`.hea`) optimises
  :func:`crlqas_kit.sim.circuit.hardware_efficient` from several starts;
* the noise floor of a CNOT count: :func:`cnot_floor` (:mod:`.floor`), the lowest error over
  every placement of ``k`` CNOTs (an empirical floor: docs/baselines.md).

All are imported with the package (``random_search`` pulls in the RL layer: flax, optax);
``import crlqas_kit`` itself imports none of them (``ck.adapt_vqe`` and ``ck.hea_baseline`` are
lazy there).
"""

from .adapt import AdaptResult, adapt_vqe
from .floor import FloorResult, cnot_floor
from .hea import HEAResult, hea_baseline
from .random_search import random_search

__all__ = ["AdaptResult", "FloorResult", "HEAResult", "adapt_vqe", "cnot_floor", "hea_baseline", "random_search"]
