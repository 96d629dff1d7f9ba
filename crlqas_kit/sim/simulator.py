"""Expectation values, jit-compiled once per shape: the PTM engine and the engine choice.

Two engines share one :class:`Evaluator` and one contract (circuit as data, one compile per
shape, ``vmap`` over parameters and circuits, ``jax.grad`` through the scan loop):

* ``"ptm"`` -- the Pauli-transfer-matrix engine below: any noise model, readout errors;
* ``"statevector"`` -- :mod:`crlqas_kit.sim.statevector`: ``2^n`` complex amplitudes instead of
  ``4^n`` reals, for noiseless models without readout error.

``engine="auto"`` (the default of :meth:`Evaluator.create`, :func:`expectation` and the RL
environment) picks the state vector whenever the model is noiseless (every channel the identity,
no readout error) and the PTM engine otherwise; :attr:`Evaluator.engine` tells which is used.

Maths (see ``docs/simulator.md``)
----------------------------------
The state is the real Pauli vector ``r_P = Tr(P rho)``, stored as an ``(4,) * n`` tensor (axis q
= qubit q, index I/X/Y/Z). A gate on wires ``w`` with noise channel ``N`` multiplies the axes ``w``
by the fused local PTM ``N @ G`` (4x4 or 16x16); nothing of size ``4^n x 4^n`` is ever built.
From :data:`FUSE_MIN_QUBITS` qubits the switch kernel keeps each qubit's 1-qubit PTMs pending and
folds them into its next 2-qubit pass: ``N2 G2 (P_a (x) P_b)`` (exact: they commute with gates on
other qubits). Readout errors act on the final vector (:func:`crlqas_kit.sim.noise.readout_map`), and
``E = sum_k h_k r_{P_k}`` is a gather and a dot product with the Hamiltonian's coefficients.

Compilation
-----------
The circuit is data (:class:`~crlqas_kit.sim.circuit.Circuit`); the simulator is one loop over
its gates (:func:`~crlqas_kit.sim.circuit.fold_gates`: a ``lax.scan`` over the ``capacity`` slots
whose padding is skipped, or a ``while`` loop over the ``length`` gates in use), and each step
picks the branch for its wires with ``lax.switch``. Compiled once per ``(n_qubits, capacity,
n_terms, has_readout)``: a new circuit architecture, new angles or new noise strengths reuse the
same executable.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import x64
from . import statevector as sv
from .circuit import GATE_IDS, Circuit, check_params, fold_gates
from .noise import NoiseModel
from .noise_spec import parse_noise
from .paulis import PAULI_MATRICES, PauliSum
from .ptm import GATE_PTMS, rotation_ptm, swap_qubits_ptm

ENGINES = ("auto", "ptm", "statevector")
#: Largest qubit count per engine, checked before anything is allocated: a PTM state of 12 qubits
#: is 4^12 float64 = 134 MB; a state vector of 20 qubits is 2^20 complex128 = 17 MB.
MAX_QUBITS = {"ptm": 12, "statevector": 20}

_FIXED_1Q = np.stack([GATE_PTMS[g] for g in ("x", "y", "z", "h", "s", "sx")])
_FIXED_2Q = np.stack([GATE_PTMS["cx"], GATE_PTMS["cz"]])
_FIRST_FIXED, _FIRST_2Q = GATE_IDS["x"], GATE_IDS["cx"]

#: Number of times the simulator kernel has been traced (compiled), for tests and benchmarks.
TRACE_COUNT = {"simulate": 0}


def _pair_table(n: int) -> np.ndarray:
    """``table[a, b]`` = index of the unordered pair ``{a, b}`` among the ``n(n-1)/2`` pairs."""
    table = np.zeros((n, n), np.int32)
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    for k, (a, b) in enumerate(pairs):
        table[a, b] = table[b, a] = k
    return table


def _apply_1q(state: jnp.ndarray, m: jnp.ndarray, q: int) -> jnp.ndarray:
    """``state`` (4,)*n, ``m`` (4, 4): contract ``m`` into axis ``q``.

    Written as 16 scaled slice-adds rather than an einsum: XLA fuses them into one pass over the
    state, while ``dot_general`` would transpose the state around the contraction (4x slower).
    """
    n = state.ndim
    s = state.reshape(4**q, 4, 4 ** (n - 1 - q))
    rows = [sum(m[i, j] * s[:, j] for j in range(4)) for i in range(4)]
    return jnp.stack(rows, axis=1).reshape(state.shape)


def _apply_2q(state: jnp.ndarray, m: jnp.ndarray, a: int, b: int) -> jnp.ndarray:
    """``m`` (16, 16) on axes ``a < b`` (``a`` the more significant factor)."""
    n = state.ndim
    s = state.reshape(4**a, 4, 4 ** (b - a - 1), 4, 4 ** (n - 1 - b))
    out = jnp.einsum("ikjl,xjylz->xiykz", m.reshape(4, 4, 4, 4), s)
    return out.reshape(state.shape)


@functools.cache
def _pair_permutations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``src[a, b]``: flat source index of each position when axes ``(a, b)`` are moved to the
    front (remaining axes ascending), and its inverse ``dst[a, b]``; int32 ``(n, n, 4**n)``."""
    src = np.zeros((n, n, 4**n), np.int32)
    for a in range(n):
        for b in range(n):
            if a != b:
                rest = [q for q in range(n) if q not in (a, b)]
                src[a, b] = np.arange(4**n).reshape((4,) * n).transpose([a, b, *rest]).reshape(-1)
    dst = np.argsort(src, axis=-1).astype(np.int32)
    return src, dst


def _apply_pair_gather(state: jnp.ndarray, m: jnp.ndarray, a, b) -> jnp.ndarray:
    """``m`` (16, 16) on dynamic wires ``(a, b)`` (``a`` the more significant factor of ``m``).

    Gathers the state into the order ``(a, b, remaining axes ascending)``, multiplies by ``m``
    and gathers back with the inverse permutation; no branch depends on the wires.
    """
    n = state.ndim
    src, dst = (jnp.asarray(t) for t in _pair_permutations(n))
    flat = state.reshape(-1)
    out = (m @ flat[src[a, b]].reshape(16, -1)).reshape(-1)
    return out[dst[a, b]].reshape(state.shape)


def _branches(n: int) -> list:
    """``lax.switch`` branches: one per qubit, one per unordered pair, then the identity."""
    one = [partial(lambda q, s, m1, m2: _apply_1q(s, m1, q), q) for q in range(n)]
    two = [partial(lambda a, b, s, m1, m2: _apply_2q(s, m2, a, b), a, b) for a in range(n) for b in range(a + 1, n)]
    return [*one, *two, lambda s, m1, m2: s]


#: Smallest register for which the switch kernel fuses each qubit's 1-qubit gates into its next
#: 2-qubit gate. Measured (noisy, batch 64, ~60 gates, loaded 2-core machine): fused / one pass
#: per gate n = 4 3.4 / 1.4 ms, n = 5 9.5 / 4.6 ms, n = 6 21 / 39 ms, n = 8 303 / 382 ms.
FUSE_MIN_QUBITS = 6


def batch_chunk(n_qubits: int) -> int:
    """Parameter sets evaluated together in a vmapped chunk: about ``4^7`` floats of state
    (PTM engine; the state-vector engine uses :func:`crlqas_kit.sim.statevector.batch_chunk`)."""
    return max(1, 4 ** (7 - n_qubits))


def is_noiseless(arrays: dict[str, np.ndarray], has_readout: bool) -> bool:
    """True when every channel of the dense noise arrays is the identity and there is no readout."""
    one, two = arrays["one_qubit"], arrays["two_qubit"]
    return (
        not has_readout
        and bool(np.array_equal(one, np.broadcast_to(np.eye(4), one.shape)))
        and bool(np.array_equal(two, np.broadcast_to(np.eye(16), two.shape)))
    )


def product_state(bitstring: str) -> np.ndarray:
    """Per-qubit Pauli vectors ``(n, 4)`` of a computational basis state (``'0' -> (1,0,0,1)``)."""
    if not isinstance(bitstring, str) or not bitstring or set(bitstring) - {"0", "1"}:
        raise ValueError(f"initial state must be a bitstring of '0'/'1' characters, got {bitstring!r}")
    return np.array([[1.0, 0.0, 0.0, 1.0 if b == "0" else -1.0] for b in bitstring])


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Evaluator:
    """Everything but the circuit that an energy evaluation needs, as a jit-friendly pytree.

    Build with :meth:`create`. ``energy``/``energies``/``pauli_vector`` are pure, jittable and
    vmappable in the circuit and the parameters; noise strengths and Hamiltonian coefficients
    are array leaves, so changing them does not recompile.

    Attributes:
        term_index: int ``(K,)`` flat Pauli index of each Hamiltonian term.
        coeffs: float64 ``(K,)``.
        one_qubit: ``(2, n, 4, 4)`` channels after rotations / fixed 1-qubit gates.
        two_qubit: ``(n, n, 16, 16)`` channels after 2-qubit gates, by ordered wire pair.
        readout: ``(n, 4, 4)`` measurement maps.
        initial: ``(n, 4)`` per-qubit Pauli vectors of the initial product state.
        tables: the Hamiltonian in bit-flip / phase form
            (:class:`~crlqas_kit.sim.statevector.PauliTables`), state-vector engine only.
        engine: ``"ptm"`` or ``"statevector"`` (static).
    """

    term_index: jnp.ndarray
    coeffs: jnp.ndarray
    one_qubit: jnp.ndarray
    two_qubit: jnp.ndarray
    readout: jnp.ndarray
    initial: jnp.ndarray
    n_qubits: int = dataclasses.field(metadata=dict(static=True))
    has_readout: bool = dataclasses.field(metadata=dict(static=True))
    kernel: str = dataclasses.field(default="switch", metadata=dict(static=True))
    loop: str = dataclasses.field(default="scan", metadata=dict(static=True))
    tables: sv.PauliTables | None = None
    engine: str = dataclasses.field(default="ptm", metadata=dict(static=True))

    @classmethod
    @x64
    def create(
        cls,
        hamiltonian: PauliSum,
        noise: NoiseModel | str | None = None,
        initial: str | None = None,
        kernel: str = "switch",
        engine: str = "auto",
    ) -> Evaluator:
        """Validate and convert a Hamiltonian, noise model and initial bitstring (default all zeros).

        ``engine``: ``"auto"`` (default) uses the state-vector engine for a noiseless model
        without readout error and the PTM engine otherwise; ``"ptm"`` / ``"statevector"`` force
        one (a state vector cannot represent a noisy model: that combination is a ValueError).

        ``kernel``: ``"switch"`` (default) applies each gate with a ``lax.switch`` over its wires:
        fastest when many parameter sets share one circuit. ``"gather"`` moves the gate's two
        wires to the front with an index gather and applies a 16x16 matrix: branch-free, so a
        ``vmap`` over *different* circuits (a batch of RL environments) does not execute every
        branch. Both give the same numbers. The loop over gates is a ``lax.scan`` over the
        whole capacity (reverse-differentiable); ``dataclasses.replace(ev, loop="while")`` visits
        only the ``length`` gates in use (faster for short circuits in long buffers, forward only).
        """
        if not isinstance(hamiltonian, PauliSum):
            raise TypeError(f"hamiltonian must be a PauliSum, got {type(hamiltonian).__name__}")
        if kernel not in ("switch", "gather"):
            raise ValueError(f"kernel must be 'switch' or 'gather', got {kernel!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        n = hamiltonian.n_qubits
        model = parse_noise(noise, n)
        arrays = model.arrays(n)
        noiseless = is_noiseless(arrays, model.has_readout)
        if engine == "statevector" and not noiseless:
            raise ValueError(
                f"engine='statevector' needs a noiseless model without readout error, got noise {model.name!r}; "
                "use engine='ptm' or 'auto'"
            )
        engine = ("statevector" if noiseless else "ptm") if engine == "auto" else engine
        if n > MAX_QUBITS[engine]:
            size = f"4^{n} reals" if engine == "ptm" else f"2^{n} amplitudes"
            raise ValueError(
                f"{n} qubits is beyond the {engine} engine's limit of {MAX_QUBITS[engine]} (its state holds {size})"
            )
        if engine == "ptm" and kernel == "gather" and not 2 <= n <= 8:
            raise ValueError("the PTM gather kernel supports 2 to 8 qubits (its index tables grow as 4^n)")
        init = product_state(initial if initial is not None else "0" * n)
        if init.shape[0] != n:
            raise ValueError(f"initial bitstring {initial!r} has {init.shape[0]} bits, the Hamiltonian {n} qubits")
        return cls(
            term_index=jnp.asarray(hamiltonian.indices),
            coeffs=jnp.asarray(hamiltonian.coeffs),
            one_qubit=jnp.asarray(arrays["one_qubit"]),
            two_qubit=jnp.asarray(arrays["two_qubit"]),
            readout=jnp.asarray(arrays["readout"]),
            initial=jnp.asarray(init),
            n_qubits=n,
            has_readout=model.has_readout,
            kernel=kernel,
            tables=sv.pauli_tables(hamiltonian) if engine == "statevector" else None,
            engine=engine,
        )

    # -- pure kernels (call under x64) -------------------------------------------------------
    def state(self, circuit: Circuit, params: jnp.ndarray) -> jnp.ndarray:
        """Final state before readout. ``params`` indexed by slot.

        PTM engine: the Pauli vector, float64 ``(4,) * n``. State-vector engine: the amplitudes,
        complex128 ``(2,) * n``.
        """
        TRACE_COUNT["simulate"] += 1  # Python side effect: runs once per trace, not per call
        n = self.n_qubits
        if circuit.n_qubits != n:
            raise ValueError(f"circuit has {circuit.n_qubits} qubits, the Hamiltonian {n}")
        params = jnp.asarray(params)
        if self.engine == "statevector":
            return sv.evolve(self.initial, circuit, params, self.kernel, self.loop).reshape((2,) * n)
        state = self.initial[0]
        for q in range(1, n):
            state = jnp.multiply.outer(state, self.initial[q])
        pairs = jnp.asarray(_pair_table(n))
        branches = _branches(n)
        fixed1, fixed2 = jnp.asarray(_FIXED_1Q), jnp.asarray(_FIXED_2Q)
        eye = jnp.eye(4, dtype=state.dtype)

        def gate_ptms(g, w, slot):
            theta = params[jnp.maximum(slot, 0)]
            table1 = jnp.concatenate(
                [eye[None], jnp.stack([rotation_ptm(a, theta) for a in "xyz"]), fixed1, eye[None], eye[None]]
            )
            kind = (g >= _FIRST_FIXED).astype(jnp.int32)
            m1 = self.one_qubit[kind, w[0]] @ table1[g]
            m2 = self.two_qubit[w[0], w[1]] @ fixed2[jnp.clip(g - _FIRST_2Q, 0, 1)]
            return m1, m2

        def step_unfused(state, gate):
            g, w, slot, active = gate
            m1, m2 = gate_ptms(g, w, slot)
            m2 = jnp.where(w[0] > w[1], swap_qubits_ptm(m2), m2)
            branch = jnp.where(g >= _FIRST_2Q, n + pairs[w[0], w[1]], w[0])
            branch = jnp.where((g == 0) | ~active, len(branches) - 1, branch)
            return jax.lax.switch(branch, branches, state, m1, m2)

        def step(carry, gate):
            """Fused: a 1-qubit gate (with its noise) only multiplies its qubit's pending 4x4
            PTM; a 2-qubit gate applies ``N2 G2 (P_a (x) P_b)`` -- the pending PTMs of its two
            qubits folded in -- in one 16x16 pass. Exact: gates on other qubits commute with
            the pending ones. ``dirty`` (which qubits have pending gates) depends on the circuit
            only, so the final flush is a real branch per qubit even under a vmap over params."""
            state, pending, dirty = carry
            g, w, slot, active = gate
            m1, m2 = gate_ptms(g, w, slot)
            used = (g != 0) & active
            is_2q = used & (g >= _FIRST_2Q)
            is_1q = used & (g < _FIRST_2Q)
            m = m2 @ jnp.kron(pending[w[0]], pending[w[1]])
            m = jnp.where(w[0] > w[1], swap_qubits_ptm(m), m)
            branch = jnp.where(is_2q, n + pairs[w[0], w[1]], len(branches) - 1)
            state = jax.lax.switch(branch, branches, state, m1, m)
            eye_n = jnp.broadcast_to(eye, pending.shape)
            on_pair = (jnp.arange(n) == w[0]) | (jnp.arange(n) == w[1])
            pending = jnp.where((is_2q & on_pair)[:, None, None], eye_n, pending)
            pending = pending.at[w[0]].set(jnp.where(is_1q, m1 @ pending[w[0]], pending[w[0]]))
            dirty = jnp.where(is_2q & on_pair, False, dirty).at[w[0]].set(dirty[w[0]] | is_1q)
            return (state, pending, dirty), None

        def step_gather(state, gate):
            g, w, slot, active = gate
            m1, m2 = gate_ptms(g, w, slot)
            is_2q = g >= _FIRST_2Q
            m = jnp.where(is_2q, m2, jnp.kron(m1, eye))
            m = jnp.where((g == 0) | ~active, jnp.eye(16, dtype=m.dtype), m)
            second = jnp.where(is_2q, w[1], (w[0] + 1) % n)
            return _apply_pair_gather(state, m, w[0], second), None

        if self.kernel == "gather" and n >= 2:  # branch-free: vmaps over circuits without select
            return fold_gates(lambda s, gate: step_gather(s, gate)[0], state, circuit, self.loop)
        if n < FUSE_MIN_QUBITS:  # one pass per gate: the 16x16 products would cost more than they save
            carry = (state, jnp.broadcast_to(eye, (n, 4, 4)), jnp.zeros(n, bool))
            return fold_gates(lambda c, gate: (step_unfused(c[0], gate), *c[1:]), carry, circuit, self.loop)[0]
        pending = jnp.broadcast_to(eye, (n, 4, 4))
        carry = (state, pending, jnp.zeros(n, bool))
        state, pending, dirty = fold_gates(lambda c, gate: step(c, gate)[0], carry, circuit, self.loop)
        for q in range(n):  # flush the 1-qubit gates left after each qubit's last 2-qubit gate
            state = jax.lax.cond(dirty[q], partial(_apply_1q, q=q), lambda s, m: s, state, pending[q])
        return state

    def measured(self, state: jnp.ndarray) -> jnp.ndarray:
        """Apply the readout maps to a Pauli vector (identity when there is no readout error)."""
        if self.has_readout:
            for q in range(self.n_qubits):
                state = _apply_1q(state, self.readout[q], q)
        return state

    def expectations(self, circuit: Circuit, params: jnp.ndarray) -> jnp.ndarray:
        """Measured ``<P_k>`` of every Hamiltonian term (readout included), shape ``(K,)``."""
        if self.engine == "statevector":
            return sv.term_expectations(self.state(circuit, params).reshape(-1), self.tables)
        return self.measured(self.state(circuit, params)).reshape(-1)[self.term_index]

    def energy(self, circuit: Circuit, params: jnp.ndarray) -> jnp.ndarray:
        """``Tr(H rho(params))`` as measured (readout included); a float64 scalar.

        State-vector engine: ``<psi|H|psi>`` from the grouped bit-flip / phase tables.
        """
        if self.engine == "statevector":
            return sv.energy(self.state(circuit, params).reshape(-1), self.tables)
        return jnp.dot(self.coeffs, self.expectations(circuit, params))

    def energies(self, circuit: Circuit, params: jnp.ndarray) -> jnp.ndarray:
        """Energies for a batch of parameter sets ``(B, P) -> (B,)`` (one circuit).

        Small states are vmapped in chunks of :func:`batch_chunk` parameter sets, large ones
        evaluated one after another (``lax.map``): a vmapped ``4^n`` state wider than the cache
        is slower than a loop, and the chunk also bounds memory to ``chunk * 4^n`` floats.

        From :data:`SHARD_MIN_WORK`, with more than one CPU device (``import crlqas_kit``
        asks for one per core, see :mod:`crlqas_kit._cores`), the batch is split over the
        devices with ``jax.shard_map``: one core per part (padded to a multiple of the devices).
        """
        chunk = sv.batch_chunk(self.n_qubits) if self.engine == "statevector" else batch_chunk(self.n_qubits)
        parts = len(shard_devices(self.n_qubits, self.engine, params.shape[0]) or [None])
        energies = partial(_map_energies, self, circuit, chunk=max(1, min(chunk, -(-params.shape[0] // parts))))
        return split_batch(energies, self.n_qubits, self.engine, params)


#: Smallest batch work (parameter sets x state entries: ``4^n`` reals for the PTM engine, ``2^n``
#: amplitudes for the state vector) that :meth:`Evaluator.energies` splits over the CPU devices.
#: The split costs about 0.3-0.5 ms per call, so it pays from ~2 ms of single-core work
#: (measured, benchmarks/cores.py: PTM n = 6, 2 points 0.76 -> 1.12 ms when split, 64 points
#: 25 -> 11 ms; n = 7, 2 points 1.84 -> 1.57 ms; state vector n = 10, 2 points 0.6 -> 0.8 ms,
#: 64 points 15.6 -> 8.1 ms).
SHARD_MIN_WORK = {"ptm": 2**15, "statevector": 2**13}


def shard_devices(n_qubits: int, engine: str, batch: int) -> list | None:
    """The CPU devices a batch of ``batch`` energies is split over, or None for no split."""
    devices = jax.devices()
    state = 4**n_qubits if engine == "ptm" else 2**n_qubits
    if len(devices) < 2 or batch < 2 or batch * state < SHARD_MIN_WORK[engine]:
        return None
    return devices[: min(len(devices), batch)]


def split_batch(fn, n_qubits: int, engine: str, *batched):
    """``fn(*batched)`` for arrays with a leading batch axis ``B`` (output ``(B, ...)``), split
    over the CPU devices by :func:`shard_devices` with ``jax.shard_map`` (the batch padded to a
    multiple of the devices with copies of its last row); ``fn`` itself when not split.
    ``fn`` may close over replicated values (the evaluator, the circuit)."""
    devices = shard_devices(n_qubits, engine, batched[0].shape[0])
    if devices is None:
        return fn(*batched)
    batch, parts = batched[0].shape[0], len(devices)
    pad = -(-batch // parts) * parts - batch
    padded = [jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]) if pad else a for a in batched]
    spec = jax.sharding.PartitionSpec("batch")
    split = jax.shard_map(
        fn,
        mesh=jax.sharding.Mesh(np.asarray(devices), ("batch",)),
        in_specs=(spec,) * len(batched),
        out_specs=spec,
        check_vma=False,  # the kernel's lax.switch branches mix replicated and per-device values
    )
    return split(*padded)[:batch]


def _map_energies(ev: Evaluator, circuit: Circuit, params: jnp.ndarray, chunk: int) -> jnp.ndarray:
    return jax.lax.map(lambda p: ev.energy(circuit, p), params, batch_size=chunk)


@jax.jit
def _energy(ev: Evaluator, circuit: Circuit, params):
    return ev.energy(circuit, params)


@jax.jit
def _energies(ev: Evaluator, circuit: Circuit, params):
    return ev.energies(circuit, params)


@jax.jit
def _state(ev: Evaluator, circuit: Circuit, params):
    return ev.state(circuit, params)


def _prepare(circuit, hamiltonian, noise, params, initial, batch=False, engine="auto"):
    """Validated evaluator and slot-padded parameters for the public (forward-only) functions.

    The evaluator loops over the ``length`` gates in use (``loop="while"``): a short circuit in
    a long buffer costs its own gates, not the capacity (same numbers as the scan).
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a crlqas_kit Circuit, got {type(circuit).__name__}")
    if not isinstance(hamiltonian, PauliSum):
        raise TypeError(f"hamiltonian must be a PauliSum, got {type(hamiltonian).__name__}")
    if hamiltonian.n_qubits != circuit.n_qubits:
        raise ValueError(f"the circuit acts on {circuit.n_qubits} qubits but the Hamiltonian on {hamiltonian.n_qubits}")
    ev = dataclasses.replace(Evaluator.create(hamiltonian, noise, initial, engine=engine), loop="while")
    if params is None:
        p = np.asarray(circuit.angles)
        return ev, (np.broadcast_to(p, (1, p.size)) if batch else p)
    if batch:
        arr = np.asarray(params, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"batched parameters must have shape (batch, {circuit.n_params}), got {arr.shape}")
        rows = (
            np.stack([check_params(row, circuit.n_params) for row in arr]) if len(arr) else arr[:, : circuit.n_params]
        )
        padded = np.zeros((arr.shape[0], circuit.capacity))
        padded[:, : circuit.n_params] = rows
        return ev, padded
    padded = np.zeros(circuit.capacity)
    padded[: circuit.n_params] = check_params(params, circuit.n_params)
    return ev, padded


@x64
def expectation(
    circuit: Circuit,
    hamiltonian: PauliSum,
    noise: NoiseModel | str | None = None,
    params: Sequence[float] | None = None,
    initial: str | None = None,
    engine: str = "auto",
) -> float:
    """Exact (infinite-shot) noisy energy ``Tr(H rho)`` of ``circuit`` with angles ``params``.

    Args:
        circuit: the circuit; its stored angles are used when ``params`` is None.
        hamiltonian: a :class:`PauliSum` on the same number of qubits.
        noise: a :class:`NoiseModel`, a spec string such as ``"depolarizing"``, or None.
        params: ``(n_params,)`` angles.
        initial: initial computational basis state as a bitstring (default ``"0" * n``).
        engine: ``"auto"`` (state vector when noiseless, else PTM), ``"ptm"`` or ``"statevector"``.
    """
    ev, p = _prepare(circuit, hamiltonian, noise, params, initial, engine=engine)
    return float(_energy(ev, circuit, p))


@x64
def expectation_batch(
    circuit: Circuit,
    hamiltonian: PauliSum,
    noise: NoiseModel | str | None = None,
    params: np.ndarray | None = None,
    initial: str | None = None,
    engine: str = "auto",
) -> np.ndarray:
    """Energies for a batch of parameter sets, ``params`` of shape ``(B, n_params)`` -> ``(B,)``.

    Same argument order as :func:`expectation` (``noise`` before ``params``); ``params=None`` is
    the circuit's stored angles as a batch of one. The order before (``circuit, hamiltonian,
    params, noise``) still works for one release with a ``DeprecationWarning``: it is recognised
    by an array-like third argument (a noise spec is a string, a :class:`NoiseModel` or None).
    """
    if _is_parameter_batch(noise) and (params is None or isinstance(params, NoiseModel | str)):
        warnings.warn(
            "expectation_batch(circuit, hamiltonian, params, noise) is deprecated: the order is now "
            "expectation_batch(circuit, hamiltonian, noise, params), as in expectation(); pass params= "
            "by keyword to be explicit. The old order goes in the next release",
            DeprecationWarning,
            stacklevel=3,  # x64's wrapper sits between the caller and this function
        )
        noise, params = params, noise
    ev, p = _prepare(circuit, hamiltonian, noise, params, initial, batch=True, engine=engine)
    return np.asarray(_energies(ev, circuit, p))


def _is_parameter_batch(value) -> bool:
    """True for array-likes of numbers (what parameters are), False for a noise spec or None."""
    if value is None or isinstance(value, NoiseModel | str):
        return False
    return isinstance(value, np.ndarray | jax.Array | list | tuple)


@x64
def pauli_vector(
    circuit: Circuit, noise: NoiseModel | str | None = None, params=None, initial: str | None = None
) -> np.ndarray:
    """Final state as the Pauli vector ``r_P = Tr(P rho)``, shape ``(4**n,)`` (no readout error)."""
    dummy = PauliSum.from_list([("I" * circuit.n_qubits, 0.0)])
    ev, p = _prepare(circuit, dummy, noise, params, initial, engine="ptm")
    return np.asarray(_state(ev, circuit, p)).reshape(-1)


def density_matrix(
    circuit: Circuit, noise: NoiseModel | str | None = None, params=None, initial: str | None = None
) -> np.ndarray:
    """Final density matrix ``rho = sum_P r_P P / 2**n`` (for teaching and tests; n <= 10)."""
    n = circuit.n_qubits
    if n > 10:
        raise ValueError("density_matrix builds a dense 2^n x 2^n matrix; use pauli_vector for n > 10")
    r = pauli_vector(circuit, noise, params, initial).reshape((4,) * n)
    return pauli_vector_to_matrix(r)


def pauli_vector_to_matrix(r: np.ndarray) -> np.ndarray:
    """``rho = sum_P r_P P / 2**n`` from a Pauli vector of shape ``(4**n,)`` or ``(4,) * n``."""
    r = np.asarray(r)
    n = int(round(np.log(r.size) / np.log(4)))
    out = r.reshape((4,) * n).astype(complex)
    for _ in range(n):  # contract the leading Pauli axis, append its (row, col) pair at the end
        out = np.einsum("p...,pab->...ab", out, PAULI_MATRICES)
    order = [2 * q for q in range(n)] + [2 * q + 1 for q in range(n)]
    return np.transpose(out, order).reshape(2**n, 2**n) / 2**n
