"""Finite-shot energy estimator: unbiased, with the documented variance, reproducible by key.

The estimate is a sum of independent Gaussians, so with ``N`` samples the sample mean is within
5 standard errors of the exact energy and the sample variance ``s^2`` obeys
``(N - 1) s^2 / sigma^2 ~ chi^2(N - 1)``: ``|s^2 / sigma^2 - 1| < 5 sqrt(2 / (N - 1))`` fails with
probability below 1e-6. The key is fixed, so the test is deterministic.
"""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.problems import load_problem
from crlqas_kit.sim.shots import check_shots, sample_energy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

N_SAMPLES = 20000


def _lih_expectations():
    """LiH-4q terms with <P_i> of a generic noisy state (reference simulator, readout included)."""
    problem = load_problem("LiH-4q")
    ops = [("x", (0,)), ("x", (1,))]
    for q, (a, b) in enumerate([(0.4, 1.1), (0.6, -0.3), (0.3, 0.5), (-0.5, 2.2)]):
        ops += [("ry", (q,), a), ("rz", (q,), b)]
    ops += [("cx", (0, 1)), ("cx", (2, 3)), ("kraus", (1, 2), ref.kraus_depolarizing_2q(0.05))]
    rho = ref.run(4, ops)
    paulis, w = problem.hamiltonian.paulis, problem.hamiltonian.coeffs
    ev = np.array([ref.readout_expectation(rho, [(s, 1.0)], 0.02, 0.03) for s in paulis])
    ident = np.array([set(s) == {"I"} for s in paulis])
    return ev, np.asarray(w), ident


EV, W, IDENT = _lih_expectations()
E_EXACT = float(W @ EV)


def _samples(variance, shots, key=None):
    key = jax.random.PRNGKey(20240917) if key is None else key
    keys = jax.random.split(key, N_SAMPLES)
    ev, w, ident = jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT)
    draw = jax.jit(jax.vmap(lambda k: sample_energy(k, ev, w, ident, shots, variance)))
    return np.asarray(draw(keys))


def _expected_variance(variance, shots):
    per_term = (1 - EV**2) if variance == "exact" else np.ones_like(EV)
    return float(np.sum(np.where(IDENT, 0.0, W**2 * per_term)) / shots)


def test_test_data_discriminates():
    """The data make the two variance modes (and identity handling) clearly distinguishable."""
    assert IDENT.sum() == 1 and abs(W[IDENT][0]) > 1  # LiH constant term
    assert np.abs(EV[~IDENT]).max() > 0.5 and np.abs(EV[~IDENT]).min() < 0.2
    v_exact, v_pub = _expected_variance("exact", 1), _expected_variance("published", 1)
    tol = 5 * np.sqrt(2 / (N_SAMPLES - 1))
    assert v_pub / v_exact - 1 > 10 * tol
    assert (v_pub + W[IDENT][0] ** 2) / v_pub - 1 > 10 * tol


@pytest.mark.parametrize(("variance", "shots"), [("exact", 1000), ("published", 1000), ("exact", 7), ("published", 50)])
def test_unbiased_with_the_right_variance(variance, shots):
    with jax.enable_x64(True):
        samples = _samples(variance, shots)
    assert samples.dtype == np.float64 and samples.shape == (N_SAMPLES,)
    sigma2 = _expected_variance(variance, shots)
    stderr = np.sqrt(sigma2 / N_SAMPLES)
    assert abs(samples.mean() - E_EXACT) < 5 * stderr, (samples.mean() - E_EXACT, stderr)
    rel = samples.var(ddof=1) / sigma2 - 1
    assert abs(rel) < 5 * np.sqrt(2 / (N_SAMPLES - 1)), rel


def test_traced_shot_count():
    """``shots`` may be a traced array (e.g. one compiled function for many shot budgets)."""
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(3)
        ev, w, ident = jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT)
        f = jax.jit(lambda n: sample_energy(key, ev, w, ident, n))
        a, b = float(f(jnp.asarray(100.0))), float(f(jnp.asarray(400.0)))
        direct = float(sample_energy(key, ev, w, ident, 100))
    assert a == direct
    # same normal draws, scaled by 1/sqrt(N): the deviation halves when N is 4x
    assert abs((b - E_EXACT) / (a - E_EXACT) - 0.5) < 1e-12


def test_same_key_same_sample_different_keys_differ():
    with jax.enable_x64(True):
        k1, k2 = jax.random.PRNGKey(0), jax.random.PRNGKey(1)
        args = (jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT), 100)
        a1, a2, b = (float(sample_energy(k, *args)) for k in (k1, k1, k2))
        p1 = float(sample_energy(k1, *args, variance="published"))
    assert a1 == a2
    assert a1 != b and a1 != E_EXACT and p1 != a1


def test_exact_limits():
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(5)
        ev, w, ident = jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT)
        # huge shot count: the estimate converges to the exact energy
        assert abs(float(sample_energy(key, ev, w, ident, 10**14)) - E_EXACT) < 1e-5
        # eigenstates of every term (<P> = +-1): the exact-variance estimate has no noise at all
        signs = jnp.asarray(np.where(np.arange(EV.size) % 2, 1.0, -1.0))
        assert float(sample_energy(key, signs, w, ident, 1)) == pytest.approx(float(w @ signs), abs=1e-12)
        # only the identity term: exact in both modes
        only_id = jnp.asarray([True] * EV.size)
        for mode in ("exact", "published"):
            got = float(sample_energy(key, ev, w, only_id, 1, variance=mode))
            assert got == pytest.approx(E_EXACT, abs=1e-12)


@pytest.mark.parametrize("bad", [0, -1, -1000, 2.5, 1e-3, float("nan"), float("inf"), True, "abc", "100", [10]])
def test_check_shots_rejects(bad):
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        check_shots(bad)


def test_check_shots_accepts():
    assert check_shots(None) is None  # None = exact expectation, the documented escape hatch
    assert check_shots(1) == 1
    assert check_shots(1000.0) == 1000 and isinstance(check_shots(1000.0), int)
    assert check_shots(np.int64(64)) == 64


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_sample_energy_rejects_bad_concrete_shots(bad):
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        sample_energy(jax.random.PRNGKey(0), jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT), bad)


def test_unknown_variance_mode():
    with pytest.raises(ValueError, match="variance must be one of"):
        sample_energy(
            jax.random.PRNGKey(0), jnp.asarray(EV), jnp.asarray(W), jnp.asarray(IDENT), 10, variance="binomial"
        )
