"""Device noise profiles -> NoiseModels: data sanity, CPTP channels, calibrated infidelities, bad input,
and the issue's acceptance check (LiH-4q HF circuit under mumbai-median) against the independent
density-matrix reference in ``tests/reference_dm.py``."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from crlqas_kit import cli
from crlqas_kit.problems import load_problem
from crlqas_kit.sim.devices import (
    _uniform_values,
    average_infidelity,
    coupling_map,
    device_model,
    list_devices,
    load_device,
    uniform_device_model,
)
from crlqas_kit.sim.noise_spec import parse_noise
from crlqas_kit.sim.ptm import is_cptp
from crlqas_kit.sim.qasm import load_qasm
from crlqas_kit.sim.simulator import expectation

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

CIRCUITS = Path(__file__).resolve().parent.parent / "crlqas_kit" / "data" / "circuits"
STATS = ("median", "max", "10xmax")

#: (spec, n_qubits) for every named device model, with a few physical-qubit choices.
MODEL_SPECS = [
    *[(f"{dev}-{stat}", 3) for dev in ("mumbai", "ourense") for stat in STATS],
    ("ibm-mumbai[0,1,2,3]", 4),
    ("ibm-mumbai[14,21,1]", 3),  # worst readout, worst T1, worst T2 (docs/devices.md)
    ("ibm-mumbai[2,1]", 2),  # the worst CNOT pair, non-native direction
    ("ibm-ourense", 5),  # whole device, qubits 0..4
    ("ibm-ourense[4,3,1]", 3),
]


# ----------------------------------------------------------------------------- independent helpers
def avg_infidelity_from_kraus(kraus) -> float:
    """``1 - F_avg`` with ``F_avg = (sum_k |Tr K_k|^2 + d) / (d (d + 1))`` (Nielsen 2002)."""
    d = kraus[0].shape[0]
    return 1.0 - (sum(abs(np.trace(k)) ** 2 for k in kraus) + d) / (d * (d + 1))


def then(first, second):
    """Kraus operators of 'first, then second'."""
    return [b @ a for a in first for b in second]


def relaxation_kraus(values_list, time):
    """Thermal relaxation on each qubit of a gate for ``time`` (tensor product, first qubit leftmost)."""
    ops = [np.eye(1)]
    for v in values_list:
        ops = [np.kron(a, b) for a in ops for b in ref.kraus_thermal_relaxation(v["t1"], v["t2"], time)]
    return ops


def depolarizing_strength(relax, error) -> float:
    """Qiskit's rule (``NoiseModel.from_backend``): the depolarizing ``p`` that, after ``relax``,
    makes the average gate infidelity equal ``error``; 0 when relaxation alone already exceeds it."""
    d = relax[0].shape[0]
    r = avg_infidelity_from_kraus(relax)
    if r >= error:
        return 0.0
    return d * (error - r) / (d * (1.0 - r) - 1.0)


def gate_kraus(values_list, time, error):
    """Reference Kraus operators of a noisy gate's error channel: relaxation, then depolarizing."""
    relax = relaxation_kraus(values_list, time)
    p = depolarizing_strength(relax, error)
    dep = ref.kraus_depolarizing_1q(p) if len(values_list) == 1 else ref.kraus_depolarizing_2q(p)
    return then(relax, dep)


def model_arrays(spec, n):
    model = parse_noise(spec, n)
    return model, model.arrays(n)


# ----------------------------------------------------------------------------- profiles as data
@pytest.mark.parametrize("device", ["ibm-mumbai", "ibm-ourense"])
def test_profile_loads_and_is_consistent(device):
    assert device in list_devices()
    prof = load_device(device)
    n = prof["n_qubits"]
    assert prof["name"] == device and n == len(prof["qubits"]) == {"ibm-mumbai": 27, "ibm-ourense": 5}[device]
    assert "qiskit-ibm-runtime" in prof["source"]
    for q in prof["qubits"]:
        assert 0 < q["t1"] < 1e-2 and 0 < q["t2"] < 1e-2
        assert q["t2_clipped"] == min(q["t2"], 2 * q["t1"])
        assert 0 <= q["readout_p10"] <= 1 and 0 <= q["readout_p01"] <= 1
    sx = prof["gates_1q"]["sx"]
    assert sorted(g["qubit"] for g in sx) == list(range(n))
    assert all(0 < g["error"] < 0.01 and 0 < g["duration"] < 1e-6 for g in sx)
    cx = prof["gates_2q"]["cx"]
    assert sorted(tuple(g["qubits"]) for g in cx) == sorted(tuple(e) for e in prof["coupling_map"])
    assert all(0 < g["error"] < 0.1 and 0 < g["duration"] < 1e-5 for g in cx)
    # the summary statistics that the uniform presets use are those of the per-qubit data
    s = prof["summary"]
    columns = {
        "t1": [q["t1"] for q in prof["qubits"]],
        "t2_clipped": [q["t2_clipped"] for q in prof["qubits"]],
        "readout_p10": [q["readout_p10"] for q in prof["qubits"]],
        "readout_p01": [q["readout_p01"] for q in prof["qubits"]],
        "sx_error": [g["error"] for g in sx],
        "sx_duration": [g["duration"] for g in sx],
        "cx_error": [g["error"] for g in cx],
        "cx_duration": [g["duration"] for g in cx],
    }
    for key, col in columns.items():
        for stat, fn in (("median", np.median), ("min", np.min), ("max", np.max)):
            assert s[key][stat] == pytest.approx(fn(col), rel=1e-12), (key, stat)


@pytest.mark.parametrize("device", ["ibm-mumbai", "ibm-ourense"])
def test_uniform_values_follow_the_documented_rule(device):
    s = load_device(device)["summary"]
    med, mx, ten = (_uniform_values(load_device(device), stat) for stat in STATS)
    assert med["t1"] == s["t1"]["median"] and med["e1"] == s["sx_error"]["median"]
    assert med["e2"] == s["cx_error"]["median"] and med["p10"] == s["readout_p10"]["median"]
    # max noise: max errors and durations, min coherence times
    assert mx["t1"] == s["t1"]["min"] and mx["t2"] == min(s["t2_clipped"]["min"], 2 * s["t1"]["min"])
    assert mx["e1"] == s["sx_error"]["max"] and mx["e2"] == s["cx_error"]["max"]
    assert mx["t2q"] == s["cx_duration"]["max"] and mx["p01"] == s["readout_p01"]["max"]
    # 10x max: gate errors x10 (capped), coherence / 10, same durations
    assert ten["t1"] == pytest.approx(mx["t1"] / 10) and ten["t2"] == pytest.approx(mx["t2"] / 10)
    assert ten["e1"] == pytest.approx(min(10 * mx["e1"], 0.5)) and ten["e2"] == pytest.approx(min(10 * mx["e2"], 0.75))
    # readout stays at max: x10 would pass p = 0.5, where measurements carry no information
    assert ten["p10"] == mx["p10"] and ten["p01"] == mx["p01"] and ten["t2q"] == mx["t2q"]
    for v in (med, mx, ten):
        assert v["t2"] <= 2 * v["t1"]


# ----------------------------------------------------------------------------- channels
@pytest.mark.parametrize(("spec", "n"), MODEL_SPECS)
def test_every_channel_is_cptp_and_readout_is_a_probability(spec, n):
    model, arrays = model_arrays(spec, n)
    assert arrays["one_qubit"].shape == (2, n, 4, 4) and arrays["two_qubit"].shape == (n, n, 16, 16)
    for m in arrays["one_qubit"].reshape(-1, 4, 4):
        assert is_cptp(m)
        assert not np.allclose(m, np.eye(4))  # the device models do put noise on every gate
    for a in range(n):
        for b in range(n):
            assert is_cptp(arrays["two_qubit"][a, b])
            assert a == b or not np.allclose(arrays["two_qubit"][a, b], np.eye(16))
    readout = np.asarray(model.readout)
    assert readout.shape == (n, 2)
    assert np.all((readout >= 0) & (readout <= 1))
    assert np.all(readout > 0)  # every device qubit has a calibrated readout error
    for m in arrays["readout"]:
        assert m[0, 0] == 1 and np.all(m[0, 1:] == 0)


@pytest.mark.parametrize("device", ["mumbai", "ourense"])
@pytest.mark.parametrize("stat", STATS)
def test_uniform_channels_match_reference_kraus_construction(device, stat):
    model, arrays = model_arrays(f"{device}-{stat}", 2)
    v = model.metadata["values"]
    one = ref.ptm_of_kraus(gate_kraus([v], v["t1q"], v["e1"]))
    two = ref.ptm_of_kraus(gate_kraus([v, v], v["t2q"], v["e2"]))
    assert np.abs(arrays["one_qubit"] - one).max() < 1e-12  # after rotations and after fixed gates
    assert np.abs(arrays["two_qubit"][0, 1] - two).max() < 1e-12
    assert np.abs(arrays["two_qubit"][1, 0] - two).max() < 1e-12
    assert np.allclose(np.asarray(model.readout), [[v["p10"], v["p01"]]] * 2, rtol=0, atol=0)


def test_average_infidelity_formula():
    rng = np.random.default_rng(7)
    for _ in range(5):
        t1 = rng.uniform(20e-6, 200e-6)
        kr = then(
            ref.kraus_thermal_relaxation(t1, rng.uniform(0.1, 2) * t1, rng.uniform(0, 5e-6)),
            ref.kraus_depolarizing_1q(rng.uniform(0, 0.1)),
        )
        assert abs(average_infidelity(ref.ptm_of_kraus(kr)) - avg_infidelity_from_kraus(kr)) < 1e-12
        kr2 = then([np.kron(a, b) for a in kr for b in kr], ref.kraus_depolarizing_2q(rng.uniform(0, 0.1)))
        assert abs(average_infidelity(ref.ptm_of_kraus(kr2)) - avg_infidelity_from_kraus(kr2)) < 1e-12
    # analytic: depolarizing p has average infidelity p (d - 1) / d
    assert average_infidelity(ref.ptm_of_kraus(ref.kraus_depolarizing_1q(0.3))) == pytest.approx(0.15, abs=1e-14)
    assert average_infidelity(ref.ptm_of_kraus(ref.kraus_depolarizing_2q(0.4))) == pytest.approx(0.3, abs=1e-14)


@pytest.mark.parametrize(("spec", "n"), MODEL_SPECS)
def test_gate_infidelity_equals_calibrated_error(spec, n):
    """1-qubit channel: infidelity = sx error (relaxation alone below it) or = relaxation (p = 0);
    CNOT channel: likewise with the cx error of that directed pair (the median when not coupled)."""
    model, arrays = model_arrays(spec, n)
    if "values" in model.metadata:  # uniform preset
        v = model.metadata["values"]
        per_qubit = [v] * n

        def pair(a, b):
            return v["e2"], v["t2q"]
    else:
        prof = load_device(model.metadata["device"])
        phys = model.metadata["physical_qubits"]
        sx = {g["qubit"]: g for g in prof["gates_1q"]["sx"]}
        cx = {tuple(g["qubits"]): g for g in prof["gates_2q"]["cx"]}
        per_qubit = [
            {
                "t1": prof["qubits"][q]["t1"],
                "t2": prof["qubits"][q]["t2_clipped"],
                "e1": sx[q]["error"],
                "t1q": sx[q]["duration"],
            }
            for q in phys
        ]
        coupled = set(coupling_map(model.metadata["device"], phys))

        def pair(a, b):
            g = cx.get((phys[a], phys[b]))
            assert (g is not None) == ((a, b) in coupled)
            if g is None:
                s = prof["summary"]
                return s["cx_error"]["median"], s["cx_duration"]["median"]
            return g["error"], g["duration"]

    n_calibrated = 0
    for q, v in enumerate(per_qubit):
        relax = avg_infidelity_from_kraus(relaxation_kraus([v], v["t1q"]))
        got = average_infidelity(arrays["one_qubit"][0, q])
        want = v["e1"] if relax < v["e1"] else relax
        n_calibrated += relax < v["e1"]
        assert abs(got - want) < 1e-12, (q, got, want, relax)
        assert np.array_equal(arrays["one_qubit"][0, q], arrays["one_qubit"][1, q])
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            e2, t2q = pair(a, b)
            relax = avg_infidelity_from_kraus(relaxation_kraus([per_qubit[a], per_qubit[b]], t2q))
            got = average_infidelity(arrays["two_qubit"][a, b])
            assert abs(got - (e2 if relax < e2 else relax)) < 1e-12, (a, b, got, e2, relax)
    # Mumbai (all models) and median Ourense: relaxation alone is below the sx error on every qubit,
    # so the calibrated branch is what is tested; some Ourense qubits relax more than their sx error.
    if "mumbai" in spec or spec == "ourense-median":
        assert n_calibrated == n


def test_noise_grows_median_max_10xmax():
    problem = load_problem("H2-2q")
    circuit = load_qasm(CIRCUITS / "H2-2q-ansatz.qasm")
    ideal = expectation(circuit, problem.hamiltonian)
    assert abs(ideal - problem.e0) < 1e-9
    for device in ("mumbai", "ourense"):
        errors, gate_only = [], []
        for stat in STATS:
            model = parse_noise(f"{device}-{stat}", 2)
            errors.append(abs(expectation(circuit, problem.hamiltonian, model) - ideal))
            no_readout = dataclasses.replace(model, readout=None)
            gate_only.append(abs(expectation(circuit, problem.hamiltonian, no_readout) - ideal))
        assert 1e-4 < errors[0] < errors[1] < errors[2], (device, errors)
        assert 1e-4 < gate_only[0] < gate_only[1] < gate_only[2], (device, gate_only)


def test_per_qubit_model_uses_the_chosen_qubits():
    problem = load_problem("H2-2q")
    circuit = load_qasm(CIRCUITS / "H2-2q-ansatz.qasm")
    energies = {
        spec: expectation(circuit, problem.hamiltonian, spec)
        for spec in ("ibm-mumbai[0,1]", "ibm-mumbai[2,1]", "ibm-mumbai[12,15]")
    }
    assert len({round(e, 12) for e in energies.values()}) == 3
    m = device_model("ibm-mumbai", [14, 3])
    assert np.allclose(
        np.asarray(m.readout)[0], [load_device("ibm-mumbai")["qubits"][14][k] for k in ("readout_p10", "readout_p01")]
    )
    assert m.n_qubits == 2 and m.metadata["physical_qubits"] == [14, 3]
    # Ourense edges 1-3 and 3-4 in circuit indices of physical [4, 3, 1]
    assert sorted(coupling_map("ibm-ourense", [4, 3, 1])) == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_device_model_against_reference_with_rotation_and_cnot():
    """H2-2q ansatz (RY then CNOT) on physical qubits [2, 1] of Mumbai vs the Kraus reference."""
    problem = load_problem("H2-2q")
    circuit = load_qasm(CIRCUITS / "H2-2q-ansatz.qasm")
    (name, (q,), theta), (cname, wires, _) = circuit.ops()
    assert (name, cname, tuple(wires)) == ("ry", "cx", (0, 1))
    prof = load_device("ibm-mumbai")
    phys = [2, 1]
    sx = {g["qubit"]: g for g in prof["gates_1q"]["sx"]}
    cx = {tuple(g["qubits"]): g for g in prof["gates_2q"]["cx"]}
    v = [{"t1": prof["qubits"][p]["t1"], "t2": prof["qubits"][p]["t2_clipped"]} for p in phys]
    g = cx[(2, 1)]
    ops = [
        ("ry", (q,), theta),
        ("kraus", (q,), gate_kraus([v[q]], sx[phys[q]]["duration"], sx[phys[q]]["error"])),
        ("cx", (0, 1)),
        ("kraus", (0, 1), gate_kraus(v, g["duration"], g["error"])),
    ]
    rho = ref.run(2, ops)
    p10 = [prof["qubits"][p]["readout_p10"] for p in phys]
    p01 = [prof["qubits"][p]["readout_p01"] for p in phys]
    terms = list(zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs.tolist(), strict=True))
    want = ref.readout_expectation(rho, terms, p10, p01)
    got = expectation(circuit, problem.hamiltonian, "ibm-mumbai[2,1]")
    assert abs(got - want) < 1e-10
    assert abs(got - problem.e0) > 1e-2  # the noise is visible


# ----------------------------------------------------------------------------- acceptance
def test_acceptance_cli_lih_hf_mumbai_median_matches_reference(capsys):
    qasm = CIRCUITS / "LiH-4q-hf.qasm"
    rc = cli.main(["evaluate", "--problem", "LiH-4q", "--qasm", str(qasm), "--noise", "mumbai-median", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    result = json.loads(out)

    problem = load_problem("LiH-4q")
    v = _uniform_values(load_device("ibm-mumbai"), "median")
    # recompute the depolarizing strength from the infidelity formula, independently of the kit
    relax = ref.kraus_thermal_relaxation(v["t1"], v["t2"], v["t1q"])
    r = avg_infidelity_from_kraus(relax)
    assert 0 < r < v["e1"]
    p = 2 * (v["e1"] - r) / (2 * (1 - r) - 1)
    noisy_x = then(relax, ref.kraus_depolarizing_1q(p))
    assert abs(avg_infidelity_from_kraus(noisy_x) - v["e1"]) < 1e-14

    circuit_ops = load_qasm(qasm).ops()
    assert [(op[0], tuple(op[1])) for op in circuit_ops] == [("x", (0,)), ("x", (1,))]
    ops = []
    for name, wires, _ in circuit_ops:
        ops += [(name, tuple(wires)), ("kraus", tuple(wires), noisy_x)]
    rho = ref.run(4, ops)
    terms = list(zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs.tolist(), strict=True))
    want = ref.readout_expectation(rho, terms, v["p10"], v["p01"])

    assert abs(result["energy"] - want) < 1e-10
    assert abs(result["error"] - abs(want - problem.e0)) < 1e-10
    assert result["problem"] == "LiH-4q" and result["noise"] == "mumbai-median"
    # the check has teeth: noise moves the energy well away from E_HF, readout dominating
    assert abs(want - problem.e_hf) > 1e-2
    assert abs(ref.expectation(rho, terms) - problem.e_hf) > 1e-5


# ----------------------------------------------------------------------------- bad input
def test_unknown_profile_names():
    with pytest.raises(ValueError, match="unknown device profile 'ibm-nowhere'.*ibm-mumbai.*ibm-ourense"):
        load_device("ibm-nowhere")
    with pytest.raises(ValueError, match="unknown device profile"):
        uniform_device_model("ibm-nowhere", "median", 2)
    with pytest.raises(ValueError, match="unknown device profile"):
        device_model("ibm-nowhere", [0, 1])
    with pytest.raises(ValueError, match="unknown noise model 'nowhere-median'.*mumbai-median"):
        parse_noise("nowhere-median", 2)
    with pytest.raises(ValueError, match="unknown statistic 'mean'"):
        uniform_device_model("ibm-mumbai", "mean", 2)
    with pytest.raises(ValueError, match="n_qubits must be a positive integer"):
        uniform_device_model("ibm-mumbai", "median", 0)
    with pytest.raises(ValueError, match="needs the number of qubits"):
        parse_noise("mumbai-median")


@pytest.mark.parametrize(
    ("device", "qubits"),
    [
        ("ibm-ourense", range(6)),  # more qubits than the device has
        ("ibm-ourense", [0, 5]),  # out of range
        ("ibm-mumbai", [0, 27]),
        ("ibm-mumbai", [-1, 0]),
        ("ibm-mumbai", [3, 3]),  # duplicate
        ("ibm-mumbai", []),
    ],
)
def test_bad_qubit_subsets(device, qubits):
    with pytest.raises(ValueError, match=f"distinct physical qubits of {device}"):
        device_model(device, qubits)


@pytest.mark.parametrize("qubits", [[0.5, 1], [True, 2], ["0", "1"]])
def test_non_integer_physical_qubits(qubits):
    with pytest.raises(ValueError, match="must be integers"):
        device_model("ibm-mumbai", qubits)


@pytest.mark.parametrize(
    ("spec", "n", "match"),
    [
        ("ibm-ourense", 6, "physical qubits of ibm-ourense"),  # default subset 0..5 is larger than the device
        ("ibm-mumbai[0,1,2]", 2, "names 3 physical qubits for 2 qubits"),
        ("ibm-mumbai[0]", 2, "names 1 physical qubits for 2 qubits"),
        ("ibm-mumbai[]", 1, "names 0 physical qubits for 1 qubits"),
        ("ibm-mumbai[0,27]", 2, "physical qubits of ibm-mumbai"),
        ("ibm-mumbai[4,4]", 2, "noise spec 'ibm-mumbai[4,4]': physical qubit 4 is repeated"),
        ("ibm-mumbai[-1,0]", 2, "cannot parse noise spec 'ibm-mumbai[-1,0]': the qubit list [..] takes non-negative"),
        ("ibm-mumbai[0,1", 2, "cannot parse noise spec"),
        ("mumbai-median[0,1]", 2, "takes no qubit list [..]"),
        ("mumbai-median:p1=0.1", 2, "takes no parameters"),
        ("depolarizing[0,1]", 2, "only allowed after a device name"),
    ],
)
def test_bad_device_specs(spec, n, match):
    with pytest.raises(ValueError, match=match.replace("[", r"\[")):
        parse_noise(spec, n)


def test_model_qubit_count_is_enforced():
    model = parse_noise("ibm-mumbai[0,1,2]", 3)
    with pytest.raises(ValueError, match="defined for 3 qubits"):
        model.arrays(2)
    circuit = load_qasm(CIRCUITS / "H2-2q-ansatz.qasm")
    with pytest.raises(ValueError, match="defined for 3 qubits"):
        expectation(circuit, load_problem("H2-2q").hamiltonian, model)
