"""Toy MDPs small enough to print, and their exact solution: the RL primer (notebook 04b).

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

:func:`value_iteration` computes :math:`Q^*` exactly; :func:`max_estimates` shows the bias of the
maximum of noisy estimates without any MDP. Learning on these MDPs: :mod:`crlqas_kit.rl.tabular`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int, check_number
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
