"""Channel builders, the NoiseModel, presets, the textual spec and the device models."""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crlqas_kit as ck
from crlqas_kit.sim.devices import coupling_map, device_builders, list_devices, load_device
from crlqas_kit.sim.noise import (
    NoiseModel,
    amplitude_damping,
    depolarizing_1q,
    depolarizing_2q,
    depolarizing_pair,
    phase_damping,
    readout_map,
    thermal_relaxation,
)
from crlqas_kit.sim.noise_spec import known_models, noise_preset, parse_noise
from crlqas_kit.sim.ptm import GATE_PTMS, choi_from_ptm, is_cptp, is_trace_preserving, is_unital, swap_qubits_ptm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True)
probs = st.floats(0.0, 1.0)
DEVICES = Path(ck.__file__).resolve().parent / "data" / "devices"


def rptm(kraus):
    return ref.ptm_of_kraus(kraus)


def compose(first, second):
    return [b @ a for a in first for b in second]


def random_state(n: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


@st.composite
def thermal_params(draw, min_time: float = 0.0):
    t1 = draw(st.floats(1e-6, 1e-3))
    t2 = draw(st.floats(0.01, 2.0)) * t1
    time = draw(st.floats(min_time * t1, 3e-3))
    return t1, t2, time


# ----------------------------------------------------------------------------- builders vs reference
@FAST
@given(probs)
def test_depolarizing_channels(p):
    d1, d2 = depolarizing_1q(p), depolarizing_2q(p)
    np.testing.assert_allclose(d1, rptm(ref.kraus_depolarizing_1q(p)), atol=1e-14)
    np.testing.assert_allclose(d2, rptm(ref.kraus_depolarizing_2q(p)), atol=1e-14)
    for r in (d1, d2):
        assert is_cptp(r) and is_trace_preserving(r) and is_unital(r)
    # rho -> (1 - p) rho + p I/d on a random state
    rho = random_state(1, np.random.default_rng(0))
    out = ref.apply_kraus(rho, ref.kraus_depolarizing_1q(p), (0,), 1)
    np.testing.assert_allclose(out, (1 - p) * rho + p * np.eye(2) / 2, atol=1e-14)


@FAST
@given(probs, probs)
def test_depolarizing_pair(p, q):
    r = depolarizing_pair(p, q)
    expected = rptm([np.kron(a, b) for a in ref.kraus_depolarizing_1q(p) for b in ref.kraus_depolarizing_1q(q)])
    np.testing.assert_allclose(r, expected, atol=1e-14)  # p on the first (control) qubit, q on the second
    assert is_cptp(r) and is_unital(r)
    np.testing.assert_array_equal(depolarizing_pair(p), depolarizing_pair(p, p))


@FAST
@given(probs)
def test_amplitude_damping(g):
    r = amplitude_damping(g)
    np.testing.assert_allclose(r, rptm(ref.kraus_amplitude_damping(g)), atol=1e-14)
    assert is_cptp(r) and is_trace_preserving(r)
    assert is_unital(r) == (g == 0.0) or g < 1e-10


@FAST
@given(st.floats(1e-6, 1.0))
def test_amplitude_damping_is_not_unital(g):
    assert not is_unital(amplitude_damping(g))


@FAST
@given(probs)
def test_phase_damping(lam):
    r = phase_damping(lam)
    np.testing.assert_allclose(r, rptm(ref.kraus_phase_damping(lam)), atol=1e-14)
    assert is_cptp(r) and is_trace_preserving(r) and is_unital(r)


@FAST
@given(thermal_params(), probs)
def test_thermal_relaxation_matches_reference(params, p_exc):
    t1, t2, time = params
    r = thermal_relaxation(t1, t2, time, p_exc)
    np.testing.assert_allclose(r, rptm(ref.kraus_thermal_relaxation(t1, t2, time, p_exc)), atol=1e-10)
    assert is_cptp(r) and is_trace_preserving(r)


@FAST
@given(thermal_params(min_time=1e-3), st.floats(0.0, 0.45))
def test_thermal_relaxation_with_t1_decay_is_not_unital(params, p_exc):
    assert not is_unital(thermal_relaxation(*params, p_exc))


def test_thermal_relaxation_special_cases():
    t1, t2 = 50e-6, 70e-6
    np.testing.assert_allclose(thermal_relaxation(t1, t2, 0.0), np.eye(4), atol=0)  # no time, no effect
    assert is_unital(thermal_relaxation(t1, t2, 1e-5, 0.5))  # relaxes to the maximally mixed state
    assert is_cptp(thermal_relaxation(t1, 2 * t1, 1e-5))  # the T2 = 2 T1 boundary is allowed
    dephasing = thermal_relaxation(math.inf, t2, 1e-5)  # T1 = inf: pure dephasing
    e2 = math.exp(-1e-5 / t2)
    np.testing.assert_allclose(dephasing, np.diag([1, e2, e2, 1]), atol=1e-15)
    assert is_unital(dephasing) and is_cptp(dephasing)
    np.testing.assert_allclose(thermal_relaxation(math.inf, math.inf, 1.0), np.eye(4), atol=0)
    # |1> decays to |0>: <Z> goes from -1 to 1 - 2 exp(-t/T1)
    r = thermal_relaxation(t1, t2, 2e-5) @ np.array([1.0, 0, 0, -1.0])
    assert r[3] == pytest.approx(1 - 2 * math.exp(-2e-5 / t1), abs=1e-15)


@FAST
@given(st.lists(st.sampled_from(["dep", "ad", "pd", "tr", "h", "sx"]), min_size=2, max_size=6), probs)
def test_products_of_channels_are_cptp(names, p):
    build = {
        "dep": lambda: depolarizing_1q(p),
        "ad": lambda: amplitude_damping(p),
        "pd": lambda: phase_damping(p),
        "tr": lambda: thermal_relaxation(50e-6, 30e-6, p * 1e-4, 0.1),
        "h": lambda: GATE_PTMS["h"],
        "sx": lambda: GATE_PTMS["sx"],
    }
    chans = [build[n]() for n in names]
    total = np.linalg.multi_dot(chans)
    assert is_cptp(total)
    assert is_cptp(np.kron(chans[0], chans[1]))
    model = NoiseModel(rotation=chans[0])
    for c in chans[1:]:
        model = model.then(NoiseModel(rotation=c))
    np.testing.assert_allclose(model.rotation, np.linalg.multi_dot(chans[::-1]), atol=1e-14)
    assert is_cptp(model.rotation)


# ----------------------------------------------------------------------------- validation
PROB_BUILDERS = {
    "depolarizing_1q": depolarizing_1q,
    "depolarizing_2q": depolarizing_2q,
    "depolarizing_pair": depolarizing_pair,
    "depolarizing_pair_second": lambda p: depolarizing_pair(0.1, p),
    "amplitude_damping": amplitude_damping,
    "phase_damping": phase_damping,
    "excited_population": lambda p: thermal_relaxation(50e-6, 50e-6, 1e-6, p),
    "readout_p10": lambda p: readout_map(p, 0.1),
    "readout_p01": lambda p: readout_map(0.1, p),
}


@pytest.mark.parametrize("bad", [-0.1, 1.0000001, 2.0, float("nan"), float("inf")])
@pytest.mark.parametrize("name", list(PROB_BUILDERS))
def test_probability_outside_unit_interval_rejected(name, bad):
    with pytest.raises(ValueError, match=r"must be a probability in \[0, 1\]"):
        PROB_BUILDERS[name](bad)


@pytest.mark.parametrize("name", list(PROB_BUILDERS))
def test_non_numeric_probability_rejected(name):
    with pytest.raises(TypeError, match="real number"):
        PROB_BUILDERS[name]("a lot")


def test_probability_bounds_are_inclusive():
    for name, build in PROB_BUILDERS.items():
        for p in (0.0, 1.0):
            assert np.all(np.isfinite(build(p))), name


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((50e-6, 100.1e-6, 1e-6), r"T2 = 0.0001001 exceeds 2\*T1 = 0.0001"),
        ((50e-6, 1.0, 1e-6), r"exceeds 2\*T1"),
        ((0.0, 50e-6, 1e-6), "T1 must be > 0"),
        ((-1e-6, 50e-6, 1e-6), "T1 must be > 0"),
        ((float("nan"), 50e-6, 1e-6), "T1 must be > 0"),
        ((50e-6, 0.0, 1e-6), "T2 must be > 0"),
        ((50e-6, float("nan"), 1e-6), "T2 must be > 0"),
        ((50e-6, math.inf, 1e-6), "T2 must be > 0 and finite"),
        ((50e-6, 50e-6, -1e-9), "gate time must be >= 0"),
        ((50e-6, 50e-6, float("nan")), "gate time must be >= 0"),
    ],
)
def test_thermal_relaxation_validation(args, match):
    with pytest.raises(ValueError, match=match):
        thermal_relaxation(*args)


# ----------------------------------------------------------------------------- readout
@pytest.mark.parametrize("seed", range(4))
def test_readout_map_matches_measured_expectations(seed):
    rng = np.random.default_rng(seed)
    p10, p01 = rng.uniform(0, 0.5, size=2), rng.uniform(0, 0.5, size=2)
    rho = random_state(2, rng)
    r = ref.pauli_vector(rho)
    m = np.kron(readout_map(p10[0], p01[0]), readout_map(p10[1], p01[1]))
    measured = m @ r
    for k, letters in enumerate(itertools.product("IXYZ", repeat=2)):
        s = "".join(letters)
        assert measured[k] == pytest.approx(ref.readout_expectation(rho, [(s, 1.0)], p10, p01), abs=1e-12), s


def test_readout_map_on_basis_states():
    a, b = 0.02, 0.3
    m = readout_map(a, b)
    assert (m @ [1, 0, 0, 1])[3] == pytest.approx(1 - 2 * a)  # |0>: reads 1 with probability p10
    assert (m @ [1, 0, 0, -1])[3] == pytest.approx(-(1 - 2 * b))  # |1>: reads 0 with probability p01
    np.testing.assert_array_equal(m[0], [1, 0, 0, 0])
    np.testing.assert_array_equal(readout_map(0, 0), np.eye(4))


# ----------------------------------------------------------------------------- NoiseModel
def test_noise_model_arrays():
    empty = NoiseModel()
    assert empty.is_noiseless and not empty.has_readout
    arrays = empty.arrays(3)
    assert arrays["one_qubit"].shape == (2, 3, 4, 4) and arrays["two_qubit"].shape == (3, 3, 16, 16)
    assert arrays["readout"].shape == (3, 4, 4)
    np.testing.assert_array_equal(arrays["one_qubit"], np.broadcast_to(np.eye(4), (2, 3, 4, 4)))
    np.testing.assert_array_equal(arrays["two_qubit"], np.broadcast_to(np.eye(16), (3, 3, 16, 16)))

    per_qubit = np.stack([amplitude_damping(g) for g in (0.1, 0.2, 0.3)])
    pairs = np.stack(
        [[np.kron(depolarizing_1q(0.01 * (a + 1)), phase_damping(0.1 * b)) for b in range(3)] for a in range(3)]
    )
    model = NoiseModel(fixed_1q=per_qubit, two_qubit=pairs, readout=[[0.01, 0.02], [0.03, 0.04], [0.05, 0.06]])
    arrays = model.arrays(3)
    np.testing.assert_array_equal(arrays["one_qubit"][0], np.broadcast_to(np.eye(4), (3, 4, 4)))  # rotations
    np.testing.assert_array_equal(arrays["one_qubit"][1], per_qubit)
    np.testing.assert_array_equal(arrays["two_qubit"], pairs)
    np.testing.assert_array_equal(arrays["readout"][2], readout_map(0.05, 0.06))
    assert model.has_readout and not model.is_noiseless
    assert not model.fixed_1q.flags.writeable  # the model is immutable
    uniform = NoiseModel(rotation=depolarizing_1q(0.1), readout=[0.1, 0.2]).arrays(2)
    np.testing.assert_array_equal(uniform["one_qubit"][0, 1], depolarizing_1q(0.1))
    np.testing.assert_array_equal(uniform["readout"][1], readout_map(0.1, 0.2))


def test_noise_model_validation():
    with pytest.raises(ValueError, match=r"rotation: expected shape \(4, 4\) or \(2, 4, 4\) for 2 qubits"):
        NoiseModel(rotation=np.stack([np.eye(4)] * 3)).arrays(2)
    with pytest.raises(ValueError, match="two_qubit: expected shape"):
        NoiseModel(two_qubit=np.eye(4)).arrays(2)
    with pytest.raises(ValueError, match="NaN or inf"):
        NoiseModel(rotation=np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"readout p10 = p\(1\|0\) must be a probability in \[0, 1\]"):
        NoiseModel(readout=[1.5, 0.0])
    with pytest.raises(ValueError, match=r"readout must be \(p10, p01\) or an \(n, 2\) array"):
        NoiseModel(readout=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"readout: expected shape \(2,\) or \(2, 2\)"):
        NoiseModel(readout=[[0.1, 0.2]] * 3).arrays(2)
    with pytest.raises(ValueError, match="defined for 3 qubits, circuit has 2"):
        NoiseModel(n_qubits=3).arrays(2)


def test_then_composes_in_order():
    a, b = amplitude_damping(0.3), GATE_PTMS["h"]
    model = NoiseModel(rotation=a, name="a").then(NoiseModel(rotation=b, two_qubit=depolarizing_2q(0.1), name="b"))
    expected = rptm(compose(ref.kraus_amplitude_damping(0.3), [ref.H]))  # a first, then b
    np.testing.assert_allclose(model.rotation, expected, atol=1e-14)
    assert not np.allclose(model.rotation, a @ b)
    np.testing.assert_array_equal(model.two_qubit, depolarizing_2q(0.1))
    assert model.fixed_1q is None and model.name == "a+b"
    with pytest.raises(ValueError, match="both noise models define a readout error"):
        NoiseModel(readout=[0.1, 0.1]).then(NoiseModel(readout=[0.1, 0.1]))
    with pytest.raises(ValueError, match="different qubit counts"):
        NoiseModel(n_qubits=2).then(NoiseModel(n_qubits=3))


# ----------------------------------------------------------------------------- presets and specs
def test_preset_definitions():
    assert noise_preset("none").is_noiseless
    dep = noise_preset("depolarizing")  # p1 = 1e-3 after rotations only
    np.testing.assert_array_equal(dep.rotation, np.diag([1, 0.999, 0.999, 0.999]))
    assert dep.fixed_1q is None and dep.two_qubit is None and dep.readout is None
    cnot = noise_preset("depolarizing-cnot")  # plus independent p = 5e-3 on both CNOT qubits
    np.testing.assert_array_equal(cnot.rotation, dep.rotation)
    np.testing.assert_allclose(cnot.two_qubit, np.kron(np.diag([1, 0.995, 0.995, 0.995]), np.diag([1] + [0.995] * 3)))
    assert cnot.fixed_1q is None
    two = noise_preset("depolarizing-2q", p1=0.01, p2=0.02)
    np.testing.assert_array_equal(two.fixed_1q, depolarizing_1q(0.01))
    np.testing.assert_array_equal(two.two_qubit, depolarizing_2q(0.02))
    th = noise_preset("thermal", t1=40e-6, t2=60e-6, t1q=1e-7, t2q=5e-7)
    np.testing.assert_allclose(th.rotation, rptm(ref.kraus_thermal_relaxation(40e-6, 60e-6, 1e-7)), atol=1e-12)
    k2 = ref.kraus_thermal_relaxation(40e-6, 60e-6, 5e-7)
    np.testing.assert_allclose(th.two_qubit, rptm([np.kron(x, y) for x in k2 for y in k2]), atol=1e-12)
    ad = noise_preset("amplitude-damping", gamma=0.2)
    np.testing.assert_allclose(ad.two_qubit, np.kron(amplitude_damping(0.2), amplitude_damping(0.2)))
    ro = noise_preset("readout", p10=0.02, p01=0.05)
    np.testing.assert_array_equal(ro.readout, [0.02, 0.05])
    assert ro.rotation is None and ro.two_qubit is None


@pytest.mark.parametrize("name", ["foo", "Depolarizing", "depolarising", ""])
def test_unknown_preset_rejected(name):
    with pytest.raises(ValueError, match=rf"unknown noise preset '{name}'; known presets: none, depolarizing"):
        noise_preset(name)


def test_preset_bad_parameters():
    with pytest.raises(ValueError, match=r"noise preset 'depolarizing' takes parameters \['p1'\]"):
        noise_preset("depolarizing", p2=0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        noise_preset("depolarizing", p1=1.5)
    with pytest.raises(ValueError, match=r"exceeds 2\*T1"):
        noise_preset("thermal", t1=10e-6, t2=30e-6)
    with pytest.raises(TypeError, match="must be a real number"):  # a wrong type is not a "wrong parameter"
        noise_preset("depolarizing", p1="a lot")


def test_known_models_lists_presets_and_every_device_model():
    profiles = sorted(p.stem for p in DEVICES.glob("*.json"))  # independent of devices.list_devices
    assert profiles, "no device profiles shipped"
    device_names = {f"{d.removeprefix('ibm-')}-{s}" for d in profiles for s in ("median", "max", "10xmax")}
    device_names |= set(profiles)
    presets = ("none", "depolarizing", "depolarizing-cnot", "depolarizing-2q", "thermal")
    names = known_models()
    assert names[: len(presets)] == presets  # presets first, in their documented order
    assert device_names <= set(names) and "mumbai-median" in names and "ibm-mumbai" in names
    assert len(names) == len(set(names)) == 8 + len(device_names)
    assert ck.known_models() == names
    for name in names:  # every listed name parses (device models with a qubit count)
        assert name in parse_noise(name, 2).name


def test_devices_register_nothing_by_import():
    from crlqas_kit.sim import devices

    assert not hasattr(devices, "DEVICE_MODELS")
    builders = device_builders()
    assert builders is device_builders()  # cached, and read-only
    with pytest.raises(TypeError):
        builders["mine"] = lambda n: None  # type: ignore[index]
    np.testing.assert_array_equal(builders["mumbai-median"](2).two_qubit, parse_noise("mumbai-median", 2).two_qubit)


def test_deprecated_noise_names_warn_or_point_to_the_new_home():
    with pytest.warns(DeprecationWarning, match="renamed noise_preset"):
        old = ck.preset("depolarizing", p1=0.02)
    np.testing.assert_array_equal(old.rotation, noise_preset("depolarizing", p1=0.02).rotation)
    with pytest.warns(DeprecationWarning, match="renamed noise_preset"):
        ck.sim.preset("none")
    assert "preset" not in ck.__all__ and "noise_preset" in ck.__all__
    import crlqas_kit.sim.noise as noise_module

    # the names that moved out of sim.noise say where they went (no import back up: no cycle)
    for name, home in (("parse_noise", "noise_spec"), ("PRESETS", "noise_spec"), ("DEVICE_MODELS", "devices")):
        with pytest.raises(AttributeError, match=rf"crlqas_kit.sim.noise.{name} moved: use crlqas_kit.sim.{home}\."):
            getattr(noise_module, name)
    with pytest.raises(AttributeError, match="noise_spec.noise_preset"):
        noise_module.preset  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        noise_module.nothing  # noqa: B018


def test_parse_noise_grammar():
    assert parse_noise(None).is_noiseless
    model = NoiseModel(rotation=depolarizing_1q(0.2))
    assert parse_noise(model) is model
    np.testing.assert_array_equal(parse_noise("depolarizing:p1=2e-3").rotation, depolarizing_1q(2e-3))
    spaced = parse_noise(" depolarizing-cnot : p1 = 0.01 , p2=0.02 ")
    np.testing.assert_array_equal(spaced.two_qubit, depolarizing_pair(0.02))
    combo = parse_noise("depolarizing-cnot:p1=1e-3,p2=5e-3+readout:p10=0.02,p01=0.03")
    np.testing.assert_array_equal(combo.readout, [0.02, 0.03])
    np.testing.assert_array_equal(combo.two_qubit, depolarizing_pair(5e-3))
    chain = parse_noise("amplitude-damping:gamma=0.1+phase-damping:lam=0.2")
    np.testing.assert_allclose(chain.fixed_1q, phase_damping(0.2) @ amplitude_damping(0.1))


@pytest.mark.parametrize(
    ("spec", "n", "match"),
    [
        ("", None, "non-empty string"),
        ("   ", None, "non-empty string"),
        (5, None, "non-empty string"),
        ("foo", None, r"unknown noise model 'foo' in spec 'foo'; known: none, depolarizing"),
        ("depolarizing+foo", None, "unknown noise model 'foo'"),
        ("depolarizing:p1", None, "expected key=number, got 'p1'"),
        ("depolarizing:p1=abc", None, "expected key=number, got 'p1=abc'"),
        ("depolarizing:q=0.1", None, "takes parameters"),
        ("depolarizing:p1=7", None, r"\[0, 1\]"),
        ("depol%arizing", None, "cannot parse noise spec part"),
        ("depolarizing[1,2]", None, "qubit list"),
        ("readout+readout", None, "both noise models define a readout error"),
        ("mumbai-median", None, "needs the number of qubits"),
        ("mumbai-median:p=1", 2, "takes no parameters"),
        ("ibm-mumbai[3,5]", 3, "names 2 physical qubits for 3 qubits"),
        ("ibm-mumbai[3,5,99]", 3, r"distinct physical qubits of ibm-mumbai \(0..26\)"),
        ("ibm-mumbai[3,3,5]", 3, r"noise spec 'ibm-mumbai\[3,3,5\]': physical qubit 3 is repeated"),
        ("depolarizing:p1=0.1,p1=0.2", None, r"noise spec 'depolarizing:p1=0.1,p1=0.2': parameter 'p1' is given twice"),
        ("depolarizing-cnot:p1=0.1, p2=0.1 ,p1 = 0.1", None, "parameter 'p1' is given twice"),
        ("readout:p10=0.1+readout:p01=0.1", None, "both noise models define a readout error"),  # twice, but per part
        ("depolarizing:=0.1", None, "expected key=number, got '=0.1'"),
        ("ibm-mumbai[3,x,5]", 3, r"takes non-negative integers separated by commas, got 'x'"),
        ("ibm-mumbai[3,1.0,5]", 3, r"takes non-negative integers separated by commas, got '1.0'"),
        ("ibm-mumbai[3 4,5]", 2, r"takes non-negative integers separated by commas, got '3 4'"),
        ("ibm-mumbai[3,,5]", 2, r"takes non-negative integers separated by commas, got ''"),
        ("ibm-mumbai[3,4,5]:qubits=3", 3, r"no parameters, got \[.qubits.\] \(choose physical qubits as ibm-mumbai\["),
    ],
)
def test_parse_noise_errors(spec, n, match):
    with pytest.raises(ValueError, match=match):
        parse_noise(spec, n)


# ----------------------------------------------------------------------------- device models
def _mumbai() -> dict:
    return json.loads((DEVICES / "ibm-mumbai.json").read_text())


def _avg_infidelity(kraus) -> float:
    d = kraus[0].shape[0]
    f_pro = sum(abs(np.trace(k)) ** 2 for k in kraus) / d**2
    return 1 - (d * f_pro + 1) / (d + 1)


def test_calibrated_device_model():
    profile = _mumbai()
    qubits = [3, 5, 8]
    model = parse_noise("ibm-mumbai[3,5,8]", 3)
    assert model.n_qubits == 3 and model.has_readout
    arrays = model.arrays(3)
    sx = {g["qubit"]: g for g in profile["gates_1q"]["sx"]}
    cx = {tuple(g["qubits"]): g for g in profile["gates_2q"]["cx"]}
    for k, q in enumerate(qubits):
        qd = profile["qubits"][q]
        relax = ref.kraus_thermal_relaxation(qd["t1"], min(qd["t2_clipped"], 2 * qd["t1"]), sx[q]["duration"])
        chan = arrays["one_qubit"][0, k]
        np.testing.assert_array_equal(chan, arrays["one_qubit"][1, k])
        assert is_cptp(chan)
        # the depolarizing part makes the average gate infidelity equal the calibrated sx error, unless
        # relaxation alone already exceeds it (then no depolarizing is added; documented in devices.py)
        target = max(sx[q]["error"], _avg_infidelity(relax))
        assert _avg_infidelity(ref.kraus_from_choi(choi_from_ptm(chan))) == pytest.approx(target, rel=1e-9)
        if _avg_infidelity(relax) >= sx[q]["error"]:
            np.testing.assert_allclose(chan, rptm(relax), atol=1e-12)
        np.testing.assert_allclose(model.readout[k], [qd["readout_p10"], qd["readout_p01"]], atol=0)
    for a, b in itertools.permutations(range(3), 2):
        chan = arrays["two_qubit"][a, b]
        assert is_cptp(chan)
        gate = cx.get((qubits[a], qubits[b]))
        error = gate["error"] if gate else profile["summary"]["cx_error"]["median"]
        assert 1 - (np.trace(chan) / 4 + 1) / 5 == pytest.approx(error, rel=1e-9)  # CNOT errors exceed relaxation
    # ordered pairs: (3, 5) and (5, 3) have different calibrated CNOT durations
    assert not np.allclose(arrays["two_qubit"][0, 1], swap_qubits_ptm(arrays["two_qubit"][1, 0]))
    assert coupling_map("ibm-mumbai", qubits) == [(0, 1), (1, 0), (1, 2), (2, 1)]


@pytest.mark.parametrize("stat", ["median", "max", "10xmax"])
def test_uniform_device_model_values(stat):
    s = _mumbai()["summary"]
    model = parse_noise(f"mumbai-{stat}", 2)
    v = model.metadata["values"]
    if stat == "median":
        expected = dict(t1=s["t1"]["median"], e1=s["sx_error"]["median"], e2=s["cx_error"]["median"])
        expected.update(p10=s["readout_p10"]["median"], p01=s["readout_p01"]["median"])
    else:  # worst: max errors and durations, min T1 / T2; 10xmax: errors x10 (capped), T1 / 10
        scale = 10 if stat == "10xmax" else 1
        # readout stays at the max values in 10xmax (ten times would pass p = 0.5; see devices.py)
        expected = dict(t1=s["t1"]["min"] / scale, e1=min(scale * s["sx_error"]["max"], 0.5))
        expected.update(e2=min(scale * s["cx_error"]["max"], 0.75), p10=s["readout_p10"]["max"])
        expected.update(p01=s["readout_p01"]["max"])
        assert v["t2q"] == s["cx_duration"]["max"]
    for key, value in expected.items():
        assert v[key] == pytest.approx(value, rel=1e-12), key
    assert v["t2"] <= 2 * v["t1"]
    arrays = model.arrays(2)
    for chan in [*arrays["one_qubit"].reshape(-1, 4, 4), arrays["two_qubit"][0, 1], arrays["two_qubit"][1, 0]]:
        assert is_cptp(chan)
    np.testing.assert_allclose(model.readout, [[v["p10"], v["p01"]]] * 2)


def test_device_strength_ordering():
    fidelity = {
        stat: np.trace(parse_noise(f"mumbai-{stat}", 2).arrays(2)["two_qubit"][0, 1])
        for stat in ("median", "max", "10xmax")
    }
    assert fidelity["median"] > fidelity["max"] > fidelity["10xmax"]


def test_device_profiles():
    assert "ibm-mumbai" in list_devices()
    assert load_device("ibm-mumbai")["n_qubits"] == 27
    with pytest.raises(ValueError, match="unknown device profile 'ibm-nowhere'"):
        load_device("ibm-nowhere")
