"""Checkers for notebook 01 Pauli transfer matrices (``ex01_ptm``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import (
    Hint,
    as_array,
    as_float,
    call,
    checker,
    close,
    random_circuit,
    random_pauli_sum,
    random_unitary,
)


def _fixed_unitary(seed: int, dim: int) -> np.ndarray:
    return random_unitary(np.random.default_rng(seed), dim)


@checker(points=2)
def check_ptm(ptm: Callable, rng: np.random.Generator) -> int:
    """``ptm(U)`` -> the ``4^k x 4^k`` PTM ``R_PQ = Tr(P U Q U^dagger) / 2^k`` of a k-qubit unitary.

    Wrong answers:

    * ``transpose``: rows and columns swapped (caught by S, whose PTM is not symmetric).
    * ``conjugation reversed``: ``Tr(P U† Q U)``, the PTM of U† (caught by S).
    * ``no 1/2^k``: the trace without the normalisation (caught by every case).
    * ``qubit order reversed``: Pauli strings built with qubit 0 as the rightmost kron factor
      (caught by CNOT, which is not symmetric under swapping its qubits).
    """
    from ..sim.ptm import UNITARIES, ptm_from_unitary

    cases = [("H", UNITARIES["h"]), ("S", UNITARIES["s"]), ("CNOT", UNITARIES["cx"])]
    cases += [("a fixed random 4x4 unitary", _fixed_unitary(7, 4))]
    cases += [(f"a random {d}x{d} unitary", random_unitary(rng, d)) for d in (2, 4)]
    for name, u in cases:
        want = ptm_from_unitary(u)
        got, tol = as_array(call(ptm, u.copy(), show=name), want.shape, f"the PTM of {name}")
        if close(got, want, tol):
            continue
        k = int(np.log2(u.shape[0]))
        if close(got, want.T, tol):
            raise Hint(
                f"for {name} you returned the transpose (or used U† Q U): the row index is the OUTPUT Pauli P "
                "in Tr(P U Q U†)"
            )
        if close(got, want * 2**k, tol) or close(got * 2**k, want, tol):
            raise Hint(f"for {name} the scale is off by 2^k = {2**k}: R_PQ = Tr(P U Q U†) / 2^k")
        raise Hint(
            f"wrong PTM for {name}. Order the Paulis I, X, Y, Z (qubit 0 = leftmost kron factor) and use "
            "R[p, q] = Tr(P_p U P_q U†).real / 2^k"
        )
    return len(cases)


@checker(points=1)
def check_pauli_vector(pauli_vector: Callable, rng: np.random.Generator) -> int:
    """``pauli_vector(rho)`` -> ``r_P = Tr(P rho)`` for all ``4^n`` Pauli strings in index order.

    Wrong answers:

    * ``divided by 2^n``: the coefficients of rho in the Pauli basis instead of the traces (r_I != 1).
    * ``qubit order reversed``: qubit 0 as the least significant letter (caught by a fixed 2-qubit
      state that is not symmetric under swapping the qubits).
    """
    from ..sim.circuit import Circuit
    from ..sim.simulator import density_matrix
    from ..sim.simulator import pauli_vector as kit_pauli_vector

    cases = [(Circuit(2).ry(0, 0.7).rx(1, 0.3), "none"), (Circuit(1).ry(0, 1.1), "amplitude-damping:gamma=0.3")]
    cases += [(random_circuit(rng, n), noise) for n, noise in ((1, "none"), (2, "depolarizing:p1=0.2"))]
    for circuit, noise in cases:
        n = circuit.n_qubits
        rho = density_matrix(circuit, noise)
        want = kit_pauli_vector(circuit, noise)
        got, tol = as_array(call(pauli_vector, rho.copy(), show=f"a {n}-qubit state"), want.shape, "the Pauli vector")
        if close(got, want, tol):
            continue
        if close(got * 2**n, want, tol):
            raise Hint(f"off by a factor 2^n = {2**n}: r_P = Tr(P rho) without dividing by 2^n (so r_I = 1)")
        if not np.isclose(got[0], 1.0):
            raise Hint(f"r_I = Tr(rho) should be 1, got {got[0]:.4g}")
        raise Hint(
            "wrong entries: use the order I, X, Y, Z per qubit with qubit 0 the most significant "
            "(e.g. pauli_matrix(pauli_string(i, n)) for index i)"
        )
    return len(cases)


@checker(points=1)
def check_pauli_energy(energy: Callable, rng: np.random.Generator) -> int:
    """``energy(r, hamiltonian)`` -> ``sum_k c_k r[index(P_k)]`` (the energy from a Pauli vector).

    Wrong answers:

    * ``identity term dropped``: the constant c_I is missing (caught by H2-2q, whose c_I = -0.34).
    * ``qubit order reversed``: the index of the reversed string (caught by a fixed asymmetric state).
    """
    from ..problems import load_problem
    from ..sim.circuit import Circuit
    from ..sim.simulator import expectation, pauli_vector

    noise = "depolarizing:p1=0.05"
    cases = [(Circuit(2).ry(0, 0.7).rx(1, 0.3).cx(0, 1), load_problem("H2-2q").hamiltonian)]
    for n in (1, 2, 3):
        cases.append((random_circuit(rng, n), random_pauli_sum(rng, n, n_terms=min(4**n, 6))))
    for circuit, ham in cases:
        n = circuit.n_qubits
        r = pauli_vector(circuit, noise)
        want = expectation(circuit, ham, noise)
        got, tol = as_float(call(energy, r.copy(), ham, show=f"a {n}-qubit Hamiltonian"), "the energy")
        if close(got, want, tol):
            continue
        if close(got, want - ham.constant, tol):
            raise Hint("the identity term is missing: its coefficient multiplies r_I = 1")
        raise Hint("E = sum_k c_k * r[pauli_index(P_k)] over zip(hamiltonian.paulis, hamiltonian.coeffs)")
    return len(cases)


CNOT_INPUTS = ("YI", "IY", "XZ", "YY", "XX")


def _images(u: np.ndarray) -> dict[str, str]:
    from ..sim.paulis import pauli_index, pauli_string
    from ..sim.ptm import ptm_from_unitary

    R = ptm_from_unitary(u)
    out = {}
    for p in CNOT_INPUTS:
        col = R[:, pauli_index(p)]
        i = int(np.argmax(np.abs(col)))
        out[p] = ("+" if col[i] > 0 else "-") + pauli_string(i, 2)
    return out


def _signed(value, key: str) -> str:
    if not isinstance(value, str):
        raise Hint(f"the image of {key} should be a string like '-XY' or '+ZI', got {value!r}")
    s = value.strip().upper().replace(" ", "")
    if s and s[0] not in "+-":
        s = "+" + s
    if len(s) != 3 or any(ch not in "IXYZ" for ch in s[1:]):
        raise Hint(f"the image of {key} should be a sign and two letters, e.g. '-XY', got {value!r}")
    return s


@checker(points=2, kind="predict", answer="value")
def check_cnot_images(images: dict, rng: np.random.Generator) -> int:
    """``images``: your prediction ``{"YI": "+YX", ...}`` of where CNOT(0, 1) sends the Pauli strings
    ``YI, IY, XZ, YY, XX`` (``U P U†``, with its sign), worked out by hand from the rules
    ``XI -> XX``, ``IZ -> ZZ``, ``ZI -> ZI``, ``IX -> IX`` and ``Y = iXZ``.

    Wrong answers:

    * ``signs dropped``: every image with a + sign (XZ and YY pick up a minus sign).
    * ``control and target swapped``: X spreading from the target and Z from the control (the rules
      of CNOT(1, 0)).
    """
    from ..sim.ptm import UNITARIES

    if not isinstance(images, dict):
        raise Hint(f"answer with a dict {{'YI': '+YX', ...}}, got a {type(images).__name__}")
    missing = [p for p in CNOT_INPUTS if p not in images]
    if missing:
        raise Hint(f"your dict has no entry for {', '.join(missing)}")
    want = _images(UNITARIES["cx"])
    swap = np.eye(4)[[0, 2, 1, 3]]
    swapped = _images(swap @ UNITARIES["cx"] @ swap)
    got = {p: _signed(images[p], p) for p in CNOT_INPUTS}
    wrong = [p for p in CNOT_INPUTS if got[p] != want[p]]
    if not wrong:
        return len(CNOT_INPUTS)
    if all(got[p][1:] == want[p][1:] for p in CNOT_INPUTS):
        raise Hint(f"the strings are right but the sign of {', '.join(wrong)} is not: write Y = iXZ and multiply out")
    if sum(got[p] == swapped[p] for p in CNOT_INPUTS) > sum(got[p] == want[p] for p in CNOT_INPUTS):
        raise Hint("control and target are swapped: X spreads from the control (qubit 0), Z from the target")
    raise Hint(f"{len(wrong)} of {len(CNOT_INPUTS)} images are wrong ({', '.join(wrong)})")
