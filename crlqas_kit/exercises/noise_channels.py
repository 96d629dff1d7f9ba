"""Checkers for notebook 02 noise channels (``ex02_noise_channels``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker, close, make_rng


def _check_channel(fn: Callable, reference: Callable, values, what: str, formula: str) -> int:
    for v in values:
        want = reference(v)
        got = as_array(call(fn, v, show=f"{what} = {v}"), (4, 4), f"the PTM for {what} = {v}")
        if not close(got, want):
            if close(got, want.T):
                raise Hint(f"for {what} = {v} you returned the transpose of the PTM (rows = output Paulis)")
            raise Hint(f"wrong PTM for {what} = {v}: {formula}")
    return len(values)


@checker
def check_depolarizing_ptm(depolarizing_ptm: Callable, seed: int | None = None) -> int:
    """``depolarizing_ptm(p)`` -> the 4x4 PTM of ``rho -> (1-p) rho + p I/2``."""
    from ..sim.noise import depolarizing_1q

    values = [0.0, 1.0, *np.round(make_rng(seed).uniform(0, 1, 4), 4).tolist()]
    return _check_channel(
        depolarizing_ptm, depolarizing_1q, values, "p", "I stays, X, Y and Z components shrink by (1 - p)"
    )


@checker
def check_amplitude_damping_ptm(amplitude_damping_ptm: Callable, seed: int | None = None) -> int:
    """``amplitude_damping_ptm(gamma)`` -> the 4x4 PTM of the amplitude-damping channel."""
    from ..sim.noise import amplitude_damping

    values = [0.0, 1.0, *np.round(make_rng(seed).uniform(0, 1, 4), 4).tolist()]
    return _check_channel(
        amplitude_damping_ptm,
        amplitude_damping,
        values,
        "gamma",
        "build it from the Kraus operators K0 = [[1,0],[0,sqrt(1-g)]], K1 = [[0,sqrt(g)],[0,0]]; "
        "note the non-zero entry R[Z, I] = gamma (the channel is not unital)",
    )
