"""The feedback-driven "moving threshold" curriculum (spec section 6) as a pure ``(init, update)`` pair.

State: threshold ``xi``, lowest energy seen ``E_best``, successes since the last shrink, shrinks
since the last greedy reset, episodes. At each training episode's end:

* on success: ``successes += 1``; when ``successes >= N_s`` and ``shrinks < K``:
  ``xi -= delta / K``, ``successes = 0``, ``shrinks += 1``;
* every ``T`` episodes (the "greedy" reset): ``xi = |E_min - E_best| + delta``, counters reset.

``xi`` never falls below the floor ``max(delta / K, min_threshold)`` (:attr:`CurriculumConfig.floor`):
a shrink stops there and a greedy reset starts there at the lowest. Without it the curriculum
collapses when ``E_min`` is the exact E0: a greedy reset at ``E_best ~ E0`` gives
``xi = |E_min - E_best| + delta ~ delta``, and ``K`` shrinks of ``delta/K`` then leave
``xi ~ 1e-11``, so no episode can succeed until the next reset. ``xi0 > delta`` is required.
Evaluation episodes must not update the curriculum: :func:`update` with
``evaluation=True`` returns the state unchanged. :func:`trace` runs the rule over a finished
run's episodes to show what it did (notebook 07).

``xi0``: the published values are distances from a "fake" minimum; with the exact ``E0`` as
``E_min`` the kit derives ``xi0`` from the problem -- by default the Hartree-Fock error
``|E_HF - E0|``, so the first stage asks the agent to beat Hartree-Fock and the greedy resets
then tighten the threshold towards the best energy found (see :func:`crlqas_kit.rl.env.make_params`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int, check_number
from .._x64 import enable_x64

#: The published initial thresholds xi0 (spec section 6), measured from the "fake" minimum
#: ``constant - sum |w_i|``: used when ``e_min="pauli-bound"``.
PUBLISHED_THRESHOLD0 = {"H2-2q": 0.97, "H2-3q": 1.63, "H2-4q": 1.016, "LiH-4q": 2.45, "LiH-6q": 2.90, "H2O-8q": 5.0}


@dataclasses.dataclass(frozen=True)
class CurriculumConfig:
    """``delta`` shift, ``greedy_period`` T (episodes), ``n_successes`` N_s, ``n_shrinks`` K.

    ``min_threshold`` (Ha, default 0: the floor is ``delta / K``) stops the curriculum from asking
    for more than a target accuracy. With ``min_threshold = 1.6e-3`` (chemical accuracy) and the
    exact ``E0`` as ``E_min``, once the agent is chemically accurate a success *is* chemical
    accuracy, successes stay frequent instead of being made rare by a threshold tightened
    below the target, and the discount (a +5 reached in fewer steps is worth more) and the
    halting push towards shorter accurate circuits. Not a published parameter (the published
    curriculum has only the ``delta / K`` behaviour); the ``fast`` preset of 2-4 qubits uses it.
    """

    delta: float = 5e-4
    greedy_period: int = 500
    n_successes: int = 25
    n_shrinks: int = 10
    min_threshold: float = 0.0

    def __post_init__(self) -> None:
        if not self.delta > 0:
            raise ValueError(f"curriculum delta must be > 0, got {self.delta}")
        for name in ("greedy_period", "n_successes", "n_shrinks"):
            check_int(getattr(self, name), f"curriculum {name}")
        check_number(self.min_threshold, "curriculum min_threshold", strict=False, unit="Ha")

    @property
    def floor(self) -> float:
        """The lowest threshold the curriculum allows: ``max(delta / K, min_threshold)``."""
        return max(self.delta / self.n_shrinks, float(self.min_threshold))

    @classmethod
    def published(cls, n_qubits: int) -> CurriculumConfig:
        """delta=5e-4, T=500, N_s=25 for 2-4 qubits; delta=1e-3, T=2000, N_s=50 for 6-8 qubits."""
        if n_qubits <= 4:
            return cls(5e-4, 500, 25, 10)
        return cls(1e-3, 2000, 50, 10)


class CurriculumState(NamedTuple):
    threshold: jnp.ndarray
    best_energy: jnp.ndarray
    successes: jnp.ndarray
    shrinks: jnp.ndarray
    episodes: jnp.ndarray


def init(config: CurriculumConfig, threshold0: float, e_min: float) -> CurriculumState:
    """Start with ``xi = max(threshold0, floor)`` (``threshold0`` must exceed ``delta``)."""
    if not float(threshold0) > config.delta:
        raise ValueError(
            f"initial curriculum threshold {threshold0} must exceed delta={config.delta} so that it stays positive"
        )
    return CurriculumState(
        threshold=jnp.asarray(max(float(threshold0), config.floor)),
        best_energy=jnp.asarray(jnp.inf),
        successes=jnp.asarray(0),
        shrinks=jnp.asarray(0),
        episodes=jnp.asarray(0),
    )


def update(
    config: CurriculumConfig, state: CurriculumState, success, episode_best_energy, e_min, evaluation: bool = False
) -> CurriculumState:
    """The state after one finished episode (pure, jittable; ``evaluation`` is static)."""
    if evaluation:
        return state
    episodes = state.episodes + 1
    best = jnp.minimum(state.best_energy, episode_best_energy)
    successes = state.successes + jnp.asarray(success, jnp.int32)
    shrink = (successes >= config.n_successes) & (state.shrinks < config.n_shrinks)
    shrunk = jnp.maximum(state.threshold - config.delta / config.n_shrinks, config.floor)
    threshold = jnp.where(shrink, shrunk, state.threshold)
    successes = jnp.where(shrink, 0, successes)
    shrinks = jnp.where(shrink, state.shrinks + 1, state.shrinks)
    greedy = episodes % config.greedy_period == 0
    reset = jnp.maximum(jnp.abs(e_min - best) + config.delta, config.floor)
    threshold = jnp.where(greedy & jnp.isfinite(best), reset, threshold)
    successes = jnp.where(greedy, 0, successes)
    shrinks = jnp.where(greedy, 0, shrinks)
    return CurriculumState(threshold, best, successes, shrinks, episodes)


def trace(
    config: CurriculumConfig, success: Sequence[bool], episode_best_energy: Sequence[float], threshold0: float, e_min
) -> dict[str, np.ndarray]:
    """Run the curriculum over a sequence of finished episodes (in float64) and return what it did.

    ``success[i]`` and ``episode_best_energy[i]`` describe training episode ``i + 1``. Returns
    per-episode arrays: ``threshold`` (the xi the episode ran under), ``next_threshold`` (xi after its
    update), ``count`` (successes since the last shrink or reset, this episode included: a shrink
    when it reaches ``N_s``), ``successes`` and ``shrinks`` (the counters after the update), ``best_energy`` (``E_best``
    after it), and the booleans ``shrink`` (xi shrank by ``delta / K``; a greedy reset after the
    same episode overrides it) and ``greedy`` (a greedy reset followed the episode).
    :func:`crlqas_kit.results.curriculum_trace` applies it to a run directory.
    """
    success = np.asarray(success, bool)
    energies = np.asarray(episode_best_energy, float)
    if success.shape != energies.shape or success.ndim != 1:
        raise ValueError(f"success and energies must be 1-D of one length, got {success.shape} and {energies.shape}")
    with enable_x64():
        state0 = init(config, threshold0, e_min)

        def body(state, xs):
            new = update(config, state, xs[0], xs[1], e_min)
            shrink = (state.successes + xs[0] >= config.n_successes) & (state.shrinks < config.n_shrinks)
            greedy = new.episodes % config.greedy_period == 0
            count = state.successes + xs[0]
            return new, (
                state.threshold,
                new.threshold,
                count,
                new.successes,
                new.shrinks,
                new.best_energy,
                shrink,
                greedy,
            )

        _, out = jax.lax.scan(body, state0, (jnp.asarray(success), jnp.asarray(energies)))
    names = ("threshold", "next_threshold", "count", "successes", "shrinks", "best_energy", "shrink", "greedy")
    return {name: np.asarray(value) for name, value in zip(names, out, strict=True)}
