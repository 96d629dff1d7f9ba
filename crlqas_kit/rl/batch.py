"""Batches of environments: :func:`step_many` steps several at once, vmapped in lock-step up to
:data:`VMAP_MAX_QUBITS` qubits and one after another in one compiled call above
(:func:`step_batch` is its compiled form); :func:`reset_batch` resets a batch; :func:`for_batch`
gives parameters the branch-free simulator kernel a ``vmap`` over different circuits needs.
A batch is split over the CPU devices, one part per core (:func:`env_devices`).
The single environment is :mod:`crlqas_kit.rl.env`.
"""

from __future__ import annotations

import dataclasses

import jax

from ..sim.sharding import shard_devices, split_over
from .env import EnvParams, EnvState, reset, step


def for_batch(params: EnvParams) -> EnvParams:
    """The same parameters with the branch-free simulator kernel, for ``vmap`` over environments
    (their circuits differ, so a ``lax.switch`` on the wires would run every branch). The PTM
    gather kernel stops at 8 qubits (index tables of ``4^n``); the state-vector one has no limit."""
    if params.n_qubits > 8 and params.evaluator.engine == "ptm":
        return params
    return dataclasses.replace(params, evaluator=dataclasses.replace(params.evaluator, kernel="gather"))


@jax.jit
def reset_batch(keys: jax.Array, params: EnvParams, threshold=None):
    """``reset`` vmapped over ``keys`` ``(B,)``; split over the devices as :func:`step_many` splits
    the step, so that the states come out placed as the step returns them (one compilation of
    the step, not one for freshly reset states and one for stepped ones)."""

    def resets(keys):
        return jax.vmap(reset, in_axes=(0, None, None))(keys, params, threshold)

    return split_over(resets, env_devices(keys.shape[0], params), keys)


#: Largest qubit count for which :func:`step_many` ``vmap``s the environments by default.
#: Above it one environment's ``4^n`` Pauli vector is already big enough that batching saves
#: nothing, while the branch-free gather kernel that a vmap over different circuits needs costs
#: more than the switch kernel; measured in ``benchmarks/env.py`` (noisy, 8 environments against
#: 8 sequential ``step_jit`` steps: LiH-6q vmap 0.83x, ``lax.map`` 1.09x; H2O-8q vmap 0.30x,
#: ``lax.map`` 0.92x; LiH-4q vmap 1.67x, ``lax.map`` 1.10x).
VMAP_MAX_QUBITS = 4
BATCH_STRATEGIES = ("auto", "vmap", "map")


def auto_strategy(n_envs: int, n_qubits: int) -> str:
    """What ``strategy="auto"`` runs: ``"vmap"`` for 2 or more environments of up to
    :data:`VMAP_MAX_QUBITS` qubits, else ``"map"``."""
    return "vmap" if n_envs > 1 and n_qubits <= VMAP_MAX_QUBITS else "map"


#: Most points an environment step evaluates in one batch (an SPSA iteration's two).
STEP_POINTS = 2


def env_devices(n_envs: int, params: EnvParams) -> list | None:
    """The CPU devices a batch of ``n_envs`` environments is split over, one part per core, or
    None: from 2 environments and 2 devices, unless an environment's inner optimiser splits its
    own :data:`STEP_POINTS` points over the devices (:func:`crlqas_kit.sim.sharding.shard_devices`:
    noisy from 7 qubits), so that the two splits never nest. Measured in ``benchmarks/env.py``
    (8 noisy LiH-4q environments: 1.7x the steps/s of 8 sequential steps in one part, 2.8-2.9x
    split over 2 cores)."""
    devices = jax.devices()
    if len(devices) < 2 or n_envs < 2:
        return None
    if shard_devices(params.n_qubits, params.evaluator.engine, STEP_POINTS) is not None:
        return None
    return devices[: min(len(devices), n_envs)]


def step_many(keys: jax.Array, states: EnvState, actions, params: EnvParams, strategy: str = "auto"):
    """``step`` over a batch of environments: keys ``(B,)``, batched states, actions ``(B,)``.

    ``strategy`` (static): ``"vmap"`` runs the environments in lock-step with the branch-free
    gather kernel (:func:`for_batch`); ``"map"`` runs them one after another inside the same
    compiled call (``lax.map``, switch kernel); ``"auto"`` picks ``vmap`` for 2 or more
    environments of up to :data:`VMAP_MAX_QUBITS` qubits and ``map`` otherwise (a single
    environment has nothing to vectorise). Either way the batch is split over the CPU devices by
    :func:`env_devices` (one part per core). All give the same numbers (up to rounding).
    Inside another ``vmap`` (e.g. over seeds) prefer ``"vmap"``: a ``lax.map`` under ``vmap``
    becomes a batched loop whose ``lax.switch`` runs every branch.
    """
    if strategy not in BATCH_STRATEGIES:
        raise ValueError(f"strategy must be one of {BATCH_STRATEGIES}, got {strategy!r}")
    if strategy == "auto":
        strategy = auto_strategy(keys.shape[0], params.n_qubits)
    if strategy == "vmap":
        batched = for_batch(params)

        def steps(keys, states, actions):
            return jax.vmap(step, in_axes=(0, 0, 0, None))(keys, states, actions, batched)
    else:

        def steps(keys, states, actions):
            return jax.lax.map(lambda x: step(x[0], x[1], x[2], params), (keys, states, actions))

    return split_over(steps, env_devices(keys.shape[0], params), keys, states, actions)


step_batch = jax.jit(step_many, static_argnames="strategy")
step_batch.__doc__ = """Compiled :func:`step_many`: ``step_batch(keys, states, actions, params, strategy="auto")``."""
