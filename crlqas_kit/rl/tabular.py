"""Tabular Q-learning on toy problems small enough to print: the RL primer (notebook 04b).

A :class:`TabularMDP` holds a finite, deterministic MDP as arrays: next state, mean reward, reward
noise, legal actions and terminal states. Two are built in:

* :func:`gate_choice_mdp`: quantum architecture search in miniature. One qubit starts in
  :math:`|0\\rangle`; the actions are the gates H, S and X; the states are the six states these
  gates reach (the stabilizer states, the corners of the Bloch octahedron). An episode places
  gates until the circuit prepares the target state (reward +1, *terminated*) or has placed
  ``max_steps`` gates (*truncated*); every other gate costs ``gate_cost``.
* :func:`one_more_gate_mdp`: the maximization-bias example (van Hasselt 2010; Sutton & Barto's
  textbook) told as a QAS decision. Stop now (reward 0) or add one more gate, choosing among ``k``
  candidates whose measured energy change is noisy: reward :math:`\\mathcal N(-0.1, 1)`, so on
  average every candidate makes the circuit worse, but a noisy estimate often says otherwise.

:func:`value_iteration` computes :math:`Q^*` exactly. :func:`q_learning` learns :math:`Q` from
episodes (an explicit PRNG key; pure and compiled once per configuration, ``runs=`` repeats it
with independent keys under ``vmap``) and has DQN's ingredients as options: a replay buffer, a
target table copied every ``target_every`` updates, and double Q-learning (two tables: one picks
the next action, the other evaluates it). :func:`max_estimates` shows the bias of the maximum of
noisy estimates without any MDP. Everything runs in float32 (JAX's default).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int, check_number, check_probability
from ..sim.ptm import UNITARIES, ptm_from_unitary

#: The six one-qubit stabilizer states and their Bloch vectors (x, y, z), in state-index order.
STABILIZER_STATES: dict[str, tuple[int, int, int]] = {
    "|0⟩": (0, 0, 1),
    "|1⟩": (0, 0, -1),
    "|+⟩": (1, 0, 0),
    "|−⟩": (-1, 0, 0),
    "|+i⟩": (0, 1, 0),
    "|−i⟩": (0, -1, 0),
}


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _static(default: Any = dataclasses.MISSING) -> Any:
    return dataclasses.field(default=default, metadata=dict(static=True))


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TabularMDP:
    """A finite MDP with deterministic transitions and Gaussian reward noise.

    Taking action ``a`` in state ``s`` leads to ``next_state[s, a]`` with reward
    ``reward[s, a] + reward_std[s, a] * N(0, 1)``. ``legal[s, a]`` says which actions a state
    offers (the mask of the QAS environment, in miniature); episodes start in ``start`` and end in
    a ``terminal`` state. The arrays are pytree leaves; the rest is static.
    """

    next_state: np.ndarray  # (S, A) int
    reward: np.ndarray  # (S, A) mean reward
    reward_std: np.ndarray  # (S, A) standard deviation of the reward noise
    legal: np.ndarray  # (S, A) bool
    terminal: np.ndarray  # (S,) bool
    start: int = _static()
    gamma: float = _static()
    states: tuple[str, ...] = _static()
    actions: tuple[str, ...] = _static()

    def __post_init__(self) -> None:
        if isinstance(self.next_state, jax.Array) or self.next_state is None:
            return  # rebuilt from its leaves by JAX (tracers inside jit, None in tree utilities)
        S, A = len(self.states), len(self.actions)
        for name, dtype in (("next_state", int), ("reward", float), ("reward_std", float), ("legal", bool)):
            value = np.asarray(getattr(self, name), dtype=dtype)
            if value.shape != (S, A):
                raise ValueError(f"{name} must have shape (states, actions) = {(S, A)}, got {value.shape}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "terminal", np.asarray(self.terminal, dtype=bool))
        if self.terminal.shape != (S,):
            raise ValueError(f"terminal must have shape ({S},), got {self.terminal.shape}")
        if np.any((self.next_state < 0) | (self.next_state >= S)):
            raise ValueError(f"next_state must hold state indices 0..{S - 1}")
        if np.any(self.reward_std < 0) or not np.all(np.isfinite(self.reward)):
            raise ValueError("rewards must be finite and reward_std >= 0")
        if np.any(~self.terminal & ~self.legal.any(1)):
            raise ValueError("every non-terminal state needs at least one legal action")
        check_int(self.start, "start state", minimum=0)
        if self.start >= S or self.terminal[self.start]:
            raise ValueError(f"the start state must be a non-terminal state index < {S}, got {self.start}")
        check_number(self.gamma, "discount gamma")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"the discount gamma must be in (0, 1], got {self.gamma}")

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    @property
    def decisions(self) -> np.ndarray:
        """``(S, A)`` bool: the entries of a Q-table that mean something (legal, non-terminal)."""
        return np.asarray(self.legal) & ~np.asarray(self.terminal)[:, None]


def gate_choice_mdp(
    target: str = "|−i⟩",
    gate_cost: float = 0.1,
    success_reward: float = 1.0,
    gamma: float = 0.9,
    reward_std: float = 0.0,
) -> TabularMDP:
    """One qubit from :math:`|0\\rangle`, gates H, S, X: place gates until the state is ``target``.

    The transitions come from the gates' Pauli transfer matrices (notebook 01) acting on the Bloch
    vector. Reaching ``target`` earns ``success_reward`` and ends the episode; every other gate
    earns ``-gate_cost``; ``reward_std`` adds Gaussian noise to every reward (shot noise).
    """
    names = list(STABILIZER_STATES)
    if target not in STABILIZER_STATES or target == "|0⟩":
        raise ValueError(f"target must be one of {names[1:]}, got {target!r}")
    check_number(gate_cost, "gate_cost", strict=False)
    _finite(success_reward, "success_reward")
    check_number(reward_std, "reward_std", strict=False)
    vectors = {v: i for i, v in enumerate(STABILIZER_STATES.values())}
    gates = ("h", "s", "x")
    nxt = np.zeros((len(names), len(gates)), int)
    for s, bloch in enumerate(STABILIZER_STATES.values()):
        for a, gate in enumerate(gates):
            image = ptm_from_unitary(UNITARIES[gate]) @ np.array([1.0, *bloch])
            nxt[s, a] = vectors[tuple(int(round(c)) for c in image[1:])]
    goal = names.index(target)
    reward = np.where(nxt == goal, success_reward, -gate_cost)
    return TabularMDP(
        next_state=nxt,
        reward=reward,
        reward_std=np.full(nxt.shape, reward_std),
        legal=np.ones(nxt.shape, bool),
        terminal=np.arange(len(names)) == goal,
        start=0,
        gamma=gamma,
        states=tuple(names),
        actions=tuple(g.upper() for g in gates),
    )


def one_more_gate_mdp(k: int = 10, mean: float = -0.1, std: float = 1.0, gamma: float = 1.0) -> TabularMDP:
    """The maximization-bias MDP as a QAS decision: stop, or add one of ``k`` noisy candidate gates.

    States: ``"A"`` (the circuit so far; actions ``stop`` and ``add a gate``), ``"B"`` (one gate
    more; actions ``candidate 1..k``) and ``"end"``. ``stop`` ends the episode with reward 0;
    ``add a gate`` leads to B with reward 0; each candidate ends it with reward
    ``mean + std * N(0, 1)``. With ``mean < 0`` stopping is optimal: :math:`Q^*(A, \\text{add}) = \\gamma\\,`mean.
    """
    check_int(k, "number of candidate gates k")
    _finite(mean, "mean reward of a candidate")
    check_number(std, "reward noise std", strict=False)
    n_actions = 2 + k
    nxt = np.full((3, n_actions), 2)
    nxt[0, 1] = 1
    legal = np.zeros((3, n_actions), bool)
    legal[0, :2] = True
    legal[1, 2:] = True
    reward = np.zeros((3, n_actions))
    reward[1, 2:] = mean
    reward_std = np.zeros((3, n_actions))
    reward_std[1, 2:] = std
    return TabularMDP(
        next_state=nxt,
        reward=reward,
        reward_std=reward_std,
        legal=legal,
        terminal=np.array([False, False, True]),
        start=0,
        gamma=gamma,
        states=("A", "B", "end"),
        actions=("stop", "add a gate", *(f"candidate {i}" for i in range(1, k + 1))),
    )


def value_iteration(mdp: TabularMDP, tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """The optimal action values :math:`Q^*` (float64, shape ``(S, A)``) by value iteration,

    :math:`Q(s,a) \\leftarrow r(s,a) + \\gamma\\,[s' \\text{ not terminal}]\\,\\max_{a' \\text{ legal}} Q(s',a')`,
    until no entry moves by more than ``tol``. Illegal actions and terminal states are NaN.
    Raises if it has not converged after ``max_iter`` sweeps (possible only with ``gamma = 1``
    and a policy that never ends).
    """
    nxt, r = np.asarray(mdp.next_state), np.asarray(mdp.reward, float)
    legal, term = np.asarray(mdp.legal), np.asarray(mdp.terminal)
    q = np.zeros(r.shape)
    for _ in range(max_iter):
        v = np.where(term, 0.0, np.max(np.where(legal, q, -np.inf), axis=1, initial=-np.inf))
        v = np.where(np.isfinite(v), v, 0.0)
        new = r + mdp.gamma * v[nxt]
        if np.max(np.abs(new - q)) <= tol:
            return np.where(mdp.decisions, new, np.nan)
        q = new
    raise RuntimeError(f"value iteration did not converge in {max_iter} sweeps (gamma = {mdp.gamma})")


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


def discounted_return(rewards, gamma: float) -> float:
    """:math:`G = \\sum_k \\gamma^k r_k` of a list of rewards."""
    rewards = np.asarray(rewards, float)
    return float(np.sum(gamma ** np.arange(rewards.size) * rewards))


def greedy_policy(mdp: TabularMDP, q) -> dict[str, str]:
    """``{state: greedy action}`` for every non-terminal state (ties: the first action)."""
    q = np.where(mdp.decisions, np.asarray(q, float), -np.inf)
    return {mdp.states[s]: mdp.actions[int(np.argmax(q[s]))] for s in range(mdp.n_states) if not mdp.terminal[s]}


def q_error(mdp: TabularMDP, q, reference) -> np.ndarray:
    """Mean ``|Q - reference|`` over the table's meaningful entries (:attr:`TabularMDP.decisions`),
    over the last two axes: a table gives a number, a history ``(E, S, A)`` a curve, runs of
    histories ``(R, E, S, A)`` one curve per run."""
    diff = np.abs(np.asarray(q, float) - np.asarray(reference, float))
    return np.nanmean(np.where(mdp.decisions, diff, np.nan), axis=(-2, -1))


def max_estimates(
    key: jax.Array | int, means, std: float = 1.0, samples: int = 10, runs: int = 10_000
) -> dict[str, np.ndarray]:
    """The maximum of noisy estimates, single against double estimator (no MDP involved).

    Each of ``len(means)`` actions has a true value ``means[i]``; each run draws ``samples`` noisy
    measurements :math:`\\mathcal N(\\text{means}_i, \\text{std}^2)` per action. The *single*
    estimator is :math:`\\max_i \\bar x_i` (what Q-learning's max does); the *double* estimator picks
    :math:`i^* = \\arg\\max_i \\bar x^A_i` on one half of the samples and reports :math:`\\bar x^B_{i^*}`
    from the other half (what double Q-learning and double DQN do). Returns ``{"single": (runs,),
    "double": (runs,), "true": max(means)}``: the single estimator is biased upwards, the double
    one is not (it may be biased downwards).
    """
    means = np.asarray(means, np.float32)
    check_int(samples, "samples", minimum=2)
    check_int(runs, "runs")
    check_number(std, "std", strict=False)
    key = jax.random.key(key) if isinstance(key, int) else key
    single, double = _max_estimates(key, means, np.float32(std), samples, runs)
    return {"single": np.asarray(single), "double": np.asarray(double), "true": float(means.max())}


@partial(jax.jit, static_argnums=(3, 4))
def _max_estimates(key: jax.Array, means: jax.Array, std: jax.Array, samples: int, runs: int):
    x = means[:, None] + std * jax.random.normal(key, (runs, means.size, samples))
    half = samples // 2
    pick = jnp.argmax(x[..., :half].mean(-1), axis=-1)
    double = jnp.take_along_axis(x[..., half:].mean(-1), pick[:, None], axis=-1)[:, 0]
    return x.mean(-1).max(-1), double
