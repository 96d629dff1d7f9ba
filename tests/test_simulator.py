"""The PTM simulator against the independent dense density-matrix reference (``tests/reference_dm.py``).

Shapes are reused on purpose (capacity ``CAP``, a fixed number of Hamiltonian terms per ``n``) so
each ``(n_qubits, capacity, n_terms, has_readout)`` compiles once for the whole test session.
Noise models are rebuilt for the reference from the reference's own Kraus builders (or, for
arbitrary channels, from the Kraus operators the test drew), never from the kit's PTMs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import crlqas_kit as ck
from crlqas_kit.sim import simulator
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.noise import NoiseModel
from crlqas_kit.sim.noise_spec import parse_noise
from crlqas_kit.sim.paulis import PauliSum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

ATOL = 1e-10
CAP = 24  # capacity shared by every circuit here: one compilation per n
N_TERMS = {1: 4, 2: 8, 3: 8, 4: 8, 5: 8}
ROTATIONS = ("rx", "ry", "rz")
FIXED_1Q = ("x", "y", "z", "h", "s", "sx")
TWO_QUBIT = ("cx", "cz")
DEVICES = Path(ck.__file__).resolve().parent / "data" / "devices"


# ----------------------------------------------------------------------------- random problems
def random_terms(n: int, rng: np.random.Generator) -> list[tuple[str, float]]:
    """Identity term plus distinct random Pauli strings, ``N_TERMS[n]`` in all, random real coefficients."""
    strings = ["I" * n]
    while len(strings) < N_TERMS[n]:
        s = "".join(rng.choice(list("IXYZ"), size=n))
        if s not in strings:
            strings.append(s)
    return [(s, float(c)) for s, c in zip(strings, rng.normal(size=len(strings)), strict=True)]


def random_ops(n: int, rng: np.random.Generator, length: int = CAP) -> list[tuple]:
    """Every gate of the kit at least once (2-qubit ones reversed and non-adjacent too), then random ones."""
    names = list(ROTATIONS + FIXED_1Q)
    forced: list[tuple] = []
    if n > 1:
        names += list(TWO_QUBIT)
        forced = [("cx", (n - 1, 0), None), ("cz", (n - 1, 0), None)]
    names += list(rng.choice(names, size=length - len(names) - len(forced)))
    ops = list(forced)
    for name in names:
        if name in TWO_QUBIT:
            a, b = rng.choice(n, size=2, replace=False)
            ops.append((str(name), (int(a), int(b)), None))
        else:
            q = int(rng.integers(n))
            angle = float(rng.uniform(-2 * np.pi, 2 * np.pi)) if name in ROTATIONS else None
            ops.append((str(name), (q,), angle))
    order = rng.permutation(len(ops))
    return [ops[i] for i in order]


def random_bitstring(n: int, rng: np.random.Generator) -> str:
    return "".join(str(int(b)) for b in rng.integers(0, 2, size=n))


def random_kraus(d: int, m: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Kraus operators of a random channel: the ``m`` blocks of a random ``(m d) x d`` isometry."""
    a = rng.normal(size=(m * d, d)) + 1j * rng.normal(size=(m * d, d))
    q, _ = np.linalg.qr(a)
    return [q[i * d : (i + 1) * d] for i in range(m)]


def compose(first: list, second: list) -> list:
    """Kraus operators of ``second`` after ``first``."""
    return [b @ a for a in first for b in second]


# ----------------------------------------------------------------------------- reference noise
@dataclass
class RefNoise:
    """The reference's view of a noise model: Kraus sets applied after each gate kind, plus readout.

    ``rotation(q)`` / ``fixed(q)`` return a list of Kraus sets on qubit ``q`` (applied in order);
    ``two(a, b)`` returns a list of ``(wires, kraus)`` after a 2-qubit gate on wires ``(a, b)``.
    """

    rotation: Callable[[int], list] = lambda q: []
    fixed: Callable[[int], list] = lambda q: []
    two: Callable[[int, int], list] = lambda a, b: []
    readout: tuple[np.ndarray, np.ndarray] | None = None
    notes: dict = field(default_factory=dict)

    def ops(self, circuit_ops: list[tuple]) -> list[tuple]:
        out = []
        for name, wires, angle in circuit_ops:
            out.append((name, wires, angle) if angle is not None else (name, wires))
            if name in ROTATIONS:
                out += [("kraus", wires, k) for k in self.rotation(wires[0])]
            elif name in FIXED_1Q:
                out += [("kraus", wires, k) for k in self.fixed(wires[0])]
            else:
                out += [("kraus", w, k) for w, k in self.two(*wires)]
        return out

    def then(self, other: RefNoise) -> RefNoise:
        assert self.readout is None or other.readout is None
        return RefNoise(
            rotation=lambda q: self.rotation(q) + other.rotation(q),
            fixed=lambda q: self.fixed(q) + other.fixed(q),
            two=lambda a, b: self.two(a, b) + other.two(a, b),
            readout=self.readout if other.readout is None else other.readout,
        )


def on_both(kraus_a: list, kraus_b: list | None = None) -> Callable[[int, int], list]:
    """After a 2-qubit gate: one 1-qubit channel on each wire."""
    kraus_b = kraus_a if kraus_b is None else kraus_b
    return lambda a, b: [((a,), kraus_a), ((b,), kraus_b)]


#: Documented defaults of the presets (issue 2 / spec section 9 / the kit's preset docs).
PRESET_DEFAULTS = {
    "none": {},
    "depolarizing": {"p1": 1e-3},
    "depolarizing-cnot": {"p1": 1e-3, "p2": 5e-3},
    "depolarizing-2q": {"p1": 1e-3, "p2": 1e-2},
    "thermal": {"t1": 100e-6, "t2": 100e-6, "t1q": 35e-9, "t2q": 300e-9},
    "amplitude-damping": {"gamma": 1e-3},
    "phase-damping": {"lam": 1e-3},
    "readout": {"p10": 1e-2, "p01": 1e-2},
}


def ref_preset(name: str, n: int, **override: float) -> RefNoise:
    """What each preset means, rebuilt from the reference's Kraus builders."""
    p = {**PRESET_DEFAULTS[name], **override}
    if name == "none":
        return RefNoise()
    if name == "depolarizing":  # 1-qubit depolarizing after rotations only
        return RefNoise(rotation=lambda q: [ref.kraus_depolarizing_1q(p["p1"])])
    if name == "depolarizing-cnot":  # plus independent 1-qubit depolarizing on both qubits of a 2-qubit gate
        d2 = ref.kraus_depolarizing_1q(p["p2"])
        return RefNoise(rotation=lambda q: [ref.kraus_depolarizing_1q(p["p1"])], two=on_both(d2))
    if name == "depolarizing-2q":
        d1 = ref.kraus_depolarizing_1q(p["p1"])
        d2 = ref.kraus_depolarizing_2q(p["p2"])
        return RefNoise(rotation=lambda q: [d1], fixed=lambda q: [d1], two=lambda a, b: [((a, b), d2)])
    if name == "thermal":
        one = ref.kraus_thermal_relaxation(p["t1"], p["t2"], p["t1q"])
        two = ref.kraus_thermal_relaxation(p["t1"], p["t2"], p["t2q"])
        return RefNoise(rotation=lambda q: [one], fixed=lambda q: [one], two=on_both(two))
    if name in ("amplitude-damping", "phase-damping"):
        k = (
            ref.kraus_amplitude_damping(p["gamma"])
            if name == "amplitude-damping"
            else ref.kraus_phase_damping(p["lam"])
        )
        return RefNoise(rotation=lambda q: [k], fixed=lambda q: [k], two=on_both(k))
    if name == "readout":
        return RefNoise(readout=(np.full(n, p["p10"]), np.full(n, p["p01"])))
    raise KeyError(name)


def spec_case(spec: str) -> Callable:
    """A noise case given as a CLI spec string, ``"a:k=v,...+b"``; the reference parses it itself."""

    def build(n: int, rng: np.random.Generator):
        model: RefNoise | None = None
        for part in spec.split("+"):
            name, _, args = part.partition(":")
            kw = {k: float(v) for k, v in (a.split("=") for a in args.split(",") if a)}
            r = ref_preset(name, n, **kw)
            model = r if model is None else model.then(r)
        return spec, model

    return build


# -- custom models: the kit gets PTMs computed by the *reference* from the drawn Kraus operators


def custom_per_qubit(n: int, rng: np.random.Generator):
    """Per-qubit (n, 4, 4) arrays, a per-pair (n, n, 16, 16) array of random channels, per-qubit readout."""
    rot_k = [
        compose(ref.kraus_amplitude_damping(g), ref.kraus_phase_damping(lam))
        for g, lam in rng.uniform(0.01, 0.3, size=(n, 2))
    ]
    fix_k = []
    for _ in range(n):
        t1 = rng.uniform(20e-6, 100e-6)
        fix_k.append(ref.kraus_thermal_relaxation(t1, rng.uniform(0.1, 2.0) * t1, rng.uniform(0, 20e-6), rng.uniform()))
    pair_k = {(a, b): random_kraus(4, 3, rng) for a in range(n) for b in range(n) if a != b}
    two = np.tile(np.eye(16), (n, n, 1, 1))
    for (a, b), k in pair_k.items():
        two[a, b] = ref.ptm_of_kraus(k)
    readout = rng.uniform(0.0, 0.3, size=(n, 2))
    model = NoiseModel(
        rotation=np.stack([ref.ptm_of_kraus(k) for k in rot_k]),
        fixed_1q=np.stack([ref.ptm_of_kraus(k) for k in fix_k]),
        two_qubit=two,
        readout=readout,
    )
    return model, RefNoise(
        rotation=lambda q: [rot_k[q]],
        fixed=lambda q: [fix_k[q]],
        two=lambda a, b: [((a, b), pair_k[(a, b)])],
        readout=(readout[:, 0], readout[:, 1]),
    )


def custom_uniform_asymmetric(n: int, rng: np.random.Generator):
    """One random 1-qubit channel after rotations and one random, non-symmetric 2-qubit channel."""
    k1, k2 = random_kraus(2, 2, rng), random_kraus(4, 2, rng)
    model = NoiseModel(rotation=ref.ptm_of_kraus(k1), two_qubit=ref.ptm_of_kraus(k2))
    return model, RefNoise(rotation=lambda q: [k1], two=lambda a, b: [((a, b), k2)])


def custom_pair_products(n: int, rng: np.random.Generator):
    """(n, n, 16, 16) of A_ab (x) B_ab with different channels on control and target; uniform readout."""
    params = {(a, b): rng.uniform(0.02, 0.4, size=2) for a in range(n) for b in range(n) if a != b}
    two = np.tile(np.eye(16), (n, n, 1, 1))
    for (a, b), (g, lam) in params.items():
        two[a, b] = np.kron(
            ref.ptm_of_kraus(ref.kraus_amplitude_damping(g)), ref.ptm_of_kraus(ref.kraus_phase_damping(lam))
        )
    ps = rng.uniform(0.0, 0.2, size=n)
    readout = np.array([0.04, 0.11])
    model = NoiseModel(
        fixed_1q=np.stack([np.diag([1.0, 1 - p, 1 - p, 1 - p]) for p in ps]), two_qubit=two, readout=readout
    )

    def after_two(a, b):
        g, lam = params[(a, b)]
        return [((a,), ref.kraus_amplitude_damping(g)), ((b,), ref.kraus_phase_damping(lam))]

    return model, RefNoise(
        fixed=lambda q: [ref.kraus_depolarizing_1q(ps[q])],
        two=after_two,
        readout=(np.full(n, readout[0]), np.full(n, readout[1])),
    )


# -- device models: rebuilt from the profile numbers with the reference's Kraus builders


def _entanglement_fidelity(kraus: list) -> float:
    d = kraus[0].shape[0]
    return float(sum(abs(np.trace(k)) ** 2 for k in kraus) / d**2)


def _depolarizing_for_error(relax: list, error: float) -> list:
    """Depolarizing Kraus set D with average gate infidelity of ``D o relax`` equal to ``error`` (p >= 0).

    ``F_pro(D_p o E) = (1 - p) F_pro(E) + p / d^2`` and ``F_avg = (d F_pro + 1) / (d + 1)``.
    """
    d = relax[0].shape[0]
    f_e = _entanglement_fidelity(relax)
    f_target = ((1 - error) * (d + 1) - 1) / d
    p = float(np.clip((f_e - f_target) / (f_e - 1 / d**2), 0.0, 1.0))
    return ref.kraus_depolarizing_1q(p) if d == 2 else ref.kraus_depolarizing_2q(p)


def ref_device(values: list[dict], pair: Callable[[int, int], tuple[float, float]]) -> RefNoise:
    """1-qubit gates: TR(T1, T2, t_sx) then D; 2-qubit gates: TR(t_cx) on both, then D_2 (issue/devices doc)."""
    one = []
    for v in values:
        relax = ref.kraus_thermal_relaxation(v["t1"], v["t2"], v["t1q"])
        one.append([relax, _depolarizing_for_error(relax, v["e1"])])

    def two(a, b):
        e2, t2q = pair(a, b)
        ra = ref.kraus_thermal_relaxation(values[a]["t1"], values[a]["t2"], t2q)
        rb = ref.kraus_thermal_relaxation(values[b]["t1"], values[b]["t2"], t2q)
        dep = _depolarizing_for_error([np.kron(x, y) for x in ra for y in rb], e2)
        return [((a,), ra), ((b,), rb), ((a, b), dep)]

    ro = (np.array([v["p10"] for v in values]), np.array([v["p01"] for v in values]))
    return RefNoise(rotation=lambda q: one[q], fixed=lambda q: one[q], two=two, readout=ro)


DEVICE_QUBITS = {1: [3], 2: [5, 3], 3: [3, 5, 8], 4: [1, 2, 3, 5], 5: [1, 2, 3, 5, 8]}


def device_calibrated(n: int, rng: np.random.Generator):
    """``ibm-mumbai[...]``: per-qubit calibration of the chosen physical qubits (coupled and uncoupled pairs)."""
    qubits = DEVICE_QUBITS[n]
    profile = json.loads((DEVICES / "ibm-mumbai.json").read_text())
    sx = {g["qubit"]: g for g in profile["gates_1q"]["sx"]}
    cx = {tuple(g["qubits"]): g for g in profile["gates_2q"]["cx"]}
    values = []
    for q in qubits:
        qd = profile["qubits"][q]
        values.append(
            {
                "t1": qd["t1"],
                "t2": min(qd["t2_clipped"], 2 * qd["t1"]),
                "t1q": sx[q]["duration"],
                "e1": sx[q]["error"],
                "p10": qd["readout_p10"],
                "p01": qd["readout_p01"],
            }
        )

    def pair(a, b):
        g = cx.get((qubits[a], qubits[b]))
        if g is None:  # not coupled: the device's median CNOT (documented)
            return profile["summary"]["cx_error"]["median"], profile["summary"]["cx_duration"]["median"]
        return g["error"], g["duration"]

    spec = f"ibm-mumbai[{','.join(map(str, qubits))}]"
    return parse_noise(spec, n), ref_device(values, pair)


def device_uniform(stat: str) -> Callable:
    def build(n: int, rng: np.random.Generator):
        model = parse_noise(f"mumbai-{stat}", n)
        v = model.metadata["values"]
        return model, ref_device([v] * n, lambda a, b: (v["e2"], v["t2q"]))

    return build


NOISE_CASES: dict[str, Callable] = {
    **{name: spec_case(name) for name in PRESET_DEFAULTS},
    "depolarizing-strong": spec_case("depolarizing:p1=0.05"),
    "depolarizing-cnot-strong": spec_case("depolarizing-cnot:p1=0.02,p2=0.07"),
    "depolarizing-2q-strong": spec_case("depolarizing-2q:p1=0.03,p2=0.1"),
    "thermal-strong": spec_case("thermal:t1=20e-6,t2=30e-6,t1q=1e-6,t2q=4e-6"),
    "amplitude-damping-strong": spec_case("amplitude-damping:gamma=0.08"),
    "phase-damping-strong": spec_case("phase-damping:lam=0.1"),
    "readout-strong": spec_case("readout:p10=0.07,p01=0.15"),
    "combined": spec_case("amplitude-damping:gamma=0.05+depolarizing-cnot:p1=0.02,p2=0.04+readout:p10=0.03,p01=0.09"),
    "custom-per-qubit": custom_per_qubit,
    "custom-uniform-asymmetric": custom_uniform_asymmetric,
    "custom-pair-products": custom_pair_products,
    "device-calibrated": device_calibrated,
    "device-median": device_uniform("median"),
    "device-10xmax": device_uniform("10xmax"),
}


# ----------------------------------------------------------------------------- the comparison
def check_against_reference(n, ops, terms, kit_noise, ref_noise, initial=None, params=None):
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    if params is not None:  # the kit gets new angles through `params`, the reference through its ops
        it = iter(params)
        ops = [(name, w, None if a is None else float(next(it))) for name, w, a in ops]
    rho = ref.run(n, ref_noise.ops(ops), None if initial is None else ref.basis_state(initial))
    if ref_noise.readout is None:
        e_ref = ref.expectation(rho, terms)
    else:
        e_ref = ref.readout_expectation(rho, terms, *ref_noise.readout)

    ham = PauliSum.from_list(terms)
    energy = ck.expectation(circuit, ham, kit_noise, params=params, initial=initial)
    assert isinstance(energy, float)
    assert abs(energy - e_ref) <= ATOL, (energy, e_ref)

    vec = ck.pauli_vector(circuit, kit_noise, params=params, initial=initial)
    assert vec.shape == (4**n,) and vec.dtype == np.float64
    np.testing.assert_allclose(vec, ref.pauli_vector(rho), rtol=0, atol=ATOL)

    dm = ck.density_matrix(circuit, kit_noise, params=params, initial=initial)
    np.testing.assert_allclose(dm, rho, rtol=0, atol=ATOL)
    return energy, e_ref


@pytest.mark.parametrize("noise_id", list(NOISE_CASES))
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_random_circuit_matches_reference(n, noise_id):
    rng = np.random.default_rng([n, list(NOISE_CASES).index(noise_id)])
    kit_noise, ref_noise = NOISE_CASES[noise_id](n, rng)
    ops = random_ops(n, rng, length=int(rng.integers(14, CAP + 1)))
    initial = None if rng.uniform() < 0.5 else random_bitstring(n, rng)
    check_against_reference(n, ops, random_terms(n, rng), kit_noise, ref_noise, initial=initial)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_random_circuits_many_draws(n, seed):
    """More draws with the strongest mixed noise, non-zero initial states and angles passed as ``params``."""
    rng = np.random.default_rng([99, n, seed])
    noise_id = ["combined", "custom-per-qubit", "custom-pair-products", "device-calibrated"][seed]
    kit_noise, ref_noise = NOISE_CASES[noise_id](n, rng)
    ops = random_ops(n, rng)
    n_params = sum(a is not None for *_, a in ops)
    params = rng.uniform(-np.pi, np.pi, size=n_params)
    check_against_reference(
        n, ops, random_terms(n, rng), kit_noise, ref_noise, initial=random_bitstring(n, rng), params=params
    )


def test_noise_actually_changes_the_result():
    """Guards the comparison against a shared blind spot: each noisy case moves the energy."""
    rng = np.random.default_rng(7)
    n = 3
    ops = random_ops(n, rng)
    ham = PauliSum.from_list(random_terms(n, rng))
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    clean = ck.expectation(circuit, ham, "none")
    for spec in ("depolarizing", "depolarizing-cnot", "depolarizing-2q", "thermal", "amplitude-damping", "readout"):
        assert abs(ck.expectation(circuit, ham, spec) - clean) > 1e-7, spec


def test_initial_bitstring_101():
    ops = [("h", (1,), None), ("cx", (1, 2), None), ("ry", (0,), 0.4)]
    terms = [
        ("III", 0.5),
        ("ZII", 1.0),
        ("IZI", 0.3),
        ("IIZ", -0.7),
        ("ZZZ", 0.2),
        ("XIX", 0.1),
        ("IXX", 0.9),
        ("YYI", 0.4),
    ]
    energy, e_ref = check_against_reference(
        3, ops, terms, "depolarizing-cnot", ref_preset("depolarizing-cnot", 3), "101"
    )
    vec = ck.pauli_vector(Circuit.from_ops(3, ops, capacity=CAP), initial="101")
    # qubit 0 starts in |1> and is only rotated: <Z0> = -cos(0.4); qubit 2 starts in |1>
    assert vec[ck.pauli_index("ZII")] == pytest.approx(-np.cos(0.4), abs=1e-12)
    # qubits 1, 2: (|0> + |1>)|1> -> (|01> + |10>)/sqrt(2): <XX> = +1, <ZZ> = -1
    assert vec[ck.pauli_index("IXX")] == pytest.approx(1.0, abs=1e-12)
    assert vec[ck.pauli_index("IZZ")] == pytest.approx(-1.0, abs=1e-12)
    assert energy == pytest.approx(e_ref, abs=ATOL)


def test_gather_kernel_and_while_loop_match_reference():
    """The alternative kernels (``kernel="gather"``, ``loop="while"``) give the reference's numbers too."""
    rng = np.random.default_rng(31)
    n = 3
    kit_noise, ref_noise = custom_per_qubit(n, rng)
    ops = random_ops(n, rng, length=18)
    terms = random_terms(n, rng)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    rho = ref.run(n, ref_noise.ops(ops), ref.basis_state("110"))
    e_ref = ref.readout_expectation(rho, terms, *ref_noise.readout)
    ham = PauliSum.from_list(terms)
    params = np.asarray(circuit.angles)
    for kernel, loop in (("gather", "scan"), ("switch", "while"), ("gather", "while")):
        ev = dataclasses.replace(simulator.Evaluator.create(ham, kit_noise, "110", kernel=kernel), loop=loop)
        with ck.enable_x64():
            energy = float(simulator._energy(ev, circuit, params))
            vec = np.asarray(simulator._state(ev, circuit, params)).reshape(-1)
        assert abs(energy - e_ref) <= ATOL, (kernel, loop)
        np.testing.assert_allclose(vec, ref.pauli_vector(rho), rtol=0, atol=ATOL)
    with pytest.raises(ValueError, match="kernel must be 'switch' or 'gather'"):
        simulator.Evaluator.create(ham, kit_noise, kernel="fast")
    with pytest.raises(ValueError, match="gather kernel supports 2 to 8 qubits"):
        simulator.Evaluator.create(Z_ONLY, kernel="gather", engine="ptm")  # noiseless: auto picks the state vector
    with pytest.raises(TypeError, match="hamiltonian must be a PauliSum"):
        simulator.Evaluator.create(terms, kernel="gather")


# ----------------------------------------------------------------------------- analytic cases
THETAS = [0.0, 0.3, 1.0, np.pi / 2, np.pi, -2.2, 5.9]
Z_ONLY = PauliSum.from_list([("I", 0.0), ("X", 0.0), ("Y", 0.0), ("Z", 1.0)])  # 4 terms: the n = 1 shape
Y_ONLY = PauliSum.from_list([("I", 0.0), ("X", 0.0), ("Y", 1.0), ("Z", 0.0)])


@pytest.mark.parametrize("theta", THETAS)
def test_single_qubit_rotations_analytic(theta):
    c, s = np.cos(theta), np.sin(theta)
    assert ck.expectation(Circuit(1, CAP).rx(0, theta), Z_ONLY) == pytest.approx(c, abs=1e-14)
    assert ck.expectation(Circuit(1, CAP).rx(0, theta), Y_ONLY) == pytest.approx(-s, abs=1e-14)
    np.testing.assert_allclose(ck.pauli_vector(Circuit(1, CAP).rx(0, theta)), [1, 0, -s, c], atol=1e-14)
    np.testing.assert_allclose(ck.pauli_vector(Circuit(1, CAP).ry(0, theta)), [1, s, 0, c], atol=1e-14)
    np.testing.assert_allclose(ck.pauli_vector(Circuit(1, CAP).h(0).rz(0, theta)), [1, c, s, 0], atol=1e-14)


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([("x", (0,))], [1, 0, 0, -1]),
        ([("y", (0,))], [1, 0, 0, -1]),
        ([("z", (0,))], [1, 0, 0, 1]),
        ([("h", (0,))], [1, 1, 0, 0]),
        ([("h", (0,)), ("s", (0,))], [1, 0, 1, 0]),
        ([("h", (0,)), ("s", (0,)), ("s", (0,))], [1, -1, 0, 0]),
        ([("sx", (0,))], [1, 0, -1, 0]),  # SX = e^{i pi/4} RX(pi/2)
        ([("sx", (0,)), ("sx", (0,))], [1, 0, 0, -1]),
    ],
)
def test_fixed_gates_analytic(ops, expected):
    np.testing.assert_allclose(ck.pauli_vector(Circuit.from_ops(1, ops, capacity=CAP)), expected, atol=1e-14)


def test_bell_state():
    bell = np.zeros((4, 4))
    bell[np.ix_([0, 3], [0, 3])] = 0.5
    for circuit in (Circuit(2, CAP).h(0).cx(0, 1), Circuit(2, CAP).h(1).cx(1, 0)):
        np.testing.assert_allclose(ck.density_matrix(circuit), bell, atol=1e-14)
        vec = ck.pauli_vector(circuit)
        expected = np.zeros(16)
        for p, v in (("II", 1), ("XX", 1), ("YY", -1), ("ZZ", 1)):
            expected[ck.pauli_index(p)] = v
        np.testing.assert_allclose(vec, expected, atol=1e-14)


def _bits(vec: np.ndarray, n: int) -> str:
    """Read a computational basis state off its Pauli vector (<Z_q> = 1 - 2 b_q)."""
    z = [vec[ck.pauli_index("I" * q + "Z" + "I" * (n - q - 1))] for q in range(n)]
    assert np.allclose(np.abs(z), 1, atol=1e-12)
    return "".join("0" if v > 0 else "1" for v in z)


@pytest.mark.parametrize(
    ("n", "initial", "ops", "final"),
    [
        (2, "10", [("cx", (0, 1))], "11"),
        (2, "01", [("cx", (0, 1))], "01"),
        (2, "01", [("cx", (1, 0))], "11"),
        (4, "0001", [("cx", (3, 0))], "1001"),
        (4, "1000", [("cx", (0, 2))], "1010"),
        (4, "1000", [("cx", (3, 0))], "1000"),
        (4, "0010", [("cx", (2, 1)), ("cx", (1, 3))], "0111"),
        (3, "100", [("h", (2,)), ("cz", (0, 2)), ("h", (2,))], "101"),  # H CZ H = CNOT
        (3, "001", [("h", (0,)), ("cz", (2, 0)), ("h", (0,))], "101"),
        (3, "000", [("x", (1,))], "010"),
    ],
)
def test_two_qubit_gate_orientation(n, initial, ops, final):
    vec = ck.pauli_vector(Circuit.from_ops(n, ops, capacity=CAP), initial=initial)
    assert _bits(vec, n) == final


@pytest.mark.parametrize("k", [1, 5, 12])
def test_depolarizing_shrinks_z_by_one_minus_p_per_gate(k):
    p, q = 0.07, 0.11
    rot = Circuit.from_ops(1, [("rx", (0,), 0.0)] * k, capacity=CAP)
    assert ck.pauli_vector(rot, f"depolarizing:p1={p}")[3] == pytest.approx((1 - p) ** k, abs=1e-14)
    flips = Circuit.from_ops(1, [("x", (0,))] * k, capacity=CAP)
    # the 'depolarizing' preset only acts after rotations; 'depolarizing-2q' after every 1-qubit gate
    assert ck.pauli_vector(flips, f"depolarizing:p1={p}")[3] == pytest.approx((-1) ** k, abs=1e-14)
    expected = (-1) ** k * (1 - p) ** k
    assert ck.pauli_vector(flips, f"depolarizing-2q:p1={p},p2=0.5")[3] == pytest.approx(expected, abs=1e-14)
    cnots = Circuit.from_ops(2, [("cx", (0, 1))] * k, capacity=CAP)
    zi = ck.pauli_index("ZI")
    for spec in (f"depolarizing-cnot:p1=0.3,p2={q}", f"depolarizing-2q:p1=0.3,p2={q}"):
        assert ck.pauli_vector(cnots, spec, initial="10")[zi] == pytest.approx(-((1 - q) ** k), abs=1e-14)


@pytest.mark.parametrize("k", [0, 3, 10])
def test_t1_and_t2_decay(k):
    t1, t2, tg = 30e-6, 45e-6, 2e-6
    spec = f"thermal:t1={t1},t2={t2},t1q={tg},t2q={tg}"
    idle = [("rz", (0,), 0.0)] * k
    vec = ck.pauli_vector(Circuit.from_ops(1, [("x", (0,)), *idle], capacity=CAP), spec)
    assert (1 - vec[3]) / 2 == pytest.approx(np.exp(-(k + 1) * tg / t1), abs=1e-14)  # excited population
    vec = ck.pauli_vector(Circuit.from_ops(1, [("h", (0,)), *idle], capacity=CAP), spec)
    assert vec[1] == pytest.approx(np.exp(-(k + 1) * tg / t2), abs=1e-14)  # coherence


def test_readout_error_analytic():
    a, b = 0.03, 0.2
    spec = f"readout:p10={a},p01={b}"
    assert ck.expectation(Circuit(1, CAP), Z_ONLY, spec) == pytest.approx(1 - 2 * a, abs=1e-14)
    assert ck.expectation(Circuit(1, CAP), Z_ONLY, spec, initial="1") == pytest.approx(-(1 - 2 * b), abs=1e-14)
    # readout is measurement-side only: the state itself is untouched
    np.testing.assert_allclose(ck.pauli_vector(Circuit(1, CAP), spec), [1, 0, 0, 1], atol=0)


def test_identity_term_is_constant_under_any_noise():
    rng = np.random.default_rng(11)
    terms = [(s, 0.0 if set(s) != {"I"} else -1.25) for s, _ in random_terms(3, rng)]
    circuit = Circuit.from_ops(3, random_ops(3, rng), capacity=CAP)
    for spec in ("none", "mumbai-10xmax", "depolarizing-2q:p1=0.9,p2=1"):
        assert ck.expectation(circuit, PauliSum.from_list(terms), spec) == pytest.approx(-1.25, abs=1e-14)


def test_params_argument_overrides_stored_angles():
    c1 = Circuit(2, CAP).ry(0, 0.1).cx(0, 1).rz(1, 0.2).rx(0, 0.3)
    c2 = Circuit(2, CAP).ry(0, 1.1).cx(0, 1).rz(1, -0.4).rx(0, 2.0)
    ham = PauliSum.from_list(random_terms(2, np.random.default_rng(3)))
    assert ck.expectation(c1, ham, "depolarizing", params=[1.1, -0.4, 2.0]) == ck.expectation(c2, ham, "depolarizing")
    assert ck.expectation(c1, ham, "depolarizing") != ck.expectation(c2, ham, "depolarizing")
    # the same through with_params
    assert ck.expectation(c1.with_params([1.1, -0.4, 2.0]), ham, "depolarizing") == ck.expectation(
        c2, ham, "depolarizing"
    )


def test_density_matrix_is_a_state():
    rng = np.random.default_rng(5)
    dm = ck.density_matrix(Circuit.from_ops(3, random_ops(3, rng), capacity=CAP), "mumbai-10xmax", initial="011")
    assert dm.dtype == np.complex128
    np.testing.assert_allclose(dm, dm.conj().T, atol=1e-14)
    assert np.trace(dm).real == pytest.approx(1.0, abs=1e-14)
    eig = np.linalg.eigvalsh(dm)
    assert eig.min() > -1e-12 and eig.max() < 1 - 1e-3  # mixed


# ----------------------------------------------------------------------------- compilation
def test_new_architecture_angles_and_noise_strengths_do_not_recompile():
    rng = np.random.default_rng(21)
    n = 3
    ham = PauliSum.from_list(random_terms(n, rng))
    ham2 = PauliSum.from_list(random_terms(n, rng))  # other strings and coefficients, same number of terms
    first = Circuit.from_ops(n, random_ops(n, rng, length=20), capacity=CAP)
    second = Circuit(n, CAP).h(2).cx(2, 0).ry(1, 0.3).cz(0, 1).sx(2)  # different gates, wires and length
    e_first = ck.expectation(first, ham, "depolarizing-cnot")  # warm-up: may compile
    ck.pauli_vector(first, "depolarizing-cnot")
    before = simulator.TRACE_COUNT["simulate"]

    energies = [
        ck.expectation(second, ham, "depolarizing-cnot"),
        ck.expectation(second, ham, "depolarizing-cnot:p1=0.2,p2=0.3"),  # noise strengths
        ck.expectation(second, ham, "thermal"),  # another channel, same model structure
        ck.expectation(second, ham, custom_uniform_asymmetric(n, rng)[0]),  # arbitrary channels, no readout
        ck.expectation(second, ham, "depolarizing-cnot", params=[1.7]),  # angles
        ck.expectation(second, ham2, "depolarizing-cnot"),  # Hamiltonian
        ck.expectation(second, ham, "depolarizing-cnot", initial="110"),  # initial state
        ck.expectation(ck.from_qasm(ck.to_qasm(second), capacity=CAP), ham, "amplitude-damping"),
    ]
    ck.pauli_vector(second, "phase-damping", params=[0.9])
    assert simulator.TRACE_COUNT["simulate"] == before, "a new circuit architecture / angles / strengths recompiled"
    assert len({e_first, *energies}) == len(energies) + 1  # all distinct: every call really evaluated

    ck.expectation(second.with_capacity(CAP + 7), ham, "depolarizing-cnot")  # a new shape must compile once
    assert simulator.TRACE_COUNT["simulate"] == before + 1
    ck.expectation(first.with_capacity(CAP + 7), ham, "depolarizing-cnot")
    assert simulator.TRACE_COUNT["simulate"] == before + 1


# ----------------------------------------------------------------------------- float64
def test_float64_is_really_used():
    theta = 1e-5
    circuit = Circuit(1, CAP).rx(0, theta)
    z = ck.expectation(circuit, Z_ONLY)
    assert isinstance(z, float)
    # 1 - cos(1e-5) = 5e-11 is below float32 resolution: float32 gives exactly 1
    assert 1.0 - z == pytest.approx(1.0 - np.cos(theta), rel=1e-6)
    r32 = ck.rotation_ptm("x", jnp.float32(theta)) @ jnp.array([1, 0, 0, 1], jnp.float32)
    assert r32.dtype == jnp.float32 and float(r32[3]) == 1.0 and z != float(r32[3])
    vec = ck.pauli_vector(circuit)
    assert vec.dtype == np.float64 and vec[2] == pytest.approx(-np.sin(theta), rel=1e-12)

    # a deep noisy circuit agrees with the reference to 1e-12 (float32 would be off by ~1e-6)
    rng = np.random.default_rng(8)
    ops = random_ops(2, rng)
    terms = random_terms(2, rng)
    rho = ref.run(2, ref_preset("depolarizing-2q", 2, p1=0.01, p2=0.02).ops(ops))
    e = ck.expectation(
        Circuit.from_ops(2, ops, capacity=CAP), PauliSum.from_list(terms), "depolarizing-2q:p1=0.01,p2=0.02"
    )
    assert abs(e - ref.expectation(rho, terms)) < 1e-12

    batch = ck.expectation_batch(circuit, Z_ONLY, params=np.array([[theta], [2 * theta]]))
    assert batch.dtype == np.float64 and 1.0 - batch[1] == pytest.approx(1 - np.cos(2 * theta), rel=1e-6)
    ev = simulator.Evaluator.create(Z_ONLY, "depolarizing")
    assert ev.coeffs.dtype == jnp.float64 and ev.one_qubit.dtype == jnp.float64


def test_x64_does_not_leak_into_user_code():
    default = jnp.ones(1).dtype
    ck.expectation(Circuit(1, CAP).rx(0, 0.2), Z_ONLY, "depolarizing")
    ck.pauli_vector(Circuit(1, CAP).rx(0, 0.2))
    assert jnp.ones(1).dtype == default
    if not jax.config.read("jax_enable_x64"):  # the default configuration: user code stays float32
        assert default == jnp.float32
        assert jnp.asarray(0.5).dtype == jnp.float32


# ----------------------------------------------------------------------------- batches
def test_expectation_batch_equals_loop(monkeypatch):
    rng = np.random.default_rng(13)
    n = 2
    circuit = Circuit.from_ops(n, random_ops(n, rng), capacity=CAP + 3)  # own shape: traced here, with chunk 3
    ham = PauliSum.from_list(random_terms(n, rng))
    monkeypatch.setattr(simulator, "batch_chunk", lambda n_qubits: 3)
    params = rng.uniform(-np.pi, np.pi, size=(8, circuit.n_params))  # chunks of 3, 3 and a remainder of 2
    batch = ck.expectation_batch(circuit, ham, "depolarizing-cnot:p1=0.02,p2=0.05", params)
    loop = [ck.expectation(circuit, ham, "depolarizing-cnot:p1=0.02,p2=0.05", params=p) for p in params]
    assert batch.shape == (len(params),) and batch.dtype == np.float64
    np.testing.assert_allclose(batch, loop, rtol=0, atol=1e-12)
    assert np.ptp(batch) > 0.1  # the rows really differ
    assert ck.expectation_batch(circuit, ham, "depolarizing-cnot", params[:0]).shape == (0,)
    # parameters passed as a batch of one equal the circuit's stored angles
    stored = ck.expectation_batch(circuit, ham, "depolarizing-cnot", circuit.params[None])
    assert stored[0] == pytest.approx(ck.expectation(circuit, ham, "depolarizing-cnot"), abs=1e-12)


def test_expectation_batch_old_argument_order_warns_and_agrees():
    """The order before (circuit, H, params, noise) still works for one release, with a warning."""
    circuit, ham = _small()
    params = np.array([[0.1, 0.2], [0.7, -0.4]])
    # independent expectation: one expectation() call per row, noise given by keyword
    want = [ck.expectation(circuit, ham, noise="depolarizing", params=row) for row in params]
    new = ck.expectation_batch(circuit, ham, "depolarizing", params)
    np.testing.assert_allclose(new, want, rtol=0, atol=1e-12)
    assert np.ptp(new) > 0.01
    with pytest.warns(DeprecationWarning, match=r"expectation_batch\(circuit, hamiltonian, noise, params\)") as rec:
        old = ck.expectation_batch(circuit, ham, params, "depolarizing")
    assert rec[0].filename == __file__  # points at the caller
    np.testing.assert_array_equal(old, new)
    noiseless = ck.expectation_batch(circuit, ham, params=params)
    with pytest.warns(DeprecationWarning):  # lists are parameters too
        np.testing.assert_array_equal(ck.expectation_batch(circuit, ham, params.tolist()), noiseless)
    with pytest.warns(DeprecationWarning):  # and JAX arrays (float32 unless x64 is on)
        got = ck.expectation_batch(circuit, ham, jnp.asarray(params))
    np.testing.assert_allclose(got, noiseless, rtol=0, atol=1e-6)
    with pytest.warns(DeprecationWarning):  # the old order with a NoiseModel
        old_model = ck.expectation_batch(circuit, ham, params, parse_noise("depolarizing"))
    np.testing.assert_array_equal(old_model, new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new order never warns
        ck.expectation_batch(circuit, ham, None, params)
        ck.expectation_batch(circuit, ham, parse_noise("depolarizing"), params=params)
        ck.expectation_batch(circuit, ham)


# ----------------------------------------------------------------------------- bad input
def _small():
    return Circuit(2, CAP).ry(0, 0.1).cx(0, 1).rz(1, 0.2), PauliSum.from_list([("ZI", 1.0), ("XX", 0.5)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_params_rejected(bad):
    circuit, ham = _small()
    with pytest.raises(ValueError, match=r"finite.*positions \[1\]"):
        ck.expectation(circuit, ham, params=[0.3, bad])
    with pytest.raises(ValueError, match="finite"):
        ck.expectation_batch(circuit, ham, params=np.array([[0.1, 0.2], [0.3, bad]]))
    with pytest.raises(ValueError, match="finite"):
        ck.pauli_vector(circuit, params=[bad, 0.0])


def test_wrong_params_shape_rejected():
    circuit, ham = _small()
    with pytest.raises(ValueError, match="expected 2 circuit parameters"):
        ck.expectation(circuit, ham, params=[0.3])
    with pytest.raises(ValueError, match="expected 2 circuit parameters"):
        ck.expectation(circuit, ham, params=[[0.3, 0.1]])
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        ck.expectation_batch(circuit, ham, params=[0.3, 0.1])


def test_mismatched_or_wrong_objects_rejected():
    circuit, ham = _small()
    with pytest.raises(ValueError, match="circuit acts on 3 qubits but the Hamiltonian on 2"):
        ck.expectation(Circuit(3, CAP).h(2), ham)
    with pytest.raises(TypeError, match="hamiltonian must be a PauliSum"):
        ck.expectation(circuit, [("ZI", 1.0)])
    with pytest.raises(TypeError, match="circuit must be a crlqas_kit Circuit"):
        ck.expectation("h q[0];", ham)
    with pytest.raises(ValueError, match="noise model 'ibm-mumbai.*defined for 3 qubits, circuit has 2"):
        ck.expectation(circuit, ham, parse_noise("ibm-mumbai[3,5,8]", 3))
    with pytest.raises(ValueError, match=r"two_qubit: expected shape"):
        ck.expectation(circuit, ham, NoiseModel(two_qubit=np.tile(np.eye(16), (3, 3, 1, 1))))


@pytest.mark.parametrize("spec", ["nonsense", "depolarising", "depolarizing+bogus:p=1"])
def test_unknown_noise_preset_rejected(spec):
    circuit, ham = _small()
    with pytest.raises(ValueError, match=r"unknown noise model '(nonsense|depolarising|bogus)'.*known: none, depol"):
        ck.expectation(circuit, ham, spec)


@pytest.mark.parametrize(
    ("initial", "match"), [("012", "bitstring"), ("1", "1 bits, the Hamiltonian 2"), ("", "bitstring")]
)
def test_bad_initial_state_rejected(initial, match):
    circuit, ham = _small()
    with pytest.raises(ValueError, match=match):
        ck.expectation(circuit, ham, initial=initial)


def test_density_matrix_refuses_large_registers():
    with pytest.raises(ValueError, match="n > 10"):
        ck.density_matrix(Circuit(11, 4))
