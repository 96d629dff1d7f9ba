"""Checkers for notebook 02 noise channels (``ex02_noise_channels``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker, close


def _check_channel(fn: Callable, reference: Callable, values, what: str, formula: str) -> int:
    for v in values:
        want = reference(v)
        got, tol = as_array(call(fn, v, show=f"{what} = {v}"), (4, 4), f"the PTM for {what} = {v}")
        if not close(got, want, tol):
            if close(got, want.T, tol):
                raise Hint(f"for {what} = {v} you returned the transpose of the PTM (rows = output Paulis)")
            raise Hint(f"wrong PTM for {what} = {v}: {formula}")
    return len(values)


@checker(points=1)
def check_depolarizing_ptm(depolarizing_ptm: Callable, rng: np.random.Generator) -> int:
    """``depolarizing_ptm(p)`` -> the 4x4 PTM of ``rho -> (1-p) rho + p I/2``.

    Wrong answers:

    * ``Z untouched``: only X and Y shrink (caught by p = 0.6).
    * ``identity scaled``: ``(1-p)`` on the I entry too, which loses trace (caught by p = 0.6).
    * ``4p/3 convention``: ``1 - 4p/3``, the Cirq/PennyLane parameter (caught by p = 0.6).
    * ``p and 1-p swapped``: ``diag(1, p, p, p)`` (caught by p = 0 and p = 0.25).
    """
    from ..sim.noise import depolarizing_1q

    values = [0.0, 1.0, 0.6, 0.25, *np.round(rng.uniform(0, 1, 2), 4).tolist()]
    return _check_channel(
        depolarizing_ptm, depolarizing_1q, values, "p", "I stays, X, Y and Z components shrink by (1 - p)"
    )


@checker(points=2)
def check_amplitude_damping_ptm(amplitude_damping_ptm: Callable, rng: np.random.Generator) -> int:
    """``amplitude_damping_ptm(gamma)`` -> the 4x4 PTM of the amplitude-damping channel.

    Wrong answers:

    * ``unital``: the entry ``R[Z, I] = gamma`` is missing (caught by gamma = 0.3).
    * ``transpose``: gamma in ``R[I, Z]`` instead of ``R[Z, I]`` (caught by gamma = 0.3).
    * ``sqrt on Z``: Z shrinks by ``sqrt(1 - gamma)`` like X and Y (caught by gamma = 0.3).
    * ``no sqrt on X and Y``: X and Y shrink by ``1 - gamma`` (caught by gamma = 0.3).
    * ``towards |1>``: ``R[Z, I] = -gamma`` (caught by gamma = 0.3).
    """
    from ..sim.noise import amplitude_damping

    values = [0.0, 1.0, 0.3, *np.round(rng.uniform(0, 1, 3), 4).tolist()]
    return _check_channel(
        amplitude_damping_ptm,
        amplitude_damping,
        values,
        "gamma",
        "build it from the Kraus operators K0 = [[1,0],[0,sqrt(1-g)]], K1 = [[0,sqrt(g)],[0,0]]; "
        "note the non-zero entry R[Z, I] = gamma (the channel is not unital)",
    )


#: amplitude damping gamma and number of applications of the prediction exercise
DAMPING_GAMMA, DAMPING_TIMES = 0.2, 3


@checker(points=2, kind="predict", answer="value")
def check_damping_prediction(bloch: tuple, rng: np.random.Generator) -> int:
    """``bloch = (x, y, z)``: your prediction of the Bloch vector of |+> after amplitude damping with
    gamma = 0.2 applied three times, derived from the PTM by hand (3 decimals are enough).

    Wrong answers:

    * ``z unchanged``: the channel treated as unital (z stays 0).
    * ``x shrinks by 1 - gamma``: ``(1 - gamma)^3`` instead of ``(1 - gamma)^(3/2)`` for x.
    * ``one application``: the channel applied once.
    * ``towards |1>``: z negative.
    """
    from ..sim.noise import amplitude_damping

    got, _ = as_array(bloch, (3,), "your Bloch vector (x, y, z)")
    R = np.linalg.matrix_power(amplitude_damping(DAMPING_GAMMA), DAMPING_TIMES)
    want = (R @ np.array([1.0, 1.0, 0.0, 0.0]))[1:]
    if np.allclose(got, want, atol=2e-3):
        return 1
    if abs(got[2]) < 2e-3:
        raise Hint("z should not stay 0: amplitude damping is not unital, R[Z, I] = gamma pushes every state to |0>")
    if got[2] < 0:
        raise Hint("z should be positive: amplitude damping pulls towards |0>, where <Z> = +1")
    if not np.isclose(got[0], want[0], atol=2e-3):
        raise Hint("x: each application multiplies r_X by sqrt(1 - gamma); three of them give (1 - gamma)^(3/2)")
    raise Hint("z: each application maps r_Z -> (1 - gamma) r_Z + gamma; apply it three times starting from 0")
