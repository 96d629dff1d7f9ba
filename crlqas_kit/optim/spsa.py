"""SPSA and Adam-SPSA as optax-style gradient transformations, and a fully compiled ``minimize``.

SPSA (Spall 1992) estimates the gradient from two evaluations along a random direction
``Delta`` in ``{-1, +1}^p`` (Rademacher):

    ``g_k = [f(x + c_k Delta) - f(x - c_k Delta)] / (2 c_k) * Delta``     (``1/Delta_i = Delta_i``)

with gains ``a_k = a / (k + 1 + A)^alpha`` (step) and ``c_k = c / (k + 1)^gamma`` (perturbation).
``E[g_k]`` is the gradient up to ``O(c_k^2)`` (exact for quadratics).

Adam-SPSA (the CRLQAS paper's variant) feeds ``g_k`` to Adam moments with a first-moment
coefficient that decays, ``beta1_k = beta1 / (k + 1)^lam``:

    ``m = beta1_k m + (1 - beta1_k) g``,  ``v = beta2 v + (1 - beta2) g^2``,
    ``x -= a_k * m_hat / (sqrt(v_hat) + eps)``,  ``m_hat = m / (1 - beta1^(k+1))``,
    ``v_hat = v / (1 - beta2^(k+1))``.

The transformations are ``(init, update)`` pairs (:class:`optax.GradientTransformation`), so an
SPSA gradient can also drive any optax optimiser (``optax.adam(1e-2)`` works unchanged).
:func:`minimize` runs the whole loop in one ``lax.scan``: the ``+-`` evaluations are one batched
call, the best evaluated point is tracked, and the evaluation count is exact (``2`` per
iteration plus ``1`` for the final iterate).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

METHODS = ("adam-spsa", "spsa")


@dataclasses.dataclass(frozen=True)
class SPSAConfig:
    """Hyperparameters of SPSA / Adam-SPSA (defaults: Spall's classic exponents).

    ``A=None`` means ``0.1 * iterations``. ``budget`` counts objective evaluations.
    ``a=None`` calibrates the step gain from the data (Spall's rule, as Qiskit's SPSA does):
    ``calibration`` gradient samples at ``x0`` (2 evaluations each, counted in the budget) set
    ``a = target_step * (A + 1)^alpha / mean|g|`` so the first step moves each angle about
    ``target_step`` radians. Adam-SPSA normalises its step, so ``a`` is directly that size:
    for it ``a=None`` means ``a = target_step * (A + 1)^alpha`` and costs no evaluations.
    """

    method: str = "adam-spsa"
    budget: int = 500
    a: float | None = 0.2
    c: float = 0.1
    A: float | None = None
    alpha: float = 0.602
    gamma: float = 0.101
    beta1: float = 0.9
    beta2: float = 0.999
    lam: float = 0.4
    eps: float = 1e-8
    calibration: int = 5
    target_step: float = 0.1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown SPSA method {self.method!r}; choose one of {METHODS}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 3:
            raise ValueError(f"budget must be an integer >= 3 evaluations (2 per iteration + 1), got {self.budget!r}")
        for name in ("a", "c", "eps", "target_step"):
            value = getattr(self, name)
            if name == "a" and value is None:
                continue
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"SPSA gain {name} must be a positive finite number, got {value!r}")
        for name in ("alpha", "gamma", "lam"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SPSA exponent {name} must be >= 0 and finite, got {value!r}")
        if self.A is not None and not (math.isfinite(self.A) and self.A >= 0):
            raise ValueError(f"SPSA stability constant A must be >= 0, got {self.A!r}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < 1):
                raise ValueError(f"Adam coefficient {name} must be in [0, 1), got {value!r}")

        if isinstance(self.calibration, bool) or not isinstance(self.calibration, int) or self.calibration < 1:
            raise ValueError(f"calibration must be a positive number of gradient samples, got {self.calibration!r}")
        if self.budget < self.calibration_evaluations + 3:
            raise ValueError(f"budget {self.budget} leaves no iterations after {self.calibration} calibration samples")

    @property
    def calibration_evaluations(self) -> int:
        return 2 * self.calibration if self.a is None and self.method == "spsa" else 0

    @property
    def iterations(self) -> int:
        return (self.budget - 1 - self.calibration_evaluations) // 2

    @property
    def stability(self) -> float:
        return 0.1 * self.iterations if self.A is None else float(self.A)

    def replace(self, **changes) -> SPSAConfig:
        return dataclasses.replace(self, **changes)


# -------------------------------------------------------------------------------------------
# gradient estimator and gains
# -------------------------------------------------------------------------------------------


def perturbation_gain(c: float, gamma: float, k) -> jnp.ndarray:
    """``c_k = c / (k + 1)^gamma``."""
    return c / (k + 1.0) ** gamma


def step_gain(a: float, A: float, alpha: float, k) -> jnp.ndarray:
    """``a_k = a / (k + 1 + A)^alpha``."""
    return a / (k + 1.0 + A) ** alpha


def spsa_gradient(
    batched_fun: Callable[[jnp.ndarray], jnp.ndarray], x: jnp.ndarray, key: jax.Array, c_k, mask=None
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """One SPSA gradient estimate.

    Args:
        batched_fun: ``(2, p) -> (2,)`` objective on a batch of points (one call for both).
        x: ``(p,)`` current point.
        key: PRNG key for the Rademacher direction.
        c_k: perturbation size.
        mask: optional ``(p,)`` 0/1 array; masked coordinates are neither perturbed nor moved.

    Returns:
        ``(g, points, values)``: the ``(p,)`` estimate, the two evaluated points ``(2, p)`` and
        their objective values ``(2,)``.
    """
    delta = jax.random.rademacher(key, x.shape, dtype=x.dtype)
    if mask is not None:
        delta = delta * mask
    points = jnp.stack([x + c_k * delta, x - c_k * delta])
    values = batched_fun(points)
    g = (values[0] - values[1]) / (2.0 * c_k) * delta
    return g, points, values


# -------------------------------------------------------------------------------------------
# optax transformations
# -------------------------------------------------------------------------------------------


class ScaleByGainState(NamedTuple):
    count: jnp.ndarray


def scale_by_spsa_gain(a: float, A: float = 0.0, alpha: float = 0.602) -> optax.GradientTransformation:
    """Classic SPSA step: ``updates = -a_k * g`` (``k`` counts updates)."""

    def init(params):
        del params
        return ScaleByGainState(count=jnp.zeros([], jnp.int32))

    def update(updates, state, params=None):
        del params
        gain = step_gain(a, A, alpha, state.count)
        return jax.tree.map(lambda g: -gain * g, updates), ScaleByGainState(count=state.count + 1)

    return optax.GradientTransformation(init, update)


class AdamSPSAState(NamedTuple):
    count: jnp.ndarray
    mu: optax.Params
    nu: optax.Params


def adam_spsa(
    a: float,
    A: float = 0.0,
    alpha: float = 0.602,
    beta1: float = 0.9,
    beta2: float = 0.999,
    lam: float = 0.4,
    eps: float = 1e-8,
) -> optax.GradientTransformation:
    """Adam with decaying first-moment coefficient ``beta1_k = beta1/(k+1)^lam`` and step ``a_k``."""

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return AdamSPSAState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        del params
        k = state.count
        b1k = beta1 / (k + 1.0) ** lam
        mu = jax.tree.map(lambda m, g: b1k * m + (1 - b1k) * g, state.mu, updates)
        nu = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g**2, state.nu, updates)
        c1, c2 = 1 - beta1 ** (k + 1.0), 1 - beta2 ** (k + 1.0)
        gain = step_gain(a, A, alpha, k)
        out = jax.tree.map(lambda m, v: -gain * (m / c1) / (jnp.sqrt(v / c2) + eps), mu, nu)
        return out, AdamSPSAState(count=k + 1, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


def transformation(config: SPSAConfig, a=None) -> optax.GradientTransformation:
    """The optax transformation of ``config.method`` (``a`` overrides ``config.a``, e.g. calibrated)."""
    A, a = config.stability, config.a if a is None else a
    if a is None:
        raise ValueError("config.a is None (calibrate): pass the calibrated gain as `a`")
    if config.method == "spsa":
        return scale_by_spsa_gain(a, A, config.alpha)
    return adam_spsa(a, A, config.alpha, config.beta1, config.beta2, config.lam, config.eps)


# -------------------------------------------------------------------------------------------
# the compiled loop
# -------------------------------------------------------------------------------------------


class SPSAResult(NamedTuple):
    """Result of :func:`run`/:func:`minimize` (all jax arrays).

    ``x`` and ``fun`` are the best evaluated point and its value; ``x_last`` the final iterate;
    ``history`` the mean of the two evaluations per iteration ``(iterations,)``;
    ``evaluations`` the number of objective calls.
    """

    x: jnp.ndarray
    fun: jnp.ndarray
    x_last: jnp.ndarray
    fun_last: jnp.ndarray
    history: jnp.ndarray
    evaluations: jnp.ndarray


def run(
    batched_fun: Callable[[jnp.ndarray, jax.Array], jnp.ndarray],
    x0: jnp.ndarray,
    key: jax.Array,
    config: SPSAConfig,
    mask: jnp.ndarray | None = None,
    optimizer: optax.GradientTransformation | None = None,
) -> SPSAResult:
    """Pure, jittable SPSA loop (call inside ``jit``; the caller validates inputs).

    Args:
        batched_fun: ``(points (B, p), key) -> values (B,)``; the key is for stochastic
            objectives (shot noise) and may be ignored.
        x0: ``(p,)`` start point.
        key: PRNG key; every iteration draws a fresh direction and objective key from it.
        config: hyperparameters (static).
        mask: optional ``(p,)`` 0/1 array of coordinates to optimise.
        optimizer: replaces ``transformation(config)`` (e.g. ``optax.adam(1e-2)``); SPSA gradients
            with gains ``c_k`` from ``config`` are fed to it.
    """
    x0 = jnp.asarray(x0)
    a = config.a
    best_x0, best_f0 = x0, jnp.asarray(jnp.inf, x0.dtype)
    if a is None and config.method == "adam-spsa":
        a = config.target_step * (config.stability + 1.0) ** config.alpha  # normalised step: no data needed
    elif a is None:
        key, k_cal = jax.random.split(key)
        a, best_x0, best_f0 = _calibrate(batched_fun, x0, k_cal, config, mask)
    opt = transformation(config, a) if optimizer is None else optimizer
    state = opt.init(x0)

    def body(carry, k):
        x, opt_state, best_x, best_f, key = carry
        key, k_dir, k_fun = jax.random.split(key, 3)
        c_k = perturbation_gain(config.c, config.gamma, k)
        g, points, values = spsa_gradient(lambda p: batched_fun(p, k_fun), x, k_dir, c_k, mask)
        i = jnp.argmin(values)
        better = values[i] < best_f
        best_x = jnp.where(better, points[i], best_x)
        best_f = jnp.where(better, values[i], best_f)
        updates, opt_state = opt.update(g, opt_state, x)
        if mask is not None:
            updates = updates * mask
        return (x + updates, opt_state, best_x, best_f, key), jnp.mean(values)

    init = (x0, state, best_x0, best_f0, key)  # the calibration points count as evaluated
    (x, _, best_x, best_f, key), history = jax.lax.scan(body, init, jnp.arange(config.iterations))
    f_last = batched_fun(x[None], jax.random.fold_in(key, 1))[0]
    better = f_last <= best_f
    return SPSAResult(
        x=jnp.where(better, x, best_x),
        fun=jnp.where(better, f_last, best_f),
        x_last=x,
        fun_last=f_last,
        history=history,
        evaluations=jnp.asarray(2 * config.iterations + 1 + config.calibration_evaluations),
    )


def calibrate_gain(batched_fun, x0, key, config: SPSAConfig, mask=None) -> jnp.ndarray:
    """Step gain ``a`` giving a first step of about ``target_step`` per angle (see :class:`SPSAConfig`)."""
    return _calibrate(batched_fun, x0, key, config, mask)[0]


def _calibrate(batched_fun, x0, key, config: SPSAConfig, mask=None):
    """``(a, best_point, best_value)`` of the ``calibration`` gradient samples at ``x0``."""
    c0 = perturbation_gain(config.c, config.gamma, 0)

    def sample(k):
        k_dir, k_fun = jax.random.split(k)
        g, points, values = spsa_gradient(lambda p: batched_fun(p, k_fun), x0, k_dir, c0, mask)
        n_active = x0.size if mask is None else jnp.maximum(jnp.sum(mask), 1)
        return jnp.sum(jnp.abs(g)) / n_active, points, values

    magnitude, points, values = jax.lax.map(sample, jax.random.split(key, config.calibration))
    points, values = points.reshape(-1, x0.size), values.reshape(-1)
    i = jnp.argmin(values)
    scale = (config.stability + 1.0) ** config.alpha
    return config.target_step * scale / jnp.maximum(jnp.mean(magnitude), 1e-12), points[i], values[i]


def minimize(
    fun: Callable,
    x0,
    key: jax.Array,
    method: str = "adam-spsa",
    budget: int = 500,
    *,
    config: SPSAConfig | None = None,
    stochastic: bool = False,
    mask=None,
    optimizer: optax.GradientTransformation | None = None,
    **hyperparameters,
) -> SPSAResult:
    """Minimise ``fun`` with SPSA/Adam-SPSA in one compiled call.

    Args:
        fun: ``fun(x) -> scalar`` (or ``fun(x, key)`` when ``stochastic``); jax-traceable.
        x0: start point, shape ``(p,)``, finite.
        key: a ``jax.random`` key.
        method: ``"adam-spsa"`` or ``"spsa"``.
        budget: number of objective evaluations (``>= 3``).
        config: full :class:`SPSAConfig` (overrides ``method``/``budget``/hyperparameters).
        mask: coordinates to optimise (0/1), default all.
        optimizer: any optax transformation to consume the SPSA gradients instead.
        **hyperparameters: fields of :class:`SPSAConfig` (``a``, ``c``, ``alpha``, ...).

    Each call compiles the loop for ``fun`` (about a second); inside your own ``jit`` use :func:`run`.
    """
    import numpy as np

    from .._x64 import enable_x64

    cfg = config if config is not None else SPSAConfig(method=method, budget=budget, **hyperparameters)
    x0_np = np.asarray(x0, dtype=np.float64)
    if x0_np.ndim != 1 or x0_np.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array of parameters, got shape {x0_np.shape}")
    if not np.all(np.isfinite(x0_np)):
        raise ValueError("x0 contains NaN or inf; start from finite parameters")
    single = fun if stochastic else (lambda x, k: fun(x))

    def batched(points, k):
        keys = jax.random.split(k, points.shape[0])
        return jax.vmap(single)(points, keys)

    with enable_x64():
        m = None if mask is None else jnp.asarray(mask, dtype=jnp.float64)
        return jax.jit(lambda x, k: run(batched, x, k, cfg, m, optimizer))(jnp.asarray(x0_np), key)
