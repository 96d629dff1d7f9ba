"""Checkers for the course exercises (``notebooks/exercises/``).

Every ``check_*`` function takes the student's answer -- a function for a coding exercise, a value
for a prediction -- runs it on fixed adversarial inputs first (one for each plausible wrong answer
its docstring lists) and then on a few random ones (``seed=None`` is a fixed default seed; pass
``seed=`` for others), compares with the kit's own implementation and returns a
:class:`~crlqas_kit.exercises._harness.Score`: ``✔``/``✘``, points out of the maximum and hints.
A checker never raises: a missing implementation, an exception inside the student's code, a wrong
shape or type all become a hint and 0 points.

>>> from crlqas_kit.exercises import check_depolarizing_ptm
>>> check_depolarizing_ptm(lambda p: np.diag([1, 1 - p, 1 - p, 1 - p]))   # doctest: +SKIP
✔ check_depolarizing_ptm: 1/1 points
  correct on 6 inputs

:data:`EXERCISES` lists the checkers by notebook; ``python -m crlqas_kit.exercises grade NB...``
runs notebooks and prints a score table (:mod:`crlqas_kit.exercises.grade`). The harness is
:mod:`crlqas_kit.exercises._harness`; the checkers live in one module per notebook (``ptm``,
``noise_channels``, ``hamiltonians``, ``spsa``, ``environment``, ``dqn``, ``curriculum``,
``noise_robustness``).
"""

from __future__ import annotations

from collections.abc import Callable

from ._harness import DEFAULT_SEED, Score
from .curriculum import check_curriculum_update, check_threshold_prediction
from .dqn import check_ddqn_by_hand, check_ddqn_target, check_n_step_returns
from .environment import check_action_mask, check_asap_layers, check_depth_prediction
from .hamiltonians import check_ground_energy, check_hf_energy, check_mixed_state_energy
from .noise_channels import check_amplitude_damping_ptm, check_damping_prediction, check_depolarizing_ptm
from .noise_robustness import check_depolarizing_rule, check_noise_prediction, check_noisy_energy
from .ptm import check_cnot_images, check_pauli_energy, check_pauli_vector, check_ptm
from .spsa import check_spsa_by_hand, check_spsa_gains, check_spsa_gradient

__all__ = [
    "DEFAULT_SEED",
    "EXERCISES",
    "Score",
    "check_action_mask",
    "check_amplitude_damping_ptm",
    "check_asap_layers",
    "check_cnot_images",
    "check_curriculum_update",
    "check_damping_prediction",
    "check_ddqn_by_hand",
    "check_ddqn_target",
    "check_depolarizing_ptm",
    "check_depolarizing_rule",
    "check_depth_prediction",
    "check_ground_energy",
    "check_hf_energy",
    "check_mixed_state_energy",
    "check_n_step_returns",
    "check_noise_prediction",
    "check_noisy_energy",
    "check_pauli_energy",
    "check_pauli_vector",
    "check_ptm",
    "check_spsa_by_hand",
    "check_spsa_gains",
    "check_spsa_gradient",
    "check_threshold_prediction",
]

#: Exercise notebook -> the checkers it uses, in notebook order. Each checker has ``points``,
#: ``kind`` ("code", "predict" or "explain") and ``wrong_answers`` (from its docstring).
EXERCISES: dict[str, list[Callable[..., Score]]] = {
    "ex01_ptm": [check_cnot_images, check_ptm, check_pauli_vector, check_pauli_energy],
    "ex02_noise_channels": [check_depolarizing_ptm, check_damping_prediction, check_amplitude_damping_ptm],
    "ex03_hamiltonians": [check_mixed_state_energy, check_ground_energy, check_hf_energy],
    "ex04_spsa": [check_spsa_by_hand, check_spsa_gradient, check_spsa_gains],
    "ex05_environment": [check_action_mask, check_depth_prediction, check_asap_layers],
    "ex06_dqn": [check_n_step_returns, check_ddqn_by_hand, check_ddqn_target],
    "ex07_curriculum": [check_threshold_prediction, check_curriculum_update],
    "ex08_noise": [check_depolarizing_rule, check_noisy_energy, check_noise_prediction],
}
