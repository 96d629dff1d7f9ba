"""qubit-ADAPT-VQE: an ansatz grown one Pauli rotation at a time, the adaptive baseline.

Method (Tang et al., "qubit-ADAPT-VQE: an adaptive algorithm for constructing
hardware-efficient ansätze on a quantum processor", PRX Quantum 2, 020310 (2021),
arXiv:1911.10205; ADAPT-VQE: Grimsley et al., Nat. Commun. 10, 3007 (2019)):

1. start from the Hartree-Fock bitstring ``|HF>`` (``problem.hf_bitstring``);
2. with the current state ``|psi> = prod_k exp(-i theta_k P_k / 2) |HF>`` (operators applied in
   the order they were chosen), measure for every pool string ``P`` the gradient of appending
   ``exp(-i theta P / 2)`` at ``theta = 0``::

       g_P = dE/dtheta |_0 = (i/2) <psi| [P, H] |psi>      (= -(1/2) i<psi|[H, P]|psi>);

3. stop when ``||g|| < grad_tol``, the error is below ``energy_tol`` or ``max_operators``
   operators have been added; otherwise append the ``P`` with the largest ``|g_P|`` (ties: the
   first in pool order, so the run is deterministic), its angle at 0;
4. re-optimise ALL angles with BFGS on exact gradients (``jax.grad``; the paper's choice), warm
   started from the previous angles, and go to 2.

Pools (:func:`make_pool`): every string has an odd number of ``Y`` letters, so ``-iP`` is a real
antisymmetric matrix and the state stays real (molecular Hamiltonians are real):

* ``"minimal"`` -- the paper's minimal complete pool ``V_n`` of ``2n - 2`` strings,
  written with qubit 0 as the leftmost letter::

      V_2 = {ZY, YI},     V_n = {Z v : v in V_{n-1}} u {Y I^(n-1), I Y I^(n-2)};

  e.g. ``V_3 = {ZZY, ZYI, YII, IYI}``. Complete: the group it generates takes any real state to
  any other (at every real ``|psi>`` the vectors ``A|psi>``, ``A`` in its Lie algebra, span the
  unit sphere's tangent space), although that algebra (dimension 3, 10, 36 for ``n`` = 2, 3, 4;
  tested) is much smaller than ``so(2^n)``, spanned by all ``(4^n - 2^n) / 2`` odd-Y strings.
  A complete pool need not respect the problem's symmetries (particle number,
  spin), and on the shipped problems it cannot leave the HF state at all: every ``V_n`` string
  flips exactly one bit of a basis state, and their Hamiltonians have no matrix element (below
  1e-10 Ha) between the HF bitstring and a one-bit flip of it (particle-number parity), so every
  ``g_P`` vanishes at HF and ADAPT stops at once with the HF energy: the "symmetry roadblock"
  of Shkolnikov et al., Quantum 7, 1040 (2023), arXiv:2109.05340. Kept as the
  paper's pool and for that lesson, not as the default.
* ``"two-local"`` -- every odd-Y string of weight 1 or 2: ``Y_k`` and ``{XY, YX, ZY, YZ}`` on
  every pair, ``n + 2 n (n - 1)`` strings (28 on 4 qubits). Converges on H2-2q and LiH-4q; stalls
  at HF on H2-4q, whose first useful generator is a double excitation (weight 4).
* ``"full"`` (default) -- every odd-Y string, ``(4^n - 2^n) / 2`` (120 on 4 qubits, up to
  :data:`FULL_POOL_MAX_QUBITS`): all real generators, so the gradient vanishes only at
  stationary points of the energy. Its size is a measurement cost on hardware, not here.

Simulation: a dense real state vector of ``2^n`` amplitudes in JAX float64 (pure functions,
one compile per ``(n, max_operators, pool)``). A Pauli string acts as a signed permutation::

    P |b> = i^{#Y} (-1)^{popcount(b & z)} |b XOR x>,     (P psi)[a] = phase[a] psi[a XOR x],

with ``x`` the mask of the X/Y letters and ``z`` of the Y/Z letters (qubit 0 = most significant
bit), so ``exp(-i t P / 2) psi = cos(t/2) psi + sin(t/2) A psi`` with ``A = -iP`` real and
``g_P = (H psi) . (A psi)``: all pool gradients are one gather and one matrix-vector product.

Circuit (:func:`compile_ansatz`): each rotation in the agent's gate set (RX, RY, RZ, CNOT), so
gate and CNOT counts compare with the CRLQAS circuits and noise applies per gate exactly as to
theirs: basis change to Z on each qubit of the support (X: ``RY(-pi/2)``, Y: ``RX(pi/2)``), a
CNOT ladder onto the last qubit of the support, ``RZ(theta)``, the ladder and basis changes
undone; a weight-1 string is the single rotation ``R_P(theta)``. The HF bitstring is prepared
in the circuit with ``RX(pi)`` (``= -iX``), so the circuit runs from ``|0...0>`` like the
CRLQAS circuits (and its QASM is self-contained). The fixed angles (pi, +-pi/2) are ordinary
rotation slots that are never optimised ("frozen"); ``AdaptResult.param_slots`` says which slots
hold the ADAPT angles. Adjacent frozen rotations of one axis on one qubit are merged (dropped
when they cancel) and adjacent identical CNOTs cancel, which shortens consecutive rotations that
share support. Under a noise model the compiled circuit's exact noisy energy with the ADAPT
angles is the baseline's noisy result; ``reoptimize_noisy=True`` re-optimises its ADAPT slots
under the noise (BFGS, exact noisy gradients, frozen slots untouched).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int, check_number
from .._x64 import x64
from ..problems import Problem, as_problem
from ..sim.circuit import Circuit
from ..sim.noise import NoiseModel
from ..sim.noise_spec import parse_noise
from ..sim.paulis import PauliSum, validate_pauli_string
from ..sim.simulator import Evaluator

POOLS = ("minimal", "two-local", "full")
#: Largest register of the ``"full"`` pool: (4^n - 2^n) / 2 strings (8 qubits: 32640).
FULL_POOL_MAX_QUBITS = 8
#: Largest register: the dense tables hold (terms + pool) x 2^n entries (12 qubits: ~4k per row).
MAX_QUBITS = 12


# ------------------------------------------------------------------------------------- pools
def minimal_pool(n_qubits: int) -> tuple[str, ...]:
    """The minimal complete pool ``V_n`` of Tang et al. (2021), ``2n - 2`` strings (module docstring)."""
    check_int(n_qubits, "n_qubits", minimum=2)
    pool: tuple[str, ...] = ("ZY", "YI")
    for n in range(3, n_qubits + 1):
        pool = tuple("Z" + p for p in pool) + ("Y" + "I" * (n - 1), "IY" + "I" * (n - 2))
    return pool


def two_local_pool(n_qubits: int) -> tuple[str, ...]:
    """Every odd-Y string of weight 1 or 2: ``Y_k``, then ``XY, YX, ZY, YZ`` on each pair ``i < j``."""
    check_int(n_qubits, "n_qubits", minimum=2)
    out = []
    for k in range(n_qubits):
        out.append("I" * k + "Y" + "I" * (n_qubits - k - 1))
    for i in range(n_qubits):
        for j in range(i + 1, n_qubits):
            for a, b in ("XY", "YX", "ZY", "YZ"):
                letters = ["I"] * n_qubits
                letters[i], letters[j] = a, b
                out.append("".join(letters))
    return tuple(out)


def full_pool(n_qubits: int) -> tuple[str, ...]:
    """Every odd-Y string, ``(4^n - 2^n) / 2`` of them: a basis of ``so(2^n)`` (all real generators)."""
    check_int(n_qubits, "n_qubits", minimum=2)
    if n_qubits > FULL_POOL_MAX_QUBITS:
        raise ValueError(f"the full pool is for at most {FULL_POOL_MAX_QUBITS} qubits (it has (4^n - 2^n)/2 strings)")
    letters = "IXYZ"
    out = []
    for index in range(4**n_qubits):
        word = "".join(letters[(index >> (2 * (n_qubits - 1 - q))) & 3] for q in range(n_qubits))
        if word.count("Y") % 2:
            out.append(word)
    return tuple(out)


def make_pool(pool: str | Sequence[str], n_qubits: int) -> tuple[str, ...]:
    """The pool's strings: a name in :data:`POOLS` or an explicit sequence of odd-Y Pauli strings."""
    if isinstance(pool, str):
        if pool == "minimal":
            return minimal_pool(n_qubits)
        if pool == "two-local":
            return two_local_pool(n_qubits)
        if pool == "full":
            return full_pool(n_qubits)
        raise ValueError(f"unknown pool {pool!r}; choose one of {POOLS} or give a sequence of Pauli strings")
    if not isinstance(pool, Sequence) or not pool:
        raise TypeError(f"pool must be a name in {POOLS} or a non-empty sequence of Pauli strings, got {pool!r}")
    strings = tuple(validate_pauli_string(p, n_qubits) for p in pool)
    for p in strings:
        if p.count("Y") % 2 == 0:
            raise ValueError(f"pool string {p!r} has an even number of Y letters: exp(-i t P/2) would not be real")
    if len(set(strings)) != len(strings):
        raise ValueError("pool strings must be distinct")
    return strings


# ------------------------------------------------------------------------ dense Pauli action
def pauli_action(pauli: str) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, phase)``, int64 and complex128 of shape ``(2^n,)``, with ``(P psi)[a] = phase[a] psi[perm[a]]``."""
    n = len(validate_pauli_string(pauli))
    x_mask = z_mask = 0
    for q, letter in enumerate(pauli):
        bit = 1 << (n - 1 - q)  # qubit 0 is the most significant bit
        x_mask |= bit if letter in "XY" else 0
        z_mask |= bit if letter in "YZ" else 0
    a = np.arange(2**n, dtype=np.int64)
    source = a ^ x_mask
    signs = 1 - 2 * (np.bitwise_count(source & z_mask) % 2).astype(np.int64)
    return source, (1j) ** pauli.count("Y") * signs


def generator_tables(paulis: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, sign)`` of shape ``(K, 2^n)``: ``(A_k psi)[a] = sign[k, a] psi[perm[k, a]]``, ``A_k = -i P_k``
    (real for odd-Y strings)."""
    perms, signs = zip(*(pauli_action(p) for p in paulis), strict=True)
    sign = -1j * np.stack(signs)
    assert np.allclose(sign.imag, 0.0), "odd-Y strings only"
    return np.stack(perms), sign.real.copy()


def hamiltonian_tables(hamiltonian: PauliSum) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, weight)`` of shape ``(T, 2^n)`` with ``(H psi)[a] = sum_t weight[t, a] psi[perm[t, a]]``.

    Raises ValueError for a term with an odd number of Y's (an imaginary matrix): the real pools
    reach only real states, which need a real Hamiltonian (every molecular Hamiltonian is)."""
    odd = [p for p in hamiltonian.paulis if p.count("Y") % 2]
    if odd:
        raise ValueError(f"qubit-ADAPT needs a real Hamiltonian; terms with an odd number of Y's: {odd[:3]}")
    perms, weights = [], []
    for p, c in zip(hamiltonian.paulis, hamiltonian.coeffs, strict=True):
        perm, phase = pauli_action(p)
        perms.append(perm)
        weights.append(c * phase.real)
    return np.stack(perms), np.stack(weights)


def basis_vector(bitstring: str) -> np.ndarray:
    """``|b>`` as a float64 vector of ``2^n`` amplitudes (qubit 0 = leftmost character = top bit)."""
    out = np.zeros(2 ** len(bitstring))
    out[int(bitstring, 2)] = 1.0
    return out


# --------------------------------------------------------------------- pure JAX kernels (x64)
def apply_hamiltonian(ham: tuple[jnp.ndarray, jnp.ndarray], psi: jnp.ndarray) -> jnp.ndarray:
    """``H psi`` for a real ``psi`` of shape ``(2^n,)``."""
    perm, weight = ham
    return jnp.sum(weight * psi[perm], axis=0)


def ansatz_state(reference: jnp.ndarray, perm: jnp.ndarray, sign: jnp.ndarray, thetas: jnp.ndarray) -> jnp.ndarray:
    """``prod_k exp(-i theta_k P_k / 2) |ref>`` (``k = 0`` applied first); ``perm, sign (M, 2^n)``, ``thetas (M,)``.

    Padding rows (``sign = 0``, ``theta = 0``) are the identity, so one compile serves every length."""

    def step(psi, op):
        p, s, t = op
        return jnp.cos(t / 2) * psi + jnp.sin(t / 2) * s * psi[p], None

    psi, _ = jax.lax.scan(step, reference, (perm, sign, thetas))
    return psi


def ansatz_energy(ham, reference, perm, sign, thetas) -> jnp.ndarray:
    """``<psi(theta)| H |psi(theta)>`` (real state), a float64 scalar."""
    psi = ansatz_state(reference, perm, sign, thetas)
    return psi @ apply_hamiltonian(ham, psi)


def pool_gradients(ham, pool: tuple[jnp.ndarray, jnp.ndarray], psi: jnp.ndarray) -> jnp.ndarray:
    """``g_k = (i/2) <psi|[P_k, H]|psi> = (H psi) . (A_k psi)``, shape ``(K,)``: the derivative of the
    energy when ``exp(-i theta P_k / 2)`` is appended, at ``theta = 0``."""
    perm, sign = pool
    return (sign * psi[perm]) @ apply_hamiltonian(ham, psi)


@jax.jit
def _energy_and_grad(ham, reference, perm, sign, thetas, mask):
    value, grad = jax.value_and_grad(ansatz_energy, argnums=4)(ham, reference, perm, sign, thetas)
    return value, grad * mask


@jax.jit
def _state_and_gradients(ham, pool, reference, perm, sign, thetas):
    psi = ansatz_state(reference, perm, sign, thetas)
    return psi @ apply_hamiltonian(ham, psi), pool_gradients(ham, pool, psi)


def _bfgs(value_and_grad, x0: np.ndarray, gtol: float, maxiter: int):
    """scipy BFGS on ``value_and_grad(x) -> (f, g)``; returns ``(x, f, nfev, njev)``."""
    from scipy.optimize import minimize  # scipy only when an optimisation runs

    res = minimize(
        lambda x: tuple(np.asarray(v, dtype=np.float64) for v in value_and_grad(x)),
        x0,
        jac=True,
        method="BFGS",
        options={"gtol": gtol, "maxiter": maxiter},
    )
    return np.asarray(res.x, dtype=np.float64), float(res.fun), int(res.nfev), int(res.njev)


# ---------------------------------------------------------------------------------- compile
#: the frozen rotation that maps Z to the letter's axis before the ladder, and its inverse after
_TO_Z = {"X": ("ry", -np.pi / 2), "Y": ("rx", np.pi / 2)}
_AXIS_GATE = {"X": "rx", "Y": "ry", "Z": "rz"}


def pauli_rotation_ops(pauli: str, theta: float) -> list[tuple[str, tuple[int, ...], float | None, bool]]:
    """``exp(-i theta P / 2)`` as ``(gate, wires, angle, variational)`` in the agent's gate set.

    ``exp(-i t P/2) = B^dag L^dag RZ_last(t) L B`` with ``B`` the basis changes to Z (X: ``RY(-pi/2)``,
    since ``RY(pi/2) Z RY(-pi/2) = X``; Y: ``RX(pi/2)``, since ``RX(-pi/2) Z RX(pi/2) = Y``) and ``L``
    the CNOT ladder that puts the support's parity on its last qubit. Weight 1: ``R_P(theta)``."""
    support = [q for q, letter in enumerate(pauli) if letter != "I"]
    if not support:
        raise ValueError("the identity string generates only a global phase")
    if len(support) == 1:
        q = support[0]
        return [(_AXIS_GATE[pauli[q]], (q,), float(theta), True)]
    basis = [(_TO_Z[pauli[q]][0], (q,), _TO_Z[pauli[q]][1], False) for q in support if pauli[q] in _TO_Z]
    ladder = [("cx", (a, b), None, False) for a, b in zip(support[:-1], support[1:], strict=True)]
    undo = [(name, wires, -angle, False) for name, wires, angle, _ in basis]
    return [*basis, *ladder, ("rz", (support[-1],), float(theta), True), *reversed(ladder), *undo]


def _last_on(ops: list, q: int, before: int) -> int:
    """Index of the last op before ``before`` acting on qubit ``q`` (-1: none)."""
    return next((i for i in range(before - 1, -1, -1) if ops[i] is not None and q in ops[i][1]), -1)


def _append(ops: list, op: tuple, last: dict[int, int]) -> None:
    """Append ``op = (gate, wires, angle, index)`` (``index``: the ADAPT angle's number, -1 if frozen)
    with two exact simplifications against the last op on its wires: frozen rotations of one axis
    merge (``R(a) R(b) = R(a + b)``, dropped at ``a + b = 0``) and two identical CNOTs cancel.
    Removed ops become None; ``last`` maps a qubit to the index of its last op."""
    name, wires, angle, index = op
    j = last.get(wires[0], -1)
    if j >= 0 and all(last.get(q, -1) == j for q in wires):
        pname, pwires, pangle, pindex = ops[j]
        cancel = name == "cx" and pname == "cx" and pwires == wires
        merge = name != "cx" and pname == name and pwires == wires and index < 0 and pindex < 0
        if merge and abs(pangle + angle) > 1e-15:
            ops[j] = (name, wires, pangle + angle, -1)
            return
        if cancel or merge:
            ops[j] = None
            for q in wires:
                last[q] = _last_on(ops, q, j)
            return
    ops.append(op)
    for q in wires:
        last[q] = len(ops) - 1


def compile_ansatz(
    n_qubits: int, hf_bitstring: str, operators: Sequence[str], params: Sequence[float], *, simplify: bool = True
) -> tuple[Circuit, tuple[int, ...]]:
    """The ADAPT state as a :class:`Circuit` from ``|0...0>``: ``RX(pi)`` on the HF bitstring's ones,
    then :func:`pauli_rotation_ops` of each operator. Returns ``(circuit, param_slots)``: the slot
    of each ADAPT angle (``circuit.angles[param_slots[k]] = params[k]``); every other slot is frozen.

    ``simplify`` merges adjacent frozen rotations and cancels adjacent CNOT pairs (see :func:`_append`);
    the unitary is unchanged up to a global phase."""
    if len(operators) != len(params):
        raise ValueError(f"{len(operators)} operators but {len(params)} angles")
    if len(hf_bitstring) != n_qubits or set(hf_bitstring) - {"0", "1"}:
        raise ValueError(f"bitstring {hf_bitstring!r} must have {n_qubits} characters from '01'")
    ops: list = []
    last: dict[int, int] = {}
    todo = [("rx", (q,), np.pi, -1) for q, bit in enumerate(hf_bitstring) if bit == "1"]
    for k, (pauli, theta) in enumerate(zip(operators, params, strict=True)):
        todo += [(g, w, a, k if var else -1) for g, w, a, var in pauli_rotation_ops(pauli, theta)]
    for op in todo:
        if simplify:
            _append(ops, op, last)
        else:
            ops.append(op)
    kept = [op for op in ops if op is not None]
    rotations = [op for op in kept if op[0] != "cx"]
    slot_of = {index: slot for slot, (_, _, _, index) in enumerate(rotations) if index >= 0}
    circuit = Circuit.from_ops(n_qubits, [(g, w) if g == "cx" else (g, w, a) for g, w, a, _ in kept])
    return circuit, tuple(slot_of[k] for k in range(len(operators)))


# ------------------------------------------------------------------------------------ result
@dataclasses.dataclass(frozen=True)
class AdaptStep:
    """One ADAPT iteration: the operator added and the state after re-optimising all angles.

    ``gradient`` is ``|g|`` of the chosen operator and ``gradient_norm`` ``||g||`` over the pool, both
    measured before it was added; ``energy_evaluations`` / ``gradient_evaluations`` are BFGS's
    energy and ``jax.grad`` calls of this iteration."""

    iteration: int
    operator: str
    gradient: float
    gradient_norm: float
    energy: float
    error: float
    energy_evaluations: int
    gradient_evaluations: int
    seconds: float


@dataclasses.dataclass(frozen=True)
class AdaptResult:
    """Outcome of :func:`adapt_vqe`.

    Attributes:
        problem: the problem's name; ``e0`` its exact ground energy.
        pool: the pool's name (or ``"custom"``); ``pool_operators`` its strings.
        operators: the chosen strings in order; ``params`` their angles ``(M,)`` (noiseless optimum).
        energy, error, chemically_accurate: the noiseless ADAPT state's energy and ``|E - E0|``.
        hf_energy: energy of the HF start; ``steps``: one :class:`AdaptStep` per added operator.
        stop: why it stopped: ``"gradient"``, ``"energy"`` or ``"max_operators"``;
            ``final_gradient_norm``: ``||g||`` at the final state (``nan`` if not measured).
        energy_evaluations, gradient_evaluations: BFGS's energy / ``jax.grad`` calls in total;
            ``pool_gradient_evaluations``: pool gradients measured (pool size per check).
        circuit: the compiled circuit with the ADAPT angles; ``param_slots`` the slots of the
            ADAPT angles (the others are frozen); ``counts``: its gates, CNOTs, rotations, depth
            (``circuit.counts()``; ``parameters`` = ADAPT angles).
        noise: the noise model's name (``"none"``); ``noisy_energy`` / ``noisy_error``: the compiled
            circuit's exact energy under it with the ADAPT angles; ``reoptimized_energy`` /
            ``reoptimized_error`` / ``reoptimized_params``: after re-optimising the ADAPT slots under
            the noise (None unless asked for).
        config: the settings of the run; ``seconds``: wall time (compiles included).
    """

    problem: str
    e0: float
    pool: str
    pool_operators: tuple[str, ...]
    operators: tuple[str, ...]
    params: np.ndarray
    energy: float
    error: float
    chemically_accurate: bool
    hf_energy: float
    steps: tuple[AdaptStep, ...]
    stop: str
    final_gradient_norm: float
    energy_evaluations: int
    gradient_evaluations: int
    pool_gradient_evaluations: int
    circuit: Circuit
    param_slots: tuple[int, ...]
    counts: dict[str, int]
    noise: str
    noisy_energy: float
    noisy_error: float
    reoptimized_energy: float | None
    reoptimized_error: float | None
    reoptimized_params: np.ndarray | None
    config: dict
    seconds: float

    def summary(self) -> dict:
        """A JSON-able dict (no circuit object: its ops with angles under ``"circuit"``)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "circuit":
                value = [[name, list(wires), angle] for name, wires, angle in value.ops()]
            elif f.name == "steps":
                value = [dataclasses.asdict(s) for s in value]
            elif isinstance(value, np.ndarray):
                value = [float(v) for v in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


# -------------------------------------------------------------------------------- the driver
def slot_angles(circuit: Circuit, param_slots: Sequence[int], params) -> jnp.ndarray:
    """The circuit's ``(capacity,)`` angle vector with ``params`` in ``param_slots`` (jittable in ``params``)."""
    return jnp.asarray(circuit.angles).at[jnp.asarray(param_slots, dtype=jnp.int32)].set(params)


@jax.jit
def _circuit_energy_and_grad(ev: Evaluator, circuit: Circuit, slots, params):
    def f(x):
        return ev.energy(circuit, jnp.asarray(circuit.angles).at[slots].set(x))

    return jax.value_and_grad(f)(params)


@x64
def circuit_energy(
    circuit: Circuit, param_slots: Sequence[int], params, hamiltonian: PauliSum, noise=None, mitigate_readout=False
) -> float:
    """Exact energy of the compiled circuit (from ``|0...0>``) under ``noise`` with ``params`` in its
    slots (readout-corrected with ``mitigate_readout``: :mod:`crlqas_kit.sim.mitigation`)."""
    ev = Evaluator.create(hamiltonian, noise, mitigate_readout=mitigate_readout)
    slots = jnp.asarray(param_slots, dtype=jnp.int32)
    value, _ = _circuit_energy_and_grad(ev, circuit, slots, jnp.asarray(params, dtype=jnp.float64))
    return float(value)


@x64
def reoptimize(
    circuit: Circuit,
    param_slots: Sequence[int],
    params,
    hamiltonian: PauliSum,
    noise=None,
    *,
    gtol: float = 1e-8,
    maxiter: int = 1000,
    mitigate_readout: bool = False,
) -> tuple[np.ndarray, float, int]:
    """BFGS on the circuit's ADAPT slots only (frozen slots untouched) with exact ``jax.grad`` through
    the kit's simulator under ``noise``. Returns ``(params, energy, evaluations)``; never worse than
    the start (BFGS accepts only descending line-search steps)."""
    ev = Evaluator.create(hamiltonian, noise, mitigate_readout=mitigate_readout)
    slots = jnp.asarray(param_slots, dtype=jnp.int32)

    def value_and_grad(x):
        return _circuit_energy_and_grad(ev, circuit, slots, jnp.asarray(x))

    x, f, nfev, _ = _bfgs(value_and_grad, np.asarray(params, dtype=np.float64), gtol, maxiter)
    return x, f, nfev


@x64
def adapt_vqe(
    problem: Problem | str,
    *,
    noise: NoiseModel | str | None = None,
    pool: str | Sequence[str] = "full",
    max_operators: int = 40,
    grad_tol: float = 1e-5,
    energy_tol: float | None = None,
    opt_gtol: float = 1e-9,
    opt_maxiter: int = 2000,
    reoptimize_noisy: bool = False,
    simplify: bool = True,
    mitigate_readout: bool = False,
) -> AdaptResult:
    """qubit-ADAPT-VQE on ``problem`` (module docstring), then its compiled circuit under ``noise``.

    Args:
        problem: a :class:`Problem` or a shipped problem name.
        noise: noise model or spec for the compiled circuit's evaluation (None/``"none"``: noiseless);
            ADAPT itself runs noiseless, as in the paper.
        pool: ``"full"`` (default: every odd-Y string), ``"minimal"`` (``2n - 2`` strings, stalls at
            HF on the shipped problems), ``"two-local"`` or a sequence of distinct odd-Y strings.
        max_operators: most operators added (a positive integer).
        grad_tol: stop when the pool gradient's norm ``||g||`` falls below it (Ha per radian).
        energy_tol: also stop once ``|E - E0| < energy_tol`` (None: only the other two rules).
        opt_gtol, opt_maxiter: BFGS gradient tolerance and iteration cap per re-optimisation.
        reoptimize_noisy: under a noise model, re-optimise the ADAPT angles of the compiled circuit
            under the noise too (frozen slots untouched).
        simplify: merge / cancel adjacent gates in the compiled circuit (:func:`compile_ansatz`).
        mitigate_readout: correct the readout error of ``noise`` in the compiled circuit's energies
            (:mod:`crlqas_kit.sim.mitigation`), as the CRLQAS runs with the same option do.

    Raises:
        TypeError: ``problem`` or ``pool`` of the wrong type.
        ValueError: an unknown pool, ``max_operators < 1``, non-positive tolerances, a Hamiltonian
            with imaginary terms or beyond :data:`MAX_QUBITS` qubits.
    """
    problem = as_problem(problem)
    check_int(max_operators, "max_operators")
    grad_tol = check_number(grad_tol, "grad_tol")
    opt_gtol = check_number(opt_gtol, "opt_gtol")
    check_int(opt_maxiter, "opt_maxiter")
    if energy_tol is not None:
        energy_tol = check_number(energy_tol, "energy_tol")
    if not all(isinstance(v, bool) for v in (reoptimize_noisy, simplify, mitigate_readout)):
        raise TypeError("reoptimize_noisy, simplify and mitigate_readout must be booleans")
    n = problem.n_qubits
    if n > MAX_QUBITS:
        raise ValueError(f"{problem.name} has {n} qubits; the dense ADAPT simulation handles at most {MAX_QUBITS}")
    pool_name = pool if isinstance(pool, str) else "custom"
    strings = make_pool(pool, n)
    model = parse_noise(noise, n)  # validated before the (longer) ADAPT run
    t0 = time.perf_counter()

    ham = tuple(jnp.asarray(a) for a in hamiltonian_tables(problem.hamiltonian))
    pool_perm, pool_sign = generator_tables(strings)
    pool_tables = (jnp.asarray(pool_perm), jnp.asarray(pool_sign))
    reference = jnp.asarray(basis_vector(problem.hf_bitstring))
    dim = 2**n
    # the ansatz as fixed-capacity tables: padding rows are identities (sign 0, angle 0)
    perm = np.tile(np.arange(dim), (max_operators, 1))
    sign = np.zeros((max_operators, dim))
    thetas = np.zeros(max_operators)

    def measure():
        energy, grads = _state_and_gradients(ham, pool_tables, reference, perm, sign, jnp.asarray(thetas))
        return float(energy), np.asarray(grads)

    operators: list[str] = []
    steps: list[AdaptStep] = []
    n_energy = n_grad = n_pool = 0
    energy, grads = measure()
    hf_energy = energy
    n_pool += len(strings)
    stop = "max_operators"
    for m in range(max_operators):
        norm = float(np.linalg.norm(grads))
        if norm < grad_tol:
            stop = "gradient"
            break
        if energy_tol is not None and problem.error(energy) < energy_tol:
            stop = "energy"
            break
        t_step = time.perf_counter()
        k = int(np.argmax(np.abs(grads)))  # first of equal maxima: deterministic
        operators.append(strings[k])
        perm[m], sign[m] = pool_perm[k], pool_sign[k]
        mask = jnp.asarray(np.arange(max_operators) <= m, dtype=jnp.float64)
        perm_j, sign_j = jnp.asarray(perm), jnp.asarray(sign)

        def value_and_grad(x, m=m, perm_j=perm_j, sign_j=sign_j, mask=mask):
            full = np.zeros(max_operators)
            full[: m + 1] = x
            value, grad = _energy_and_grad(ham, reference, perm_j, sign_j, jnp.asarray(full), mask)
            return value, np.asarray(grad)[: m + 1]

        x, _, nfev, njev = _bfgs(value_and_grad, thetas[: m + 1].copy(), opt_gtol, opt_maxiter)
        thetas[: m + 1] = x
        n_energy, n_grad = n_energy + nfev, n_grad + njev
        energy, new_grads = measure()
        n_pool += len(strings)
        steps.append(
            AdaptStep(
                iteration=m + 1,
                operator=strings[k],
                gradient=float(abs(grads[k])),
                gradient_norm=norm,
                energy=energy,
                error=problem.error(energy),
                energy_evaluations=nfev,
                gradient_evaluations=njev,
                seconds=time.perf_counter() - t_step,
            )
        )
        grads = new_grads
    final_norm = float(np.linalg.norm(grads))
    if len(operators) == max_operators:  # the last operator may have met a rule too: say so
        if final_norm < grad_tol:
            stop = "gradient"
        elif energy_tol is not None and problem.error(energy) < energy_tol:
            stop = "energy"
    params = thetas[: len(operators)].copy()

    circuit, param_slots = compile_ansatz(n, problem.hf_bitstring, operators, params, simplify=simplify)
    counts = {**circuit.counts(), "parameters": len(param_slots)}
    noisy_energy = circuit_energy(circuit, param_slots, params, problem.hamiltonian, model, mitigate_readout)
    re_params = re_energy = None
    if reoptimize_noisy and param_slots:
        re_params, re_energy, _ = reoptimize(
            circuit, param_slots, params, problem.hamiltonian, model, mitigate_readout=mitigate_readout
        )
    config = {
        "pool": pool_name,
        "max_operators": max_operators,
        "grad_tol": grad_tol,
        "energy_tol": energy_tol,
        "opt_gtol": opt_gtol,
        "opt_maxiter": opt_maxiter,
        "reoptimize_noisy": reoptimize_noisy,
        "simplify": simplify,
        "mitigate_readout": mitigate_readout,
        "optimizer": "BFGS (scipy) on jax.grad, warm start, new angle 0",
    }
    return AdaptResult(
        problem=problem.name,
        e0=problem.e0,
        pool=pool_name,
        pool_operators=strings,
        operators=tuple(operators),
        params=params,
        energy=energy,
        error=problem.error(energy),
        chemically_accurate=problem.is_chemically_accurate(energy),
        hf_energy=hf_energy,
        steps=tuple(steps),
        stop=stop,
        final_gradient_norm=final_norm,
        energy_evaluations=n_energy,
        gradient_evaluations=n_grad,
        pool_gradient_evaluations=n_pool,
        circuit=circuit,
        param_slots=param_slots,
        counts=counts,
        noise=model.name,
        noisy_energy=noisy_energy,
        noisy_error=problem.error(noisy_energy),
        reoptimized_energy=re_energy,
        reoptimized_error=None if re_energy is None else problem.error(re_energy),
        reoptimized_params=re_params,
        config=config,
        seconds=time.perf_counter() - t0,
    )


__all__ = [
    "POOLS",
    "AdaptResult",
    "AdaptStep",
    "adapt_vqe",
    "compile_ansatz",
    "make_pool",
    "minimal_pool",
    "pauli_rotation_ops",
    "reoptimize",
    "two_local_pool",
]
