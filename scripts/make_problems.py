#!/usr/bin/env python3
"""Build, verify and write the crlqas_kit molecular benchmark Hamiltonians.

Every problem of section 10 of the design spec is built from scratch:

1. pyscf RHF in STO-3G (tight convergence), with the sign of every MO fixed
   deterministically (see :func:`fix_mo_phases`);
2. frozen-core active-space integrals computed here from pyscf's AO integrals
   (:func:`active_space_integrals`) and packed into an openfermion
   ``InteractionOperator`` (constant = nuclear repulsion + frozen-core energy);
3. a fermion-to-qubit mapping, one function per mapping (``map_*``);
4. conversion to the project's Pauli-term list (qubit 0 = leftmost letter,
   real coefficients, |c| < 1e-12 dropped, identity first then lexicographic).

Before anything is written, each problem is VERIFIED and the script aborts
(exit status 1) on any failure:

* the mapped Hamiltonian, as a dense matrix built from the shipped Pauli
  terms, equals openfermion's independent sparse Jordan-Wigner matrix of the
  same fermion operator restricted to the code space (basis state b of the
  code <-> Fock state decode(b)), to 1e-10;
* E0 = lowest eigenvalue of the qubit Hamiltonian restricted to the
  (N_alpha, N_beta) sector equals pyscf's CASCI energy to 1e-8 Ha and the
  spec's table value (where given) to 1e-8 Ha;
* <HF|H|HF> of the HF bitstring (computed from the diagonal Pauli terms only)
  equals pyscf's RHF energy to 1e-8 Ha;
* the active-space integrals equal those produced by openfermionpyscf's
  ``compute_integrals`` + openfermion's ``get_active_space_integrals`` for the
  same SCF (1e-10), and an end-to-end openfermionpyscf ``run_pyscf`` gives the
  same E0 (1e-7, limited by run_pyscf's default SCF tolerance).  These
  cross-checks are skipped with a warning if openfermionpyscf is missing.

Usage::

    python scripts/make_problems.py                 # write crlqas_kit/data/problems/*.json
    python scripts/make_problems.py --out DIR       # write elsewhere
    python scripts/make_problems.py --check         # regenerate into a temp dir and compare
    python scripts/make_problems.py --only H2-4q    # a subset (repeatable)

The provenance date is taken from $SOURCE_DATE_EPOCH when set (reproducible
builds), else today's UTC date; ``--check`` ignores the provenance field.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

# Single-threaded BLAS/OpenMP: multithreaded reductions in the SCF and integral code change
# the last bits run to run, which would break byte-identical regeneration.  Must be set before
# numpy / pyscf are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import openfermion as of  # noqa: E402
import pyscf  # noqa: E402
from pyscf import ao2mo, gto, mcscf, scf  # noqa: E402

try:  # optional independent cross-check
    import openfermionpyscf  # noqa: F401
    from openfermionpyscf import run_pyscf
    from openfermionpyscf._run_pyscf import compute_integrals as ofpyscf_compute_integrals

    HAVE_OFPYSCF = True
except Exception:  # pragma: no cover - depends on the environment
    HAVE_OFPYSCF = False

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "crlqas_kit" / "data" / "problems"

DROP_TOL = 1e-12  # drop Pauli terms with |c| below this; max allowed imaginary part
ENERGY_TOL = 1e-8  # E0 vs CASCI, E_HF vs RHF, E0 vs spec
MATRIX_TOL = 1e-10  # mapped matrix vs reference matrix, integrals vs openfermionpyscf
E2E_TOL = 1e-7  # end-to-end openfermionpyscf run_pyscf (pyscf default SCF tolerance)
CHECK_TOL = 1e-10  # --check: coefficients and energies


class VerificationError(RuntimeError):
    """Raised when a generated problem fails a check."""


# --------------------------------------------------------------------------------------
# Problem definitions (spec section 10)
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProblemSpec:
    name: str
    molecule: str
    geometry: tuple  # ((symbol, x, y, z), ...)
    units: str  # "angstrom" or "bohr"
    frozen: tuple  # MO indices (0-based, energy order) kept doubly occupied
    active: tuple  # active MO indices
    removed: tuple  # virtual MO indices deleted from the problem
    n_active_electrons: int
    mapping: str  # key into MAPPINGS
    e0_spec: float | None  # spec table value (Ha), if any
    note: str = ""


def _h2(r: float) -> tuple:
    return (("H", 0.0, 0.0, 0.0), ("H", 0.0, 0.0, r))


def _lih(r: float) -> tuple:
    return (("Li", 0.0, 0.0, 0.0), ("H", 0.0, 0.0, r))


def _h2o_equilibrium() -> tuple:
    """Experimental equilibrium water: O at the origin, molecule in the xy plane,
    C2 axis along +y, O-H 0.9584 Angstrom, H-O-H 104.45 degrees (rounded to 1e-10 A)."""
    r, theta = 0.9584, math.radians(104.45)
    x = round(r * math.sin(theta / 2), 10)
    y = round(r * math.cos(theta / 2), 10)
    return (("O", 0.0, 0.0, 0.0), ("H", x, y, 0.0), ("H", -x, y, 0.0))


H2O_PAPER_BOHR = (("H", -0.021, -0.002, 0.0), ("O", 0.835, 0.452, 0.0), ("H", 1.477, -0.273, 0.0))

_LIH_AS = dict(frozen=(0,), active=(1, 2, 5), removed=(3, 4), n_active_electrons=2)
_H2_AS = dict(frozen=(), active=(0, 1), removed=(), n_active_electrons=2)
_H2O_AS = dict(frozen=(0, 1, 2), active=(3, 4, 5, 6), removed=(), n_active_electrons=4)

PROBLEMS: tuple[ProblemSpec, ...] = (
    ProblemSpec("H2-2q", "H2", _h2(0.7414), "angstrom", **_H2_AS, mapping="checksum_per_spin", e0_spec=-1.1372701747),
    ProblemSpec("H2-3q", "H2", _h2(0.7414), "angstrom", **_H2_AS, mapping="jw_parity_tapered", e0_spec=-1.1372701747),
    ProblemSpec("H2-4q", "H2", _h2(0.7414), "angstrom", **_H2_AS, mapping="jordan_wigner", e0_spec=-1.1372701747),
    ProblemSpec("H2-4q-0.7", "H2", _h2(0.7), "angstrom", **_H2_AS, mapping="jordan_wigner", e0_spec=-1.1361894541),
    ProblemSpec(
        "LiH-4q", "LiH", _lih(3.4), "angstrom", **_LIH_AS, mapping="parity_two_qubit_reduction", e0_spec=-7.7890888981
    ),
    ProblemSpec("LiH-6q", "LiH", _lih(2.2), "angstrom", **_LIH_AS, mapping="jordan_wigner", e0_spec=-7.8448790930),
    ProblemSpec(
        "LiH-4q-1.546", "LiH", _lih(1.546), "angstrom", **_LIH_AS, mapping="parity_two_qubit_reduction", e0_spec=None
    ),
    ProblemSpec("LiH-6q-1.546", "LiH", _lih(1.546), "angstrom", **_LIH_AS, mapping="jordan_wigner", e0_spec=None),
    ProblemSpec(
        "H2O-8q",
        "H2O",
        H2O_PAPER_BOHR,
        "bohr",
        **_H2O_AS,
        mapping="jordan_wigner",
        e0_spec=-73.2941067468,
        note="the paper's coordinates read as Bohr (a compressed molecule); "
        "this is the reading that reproduces the paper's E0",
    ),
    ProblemSpec(
        "H2O-8q-eq",
        "H2O",
        _h2o_equilibrium(),
        "angstrom",
        **_H2O_AS,
        mapping="jordan_wigner",
        e0_spec=None,
        note="experimental equilibrium geometry, O-H 0.9584 A, H-O-H 104.45 deg",
    ),
)


# --------------------------------------------------------------------------------------
# Electronic structure (pyscf)
# --------------------------------------------------------------------------------------


def build_molecule(spec: ProblemSpec) -> gto.Mole:
    """pyscf Mole for a problem: STO-3G, neutral singlet, no symmetry, no reorientation."""
    mol = gto.Mole()
    mol.atom = [[s, (x, y, z)] for s, x, y, z in spec.geometry]
    mol.unit = "Bohr" if spec.units == "bohr" else "Angstrom"
    mol.basis = "sto-3g"
    mol.charge = 0
    mol.spin = 0
    mol.symmetry = False
    mol.verbose = 0
    mol.build()
    return mol


def fix_mo_phases(mo_coeff: np.ndarray) -> np.ndarray:
    """Fix the arbitrary sign of every MO so regeneration is deterministic: the first AO
    coefficient whose magnitude is within 1e-6 of the column's largest is made positive."""
    mo = mo_coeff.copy()
    for j in range(mo.shape[1]):
        col = mo[:, j]
        k = int(np.flatnonzero(np.abs(col) >= np.abs(col).max() - 1e-6)[0])
        if col[k] < 0:
            mo[:, j] = -col
    return mo


def run_rhf(mol: gto.Mole) -> scf.hf.RHF:
    """Tightly converged RHF; MO phases fixed with :func:`fix_mo_phases`."""
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-12
    mf.conv_tol_grad = 1e-9
    mf.max_cycle = 200
    mf.kernel()
    if not mf.converged:
        raise VerificationError(f"RHF did not converge for {mol.atom}")
    mf.mo_coeff = fix_mo_phases(mf.mo_coeff)
    return mf


def check_active_space(spec: ProblemSpec, mol: gto.Mole, mf) -> None:
    """Sanity checks on the orbital partition: frozen MOs doubly occupied in RHF, removed
    MOs empty, the whole basis covered once, the electron count right; for LiH the removed
    MOs must be the two pi orbitals (no Li 2s/2pz/H 1s character, bond along z)."""
    nmo = mf.mo_coeff.shape[1]
    parts = list(spec.frozen) + list(spec.active) + list(spec.removed)
    if sorted(parts) != list(range(nmo)):
        raise VerificationError(f"{spec.name}: frozen+active+removed {parts} must cover 0..{nmo - 1}")
    occ = mf.mo_occ
    if any(occ[i] != 2 for i in spec.frozen):
        raise VerificationError(f"{spec.name}: a frozen MO is not doubly occupied in RHF")
    if any(occ[i] != 0 for i in spec.removed):
        raise VerificationError(f"{spec.name}: a removed MO is occupied in RHF")
    if mol.nelectron - 2 * len(spec.frozen) != spec.n_active_electrons:
        raise VerificationError(f"{spec.name}: active electron count mismatch")
    if spec.molecule == "LiH":
        labels = mol.ao_labels()
        sigma = [i for i, lab in enumerate(labels) if not ("px" in lab or "py" in lab)]
        for j in spec.removed:
            w = float(np.abs(mf.mo_coeff[sigma, j]).max())
            if w > 1e-8:
                raise VerificationError(f"{spec.name}: removed MO {j} is not a pi orbital ({w:.2e})")


def active_space_integrals(mol: gto.Mole, mo: np.ndarray, frozen, active):
    """Frozen-core active-space Hamiltonian in spatial MOs.

    Returns (constant, h1, eri) with constant = E_nuc + E_core, h1[p,q] the effective
    one-body integrals over the active MOs and eri[p,q,r,s] = (pq|rs) in chemists' notation.

      E_core   = sum_c 2 h_cc + sum_{c,d} [2 (cc|dd) - (cd|dc)]
      h1eff_pq = h_pq + sum_c [2 (pq|cc) - (pc|cq)]
    """
    nmo = mo.shape[1]
    hcore = mo.T @ (mol.intor("int1e_kin") + mol.intor("int1e_nuc")) @ mo
    eri = ao2mo.restore(1, ao2mo.kernel(mol, mo), nmo)
    c = list(frozen)
    a = list(active)
    e_core = 0.0
    if c:
        e_core = (
            2.0 * np.trace(hcore[np.ix_(c, c)])
            + 2.0 * np.einsum("iijj->", eri[np.ix_(c, c, c, c)])
            - np.einsum("ijji->", eri[np.ix_(c, c, c, c)])
        )
    h1 = hcore[np.ix_(a, a)].copy()
    if c:
        h1 += 2.0 * np.einsum("pqcc->pq", eri[np.ix_(a, a, c, c)]) - np.einsum("pccq->pq", eri[np.ix_(a, c, c, a)])
    h2 = eri[np.ix_(a, a, a, a)].copy()
    return float(mol.energy_nuc()), float(e_core), h1, h2


def casci_energy(mf, spec: ProblemSpec) -> float:
    """pyscf CASCI energy for the same (frozen, active) partition; removed MOs are placed
    after the active ones, i.e. kept empty, which is what removing them means."""
    mo = mf.mo_coeff[:, list(spec.frozen) + list(spec.active) + list(spec.removed)]
    n_a = spec.n_active_electrons
    mc = mcscf.CASCI(mf, len(spec.active), (n_a // 2, n_a - n_a // 2))
    mc.verbose = 0
    mc.fcisolver.conv_tol = 1e-13
    mc.fcisolver.max_cycle = 500
    mc.kernel(mo)
    return float(mc.e_tot)


# --------------------------------------------------------------------------------------
# Fermion operators (openfermion)
# --------------------------------------------------------------------------------------


def spin_orbital_index(p: int, spin: int, n_orb: int, ordering: str) -> int:
    """Spin-orbital index of spatial active orbital p, spin 0=alpha/1=beta.
    'interleaved': 0a,0b,1a,1b,...   'blocked': 0a,1a,...,0b,1b,..."""
    return 2 * p + spin if ordering == "interleaved" else p + spin * n_orb


def interaction_operator(constant: float, h1: np.ndarray, eri: np.ndarray, ordering: str) -> of.InteractionOperator:
    """The active-space Hamiltonian as an openfermion InteractionOperator:

        H = constant + sum_{pq,s} h1_pq a+_{ps} a_{qs}
                     + 1/2 sum_{pqrs,st} (pq|rs) a+_{ps} a+_{rt} a_{rt} a_{qs}

    openfermion stores H = c + sum T_ij a+_i a_j + sum V_ijkl a+_i a+_j a_k a_l; from spatial
    integrals V = 1/2 * spinorb_from_spatial((ps|qr)) exactly as openfermion's MolecularData.
    spinorb_from_spatial gives the interleaved ordering; 'blocked' permutes the spin-orbital
    indices of both tensors (see spin_orbital_index)."""
    n = h1.shape[0]
    two_body_spatial = np.asarray(eri.transpose(0, 2, 3, 1), order="C")  # [p,q,r,s] = (ps|qr)
    one_so, two_so = of.chem.molecular_data.spinorb_from_spatial(h1, two_body_spatial)  # interleaved ordering
    if ordering == "blocked":
        perm = [spin_orbital_index(k // 2, k % 2, n, "blocked") for k in range(2 * n)]
        inv = np.argsort(perm)  # new index -> old interleaved index
        one_so = one_so[np.ix_(inv, inv)]
        two_so = two_so[np.ix_(inv, inv, inv, inv)]
    return of.InteractionOperator(constant, one_so, 0.5 * two_so)


# --------------------------------------------------------------------------------------
# Mappings: one function each.  Each returns (QubitOperator, n_qubits, decode, ordering)
# where decode(bits) -> tuple of spin-orbital occupations (in `ordering`) for a code
# basis state (bits[0] = qubit 0), used by the verification.
# --------------------------------------------------------------------------------------

Mapped = tuple  # (of.QubitOperator, int, Callable[[tuple], tuple], str)


def map_jordan_wigner(iop_interleaved, n_orb, n_alpha, n_beta) -> Mapped:
    """Jordan-Wigner with interleaved spin orbitals: qubit 2p = orbital p alpha, qubit 2p+1 =
    orbital p beta; qubit k is |1> iff spin-orbital k is occupied."""
    qop = of.jordan_wigner(iop_interleaved)
    return qop, 2 * n_orb, (lambda bits: tuple(bits)), "interleaved"


def map_jw_parity_tapered(iop_interleaved, n_orb, n_alpha, n_beta) -> Mapped:
    """Jordan-Wigner (interleaved) with the total-parity Z2 symmetry tapered: the last
    spin orbital is dropped and its occupation is fixed by the total parity,
    n_last = (N + sum_{k<last} n_k) mod 2.  Implemented as openfermion's checksum_code
    (= JW followed by the Clifford CNOT(0->last)...CNOT(last-1->last), then Z_last -> (-1)^N).
    For H2: qubits = spin orbitals 0a, 0b, 1a and n_1b = n_0a xor n_0b xor n_1a."""
    fop = of.get_fermion_operator(iop_interleaved)
    parity = (n_alpha + n_beta) % 2
    qop = of.binary_code_transform(fop, of.checksum_code(2 * n_orb, parity))

    def decode(bits):
        return tuple(bits) + ((sum(bits) + parity) % 2,)

    return qop, 2 * n_orb - 1, decode, "interleaved"


def map_checksum_per_spin(iop_blocked, n_orb, n_alpha, n_beta) -> Mapped:
    """Per-spin checksum code on the alpha block / beta block ordering: for each spin the
    last orbital is dropped and its occupation fixed by that spin's particle number parity.
    For H2 (2 orbitals): qubit 0 = n(0 alpha), qubit 1 = n(0 beta), n(1 sigma) = 1 - n(0 sigma).
    Equal to parity mapping + two-qubit reduction up to an X on qubit 1."""
    fop = of.get_fermion_operator(iop_blocked)
    code = of.checksum_code(n_orb, n_alpha % 2) + of.checksum_code(n_orb, n_beta % 2)
    qop = of.binary_code_transform(fop, code)
    m = n_orb - 1

    def decode(bits):
        a, b = tuple(bits[:m]), tuple(bits[m:])
        return a + ((sum(a) + n_alpha) % 2,) + b + ((sum(b) + n_beta) % 2,)

    return qop, 2 * n_orb - 2, decode, "blocked"


def map_parity_two_qubit_reduction(iop_blocked, n_orb, n_alpha, n_beta) -> Mapped:
    """Parity mapping on the alpha-block/beta-block ordering (as Qiskit's ParityMapper):
    qubit k holds (n_0 + ... + n_k) mod 2 over spin orbitals 0a..(n-1)a,0b..(n-1)b.
    Qubit n-1 then holds N_alpha mod 2 and qubit 2n-1 holds N mod 2; every term acts on
    them with I or Z only, so they are removed, replacing Z_{n-1} -> (-1)^N_alpha and
    Z_{2n-1} -> (-1)^(N_alpha+N_beta) (Qiskit's two-qubit reduction).  Remaining qubits,
    in order: parity qubits 0..n-2, n..2n-2."""
    nso = 2 * n_orb
    fop = of.get_fermion_operator(iop_blocked)
    qop_full = of.binary_code_transform(fop, of.parity_code(nso))
    taper = {n_orb - 1: (-1) ** n_alpha, nso - 1: (-1) ** (n_alpha + n_beta)}
    keep = [q for q in range(nso) if q not in taper]
    new_index = {q: i for i, q in enumerate(keep)}
    qop = of.QubitOperator()
    for term, coeff in qop_full.terms.items():
        factor = 1.0
        new_term = []
        for q, letter in term:
            if q in taper:
                if letter != "Z":
                    raise VerificationError(f"parity 2QR: term {term} has {letter} on tapered qubit {q}")
                factor *= taper[q]
            else:
                new_term.append((new_index[q], letter))
        qop += of.QubitOperator(tuple(new_term), coeff * factor)

    def decode(bits):
        p = [0] * nso
        for q, i in new_index.items():
            p[q] = bits[i]
        p[n_orb - 1] = n_alpha % 2
        p[nso - 1] = (n_alpha + n_beta) % 2
        return tuple(p[k] ^ (p[k - 1] if k else 0) for k in range(nso))

    return qop, nso - 2, decode, "blocked"


MAPPINGS: dict[str, Callable] = {
    "jordan_wigner": map_jordan_wigner,
    "jw_parity_tapered": map_jw_parity_tapered,
    "checksum_per_spin": map_checksum_per_spin,
    "parity_two_qubit_reduction": map_parity_two_qubit_reduction,
}

MAPPING_TEXT = {
    "jordan_wigner": (
        "Jordan-Wigner, interleaved spin orbitals: qubit 2p = active orbital p alpha, qubit 2p+1 = "
        "active orbital p beta (active orbitals in increasing MO energy); qubit k is |1> iff that "
        "spin orbital is occupied. Qubit 0 = leftmost Pauli letter."
    ),
    "jw_parity_tapered": (
        "Jordan-Wigner, interleaved spin orbitals (0a,0b,1a,1b), with the total-parity symmetry "
        "tapered: qubits = occupations of spin orbitals 0a, 0b, 1a; the dropped 1b occupation is "
        "n_1b = n_0a xor n_0b xor n_1a (even N). Equivalent to JW followed by "
        "CNOT(0->3)CNOT(1->3)CNOT(2->3) and Z3 -> +1 (openfermion checksum_code(4, even))."
    ),
    "checksum_per_spin": (
        "Per-spin checksum code on spin orbitals ordered alpha block then beta block (0a,1a,0b,1b): "
        "qubit 0 = n(0 alpha), qubit 1 = n(0 beta) of the bonding orbital; n(1 sigma) = 1 - n(0 sigma) "
        "(one electron per spin). Equal to parity mapping + two-qubit reduction up to an X on "
        "qubit 1 (openfermion checksum_code(2,odd) + checksum_code(2,odd))."
    ),
    "parity_two_qubit_reduction": (
        "Parity mapping on spin orbitals ordered alpha block then beta block "
        "(0a,1a,2a,0b,1b,2b; active orbitals in increasing MO energy), qubit k = parity of "
        "occupations of spin orbitals 0..k (as Qiskit's ParityMapper), then two-qubit reduction: "
        "parity qubits 2 (N_alpha mod 2) and 5 (N mod 2) removed with Z2 -> -1 (N_alpha=1) and "
        "Z5 -> +1 (N=2). Final qubits 0,1,2,3 = parity qubits 0,1,3,4."
    ),
}


# --------------------------------------------------------------------------------------
# Pauli terms and dense matrices (qubit 0 = leftmost letter = most significant bit)
# --------------------------------------------------------------------------------------


def qubit_operator_to_terms(qop: of.QubitOperator, n_qubits: int) -> list:
    """[[pauli_string, real_coeff], ...]: index 0 -> leftmost letter; duplicates combined
    (QubitOperator does that), |c| < DROP_TOL dropped, imaginary parts asserted < DROP_TOL,
    sorted identity first then lexicographically."""
    acc: dict[str, complex] = {}
    for term, coeff in qop.terms.items():
        letters = ["I"] * n_qubits
        for q, letter in term:
            if not 0 <= q < n_qubits:
                raise VerificationError(f"qubit index {q} out of range for {n_qubits} qubits")
            letters[q] = letter
        key = "".join(letters)
        acc[key] = acc.get(key, 0.0) + complex(coeff)
    terms = []
    for key, c in acc.items():
        if abs(c.imag) >= DROP_TOL:
            raise VerificationError(f"term {key} has imaginary coefficient {c}")
        if abs(c.real) >= DROP_TOL:
            terms.append([key, float(c.real)])
    identity = "I" * n_qubits
    terms.sort(key=lambda t: (t[0] != identity, t[0]))
    return terms


def _masks(pauli: str) -> tuple[int, int, int]:
    n = len(pauli)
    x = z = ny = 0
    for q, letter in enumerate(pauli):
        bit = 1 << (n - 1 - q)
        if letter in "XY":
            x |= bit
        if letter in "ZY":
            z |= bit
        ny += letter == "Y"
    return x, z, ny


def _popcount_parity(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    parity = np.zeros_like(a)
    while np.any(a):
        parity ^= a & 1
        a >>= 1
    return parity


def terms_to_dense(terms: list, n_qubits: int) -> np.ndarray:
    """Dense matrix of sum_k c_k P_k with <i|P|j> = i^{#Y} (-1)^{popcount(j & zmask)} when
    i = j ^ xmask (basis index bit n-1-q = qubit q, so qubit 0 is the leftmost factor)."""
    dim = 2**n_qubits
    j = np.arange(dim)
    mat = np.zeros((dim, dim), dtype=complex)
    for pauli, coeff in terms:
        x, z, ny = _masks(pauli)
        sign = 1 - 2 * _popcount_parity(j & z)
        mat[j ^ x, j] += coeff * (1j**ny) * sign
    return mat


def diagonal_energy(terms: list, bitstring: str) -> float:
    """<b|H|b> from the I/Z terms only: sum_k c_k prod_{q: Z} (-1)^{b_q}."""
    e = 0.0
    for pauli, coeff in terms:
        if set(pauli) <= {"I", "Z"}:
            s = sum(int(bitstring[q]) for q, letter in enumerate(pauli) if letter == "Z")
            e += coeff * (-1) ** s
    return e


def bits_of(index: int, n: int) -> tuple:
    return tuple((index >> (n - 1 - q)) & 1 for q in range(n))


def index_of(bits) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise VerificationError(message)


def spin_counts(occ: tuple, n_orb: int, ordering: str) -> tuple[int, int]:
    na = sum(occ[spin_orbital_index(p, 0, n_orb, ordering)] for p in range(n_orb))
    nb = sum(occ[spin_orbital_index(p, 1, n_orb, ordering)] for p in range(n_orb))
    return na, nb


def s_squared_of_ground_state(fop_interleaved_h, n_orb, n_alpha, n_beta) -> float:
    """<S^2> of the lowest (N_alpha, N_beta) eigenvector of the interleaved JW Hamiltonian
    (openfermion sparse matrices, independent of the project's Pauli-term code)."""
    h = of.get_sparse_operator(fop_interleaved_h, n_qubits=2 * n_orb).toarray()
    s2 = of.get_sparse_operator(of.s_squared_operator(n_orb), n_qubits=2 * n_orb).toarray()
    idx = [
        i
        for i in range(2 ** (2 * n_orb))
        if spin_counts(bits_of(i, 2 * n_orb), n_orb, "interleaved") == (n_alpha, n_beta)
    ]
    w, v = np.linalg.eigh(h[np.ix_(idx, idx)])
    psi = v[:, 0]
    return float(np.real(psi.conj() @ s2[np.ix_(idx, idx)] @ psi))


def crosscheck_openfermionpyscf(spec, mol, mf, constant, h1, eri, e0) -> dict:
    """Independent checks with openfermionpyscf (skipped if it is not importable)."""
    if not HAVE_OFPYSCF:
        warnings.warn("openfermionpyscf not importable: cross-checks skipped", stacklevel=2)
        return {"openfermionpyscf": "skipped (not importable)"}
    # (a) same SCF, openfermion's active-space reduction vs ours
    one, two = ofpyscf_compute_integrals(mol, mf)
    core, one_a, two_a = of.ops.representations.get_active_space_integrals(
        one, two, list(spec.frozen), list(spec.active)
    )
    ours_two = np.asarray(eri.transpose(0, 2, 3, 1))
    d_const = abs(core + mol.energy_nuc() - constant)
    d_one = float(np.abs(one_a - h1).max())
    d_two = float(np.abs(two_a - ours_two).max())
    _require(
        max(d_const, d_one, d_two) < MATRIX_TOL,
        f"{spec.name}: integrals differ from openfermion's active-space reduction "
        f"(const {d_const:.2e}, one {d_one:.2e}, two {d_two:.2e})",
    )
    # (b) end-to-end run_pyscf (its own SCF and MO phases) -> JW -> sector E0
    geometry = [(s, (x, y, z)) for s, x, y, z in spec.geometry]
    if spec.units == "bohr":
        b = pyscf.lib.param.BOHR
        geometry = [(s, (x * b, y * b, z * b)) for s, (x, y, z) in geometry]
    md = of.MolecularData(geometry, "sto-3g", 1, 0)
    md = run_pyscf(md, run_scf=True)
    ham = md.get_molecular_hamiltonian(occupied_indices=list(spec.frozen), active_indices=list(spec.active))
    n_orb = len(spec.active)
    n_a = spec.n_active_electrons
    hmat = of.get_sparse_operator(ham, n_qubits=2 * n_orb).toarray()
    idx = [
        i
        for i in range(2 ** (2 * n_orb))
        if spin_counts(bits_of(i, 2 * n_orb), n_orb, "interleaved") == (n_a // 2, n_a - n_a // 2)
    ]
    e0_e2e = float(np.linalg.eigvalsh(hmat[np.ix_(idx, idx)])[0])
    _require(abs(e0_e2e - e0) < E2E_TOL, f"{spec.name}: openfermionpyscf end-to-end E0 {e0_e2e!r} vs ours {e0!r}")
    return {
        "openfermionpyscf_integrals_maxdiff": max(d_const, d_one, d_two),
        "openfermionpyscf_e2e_e0": e0_e2e,
        "openfermionpyscf_e2e_hf": float(md.hf_energy),
    }


def build_problem(spec: ProblemSpec, provenance: str) -> tuple[dict, dict]:
    """Build and verify one problem; returns (json_dict, verification_numbers)."""
    mol = build_molecule(spec)
    mf = run_rhf(mol)
    check_active_space(spec, mol, mf)
    e_rhf = float(mf.e_tot)
    e_nuc, e_core, h1, eri = active_space_integrals(mol, mf.mo_coeff, spec.frozen, spec.active)
    constant = e_nuc + e_core
    e_casci = casci_energy(mf, spec)

    n_orb = len(spec.active)
    n_alpha = spec.n_active_electrons // 2
    n_beta = spec.n_active_electrons - n_alpha
    mapper = MAPPINGS[spec.mapping]
    ordering_needed = (
        "blocked" if spec.mapping in ("checksum_per_spin", "parity_two_qubit_reduction") else "interleaved"
    )
    iop = interaction_operator(constant, h1, eri, ordering_needed)
    qop, n_qubits, decode, ordering = mapper(iop, n_orb, n_alpha, n_beta)
    _require(ordering == ordering_needed, f"{spec.name}: mapping ordering mismatch")
    terms = qubit_operator_to_terms(qop, n_qubits)
    # round-trip through JSON text so the checks below see exactly what is shipped
    terms = json.loads(json.dumps(terms))

    # (1) mapped matrix == openfermion's sparse JW matrix of the same fermion operator,
    #     restricted to the code space via decode
    hm = terms_to_dense(terms, n_qubits)
    _require(np.abs(hm.imag).max() < MATRIX_TOL, f"{spec.name}: mapped matrix not real")
    hm = hm.real
    fop = of.get_fermion_operator(iop)
    href = of.get_sparse_operator(fop, n_qubits=2 * n_orb).toarray()
    _require(np.abs(href.imag).max() < MATRIX_TOL, f"{spec.name}: reference matrix not real")
    href = href.real
    occs = [decode(bits_of(b, n_qubits)) for b in range(2**n_qubits)]
    fock_idx = [index_of(o) for o in occs]
    _require(len(set(fock_idx)) == len(fock_idx), f"{spec.name}: decode is not injective")
    d_map = float(np.abs(hm - href[np.ix_(fock_idx, fock_idx)]).max())
    _require(d_map < MATRIX_TOL, f"{spec.name}: mapped Hamiltonian != restricted JW reference ({d_map:.2e})")

    # (2) E0 in the (N_alpha, N_beta) sector, and the minimum over the whole qubit space
    sector = [b for b, o in enumerate(occs) if spin_counts(o, n_orb, ordering) == (n_alpha, n_beta)]
    e0 = float(np.linalg.eigvalsh(hm[np.ix_(sector, sector)])[0])
    e_min_all = float(np.linalg.eigvalsh(hm)[0])
    n_fock = 2 ** (2 * n_orb)
    ref_sector = [i for i in range(n_fock) if spin_counts(bits_of(i, 2 * n_orb), n_orb, ordering) == (n_alpha, n_beta)]
    e0_ref_sector = float(np.linalg.eigvalsh(href[np.ix_(ref_sector, ref_sector)])[0])
    s2 = s_squared_of_ground_state(
        of.get_fermion_operator(interaction_operator(constant, h1, eri, "interleaved")), n_orb, n_alpha, n_beta
    )
    _require(abs(e0 - e0_ref_sector) < ENERGY_TOL, f"{spec.name}: E0 {e0} vs full JW sector {e0_ref_sector}")
    _require(abs(e0 - e_casci) < ENERGY_TOL, f"{spec.name}: E0 {e0!r} != pyscf CASCI {e_casci!r}")
    if spec.e0_spec is not None:
        _require(abs(e0 - spec.e0_spec) < ENERGY_TOL, f"{spec.name}: E0 {e0!r} != spec table value {spec.e0_spec!r}")

    # (3) HF bitstring: lowest n_alpha / n_beta active orbitals occupied, encoded in this mapping
    hf_occ = _hf_occupation(n_orb, n_alpha, n_beta, ordering)
    matches = [b for b, o in enumerate(occs) if o == hf_occ]
    _require(len(matches) == 1, f"{spec.name}: HF occupation {hf_occ} not uniquely encoded")
    hf_bits = "".join(str(x) for x in bits_of(matches[0], n_qubits))
    e_hf = diagonal_energy(terms, hf_bits)
    _require(abs(e_hf - hm[matches[0], matches[0]]) < MATRIX_TOL, f"{spec.name}: HF diagonal mismatch")
    _require(abs(e_hf - e_rhf) < ENERGY_TOL, f"{spec.name}: <HF|H|HF> {e_hf!r} != pyscf RHF {e_rhf!r}")

    if spec.mapping == "checksum_per_spin" and n_orb == 2:
        # spec: equal to parity mapping + two-qubit reduction up to an X on qubit 1
        qop_p, _, _, _ = map_parity_two_qubit_reduction(iop, n_orb, n_alpha, n_beta)
        parity_terms = dict((k, v) for k, v in qubit_operator_to_terms(qop_p, n_qubits))
        flipped = {k: (-v if k[1] in "YZ" else v) for k, v in terms}
        d_par = max(abs(flipped.get(k, 0.0) - parity_terms.get(k, 0.0)) for k in set(flipped) | set(parity_terms))
        _require(d_par < MATRIX_TOL, f"{spec.name}: not X_1-equivalent to parity+2QR ({d_par:.2e})")

    cross = crosscheck_openfermionpyscf(spec, mol, mf, constant, h1, eri, e0)

    below = e_min_all < e0 - ENERGY_TOL
    sector_text = (
        f"E0 = lowest eigenvalue of the {n_qubits}-qubit Hamiltonian restricted to the basis states that "
        f"decode to N_alpha={n_alpha}, N_beta={n_beta} ({len(sector)} of {2**n_qubits} states); it equals "
        f"pyscf CASCI and the ground state has <S^2> = {abs(s2):.6f} (singlet). "
        + (
            f"The minimum over ALL {2**n_qubits} basis states is LOWER: {e_min_all!r} Ha (another particle "
            f"sector), so an unconstrained minimisation can go below E0."
            if below
            else f"The minimum over the whole {2**n_qubits}-dimensional qubit space is the same value "
            f"(no other sector lies lower)."
        )
    )

    data = {
        "name": spec.name,
        "n_qubits": n_qubits,
        "terms": terms,
        "e0": e0,
        "e_hf": e_hf,
        "hf_bitstring": hf_bits,
        "n_electrons": spec.n_active_electrons,
        "molecule": spec.molecule,
        "geometry": [[s, x, y, z] for s, x, y, z in spec.geometry],
        "geometry_units": spec.units,
        "basis": "sto-3g",
        "charge": 0,
        "multiplicity": 1,
        "active_space": {
            "frozen_orbitals": list(spec.frozen),
            "active_orbitals": list(spec.active),
            "removed_orbitals": list(spec.removed),
            "n_active_electrons": spec.n_active_electrons,
        },
        "mapping": MAPPING_TEXT[spec.mapping],
        "sector": sector_text,
        "reference": {
            "e_casci_pyscf": e_casci,
            "e_rhf_pyscf": e_rhf,
            "e0_spec": spec.e0_spec,
            "e_nuclear_repulsion": e_nuc,
            "e_frozen_core": e_core,
            "e_min_full_qubit_space": e_min_all,
        },
        "provenance": provenance + (f" Note: {spec.note}." if spec.note else ""),
    }
    numbers = {
        "n_qubits": n_qubits,
        "n_terms": len(terms),
        "e0": e0,
        "e_casci": e_casci,
        "e0_minus_casci": e0 - e_casci,
        "e_hf": e_hf,
        "e_rhf": e_rhf,
        "e_hf_minus_rhf": e_hf - e_rhf,
        "e0_spec": spec.e0_spec,
        "e0_minus_spec": None if spec.e0_spec is None else e0 - spec.e0_spec,
        "e_min_all": e_min_all,
        "map_maxdiff": d_map,
        "s2": s2,
        "hf": hf_bits,
        **cross,
    }
    return data, numbers


def _hf_occupation(n_orb: int, n_alpha: int, n_beta: int, ordering: str) -> tuple:
    occ = [0] * (2 * n_orb)
    for p in range(n_alpha):
        occ[spin_orbital_index(p, 0, n_orb, ordering)] = 1
    for p in range(n_beta):
        occ[spin_orbital_index(p, 1, n_orb, ordering)] = 1
    return tuple(occ)


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def dumps_problem(data: dict) -> str:
    """JSON, 2-space indent, one Pauli term / one atom per line, floats as Python repr
    (shortest round-trip), keys in the CONVENTIONS.md order; ends with a newline."""
    lines = ["{"]
    items = list(data.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if key in ("terms", "geometry"):
            inner = [f"    {json.dumps(row)}" for row in value]
            body = ",\n".join(inner)
            lines.append(f'  "{key}": [\n{body}\n  ]{comma}')
        elif isinstance(value, dict):
            inner = [f"    {json.dumps(k2)}: {json.dumps(v2)}" for k2, v2 in value.items()]
            body = ",\n".join(inner)
            lines.append(f'  "{key}": {{\n{body}\n  }}{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value)}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def provenance_string() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC) if epoch else datetime.datetime.now(datetime.UTC)
    ).strftime("%Y-%m-%d")
    import scipy

    ofp = (
        f", openfermionpyscf {openfermionpyscf.__version__} (cross-check only)"
        if HAVE_OFPYSCF
        else ", openfermionpyscf not available (cross-check skipped)"
    )
    return (
        f"generated by scripts/make_problems.py with pyscf {pyscf.__version__}, openfermion "
        f"{of.__version__}, numpy {np.__version__}, scipy {scipy.__version__}{ofp} on {when}. "
        f"Fermion operator built from pyscf integrals (own frozen-core reduction, MO signs fixed: "
        f"largest AO coefficient positive) as an openfermion InteractionOperator; "
        f"verified: E0 = pyscf CASCI, <HF|H|HF> = pyscf RHF (1e-8 Ha), mapped matrix = restricted "
        f"JW matrix (1e-10)."
    )


def compare(a: dict, b: dict, path: str = "") -> list[str]:
    """Differences between two problem dicts: numbers beyond CHECK_TOL, anything else exact;
    the provenance field is ignored."""
    diffs = []
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key == "provenance" and not path:
                continue
            if key not in a or key not in b:
                diffs.append(f"{path}/{key}: present in only one file")
            else:
                diffs += compare(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{path}: length {len(a)} != {len(b)}")
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                diffs += compare(x, y, f"{path}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if abs(a - b) > CHECK_TOL:
            diffs.append(f"{path}: {a!r} != {b!r}")
    elif a != b:
        diffs.append(f"{path}: {a!r} != {b!r}")
    return diffs


def generate(out_dir: Path, only: list[str] | None, quiet: bool = False) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = provenance_string()
    report = {}
    for spec in PROBLEMS:
        if only and spec.name not in only:
            continue
        t0 = time.perf_counter()
        data, numbers = build_problem(spec, provenance)
        numbers["seconds"] = time.perf_counter() - t0
        (out_dir / f"{spec.name}.json").write_text(dumps_problem(data), encoding="utf-8")
        report[spec.name] = numbers
        if not quiet:
            print(
                f"{spec.name:14s} {numbers['n_qubits']}q {numbers['n_terms']:4d} terms  "
                f"E0={numbers['e0']:.10f} (CASCI diff {numbers['e0_minus_casci']:+.1e}"
                + (f", spec diff {numbers['e0_minus_spec']:+.1e}" if spec.e0_spec is not None else "")
                + f")  E_HF={numbers['e_hf']:.10f} (RHF diff {numbers['e_hf_minus_rhf']:+.1e})  "
                f"HF={numbers['hf']}  {numbers['seconds']:.2f}s",
                flush=True,
            )
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--check", action="store_true", help="regenerate into a temp dir and compare with the files in --out"
    )
    parser.add_argument("--only", action="append", help="problem name (repeatable)")
    parser.add_argument("--report", type=Path, help="write all verification numbers to this JSON file")
    args = parser.parse_args(argv)
    names = {p.name for p in PROBLEMS}
    if args.only and set(args.only) - names:
        parser.error(f"unknown problem(s) {sorted(set(args.only) - names)}; known: {sorted(names)}")

    t0 = time.perf_counter()
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                report = generate(Path(tmp), args.only)
                failures = []
                for name in report:
                    shipped = args.out / f"{name}.json"
                    if not shipped.exists():
                        failures.append(f"{name}: {shipped} missing")
                        continue
                    new = json.loads((Path(tmp) / f"{name}.json").read_text(encoding="utf-8"))
                    old = json.loads(shipped.read_text(encoding="utf-8"))
                    failures += [f"{name}: {d}" for d in compare(old, new)]
        else:
            report = generate(args.out, args.only)
            failures = []
    except VerificationError as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - t0
    if failures:
        print(f"CHECK FAILED ({len(failures)} difference(s) beyond {CHECK_TOL}):", file=sys.stderr)
        for f in failures[:50]:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(
        f"{'checked' if args.check else 'wrote'} {len(report)} problem(s) "
        f"{'against' if args.check else 'to'} {args.out} in {elapsed:.1f}s; all verifications passed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
