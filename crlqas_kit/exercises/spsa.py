"""Checkers for notebook 04 VQE and SPSA (``ex04_spsa``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker, close, make_rng


def _quadratic(rng: np.random.Generator, p: int):
    m = rng.normal(size=(p, p))
    a = m @ m.T + np.eye(p)
    b = rng.normal(size=p)
    return lambda x: 0.5 * x @ a @ x + b @ x + np.sum(np.sin(x))


@checker
def check_spsa_gradient(spsa_gradient: Callable, seed: int | None = None) -> int:
    """``spsa_gradient(f, x, delta, c)`` -> ``(f(x + c delta) - f(x - c delta)) / (2c) * delta``."""
    import jax
    import jax.numpy as jnp

    from .._x64 import enable_x64
    from ..optim.spsa import spsa_gradient as kit_gradient

    rng = make_rng(seed)
    n_cases = 0
    for p in (1, 3, 5, 8):
        f = _quadratic(rng, p)
        x = rng.normal(size=p)
        c = float(rng.uniform(0.01, 0.3))
        with enable_x64():
            key = jax.random.key(int(rng.integers(2**31)))
            g, points, _ = kit_gradient(
                lambda pts, f=f: jnp.stack([jnp.asarray(f(np.asarray(q))) for q in pts]), jnp.asarray(x), key, c
            )
        want, delta = np.asarray(g), np.rint((np.asarray(points[0]) - x) / c)
        got = as_array(call(spsa_gradient, f, x.copy(), delta.copy(), c, show=f"{p} parameters"), (p,), "g")
        n_cases += 1
        if close(got, want):
            continue
        if close(got, -want):
            raise Hint("wrong sign: f(x + c*delta) comes first in the difference")
        if close(got, 2 * want) or close(2 * got, want):
            raise Hint("off by a factor 2: the two points are 2c apart, divide by 2*c")
        raise Hint("g = (f(x + c*delta) - f(x - c*delta)) / (2*c) * delta  (delta_i = ±1, so 1/delta_i = delta_i)")
    return n_cases


@checker
def check_spsa_gains(spsa_gains: Callable, seed: int | None = None) -> int:
    """``spsa_gains(k, a, c, A, alpha, gamma)`` -> ``(a_k, c_k)`` of SPSA's decaying schedules."""
    from ..optim.spsa import perturbation_gain, step_gain

    rng = make_rng(seed)
    cases = [(0, 0.2, 0.1, 0.0, 0.602, 0.101), (99, 0.2, 0.1, 10.0, 0.602, 0.101)]
    for _ in range(4):
        k = int(rng.integers(0, 500))
        a, c = (float(v) for v in np.round(rng.uniform(0.01, 2.0, 2), 4))
        cases.append((k, a, c, float(rng.integers(0, 50)), float(rng.uniform(0.3, 1)), float(rng.uniform(0, 0.3))))
    for k, a, c, A, alpha, gamma in cases:
        want = (float(step_gain(a, A, alpha, k)), float(perturbation_gain(c, gamma, k)))
        got = as_array(call(spsa_gains, k, a, c, A, alpha, gamma, show=f"k = {k}"), (2,), "(a_k, c_k)")
        if close(got, want):
            continue
        if close(got[0], a / (k + A) ** alpha if k + A > 0 else np.inf):
            raise Hint("a_k: iterations count from k = 0, so the denominator is (k + 1 + A)^alpha")
        if not close(got[0], want[0]):
            raise Hint(f"a_k wrong for k={k}: a_k = a / (k + 1 + A)^alpha")
        raise Hint(f"c_k wrong for k={k}: c_k = c / (k + 1)^gamma")
    return len(cases)
