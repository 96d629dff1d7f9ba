"""Expectation values, jit-compiled once per shape: the :class:`Evaluator` and the engine choice.

Two engines share one :class:`Evaluator` and one contract (circuit as data, one compile per
shape, ``vmap`` over parameters and circuits, ``jax.grad`` through the scan loop):

* ``"ptm"`` -- :mod:`crlqas_kit.sim.ptm_engine`, the Pauli-transfer-matrix engine: any noise
  model, readout errors;
* ``"statevector"`` -- :mod:`crlqas_kit.sim.statevector`: ``2^n`` complex amplitudes instead of
  ``4^n`` reals, for noiseless models without readout error.

``engine="auto"`` (the default of :meth:`Evaluator.create`, :func:`expectation` and the RL
environment) picks the state vector whenever the model is noiseless (every channel the identity,
no readout error) and the PTM engine otherwise; :attr:`Evaluator.engine` tells which is used.
``E = sum_k h_k r_{P_k}`` is a gather and a dot product with the Hamiltonian's coefficients. A
batch of energies with enough work is split over the CPU devices (:mod:`crlqas_kit.sim.sharding`).

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
import warnings
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import x64
from . import ptm_engine
from . import statevector as sv
from .circuit import Circuit, check_params
from .mitigation import Mitigation
from .noise import NoiseModel
from .noise_spec import parse_noise
from .paulis import PAULI_MATRICES, PauliSum
from .sharding import SHARD_MIN_WORK as SHARD_MIN_WORK  # re-exported: the split lived here
from .sharding import shard_devices, split_batch

ENGINES = ("auto", "ptm", "statevector")
#: Largest qubit count per engine, checked before anything is allocated: a PTM state of 12 qubits
#: is 4^12 float64 = 134 MB; a state vector of 20 qubits is 2^20 complex128 = 17 MB.
MAX_QUBITS = {"ptm": 12, "statevector": 20}

#: Number of times the simulator kernel has been traced (compiled), for tests and benchmarks.
TRACE_COUNT = {"simulate": 0}


#: Smallest register for which the switch kernel fuses each qubit's 1-qubit gates into its next
#: 2-qubit gate (:func:`crlqas_kit.sim.ptm_engine.evolve`'s ``fused``). Measured (noisy, batch 64,
#: ~60 gates, loaded 2-core machine): fused / one pass per gate n = 4 3.4 / 1.4 ms, n = 5
#: 9.5 / 4.6 ms, n = 6 21 / 39 ms, n = 8 303 / 382 ms.
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
        mitigation: readout-error mitigation (:class:`~crlqas_kit.sim.mitigation.Mitigation`) or
            None (no correction); when set, :meth:`expectations` and :meth:`energy` return the
            corrected values.
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
    mitigation: Mitigation | None = None

    @classmethod
    @x64
    def create(
        cls,
        hamiltonian: PauliSum,
        noise: NoiseModel | str | None = None,
        initial: str | None = None,
        kernel: str = "switch",
        engine: str = "auto",
        mitigate_readout: bool = False,
    ) -> Evaluator:
        """Validate and convert a Hamiltonian, noise model and initial bitstring (default all zeros).

        ``mitigate_readout``: correct the measured Pauli expectations for the model's readout
        error by inverting its per-qubit confusion, as an experiment would
        (:mod:`crlqas_kit.sim.mitigation`); exact energies then equal those without readout
        error, finite-shot ones carry the larger variance of the correction. Nothing to correct
        (a model without readout error): no change.

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
        if not isinstance(mitigate_readout, bool | np.bool_):
            raise TypeError(f"mitigate_readout must be True or False, got {mitigate_readout!r}")
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
            mitigation=(
                Mitigation.create(arrays["readout"], hamiltonian.indices, n)
                if mitigate_readout and model.has_readout
                else None
            ),
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
        return ptm_engine.evolve(
            self.initial, self.one_qubit, self.two_qubit, circuit, params, self.kernel, self.loop, n >= FUSE_MIN_QUBITS
        )

    def measured(self, state: jnp.ndarray) -> jnp.ndarray:
        """Apply the readout maps to a Pauli vector (identity when there is no readout error)."""
        if self.has_readout:
            state = ptm_engine.measure(state, self.readout)
        return state

    def expectations(self, circuit: Circuit, params: jnp.ndarray) -> jnp.ndarray:
        """Measured ``<P_k>`` of every Hamiltonian term (readout included; corrected with
        :attr:`mitigation`), shape ``(K,)``."""
        if self.engine == "statevector":
            return sv.term_expectations(self.state(circuit, params).reshape(-1), self.tables)
        measured = self.measured(self.state(circuit, params))
        if self.mitigation is not None:
            measured = self.mitigation.expectations(measured)
        return measured.reshape(-1)[self.term_index]

    def shot_moments(self, circuit: Circuit, params: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        """``(E[X_k], E[X_k^2])`` of every term's single-shot estimator ``X_k``, each ``(K,)``: the
        measured ``+-1`` outcome product (second moment 1), or its readout-corrected form with
        :attr:`mitigation` (:mod:`crlqas_kit.sim.mitigation`). A term's shot variance is
        ``(E[X^2] - E[X]^2) / N``."""
        if self.mitigation is None:
            means = self.expectations(circuit, params)
            return means, jnp.ones_like(means)
        measured = self.measured(self.state(circuit, params))
        means = self.mitigation.expectations(measured).reshape(-1)[self.term_index]
        return means, self.mitigation.second_moments(measured).reshape(-1)[self.term_index]

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


def _prepare(circuit, hamiltonian, noise, params, initial, batch=False, engine="auto", mitigate_readout=False):
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
    ev = Evaluator.create(hamiltonian, noise, initial, engine=engine, mitigate_readout=mitigate_readout)
    ev = dataclasses.replace(ev, loop="while")
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
    mitigate_readout: bool = False,
) -> float:
    """Exact (infinite-shot) noisy energy ``Tr(H rho)`` of ``circuit`` with angles ``params``.

    Args:
        circuit: the circuit; its stored angles are used when ``params`` is None.
        hamiltonian: a :class:`PauliSum` on the same number of qubits.
        noise: a :class:`NoiseModel`, a spec string such as ``"depolarizing"``, or None.
        params: ``(n_params,)`` angles.
        initial: initial computational basis state as a bitstring (default ``"0" * n``).
        engine: ``"auto"`` (state vector when noiseless, else PTM), ``"ptm"`` or ``"statevector"``.
        mitigate_readout: correct the readout error of ``noise`` (:meth:`Evaluator.create`).
    """
    ev, p = _prepare(circuit, hamiltonian, noise, params, initial, engine=engine, mitigate_readout=mitigate_readout)
    return float(_energy(ev, circuit, p))


@x64
def expectation_batch(
    circuit: Circuit,
    hamiltonian: PauliSum,
    noise: NoiseModel | str | None = None,
    params: np.ndarray | None = None,
    initial: str | None = None,
    engine: str = "auto",
    mitigate_readout: bool = False,
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
    ev, p = _prepare(circuit, hamiltonian, noise, params, initial, True, engine, mitigate_readout)
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
