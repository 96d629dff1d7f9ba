"""The ``crlqas`` command line: problems, evaluate, demo, and one-line errors (exit code 2) for bad input.

Run in-process through ``crlqas_kit.cli.main`` (stdout/stderr captured), plus one subprocess test
of the installed console script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run

from crlqas_kit.problems import list_problems, load_problem
from crlqas_kit.sim.noise_spec import parse_noise
from crlqas_kit.sim.qasm import load_qasm
from crlqas_kit.sim.simulator import expectation

CIRCUITS = Path(__file__).resolve().parent.parent / "crlqas_kit" / "data" / "circuits"
ANSATZ = str(CIRCUITS / "H2-2q-ansatz.qasm")


# ----------------------------------------------------------------------------- problems
def test_problems_table(capsys):
    rc, out, err = run(capsys, "problems")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["name", "qubits", "terms"] and "E0" in lines[0] and "E_HF" in lines[0]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(list_problems())
    for name, cols in rows.items():
        p = load_problem(name)
        assert int(cols[1]) == p.n_qubits and int(cols[2]) == len(p.hamiltonian)
        assert abs(float(cols[3]) - p.e0) < 1e-10 and abs(float(cols[4]) - p.e_hf) < 1e-10
        assert cols[5] == p.hf_bitstring


def test_problems_json(capsys):
    rc, out, err = run(capsys, "problems", "--json")
    assert rc == 0 and err == ""
    rows = json.loads(out)
    assert isinstance(rows, list) and [r["name"] for r in rows] == list_problems()
    for r in rows:
        p = load_problem(r["name"])
        assert r["n_qubits"] == p.n_qubits and r["n_terms"] == len(p.hamiltonian)
        assert r["e0"] == p.e0 and r["e_hf"] == p.e_hf and r["hf_bitstring"] == p.hf_bitstring
        assert isinstance(r["n_qubits"], int) and isinstance(r["e0"], float)


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_problem_json(capsys):
    rc, out, err = run(capsys, "evaluate", "--problem", "H2-2q", "--qasm", ANSATZ, "--json")
    assert rc == 0 and err == ""
    result = json.loads(out)
    e0 = load_problem("H2-2q").e0
    assert result["error"] < 1e-9 and abs(result["energy"] - e0) < 1e-9
    assert result["problem"] == "H2-2q" and result["e0"] == e0 and result["chemically_accurate"] is True
    assert result["noise"] == "none" and result["n_qubits"] == 2


def test_evaluate_problem_text_with_noise(capsys):
    rc, out, err = run(capsys, "evaluate", "--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "depolarizing-cnot")
    assert rc == 0 and err == ""
    want = expectation(load_qasm(ANSATZ), load_problem("H2-2q").hamiltonian, parse_noise("depolarizing-cnot"))
    lines = out.splitlines()
    assert lines[0].startswith("energy: ") and abs(float(lines[0].split()[1]) - want) < 1e-9
    assert lines[1].startswith("E0: ") and "chemically accurate: no" in lines[1]


def test_evaluate_hamiltonian_file(capsys, tmp_path):
    problem = load_problem("H2-2q")
    path = tmp_path / "h2.json"
    terms = [[s, c] for s, c in zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs.tolist(), strict=True)]
    path.write_text(json.dumps({"n_qubits": 2, "terms": terms}))
    rc, out, err = run(capsys, "evaluate", "--hamiltonian", path, "--qasm", ANSATZ, "--json")
    assert rc == 0 and err == ""
    result = json.loads(out)
    assert abs(result["energy"] - problem.e0) < 1e-9
    assert "error" not in result and "problem" not in result
    # another Hamiltonian gives its own energy: RY then CNOT makes cos|00> + sin|11>, so <ZZ> = 1
    path.write_text(json.dumps({"n_qubits": 2, "terms": [["ZZ", 2.0], ["II", 0.5]]}))
    rc, out, err = run(capsys, "evaluate", "--hamiltonian", path, "--qasm", ANSATZ, "--json")
    assert rc == 0 and abs(json.loads(out)["energy"] - 2.5) < 1e-12


# ----------------------------------------------------------------------------- bad input
QASM_FILES = {
    "malformed.qasm": "OPENQASM 2.0;\nqreg q[2];\nry( q[0];\n",
    "noheader.qasm": "qreg q[2];\nx q[0];\n",
    "unsupported.qasm": 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nu3(0.1,0.2,0.3) q[0];\n',
    "three.qasm": "OPENQASM 2.0;\nqreg q[3];\nx q[2];\n",
    "range.qasm": "OPENQASM 2.0;\nqreg q[2];\nx q[2];\n",
}
JSON_FILES = {
    "truncated.json": '{"n_qubits": 2, "terms": [["ZZ", 1.0]',
    "noterms.json": '{"n_qubits": 2}',
    "list.json": "[1, 2]",
    "letters.json": '{"n_qubits": 2, "terms": [["ZQ", 1.0]]}',
    "length.json": '{"n_qubits": 2, "terms": [["ZZZ", 1.0]]}',
    "coeff.json": '{"n_qubits": 2, "terms": [["ZZ", "abc"]]}',
    "empty.json": "",
}

BAD_CASES = {
    "missing QASM file": (["--problem", "H2-2q", "--qasm", "{tmp}/nope.qasm"], "nope.qasm"),
    "QASM is a directory": (["--problem", "H2-2q", "--qasm", "{tmp}"], "cannot read QASM"),
    "malformed QASM": (["--problem", "H2-2q", "--qasm", "{tmp}/malformed.qasm"], "line 3"),
    "QASM without header": (["--problem", "H2-2q", "--qasm", "{tmp}/noheader.qasm"], "OPENQASM 2.0"),
    "unsupported QASM gate": (["--problem", "H2-2q", "--qasm", "{tmp}/unsupported.qasm"], "'u3'"),
    "QASM qubit out of range": (["--problem", "H2-2q", "--qasm", "{tmp}/range.qasm"], "out of range"),
    "QASM larger than problem": (["--problem", "H2-2q", "--qasm", "{tmp}/three.qasm"], "3 qubits"),
    "QASM larger than Hamiltonian": (
        ["--hamiltonian", "{tmp}/good.json", "--qasm", "{tmp}/three.qasm"],
        "3 qubits",
    ),
    "missing Hamiltonian": (["--hamiltonian", "{tmp}/nope.json", "--qasm", ANSATZ], "nope.json"),
    **{
        f"bad Hamiltonian {name}": (["--hamiltonian", f"{{tmp}}/{name}", "--qasm", ANSATZ], name) for name in JSON_FILES
    },
    "binary QASM": (["--problem", "H2-2q", "--qasm", "{tmp}/binary.bin"], "binary.bin: not a UTF-8"),
    "binary Hamiltonian": (["--hamiltonian", "{tmp}/binary.bin", "--qasm", ANSATZ], "binary.bin: not a UTF-8"),
    "too many qubits": (["--hamiltonian", "{tmp}/big.json", "--qasm", "{tmp}/big.qasm"], "at most"),
    "unknown problem": (["--problem", "H3-5q", "--qasm", ANSATZ], "H2-2q, H2-3q"),
    "unknown noise": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "bogus"], "unknown noise model 'bogus'"),
    "unknown device": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "nowhere-median"], "nowhere-median"),
    "malformed noise": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "depolarizing:p1=abc"], "key=number"),
    "noise out of range": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "depolarizing:p1=2"], "[0, 1]"),
    "noise wrong qubit count": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "ibm-mumbai[0,1,2]"], "3 physical"),
    "noise duplicate qubit": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "ibm-mumbai[5,5]"], "5 is repeated"),
    "noise repeated parameter": (
        ["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "depolarizing:p1=0.1,p1=0.2"],
        "parameter 'p1' is given twice",
    ),
    "noise non-integer qubit": (["--problem", "H2-2q", "--qasm", ANSATZ, "--noise", "ibm-mumbai[0,1.5]"], "'1.5'"),
    "device too small": (["--problem", "LiH-6q", "--qasm", "{tmp}/six.qasm", "--noise", "ibm-ourense"], "0..4"),
    "both problem and hamiltonian": (
        ["--problem", "H2-2q", "--hamiltonian", "{tmp}/good.json", "--qasm", ANSATZ],
        "exactly one of",
    ),
    "neither problem nor hamiltonian": (["--qasm", ANSATZ], "exactly one of"),
}


@pytest.fixture
def bad_files(tmp_path):
    for name, text in {**QASM_FILES, **JSON_FILES}.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "good.json").write_text(json.dumps({"n_qubits": 2, "terms": [["ZZ", 1.0]]}))
    (tmp_path / "six.qasm").write_text("OPENQASM 2.0;\nqreg q[6];\nx q[0];\n")
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00OPENQASM")
    # 16 qubits: a 4^16 Pauli vector (34 GB) must be refused before the simulator tries it
    (tmp_path / "big.json").write_text(json.dumps({"n_qubits": 16, "terms": [["Z" * 16, 1.0]]}))
    (tmp_path / "big.qasm").write_text("OPENQASM 2.0;\nqreg q[16];\nx q[0];\n")
    return tmp_path


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_gives_one_error_line(case, capsys, bad_files):
    argv, fragment = BAD_CASES[case]
    argv = [a.replace("{tmp}", str(bad_files)) for a in argv]
    line = assert_one_line_error(*run(capsys, "evaluate", *argv))
    assert fragment in line, line


def test_demo_out_is_not_a_directory(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(*run(capsys, "demo", "--out", blocker))


# ----------------------------------------------------------------------------- demo
def test_demo_writes_report(capsys, tmp_path):
    """The main job: CRLQAS and the random agent on H2-3q, complete run directories, a report comparing them."""
    out_dir = tmp_path / "demo"
    rc, out, err = run(capsys, "demo", "--out", out_dir, "--episodes", "5")
    assert rc == 0 and "crlqas: error" not in err
    meta = json.loads((out_dir / "config.json").read_text())
    assert meta["config"]["problem"] == "H2-3q" and meta["problem"]["e0"] == load_problem("H2-3q").e0
    assert meta["config"]["agent"] == "ddqn"
    baseline = json.loads((out_dir / "random-agent" / "config.json").read_text())
    assert baseline["config"] == {**meta["config"], "agent": "random"}  # the same run but for the agent
    assert len((out_dir / "episodes.jsonl").read_text().splitlines()) >= 5
    for name in ("report.md", "learning_curve.png", "error.png", "threshold.png", "checkpoint.npz", "comparison.png"):
        assert (out_dir / name).stat().st_size > 0, name
    report = (out_dir / "report.md").read_text()
    assert "| DDQN | ddqn |" in report and "| random agent | random |" in report
    assert "DDQN:" in report and "random agent:" in report and "chemically accurate" in report
    assert "| seed |" in out and str(out_dir) in out


# ----------------------------------------------------------------------------- installed entry point
def test_installed_console_script(tmp_path):
    exe = Path(sys.executable).with_name("crlqas")
    if not exe.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    ok = subprocess.run(
        [exe, "evaluate", "--problem", "H2-2q", "--qasm", ANSATZ, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    # error < 1e-9 also shows that a fresh process computes in float64
    assert json.loads(ok.stdout)["error"] < 1e-9
