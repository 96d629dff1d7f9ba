"""Shipped molecular problems: exact ground energies, particle sectors, HF data and metadata.

Every number is recomputed here from the shipped Pauli terms (dense numpy diagonalisation) and
compared with the file, the pyscf references stored in it, and the spec's table (§10).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from crlqas_kit.problems import CHEMICAL_ACCURACY, list_problems, load_problem
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.paulis import PauliSum, pauli_string
from crlqas_kit.sim.simulator import expectation

DATA = Path(__file__).resolve().parent.parent / "crlqas_kit" / "data" / "problems"
PROBLEMS = list_problems()

#: Spec §10 table (Hartree, 10 decimals).
SPEC_E0 = {
    "H2-2q": -1.1372701747,
    "H2-3q": -1.1372701747,
    "H2-4q": -1.1372701747,
    "H2-4q-0.7": -1.1361894541,
    "LiH-4q": -7.7890888981,
    "LiH-6q": -7.8448790930,
    "H2O-8q": -73.2941067468,
}

EXPECTED_PROBLEMS = {
    "H2-2q",
    "H2-3q",
    "H2-4q",
    "H2-4q-0.7",
    "LiH-4q",
    "LiH-6q",
    "LiH-4q-1.546",
    "LiH-6q-1.546",
    "H2O-8q",
    "H2O-8q-eq",
}

REQUIRED_METADATA = ("geometry", "basis", "active_space", "mapping", "provenance", "reference", "sector")


# ----------------------------------------------------------------------------- sector decoders
# Each decoder maps a computational basis state (tuple of bits, qubit 0 first) to the occupation
# numbers (alpha spin orbitals, beta spin orbitals), written from the mapping text in the files.
def _jw_interleaved(bits):
    return bits[0::2], bits[1::2]


def _per_spin_checksum(bits):
    q0, q1 = bits
    return (q0, 1 - q0), (q1, 1 - q1)


def _jw_parity_tapered(bits):
    n0a, n0b, n1a = bits
    return (n0a, n1a), (n0b, n0a ^ n0b ^ n1a)


def _parity_two_qubit_reduced(bits):
    b0, b1, b3, b4 = bits
    parities = (b0, b1, 1, b3, b4, 0)  # parity qubit 2 = N_alpha mod 2 = 1, parity qubit 5 = N mod 2 = 0
    occ = tuple(parities[k] ^ (parities[k - 1] if k else 0) for k in range(6))
    return occ[:3], occ[3:]


DECODERS = {
    "H2-2q": _per_spin_checksum,
    "H2-3q": _jw_parity_tapered,
    "H2-4q": _jw_interleaved,
    "H2-4q-0.7": _jw_interleaved,
    "LiH-4q": _parity_two_qubit_reduced,
    "LiH-4q-1.546": _parity_two_qubit_reduced,
    "LiH-6q": _jw_interleaved,
    "LiH-6q-1.546": _jw_interleaved,
    "H2O-8q": _jw_interleaved,
    "H2O-8q-eq": _jw_interleaved,
}


def _bits(index: int, n: int) -> tuple[int, ...]:
    return tuple((index >> (n - 1 - q)) & 1 for q in range(n))


@cache
def _raw(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def _dense(hamiltonian) -> np.ndarray:
    """Dense matrix built here from the conventions (not with the kit): qubit q is bit n-1-q of the
    basis index and ``P|x> = i^(#Y) (-1)^popcount(x & zmask) |x ^ xmask>``."""
    n = hamiltonian.n_qubits
    x = np.arange(2**n)
    out = np.zeros((2**n, 2**n), dtype=complex)
    for pauli, c in zip(hamiltonian.paulis, hamiltonian.coeffs, strict=True):
        xmask = sum(1 << (n - 1 - q) for q, ch in enumerate(pauli) if ch in "XY")
        zmask = sum(1 << (n - 1 - q) for q, ch in enumerate(pauli) if ch in "YZ")
        sign = 1 - 2 * (np.array([bin(v).count("1") for v in x & zmask]) % 2)
        out[x ^ xmask, x] += c * 1j ** pauli.count("Y") * sign
    return out


@cache
def _spectrum(name: str):
    h = _dense(load_problem(name).hamiltonian)
    assert np.allclose(h, h.conj().T, atol=1e-12)
    w, v = np.linalg.eigh(h)
    return h, w, v


#: Term count per qubit number: Hamiltonians are padded with zero-coefficient terms to this size
#: so that the simulator compiles once per qubit number, not once per problem (test speed only).
_PAD_TERMS = {}
for _name in PROBLEMS:
    _p = load_problem(_name)
    _PAD_TERMS[_p.n_qubits] = max(_PAD_TERMS.get(_p.n_qubits, 0), len(_p.hamiltonian))


def _padded(hamiltonian: PauliSum) -> PauliSum:
    terms = list(zip(hamiltonian.paulis, hamiltonian.coeffs.tolist(), strict=True))
    present = set(hamiltonian.paulis)
    n = hamiltonian.n_qubits
    k = 0
    while len(terms) < _PAD_TERMS[n]:
        s = pauli_string(k, n)
        if s not in present:
            terms.append((s, 0.0))
        k += 1
    return PauliSum.from_list(terms)


def _sector_mask(name: str) -> np.ndarray:
    p = load_problem(name)
    n = p.n_qubits
    n_e = p.metadata["n_electrons"]
    assert p.metadata["multiplicity"] == 1 and p.metadata["charge"] == 0
    target = (n_e // 2, n_e // 2)
    mask = []
    for x in range(2**n):
        alpha, beta = DECODERS[name](_bits(x, n))
        mask.append((sum(alpha), sum(beta)) == target)
    return np.array(mask)


# ----------------------------------------------------------------------------- catalogue
def test_list_problems_is_the_shipped_set():
    assert set(PROBLEMS) == EXPECTED_PROBLEMS
    assert sorted(PROBLEMS) == PROBLEMS
    assert set(DECODERS) == set(PROBLEMS)


def test_unknown_problem_lists_valid_names():
    with pytest.raises(ValueError, match="unknown problem") as info:
        load_problem("H3-5q")
    for name in PROBLEMS:
        assert name in str(info.value)
    with pytest.raises(TypeError):
        load_problem(None)


# ----------------------------------------------------------------------------- per problem
@pytest.mark.parametrize("name", PROBLEMS)
def test_e0_is_lowest_eigenvalue(name):
    p = load_problem(name)
    h, w, _ = _spectrum(name)
    assert abs(w[0] - p.e0) < 1e-9
    kit = p.hamiltonian.to_matrix()  # the kit's dense matrix agrees with the one built here
    assert np.abs(kit - h).max() < 1e-12
    assert abs(np.linalg.eigvalsh(kit)[0] - p.e0) < 1e-9
    assert p.e0 <= p.e_hf + 1e-12
    assert abs(p.e0 - p.metadata["reference"]["e_casci_pyscf"]) < 1e-8


@pytest.mark.parametrize("name", PROBLEMS)
def test_e0_lies_in_the_physical_particle_sector(name):
    p = load_problem(name)
    h, w, v = _spectrum(name)
    mask = _sector_mask(name)
    assert mask.any()
    if name != "H2-2q":  # the per-spin checksum code only has physical states
        assert not mask.all()
    # H conserves N_alpha and N_beta: no matrix element between the sector and the rest.
    assert np.abs(h[np.ix_(mask, ~mask)]).max(initial=0.0) < 1e-10
    e_sector = np.linalg.eigvalsh(h[np.ix_(mask, mask)])[0]
    assert abs(e_sector - p.e0) < 1e-9
    # the HF bitstring decodes to the same sector, with the lowest orbitals occupied per spin
    alpha, beta = DECODERS[name](tuple(int(b) for b in p.hf_bitstring))
    n_half = p.metadata["n_electrons"] // 2
    assert tuple(alpha) == (1,) * n_half + (0,) * (len(alpha) - n_half)
    assert tuple(beta) == (1,) * n_half + (0,) * (len(beta) - n_half)
    # the ground state found by full diagonalisation has (almost) all its weight in the sector,
    # or a sector state is degenerate with it
    weight = float(np.sum(np.abs(v[mask, 0]) ** 2))
    assert weight > 1 - 1e-9 or abs(w[1] - w[0]) < 1e-9


@pytest.mark.parametrize("name", PROBLEMS)
def test_hf_energy(name):
    p = load_problem(name)
    assert len(p.hf_bitstring) == p.n_qubits and set(p.hf_bitstring) <= {"0", "1"}
    assert abs(p.hamiltonian.diagonal_energy(p.hf_bitstring) - p.e_hf) < 1e-10
    # <b|H|b> from the dense matrix, independently of diagonal_energy
    h, _, _ = _spectrum(name)
    k = int(p.hf_bitstring, 2)
    assert abs(h[k, k].real - p.e_hf) < 1e-10
    assert abs(p.e_hf - p.metadata["reference"]["e_rhf_pyscf"]) < 1e-8


@pytest.mark.parametrize("name", PROBLEMS)
def test_simulated_hf_circuit_energy(name):
    p = load_problem(name)
    ham = _padded(p.hamiltonian)
    assert len(ham) == _PAD_TERMS[p.n_qubits] and ham.constant == p.hamiltonian.constant
    circuit = Circuit(p.n_qubits, capacity=8)
    for q, b in enumerate(p.hf_bitstring):
        if b == "1":
            circuit = circuit.x(q)
    assert abs(expectation(circuit, ham) - p.e_hf) < 1e-10
    # and the same via the initial-state argument
    assert abs(expectation(Circuit(p.n_qubits, capacity=8), ham, initial=p.hf_bitstring) - p.e_hf) < 1e-10


@pytest.mark.parametrize("name", PROBLEMS)
def test_terms_match_the_file(name):
    p = load_problem(name)
    raw = _raw(name)
    assert raw["name"] == name
    assert p.n_qubits == raw["n_qubits"]
    assert len(p.hamiltonian) == len(raw["terms"])
    assert len({t[0] for t in raw["terms"]}) == len(raw["terms"]), "duplicate Pauli strings in the file"
    assert dict(zip(p.hamiltonian.paulis, p.hamiltonian.coeffs.tolist(), strict=True)) == {
        s: float(c) for s, c in raw["terms"]
    }
    identity = "I" * p.n_qubits
    assert identity in p.hamiltonian.paulis
    assert p.hamiltonian.constant == dict(raw["terms"])[identity]
    assert p.e0 == raw["e0"] and p.e_hf == raw["e_hf"] and p.hf_bitstring == raw["hf_bitstring"]
    s = p.summary()
    assert (s["name"], s["n_qubits"], s["n_terms"]) == (name, raw["n_qubits"], len(raw["terms"]))


@pytest.mark.parametrize("name", PROBLEMS)
def test_metadata_present(name):
    p = load_problem(name)
    for key in REQUIRED_METADATA:
        assert p.metadata.get(key), f"{name}: metadata {key!r} missing or empty"
    assert p.metadata["basis"] == "sto-3g"
    assert p.metadata["geometry_units"] in ("angstrom", "bohr")
    for atom in p.metadata["geometry"]:
        assert isinstance(atom[0], str) and len(atom) == 4 and all(math.isfinite(x) for x in atom[1:])
    space = p.metadata["active_space"]
    for key in ("frozen_orbitals", "active_orbitals", "removed_orbitals", "n_active_electrons"):
        assert key in space
    assert space["n_active_electrons"] == p.metadata["n_electrons"]
    assert "make_problems.py" in p.metadata["provenance"]
    assert p.chemical_accuracy == CHEMICAL_ACCURACY == 1.6e-3


@pytest.mark.parametrize("name", sorted(SPEC_E0))
def test_spec_table_e0(name):
    p = load_problem(name)
    assert abs(p.e0 - SPEC_E0[name]) < 1e-8
    assert abs(p.metadata["reference"]["e0_spec"] - SPEC_E0[name]) < 1e-12


def _distance(geometry, i, j):
    return float(np.linalg.norm(np.subtract(geometry[i][1:], geometry[j][1:])))


@pytest.mark.parametrize(
    ("name", "bond", "qubits", "frozen", "active"),
    [
        ("H2-2q", 0.7414, 2, [], [0, 1]),
        ("H2-3q", 0.7414, 3, [], [0, 1]),
        ("H2-4q", 0.7414, 4, [], [0, 1]),
        ("H2-4q-0.7", 0.7, 4, [], [0, 1]),
        ("LiH-4q", 3.4, 4, [0], [1, 2, 5]),
        ("LiH-6q", 2.2, 6, [0], [1, 2, 5]),
        ("LiH-4q-1.546", 1.546, 4, [0], [1, 2, 5]),
        ("LiH-6q-1.546", 1.546, 6, [0], [1, 2, 5]),
    ],
)
def test_diatomic_definitions_match_spec(name, bond, qubits, frozen, active):
    p = load_problem(name)
    assert p.n_qubits == qubits
    assert p.metadata["geometry_units"] == "angstrom"
    assert abs(_distance(p.metadata["geometry"], 0, 1) - bond) < 1e-9
    assert p.metadata["active_space"]["frozen_orbitals"] == frozen
    assert p.metadata["active_space"]["active_orbitals"] == active


def test_water_definitions_match_spec():
    paper = load_problem("H2O-8q")
    assert paper.metadata["geometry_units"] == "bohr"
    assert [a[0] for a in paper.metadata["geometry"]] == ["H", "O", "H"]
    assert np.allclose(
        [a[1:] for a in paper.metadata["geometry"]], [[-0.021, -0.002, 0], [0.835, 0.452, 0], [1.477, -0.273, 0]]
    )
    eq = load_problem("H2O-8q-eq")
    geo = eq.metadata["geometry"]
    assert eq.metadata["geometry_units"] == "angstrom" and geo[0][0] == "O"
    oh1, oh2 = _distance(geo, 0, 1), _distance(geo, 0, 2)
    assert abs(oh1 - 0.9584) < 1e-6 and abs(oh2 - 0.9584) < 1e-6
    v1, v2 = np.subtract(geo[1][1:], geo[0][1:]), np.subtract(geo[2][1:], geo[0][1:])
    angle = math.degrees(math.acos(np.dot(v1, v2) / (oh1 * oh2)))
    assert abs(angle - 104.45) < 1e-4
    for p in (paper, eq):
        assert p.n_qubits == 8
        assert p.metadata["active_space"]["frozen_orbitals"] == [0, 1, 2]
        assert p.metadata["active_space"]["active_orbitals"] == [3, 4, 5, 6]
        assert p.metadata["n_electrons"] == 4


def test_as_problem_takes_a_problem_or_a_name():
    from crlqas_kit.problems import as_problem

    problem = load_problem("H2-2q")
    assert as_problem(problem) is problem and as_problem("H2-2q").e0 == problem.e0
    with pytest.raises(TypeError, match="problem must be a Problem or a problem name, got int"):
        as_problem(3)
    with pytest.raises(ValueError, match="unknown problem 'H9'"):
        as_problem("H9")


def test_lih_6q_hartree_fock_is_stationary_for_one_gate():
    """docs/results.md (thirteenth session), from the Hamiltonian's matrix alone (qubit 0 is the
    most significant bit): no single rotation on LiH-6q's Hartree-Fock state has a gradient (each
    one-bit flip of it has zero coupling to it: the flip changes the particle number, and for a
    real matrix the RX cross term is imaginary anyway), and no CNOT lowers its energy (a CNOT maps
    it to a basis state; with the control empty, to itself)."""
    p = load_problem("LiH-6q")
    matrix, n, hf = np.asarray(p.hamiltonian.to_matrix()).real, 6, int(p.hf_bitstring, 2)
    assert matrix[hf, hf] == pytest.approx(p.e_hf, abs=1e-10)
    assert all(abs(matrix[hf, hf ^ (1 << (n - 1 - q))]) < 1e-12 for q in range(n))
    changes = []
    for c in range(n):
        for t in range(n):
            if c != t:
                control_set = hf >> (n - 1 - c) & 1
                image = hf ^ (1 << (n - 1 - t)) if control_set else hf
                changes.append(matrix[image, image] - matrix[hf, hf])
    changes = np.array(changes)
    assert changes.min() > -1e-12 and (np.abs(changes) < 1e-12).sum() == 20 and (changes > 1e-3).sum() == 10
