"""Batches of environments: :func:`step_many` steps several at once, vmapped in lock-step up to
:data:`VMAP_MAX_QUBITS` qubits and one after another in one compiled call above
(:func:`step_batch` is its compiled form); :func:`reset_batch` resets a batch; :func:`for_batch`
gives parameters the branch-free simulator kernel a ``vmap`` over different circuits needs.
The single environment is :mod:`crlqas_kit.rl.env`.
"""

from __future__ import annotations

import dataclasses

import jax

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
    """``reset`` vmapped over ``keys`` ``(B,)``."""
    return jax.vmap(reset, in_axes=(0, None, None))(keys, params, threshold)


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


def step_many(keys: jax.Array, states: EnvState, actions, params: EnvParams, strategy: str = "auto"):
    """``step`` over a batch of environments: keys ``(B,)``, batched states, actions ``(B,)``.

    ``strategy`` (static): ``"vmap"`` runs the environments in lock-step with the branch-free
    gather kernel (:func:`for_batch`); ``"map"`` runs them one after another inside the same
    compiled call (``lax.map``, switch kernel); ``"auto"`` picks ``vmap`` for 2 or more
    environments of up to :data:`VMAP_MAX_QUBITS` qubits and ``map`` otherwise (a single
    environment has nothing to vectorise). All give the same numbers (up to rounding).
    Inside another ``vmap`` (e.g. over seeds) prefer ``"vmap"``: a ``lax.map`` under ``vmap``
    becomes a batched loop whose ``lax.switch`` runs every branch.
    """
    if strategy not in BATCH_STRATEGIES:
        raise ValueError(f"strategy must be one of {BATCH_STRATEGIES}, got {strategy!r}")
    if strategy == "auto":
        strategy = auto_strategy(keys.shape[0], params.n_qubits)
    if strategy == "vmap":
        return jax.vmap(step, in_axes=(0, 0, 0, None))(keys, states, actions, for_batch(params))
    return jax.lax.map(lambda x: step(x[0], x[1], x[2], params), (keys, states, actions))


step_batch = jax.jit(step_many, static_argnames="strategy")
step_batch.__doc__ = """Compiled :func:`step_many`: ``step_batch(keys, states, actions, params, strategy="auto")``."""
