"""The noise floor of a CNOT count: the lowest energy error over every placement of ``k`` CNOTs.

Where no method reaches chemical accuracy under a noise model, the question is whether a circuit
of the found length could (issue 17, deliverable 4). :func:`cnot_floor` answers it numerically for
small problems: every sequence of ``k`` CNOTs over the ordered qubit pairs (``(n (n - 1))^k``
placements), with a layer of rotations on every qubit before the first CNOT, between CNOTs and
after the last, all angles optimised by exact-gradient Adam under the noise from several starts
(the first prepares the Hartree-Fock state, the others are random);
the floor is the lowest error over placements and starts.

What it is, and is not:

* An **empirical floor of a family**, the way the hardware-efficient ansatz baseline is one, but
  over every CNOT placement instead of one ladder. With the default RY layers the family holds
  the real-amplitude circuits of ``k`` CNOTs; the agent also places RX and RZ, so its circuits are
  not all in it. ``rotations=("rz", "ry", "rz")`` spans every single-qubit gate, so noiselessly
  every circuit with ``k`` CNOTs is a placement.
* Not a certificate: local optimisation from ``starts`` starts per placement.
* Under noise, a circuit with fewer rotations than a placement carries less rotation noise, so even
  full layers do not bound circuits with fewer rotations from below. ``rotation_noise=False``
  drops that noise; with full layers and rotation noise that is a Pauli channel (the textbook
  ``depolarizing`` models: each Pauli error after a rotation is absorbed into the full layer) the
  floor then bounds every circuit with ``k`` CNOTs (up to the optimiser). Thermal relaxation (the
  device models) is not a Pauli channel: there it stays a floor of the family.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence

import numpy as np

from .._checks import check_int, check_number, check_seed
from ..problems import Problem, as_problem
from ..sim.circuit import Circuit
from ..sim.noise import NoiseModel
from ..sim.noise_spec import parse_noise
from .hea import hf_params

ROTATIONS = ("rx", "ry", "rz")


@dataclasses.dataclass(frozen=True)
class FloorResult:
    """Outcome of :func:`cnot_floor`. ``errors[i]``: the lowest ``E - E0`` of skeleton
    ``skeletons[i]`` (a tuple of ``(control, target)`` pairs); ``circuit``: the best one with its
    angles; ``error``: the floor."""

    problem: str
    noise: str
    cnots: int
    rotations: tuple[str, ...]
    rotation_noise: bool
    mitigate_readout: bool
    error: float
    skeletons: tuple[tuple[tuple[int, int], ...], ...]
    errors: tuple[float, ...]
    starts: int
    steps: int
    circuit: Circuit
    seconds: float

    def summary(self) -> dict:
        """The JSON-able fields (the best circuit as its skeleton and gate counts)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "circuit"}
        out["skeletons"] = [[list(p) for p in s] for s in self.skeletons]
        out["errors"] = list(self.errors)
        out["best_skeleton"] = out["skeletons"][int(np.argmin(self.errors))]
        out["counts"] = self.circuit.counts()
        return out


def skeleton_circuit(n_qubits: int, pairs: Sequence[tuple[int, int]], rotations: Sequence[str] = ("ry",)) -> Circuit:
    """Rotations on every qubit, then for each ``(control, target)`` of ``pairs`` a CNOT and
    rotations on every qubit again; all angles 0."""
    rotations = _check_rotations(rotations)
    slot = [(r, (q,)) for q in range(n_qubits) for r in rotations]
    ops = list(slot)
    for control, target in pairs:
        ops += [("cx", (int(control), int(target)))] + slot
    return Circuit.from_ops(n_qubits, ops)


def _check_rotations(rotations: Sequence[str]) -> tuple[str, ...]:
    rotations = (rotations,) if isinstance(rotations, str) else tuple(rotations)
    if not rotations or any(r not in ROTATIONS for r in rotations):
        raise ValueError(f"rotations must be a non-empty sequence of {ROTATIONS}, got {rotations!r}")
    return rotations


def _hartree_fock_or_zeros(problem: Problem, circuit: Circuit) -> np.ndarray:
    """The first start: the Hartree-Fock state (all angles 0 is ``|0...0>``, far from the ground
    state and, for the H2, LiH-6q and H2O Hamiltonians, a stationary point of RY layers), or all 0
    when the rotations cannot flip a qubit (RZ only)."""
    try:
        return hf_params(problem, circuit)
    except ValueError:
        return np.zeros(circuit.n_params)


def cnot_floor(
    problem: Problem | str,
    noise: NoiseModel | str | None = None,
    *,
    cnots: int,
    rotations: tuple[str, ...] = ("ry",),
    rotation_noise: bool = True,
    starts: int = 3,
    steps: int = 800,
    lr: float = 0.05,
    seed: int = 0,
    mitigate_readout: bool = False,
    max_skeletons: int = 1000,
) -> FloorResult:
    """The lowest error of ``problem`` under ``noise`` over all placements of ``cnots`` CNOTs
    (module docstring). ``rotation_noise=False`` drops the noise after rotations. Raises
    ValueError when there are more than ``max_skeletons`` placements, for unknown rotations,
    bad counts or rates."""
    from ..optim.vqe import optimize_starts  # optax only when it runs

    problem = as_problem(problem)
    cnots = check_int(cnots, "cnots", minimum=0)
    starts = check_int(starts, "starts")
    steps = check_int(steps, "steps")
    lr = check_number(lr, "lr")
    seed = check_seed(seed)
    rotations = _check_rotations(rotations)
    if not isinstance(rotation_noise, bool) or not isinstance(mitigate_readout, bool):
        raise TypeError("rotation_noise and mitigate_readout must be booleans")
    n = problem.n_qubits
    if cnots and n < 2:
        raise ValueError(f"{problem.name} has {n} qubit: no CNOT can be placed; use cnots=0")
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    count = len(pairs) ** cnots
    if count > check_int(max_skeletons, "max_skeletons"):
        raise ValueError(
            f"{cnots} CNOTs on {n} qubits have {count} placements, more than max_skeletons={max_skeletons}; "
            "use fewer CNOTs (or raise max_skeletons in Python)"
        )
    model = parse_noise(noise, n)
    if not rotation_noise:
        model = dataclasses.replace(model, rotation=None, name=f"{model.name} (rotations noiseless)")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)  # one stream over all placements: each gets its own random starts
    skeletons = tuple(itertools.product(pairs, repeat=cnots))
    errors, best = [], None
    for skeleton in skeletons:
        circ = skeleton_circuit(n, skeleton, rotations)
        runs = optimize_starts(
            problem, circ, model, starts=starts, first=_hartree_fock_or_zeros(problem, circ), seed=rng,
            method="adam", budget=steps, lr=lr, mitigate_readout=mitigate_readout,
        )  # fmt: skip
        lowest = min(runs, key=lambda r: r.error)
        errors.append(float(lowest.error))
        if best is None or lowest.error < best[0]:
            best = (float(lowest.error), circ.with_params(lowest.params))
    return FloorResult(
        problem=problem.name,
        noise=model.name,
        cnots=cnots,
        rotations=rotations,
        rotation_noise=rotation_noise,
        mitigate_readout=bool(mitigate_readout),
        error=best[0],
        skeletons=skeletons,
        errors=tuple(errors),
        starts=starts,
        steps=steps,
        circuit=best[1],
        seconds=time.perf_counter() - t0,
    )
