"""Readout-error mitigation (crlqas_kit.sim.mitigation) against the dense reference: the full
confusion matrix inverted on each term's measured distribution (tests/reference_dm.py)."""

from __future__ import annotations

import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_dm as ref

from crlqas_kit.optim.vqe import energy_objective
from crlqas_kit.sim import mitigation
from crlqas_kit.sim import simulator as S
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.noise import NoiseModel, depolarizing_1q, depolarizing_2q
from crlqas_kit.sim.paulis import PauliSum

N = 3
#: asymmetric and different on every qubit (b = p01 - p10 != 0), so a map that ignored the
#: offset, swapped p10/p01 or used one qubit's values for all would fail
P10 = np.array([0.02, 0.07, 0.11])
P01 = np.array([0.09, 0.03, 0.15])
OPS = [("ry", 0, 0.7), ("rx", 1, -1.1), ("cx", (0, 1)), ("ry", 2, 2.3), ("rz", 1, 0.4), ("cx", (1, 2)), ("rx", 0, 0.9)]
#: every letter on every qubit and every weight, identity included
TERMS = [("III", 0.3), ("ZII", 0.5), ("IXI", -0.4), ("IIY", 0.2), ("ZZI", 0.7), ("XIY", -0.6), ("YXZ", 0.25)]
TERMS += [("ZZZ", -0.35), ("XXX", 0.15), ("IYY", 0.45)]
P1, P2 = 3e-3, 1e-2


def model(readout=True) -> NoiseModel:
    return NoiseModel(
        rotation=depolarizing_1q(P1),
        two_qubit=depolarizing_2q(P2),
        readout=np.stack([P10, P01], axis=1) if readout else None,
        n_qubits=N,
    )


def circuit() -> tuple[Circuit, np.ndarray]:
    c = Circuit.from_ops(N, [(op[0], op[1]) for op in OPS])
    angles = np.zeros(c.capacity)
    angles[: c.n_params] = [op[2] for op in OPS if len(op) == 3]
    return c, angles


def reference_rho() -> np.ndarray:
    ops = []
    for op in OPS:
        wires = op[1] if isinstance(op[1], tuple) else (op[1],)
        ops.append((op[0], wires, op[2]) if len(op) == 3 else (op[0], wires))
        kraus = ref.kraus_depolarizing_1q(P1) if len(op) == 3 else ref.kraus_depolarizing_2q(P2)
        ops.append(("kraus", wires, kraus))
    return ref.run(N, ops)


@pytest.fixture(scope="module")
def evaluators():
    with jax.enable_x64(True):
        ham = PauliSum.from_list(TERMS)
        return (
            S.Evaluator.create(ham, model(), mitigate_readout=True),
            S.Evaluator.create(ham, model()),
            S.Evaluator.create(ham, model(readout=False)),
        )


def test_corrected_terms_equal_the_inverted_confusion_matrix(evaluators):
    """Each term's corrected mean, second moment and bound against the dense confusion-matrix
    inversion on the reference density matrix (the measured values too, as a check of the setup)."""
    mitigated, measured, _ = evaluators
    c, angles = circuit()
    rho = reference_rho()
    with jax.enable_x64(True):
        means, second = (np.asarray(a) for a in mitigated.shot_moments(c, jnp.asarray(angles)))
        raw = np.asarray(measured.expectations(c, jnp.asarray(angles)))
    gains = np.asarray(mitigated.mitigation.gains)
    for k, (term, _) in enumerate(TERMS):
        mean, moment, bound = ref.mitigated_readout_term(rho, term, P10, P01)
        assert means[k] == pytest.approx(mean, abs=1e-12), term
        assert second[k] == pytest.approx(moment, abs=1e-12), term
        assert gains[k] == pytest.approx(bound, rel=1e-12), term
        assert raw[k] == pytest.approx(ref.readout_expectation(rho, [(term, 1.0)], P10, P01), abs=1e-12), term
        if term != "III":  # the correction changes the value and costs variance
            assert abs(raw[k] - means[k]) > 1e-4 and moment > 1.0


def test_exact_corrected_energy_is_the_energy_without_readout_error(evaluators):
    mitigated, measured, no_readout = evaluators
    c, angles = circuit()
    with jax.enable_x64(True):
        e_mit, e_raw, e_true = (float(ev.energy(c, jnp.asarray(angles))) for ev in evaluators)
    assert e_mit == pytest.approx(e_true, abs=1e-12)
    assert abs(e_raw - e_true) > 1e-3
    assert e_true == pytest.approx(ref.expectation(reference_rho(), TERMS), abs=1e-12)


@pytest.mark.parametrize("variance", ["exact", "published"])
def test_shot_noise_of_corrected_estimates(evaluators, variance):
    """Finite-shot corrected energies: mean the readout-free energy, variance sum_k w_k^2 var_k / N
    with the corrected estimator's variance (exact) or its bound max X^2 (published)."""
    mitigated, _, no_readout = evaluators
    c, angles = circuit()
    shots, draws = 1000, 4000
    rho = reference_rho()
    stats = [ref.mitigated_readout_term(rho, t, P10, P01) for t, _ in TERMS]
    weights = np.array([w for _, w in TERMS])
    if variance == "exact":
        per_term = np.array([m2 - m**2 for m, m2, _ in stats])
    else:
        per_term = np.array([b for *_, b in stats])
    per_term[0] = 0.0  # the identity term is exact
    expected_var = float(weights**2 @ per_term) / shots
    with jax.enable_x64(True):
        f = energy_objective(mitigated, c, shots, variance)
        x = jnp.asarray(angles)
        samples = np.asarray(jax.vmap(lambda k: f(x, k))(jax.random.split(jax.random.key(11), draws)))
        e_true = float(no_readout.energy(c, x))
    assert samples.mean() == pytest.approx(e_true, abs=4 * np.sqrt(expected_var / draws))
    # sample variance of 4000 Gaussian draws: relative standard error sqrt(2/3999) = 2.2 %
    assert samples.var(ddof=1) == pytest.approx(expected_var, rel=0.1)
    plain = float(weights[1:] ** 2 @ (1 - np.array([m for m, *_ in stats[1:]]) ** 2)) / shots
    assert expected_var > 1.2 * plain  # the case can tell corrected from plain +-1 shots


def test_maps_are_per_qubit_inverses():
    from crlqas_kit.sim.noise import readout_map

    readout = np.stack([readout_map(p, q) for p, q in zip(P10, P01, strict=True)])
    for m, u in zip(readout, mitigation.unfolding_maps(readout), strict=True):
        np.testing.assert_allclose(u @ m, np.eye(4), atol=1e-14)


def test_bound_gains_follow_each_terms_support():
    from crlqas_kit.sim.noise import readout_map

    readout = np.stack([readout_map(p, q) for p, q in zip(P10, P01, strict=True)])
    strings = ["".join(s) for s in itertools.product("IXYZ", repeat=N)]
    gains = mitigation.bound_gains(readout, PauliSum.from_list([(s, 1.0) for s in strings]).indices, N)
    per_qubit = ((1 + np.abs(P01 - P10)) / (1 - P01 - P10)) ** 2
    for s, g in zip(strings, gains, strict=True):
        assert g == pytest.approx(np.prod([per_qubit[q] for q, letter in enumerate(s) if letter != "I"]), rel=1e-13)


def test_without_readout_error_nothing_changes():
    with jax.enable_x64(True):
        ham = PauliSum.from_list(TERMS)
        assert S.Evaluator.create(ham, None, mitigate_readout=True).mitigation is None
        assert S.Evaluator.create(ham, None, mitigate_readout=True).engine == "statevector"
        assert S.Evaluator.create(ham, model(readout=False), mitigate_readout=True).mitigation is None


def test_bad_input():
    ham = PauliSum.from_list(TERMS)
    with pytest.raises(TypeError, match="mitigate_readout must be True or False"):
        S.Evaluator.create(ham, model(), mitigate_readout="yes")
    lost = NoiseModel(readout=np.array([[0.02, 0.09], [0.5, 0.5], [0.1, 0.1]]), n_qubits=N)
    with pytest.raises(ValueError, match=r"qubit\(s\) \[1\].*p01 \+ p10"):
        S.Evaluator.create(ham, lost, mitigate_readout=True)
    S.Evaluator.create(ham, lost)  # measuring without mitigation stays possible


# ----------------------------------------------------------------------------- through the kit
def device_without_readout(name: str, n: int) -> NoiseModel:
    import dataclasses

    from crlqas_kit.sim.noise_spec import parse_noise

    model = parse_noise(name, n)
    assert model.has_readout
    return dataclasses.replace(model, readout=None)


def test_environment_measures_corrected_energies():
    """With mitigate_readout the environment's energies (rewards, success) are the readout-free ones."""
    from crlqas_kit import load_problem
    from crlqas_kit.rl import env as E

    problem = load_problem("H2-3q")
    with jax.enable_x64(True):
        plain = E.make_params(problem, "mumbai-median")
        corrected = E.make_params(problem, "mumbai-median", mitigate_readout=True)
        reference = E.make_params(problem, device_without_readout("mumbai-median", 3))
        energies = []
        for params in (plain, corrected, reference):
            _, state = E.reset_jit(jax.random.key(0), params, 1e-3)
            for action in (4, 9):
                _, state, *_ = E.step_jit(jax.random.key(action), state, action, params)
            energies.append(float(state.energy))
    assert energies[1] == pytest.approx(energies[2], abs=1e-10)
    assert abs(energies[0] - energies[2]) > 1e-2  # readout error alone: tens of mHa on this device


def test_search_config_and_sweep_carry_the_option():
    from crlqas_kit.search_config import SearchConfig
    from crlqas_kit.sweep.grid import expand

    cfg = SearchConfig(problem="H2-3q", noise="mumbai-median", mitigate_readout=True)
    assert SearchConfig.from_dict(cfg.to_dict()) == cfg
    assert SearchConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "mitigate_readout"}) == cfg.replace(
        mitigate_readout=False
    )  # runs saved before the option load as unmitigated
    with pytest.raises(TypeError, match="mitigate_readout must be true or false"):
        SearchConfig(mitigate_readout="yes")
    runs = expand({"problem": "H2-3q", "noise": "mumbai-median", "mitigate_readout": True, "seeds": [0]})
    assert [r.name for r in runs] == ["H2-3q_mumbai-median_fast_mitigated_seed0"] and runs[0].config.mitigate_readout
    with pytest.raises(ValueError, match="mitigate_readout must be true or false"):
        expand({"problem": "H2-3q", "mitigate_readout": "yes"})


def test_cli_evaluate_mitigated(capsys, tmp_path):
    from cli_helpers import run

    from crlqas_kit import load_problem
    from crlqas_kit.sim.simulator import expectation

    qasm = tmp_path / "c.qasm"
    qasm.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nx q[0];\nry(0.3) q[1];\ncx q[1],q[2];\n')
    rc, out, err = run(capsys, "evaluate", "--problem", "H2-3q", "--qasm", str(qasm), "--noise", "mumbai-median",
                       "--mitigate-readout", "--json")  # fmt: skip
    assert rc == 0 and err == ""
    result = json.loads(out)
    from crlqas_kit.sim.qasm import load_qasm

    want = expectation(
        load_qasm(str(qasm)), load_problem("H2-3q").hamiltonian, device_without_readout("mumbai-median", 3)
    )
    assert result["mitigate_readout"] is True and result["energy"] == pytest.approx(want, abs=1e-10)


def test_baselines_take_the_option():
    """HEA and ADAPT under mumbai-median with mitigation score the readout-free energy of their circuit."""
    from crlqas_kit.baselines.adapt import adapt_vqe
    from crlqas_kit.baselines.hea import hea_baseline
    from crlqas_kit.sim.simulator import expectation

    clean = device_without_readout("mumbai-median", 2)
    res = adapt_vqe("H2-2q", noise="mumbai-median", mitigate_readout=True)
    plain = adapt_vqe("H2-2q", noise="mumbai-median")
    from crlqas_kit import load_problem

    ham = load_problem("H2-2q").hamiltonian
    assert res.noisy_energy == pytest.approx(expectation(res.circuit, ham, clean), abs=1e-10)
    assert plain.noisy_energy > res.noisy_energy + 1e-2
    hea = hea_baseline("H2-2q", "mumbai-median", layers=1, starts=1, steps=50, mitigate_readout=True)
    assert hea.energy == pytest.approx(expectation(hea.circuit, ham, clean), abs=1e-10)


def test_runs_saved_before_the_option_still_resume(tmp_path):
    """A config.json written before mitigate_readout existed matches the (unmitigated) config that
    resumes it, for a single run and for a sweep's recorded grid; a mitigated one does not."""
    from crlqas_kit.autosave import check_out
    from crlqas_kit.search_config import SearchConfig
    from crlqas_kit.sweep.grid import expand
    from crlqas_kit.sweep.summary import check_sweep_dir

    cfg = SearchConfig(problem="H2-2q")
    old = {k: v for k, v in cfg.to_dict().items() if k != "mitigate_readout"}
    (tmp_path / "config.json").write_text(json.dumps({"config": old, "seeds": [0]}))
    check_out(tmp_path, cfg, [0], resuming=True)
    with pytest.raises(ValueError, match="holds another run"):
        check_out(tmp_path, cfg.replace(mitigate_readout=True), [0], resuming=True)
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    runs = expand({"problem": "H2-2q", "seeds": [0]})
    record = runs[0].to_dict()
    del record["config"]["mitigate_readout"]
    (sweep_dir / "sweep.json").write_text(json.dumps({"runs": [record]}))
    check_sweep_dir(sweep_dir, runs)
