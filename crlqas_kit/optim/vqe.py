"""The VQE inner loop: energy objectives and ``optimize`` with Adam-SPSA, SPSA, Adam or COBYLA.

Objectives are built on :class:`~crlqas_kit.sim.simulator.Evaluator`: parameters live in a
vector of the circuit's ``capacity`` (slot order), and only the first ``n_params`` are optimised
(a mask), so every circuit of one shape shares one compiled optimiser.

Methods (``evaluations`` in :class:`VQEResult` counts objective calls):

* ``adam-spsa`` / ``spsa`` -- :mod:`crlqas_kit.optim.spsa`, compiled; 2 calls per iteration + 1.
* ``adam`` -- optax Adam on exact gradients (``jax.grad`` through the simulator); one call =
  one energy and its gradient (about 3x the cost of an energy); noise-channel exact, no shots.
* ``cobyla`` -- ``scipy.optimize.minimize(method="COBYLA")`` on the compiled energy.
"""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_int, check_seed
from .._x64 import x64
from .._xla import jit
from ..problems import Problem
from ..sim.circuit import Circuit, check_params
from ..sim.noise import NoiseModel
from ..sim.paulis import PauliSum
from ..sim.sharding import split_batch
from ..sim.shots import VARIANCES, check_shots, sample_energy
from ..sim.simulator import Evaluator
from . import spsa, spsa_config
from .presets import PRESETS, PUBLISHED, preset_config, published_config  # noqa: F401  (re-exported: the old home)

VQE_METHODS = ("adam-spsa", "spsa", "adam", "cobyla")


def stage_shots(shots: int, n_stages: int) -> list[int]:
    """Shots per stage of a multi-stage run: ``N / 10^(S-1-s)`` (at least 1), e.g. N/100, N/10, N."""
    return [max(1, shots // 10 ** (n_stages - 1 - s)) for s in range(n_stages)]


def energy_objective(
    ev: Evaluator, circuit: Circuit, shots: int | None = None, variance: str = "exact", n_stages: int = 1
):
    """``f(x, key, stage=0) -> energy`` for ``x`` of shape ``(capacity,)``: exact, or a finite-shot
    sample with the shots of ``stage`` (:func:`stage_shots`; ``shots`` itself when one stage)."""
    is_identity = ev.term_index == 0
    per_stage = None if shots is None else jnp.asarray(stage_shots(shots, n_stages))

    def f(x, key, stage=0):
        if shots is None:
            return ev.energy(circuit, x)
        if ev.mitigation is None:
            return sample_energy(key, ev.expectations(circuit, x), ev.coeffs, is_identity, per_stage[stage], variance)
        # readout-corrected shots have their own variance (crlqas_kit.sim.mitigation); the
        # published model needs only its bound, not the state's second moments
        if variance == "exact":
            means, second = ev.shot_moments(circuit, x)
        else:
            means, second = ev.expectations(circuit, x), ev.mitigation.gains
        return sample_energy(key, means, ev.coeffs, is_identity, per_stage[stage], variance, second)

    return f


def as_key(key) -> jax.Array:
    """A PRNG key from an integer seed in ``[0, 2^32)`` or a JAX key; anything else is a ValueError."""
    if isinstance(key, jax.Array) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,)):
        return key
    try:
        return jax.random.key(check_seed(key, "key"))
    except ValueError:
        raise ValueError(f"key must be an integer seed in [0, 2^32) or a JAX PRNG key, got {key!r}") from None


def batched_objective(f, ev: Evaluator | None = None):
    """``(points (B, p), key, stage) -> (B,)`` from ``f(x, key, stage)``, one key per point.

    With the evaluator ``ev`` of ``f``, the points are split over the CPU devices where that pays
    (:func:`crlqas_kit.sim.sharding.split_batch`; same numbers, one core per part)."""

    def batched(points, key, stage=0):
        keys = jax.random.split(key, points.shape[0])

        def values(points, keys):
            return jax.vmap(f, in_axes=(0, 0, None))(points, keys, stage)

        if ev is None:
            return values(points, keys)
        return split_batch(values, ev.n_qubits, ev.engine, points, keys)

    return batched


def param_mask(circuit: Circuit) -> jnp.ndarray:
    """``(capacity,)`` 1.0 for the slots in use, 0.0 for padding (jittable)."""
    return (jnp.arange(circuit.capacity) < jnp.sum(circuit.slots >= 0)).astype(jnp.float64)


def refine_objective(ev: Evaluator, circuit: Circuit, reevaluate, variance: str = "exact"):
    """``(points, key) -> values`` for the final re-evaluation: exact (``"exact"``) or ``reevaluate`` shots."""
    if reevaluate is None:
        return None
    f = energy_objective(ev, circuit, None if reevaluate == "exact" else reevaluate, variance)
    batched = batched_objective(f, ev)
    return lambda points, key: batched(points, key)


#: Stand-ins for the traced gains in the static config of :func:`_run_spsa` (any valid values):
#: configurations that differ only in their gains then share one compiled loop.
_GAIN_STAND_INS = {"c": 0.1, "gamma": 0.1, "alpha": 0.6}


def _spsa_call(config: spsa.SPSAConfig) -> tuple[spsa.SPSAConfig, dict[str, jax.Array]]:
    """``(static config, traced gains)`` for :func:`_run_spsa`: the gains leave the compile key."""
    gains = {k: jnp.asarray(float(getattr(config, k))) for k in _GAIN_STAND_INS}
    changes = dict(_GAIN_STAND_INS)
    if config.a is not None:
        gains["a"], changes["a"] = jnp.asarray(float(config.a)), 1.0
    return config.replace(**changes), gains


@partial(jit, static_argnames=("config", "shots", "variance", "reevaluate"))  # older emitters: crlqas_kit._xla
def _run_spsa(ev, circuit, x0, key, config, shots, variance, reevaluate=None, gains=None):
    ev = dataclasses.replace(ev, loop="while")
    f = energy_objective(ev, circuit, shots, variance, len(config.stage_budgets))
    refine = refine_objective(ev, circuit, reevaluate, variance)
    return spsa.run(batched_objective(f, ev), x0, key, config, param_mask(circuit), refine=refine, gains=gains)


@partial(jax.jit, static_argnames=("steps", "lr"))
def _run_adam(ev, circuit, x0, steps, lr):
    opt = optax.adam(lr)
    mask = param_mask(circuit)
    value_and_grad = jax.value_and_grad(lambda x: ev.energy(circuit, x))

    def body(carry, _):
        x, state, best_x, best_f = carry
        f, g = value_and_grad(x)
        better = f < best_f
        best_x, best_f = jnp.where(better, x, best_x), jnp.where(better, f, best_f)
        updates, state = opt.update(g * mask, state, x)
        return (x + updates, state, best_x, best_f), f

    # the first evaluation is at x0 (Adam's first step is taken after it): never worse than x0
    init = (x0, opt.init(x0), x0, jnp.asarray(jnp.inf))
    (_, _, best_x, best_f), history = jax.lax.scan(body, init, None, length=steps)
    return best_x, best_f, history


@jax.jit
def _energy(ev, circuit, x):
    return ev.energy(circuit, x)


@dataclasses.dataclass(frozen=True)
class VQEResult:
    """Outcome of :func:`optimize`.

    Attributes:
        params: best parameters, shape ``(n_params,)``.
        energy: the objective value at ``params`` as the optimiser saw it (finite-shot if shots).
        exact_energy: noise-channel-exact energy at ``params`` (no shot noise).
        error: ``|exact_energy - E0|`` when a problem (E0) is known, else None.
        evaluations: objective calls used.
        history: per-iteration objective values (for plots).
        method, seconds: what ran and how long it took (compile included).
    """

    params: np.ndarray
    energy: float
    exact_energy: float
    error: float | None
    evaluations: int
    history: np.ndarray
    method: str
    seconds: float


def warm_start(previous, n_params: int, key: jax.Array | None = None, init: str = "zeros", scale: float = 0.01):
    """Previous angles followed by ``n_params - len(previous)`` new ones (zeros or ``N(0, scale^2)``)."""
    prev = np.asarray(previous, dtype=np.float64).reshape(-1)
    n_new = n_params - prev.size
    if n_new < 0:
        raise ValueError(f"warm start has {prev.size} previous angles for {n_params} parameters")
    if init == "zeros":
        new = np.zeros(n_new)
    elif init == "random":
        if key is None:
            raise ValueError("init='random' needs a PRNG key")
        new = scale * np.asarray(jax.random.normal(key, (n_new,)))
    else:
        raise ValueError(f"init must be 'zeros' or 'random', got {init!r}")
    return np.concatenate([prev, new])


@x64
def optimize(
    target: Problem | PauliSum,
    circuit: Circuit,
    noise: NoiseModel | str | None = None,
    *,
    method: str = "adam-spsa",
    budget: int = 500,
    key: jax.Array | int = 0,
    x0=None,
    shots: int | None = None,
    variance: str = "exact",
    config: spsa_config.SPSAConfig | None = None,
    lr: float = 0.05,
    initial: str | None = None,
    stages: int = 1,
    reevaluate: int | str | None = None,
    mitigate_readout: bool = False,
) -> VQEResult:
    """Optimise all angles of ``circuit`` for ``target``'s energy.

    Every method measures the start point first and returns the best point it measured, so with
    exact energies the result is never worse than the start (a warm start cannot lose ground).
    With ``shots`` the choice is made on noisy values, which favours points that were lucky
    (``energy`` is then biased low); ``reevaluate`` re-measures the best few candidates with
    more shots (or exactly, ``"exact"``) and returns the best by that second measurement.

    Args:
        target: a :class:`Problem` (gives E0 and the error) or a bare :class:`PauliSum`.
        circuit: the ansatz; its stored angles are the start unless ``x0`` is given.
        noise: noise model or spec.
        method: one of ``adam-spsa``, ``spsa``, ``adam``, ``cobyla``.
        budget: nominal objective evaluations (iterations for ``adam``; the published Adam-SPSA
            variant spends about 1.5x: see ``evaluations`` in the result).
        key: PRNG key or integer seed (SPSA directions and shot noise).
        x0: start angles ``(n_params,)``.
        shots: shots per Pauli term (SPSA methods only; None = exact expectation).
        variance: shot-noise model, ``"exact"`` or ``"published"``.
        config: SPSA hyperparameters (default: :func:`preset_config` for the problem); its
            ``stages`` and ``variant`` are honoured (e.g. :func:`published_config`).
        lr: Adam learning rate for ``method="adam"``.
        initial: initial bitstring (default all zeros).
        stages: multi-stage SPSA (the paper's schedule): the budget is split evenly over
            ``stages`` stages with ``shots / 10^(stages-1-s)`` shots in stage ``s`` (e.g. N/100,
            N/10, N) in one run whose gains continue across stages. Needs ``shots``.
        reevaluate: None, ``"exact"`` or a shot count for the final re-evaluation of the best
            candidates (SPSA methods with ``shots``; its calls are not in ``evaluations``).
        mitigate_readout: correct the readout error of ``noise`` in every energy estimate
            (:mod:`crlqas_kit.sim.mitigation`; with shots, with the variance of the correction).
    """
    check_int(stages, "stages")
    if method not in VQE_METHODS:
        raise ValueError(f"unknown VQE method {method!r}; choose one of {VQE_METHODS}")
    if stages > 1 and (shots is None or method not in spsa_config.METHODS):
        raise ValueError("multi-stage optimisation needs an SPSA method and a shot count (shots=N)")
    check_int(budget, "budget", unit="objective evaluations")
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    shots = check_shots(shots)
    if shots is not None and method in ("adam", "cobyla"):
        raise ValueError(f"shots are supported by the SPSA methods only, not {method!r}")
    if reevaluate is not None:
        if shots is None or method not in spsa_config.METHODS:
            raise ValueError("reevaluate re-measures noisy candidates: it needs an SPSA method and shots=N")
        if reevaluate != "exact":
            reevaluate = check_shots(reevaluate)
    problem = target if isinstance(target, Problem) else None
    hamiltonian = target.hamiltonian if problem else target
    ev = Evaluator.create(hamiltonian, noise, initial, mitigate_readout=mitigate_readout)
    if circuit.n_qubits != hamiltonian.n_qubits:
        raise ValueError(f"circuit has {circuit.n_qubits} qubits, the Hamiltonian {hamiltonian.n_qubits}")
    n = circuit.n_params
    if n == 0:
        raise ValueError("the circuit has no rotation angles to optimise")
    if x0 is not None and np.size(x0) != n:  # check_params would silently drop extra angles
        raise ValueError(f"x0 has {np.size(x0)} angles, the circuit {n}")
    start = np.zeros(circuit.capacity)
    start[:n] = check_params(circuit.params if x0 is None else x0, n)
    key = as_key(key)
    t0 = time.perf_counter()
    if method in spsa_config.METHODS:
        cfg = config or preset_config(problem.name if problem else None, method, budget)
        if config is not None and cfg.method != method:
            cfg = cfg.replace(method=method)
        if config is None or (cfg.budget != budget and not cfg.stages):
            cfg = cfg.replace(budget=budget)
        if stages > 1:
            cfg = cfg.replace(
                stages=tuple(np.diff(np.linspace(0, cfg.budget, stages + 1).round().astype(int)).tolist())
            )
        if cfg.stages and shots is None:
            raise ValueError("a multi-stage configuration needs a shot count (shots=N)")
        static, gains = _spsa_call(cfg)  # gains traced: new gain values reuse the compiled loop
        res = _run_spsa(ev, circuit, jnp.asarray(start), key, static, shots, variance, reevaluate, gains)
        best_x, best_f, history, evals = res.x, res.fun, res.history, int(res.evaluations)
    elif method == "adam":
        best_x, best_f, history = _run_adam(ev, circuit, jnp.asarray(start), budget, float(lr))
        evals = budget
    else:
        best_x, best_f, history, evals = _cobyla(ev, circuit, start, n, budget)
    params = np.asarray(best_x)[:n]
    padded = np.zeros(circuit.capacity)
    padded[:n] = params
    exact = float(_energy(ev, circuit, jnp.asarray(padded)))
    return VQEResult(
        params=params,
        energy=float(best_f),
        exact_energy=exact,
        error=problem.error(exact) if problem else None,
        evaluations=evals,
        history=np.asarray(history),
        method=method,
        seconds=time.perf_counter() - t0,
    )


def optimize_starts(
    target: Problem | PauliSum,
    circuit: Circuit,
    noise: NoiseModel | str | None = None,
    *,
    starts: int,
    first: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
    **options,
) -> list[VQEResult]:
    """:func:`optimize` from ``starts`` starts: ``first`` (default: the circuit's own angles), then
    ``starts - 1`` draws of uniform(-pi, pi) angles from ``numpy.random.default_rng(seed)`` (or
    from ``seed`` itself when it is a Generator: its stream continues across calls).
    Returns every start's result, in order; the best is ``min(results, key=lambda r: r.exact_energy)``
    (with a :class:`Problem` the same as by ``r.error``; for a bare PauliSum ``error`` is None).
    ``options``: :func:`optimize`'s keywords (``method``, ``budget``, ``lr``, ``mitigate_readout``, ...)."""
    check_int(starts, "starts")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_seed(seed))
    x0s = [first] + [rng.uniform(-np.pi, np.pi, circuit.n_params) for _ in range(starts - 1)]
    return [optimize(target, circuit, noise, x0=x0, **options) for x0 in x0s]


def _cobyla(ev, circuit, start, n, budget):
    from scipy.optimize import minimize as scipy_minimize

    history: list[float] = []
    padded = start.copy()

    def f(x):
        padded[:n] = x
        value = float(_energy(ev, circuit, jnp.asarray(padded)))
        history.append(value)
        return value

    best = {"f": np.inf, "x": start[:n].copy()}

    def tracked(x):
        value = f(x)
        if value < best["f"]:  # the best MEASURED point (COBYLA's first call is x0)
            best["f"], best["x"] = value, np.array(x, dtype=np.float64)
        return value

    scipy_minimize(tracked, start[:n], method="COBYLA", options={"maxiter": budget, "rhobeg": 0.5})
    x = np.zeros(circuit.capacity)
    x[:n] = best["x"]
    return jnp.asarray(x), best["f"], np.asarray(history), len(history)
