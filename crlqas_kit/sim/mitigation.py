"""Readout-error mitigation: the per-qubit confusion inverted on measured Pauli expectations.

The readout model (:func:`crlqas_kit.sim.noise.readout_map`) flips each qubit's measured bit
independently: ``p10 = p(read 1 | true 0)``, ``p01 = p(read 0 | true 1)``. For one qubit's
``+-1`` outcome ``z`` the read outcome ``z'`` has ``E[z' | z] = a z + b`` with

    ``a = 1 - p01 - p10``,   ``b = p01 - p10``.

A Pauli term ``P`` with support ``S`` is measured (after its basis change) as the product of the
outcomes on ``S``, so its measured expectation mixes in the lower-weight strings of the same shots.
An experiment that knows ``a_q, b_q`` (calibrated on the basis states) corrects each shot:

    ``X = prod_{q in S} (z'_q - b_q) / a_q``,   ``E[X] = <P>``  (the readout-free expectation).

Expanded over subsets, ``E[X]`` is the measured Pauli vector with the inverse per-qubit map
``r_P -> (r_P - b r_{P with q -> I}) / a`` applied on every qubit: :func:`unfolding_maps`. The
correction costs variance: since ``z'^2 = 1``,

    ``E[X^2] = prod_{q in S} (1 + b_q^2 - 2 b_q z'_q) / a_q^2``,

again a per-qubit map of the measured Pauli vector (:func:`moment_maps`), and a term measured
with ``N`` shots has variance ``(E[X^2] - <P>^2) / N`` (``1 / prod a_q^2`` times larger than
without errors when ``b = 0``). The ``"published"`` shot model (``1 / N`` per term, an upper
bound that ignores ``<P>``) becomes the bound ``max X^2 / N = prod_q ((1 + |b_q|) / a_q)^2 / N``
(:func:`bound_gains`).

Limits: the calibration is assumed exact (the model's own ``p10, p01``; no calibration shots, no
drift) and the readout errors uncorrelated between qubits (a tensor-product confusion matrix);
only readout is corrected, gate noise stays; the variance grows as ``prod 1 / a_q^2`` with a
term's weight. See ``docs/devices.md``, "Readout-error mitigation".
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from . import ptm_engine


def _coefficients(readout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` per qubit from the ``(n, 4, 4)`` readout maps (``a = M[1, 1]``, ``b = M[1, 0]``)."""
    readout = np.asarray(readout, dtype=np.float64)
    a, b = readout[:, 1, 1], readout[:, 1, 0]
    bad = np.flatnonzero(a <= 1e-9)
    if bad.size:
        raise ValueError(
            f"readout error cannot be mitigated on qubit(s) {bad.tolist()}: p01 + p10 = {(1 - a[bad]).tolist()} "
            "(mitigation needs p01 + p10 < 1: a readout that loses all information cannot be inverted)"
        )
    return a, b


def _letter_maps(diagonal: np.ndarray, first_column: np.ndarray) -> np.ndarray:
    """``(n, 4, 4)`` maps with ``M[0, 0] = 1``, ``M[P, P] = diagonal``, ``M[P, 0] = first_column`` (P != I)."""
    n = diagonal.shape[0]
    maps = np.zeros((n, 4, 4))
    maps[:, 0, 0] = 1.0
    for p in range(1, 4):
        maps[:, p, p] = diagonal
        maps[:, p, 0] = first_column
    return maps


def unfolding_maps(readout: np.ndarray) -> np.ndarray:
    """``(n, 4, 4)`` inverses of the readout maps: ``r_P -> (r_P - b r_{P\\q}) / a`` per qubit."""
    a, b = _coefficients(readout)
    return _letter_maps(1.0 / a, -b / a)


def moment_maps(readout: np.ndarray) -> np.ndarray:
    """``(n, 4, 4)`` maps taking the measured Pauli vector to ``E[X_P^2]`` of the corrected
    single-shot estimator: ``r_P -> ((1 + b^2) r_{P\\q} - 2 b r_P) / a^2`` per qubit."""
    a, b = _coefficients(readout)
    return _letter_maps(-2.0 * b / a**2, (1.0 + b**2) / a**2)


def bound_gains(readout: np.ndarray, term_index: np.ndarray, n_qubits: int) -> np.ndarray:
    """``(K,)`` ``max X^2 = prod_{q in S} ((1 + |b_q|) / a_q)^2`` for each term (1 for the identity)."""
    a, b = _coefficients(readout)
    gain = ((1.0 + np.abs(b)) / a) ** 2
    digits = np.asarray(term_index)[:, None] // 4 ** np.arange(n_qubits - 1, -1, -1)[None, :] % 4
    return np.prod(np.where(digits != 0, gain[None, :], 1.0), axis=1)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Mitigation:
    """The arrays of readout-error mitigation for one evaluator (a pytree).

    Attributes:
        unfold: ``(n, 4, 4)`` :func:`unfolding_maps`.
        moments: ``(n, 4, 4)`` :func:`moment_maps`.
        gains: ``(K,)`` :func:`bound_gains` of the Hamiltonian's terms.
    """

    unfold: jnp.ndarray
    moments: jnp.ndarray
    gains: jnp.ndarray

    @classmethod
    def create(cls, readout: np.ndarray, term_index: np.ndarray, n_qubits: int) -> Mitigation:
        return cls(
            unfold=jnp.asarray(unfolding_maps(readout)),
            moments=jnp.asarray(moment_maps(readout)),
            gains=jnp.asarray(bound_gains(readout, term_index, n_qubits)),
        )

    def expectations(self, measured: jnp.ndarray) -> jnp.ndarray:
        """Corrected Pauli vector ``E[X_P]`` from the measured one, both ``(4,) * n``."""
        return ptm_engine.measure(measured, self.unfold)

    def second_moments(self, measured: jnp.ndarray) -> jnp.ndarray:
        """``E[X_P^2]`` of the corrected single-shot estimator for every Pauli string, ``(4,) * n``."""
        return ptm_engine.measure(measured, self.moments)
