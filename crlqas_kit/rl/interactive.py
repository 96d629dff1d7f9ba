"""A thin stateful wrapper around the pure environment, for notebooks and teaching.

>>> env = InteractiveEnv(load_problem("H2-2q"), noise="none")   # doctest: +SKIP
>>> env.reset(seed=0)
>>> env.step("ry(0)"); env.step("cx(0,1)")
>>> env.circuit, env.history[-1]["error"]
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .._checks import check_number, check_seed
from .._x64 import enable_x64
from ..problems import Problem, load_problem
from ..sim.circuit import GATE_NAMES, Circuit
from . import actions as A
from . import env as E


class InteractiveEnv:
    """Stateful environment: ``reset(seed)``, ``step(action or "cx(0,1)")``, ``legal_actions()``.

    Outputs are numpy arrays / Python numbers. An illegal action raises ``ValueError`` naming
    the rule it breaks. Keyword options are passed to :func:`crlqas_kit.rl.env.make_params`.
    """

    def __init__(self, problem: Problem | str, noise=None, **options: Any) -> None:
        if isinstance(problem, str):  # a shipped problem's name
            problem = load_problem(problem)
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem or a shipped problem's name, got {type(problem).__name__}")
        self.problem = problem
        self.params = E.make_params(problem, noise, **options)
        #: the bitstring every episode starts from (``start="hf"``: the Hartree-Fock state)
        self.initial = problem.hf_bitstring if options.get("start") == "hf" else "0" * problem.n_qubits
        self.table = A.action_table(problem.n_qubits)
        self._state = None
        self._key = None
        self.history: list[dict[str, Any]] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def reset(self, seed: int = 0, threshold: float | None = None) -> np.ndarray:
        """Start a new episode; returns the observation.

        ``threshold`` is the success threshold ``xi`` on ``|E - E_min|``; by default the problem's
        chemical accuracy (the RL search passes the curriculum's moving threshold instead).
        """
        seed = check_seed(seed)
        threshold = self.problem.chemical_accuracy if threshold is None else threshold
        threshold = check_number(threshold, "threshold", unit="Ha")
        with enable_x64():
            self._key, k = jax.random.split(jax.random.key(seed))
            obs, self._state = E.reset_jit(k, self.params, threshold)
        self.history = []
        return np.asarray(obs)

    def _require_state(self):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        return self._state

    def action_id(self, action: int | str) -> int:
        """Action index from an int or a name like ``"cx(0,1)"``."""
        if isinstance(action, str):
            return A.parse_action(self.problem.n_qubits, action)
        if isinstance(action, bool) or not isinstance(action, int | np.integer):
            raise TypeError(f"action must be an int index or a string like 'cx(0,1)', got {action!r}")
        if not 0 <= int(action) < len(self.table):
            raise ValueError(
                f"action {action} out of range: there are {len(self.table)} actions (0..{len(self.table) - 1})"
            )
        return int(action)

    def legal_actions(self) -> list[int]:
        state = self._require_state()
        with enable_x64():
            return [int(i) for i in np.flatnonzero(np.asarray(E.action_mask_jit(state, self.params)))]

    def step(self, action: int | str) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one action; returns ``(obs, reward, terminated, truncated, info)``."""
        state = self._require_state()
        a = self.action_id(action)
        if bool(state.done):
            raise ValueError("the episode is over (terminated or halted); call reset()")
        if a not in self.legal_actions():
            gate, wires = self.table[a]
            name = f"{gate}({','.join(map(str, wires))})"
            if not bool(self.params.allowed[a]):
                raise ValueError(f"illegal action {name}: this CNOT pair is not in the coupling map")
            raise ValueError(
                f"illegal action {name}: it repeats the most recent gate on every qubit it acts on "
                f"({'it would cancel' if gate == 'cx' else 'it would merge with the previous rotation'})"
            )
        with enable_x64():
            self._key, k = jax.random.split(self._key)
            obs, self._state, reward, term, trunc, info = E.step_jit(k, state, a, self.params)
        info = {key: v.item() for key, v in info.items()}
        info.update(action=a, gate=self.table[a], energy=float(self._state.energy), reward=float(reward))
        self.history.append(info)
        return np.asarray(obs), float(reward), bool(term), bool(trunc), info

    # -- views --------------------------------------------------------------------------------
    @property
    def state(self) -> E.EnvState:
        return self._require_state()

    @property
    def circuit(self) -> Circuit:
        """The current circuit with its optimised angles (a host-side :class:`Circuit`).

        It acts on :attr:`initial` (all zeros unless ``start="hf"``): its energy is
        ``expectation(env.circuit, hamiltonian, noise, initial=env.initial)`` (with
        ``mitigate_readout=True`` if the environment corrects the readout error).
        """
        state = self._require_state()
        c = state.circuit
        ops = []
        gates, wires, slots, angles = (np.asarray(x) for x in (c.gates, c.wires, c.slots, c.angles))
        for i in range(int(c.length)):
            name = GATE_NAMES[int(gates[i])]
            w = (int(wires[i, 0]), int(wires[i, 1])) if name == "cx" else (int(wires[i, 0]),)
            ops.append((name, w, float(angles[slots[i]]) if slots[i] >= 0 else None))
        return Circuit.from_ops(self.problem.n_qubits, ops, capacity=self.params.max_steps)

    @property
    def energy(self) -> float:
        return float(self._require_state().energy)

    @property
    def error(self) -> float:
        """True error ``|E - E0|`` of the current circuit (noise-channel exact)."""
        return abs(float(self._require_state().exact_energy) - self.problem.e0)
