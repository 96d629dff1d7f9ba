"""The hardware-efficient ansatz baseline: a fixed RY + CNOT-ladder circuit, optimised well.

:func:`hea_baseline` optimises :func:`~crlqas_kit.sim.circuit.hardware_efficient` with ``layers``
layers under the problem's noise by exact-gradient Adam (:func:`crlqas_kit.optim.vqe.optimize`,
``method="adam"``) from several starts -- the Hartree-Fock angles (:func:`hf_angles`: RY(pi) on
the occupied qubits in the last layer, every other angle 0), then uniform in ``[-pi, pi)`` from a
seeded generator -- and keeps the lowest noise-channel-exact error. (All angles 0 would start at
``|0...0>``, a stationary point of a particle-conserving Hamiltonian's energy: with the single
200-step start of 8 qubits the baseline stayed there, 7.09 Ha above E0 on H2O-8q.) Defaults: 5 starts x 2000
steps (learning rate 0.02) up to 6 qubits; 1 x 200 beyond, where a step of the noisy 8-qubit
simulation takes about a second. ``scripts/results_runs.py`` reports it under every results table
(docs/results.md): the "at least as short" target of the searched circuits.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .._checks import check_int, check_number, check_seed
from ..problems import Problem, as_problem
from ..sim.circuit import Circuit, hardware_efficient
from ..sim.noise import NoiseModel
from ..sim.noise_spec import parse_noise


@dataclasses.dataclass(frozen=True)
class HEAResult:
    """Outcome of :func:`hea_baseline`: the best start's error and the ansatz's size.

    ``errors`` holds each start's ``|E - E0|`` (start 0: :func:`hf_angles`); ``params`` / ``energy``
    are the best start's; ``circuit`` carries those angles."""

    problem: str
    noise: str
    layers: int
    gates: int
    cnots: int
    depth: int
    best_error: float
    energy: float
    errors: tuple[float, ...]
    starts: int
    steps: int
    lr: float
    seed: int
    params: np.ndarray
    circuit: Circuit
    seconds: float

    def summary(self) -> dict:
        """The JSON-able fields (``scripts/results_runs.py`` keeps its table keys from these)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "circuit"}
        out["params"] = [float(v) for v in self.params]
        out["errors"] = list(self.errors)
        return out


def hf_angles(problem: Problem, layers: int) -> np.ndarray:
    """Angles of the ``layers``-layer ansatz that prepare ``problem.hf_bitstring`` from ``|0...0>``:
    RY(pi) on each occupied qubit in the last rotation layer, 0 elsewhere (:func:`hf_params`)."""
    return hf_params(problem, hardware_efficient(problem.n_qubits, layers))


#: gates that map |0> (or |00>) to itself up to a phase at angle 0: they leave |0...0> alone
_KEEP_ZERO = frozenset({"id", "rx", "ry", "rz", "z", "s", "cx", "cz"})


def hf_params(problem: Problem | str, circuit: Circuit) -> np.ndarray:
    """Angles of ``circuit`` that prepare ``problem.hf_bitstring`` (character ``q`` = qubit ``q``)
    from ``|0...0>``, up to a global phase: pi on the last RY or RX of each occupied qubit, 0
    elsewhere. With every other angle 0 the rotations are identities and each CNOT/CZ acts on
    ``|00>`` (both its qubits are flipped only after it), so only the flips change the state.

    Raises ValueError when the circuit holds a fixed gate that moves ``|0>`` (X, Y, H, SX), has
    another qubit count, or an occupied qubit has no RY/RX after its last two-qubit gate."""
    problem = as_problem(problem)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    if circuit.n_qubits != problem.n_qubits:
        raise ValueError(f"the circuit has {circuit.n_qubits} qubits, {problem.name} {problem.n_qubits}")
    ops = circuit.ops()
    fixed = sorted({name for name, *_ in ops} - _KEEP_ZERO)
    if fixed:
        raise ValueError(
            f"the circuit holds {fixed}: fixed gates that move |0>, so its angles alone do not set the start "
            f"state; hf_params needs rotations, CNOT/CZ and diagonal gates ({sorted(_KEEP_ZERO)})"
        )
    slots = np.asarray(circuit.slots)[: circuit.num_gates]
    x0 = np.zeros(circuit.n_params)
    for q, bit in enumerate(problem.hf_bitstring):
        if bit != "1":
            continue
        last_2q = max((i for i, (_, wires, _) in enumerate(ops) if len(wires) == 2 and q in wires), default=-1)
        flips = [i for i, (name, wires, _) in enumerate(ops) if name in ("ry", "rx") and wires == (q,) and i > last_2q]
        if not flips:
            raise ValueError(
                f"the circuit cannot prepare {problem.name}'s Hartree-Fock state {problem.hf_bitstring}: "
                f"qubit {q} has no RY or RX after its last two-qubit gate"
            )
        x0[slots[flips[-1]]] = np.pi
    return x0


def default_schedule(n_qubits: int) -> tuple[int, int]:
    """``(starts, steps)``: 5 x 2000 up to 6 qubits, 1 x 200 beyond (noisy 8-qubit steps are slow)."""
    return (5, 2000) if n_qubits <= 6 else (1, 200)


def hea_baseline(
    problem: Problem | str,
    noise: NoiseModel | str | None = None,
    *,
    layers: int = 2,
    starts: int | None = None,
    steps: int | None = None,
    lr: float = 0.02,
    seed: int = 0,
    mitigate_readout: bool = False,
) -> HEAResult:
    """The best of ``starts`` exact-gradient Adam runs of the ``layers``-layer RY hardware-efficient
    ansatz on ``problem`` under ``noise`` (module docstring); ``starts`` / ``steps`` default to
    :func:`default_schedule`; ``mitigate_readout`` corrects the readout error of ``noise``
    (:mod:`crlqas_kit.sim.mitigation`). Raises ValueError/TypeError for bad counts, rates or seeds."""
    from ..optim.vqe import optimize_starts  # optax only when a baseline runs

    problem = as_problem(problem)
    check_int(layers, "layers")
    default_starts, default_steps = default_schedule(problem.n_qubits)
    starts = default_starts if starts is None else check_int(starts, "starts")
    steps = default_steps if steps is None else check_int(steps, "steps")
    lr = check_number(lr, "lr")
    seed = check_seed(seed)
    model = parse_noise(noise, problem.n_qubits)
    t0 = time.perf_counter()
    circ = hardware_efficient(problem.n_qubits, layers)
    runs = optimize_starts(
        problem, circ, model, starts=starts, first=hf_params(problem, circ), seed=seed,
        method="adam", budget=steps, lr=lr, mitigate_readout=mitigate_readout,
    )  # fmt: skip
    best = min(runs, key=lambda r: r.error)
    counts = circ.counts()
    return HEAResult(
        problem=problem.name,
        noise=model.name,
        layers=layers,
        gates=counts["gates"],
        cnots=counts["cnots"],
        depth=counts["depth"],
        best_error=float(best.error),
        energy=float(best.exact_energy),
        errors=tuple(float(r.error) for r in runs),
        starts=starts,
        steps=steps,
        lr=lr,
        seed=seed,
        params=np.asarray(best.params),
        circuit=circ.with_params(best.params),
        seconds=time.perf_counter() - t0,
    )
