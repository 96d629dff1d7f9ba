"""``crlqas vqe``: optimise a QASM circuit's angles; JSON and text output; one-line errors (exit 2).

Run in-process through ``crlqas_kit.cli.main``. The runs use budget 200 and 10^4 shots like
``tests/test_vqe.py``, so in one pytest session the compiled optimisers are shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crlqas_kit import cli
from crlqas_kit.problems import CHEMICAL_ACCURACY, load_problem
from crlqas_kit.sim.qasm import load_qasm, save_qasm
from crlqas_kit.sim.simulator import expectation

CIRCUITS = Path(__file__).resolve().parent.parent / "crlqas_kit" / "data" / "circuits"
ANSATZ = CIRCUITS / "H2-2q-ansatz.qasm"


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def start_qasm(tmp_path_factory) -> Path:
    """The shipped H2-2q ansatz with its angle reset to 0 (energy far from E0)."""
    path = tmp_path_factory.mktemp("qasm") / "h2-start.qasm"
    save_qasm(load_qasm(ANSATZ), path, params=[0.0])
    return path


def vqe_json(capsys, *argv) -> dict:
    rc, out, err = run(capsys, "vqe", "--problem", "H2-2q", "--budget", 200, *argv, "--json")
    assert rc == 0, err
    assert len(out.splitlines()) == 1
    return json.loads(out)


def test_vqe_json_reaches_chemical_accuracy(capsys, start_qasm):
    problem = load_problem("H2-2q")
    circuit = load_qasm(start_qasm)
    assert problem.error(expectation(circuit, problem.hamiltonian)) > 0.1
    out = vqe_json(capsys, "--qasm", start_qasm)
    assert {"energy", "exact_energy", "error", "evaluations", "method", "params"} <= set(out)
    assert out["method"] == "adam-spsa" and out["problem"] == "H2-2q" and out["shots"] is None
    assert out["error"] < CHEMICAL_ACCURACY and out["chemically_accurate"] is True
    assert out["error"] == pytest.approx(abs(out["exact_energy"] - problem.e0))
    assert out["energy"] == out["exact_energy"]  # no shots: the optimiser saw exact values
    assert 0 < out["evaluations"] <= 200 and out["seconds"] > 0
    assert len(out["params"]) == 1
    assert out["exact_energy"] == pytest.approx(expectation(circuit, problem.hamiltonian, params=out["params"]))


def test_vqe_text_output(capsys, start_qasm):
    rc, out, err = run(capsys, "vqe", "--problem", "H2-2q", "--qasm", start_qasm, "--method", "adam", "--budget", 200)
    assert rc == 0, err
    assert "H2-2q: adam, noise none, exact expectations" in out
    for label in ("best energy:", "exact energy:", "error:", "chemically accurate: yes", "evaluations: 200", "params:"):
        assert label in out, label


def test_vqe_shots_and_seeds(capsys, start_qasm):
    a = vqe_json(capsys, "--qasm", start_qasm, "--shots", 10_000, "--seed", 3)
    b = vqe_json(capsys, "--qasm", start_qasm, "--shots", 10_000, "--seed", 3)
    c = vqe_json(capsys, "--qasm", start_qasm, "--shots", 10_000, "--seed", 4)
    assert a["shots"] == 10_000 and a["seed"] == 3
    assert a["energy"] != a["exact_energy"]  # a finite-shot objective
    assert a["params"] == b["params"] and a["energy"] == b["energy"]
    assert a["params"] != c["params"]


def test_vqe_noise_reports_the_noisy_energy(capsys, start_qasm):
    out = vqe_json(capsys, "--qasm", start_qasm, "--noise", "depolarizing:p1=0.05")
    problem = load_problem("H2-2q")
    noisy = expectation(load_qasm(start_qasm), problem.hamiltonian, "depolarizing:p1=0.05", params=out["params"])
    assert out["exact_energy"] == pytest.approx(noisy, abs=1e-12)
    assert out["noise"] == "depolarizing:p1=0.05"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--shots", "-5"], "shots must be a positive integer"),
        (["--shots", "0"], "shots must be a positive integer"),
        (["--method", "newton"], "unknown VQE method 'newton'"),
        (["--budget", "0"], "budget must be a positive integer"),
        (["--budget", "-1"], "budget must be a positive integer"),
        (["--budget", "2"], "budget must be an integer >= 4"),
        (["--shots", "100", "--method", "adam"], "shots are supported by the SPSA methods only"),
        (["--shots", "100", "--method", "cobyla"], "shots are supported by the SPSA methods only"),
        (["--noise", "nonsense"], "unknown noise model 'nonsense'"),
        (["--problem", "LiH-4q"], "declares 2 qubits but LiH-4q acts on 4"),
        (["--problem", "XYZ"], "unknown problem 'XYZ'"),
        (["--qasm", CIRCUITS / "H2-2q-hf.qasm"], "no rotation angles"),
        (["--qasm", "/nonexistent/file.qasm"], "cannot read QASM file"),
    ],
)
def test_vqe_bad_input_gives_one_error_line(capsys, argv, match):
    base = {"--problem": "H2-2q", "--qasm": str(ANSATZ)}
    extra = [str(a) for a in argv]
    for flag in list(base):
        if flag in extra:
            base.pop(flag)
    args = [x for pair in base.items() for x in pair] + extra
    rc, out, err = run(capsys, "vqe", *args)
    assert rc == 2 and out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("crlqas: error: "), err
    assert match in lines[0]


def test_vqe_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["vqe", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--problem", "--qasm", "--noise", "--shots", "--method", "--budget", "--seed", "--json"):
        assert flag in out
