"""SPSA and Adam-SPSA as optax-style gradient transformations, and a fully compiled ``minimize``.

SPSA (Spall 1992) estimates the gradient from two evaluations along a random direction
``Delta`` in ``{-1, +1}^p`` (Rademacher):

    ``g_k = [f(x + c_k Delta) - f(x - c_k Delta)] / (2 c_k) * Delta``     (``1/Delta_i = Delta_i``)

with gains ``a_k = a / (k + 1 + A)^alpha`` (step) and ``c_k = c / (k + 1)^gamma`` (perturbation).
``E[g_k]`` is the gradient up to ``O(c_k^2)`` (exact for quadratics).

Adam-SPSA (the CRLQAS paper's variant) feeds ``g_k`` to Adam moments with a first-moment
coefficient that decays, ``beta1_k = beta1 / (k + 1)^lam``. Two variants (``SPSAConfig.variant``):

``"published"`` -- exactly as in the published code (spec section 8): ``A = 0``; at ``k = 0`` the
  step is the raw ``g`` (no moments); for ``k >= 1``
  ``m = beta1_k m + (1 - beta1_k) g``, ``v = beta2 v + (1 - beta2) g^2``,
  ``step = [m / (1 - beta1_k^(k+1))] / (sqrt(v / (1 - beta2^(k+1))) + eps)``, ``x -= a_k step``;
  then ``f(x)`` is evaluated: 3 evaluations per iteration, ``K = ceil(budget / 2)`` iterations,
  so one call costs ``3K + 1`` evaluations (about 1.5x its nominal budget; counted honestly).
``"kit"`` (default) -- ``A = 0.1 * iterations`` unless set, bias correction with the undecayed
  ``beta1`` (``m / (1 - beta1^(k+1))``), moments from ``k = 0``, and no evaluation at the
  iterates: 2 evaluations per iteration, so the nominal budget is the real one. Why it is the
  default: at an equal number of evaluations it reaches lower energies on the kit's problems
  (measured in ``benchmarks/vqe.py``, see ``docs/benchmarks.md``).

Both evaluate the start point ``x0`` first and return the best point whose value they measured
(``x0``, perturbed points and iterates for ``kit``; ``x0`` and iterates for ``published``), so with
an exact objective the returned value is never above ``f(x0)``: a warm-started RL step cannot lose
ground. With a noisy objective (shots) "best measured" is biased low (the minimum of noisy values);
:func:`run`'s ``refine`` re-evaluates the best few candidates with a better objective.

Multi-stage runs (published "SPSA3"): ``stages=(b_1, b_2, b_3)`` are per-stage budgets; the loop
is one scan whose gains and moments continue across stages (``k`` is not reset) and whose
objective receives the stage index (e.g. ``N/100``, ``N/10``, ``N`` shots).

The transformations are ``(init, update)`` pairs (:class:`optax.GradientTransformation`), so an
SPSA gradient can also drive any optax optimiser (``optax.adam(1e-2)`` works unchanged).
:func:`minimize` runs the whole loop in one ``lax.scan``: the ``+-`` evaluations are one batched
call, the best evaluated point is tracked, and the evaluation count is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .spsa_config import METHODS as METHODS  # re-exported: the config lived here
from .spsa_config import VARIANTS, SPSAConfig

# -------------------------------------------------------------------------------------------
# gradient estimator and gains
# -------------------------------------------------------------------------------------------


def perturbation_schedule(c: float, gamma: float) -> optax.Schedule:
    """The perturbation gains as an optax schedule: ``k -> c_k = c / (k + 1)^gamma``."""
    return lambda k: c / (k + 1.0) ** gamma


def step_schedule(a: float, A: float, alpha: float) -> optax.Schedule:
    """The step gains as an optax schedule: ``k -> a_k = a / (k + 1 + A)^alpha``."""
    return lambda k: a / (k + 1.0 + A) ** alpha


def perturbation_gain(c: float, gamma: float, k) -> jnp.ndarray:
    """``c_k = c / (k + 1)^gamma``."""
    return perturbation_schedule(c, gamma)(k)


def step_gain(a: float, A: float, alpha: float, k) -> jnp.ndarray:
    """``a_k = a / (k + 1 + A)^alpha``."""
    return step_schedule(a, A, alpha)(k)


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


#: The state of :func:`scale_by_spsa_gain` (optax's: the update count).
ScaleByGainState = optax.ScaleByScheduleState


def scale_by_spsa_gain(a: float, A: float = 0.0, alpha: float = 0.602) -> optax.GradientTransformation:
    """Classic SPSA step: ``updates = -a_k * g`` (``k`` counts updates; ``optax.scale_by_schedule``)."""
    gain = step_schedule(a, A, alpha)
    return optax.scale_by_schedule(lambda k: -gain(k))


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
    variant: str = "kit",
) -> optax.GradientTransformation:
    """Adam with decaying first-moment coefficient ``beta1_k = beta1/(k+1)^lam`` and step ``a_k``.

    ``variant="kit"``: bias correction ``1 - beta1^(k+1)``, moments from the first update.
    ``variant="published"``: the first update is the raw ``-a_0 g`` (moments untouched), later
    ones are bias-corrected with the decayed ``1 - beta1_k^(k+1)`` (see the module docstring).
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown Adam-SPSA variant {variant!r}; choose one of {VARIANTS}")
    step_size = step_schedule(a, A, alpha)

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return AdamSPSAState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        del params
        k = state.count
        b1k = beta1 / (k + 1.0) ** lam  # beta1_k: no optax schedule has this form
        mu = jax.tree.map(lambda m, g: b1k * m + (1 - b1k) * g, state.mu, updates)
        nu = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g**2, state.nu, updates)
        gain = step_size(k)
        if variant == "kit":
            c1, c2 = 1 - beta1 ** (k + 1.0), 1 - beta2 ** (k + 1.0)
            out = jax.tree.map(lambda m, v: -gain * (m / c1) / (jnp.sqrt(v / c2) + eps), mu, nu)
            return out, AdamSPSAState(count=k + 1, mu=mu, nu=nu)
        c1, c2 = 1 - b1k ** (k + 1.0), 1 - beta2 ** (k + 1.0)
        first = k == 0
        out = jax.tree.map(
            lambda m, v, g: -gain * jnp.where(first, g, (m / c1) / (jnp.sqrt(v / c2) + eps)), mu, nu, updates
        )
        mu = jax.tree.map(lambda new, old: jnp.where(first, old, new), mu, state.mu)
        nu = jax.tree.map(lambda new, old: jnp.where(first, old, new), nu, state.nu)
        return out, AdamSPSAState(count=k + 1, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


def transformation(config: SPSAConfig, a=None, alpha=None) -> optax.GradientTransformation:
    """The optax transformation of ``config.method`` (``a`` / ``alpha`` override ``config.a`` /
    ``config.alpha``, e.g. a calibrated gain or traced values)."""
    A, a = config.stability, config.a if a is None else a
    alpha = config.alpha if alpha is None else alpha
    if a is None:
        raise ValueError("config.a is None (calibrate): pass the calibrated gain as `a`")
    if config.method == "spsa":
        return scale_by_spsa_gain(a, A, alpha)
    return adam_spsa(a, A, alpha, config.beta1, config.beta2, config.lam, config.eps, config.variant)


#: The gains :func:`run` accepts as traced values (``gains=``), so one compile serves every setting.
TRACED_GAINS = ("a", "c", "alpha", "gamma")


# -------------------------------------------------------------------------------------------
# the compiled loop
# -------------------------------------------------------------------------------------------


class SPSAResult(NamedTuple):
    """Result of :func:`run`/:func:`minimize` (all jax arrays).

    ``x`` and ``fun`` are the best measured point (``x0`` included) and its value (after
    ``refine``: the refined value); ``x_last`` the final iterate; ``history`` the mean of the
    two perturbed evaluations per iteration ``(iterations,)``; ``evaluations`` the objective
    calls (``refine`` calls not included; see :func:`run`); ``trace`` the per-iteration outputs
    of :func:`run`'s ``trace`` function (None without one).
    """

    x: jnp.ndarray
    fun: jnp.ndarray
    x_last: jnp.ndarray
    fun_last: jnp.ndarray
    history: jnp.ndarray
    evaluations: jnp.ndarray
    trace: object = None


class _Best(NamedTuple):
    """The ``m`` lowest measured values and their points, sorted (``m = 1`` without refine)."""

    x: jnp.ndarray  # (m, p)
    f: jnp.ndarray  # (m,)

    @staticmethod
    def of(x, f, m: int) -> _Best:
        return _Best(jnp.broadcast_to(x, (m, x.size)), jnp.full((m,), jnp.inf, f.dtype).at[0].set(f))

    def add(self, points, values) -> _Best:
        xs = jnp.concatenate([self.x, points])
        fs = jnp.concatenate([self.f, values])
        order = jnp.argsort(fs, stable=True)[: self.f.size]  # ties keep the earlier point
        return _Best(xs[order], fs[order])


def run(
    batched_fun: Callable[..., jnp.ndarray],
    x0: jnp.ndarray,
    key: jax.Array,
    config: SPSAConfig,
    mask: jnp.ndarray | None = None,
    optimizer: optax.GradientTransformation | None = None,
    refine: Callable[[jnp.ndarray, jax.Array], jnp.ndarray] | None = None,
    candidates: int = 4,
    trace: Callable[[jnp.ndarray, jnp.ndarray], object] | None = None,
    gains: dict[str, jnp.ndarray] | None = None,
) -> SPSAResult:
    """Pure, jittable SPSA loop (call inside ``jit``; the caller validates inputs).

    Args:
        batched_fun: ``(points (B, p), key) -> values (B,)``; the key is for stochastic
            objectives (shot noise) and may be ignored. A multi-stage ``config`` calls it as
            ``(points, key, stage)`` with the int32 stage index, e.g. to pick the stage's shots.
        x0: ``(p,)`` start point; evaluated first (one evaluation of the budget).
        key: PRNG key; every iteration draws a fresh direction and objective key from it.
        config: hyperparameters (static).
        mask: optional ``(p,)`` 0/1 array of coordinates to optimise.
        optimizer: replaces ``transformation(config)`` (e.g. ``optax.adam(1e-2)``); SPSA gradients
            with gains ``c_k`` from ``config`` are fed to it.
        refine: optional ``(points (m, p), key) -> values (m,)``, a better (e.g. more shots)
            objective: the ``candidates`` best measured points are re-evaluated with it and the
            best by the refined value is returned (``fun`` is then the refined value). These
            ``candidates`` calls are not in ``evaluations``; count them at the refine objective's cost.
        trace: optional ``(best_x, x) -> pytree`` called after every iteration with the best
            measured point so far and the new iterate (e.g. their exact energies, for benchmarks);
            its outputs are stacked in ``SPSAResult.trace``.
        gains: optional traced values of some of :data:`TRACED_GAINS` used instead of the config's
            (e.g. ``{"c": c, "gamma": g}`` as arrays): one compilation then serves every value.
    """
    x0 = jnp.asarray(x0)
    gains = dict(gains or {})
    if set(gains) - set(TRACED_GAINS):
        raise ValueError(f"gains may hold {TRACED_GAINS}, got {sorted(gains)}")
    if not config.stages:
        two_args = batched_fun
        batched_fun = lambda points, key, stage: two_args(points, key)  # noqa: E731
    published = config.variant == "published" and optimizer is None
    m = candidates if refine is not None else 1
    key, k_x0 = jax.random.split(key)
    f0 = batched_fun(x0[None], k_x0, jnp.asarray(0, jnp.int32))[0]
    best = _Best.of(x0, f0, m)
    a, alpha = gains.get("a", config.a), gains.get("alpha", config.alpha)
    c, gamma = gains.get("c", config.c), gains.get("gamma", config.gamma)
    if a is None and config.method == "adam-spsa":
        a = config.target_step * (config.stability + 1.0) ** alpha  # normalised step: no data needed
    elif a is None:
        key, k_cal = jax.random.split(key)
        a, cal_points, cal_values = _calibrate(batched_fun, x0, k_cal, config, mask, c, gamma, alpha)
        best = best.add(cal_points, cal_values)  # the calibration points count as measured
    opt = transformation(config, a, alpha) if optimizer is None else optimizer
    state = opt.init(x0)
    c_schedule = perturbation_schedule(c, gamma)
    stage_of = jnp.asarray(np.repeat(np.arange(len(config.stage_iterations)), config.stage_iterations), jnp.int32)

    def body(carry, xs):
        k, stage = xs
        x, f_x, opt_state, best, key = carry
        key, k_dir, k_fun, k_iter = jax.random.split(key, 4)
        c_k = c_schedule(k)
        g, points, values = spsa_gradient(lambda p: batched_fun(p, k_fun, stage), x, k_dir, c_k, mask)
        updates, opt_state = opt.update(g, opt_state, x)
        if mask is not None:
            updates = updates * mask
        x_new = x + updates
        if published:  # the published loop measures every iterate (and only those count as "seen")
            f_x = batched_fun(x_new[None], k_iter, stage)[0]
            best = best.add(x_new[None], f_x[None])
        else:
            best = best.add(points, values)
        out = jnp.mean(values) if trace is None else (jnp.mean(values), trace(best.x[0], x_new))
        return (x_new, f_x, opt_state, best, key), out

    iterations = jnp.arange(config.iterations)
    init = (x0, f0, state, best, key)
    (x, f_last, _, best, key), history = jax.lax.scan(body, init, (iterations, stage_of))
    history, traced = (history, None) if trace is None else history
    if not published:  # measure the last iterate (published: already measured in the loop)
        last_stage = jnp.asarray(len(config.stage_budgets) - 1, jnp.int32)
        f_last = batched_fun(x[None], jax.random.fold_in(key, 1), last_stage)[0]
        best = best.add(x[None], f_last[None])
    best_x, best_f = best.x[0], best.f[0]
    if refine is not None:
        values = refine(best.x, jax.random.fold_in(key, 2))
        values = jnp.where(jnp.isfinite(best.f), values, jnp.inf)  # unfilled slots (tiny budgets)
        i = jnp.argmin(values)
        best_x, best_f = best.x[i], values[i]
    return SPSAResult(
        x=best_x,
        fun=best_f,
        x_last=x,
        fun_last=f_last,
        history=history,
        evaluations=jnp.asarray(
            1 + config.iterations * (3 if published else 2) + (0 if published else 1) + config.calibration_evaluations
        ),
        trace=traced,
    )


def calibrate_gain(batched_fun, x0, key, config: SPSAConfig, mask=None) -> jnp.ndarray:
    """Step gain ``a`` giving a first step of about ``target_step`` per angle (see :class:`SPSAConfig`)."""
    return _calibrate(batched_fun, x0, key, config, mask)[0]


def _calibrate(batched_fun, x0, key, config: SPSAConfig, mask=None, c=None, gamma=None, alpha=None):
    """``(a, points, values)``: the gain and the ``2 * calibration`` points measured at ``x0``
    (``c``, ``gamma``, ``alpha``: traced values replacing the config's)."""
    c, gamma = config.c if c is None else c, config.gamma if gamma is None else gamma
    alpha = config.alpha if alpha is None else alpha
    c0 = perturbation_gain(c, gamma, 0)

    def sample(k):
        k_dir, k_fun = jax.random.split(k)
        g, points, values = spsa_gradient(
            lambda p: batched_fun(p, k_fun, jnp.asarray(0, jnp.int32)), x0, k_dir, c0, mask
        )
        n_active = x0.size if mask is None else jnp.maximum(jnp.sum(mask), 1)
        return jnp.sum(jnp.abs(g)) / n_active, points, values

    magnitude, points, values = jax.lax.map(sample, jax.random.split(key, config.calibration))
    scale = (config.stability + 1.0) ** alpha
    a = config.target_step * scale / jnp.maximum(jnp.mean(magnitude), 1e-12)
    return a, points.reshape(-1, x0.size), values.reshape(-1)


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
        budget: nominal number of objective evaluations (see :attr:`SPSAConfig.evaluations`).
        config: full :class:`SPSAConfig` (overrides ``method``/``budget``/hyperparameters).
        mask: coordinates to optimise (0/1), default all.
        optimizer: any optax transformation to consume the SPSA gradients instead.
        **hyperparameters: fields of :class:`SPSAConfig` (``a``, ``c``, ``alpha``, ``variant``, ...).

    Each call compiles the loop for ``fun`` (about a second); inside your own ``jit`` use :func:`run`.
    """
    from .._x64 import enable_x64

    cfg = config if config is not None else SPSAConfig(method=method, budget=budget, **hyperparameters)
    x0_np = np.asarray(x0, dtype=np.float64)
    if x0_np.ndim != 1 or x0_np.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array of parameters, got shape {x0_np.shape}")
    if not np.all(np.isfinite(x0_np)):
        raise ValueError("x0 contains NaN or inf; start from finite parameters")
    single = fun if stochastic else (lambda x, k: fun(x))

    def batched(points, k, stage=0):
        keys = jax.random.split(k, points.shape[0])
        return jax.vmap(single)(points, keys)

    with enable_x64():
        m = None if mask is None else jnp.asarray(mask, dtype=jnp.float64)
        return jax.jit(lambda x, k: run(batched, x, k, cfg, m, optimizer))(jnp.asarray(x0_np), key)
