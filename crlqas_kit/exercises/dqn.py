"""Checkers for notebook 06 the double-DQN agent (``ex06_dqn``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, as_float, call, checker, close, make_rng

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


@checker
def check_n_step_returns(n_step_returns: Callable, seed: int | None = None) -> int:
    """``n_step_returns(rewards, gamma, n)`` -> ``G_t = sum_{i<k} gamma^i r_{t+i}``, ``k = min(n, T - t)``."""
    rng = make_rng(seed)
    cases = [([1.0, 2.0, 3.0], 0.5, 2), ([0.0, 0.0, 5.0], 0.9, 5)]
    for _ in range(4):
        T = int(rng.integers(1, _N_STEP_OBS))
        rewards = np.round(rng.uniform(-1, 1, T), 3).tolist()
        cases.append((rewards, float(rng.uniform(0.5, 1.0)), int(rng.integers(1, 6))))
    for rewards, gamma, n in cases:
        want, _ = _kit_n_step(np.asarray(rewards), gamma, n)
        got = call(n_step_returns, list(rewards), gamma, n, show=f"rewards={rewards}, gamma={gamma:.3g}, n={n}")
        got = as_array(got, (len(rewards),), "the returns")
        if close(got, want, rtol=1e-5, atol=1e-6):
            continue
        raise Hint(
            f"for rewards={rewards}, gamma={gamma:.3g}, n={n} expected {np.round(want, 4).tolist()}: "
            "G_t sums at most n rewards, gamma^i r_{t+i} for i = 0 .. k-1, and stops at the episode end"
        )
    return len(cases)


@checker
def check_ddqn_target(ddqn_target: Callable, seed: int | None = None) -> int:
    """``ddqn_target(q_next_online, q_next_target, next_mask, reward, discount)`` -> the double-DQN target."""
    import jax.numpy as jnp

    from ..rl.dqn import ddqn_target as kit_target

    rng = make_rng(seed)
    n_cases = 0
    for A in (3, 8, 8, 15, 24):
        q_on, q_tg = rng.normal(size=A), rng.normal(size=A)
        mask = rng.random(A) < 0.6
        mask[int(rng.integers(A))] = True
        reward, discount = float(rng.normal()), float(rng.choice([0.0, rng.uniform(0.5, 1)]))
        want = float(kit_target(jnp.asarray(q_on), jnp.asarray(q_tg), jnp.asarray(mask), reward, discount))
        got = call(ddqn_target, q_on.copy(), q_tg.copy(), mask.copy(), reward, discount, show=f"{A} actions")
        got = as_float(got, "the target")
        n_cases += 1
        if np.isclose(got, want, rtol=1e-5, atol=1e-6):
            continue
        legal = np.where(mask, q_on, -np.inf)
        if np.isclose(got, reward + discount * q_tg[np.argmax(q_on)]):
            raise Hint("the argmax must run over LEGAL next actions only (use next_mask)")
        if np.isclose(got, reward + discount * np.max(np.where(mask, q_tg, -np.inf))):
            raise Hint("that is the plain DQN target: pick a* with the ONLINE net, evaluate it with the TARGET net")
        if np.isclose(got, reward + discount * np.max(legal)):
            raise Hint("evaluate a* with the TARGET network's Q-values, not the online ones")
        raise Hint("y = reward + discount * q_next_target[a*], a* = argmax over legal a of q_next_online[a]")
    return n_cases
