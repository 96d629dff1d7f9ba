"""A uniform replay buffer as fixed-size arrays, and n-step return accumulation (jit-friendly).

:class:`Transition` is the item (and, with a leading axis, the batch) type; :class:`Replay` is
the buffer state: a :class:`Transition` of ``(C, ...)`` arrays plus ``size`` and ``pos``.

Transitions are stored already aggregated over ``n`` steps::

    (obs_t, a_t, R_t = sum_{i<k} gamma^i r_{t+i}, discount = gamma^k * (1 - terminal), obs_{t+k}, mask_{t+k})

with ``k = n``, or fewer when the episode ended first. A terminal end gives ``discount = 0``; a
truncated end (non-terminal halting) bootstraps with ``gamma^k`` from the last observation.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Transition(NamedTuple):
    """One n-step transition, or a batch of them (every field with a leading batch axis)."""

    obs: jnp.ndarray  # (D,) float32
    action: jnp.ndarray  # () int32
    reward: jnp.ndarray  # () float32, the n-step return
    discount: jnp.ndarray  # () float32, gamma^k * (1 - terminal)
    next_obs: jnp.ndarray  # (D,) float32
    next_mask: jnp.ndarray  # (A,) bool, legal actions at next_obs


class Replay(NamedTuple):
    """Ring buffer of capacity ``C``: ``storage`` holds ``C`` transitions (every field ``(C, ...)``),
    ``size`` of them valid; the next write goes to ``pos``."""

    storage: Transition
    size: jnp.ndarray
    pos: jnp.ndarray


def init(capacity: int, obs_dim: int, n_actions: int) -> Replay:
    if capacity < 1:
        raise ValueError(f"replay capacity must be >= 1, got {capacity}")
    f32 = jnp.float32
    storage = Transition(
        obs=jnp.zeros((capacity, obs_dim), f32),
        action=jnp.zeros(capacity, jnp.int32),
        reward=jnp.zeros(capacity, f32),
        discount=jnp.zeros(capacity, f32),
        next_obs=jnp.zeros((capacity, obs_dim), f32),
        next_mask=jnp.zeros((capacity, n_actions), bool),
    )
    return Replay(storage, size=jnp.asarray(0, jnp.int32), pos=jnp.asarray(0, jnp.int32))


def add(buffer: Replay, items: Transition, valid: jnp.ndarray) -> Replay:
    """Write the ``valid`` rows of ``items`` (a batch of transitions, ``(M, ...)``) in order at
    ``pos``, overwriting the oldest entries when full."""
    capacity = buffer.storage.action.shape[0]
    offset = jnp.cumsum(valid) - 1
    # Invalid rows, and valid rows that a later row of this same call would overwrite (more than
    # ``capacity`` valid rows), go out of range and are dropped: scatter indices stay unique.
    keep = valid & (offset >= jnp.sum(valid) - capacity)
    idx = jnp.where(keep, (buffer.pos + offset) % capacity, capacity)

    def put(dst, src):
        return dst.at[idx].set(src.astype(dst.dtype), mode="drop")

    storage = jax.tree.map(put, buffer.storage, items)
    count = jnp.sum(valid, dtype=jnp.int32)
    return Replay(storage, size=jnp.minimum(buffer.size + count, capacity), pos=(buffer.pos + count) % capacity)


def sample(buffer: Replay, key: jax.Array, batch_size: int) -> Transition:
    """``batch_size`` transitions drawn uniformly with replacement from the ``size`` valid ones."""
    idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(buffer.size, 1))
    return jax.tree.map(lambda x: x[idx], buffer.storage)


class NStepQueue(NamedTuple):
    """The last ``< n`` steps of one environment whose n-step returns are not complete yet."""

    obs: jnp.ndarray  # (n, D)
    action: jnp.ndarray  # (n,)
    reward: jnp.ndarray  # (n,)
    count: jnp.ndarray  # entries in use


def nstep_init(n: int, obs_dim: int) -> NStepQueue:
    return NStepQueue(jnp.zeros((n, obs_dim), jnp.float32), jnp.zeros(n, jnp.int32), jnp.zeros(n), jnp.asarray(0))


def nstep_push(queue: NStepQueue, obs, action, reward, next_obs, next_mask, terminal, truncated, gamma: float):
    """Add one step; return the new queue and ``n`` candidate :class:`Transition` rows with a validity mask.

    While the episode runs, the oldest entry is emitted once ``n`` steps are queued (discount
    ``gamma^n``). When it ends (terminal or truncated) every queued entry is emitted with the
    return up to the end and ``discount = gamma^k`` (0 if terminal), and the queue is cleared.
    """
    n = queue.action.shape[0]
    c = queue.count
    q_obs = queue.obs.at[c].set(obs.astype(queue.obs.dtype))
    q_act = queue.action.at[c].set(action)
    q_rew = queue.reward.at[c].set(reward)
    count = c + 1
    j = jnp.arange(n)
    i = jnp.arange(n)
    # R_j = sum_{i=j}^{count-1} gamma^(i-j) r_i
    weights = jnp.where((i[None, :] >= j[:, None]) & (i[None, :] < count), gamma ** (i[None, :] - j[:, None]), 0.0)
    returns = weights @ q_rew
    steps = (count - j).astype(q_rew.dtype)
    end = terminal | truncated
    discount = jnp.where(terminal, 0.0, gamma**steps)
    valid = jnp.where(end, j < count, (j == 0) & (count == n))
    items = Transition(
        obs=q_obs,
        action=q_act,
        reward=returns,
        discount=discount,
        next_obs=jnp.broadcast_to(next_obs, q_obs.shape),
        next_mask=jnp.broadcast_to(next_mask, (n, *next_mask.shape)),
    )
    full = (count == n) & ~end
    shifted = NStepQueue(jnp.roll(q_obs, -1, 0), jnp.roll(q_act, -1), jnp.roll(q_rew, -1), count - 1)
    kept = NStepQueue(q_obs, q_act, q_rew, count)
    cleared = NStepQueue(q_obs, q_act, q_rew, jnp.asarray(0))
    new = jax.tree.map(lambda a, b, c_: jnp.where(end, c_, jnp.where(full, a, b)), shifted, kept, cleared)
    return new, items, valid
