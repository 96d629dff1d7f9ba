"""The molecular problems of CRLQAS: qubit Hamiltonians with their exact ground energies.

Data live in ``crlqas_kit/data/problems/<name>.json`` (generated and verified against pyscf by
``scripts/make_problems.py``; see ``docs/problems.md``) and are loaded with the standard library
and numpy only.

>>> p = load_problem("H2-2q")
>>> p.n_qubits, round(p.e0, 6), p.hf_bitstring
(2, -1.13727, '11')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .sim.paulis import PauliSum

#: Chemical accuracy in Hartree (1 kcal/mol).
CHEMICAL_ACCURACY = 1.6e-3


@dataclass(frozen=True, eq=False)
class Problem:
    """A molecular ground-state problem.

    Attributes:
        name: e.g. ``"LiH-4q"``.
        hamiltonian: the qubit Hamiltonian (constant included), a :class:`PauliSum`.
        e0: exact lowest eigenvalue in the physical particle sector (Hartree).
        e_hf: energy of the Hartree-Fock bitstring.
        hf_bitstring: HF state in this problem's qubit mapping, qubit 0 leftmost.
        chemical_accuracy: success threshold ``|E - E0| < 1.6e-3`` Ha.
        metadata: geometry, basis, active space, mapping, provenance, references.
    """

    name: str
    hamiltonian: PauliSum
    e0: float
    e_hf: float
    hf_bitstring: str
    chemical_accuracy: float = CHEMICAL_ACCURACY
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_qubits(self) -> int:
        return self.hamiltonian.n_qubits

    def error(self, energy: float) -> float:
        """``|energy - E0|``."""
        return abs(float(energy) - self.e0)

    def is_chemically_accurate(self, energy: float) -> bool:
        return self.error(energy) < self.chemical_accuracy

    def summary(self) -> dict[str, Any]:
        """The fields ``crlqas problems --json`` prints."""
        return {
            "name": self.name,
            "n_qubits": self.n_qubits,
            "n_terms": len(self.hamiltonian),
            "e0": self.e0,
            "e_hf": self.e_hf,
            "hf_bitstring": self.hf_bitstring,
            "molecule": self.metadata.get("molecule"),
            "mapping": self.metadata.get("mapping"),
        }

    def __repr__(self) -> str:
        return (
            f"Problem({self.name!r}, n_qubits={self.n_qubits}, terms={len(self.hamiltonian)}, "
            f"e0={self.e0:.10f}, e_hf={self.e_hf:.10f}, hf={self.hf_bitstring!r})"
        )


def _data_dir():
    return Path(__file__).resolve().parent / "data" / "problems"


def list_problems() -> list[str]:
    """Names of the shipped problems, sorted."""
    return sorted(p.name[: -len(".json")] for p in _data_dir().iterdir() if p.name.endswith(".json"))


@cache
def _load(name: str) -> Problem:
    data = json.loads((_data_dir() / f"{name}.json").read_text())
    ham = PauliSum.from_json(data)
    meta = {k: v for k, v in data.items() if k not in ("terms", "e0", "e_hf", "hf_bitstring", "n_qubits", "name")}
    return Problem(data["name"], ham, float(data["e0"]), float(data["e_hf"]), data["hf_bitstring"], metadata=meta)


def as_problem(problem: Problem | str) -> Problem:
    """``problem`` itself, or the shipped problem of that name; TypeError for anything else."""
    if isinstance(problem, str):
        return load_problem(problem)
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem or a problem name, got {type(problem).__name__}")
    return problem


def load_problem(name: str) -> Problem:
    """Load a shipped problem by name (see :func:`list_problems`)."""
    if not isinstance(name, str):
        raise TypeError(f"problem name must be a string, got {type(name).__name__}")
    names = list_problems()
    if name not in names:
        raise ValueError(f"unknown problem {name!r}; available problems: {', '.join(names)}")
    return _load(name)
