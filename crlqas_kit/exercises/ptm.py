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
    make_rng,
    random_circuit,
    random_pauli_sum,
    random_unitary,
)


@checker
def check_ptm(ptm: Callable, seed: int | None = None) -> int:
    """``ptm(U)`` -> the ``4^k x 4^k`` PTM ``R_PQ = Tr(P U Q U^dagger) / 2^k`` of a k-qubit unitary."""
    from ..sim.ptm import UNITARIES, ptm_from_unitary

    rng = make_rng(seed)
    cases = [("H", UNITARIES["h"]), ("S", UNITARIES["s"]), ("CNOT", UNITARIES["cx"])]
    cases += [(f"a random {d}x{d} unitary", random_unitary(rng, d)) for d in (2, 2, 4)]
    for name, u in cases:
        want = ptm_from_unitary(u)
        got = as_array(call(ptm, u.copy(), show=name), want.shape, f"the PTM of {name}")
        if close(got, want):
            continue
        k = int(np.log2(u.shape[0]))
        if close(got, want.T):
            raise Hint(f"for {name} you returned the transpose: the row index is the OUTPUT Pauli P in Tr(P U Q U†)")
        if close(got, want * 2**k) or close(got * 2**k, want):
            raise Hint(f"for {name} the scale is off by 2^k = {2**k}: R_PQ = Tr(P U Q U†) / 2^k")
        raise Hint(
            f"wrong PTM for {name}. Order the Paulis I, X, Y, Z (qubit 0 = leftmost kron factor) and use "
            "R[p, q] = Tr(P_p U P_q U†).real / 2^k"
        )
    return len(cases)


@checker
def check_pauli_vector(pauli_vector: Callable, seed: int | None = None) -> int:
    """``pauli_vector(rho)`` -> ``r_P = Tr(P rho)`` for all ``4^n`` Pauli strings in index order."""
    from ..sim.simulator import density_matrix
    from ..sim.simulator import pauli_vector as kit_pauli_vector

    rng = make_rng(seed)
    n_cases = 0
    for n, noise in ((1, "none"), (1, "amplitude-damping:gamma=0.3"), (2, "none"), (2, "depolarizing:p1=0.2")):
        circuit = random_circuit(rng, n)
        rho = density_matrix(circuit, noise)
        want = kit_pauli_vector(circuit, noise)
        got = as_array(call(pauli_vector, rho.copy(), show=f"a {n}-qubit state"), want.shape, "the Pauli vector")
        n_cases += 1
        if close(got, want):
            continue
        if close(got * 2**n, want):
            raise Hint(f"off by a factor 2^n = {2**n}: r_P = Tr(P rho) without dividing by 2^n (so r_I = 1)")
        if not np.isclose(got[0], 1.0):
            raise Hint(f"r_I = Tr(rho) should be 1, got {got[0]:.4g}")
        raise Hint(
            "wrong entries: use the order I, X, Y, Z per qubit with qubit 0 the most significant "
            "(e.g. pauli_matrix(pauli_string(i, n)) for index i)"
        )
    return n_cases


@checker
def check_pauli_energy(energy: Callable, seed: int | None = None) -> int:
    """``energy(r, hamiltonian)`` -> ``sum_k c_k r[index(P_k)]`` (the energy from a Pauli vector)."""
    from ..sim.simulator import expectation, pauli_vector

    rng = make_rng(seed)
    n_cases = 0
    for n in (1, 2, 2, 3):
        circuit = random_circuit(rng, n)
        ham = random_pauli_sum(rng, n, n_terms=min(4**n, 6))
        r = pauli_vector(circuit, "depolarizing:p1=0.05")
        want = expectation(circuit, ham, "depolarizing:p1=0.05")
        got = as_float(call(energy, r.copy(), ham, show=f"a {n}-qubit Hamiltonian"), "the energy")
        n_cases += 1
        if np.isclose(got, want, rtol=1e-6, atol=1e-8):
            continue
        if np.isclose(got, want - ham.constant, rtol=1e-6, atol=1e-8):
            raise Hint("the identity term is missing: its coefficient multiplies r_I = 1")
        raise Hint("E = sum_k c_k * r[pauli_index(P_k)] over zip(hamiltonian.paulis, hamiltonian.coeffs)")
    return n_cases
