"""The course exercises: checkers accept right answers, reject wrong ones with a hint, never raise;
the generated student notebooks match their solution notebooks."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from crlqas_kit import exercises as ex

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "exercises" / "solutions"
STUDENTS = ROOT / "notebooks" / "exercises"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "scripts" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_exercises"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _solution_functions() -> dict[str, object]:
    """Execute the solution notebooks' code cells (no check calls) and collect their functions."""
    namespace: dict[str, object] = {}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and not any(line.startswith("check_") for line in src.splitlines()):
                exec(compile(src, str(path), "exec"), namespace)
    return namespace


SOLVED = _solution_functions()

#: checker -> (name of the solution function, a wrong answer with the right signature)
CASES = {
    ex.check_ptm: ("ptm", lambda u: np.asarray(SOLVED["ptm"](u)).T),
    ex.check_pauli_vector: ("pauli_vector", lambda rho: np.asarray(SOLVED["pauli_vector"](rho)) / rho.shape[0]),
    ex.check_pauli_energy: ("energy", lambda r, h: SOLVED["energy"](r, h) - h.constant),
    ex.check_depolarizing_ptm: ("depolarizing_ptm", lambda p: np.diag([1.0, 1 - p, 1 - p, 1.0])),
    ex.check_amplitude_damping_ptm: (
        "amplitude_damping_ptm",
        lambda g: np.diag([1, np.sqrt(1 - g), np.sqrt(1 - g), 1 - g]),
    ),
    ex.check_ground_energy: ("ground_energy", lambda h: np.linalg.eigvalsh(h.to_matrix())[-1]),
    ex.check_hf_energy: ("hf_energy", lambda h, b: h.constant),
    ex.check_spsa_gradient: ("spsa_gradient", lambda f, x, d, c: (f(x + c * d) - f(x - c * d)) / c * d),
    ex.check_spsa_gains: ("spsa_gains", lambda k, a, c, A, alpha, gamma: (a / (k + 1 + A) ** alpha, c)),
    ex.check_action_mask: ("legal_actions", lambda last, n: [True] * (n * (n + 2))),
    ex.check_asap_layers: ("asap_layers", lambda ops, n: list(range(len(ops)))),
    ex.check_n_step_returns: ("n_step_returns", lambda r, g, n: list(r)),
    ex.check_ddqn_target: ("ddqn_target", lambda qo, qt, m, r, d: r + d * float(np.max(qt))),
}

GARBAGE = [
    42,
    None,
    "ptm",
    lambda *a: None,
    lambda *a: "garbage",
    lambda *a: float("nan"),
    lambda *a: [[1, 2], [3]],
    lambda *a: {"a": 1},
    lambda *a: np.zeros((7, 3)),
    lambda: 0,  # wrong signature
    lambda *a: 1 / 0,
]


def test_every_exercise_has_a_case_and_at_least_eight_exist():
    checkers = [c for group in ex.EXERCISES.values() for c in group]
    assert len(checkers) >= 8
    assert set(checkers) == set(CASES)
    assert set(ex.EXERCISES) == {p.stem for p in SOLUTIONS.glob("*.ipynb")}


@pytest.mark.parametrize("checker", list(CASES), ids=lambda c: c.__name__)
def test_checker_accepts_the_solution(checker, capsys):
    name, _ = CASES[checker]
    assert checker(SOLVED[name], seed=1) is True
    assert checker(SOLVED[name]) is True  # fresh random inputs
    out = capsys.readouterr().out
    assert out.count("✔") == 2 and "✘" not in out


@pytest.mark.parametrize("checker", list(CASES), ids=lambda c: c.__name__)
def test_checker_rejects_a_wrong_answer_with_a_hint(checker, capsys):
    _, wrong = CASES[checker]
    assert checker(wrong, seed=1) is False
    out = capsys.readouterr().out
    assert out.startswith(f"✘ {checker.__name__}: ")
    assert len(out.strip()) > len(checker.__name__) + 20  # a real hint, not just a cross


@pytest.mark.parametrize("checker", list(CASES), ids=lambda c: c.__name__)
def test_checker_never_raises_on_garbage(checker, capsys):
    for answer in GARBAGE:
        assert checker(answer, seed=0) is False, answer
    out = capsys.readouterr().out
    assert out.count("✘") == len(GARBAGE)
    assert "Traceback" not in out


def test_not_implemented_gives_the_stub_hint(capsys):
    def stub(*args):
        raise NotImplementedError

    assert ex.check_depolarizing_ptm(stub) is False
    assert "replace `raise NotImplementedError`" in capsys.readouterr().out


def test_specific_hints(capsys):
    assert ex.check_ptm(CASES[ex.check_ptm][1], seed=0) is False
    assert "transpose" in capsys.readouterr().out
    assert ex.check_ddqn_target(lambda qo, qt, m, r, d: r + d * qt[int(np.argmax(qo))], seed=0) is False
    assert "LEGAL" in capsys.readouterr().out
    assert ex.check_action_mask(lambda last, n: [True] * (n * (n + 2)), seed=0) is False
    assert "EVERY qubit" in capsys.readouterr().out


# -- the generator ------------------------------------------------------------------------------


def test_student_notebooks_are_up_to_date(tmp_path):
    assert gen.main(["--out", str(tmp_path)]) == 0
    generated = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted(p.name for p in STUDENTS.glob("*.ipynb"))
    assert generated == committed, "student notebooks and solution notebooks differ in number or names"
    for name in generated:
        assert (tmp_path / name).read_bytes() == (STUDENTS / name).read_bytes(), (
            f"notebooks/exercises/{name} is stale: run `python scripts/make_exercises.py`"
        )
    assert gen.main(["--check"]) == 0


def test_generator_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert gen.main(["--out", str(a)]) == 0 and gen.main(["--out", str(b)]) == 0
    for p in a.glob("*.ipynb"):
        assert p.read_bytes() == (b / p.name).read_bytes()


def test_student_notebooks_hide_every_solution():
    for path in sorted(STUDENTS.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path.name
        solution = json.loads((SOLUTIONS / path.name).read_text(encoding="utf-8"))
        n_blocks = sum("".join(c["source"]).count(gen.BEGIN) for c in solution["cells"])
        assert n_blocks >= 2
        student = json.loads(text)
        stubs = sum(
            "".join(c["source"]).count("# YOUR CODE HERE") for c in student["cells"] if c["cell_type"] == "code"
        )
        assert stubs == n_blocks, path.name


def test_strip_solution_keeps_indentation_and_rejects_bad_markers():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert gen.strip_solution(src) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    for bad in ("### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"):
        with pytest.raises(gen.MarkerError):
            gen.strip_solution(bad)


def test_generator_check_flags_a_stale_notebook(tmp_path, capsys):
    assert gen.main(["--out", str(tmp_path)]) == 0
    victim = next(tmp_path.glob("*.ipynb"))
    victim.write_text(re.sub("YOUR CODE HERE", "edited", victim.read_text(encoding="utf-8")), encoding="utf-8")
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1
    assert victim.name in capsys.readouterr().err
