"""Checkers for the course exercises (``notebooks/exercises/``).

Every ``check_*`` function takes the student's function, calls it on a few random inputs, compares
the answers with the kit's own implementation and **prints** a verdict: ``✔`` and ``True`` when
all inputs agree, otherwise ``✘`` with a hint and ``False``. A checker never raises: a missing
implementation, an exception inside the student's code, a wrong shape or type all become a hint.

>>> from crlqas_kit.exercises import check_depolarizing_ptm
>>> check_depolarizing_ptm(lambda p: np.diag([1, 1 - p, 1 - p, 1 - p]))   # doctest: +SKIP
✔ check_depolarizing_ptm: correct on 6 inputs.
True

:data:`EXERCISES` lists them by notebook. The harness is :mod:`crlqas_kit.exercises._harness`;
the checkers live in one module per notebook (``ptm``, ``noise_channels``, ``hamiltonians``,
``spsa``, ``environment``, ``dqn``).
"""

from __future__ import annotations

from collections.abc import Callable

from .dqn import check_ddqn_target, check_n_step_returns
from .environment import check_action_mask, check_asap_layers
from .hamiltonians import check_ground_energy, check_hf_energy
from .noise_channels import check_amplitude_damping_ptm, check_depolarizing_ptm
from .ptm import check_pauli_energy, check_pauli_vector, check_ptm
from .spsa import check_spsa_gains, check_spsa_gradient

__all__ = [
    "EXERCISES",
    "check_action_mask",
    "check_amplitude_damping_ptm",
    "check_asap_layers",
    "check_ddqn_target",
    "check_depolarizing_ptm",
    "check_ground_energy",
    "check_hf_energy",
    "check_n_step_returns",
    "check_pauli_energy",
    "check_pauli_vector",
    "check_ptm",
    "check_spsa_gains",
    "check_spsa_gradient",
]

#: Exercise notebook -> the checkers it uses.
EXERCISES: dict[str, list[Callable[..., bool]]] = {
    "ex01_ptm": [check_ptm, check_pauli_vector, check_pauli_energy],
    "ex02_noise_channels": [check_depolarizing_ptm, check_amplitude_damping_ptm],
    "ex03_hamiltonians": [check_ground_energy, check_hf_energy],
    "ex04_spsa": [check_spsa_gradient, check_spsa_gains],
    "ex05_environment": [check_action_mask, check_asap_layers],
    "ex06_dqn": [check_n_step_returns, check_ddqn_target],
}
