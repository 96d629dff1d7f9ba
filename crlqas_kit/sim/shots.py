"""Finite-shot energy estimates.

Each non-identity Pauli term ``P_i`` is assumed measured with ``N`` shots on its own, so its
sample mean has variance ``(1 - <P_i>^2) / N`` (a +-1 outcome with mean ``<P_i>``):

    ``E_shots = E + sum_i w_i eps_i``,  ``eps_i ~ N(0, (1 - <P_i>^2) / N)``   (``variance="exact"``)

The published CRLQAS code draws ``eps_i ~ N(0, 1/N)`` for every term (``variance="published"``),
an upper bound that ignores how close ``<P_i>`` is to +-1. The identity term is exact in both.
The Gaussian form is the central-limit approximation of the binomial sampling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

VARIANCES = ("exact", "published")


def check_shots(shots) -> int | None:
    """``None`` (exact expectation) or a positive integer shot count."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not float(shots).is_integer() or int(shots) < 1:
        raise ValueError(f"shots must be a positive integer (or None for exact expectations), got {shots!r}")
    return int(shots)


def sample_energy(
    key: jax.Array,
    expectations: jnp.ndarray,
    coeffs: jnp.ndarray,
    is_identity: jnp.ndarray,
    shots: int | jnp.ndarray,
    variance: str = "exact",
) -> jnp.ndarray:
    """One finite-shot estimate of ``sum_i coeffs_i expectations_i``; pure and jittable.

    Args:
        key: PRNG key.
        expectations: ``(K,)`` exact ``<P_i>`` (readout included).
        coeffs: ``(K,)`` term weights ``w_i``.
        is_identity: ``(K,)`` bool, True for the constant term(s).
        shots: shots per term ``N``.
        variance: ``"exact"`` or ``"published"`` (see module docstring).
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    var = (1.0 - expectations**2) if variance == "exact" else jnp.ones_like(expectations)
    var = jnp.where(is_identity, 0.0, jnp.clip(var, 0.0, None)) / shots
    eps = jax.random.normal(key, expectations.shape, dtype=expectations.dtype) * jnp.sqrt(var)
    return jnp.dot(coeffs, expectations + eps)
