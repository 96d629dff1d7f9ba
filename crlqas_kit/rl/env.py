"""The QAS environment as pure functions (gymnax-shaped), spec sections 2-5.

``reset(key, params, threshold=None) -> (obs, state)`` and
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)``
are pure and jittable; :func:`reset_jit`, :func:`step_jit` are their compiled forms (one compile
per problem shape). Batches of environments: :mod:`crlqas_kit.rl.batch`.

A step (1) appends the gate, (2) re-optimises ALL angles of the NEW circuit with the inner
optimiser (warm start; the new angle starts at 0 or small random), (3) evaluates the energy of
the new circuit (a fresh, possibly finite-shot, evaluation), (4) computes the reward and
(5) decides termination. Reward (``E_min`` = the curriculum's reference minimum):

* ``+success_reward`` when ``|E_t - E_min| < threshold`` (terminated);
* ``failure_reward`` when the last allowed step ``L`` is reached without success (terminated);
* otherwise ``clip((E_{t-1} - E_t) / max(|E_{t-1} - E_min|, reward_floor), -1, 1)``: the floor
  (default 1e-4 Ha) keeps the normalisation bounded near convergence, where ``|E_{t-1} - E_min|``
  goes to 0 and rounding-level changes would otherwise earn a full +-1.

Random halting: at reset ``h ~ NegativeBinomial(r, p)`` (failures before ``r`` successes,
mean ``r (1-p)/p``) clipped to ``[h_min, L]``; the episode is cut after ``h`` gates. The cut is
``terminated`` when ``halt_terminal`` (the published choice, default) and ``truncated`` otherwise.
Passing an illegal action (see :func:`action_mask`) appends nothing and ends the episode with
``failure_reward`` and ``info["illegal"] = True``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_number
from .._x64 import x64
from .._xla import jit
from ..optim.presets import preset_config
from ..optim.spsa import run as run_spsa
from ..optim.spsa_config import SPSAConfig
from ..optim.vqe import batched_objective, energy_objective, param_mask
from ..problems import Problem
from ..sim.circuit import Circuit
from ..sim.noise import NoiseModel
from ..sim.shots import VARIANCES, check_shots
from ..sim.simulator import Evaluator, _energy
from . import actions as qas_actions
from .curriculum import PUBLISHED_THRESHOLD0

#: The initial states of an episode: all qubits in 0 (published), or the Hartree-Fock bitstring.
STARTS = ("zeros", "hf")

#: How a newly placed rotation's angle starts (:func:`draw_new_angle`).
NEW_ANGLES = ("zeros", "random")

#: Default layer capacity / maximum steps per episode by qubit count (spec section 3).
DEFAULT_MAX_STEPS = {2: 40, 3: 40, 4: 40, 5: 70, 6: 70, 7: 250, 8: 250}


def _static(default=dataclasses.MISSING, **kw):
    return dataclasses.field(default=default, metadata=dict(static=True), **kw)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EnvParams:
    """Environment configuration (build with :func:`make_params`). Array fields are pytree leaves;
    the rest is static (changing it recompiles)."""

    evaluator: Evaluator
    e_min: jnp.ndarray  # reference minimum for the reward/curriculum
    e0: jnp.ndarray  # exact ground energy (for logging the true error)
    energy_scale: jnp.ndarray  # observation feature = (E - e_min) / energy_scale
    threshold0: jnp.ndarray  # curriculum threshold used when reset gets none
    allowed: jnp.ndarray  # (A,) bool, e.g. CNOTs outside a coupling map are False
    n_qubits: int = _static()
    max_steps: int = _static()
    spsa: SPSAConfig = _static()
    shots: int | None = _static(None)
    variance: str = _static("exact")
    halting: bool = _static(True)
    halt_r: float = _static(70.0)
    halt_p: float = _static(0.573)
    halt_min: int = _static(25)
    halt_terminal: bool = _static(True)
    reward_floor: float = _static(1e-4)
    success_reward: float = _static(5.0)
    failure_reward: float = _static(-5.0)
    new_angle: str = _static("zeros")
    new_angle_scale: float = _static(0.01)
    observe_angles: bool = _static(False)
    chemical_accuracy: float = _static(1.6e-3)

    @property
    def n_actions(self) -> int:
        return qas_actions.n_actions(self.n_qubits)

    @property
    def obs_size(self) -> int:
        return self.max_steps * (self.n_qubits + 3) * self.n_qubits + 2 + (self.max_steps if self.observe_angles else 0)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EnvState:
    """Everything that changes during an episode (all arrays)."""

    circuit: Circuit  # gates/wires/slots/angles (angles = current optimised parameters)
    tensor: jnp.ndarray  # (L, n+3, n) encoding
    moments: jnp.ndarray  # (n,) next free layer per qubit
    last_action: jnp.ndarray  # (n,) most recent action on each qubit, -1 if none
    energy: jnp.ndarray  # E_t as evaluated (noisy if shots)
    exact_energy: jnp.ndarray  # noise-channel-exact energy of the current circuit (no shot noise)
    best_energy: jnp.ndarray  # lowest E_t this episode
    step: jnp.ndarray  # number of gates placed
    halt_step: jnp.ndarray  # h: episode is cut after h gates
    threshold: jnp.ndarray  # curriculum threshold xi for this episode
    done: jnp.ndarray


@x64
def make_params(
    problem: Problem,
    noise: NoiseModel | str | None = None,
    *,
    max_steps: int | None = None,
    spsa: SPSAConfig | None = None,
    shots: int | None = None,
    variance: str = "exact",
    start: str = "zeros",
    e_min: str | float = "exact",
    threshold0: float | None = None,
    coupling_map: list[tuple[int, int]] | None = None,
    engine: str = "auto",
    mitigate_readout: bool = False,
    **options,
) -> EnvParams:
    """Build :class:`EnvParams` for a problem.

    Args:
        problem: the molecular problem.
        noise: noise model or spec.
        max_steps: ``L`` (default :data:`DEFAULT_MAX_STEPS`).
        spsa: inner optimiser config (default: Adam-SPSA preset for the problem, 500 evaluations).
        shots: shots per Pauli term for every energy evaluation (None = exact expectations).
        variance: shot-noise model, ``"exact"`` (``(1 - <P>^2)/N``) or ``"published"`` (``1/N``).
        start: ``"zeros"`` (the published setting) or ``"hf"`` (start from the HF bitstring).
        e_min: the reference minimum of the reward and curriculum: ``"exact"`` (E0),
            ``"pauli-bound"`` (constant - sum |w_i|, the published "fake" minimum) or a number (Ha).
        threshold0: curriculum threshold used when :func:`reset` gets none. Default: with
            ``"pauli-bound"`` the published xi0 of the problem (:data:`PUBLISHED_THRESHOLD0`, which
            was measured from that minimum); otherwise the error of the Hartree-Fock state,
            ``|E_HF - E_min|``: the first curriculum stage asks the agent to beat Hartree-Fock, a
            chemically meaningful and problem-derived bar.
        coupling_map: allowed directed CNOT pairs (default all).
        engine: simulator engine, ``"auto"`` (state vector when noiseless, else PTM), ``"ptm"``
            or ``"statevector"`` (see :meth:`~crlqas_kit.sim.simulator.Evaluator.create`).
        mitigate_readout: correct the noise model's readout error in every energy the
            environment measures, rewards and success included (:mod:`crlqas_kit.sim.mitigation`).
        **options: further static fields of :class:`EnvParams` (halting, rewards, ...);
            ``halt_min`` defaults to ``min(25, L)``.
    """
    n = problem.n_qubits
    L = DEFAULT_MAX_STEPS.get(n, 250) if max_steps is None else int(max_steps)
    if L < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    if start not in STARTS:
        raise ValueError(f"start must be 'zeros' or 'hf', got {start!r}")
    reference = reference_minimum(problem, e_min)
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    initial = problem.hf_bitstring if start == "hf" else None
    ev = Evaluator.create(problem.hamiltonian, noise, initial, engine=engine, mitigate_readout=mitigate_readout)
    ev = dataclasses.replace(ev, loop="while")  # episodes fill the L slots gradually
    empty = Circuit(n, L)
    # one compiled call: run op by op it compiles dozens of small programs (memory that stays)
    e_start = float(_energy(ev, empty, jnp.zeros(L)))
    scale = max(abs(e_start - reference), 1e-3)
    if threshold0 is None and e_min == "pauli-bound" and problem.name in PUBLISHED_THRESHOLD0:
        threshold0 = PUBLISHED_THRESHOLD0[problem.name]
    elif threshold0 is None:  # first stage: beat Hartree-Fock (spec section 6 leaves the choice to us)
        threshold0 = abs(problem.e_hf - reference)
    threshold0 = check_number(threshold0, "curriculum threshold", unit="Ha")
    allowed = np.ones(qas_actions.n_actions(n), bool)
    if coupling_map is not None:
        pairs = {(int(a), int(b)) for a, b in coupling_map}
        for i, (gate, wires) in enumerate(qas_actions.action_table(n)):
            if gate == "cx" and wires not in pairs:
                allowed[i] = False
    fields = {f.name for f in dataclasses.fields(EnvParams)}
    # the published clip is [25, L]; a shorter episode (L < 25) clips at L instead of failing
    options.setdefault("halt_min", min(EnvParams.halt_min, L))
    unknown = set(options) - fields
    if unknown:
        raise ValueError(f"unknown environment option(s) {sorted(unknown)}; see EnvParams fields")
    params = EnvParams(
        evaluator=ev,
        e_min=jnp.asarray(reference),
        e0=jnp.asarray(problem.e0),
        energy_scale=jnp.asarray(scale),
        threshold0=jnp.asarray(float(threshold0)),
        allowed=jnp.asarray(allowed),
        n_qubits=n,
        max_steps=L,
        spsa=spsa or preset_config(problem.name, "adam-spsa", 500),
        shots=check_shots(shots),
        variance=variance,
        chemical_accuracy=problem.chemical_accuracy,
        **options,
    )
    _validate(params)
    return params


E_MIN_CHOICES = ("exact", "pauli-bound")


def reference_minimum(problem: Problem, e_min: str | float) -> float:
    """``E_min`` of the reward and curriculum: ``"exact"`` = E0, ``"pauli-bound"`` = the published
    "fake" minimum ``constant - sum_i |w_i|`` (a lower bound on every energy), or a number (Ha)."""
    if isinstance(e_min, str):
        if e_min == "exact":
            return float(problem.e0)
        if e_min == "pauli-bound":
            return float(problem.hamiltonian.constant - problem.hamiltonian.l1_norm)
    elif isinstance(e_min, int | float) and not isinstance(e_min, bool) and np.isfinite(e_min):
        return float(e_min)
    raise ValueError(f"e_min must be 'exact', 'pauli-bound' or a finite number (Ha), got {e_min!r}")


def _validate(p: EnvParams) -> None:
    check_number(p.reward_floor, "reward_floor", unit="Ha")
    if not (0 < p.halt_p < 1 and p.halt_r > 0):
        raise ValueError(f"halting needs r > 0 and 0 < p < 1, got r={p.halt_r}, p={p.halt_p}")
    if not 1 <= p.halt_min <= p.max_steps:
        raise ValueError(f"halt_min must be in [1, max_steps={p.max_steps}], got {p.halt_min}")
    if p.new_angle not in NEW_ANGLES:
        raise ValueError(f"new_angle must be one of {NEW_ANGLES}, got {p.new_angle!r}")
    check_number(p.new_angle_scale, "new_angle_scale", unit="rad")


def draw_new_angle(key: jax.Array, params: EnvParams) -> jnp.ndarray | float:
    """The start angle of a newly placed rotation: ``0`` (``new_angle="zeros"``, the published
    setting: the new gate is the identity, so the step starts at the previous circuit's energy)
    or ``new_angle_scale * N(0, 1)`` (``"random"``: off the identity, where the gradient along a
    rotation placed on a stationary state, e.g. Hartree-Fock, can vanish). ``key`` is unused with
    zeros."""
    if params.new_angle == "zeros":
        return 0.0
    return params.new_angle_scale * jax.random.normal(key)


@functools.lru_cache(maxsize=64)
def halt_cdf(r: float, p: float, L: int) -> np.ndarray:
    """``P(h <= k)`` of ``NegBin(r, p)`` for ``k = 0 .. K-1`` (float64), ``K = min(L, end of the
    tail)``: ``pmf(k) = Gamma(k + r) / (Gamma(r) k!) p^r (1 - p)^k`` (failures before the
    ``r``-th success). The table stops at ``L`` (what :func:`sample_halt_step` clips to) or where
    the tail beyond it is below ``exp(-745)`` (mean + 60 standard deviations), whichever is first."""
    mean, sd = r * (1 - p) / p, math.sqrt(r * (1 - p)) / p
    k = np.arange(min(int(L), math.ceil(mean + 60 * sd) + 60), dtype=np.float64)
    log_pmf = np.array([math.lgamma(x + r) - math.lgamma(r) - math.lgamma(x + 1) for x in k])
    log_pmf += r * math.log(p) + k * math.log1p(-p)
    return np.cumsum(np.exp(log_pmf))


def sample_halt_step(key: jax.Array, params: EnvParams) -> jnp.ndarray:
    """``h ~ NegBin(r, p)`` clipped to ``[h_min, L]`` (``L`` when halting is off).

    Drawn by inverting the distribution function (:func:`halt_cdf`, a table of at most ``L``
    entries): one uniform number and a search. JAX's gamma-Poisson route compiles to a program
    about as large as the rest of ``reset`` (1 s and 130 MB of compiler memory at every call
    site: ``reset``, the search's chunk, its evaluation)."""
    if not params.halting:
        return jnp.asarray(params.max_steps, dtype=int)
    cdf = jnp.asarray(halt_cdf(float(params.halt_r), float(params.halt_p), int(params.max_steps)))
    u = jax.random.uniform(key, dtype=cdf.dtype)
    h = jnp.searchsorted(cdf, u, side="right")  # the smallest k with P(h <= k) > u
    return jnp.clip(h, params.halt_min, params.max_steps).astype(int)


def observation(state: EnvState, params: EnvParams) -> jnp.ndarray:
    """Flattened tensor + ``[(E - E_min)/scale, step/L]`` (+ angles/pi if ``observe_angles``)."""
    feats = [
        state.tensor.reshape(-1),
        jnp.stack([(state.energy - params.e_min) / params.energy_scale, state.step / params.max_steps]),
    ]
    if params.observe_angles:
        feats.append(state.circuit.angles / jnp.pi)
    return jnp.concatenate(feats).astype(jnp.float64)


def action_mask(state: EnvState, params: EnvParams) -> jnp.ndarray:
    """``(A,)`` bool of legal actions (all False once the episode is done)."""
    wires = jnp.asarray(qas_actions.action_arrays(params.n_qubits)["wires"])
    return qas_actions.legal_mask(state.last_action, params.allowed, wires) & ~state.done


def reset(key: jax.Array, params: EnvParams, threshold=None) -> tuple[jnp.ndarray, EnvState]:
    """Empty circuit (on |0..0> or the HF state), a fresh halting step."""
    n, L = params.n_qubits, params.max_steps
    circuit = Circuit(
        n,
        L,
        gates=jnp.zeros(L, jnp.int32),
        wires=jnp.zeros((L, 2), jnp.int32),
        slots=jnp.full(L, -1, jnp.int32),
        angles=jnp.zeros(L),
        length=jnp.asarray(0),
    )
    energy = params.evaluator.energy(circuit, circuit.angles)
    state = EnvState(
        circuit=circuit,
        tensor=jnp.zeros((L, n + 3, n)),
        moments=jnp.zeros(n, jnp.int32),
        last_action=jnp.full(n, -1, jnp.int32),
        energy=energy,
        exact_energy=energy,
        best_energy=energy,
        step=jnp.asarray(0),
        halt_step=sample_halt_step(key, params),
        threshold=params.threshold0 if threshold is None else jnp.asarray(threshold, jnp.float64),
        done=jnp.asarray(False),
    )
    return observation(state, params), state


def append_gate(circuit: Circuit, action, n_qubits: int, new_angle=0.0) -> Circuit:
    """Jittable append of action ``action`` (a new rotation gets the next slot and ``new_angle``)."""
    arr = qas_actions.action_arrays(n_qubits)
    gate, wires = jnp.asarray(arr["gate"])[action], jnp.asarray(arr["wires"])[action]
    is_cnot = jnp.asarray(arr["is_cnot"])[action]
    i = circuit.length
    n_params = jnp.sum(circuit.slots >= 0, dtype=jnp.int32)
    return dataclasses.replace(
        circuit,
        gates=circuit.gates.at[i].set(gate),
        wires=circuit.wires.at[i].set(jnp.where(is_cnot, wires, wires.at[1].set(0))),
        slots=circuit.slots.at[i].set(jnp.where(is_cnot, -1, n_params)),
        angles=jnp.where(is_cnot, circuit.angles, circuit.angles.at[n_params].set(new_angle)),
        length=i + 1,
    )


#: Scale of the start-point jitter of the inner optimiser with the exact state-vector engine.
#: SPSA's symmetric differences ``f(x + c D) - f(x - c D)`` vanish *exactly* at a symmetric
#: critical point, e.g. the first RY(0) on ``|0..0>`` where ``E(t) = a + b cos t``; the PTM
#: engine left such points only through rounding noise (~1e-17, amplified by Adam's
#: normalisation). The state vector is exactly symmetric, so the start point is nudged by
#: ``SV_START_JITTER * N(0, 1)`` per angle in use: negligible next to SPSA's steps (~0.1), and
#: enough to leave the critical point. The PTM (noisy) path is unchanged.
SV_START_JITTER = 1e-6


def _optimise(key, circuit: Circuit, params: EnvParams):
    """Adam-SPSA on all angles of ``circuit``; returns (angles, fresh energy, exact energy).

    The optimiser measures the warm start first and returns the best point it measured, so with
    exact energies a step never ends above the energy of its own start (with the state-vector
    engine, of the start nudged by :data:`SV_START_JITTER`: ~1e-12 Ha at an optimum, where the
    gradient vanishes)."""
    ev = params.evaluator
    f = energy_objective(ev, circuit, params.shots, params.variance, len(params.spsa.stage_budgets))
    batched = batched_objective(f, ev)
    k_opt, k_eval = jax.random.split(key)
    has_angles = jnp.any(circuit.slots >= 0)
    mask = param_mask(circuit)
    x0 = circuit.angles
    if ev.engine == "statevector":
        x0 = x0 + SV_START_JITTER * mask * jax.random.normal(jax.random.fold_in(k_opt, 1), x0.shape)
    angles = jax.lax.cond(
        has_angles,
        lambda x: run_spsa(batched, x, k_opt, params.spsa, mask).x,
        lambda x: circuit.angles,
        x0,
    )
    exact = ev.energy(circuit, angles)
    last_stage = len(params.spsa.stage_budgets) - 1  # the reported energy: the final stage's shots
    energy = exact if params.shots is None else f(angles, k_eval, last_stage)
    return angles, energy, exact


def step(key: jax.Array, state: EnvState, action, params: EnvParams):
    """One environment step; see the module docstring for the rules."""
    n, L = params.n_qubits, params.max_steps
    arr = qas_actions.action_arrays(n)
    action = jnp.asarray(action, jnp.int32)
    legal = action_mask(state, params)[jnp.clip(action, 0, params.n_actions - 1)]
    legal = legal & (action >= 0) & (action < params.n_actions)
    k_angle, k_opt = jax.random.split(key)
    new_angle = draw_new_angle(k_angle, params)

    circuit = append_gate(state.circuit, action, n, new_angle)
    wires = jnp.asarray(arr["wires"])[action]
    is_cnot = jnp.asarray(arr["is_cnot"])[action]
    layer, moments = qas_actions.place(state.moments, wires, is_cnot)
    tensor = qas_actions.encode(state.tensor, layer, wires, is_cnot, jnp.asarray(arr["axis"])[action], n)
    angles, energy, exact = _optimise(k_opt, circuit, params)
    circuit = dataclasses.replace(circuit, angles=angles)

    t = state.step + 1
    success = jnp.abs(energy - params.e_min) < state.threshold
    full = t >= L
    gap = jnp.maximum(jnp.abs(state.energy - params.e_min), params.reward_floor)
    shaped = jnp.clip((state.energy - energy) / gap, -1.0, 1.0)
    reward = jnp.where(success, params.success_reward, jnp.where(full, params.failure_reward, shaped))
    halted = (t >= state.halt_step) & ~success & ~full
    terminated = success | full | (halted & params.halt_terminal)
    truncated = halted & (not params.halt_terminal)

    new = EnvState(
        circuit=circuit,
        tensor=tensor,
        moments=moments,
        last_action=state.last_action.at[wires[0]].set(action).at[wires[1]].set(action),
        energy=energy,
        exact_energy=exact,
        best_energy=jnp.minimum(state.best_energy, energy),
        step=t,
        halt_step=state.halt_step,
        threshold=state.threshold,
        done=terminated | truncated,
    )
    # an illegal action leaves the state as it was and ends the episode
    new = jax.tree.map(lambda a, b: jnp.where(legal, a, b), new, dataclasses.replace(state, done=jnp.asarray(True)))
    reward = jnp.where(legal, reward, params.failure_reward)
    terminated = jnp.where(legal, terminated, True)
    truncated = jnp.where(legal, truncated, False)
    counts = _counts(new)
    has_angles = jnp.any(circuit.slots >= 0)
    info = {
        # objective calls this step: the inner optimiser (none without angles) + the reported energy
        "evaluations": jnp.where(legal, jnp.where(has_angles, params.spsa.evaluations, 0) + 1, 0),
        "error": jnp.abs(new.exact_energy - params.e0),
        "chemically_accurate": jnp.abs(new.exact_energy - params.e0) < params.chemical_accuracy,
        "success": success & legal,
        "illegal": ~legal,
        "halted": halted & legal,
        **counts,
    }
    return observation(new, params), new, reward, terminated, truncated, info


def _counts(state: EnvState) -> dict[str, jnp.ndarray]:
    active = jnp.arange(state.circuit.capacity) < state.circuit.length
    cnots = jnp.sum(active & (state.circuit.gates == qas_actions.GATE_IDS["cx"]))
    return {"gates": state.circuit.length, "cnots": cnots, "depth": jnp.max(state.moments)}


reset_jit = jit(reset)  # XLA's older emitters: a quarter of the compiler memory (crlqas_kit._xla)
step_jit = jit(step)

action_mask_jit = jax.jit(action_mask)
