"""Checkers for notebook 06 the double-DQN agent (``ex06_dqn``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, Tol, as_array, as_float, call, checker, close

_N_STEP_OBS = 16  # one-hot time stamps identify the transitions; episodes up to 16 steps


def _kit_n_step(rewards: np.ndarray, gamma: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-step returns and discounts of a terminal episode, from the replay's ``nstep_push``."""
    import jax
    import jax.numpy as jnp

    from .._x64 import enable_x64
    from ..rl.replay import nstep_init, nstep_push

    T = len(rewards)
    returns, discounts = np.full(T, np.nan), np.full(T, np.nan)
    push = jax.jit(nstep_push)
    with enable_x64():
        queue = nstep_init(n, _N_STEP_OBS)
        queue = queue._replace(reward=queue.reward.astype(jnp.float64))
        eye = jnp.eye(_N_STEP_OBS)
        for t, r in enumerate(rewards):
            obs, nxt = eye[t], eye[min(t + 1, T - 1)]
            queue, items, valid = push(queue, obs, t, float(r), nxt, jnp.ones(1, bool), t == T - 1, False, gamma)
            for j in np.flatnonzero(np.asarray(valid)):
                s = int(np.argmax(np.asarray(items.obs[j])))
                returns[s], discounts[s] = float(items.reward[j]), float(items.discount[j])
    return returns, discounts


@checker(points=2)
def check_n_step_returns(n_step_returns: Callable, rng: np.random.Generator) -> int:
    """``n_step_returns(rewards, gamma, n)`` -> ``G_t = sum_{i<k} gamma^i r_{t+i}``, ``k = min(n, T - t)``.

    Wrong answers:

    * ``Monte Carlo``: the discounted return to the episode's end, n ignored (caught by ``[1, 2, 3]``, n = 2).
    * ``gamma^(i+1)``: the first reward discounted too (caught by every case).
    * ``undiscounted``: the plain sum of n rewards (caught by gamma = 0.5).
    * ``one-step``: ``G_t = r_t`` (caught by ``[1, 2, 3]``, n = 2).
    """
    cases = [([1.0, 2.0, 3.0], 0.5, 2), ([0.0, 0.0, 5.0], 0.9, 5), ([1.0, -1.0, 0.5, 2.0], 0.8, 3)]
    for _ in range(3):
        T = int(rng.integers(1, _N_STEP_OBS))
        rewards = np.round(rng.uniform(-1, 1, T), 3).tolist()
        cases.append((rewards, float(rng.uniform(0.5, 1.0)), int(rng.integers(1, 6))))
    for rewards, gamma, n in cases:
        want, _ = _kit_n_step(np.asarray(rewards), gamma, n)
        got = call(n_step_returns, list(rewards), gamma, n, show=f"rewards={rewards}, gamma={gamma:.3g}, n={n}")
        got, tol = as_array(got, (len(rewards),), "the returns")
        if close(got, want, tol):
            continue
        raise Hint(
            f"for rewards={rewards}, gamma={gamma:.3g}, n={n} expected {np.round(want, 4).tolist()}: "
            "G_t sums at most n rewards, gamma^i r_{t+i} for i = 0 .. k-1, and stops at the episode end"
        )
    return len(cases)


#: the fixed double-DQN case (also the by-hand prediction): q_online, q_target, next_mask, reward, discount
DDQN_CASE = (
    np.array([1.0, 3.0, 2.0, 0.5]),
    np.array([2.0, 1.5, 0.4, 0.1]),
    np.array([True, False, True, True]),
    0.2,
    0.9,
)


def _wrong_target_hint(got: float, q_on, q_tg, mask, reward, discount, tol) -> str:
    if close(got, reward + discount * q_tg[np.argmax(q_on)], tol):
        return "the argmax must run over LEGAL next actions only (use next_mask)"
    if close(got, reward + discount * np.max(np.where(mask, q_tg, -np.inf)), tol):
        return "that is the plain DQN target: pick a* with the ONLINE net, evaluate it with the TARGET net"
    if close(got, reward + discount * np.max(np.where(mask, q_on, -np.inf)), tol):
        return "evaluate a* with the TARGET network's Q-values, not the online ones"
    return "y = reward + discount * q_next_target[a*], a* = argmax over legal a of q_next_online[a]"


@checker(points=2)
def check_ddqn_target(ddqn_target: Callable, rng: np.random.Generator) -> int:
    """``ddqn_target(q_next_online, q_next_target, next_mask, reward, discount)`` -> the double-DQN target.

    Wrong answers:

    * ``mask ignored``: a* over all actions (caught by :data:`DDQN_CASE`, whose best online action is illegal).
    * ``plain DQN``: the largest legal TARGET value (caught by :data:`DDQN_CASE`).
    * ``online evaluation``: a* evaluated with the online values (caught by :data:`DDQN_CASE`).
    * ``discount ignored``: ``reward + q_next_target[a*]`` (caught by :data:`DDQN_CASE`, discount 0.9).
    """
    import jax.numpy as jnp

    from ..rl.dqn import ddqn_target as kit_target

    cases = [tuple(np.copy(v) if isinstance(v, np.ndarray) else v for v in DDQN_CASE)]
    for A in (8, 15, 24):
        q_on, q_tg = rng.normal(size=A), rng.normal(size=A)
        mask = rng.random(A) < 0.6
        mask[int(rng.integers(A))] = True
        cases.append((q_on, q_tg, mask, float(rng.normal()), float(rng.choice([0.0, rng.uniform(0.5, 1)]))))
    for q_on, q_tg, mask, reward, discount in cases:
        want = float(kit_target(jnp.asarray(q_on), jnp.asarray(q_tg), jnp.asarray(mask), reward, discount))
        got = call(ddqn_target, q_on.copy(), q_tg.copy(), mask.copy(), reward, discount, show=f"{len(q_on)} actions")
        got, tol = as_float(got, "the target")
        if close(got, want, Tol(max(tol.rtol, 1e-5), max(tol.atol, 1e-6))):
            continue
        raise Hint(_wrong_target_hint(got, q_on, q_tg, mask, reward, discount, tol))
    return len(cases)


@checker(points=1, kind="predict", answer="value")
def check_ddqn_by_hand(y: float, rng: np.random.Generator) -> int:
    """``y``: the double-DQN target of :data:`DDQN_CASE`, computed by hand before coding.

    Wrong answers:

    * ``mask ignored``: 1.55, the illegal action 1 chosen.
    * ``plain DQN``: 2.0, the largest legal target value.
    * ``discount ignored``: 0.6.
    """
    got, _ = as_float(y, "your target y")
    q_on, q_tg, mask, reward, discount = DDQN_CASE
    want = reward + discount * q_tg[np.argmax(np.where(mask, q_on, -np.inf))]
    if abs(got - want) < 1e-6:
        return 1
    raise Hint(_wrong_target_hint(got, q_on, q_tg, mask, reward, discount, Tol(1e-6, 1e-6)))
