"""Checkers for notebook 03 molecular Hamiltonians (``ex03_hamiltonians``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_float, call, checker, make_rng, random_pauli_sum


@checker
def check_ground_energy(ground_energy: Callable, seed: int | None = None) -> int:
    """``ground_energy(hamiltonian)`` -> the lowest eigenvalue of a :class:`PauliSum`."""
    from ..problems import load_problem

    rng = make_rng(seed)
    hams = [("H2-2q", load_problem("H2-2q").hamiltonian)]
    hams += [(f"a random {n}-qubit Hamiltonian", random_pauli_sum(rng, n)) for n in (1, 2, 3)]
    for name, ham in hams:
        want = ham.ground_energy()
        got = as_float(call(ground_energy, ham, show=name), f"the ground energy of {name}")
        if np.isclose(got, want, rtol=1e-8, atol=1e-8):
            continue
        if np.isclose(got, np.linalg.eigvalsh(ham.to_matrix())[-1]):
            raise Hint(f"for {name} you returned the HIGHEST eigenvalue; eigvalsh sorts ascending")
        raise Hint(f"wrong ground energy for {name}: build sum_k c_k pauli_matrix(P_k) and take its lowest eigenvalue")
    return len(hams)


@checker
def check_hf_energy(hf_energy: Callable, seed: int | None = None) -> int:
    """``hf_energy(hamiltonian, bitstring)`` -> ``<b|H|b>`` of a computational basis state."""
    from ..problems import load_problem
    from ..sim.circuit import Circuit
    from ..sim.simulator import expectation

    rng = make_rng(seed)
    cases = []
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
        got = as_float(call(hf_energy, ham, bits, show=f"bitstring {bits!r}"), f"the energy of |{bits}>")
        if np.isclose(got, want, rtol=1e-8, atol=1e-8):
            continue
        flipped = expectation(Circuit(ham.n_qubits), ham) if set(bits) == {"1"} else None
        if flipped is not None and np.isclose(got, flipped):
            raise Hint("bit '1' means the qubit is flipped: Z on it gives -1")
        raise Hint(
            f"wrong energy for |{bits}>: only I/Z strings contribute, each Z on a qubit in state 1 flips the sign "
            "(qubit 0 is the leftmost letter and the leftmost bit)"
        )
    return len(cases)
