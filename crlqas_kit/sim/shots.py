"""Finite-shot energy estimates.

Each non-identity Pauli term ``P_i`` is assumed measured with ``N`` shots on its own, so its
sample mean has variance ``(1 - <P_i>^2) / N`` (a +-1 outcome with mean ``<P_i>``):

    ``E_shots = E + sum_i w_i eps_i``,  ``eps_i ~ N(0, (1 - <P_i>^2) / N)``   (``variance="exact"``)

The published CRLQAS code draws ``eps_i ~ N(0, 1/N)`` for every term (``variance="published"``),
an upper bound that ignores how close ``<P_i>`` is to +-1. The identity term is exact in both.
The Gaussian form is the central-limit approximation of the binomial sampling.

With readout-error mitigation each shot's outcome is corrected (:mod:`crlqas_kit.sim.mitigation`)
and is no longer +-1: the variance is ``(E[X_i^2] - <P_i>^2) / N`` with the corrected estimator's
second moment ``E[X_i^2]`` (``second_moments``; 1 for a +-1 outcome), and the published bound
``max X_i^2 / N``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

VARIANCES = ("exact", "published")


#: Largest shot count per term (the shot noise 1/sqrt(N) is then 3e-8 of a term's spread).
MAX_SHOTS = 10**15


def check_shots(shots) -> int | None:
    """``None`` (exact expectation) or a positive integer shot count."""
    if shots is None:
        return None
    message = f"shots must be a positive integer (or None for exact expectations), got {shots!r}"
    if isinstance(shots, bool | str | bytes):
        raise ValueError(message)
    try:
        value = float(shots)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if not value.is_integer() or value < 1:
        raise ValueError(message)
    if value > MAX_SHOTS:
        raise ValueError(
            f"shots must be at most {MAX_SHOTS:.0e} (beyond, shot noise is below float64 resolution: use exact), "
            f"got {shots!r}"
        )
    return int(value)


def sample_energy(
    key: jax.Array,
    expectations: jnp.ndarray,
    coeffs: jnp.ndarray,
    is_identity: jnp.ndarray,
    shots: int | jnp.ndarray,
    variance: str = "exact",
    second_moments: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """One finite-shot estimate of ``sum_i coeffs_i expectations_i``; pure and jittable.

    Args:
        key: PRNG key.
        expectations: ``(K,)`` exact ``<P_i>`` (readout included).
        coeffs: ``(K,)`` term weights ``w_i``.
        is_identity: ``(K,)`` bool, True for the constant term(s).
        shots: shots per term ``N``: a positive integer (checked with :func:`check_shots`) or
            a jax array (e.g. traced under ``jit``; then not checked).
        variance: ``"exact"`` or ``"published"`` (see module docstring).
        second_moments: ``(K,)`` per-shot ``E[X_i^2]`` (``variance="exact"``) or its bound
            ``max X_i^2`` (``"published"``) of a corrected estimator; None: +-1 outcomes (1).
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    if not isinstance(shots, jax.Array):  # a concrete count (not traced): validate it here
        if shots is None:
            raise ValueError("sample_energy needs a shot count; use the exact energy when shots is None")
        shots = check_shots(shots)
    second = jnp.ones_like(expectations) if second_moments is None else second_moments
    var = (second - expectations**2) if variance == "exact" else second
    var = jnp.where(is_identity, 0.0, jnp.clip(var, 0.0, None)) / shots
    eps = jax.random.normal(key, expectations.shape, dtype=expectations.dtype) * jnp.sqrt(var)
    return jnp.dot(coeffs, expectations + eps)
