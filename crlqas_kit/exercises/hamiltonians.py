"""Checkers for notebook 03 molecular Hamiltonians (``ex03_hamiltonians``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_float, call, checker, close, random_pauli_sum


def _fixed_hamiltonian():
    from ..sim.paulis import PauliSum

    return PauliSum.from_list([("II", 0.5), ("ZI", 0.3), ("IZ", -0.7), ("XX", 0.2), ("ZZ", 0.1)])


@checker(points=1)
def check_ground_energy(ground_energy: Callable, rng: np.random.Generator) -> int:
    """``ground_energy(hamiltonian)`` -> the lowest eigenvalue of a :class:`PauliSum`.

    Wrong answers:

    * ``highest eigenvalue``: ``eigvalsh(...)[-1]`` (caught by H2-2q).
    * ``identity dropped``: the spectrum of H without its constant (caught by H2-2q, c_I = -0.34).
    * ``best bitstring``: the smallest diagonal entry, i.e. E_HF (caught by H2-2q, E_HF > E0).
    """
    from ..problems import load_problem

    hams = [("H2-2q", load_problem("H2-2q").hamiltonian), ("a fixed 2-qubit Hamiltonian", _fixed_hamiltonian())]
    hams += [(f"a random {n}-qubit Hamiltonian", random_pauli_sum(rng, n)) for n in (1, 2, 3)]
    for name, ham in hams:
        want = ham.ground_energy()
        got, tol = as_float(call(ground_energy, ham, show=name), f"the ground energy of {name}")
        if close(got, want, tol):
            continue
        if close(got, np.linalg.eigvalsh(ham.to_matrix())[-1], tol):
            raise Hint(f"for {name} you returned the HIGHEST eigenvalue; eigvalsh sorts ascending")
        if close(got, want - ham.constant, tol):
            raise Hint(f"for {name} the identity term is missing: it shifts every eigenvalue by c_I")
        if close(got, np.min(np.diag(ham.to_matrix()).real), tol):
            raise Hint(
                f"for {name} that is the best bitstring (the smallest diagonal entry), not the lowest eigenvalue"
            )
        raise Hint(f"wrong ground energy for {name}: build sum_k c_k pauli_matrix(P_k) and take its lowest eigenvalue")
    return len(hams)


@checker(points=1)
def check_hf_energy(hf_energy: Callable, rng: np.random.Generator) -> int:
    """``hf_energy(hamiltonian, bitstring)`` -> ``<b|H|b>`` of a computational basis state.

    Wrong answers:

    * ``bit order reversed``: qubit 0 read from the last bit (caught by a fixed Hamiltonian and "10").
    * ``Z sign flipped``: Z on a qubit in state 1 gives +1 (caught by the same case).
    * ``X and Y terms counted``: off-diagonal strings added with their coefficient (same case, XX).
    * ``constant dropped``: the identity term missing (caught by every case).
    """
    from ..problems import load_problem
    from ..sim.circuit import Circuit
    from ..sim.simulator import expectation

    cases = [(_fixed_hamiltonian(), "10")]
    for name in ("H2-2q", "LiH-4q"):
        p = load_problem(name)
        cases.append((p.hamiltonian, p.hf_bitstring))
    for n in (2, 3):
        cases.append((random_pauli_sum(rng, n), "".join(rng.choice(["0", "1"], size=n))))
    for ham, bits in cases:
        circuit = Circuit(ham.n_qubits)
        for q, b in enumerate(bits):
            if b == "1":
                circuit = circuit.x(q)
        want = expectation(circuit, ham)
        got, tol = as_float(call(hf_energy, ham, bits, show=f"bitstring {bits!r}"), f"the energy of |{bits}>")
        if close(got, want, tol):
            continue
        if close(got, want - ham.constant, tol):
            raise Hint("the identity term (the constant) is missing")
        raise Hint(
            f"wrong energy for |{bits}>: only I/Z strings contribute, each Z on a qubit in state 1 flips the sign "
            "(qubit 0 is the leftmost letter and the leftmost bit)"
        )
    return len(cases)


@checker(points=1, kind="predict", answer="value")
def check_mixed_state_energy(energy: float, rng: np.random.Generator) -> int:
    """``energy``: your prediction of the energy of the maximally mixed state ``I / 16`` for LiH-4q
    (what full depolarization leaves), derived before computing anything (within 1 mHa).

    Wrong answers:

    * ``zero``: the mixed state has no energy.
    * ``sum of coefficients``: every Pauli counted with expectation 1.
    * ``E_HF``: the Hartree-Fock energy.
    * ``E0``: the ground energy.
    """
    from ..problems import load_problem

    p = load_problem("LiH-4q")
    got, _ = as_float(energy, "your predicted energy")
    want = p.hamiltonian.constant
    if abs(got - want) < 1e-3:
        return 1
    if abs(got - p.e0) < 1e-3 or abs(got - p.e_hf) < 1e-3:
        raise Hint("the mixed state is not an eigenstate: Tr(P I)/16 = 0 for every Pauli string P except one")
    raise Hint("Tr(P)/2^n = 0 for every Pauli string P != I: which single term of H survives?")
