"""Checkers for notebook 08 noise robustness (``ex08_noise``): predict, then measure, the cost of
depolarizing noise per gate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._harness import Hint, Marks, as_float, call, checker, choice, close, random_circuit, random_pauli_sum

#: The noise strength of the prediction exercise and the two specs it is measured with.
P_NOISE = 0.01
SPECS = {"p1": "depolarizing:p1={p}", "p2": "depolarizing-cnot:p1=0,p2={p}"}


def h2_ansatz():
    """The shipped two-gate H2-2q ansatz (RY on qubit 0, then CNOT(0, 1)) and its problem."""
    from .. import load_problem
    from ..sim.qasm import load_qasm

    return load_qasm(Path(__file__).resolve().parents[1] / "data" / "circuits" / "H2-2q-ansatz.qasm"), load_problem(
        "H2-2q"
    )


@checker(points=1, kind="predict", answer="value")
def check_depolarizing_rule(letter: str, rng: np.random.Generator) -> int:
    """``letter``: which components of a two-qubit Pauli vector does D(p) on qubit 1 change, and how?

    (a) every non-identity component shrinks by (1 - p);
    (b) the components with X, Y or Z on qubit 1 shrink by (1 - p), the others stay;
    (c) every component shrinks by (1 - p)^w, w its number of non-identity letters;
    (d) only the components with Z on qubit 1 change.

    Wrong answers:

    * ``a``: the two-qubit depolarizing channel, not a one-qubit channel on qubit 1.
    * ``c``: a channel on BOTH qubits.
    * ``d``: a dephasing-like picture; depolarizing treats X, Y and Z alike.
    """
    got = choice(letter, "abcd")
    if got == "b":
        return 1
    raise Hint(
        {
            "a": "(a) is the two-qubit depolarizing channel: a channel on qubit 1 cannot touch the letters of qubit 0",
            "c": "(c) is depolarizing on both qubits; here only qubit 1 is hit",
            "d": "(d): depolarizing shrinks X, Y and Z alike (the PTM is diag(1, 1-p, 1-p, 1-p))",
        }[got]
    )


def _reference_noisy_energy(r: np.ndarray, hamiltonian, ps) -> float:
    from ..sim.noise import depolarizing_1q
    from ..sim.paulis import pauli_index

    R = np.ones((1, 1))
    for p in ps:
        R = np.kron(R, depolarizing_1q(p))
    noisy = R @ r
    return float(sum(c * noisy[pauli_index(s)] for s, c in zip(hamiltonian.paulis, hamiltonian.coeffs, strict=True)))


@checker(points=2)
def check_noisy_energy(noisy_energy: Callable, rng: np.random.Generator) -> int:
    """``noisy_energy(r, hamiltonian, ps)`` -> the energy after a layer of one-qubit depolarizing
    channels D(ps[q]) on every qubit q, from the noiseless Pauli vector ``r``: every term c_P r_P
    shrinks by the product of (1 - ps[q]) over the qubits where P has X, Y or Z.

    Wrong answers:

    * ``global depolarizing``: every non-identity term shrinks by (1 - p) once (caught by ps = (0.4, 0.4)
      and a weight-2 term).
    * ``first order``: ``1 - w p`` instead of ``(1 - p)^w`` (caught by ps = (0.4, 0.4)).
    * ``identity scaled``: the constant shrinks too (caught by every case).
    * ``qubit order reversed``: ps[0] applied to the last letter (caught by ps = (0.1, 0.4) on an
      asymmetric state).
    * ``p instead of 1 - p``: terms multiplied by p (caught by every case).
    """
    from ..sim.circuit import Circuit
    from ..sim.simulator import pauli_vector

    circuit, problem = h2_ansatz()
    cases = [
        (pauli_vector(circuit), problem.hamiltonian, (0.4, 0.4)),
        (pauli_vector(Circuit(2).ry(0, 0.9).rx(1, 0.4).cx(0, 1)), random_pauli_sum(np.random.default_rng(3), 2, 8),
         (0.1, 0.4)),
    ]  # fmt: skip
    for n in (1, 2, 3):
        c = random_circuit(rng, n)
        cases.append((pauli_vector(c), random_pauli_sum(rng, n, 8), tuple(np.round(rng.uniform(0, 0.5, n), 3))))
    for r, ham, ps in cases:
        want = _reference_noisy_energy(r, ham, ps)
        got, tol = as_float(call(noisy_energy, r.copy(), ham, list(ps), show=f"ps = {list(ps)}"), "the noisy energy")
        if close(got, want, tol):
            continue
        raise Hint(
            f"for ps = {list(ps)}: E = sum_P c_P r_P prod_(q: P[q] != I) (1 - ps[q]); the identity term is untouched "
            "and qubit 0 is the leftmost letter"
        )
    return len(cases)


def measured_shifts(p: float = P_NOISE) -> dict[str, float]:
    """E(noisy) - E(noiseless) of the H2 ansatz under each spec of :data:`SPECS` at strength ``p``."""
    from ..sim.simulator import expectation

    circuit, problem = h2_ansatz()
    clean = expectation(circuit, problem.hamiltonian)
    return {k: expectation(circuit, problem.hamiltonian, s.format(p=p)) - clean for k, s in SPECS.items()}


@checker(points=3, kind="predict", answer="value")
def check_noise_prediction(prediction: dict, rng: np.random.Generator, measured: dict | None = None) -> Marks:
    """``prediction = {"p1": dE1, "p2": dE2}``: the energy shift E(p) - E(0) of the H2 ansatz that you
    PREDICTED from the PTM picture (before measuring) for depolarizing p1 = 0.01 after the rotation,
    and p2 = 0.01 on both qubits after the CNOT. ``measured``: the same two shifts measured with
    ``ck.expectation`` (1 point); the prediction must be within 1.5 % of the measurement (2 points).

    Wrong answers:

    * ``noise at the end``: p1's factor applied by the final string's letter on qubit 0, as if the
      error happened after the CNOT (half the true shift).
    * ``two-qubit depolarizing``: p2 shrinking every non-identity term once (3.5 % too small).
    * ``identity scaled``: the constant c_I shrunk too.
    * ``sign flipped``: noise lowering the energy.
    * ``energy instead of shift`` (measured): E(p) instead of E(p) - E(0).
    """
    want = measured_shifts()
    points, messages = 0.0, []
    if measured is None:
        messages.append("pass your measurement too: check_noise_prediction(prediction, measured)")
    else:
        try:
            ok = _compare_shifts(measured, want, "measured", rtol=1e-6)
        except Hint as hint:
            messages.append(f"measurement: {hint}")
        else:
            points += 1
            messages.append(f"measurement: {ok}")
    try:
        ok = _compare_shifts(prediction, want, "prediction", rtol=0.015)
    except Hint as hint:
        messages.append(f"prediction: {hint}")
    else:
        points += 2
        messages.append(f"prediction: {ok}")
    return Marks(points, tuple(messages))


def _compare_shifts(answer, want: dict, what: str, rtol: float) -> str:
    if answer is Ellipsis:
        raise Hint("not answered yet: replace the `...`")
    if not isinstance(answer, dict) or set(answer) != set(want):
        raise Hint(f"your {what} should be a dict with the keys 'p1' and 'p2'")
    for key, w in want.items():
        got, _ = as_float(answer[key], f"your {what}['{key}']")
        if abs(got - w) <= rtol * abs(w):
            continue
        if got < 0:
            raise Hint(f"{key}: depolarizing mixes the state, and mixing the ground state RAISES the energy")
        if what == "measured" and abs(got) > 0.5:
            raise Hint(f"{key}: that looks like the energy itself; measure the shift E(p) - E(0)")
        if what == "prediction" and key == "p1":
            raise Hint(
                "p1: the error happens BEFORE the CNOT; the CNOT then moves it. A final string P was the string "
                "CNOT·P·CNOT before the CNOT: its letter on qubit 0 decides whether it shrinks"
            )
        if what == "prediction":
            raise Hint(
                "p2: after the CNOT each qubit gets its own D(p2): a term shrinks by (1 - p2) per non-identity "
                "letter; the constant never shrinks"
            )
        raise Hint(f"{key}: measure E with the spec {SPECS[key].format(p=P_NOISE)!r} minus the noiseless E")
    return (
        "within "
        + ("rounding" if rtol < 1e-3 else f"{rtol:.1%}")
        + " of "
        + ("the kit" if what == "measured" else "the measured shift")
    )
