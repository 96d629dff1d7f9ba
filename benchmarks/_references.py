"""The reference simulators the benchmarks compare crlqas_kit against: Qiskit Aer, qulacs, PennyLane.

Each ``setup_*(n, ops, terms, params, depolarizing=None)`` builds the workload once (``ops``:
``[(gate, wires, ...)]`` with ``ry``/``rz`` rotations and ``cx``; ``terms``: ``[(pauli string,
coefficient)]``, qubit 0 = leftmost letter; ``params``: ``(batch, n_params)`` angles) and returns
``(single, batch, metadata)``: ``single()`` the energy of ``params[0]``, ``batch()`` the energies of
every row, ``metadata()`` a dict describing how the library ran.

``depolarizing=(p1, p2)``: the noisy density-matrix simulators (Aer ``density_matrix``, qulacs
``DensityMatrix``, PennyLane ``default.mixed``) with a 1-qubit depolarizing channel ``p1`` after
every rotation and a 2-qubit one ``p2`` after every CNOT, convention ``rho -> (1 - p) rho + p I/d``
(``benchmarks/simulator.py``). ``None``: the noiseless state-vector simulators (Aer ``statevector``,
qulacs ``QuantumState``, PennyLane ``lightning.qubit``; ``benchmarks/noiseless.py``).
"""

from __future__ import annotations

import time

import numpy as np

_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.diag([1, -1]).astype(complex),
}


def setup_aer(n, ops, terms, params, depolarizing: tuple[float, float] | None = None):
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer import AerSimulator

    if depolarizing is None:
        backend = AerSimulator(method="statevector")
    else:
        from qiskit_aer.noise import NoiseModel, depolarizing_error

        # Qiskit's depolarizing_error(p, k) is rho -> (1-p) rho + p I/2^k: our convention unchanged.
        p1, p2 = depolarizing
        noise = NoiseModel()
        noise.add_all_qubit_quantum_error(depolarizing_error(p1, 1), ["ry", "rz"])
        noise.add_all_qubit_quantum_error(depolarizing_error(p2, 2), ["cx"])
        backend = AerSimulator(method="density_matrix", noise_model=noise)
    # Qiskit labels put qubit 0 RIGHTMOST: reverse our strings.
    op = SparsePauliOp([p[::-1] for p, _ in terms], np.array([c for _, c in terms]))
    theta = ParameterVector("t", params.shape[1])
    qc = QuantumCircuit(n)
    k = 0
    for name, wires, *_ in ops:
        if name == "cx":
            qc.cx(*wires)
        else:
            getattr(qc, name)(theta[k], wires[0])
            k += 1
    qc.save_expectation_value(op, list(range(n)), label="E")
    t0 = time.perf_counter()
    bound = [qc.assign_parameters(row) for row in params]
    last: dict = {"bind_64_s": time.perf_counter() - t0}

    def single():
        return float(np.real(backend.run(bound[0]).result().data(0)["E"]))

    def batch():
        res = backend.run(bound).result()
        last["res"] = res
        return np.array([float(np.real(res.data(i)["E"])) for i in range(len(bound))])

    def metadata():
        res = last.pop("res", None)
        md = {"bind_64_s (not included in batch time)": last["bind_64_s"]}
        if res is not None:
            md |= {k: res.metadata.get(k) for k in ("parallel_experiments", "omp_enabled", "max_memory_mb")}
            r0 = res.results[0].metadata
            md |= {k: r0.get(k) for k in ("method", "parallel_state_update", "fusion", "noise")}
        return md

    return single, batch, metadata


def setup_qulacs(n, ops, terms, params, depolarizing: tuple[float, float] | None = None):
    from qulacs import DensityMatrix, Observable, ParametricQuantumCircuit, QuantumState
    from qulacs.gate import DepolarizingNoise, TwoQubitDepolarizingNoise

    # qulacs: Pauli terms are given with explicit qubit indices ("X 0 Z 3"), so there is no string
    # reversal (its state-vector index has qubit 0 as the LEAST significant bit, irrelevant here).
    # qulacs 0.6 rotations are exp(+i theta P / 2), the opposite sign: pass -theta.
    # DepolarizingNoise(q) applies each Pauli with prob q/3 -> q = 3p/4; TwoQubitDepolarizingNoise(q)
    # each of the 15 non-identity pairs with q/15 -> q = 15p/16. On a DensityMatrix both act as the
    # exact channel (checked against crlqas_kit by the benchmark).
    obs = Observable(n)
    for pauli, c in terms:
        obs.add_operator(c, " ".join(f"{ch} {q}" for q, ch in enumerate(pauli) if ch != "I"))
    circ = ParametricQuantumCircuit(n)
    for name, wires, *_ in ops:
        if name == "cx":
            circ.add_CNOT_gate(*wires)
            if depolarizing is not None:
                circ.add_gate(TwoQubitDepolarizingNoise(wires[0], wires[1], 15 * depolarizing[1] / 16))
        else:
            getattr(circ, f"add_parametric_{name.upper()}_gate")(wires[0], 0.0)
            if depolarizing is not None:
                circ.add_gate(DepolarizingNoise(wires[0], 3 * depolarizing[0] / 4))
    state = QuantumState(n) if depolarizing is None else DensityMatrix(n)

    def evaluate(row):
        for i, t in enumerate(row):
            circ.set_parameter(i, -float(t))
        state.set_zero_state()
        circ.update_quantum_state(state)
        return float(np.real(obs.get_expectation_value(state)))

    def single():
        return evaluate(params[0])

    def batch():  # qulacs has no batched API: a loop over the 64 parameter sets
        return np.array([evaluate(row) for row in params])

    return single, batch, lambda: {"batch_mode": "python loop over 64 parameter sets"}


def setup_pennylane(n, ops, terms, params, depolarizing: tuple[float, float] | None = None):
    import pennylane as qml

    # Wire q = our qubit q (string position q). DepolarizingChannel(q) applies each Pauli with
    # prob q/3 -> q = 3p/4; the 2-qubit channel from Kraus operators sqrt(1 - 15p/16) I and
    # sqrt(p/16) P over the 15 non-identity Pauli pairs (qml.QubitChannel).
    if depolarizing is not None:
        p1, p2 = depolarizing
        kraus2 = [np.sqrt(1 - 15 * p2 / 16) * np.eye(4, dtype=complex)] + [
            np.sqrt(p2 / 16) * np.kron(_PAULI[a], _PAULI[b]) for a in "IXYZ" for b in "IXYZ" if a + b != "II"
        ]
    wire_map = {q: q for q in range(n)}
    ham = qml.Hamiltonian(
        [c for _, c in terms], [qml.pauli.string_to_pauli_word(p, wire_map=wire_map) for p, _ in terms]
    )
    dev = qml.device("lightning.qubit" if depolarizing is None else "default.mixed", wires=n)

    @qml.qnode(dev, diff_method=None)
    def energy(theta):
        k = 0
        for name, wires, *_ in ops:
            if name == "cx":
                qml.CNOT(wires=list(wires))
                if depolarizing is not None:
                    qml.QubitChannel(kraus2, wires=list(wires))
            else:
                (qml.RY if name == "ry" else qml.RZ)(theta[k], wires=wires[0])
                if depolarizing is not None:
                    qml.DepolarizingChannel(3 * p1 / 4, wires=wires[0])
                k += 1
        return qml.expval(ham)

    def single():
        return float(energy(params[0]))

    def batch():  # parameter broadcasting: theta of shape (n_params, 64), one QNode call
        return np.asarray(energy(params.T), dtype=float).reshape(-1)

    return single, batch, lambda: {"batch_mode": "parameter broadcasting (one QNode call)"}


SETUPS = {"aer": setup_aer, "qulacs": setup_qulacs, "pennylane": setup_pennylane}
