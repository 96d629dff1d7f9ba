"""Pauli strings and real Pauli-sum Hamiltonians.

Conventions
-----------
* A Pauli string is a word over ``"IXYZ"``; its **first letter acts on qubit 0**, which is also
  the most significant tensor factor (and the leftmost bit of a basis-state label).
* The Pauli index of a letter is ``I=0, X=1, Y=2, Z=3``; the index of a string is the base-4
  number formed by its letters, qubit 0 most significant. This is the flat position of
  ``Tr(P rho)`` in the simulator's Pauli vector of length ``4**n``.
* ``H = sum_k c_k P_k`` with real ``c_k``. A sum of Pauli strings is Hermitian iff its
  coefficients are real, so complex coefficients are rejected. The constant is the all-``I`` term.

File format (JSON)::

    {"n_qubits": 2, "terms": [["II", -0.33], ["ZI", 0.39], ["XX", 0.18]]}
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import numpy as np

from .._checks import check_int

PAULI_LETTERS = "IXYZ"

#: The four single-qubit Pauli matrices, in index order I, X, Y, Z.
PAULI_MATRICES = np.array(
    [
        [[1, 0], [0, 1]],
        [[0, 1], [1, 0]],
        [[0, -1j], [1j, 0]],
        [[1, 0], [0, -1]],
    ],
    dtype=np.complex128,
)


def validate_pauli_string(pauli: str, n_qubits: int | None = None) -> str:
    """Return ``pauli`` if it is a valid Pauli string (of length ``n_qubits`` when given).

    Raises:
        TypeError: ``pauli`` is not a string.
        ValueError: a letter outside ``IXYZ`` or the wrong length.
    """
    if not isinstance(pauli, str):
        raise TypeError(f"a Pauli string must be a str like 'XZIY', got {type(pauli).__name__}: {pauli!r}")
    if not pauli:
        raise ValueError("a Pauli string must have at least one letter (one per qubit)")
    bad = sorted({ch for ch in pauli if ch not in PAULI_LETTERS})
    if bad:
        raise ValueError(f"Pauli string {pauli!r} has letter(s) {bad}; allowed letters are I, X, Y, Z")
    if n_qubits is not None and len(pauli) != n_qubits:
        raise ValueError(f"Pauli string {pauli!r} has {len(pauli)} letters but the operator acts on {n_qubits} qubits")
    return pauli


def pauli_index(pauli: str) -> int:
    """Flat base-4 index of a Pauli string (qubit 0 most significant): ``'IX' -> 1``, ``'XI' -> 4``."""
    index = 0
    for ch in validate_pauli_string(pauli):
        index = 4 * index + PAULI_LETTERS.index(ch)
    return index


def pauli_string(index: int, n_qubits: int) -> str:
    """Inverse of :func:`pauli_index`."""
    if not 0 <= index < 4**n_qubits:
        raise ValueError(f"Pauli index {index} out of range for {n_qubits} qubits (0 .. {4**n_qubits - 1})")
    letters = []
    for _ in range(n_qubits):
        index, digit = divmod(index, 4)
        letters.append(PAULI_LETTERS[digit])
    return "".join(reversed(letters))


def pauli_matrix(pauli: str) -> np.ndarray:
    """Dense ``2**n x 2**n`` matrix of a Pauli string (qubit 0 = leftmost Kronecker factor)."""
    validate_pauli_string(pauli)
    return reduce(np.kron, (PAULI_MATRICES[PAULI_LETTERS.index(ch)] for ch in pauli))


def _real_coefficient(value: object, pauli: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise TypeError(f"coefficient of {pauli!r} must be a real number, got {type(value).__name__}: {value!r}")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        if complex(value).imag != 0.0:
            raise ValueError(
                f"coefficient of {pauli!r} is complex ({value!r}); a Pauli sum is Hermitian only with real coefficients"
            )
        value = complex(value).real
    out = float(value)  # type: ignore[arg-type]
    if not math.isfinite(out):
        raise ValueError(f"coefficient of {pauli!r} is {out}; coefficients must be finite real numbers")
    return out


@dataclass(frozen=True, eq=False)
class PauliSum:
    """A real linear combination of Pauli strings, ``H = sum_k coeffs[k] * paulis[k]``.

    Duplicate strings are merged on construction; order is kept (first occurrence).
    Build one with :meth:`from_list`, :meth:`from_dict`, :meth:`from_json` or :meth:`load`.

    Attributes:
        n_qubits: number of qubits ``n``.
        paulis: tuple of ``K`` Pauli strings of length ``n``.
        coeffs: float64 array, shape ``(K,)``.
    """

    n_qubits: int
    paulis: tuple[str, ...]
    coeffs: np.ndarray

    def __post_init__(self) -> None:
        check_int(self.n_qubits, "n_qubits")
        coeffs = np.asarray(self.coeffs)
        if coeffs.shape != (len(self.paulis),):
            raise ValueError(f"{len(self.paulis)} Pauli strings but coefficient array of shape {coeffs.shape}")
        merged: dict[str, float] = {}
        for pauli, c in zip(self.paulis, coeffs.tolist(), strict=True):
            validate_pauli_string(pauli, int(self.n_qubits))
            merged[pauli] = merged.get(pauli, 0.0) + _real_coefficient(c, pauli)
        object.__setattr__(self, "n_qubits", int(self.n_qubits))
        object.__setattr__(self, "paulis", tuple(merged))
        c = np.fromiter(merged.values(), dtype=np.float64, count=len(merged))
        c.setflags(write=False)
        object.__setattr__(self, "coeffs", c)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_list(cls, terms: Iterable[tuple[str, float] | list], n_qubits: int | None = None) -> PauliSum:
        """From ``[("XZ", 0.5), ("II", -1.0), ...]``; ``n_qubits`` defaults to the strings' length."""
        items = []
        for term in terms:
            if not isinstance(term, list | tuple) or len(term) != 2:
                raise ValueError(f"each term must be a (pauli_string, coefficient) pair, got {term!r}")
            items.append((term[0], term[1]))
        if n_qubits is not None:
            check_int(n_qubits, "n_qubits")
        if n_qubits is None:
            if not items:
                raise ValueError("an empty term list needs n_qubits")
            validate_pauli_string(items[0][0])
            n_qubits = len(items[0][0])
        if not items:
            return cls(n_qubits, (), np.zeros(0))
        for p, _ in items:
            validate_pauli_string(p, n_qubits)
        coeffs = np.array([_real_coefficient(c, p) for p, c in items], dtype=np.float64)
        return cls(n_qubits, tuple(p for p, _ in items), coeffs)

    @classmethod
    def from_dict(cls, terms: Mapping[str, float], n_qubits: int | None = None) -> PauliSum:
        """From ``{"XZ": 0.5, "II": -1.0}``."""
        if not isinstance(terms, Mapping):
            raise TypeError(f"from_dict needs a mapping of Pauli string -> coefficient, got {type(terms).__name__}")
        return cls.from_list(list(terms.items()), n_qubits)

    @classmethod
    def from_json(cls, data: Mapping) -> PauliSum:
        """From the decoded JSON object ``{"n_qubits": n, "terms": [["XZIY", 0.12], ...]}``."""
        if not isinstance(data, Mapping) or "terms" not in data or "n_qubits" not in data:
            raise ValueError('a Hamiltonian file must be a JSON object {"n_qubits": n, "terms": [["XZIY", 0.12], ...]}')
        if not isinstance(data["terms"], list):
            raise ValueError('"terms" must be a list of [pauli_string, coefficient] pairs')
        return cls.from_list(data["terms"], data["n_qubits"])

    @classmethod
    def load(cls, path: str | Path) -> PauliSum:
        """Read the JSON file format (see module docstring)."""
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        try:
            return cls.from_json(data)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{path}: {err}") from None

    def to_json(self) -> dict:
        return {
            "n_qubits": self.n_qubits,
            "terms": [[p, float(c)] for p, c in zip(self.paulis, self.coeffs, strict=True)],
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    # -- views --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.paulis)

    def __repr__(self) -> str:
        head = ", ".join(f"{c:+.4g}*{p}" for p, c in list(zip(self.paulis, self.coeffs, strict=True))[:4])
        more = f", ... ({len(self)} terms)" if len(self) > 4 else ""
        return f"PauliSum(n_qubits={self.n_qubits}, {head}{more})"

    @property
    def constant(self) -> float:
        """Coefficient of the identity string."""
        return float(sum(c for p, c in zip(self.paulis, self.coeffs, strict=True) if set(p) == {"I"}))

    @property
    def indices(self) -> np.ndarray:
        """Flat Pauli-vector index of each term, int64 array of shape ``(K,)``."""
        return np.array([pauli_index(p) for p in self.paulis], dtype=np.int64)

    @property
    def l1_norm(self) -> float:
        """``sum_k |c_k|`` excluding the constant; ``constant - l1_norm`` is a lower bound on E0."""
        return float(sum(abs(c) for p, c in zip(self.paulis, self.coeffs, strict=True) if set(p) != {"I"}))

    def to_matrix(self) -> np.ndarray:
        """Dense ``2**n x 2**n`` complex matrix (for tests and small problems only)."""
        if self.n_qubits > 12:
            raise ValueError(f"refusing to build a dense {2**self.n_qubits}-dimensional matrix (n_qubits > 12)")
        dim = 2**self.n_qubits
        out = np.zeros((dim, dim), dtype=np.complex128)
        for p, c in zip(self.paulis, self.coeffs, strict=True):
            out += c * pauli_matrix(p)
        return out

    def diagonal_energy(self, bitstring: str) -> float:
        """``<b|H|b>`` for a computational basis state (only I/Z terms contribute)."""
        if len(bitstring) != self.n_qubits or set(bitstring) - {"0", "1"}:
            raise ValueError(f"bitstring {bitstring!r} must have {self.n_qubits} characters from '01'")
        total = 0.0
        for p, c in zip(self.paulis, self.coeffs, strict=True):
            if set(p) <= {"I", "Z"}:
                total += c * (-1) ** sum(b == "1" for ch, b in zip(p, bitstring, strict=True) if ch == "Z")
        return float(total)

    def ground_energy(self) -> float:
        """Lowest eigenvalue by dense diagonalisation (n_qubits <= 12)."""
        return float(np.linalg.eigvalsh(self.to_matrix())[0])
