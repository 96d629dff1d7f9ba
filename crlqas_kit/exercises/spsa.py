"""Checkers for notebook 04 VQE and SPSA (``ex04_spsa``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker, close


def _quadratic(rng: np.random.Generator, p: int):
    m = rng.normal(size=(p, p))
    a = m @ m.T + np.eye(p)
    b = rng.normal(size=p)
    return lambda x: 0.5 * x @ a @ x + b @ x + np.sum(np.sin(x))


def _by_hand_f(x):
    return x[0] ** 2 + 3 * x[1]


#: the by-hand example: f(x) = x0^2 + 3 x1 at x = (1, 0), delta = (1, -1), c = 0.1
BY_HAND = (_by_hand_f, np.array([1.0, 0.0]), np.array([1.0, -1.0]), 0.1)


def _kit_estimate(f, x: np.ndarray, seed: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """The kit's SPSA estimate at ``x`` for the direction drawn from ``key(seed)``: ``(g, delta)``."""
    import jax
    import jax.numpy as jnp

    from .._x64 import enable_x64
    from ..optim.spsa import spsa_gradient as kit_gradient

    with enable_x64():
        g, points, _ = kit_gradient(
            lambda pts: jnp.stack([jnp.asarray(f(np.asarray(q))) for q in pts]), jnp.asarray(x), jax.random.key(seed), c
        )
    return np.asarray(g), np.rint((np.asarray(points[0]) - x) / c)


@checker(points=2)
def check_spsa_gradient(spsa_gradient: Callable, rng: np.random.Generator) -> int:
    """``spsa_gradient(f, x, delta, c)`` -> ``(f(x + c delta) - f(x - c delta)) / (2c) * delta``.

    Wrong answers:

    * ``sign flipped``: ``f(x - c delta)`` first (caught by the by-hand example).
    * ``divided by c``: the factor 2 missing (caught by the by-hand example).
    * ``one-sided``: ``(f(x + c delta) - f(x)) / c * delta`` (caught by the by-hand example: x0^2 is curved).
    * ``no delta factor``: the scalar difference on every component (caught by delta = (1, -1)).
    """

    def cases():  # lazily: a wrong answer caught by the fixed case costs no kit call
        f, x, delta, c = BY_HAND
        yield f, x, delta, c, (f(x + c * delta) - f(x - c * delta)) / (2 * c) * delta
        for p in (1, 3, 5):
            f, x, c = _quadratic(rng, p), rng.normal(size=p), float(rng.uniform(0.01, 0.3))
            g, delta = _kit_estimate(f, x, int(rng.integers(2**31)), c)
            yield f, x, delta, c, g

    n = 0
    for f, x, delta, c, want in cases():
        n += 1
        p = len(x)
        got, tol = as_array(call(spsa_gradient, f, x.copy(), delta.copy(), c, show=f"{p} parameters"), (p,), "g")
        if close(got, want, tol):
            continue
        if close(got, -want, tol):
            raise Hint("wrong sign: f(x + c*delta) comes first in the difference")
        if close(got, 2 * want, tol) or close(2 * got, want, tol):
            raise Hint("off by a factor 2: the two points are 2c apart, divide by 2*c")
        raise Hint("g = (f(x + c*delta) - f(x - c*delta)) / (2*c) * delta  (delta_i = ±1, so 1/delta_i = delta_i)")
    return n


@checker(points=1)
def check_spsa_gains(spsa_gains: Callable, rng: np.random.Generator) -> int:
    """``spsa_gains(k, a, c, A, alpha, gamma)`` -> ``(a_k, c_k)`` of SPSA's decaying schedules.

    Wrong answers:

    * ``k instead of k + 1``: ``a / (k + A)^alpha`` (caught by k = 3, A = 2).
    * ``c constant``: ``c_k = c`` (caught by k = 3).
    * ``A in c_k``: ``c / (k + 1 + A)^gamma`` (caught by A = 2).
    * ``exponents swapped``: alpha for c_k and gamma for a_k (caught by k = 3).
    """
    from ..optim.spsa import perturbation_gain, step_gain

    cases = [(0, 0.2, 0.1, 0.0, 0.602, 0.101), (3, 0.5, 0.2, 2.0, 0.602, 0.101), (99, 0.2, 0.1, 10.0, 0.602, 0.101)]
    for _ in range(3):
        k = int(rng.integers(0, 500))
        a, c = (float(v) for v in np.round(rng.uniform(0.01, 2.0, 2), 4))
        cases.append((k, a, c, float(rng.integers(0, 50)), float(rng.uniform(0.3, 1)), float(rng.uniform(0, 0.3))))
    for k, a, c, A, alpha, gamma in cases:
        want = (float(step_gain(a, A, alpha, k)), float(perturbation_gain(c, gamma, k)))
        got, tol = as_array(call(spsa_gains, k, a, c, A, alpha, gamma, show=f"k = {k}"), (2,), "(a_k, c_k)")
        if close(got, want, tol):
            continue
        if not close(got[0], want[0], tol):
            raise Hint(f"a_k wrong for k={k}, A={A:g}: a_k = a / (k + 1 + A)^alpha (iterations count from k = 0)")
        raise Hint(f"c_k wrong for k={k}: c_k = c / (k + 1)^gamma (no A, and it decays)")
    return len(cases)


@checker(points=1, kind="predict", answer="value")
def check_spsa_by_hand(g: tuple, rng: np.random.Generator) -> int:
    """``g``: the SPSA estimate for ``f(x) = x0^2 + 3 x1`` at ``x = (1, 0)`` with ``delta = (1, -1)``
    and ``c = 0.1``, computed by hand before writing any code.

    Wrong answers:

    * ``true gradient``: (2, 3), what SPSA estimates only on average.
    * ``no delta factor``: the scalar difference on both components.
    * ``divided by c``: the factor 2 missing.
    * ``sign flipped``: ``f(x - c delta)`` first.
    """
    got, _ = as_array(g, (2,), "your estimate (g0, g1)")
    f, x, delta, c = BY_HAND
    want = (f(x + c * delta) - f(x - c * delta)) / (2 * c) * delta
    if np.allclose(got, want, atol=1e-3):
        return 1
    if np.allclose(got, [2.0, 3.0], atol=1e-3):
        raise Hint("that is the exact gradient; one SPSA estimate is a single random projection of it")
    raise Hint("evaluate f at x + c*delta = (1.1, -0.1) and x - c*delta = (0.9, 0.1), then apply the formula")
