"""Double DQN with n-step returns and action masks (spec section 7), in Flax Linen.

Loss for a batch of n-step transitions ``(s, a, R, d, s', mask')`` (``d = gamma^k`` or 0):

    ``a* = argmax_{a' legal in s'} Q_online(s', a')``                (the mask applies here too)
    ``y  = R + d * Q_target(s', a*)``,   loss = Huber(Q_online(s, a) - y), averaged.

The target network is a hard copy of the online one every ``target_every`` updates
(``optax.periodic_update``); exploration is epsilon-greedy over the LEGAL actions with
``eps_k = max(eps_min, eps_start * eps_decay^k)`` after ``k`` updates (``optax.exponential_decay``
on the update count, :meth:`Agent.epsilon`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from .._checks import check_int
from .._xla import jit
from .replay import Transition


@dataclasses.dataclass(frozen=True)
class DQNConfig:
    """Agent hyperparameters (defaults: small and fast; the paper's are in
    :func:`crlqas_kit.search_config.preset` ``("paper", ...)``)."""

    hidden: tuple[int, ...] = (256, 256)
    learning_rate: float = 3e-4
    batch_size: int = 64
    buffer_size: int = 5000
    target_every: int = 500
    n_step: int = 5
    gamma: float | None = None  # None: 0.005 ** (1 / L)
    eps_start: float = 1.0
    eps_decay: float = 0.99995
    eps_min: float = 0.05
    huber_delta: float = 1.0

    def __post_init__(self) -> None:
        if not self.hidden or any((not isinstance(h, int)) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive layer widths, got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(self.hidden))
        for name in ("batch_size", "buffer_size", "target_every", "n_step"):
            check_int(getattr(self, name), f"DQN {name}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.gamma is not None and not 0 < self.gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not (0 <= self.eps_min <= self.eps_start <= 1 and 0 < self.eps_decay <= 1):
            raise ValueError("need 0 <= eps_min <= eps_start <= 1 and 0 < eps_decay <= 1")

    def discount(self, max_steps: int) -> float:
        """``gamma = 0.005^(1/L)`` unless set (not rounded, unlike the published code)."""
        return float(0.005 ** (1.0 / max_steps)) if self.gamma is None else float(self.gamma)


class QNetwork(nn.Module):
    """MLP with LeakyReLU(0.01) hidden layers: ``(D,) -> (A,)`` Q-values."""

    hidden: Sequence[int]
    n_actions: int

    @nn.compact
    def __call__(self, x):
        for width in self.hidden:
            x = nn.leaky_relu(nn.Dense(width)(x), negative_slope=0.01)
        return nn.Dense(self.n_actions)(x)


class AgentState(NamedTuple):
    """What changes during training; epsilon and the target copies derive from ``updates``."""

    params: dict
    target_params: dict
    opt_state: optax.OptState
    updates: jnp.ndarray


def masked_argmax(q: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
    """Index of the largest ``q`` among ``mask``-ed entries (0 if none is legal)."""
    return jnp.argmax(jnp.where(mask, q, -jnp.inf), axis=-1)


def ddqn_target(q_next_online, q_next_target, next_mask, reward, discount):
    """Unbatched double-DQN target ``r + d * Q_target(s', argmax_legal Q_online(s', .))``."""
    a_star = masked_argmax(q_next_online, next_mask)
    return reward + discount * q_next_target[a_star]


def select_action(key, q: jnp.ndarray, mask: jnp.ndarray, eps) -> jnp.ndarray:
    """Epsilon-greedy over legal actions: uniform legal with probability ``eps``, else greedy."""
    k_explore, k_action = jax.random.split(key)
    random_action = jax.random.categorical(k_action, jnp.where(mask, 0.0, -jnp.inf))
    return jnp.where(jax.random.uniform(k_explore) < eps, random_action, masked_argmax(q, mask)).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Agent:
    """Pure functions of the agent bound to a network shape and config.

    A frozen dataclass: hashable and equal by value, so it can be a static argument of ``jit``.
    The network, optimiser and schedules are built from the fields.
    """

    config: DQNConfig
    obs_dim: int
    n_actions: int
    max_steps: int

    @property
    def gamma(self) -> float:
        return self.config.discount(self.max_steps)

    @property
    def network(self) -> QNetwork:
        return QNetwork(self.config.hidden, self.n_actions)

    @property
    def optimizer(self) -> optax.GradientTransformation:
        return optax.adam(self.config.learning_rate)

    def epsilon(self, updates) -> jnp.ndarray:
        """Exploration rate after ``updates`` updates: ``max(eps_min, eps_start * eps_decay^updates)``."""
        c = self.config
        # optax reads end_value as a ceiling when decay_rate >= 1: no decay means no floor either
        floor = c.eps_min if c.eps_decay < 1 else None
        schedule = optax.exponential_decay(c.eps_start, 1, c.eps_decay, end_value=floor)
        return jnp.asarray(schedule(updates), jnp.result_type(float))

    def init(self, key) -> AgentState:
        """Fresh network weights (flax's initialisers), their copy as the target, Adam's state."""
        return _init_agent(self, key)  # one compiled call, not dozens of small ones (memory)

    def _init(self, key) -> AgentState:
        params = self.network.init(key, jnp.zeros((1, self.obs_dim), jnp.float32))
        return AgentState(params, params, self.optimizer.init(params), jnp.asarray(0))

    def q_values(self, params, obs) -> jnp.ndarray:
        return self.network.apply(params, obs.astype(jnp.float32))

    def act(self, key, state: AgentState, obs, mask, greedy: bool = False) -> jnp.ndarray:
        q = self.q_values(state.params, obs)
        return select_action(key, q, mask, 0.0 if greedy else self.epsilon(state.updates))

    def loss(self, params, target_params, batch: Transition) -> jnp.ndarray:
        q = self.q_values(params, batch.obs)
        q_sa = jnp.take_along_axis(q, batch.action[:, None], axis=1)[:, 0]
        q_next_online = self.q_values(params, batch.next_obs)
        q_next_target = self.q_values(target_params, batch.next_obs)
        y = jax.vmap(ddqn_target)(q_next_online, q_next_target, batch.next_mask, batch.reward, batch.discount)
        return jnp.mean(optax.huber_loss(q_sa, jax.lax.stop_gradient(y), delta=self.config.huber_delta))

    def update(self, state: AgentState, batch: Transition) -> tuple[AgentState, jnp.ndarray]:
        """One gradient step and (every ``target_every`` updates) the hard target copy."""
        loss, grads = jax.value_and_grad(self.loss)(state.params, state.target_params, batch)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        count = state.updates + 1
        target = optax.periodic_update(params, state.target_params, count, self.config.target_every)
        return AgentState(params, target, opt_state, count), loss


_init_agent = jit(lambda agent, key: agent._init(key), static_argnums=0)
