"""Tabular Q-learning on the toy MDPs of :mod:`crlqas_kit.rl.tabular_mdp`: the RL primer (notebook 04b).

:func:`q_learning` learns :math:`Q` from episodes (an explicit PRNG key; pure and compiled once
per configuration, ``runs=`` repeats it with independent keys under ``vmap``) and has DQN's
ingredients as options: a replay buffer, a target table copied every ``target_every`` updates,
and double Q-learning (two tables: one picks the next action, the other evaluates it).
:func:`rollout` plays a policy. Everything runs in float32 (JAX's default). The MDPs and their
exact solution are re-exported here, so ``from crlqas_kit.rl import tabular`` gives the primer all
it uses.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int, check_number, check_probability
from .tabular_mdp import (  # the MDPs are re-exported: the primer imports everything from here
    STABILIZER_STATES,
    TabularMDP,
    _finite,
    discounted_return,
    gate_choice_mdp,
    greedy_policy,
    max_estimates,
    one_more_gate_mdp,
    q_error,
    value_iteration,
)


def epsilon_greedy(key: jax.Array, q_row: jax.Array, legal: jax.Array, epsilon) -> jax.Array:
    """A legal action: uniformly random with probability ``epsilon``, else greedy (ties broken at random)."""
    k_explore, k_pick = jax.random.split(key)
    q_row = jnp.where(legal, q_row, -jnp.inf)
    best = legal & (q_row == jnp.max(q_row))
    pool = jnp.where(jax.random.uniform(k_explore) < epsilon, legal, best)
    return jax.random.categorical(k_pick, jnp.where(pool, 0.0, -jnp.inf)).astype(jnp.int32)


def epsilon_greedy_probabilities(q_row, legal, epsilon: float) -> np.ndarray:
    """The probability of each action under :func:`epsilon_greedy` (exact, numpy)."""
    q_row, legal = np.asarray(q_row, float), np.asarray(legal, bool)
    check_probability(epsilon, "epsilon")
    best = legal & (np.where(legal, q_row, -np.inf) == np.max(np.where(legal, q_row, -np.inf)))
    return epsilon * legal / legal.sum() + (1 - epsilon) * best / best.sum()


@dataclasses.dataclass(frozen=True)
class QLearningConfig:
    """How :func:`q_learning` learns (hashable: one compilation per configuration).

    ``episodes`` episodes of at most ``max_steps`` actions (then truncated: the last transition is
    not terminal, so its target still bootstraps). Step size ``alpha``, exploration ``epsilon``,
    initial table entries ``q0``. ``replay``: capacity of a uniform replay buffer (0: learn from the
    latest transition only); ``updates``: updates per environment step (each on a transition drawn
    from the buffer; needs ``replay > 0`` when above 1). ``target_every``: the bootstrap uses a copy
    of the table refreshed every this many updates (1: the table itself). ``double``: double
    Q-learning with two tables (``target_every`` must then be 1). ``history``: also return the
    table after every episode.
    """

    episodes: int = 300
    max_steps: int = 10
    alpha: float = 0.1
    epsilon: float = 0.1
    q0: float = 0.0
    replay: int = 0
    updates: int = 1
    target_every: int = 1
    double: bool = False
    history: bool = False

    def __post_init__(self) -> None:
        for name in ("episodes", "max_steps", "updates", "target_every"):
            check_int(getattr(self, name), f"Q-learning {name}")
        check_int(self.replay, "Q-learning replay capacity", minimum=0)
        check_probability(self.epsilon, "Q-learning epsilon")
        check_number(self.alpha, "Q-learning step size alpha")
        if not self.alpha <= 1:
            raise ValueError(f"Q-learning step size alpha must be in (0, 1], got {self.alpha}")
        _finite(self.q0, "Q-learning q0")
        if self.updates > 1 and self.replay == 0:
            raise ValueError("updates > 1 needs a replay buffer (replay > 0) to draw the transitions from")
        if self.double and self.target_every != 1:
            raise ValueError("double Q-learning evaluates with its second table: use target_every=1")


class QLearningResult(NamedTuple):
    """What :func:`q_learning` returns (with ``runs=``, every field has a leading axis of runs)."""

    q: jax.Array  #: (S, A) the final table (double: the mean of the two tables)
    returns: jax.Array  #: (E,) discounted return of each episode, sum_k gamma^k r_k
    lengths: jax.Array  #: (E,) actions taken in each episode
    first_action: jax.Array  #: (E,) the action taken in the start state
    start_value: jax.Array  #: (E,) max over legal a of Q(start, a) after the episode
    q_history: jax.Array  #: (E, S, A) the table after each episode (``history=True``), else (0, S, A)


def _max_legal(q_row: jax.Array, legal_row: jax.Array) -> jax.Array:
    return jnp.max(jnp.where(legal_row, q_row, -jnp.inf))


def _argmax_legal(q_row: jax.Array, legal_row: jax.Array) -> jax.Array:
    return jnp.argmax(jnp.where(legal_row, q_row, -jnp.inf))


class _Hyper(NamedTuple):
    """The numbers of a :class:`QLearningConfig` that are traced: changing them does not recompile."""

    alpha: jax.Array
    epsilon: jax.Array
    q0: jax.Array
    target_every: jax.Array
    double: jax.Array

    @classmethod
    def of(cls, cfg: QLearningConfig) -> _Hyper:
        f32 = jnp.float32
        return cls(f32(cfg.alpha), f32(cfg.epsilon), f32(cfg.q0), jnp.int32(cfg.target_every), jnp.bool_(cfg.double))


def _td_update(h: _Hyper, mdp: TabularMDP, key, tables, transition):
    """One Q-learning (or double Q-learning) update of ``tables = (qa, qb, qt)`` on ``(s, a, r, s2, term)``."""
    s, a, r, s2, term = transition
    qa, qb, qt = tables
    legal2 = mdp.legal[s2]

    def towards(q, value):  # q(s, a) a step alpha towards y = r + gamma * value (y = r if s2 is terminal)
        y = r + mdp.gamma * jnp.where(term, 0.0, value)
        return q.at[s, a].add(h.alpha * (y - q[s, a]))

    # Q-learning: the max over the table itself, or over its target copy
    single = towards(qa, _max_legal(jnp.where(h.target_every > 1, qt, qa)[s2], legal2))
    # double Q-learning: one table picks the next action, the other says what it is worth
    first = jax.random.bernoulli(key)
    double_a = jnp.where(first, towards(qa, qb[s2, _argmax_legal(qa[s2], legal2)]), qa)
    double_b = jnp.where(first, qb, towards(qb, qa[s2, _argmax_legal(qb[s2], legal2)]))
    return jnp.where(h.double, double_a, single), jnp.where(h.double, double_b, qb), qt


def _episode(h: _Hyper, mdp: TabularMDP, max_steps: int, replay: int, updates: int, history: bool, carry, key):
    """One episode of at most ``max_steps`` actions (steps after its end change nothing)."""
    C = max(replay, 1)

    def step(state, k):
        tables, buffer, n_updates, s, alive, t, ret, first = state
        k_act, k_rew, k_upd = jax.random.split(k, 3)
        qa, qb, _ = tables
        a = epsilon_greedy(k_act, jnp.where(h.double, qa + qb, qa)[s], mdp.legal[s], h.epsilon)
        s2 = mdp.next_state[s, a]
        r = mdp.reward[s, a] + mdp.reward_std[s, a] * jax.random.normal(k_rew, dtype=qa.dtype)
        term = mdp.terminal[s2]
        first = jnp.where(t == 0, a, first)
        ret = ret + jnp.where(alive, mdp.gamma**t * r, 0.0)
        if replay:  # store the transition (only while the episode runs)
            (bs, ba, br, bs2, bterm), size, pos = buffer
            bs, ba, br = bs.at[pos].set(s), ba.at[pos].set(a), br.at[pos].set(r)
            bs2, bterm = bs2.at[pos].set(s2), bterm.at[pos].set(term)
            new_buffer = ((bs, ba, br, bs2, bterm), jnp.minimum(size + 1, C), (pos + 1) % C)
            buffer = jax.tree.map(lambda new, old: jnp.where(alive, new, old), new_buffer, buffer)

        def learn(u, carry):  # one update, on a stored transition or on the latest one
            new_tables, new_updates = carry
            k_pick, k_td = jax.random.split(jax.random.fold_in(k_upd, u))
            if replay:
                (bs, ba, br, bs2, bterm), size, _ = buffer
                i = jax.random.randint(k_pick, (), 0, jnp.maximum(size, 1))
                transition = (bs[i], ba[i], br[i], bs2[i], bterm[i])
            else:
                transition = (s, a, r, s2, term)
            qa_, qb_, qt_ = _td_update(h, mdp, k_td, new_tables, transition)
            # the target copy follows the table every target_every updates
            qt_ = jnp.where((h.target_every > 1) & ((new_updates + 1) % h.target_every == 0), qa_, qt_)
            return (qa_, qb_, qt_), new_updates + 1

        if updates == 1:
            new_tables, new_updates = learn(0, (tables, n_updates))
        else:
            new_tables, new_updates = jax.lax.fori_loop(0, updates, learn, (tables, n_updates))
        tables = jax.tree.map(lambda new, old: jnp.where(alive, new, old), new_tables, tables)
        n_updates = jnp.where(alive, new_updates, n_updates)
        done = term | (t + 1 >= max_steps)
        s = jnp.where(alive, s2, s)
        return (tables, buffer, n_updates, s, alive & ~done, t + alive.astype(t.dtype), ret, first), None

    tables, buffer, n_updates = carry
    zero = jnp.zeros((), tables[0].dtype)
    init = (tables, buffer, n_updates, jnp.asarray(mdp.start), jnp.asarray(True), jnp.asarray(0), zero, jnp.asarray(0))
    (tables, buffer, n_updates, _, _, length, ret, first), _ = jax.lax.scan(
        step, init, jax.random.split(key, max_steps)
    )
    q = jnp.where(h.double, (tables[0] + tables[1]) / 2, tables[0])
    out = (ret, length, first, _max_legal(q[mdp.start], mdp.legal[mdp.start]), q if history else jnp.zeros((0,)))
    return (tables, buffer, n_updates), out


def _learn(
    key: jax.Array, mdp: TabularMDP, h: _Hyper, episodes: int, max_steps: int, replay: int, updates: int, history: bool
):
    S, A = mdp.next_state.shape
    C = max(replay, 1)
    q = jnp.full((S, A), h.q0, jnp.float32)
    tables = (q, q, q)  # table A, table B (double Q-learning only), the target copy (target_every > 1 only)
    ints, floats = jnp.zeros(C, jnp.int32), jnp.zeros(C, jnp.float32)
    buffer = ((ints, ints, floats, ints, jnp.zeros(C, bool)), jnp.asarray(0), jnp.asarray(0))
    body = partial(_episode, h, mdp, max_steps, replay, updates, history)
    (tables, _, _), (ret, length, first, value, hist) = jax.lax.scan(
        body, (tables, buffer, jnp.asarray(0)), jax.random.split(key, episodes)
    )
    q = jnp.where(h.double, (tables[0] + tables[1]) / 2, tables[0])
    return QLearningResult(q, ret, length, first, value, hist if history else jnp.zeros((0, S, A), q.dtype))


@partial(jax.jit, static_argnums=(3, 4))
def _run(keys: jax.Array, mdp: TabularMDP, h: _Hyper, static: tuple[int, int, int, int, bool], batched: bool):
    """Compiled once per (episodes, max_steps, replay capacity, history) and batching; the rest is traced."""
    episodes, max_steps, replay, updates, history = static
    learn = partial(
        _learn, mdp=mdp, h=h, episodes=episodes, max_steps=max_steps, replay=replay, updates=updates, history=history
    )
    return jax.vmap(learn)(keys) if batched else learn(keys)


def q_learning(
    key: jax.Array | int, mdp: TabularMDP, config: QLearningConfig | None = None, runs: int | None = None, **options
) -> QLearningResult:
    """Learn Q on ``mdp`` with epsilon-greedy episodes (``config`` or its fields as ``options``).

    The update after a transition :math:`(s, a, r, s')` is
    :math:`Q(s,a) \\leftarrow Q(s,a) + \\alpha\\,[y - Q(s,a)]` with the target
    :math:`y = r + \\gamma \\max_{a'} \\bar Q(s', a')` (:math:`\\bar Q`: the table itself, or the
    target copy) and :math:`y = r` when :math:`s'` is terminal; double Q-learning uses
    :math:`y = r + \\gamma\\, Q_B(s', \\arg\\max_{a'} Q_A(s', a'))` for table A (and the mirror image
    for B, one of the two at random per update). ``key``: a PRNG key or an integer seed; the same
    key gives the same result. ``runs``: that many independent runs (keys split from ``key``), the
    result's fields stacked along a leading axis. ``episodes``, ``max_steps``, ``replay``, ``updates``
    and ``history`` shape the compiled function; changing ``alpha``, ``epsilon``, ``q0``,
    ``target_every`` or ``double`` reuses it.
    """
    config = dataclasses.replace(config or QLearningConfig(), **options)
    key = jax.random.key(key) if isinstance(key, int) else key
    static = (config.episodes, config.max_steps, config.replay, config.updates, config.history)
    if runs is None:
        return _run(key, mdp, _Hyper.of(config), static, False)
    check_int(runs, "runs")
    return _run(jax.random.split(key, runs), mdp, _Hyper.of(config), static, True)


@jax.jit
def _act(key: jax.Array, mdp: TabularMDP, q_row: jax.Array, s, epsilon):
    """One epsilon-greedy action in ``s`` and its (noisy) reward."""
    k_act, k_rew = jax.random.split(key)
    a = epsilon_greedy(k_act, q_row, mdp.legal[s], epsilon)
    return a, mdp.reward[s, a] + mdp.reward_std[s, a] * jax.random.normal(k_rew)


def rollout(
    key: jax.Array | int, mdp: TabularMDP, q=None, epsilon: float = 1.0, max_steps: int = 10
) -> list[dict[str, Any]]:
    """One episode as a list of steps ``{"state", "action", "reward", "next", "terminated", "truncated"}``
    (names, not indices): epsilon-greedy on ``q`` (default: all zeros, so ``epsilon=1`` is the
    random policy and ``epsilon=0`` with a learned ``q`` the greedy one)."""
    check_int(max_steps, "max_steps")
    check_probability(epsilon, "epsilon")
    key = jax.random.key(key) if isinstance(key, int) else key
    q = np.zeros(mdp.next_state.shape, np.float32) if q is None else np.asarray(q, np.float32)
    q = np.where(np.isnan(q), 0.0, q)
    s, steps = mdp.start, []
    for t, k in enumerate(jax.random.split(key, max_steps)):
        a, r = (x.item() for x in _act(k, mdp, q[s], s, np.float32(epsilon)))
        s2 = int(mdp.next_state[s, a])
        terminated = bool(mdp.terminal[s2])
        steps.append(
            {
                "state": mdp.states[s],
                "action": mdp.actions[a],
                "reward": r,
                "next": mdp.states[s2],
                "terminated": terminated,
                "truncated": not terminated and t + 1 == max_steps,
            }
        )
        if terminated:
            break
        s = s2
    return steps


__all__ = [
    "QLearningConfig",
    "QLearningResult",
    "STABILIZER_STATES",
    "TabularMDP",
    "discounted_return",
    "epsilon_greedy",
    "epsilon_greedy_probabilities",
    "gate_choice_mdp",
    "greedy_policy",
    "max_estimates",
    "one_more_gate_mdp",
    "q_error",
    "q_learning",
    "rollout",
    "value_iteration",
]
