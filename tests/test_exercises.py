"""The course exercises.

* Every checker accepts the instructor's solution (and float32 answers where it reads arrays) and
  rejects each wrong answer its docstring lists, on every seed of a range and unseeded.
* Checkers never raise; they return a :class:`Score` (and follow nbgrader's conventions under
  ``NBGRADER_EXECUTION``).
* ``scripts/make_exercises.py`` writes deterministic solution and student notebooks with valid
  nbgrader metadata; the student notebooks hide every solution and live apart from them.
* The student notebooks run top to bottom in fast mode, untouched (every score 0, no error) and with
  the solutions injected (full marks); ``python -m crlqas_kit.exercises grade`` prints their table.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import crlqas_kit as ck
from crlqas_kit import exercises as ex
from crlqas_kit.exercises import _harness
from crlqas_kit.exercises.curriculum import PREDICTION_CONFIG, PREDICTION_EMIN, PREDICTION_EPISODES, PREDICTION_XI0
from crlqas_kit.exercises.noise_robustness import P_NOISE, SPECS, h2_ansatz, measured_shifts

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "instructor" / "source"
SOLUTIONS = ROOT / "instructor" / "solutions"
STUDENTS = ROOT / "notebooks" / "exercises"
SEEDS = [*range(25), None]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "scripts" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_exercises"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _solved(stem: str) -> dict:
    """Execute a solution notebook's non-graded code cells in-process; return its namespace."""
    namespace: dict = {}
    nb = json.loads((SOLUTIONS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not cell["metadata"]["nbgrader"]["grade"]:
            exec(compile("".join(cell["source"]), stem, "exec"), namespace)
    return namespace


_SOLVED: dict[str, dict] = {}


def solved(stem: str, name: str):
    if stem not in _SOLVED:
        _SOLVED[stem] = _solved(stem)
    return _SOLVED[stem][name]


# -- wrong answers --------------------------------------------------------------------------------


def _ptm_reversed(u):
    k = int(np.log2(u.shape[0]))
    paulis = [ck.pauli_matrix("".join(s)[::-1]) for s in itertools.product("IXYZ", repeat=k)]
    return np.array([[np.trace(P @ u @ Q @ u.conj().T).real / 2**k for Q in paulis] for P in paulis])


def _ptm32(u):
    """A correct PTM computed entirely in complex64 / float32."""
    u = np.asarray(u, np.complex64)
    k = int(np.log2(u.shape[0]))
    paulis = [ck.pauli_matrix("".join(s)).astype(np.complex64) for s in itertools.product("IXYZ", repeat=k)]
    return np.array([[np.trace(P @ u @ Q @ u.conj().T).real / 2**k for Q in paulis] for P in paulis], np.float32)


def _cnot_images_swapped():
    from crlqas_kit.exercises.ptm import _images
    from crlqas_kit.sim.ptm import UNITARIES

    swap = np.eye(4)[[0, 2, 1, 3]]
    return _images(swap @ UNITARIES["cx"] @ swap)


def _damping(g, xy, z, offset):
    m = np.diag([1.0, xy, xy, z])
    m[3, 0] = offset
    return m


def _hf_flipped(h, bits):
    total = 0.0
    for p, c in zip(h.paulis, h.coeffs, strict=True):
        if set(p) <= {"I", "Z"}:
            total += c * (-1) ** sum(ch == "Z" and b == "0" for ch, b in zip(p, bits, strict=True))
    return total


def _mask(rule):
    def legal(last, n):
        from crlqas_kit.rl import action_table

        table = action_table(n)
        out = []
        for i, (gate, wires) in enumerate(table):
            illegal = all(last[q] == i for q in wires)
            if rule == "ANY qubit":
                illegal = any(last[q] == i for q in wires)
            elif rule == "any rotation" and gate != "cx":
                q = wires[0]
                illegal = last[q] >= 0 and table[last[q]][0] != "cx" and table[last[q]][1] == (q,)
            elif rule == "reversed CNOT" and gate == "cx":
                rev = table.index(("cx", wires[::-1]))
                illegal = illegal or all(last[q] == rev for q in wires)
            out.append(not illegal)
        return out

    return legal


def _asap(rule):
    def layers(ops, n):
        moments, out = [0] * n, []
        for i, (gate, wires) in enumerate(ops):
            pick = min if rule == "CNOT at min" and gate == "cx" else max
            layer = i if rule == "sequential" else pick(moments[q] for q in wires)
            for q in wires[1:] if rule == "only target moves" and gate == "cx" else wires:
                moments[q] = layer + 1
            out.append(layer + 1 if rule == "1-based" else layer)
        return out

    return layers


def _n_step(rule):
    def returns(rewards, gamma, n):
        T = len(rewards)
        out = []
        for t in range(T):
            k = T - t if rule == "Monte Carlo" else 1 if rule == "one-step" else min(n, T - t)
            g = gamma if rule != "undiscounted" else 1.0
            shift = 1 if rule == "gamma^(i+1)" else 0
            out.append(sum(g ** (i + shift) * rewards[t + i] for i in range(k)))
        return out

    return returns


def _ddqn(rule):
    def target(q_on, q_tg, mask, reward, discount):
        legal_on = np.where(mask, q_on, -np.inf)
        if rule == "mask ignored":
            return reward + discount * q_tg[np.argmax(q_on)]
        if rule == "plain DQN":
            return reward + discount * np.max(np.where(mask, q_tg, -np.inf))
        if rule == "online evaluation":
            return reward + discount * np.max(legal_on)
        if rule == "discount ignored":
            return reward + q_tg[np.argmax(legal_on)]
        raise ValueError(rule)

    return target


def make_curriculum_update(rule: str | None = None):
    """The curriculum update with one listed mistake (``rule``), or the right one."""

    def update(state, success, episode_best, e_min, config):
        s = dict(state)
        greedy_before = s["episodes"] % config.greedy_period == 0
        s["episodes"] += 1
        s["best_energy"] = min(s["best_energy"], episode_best)
        before = s["successes"]
        s["successes"] += int(success)
        count = before if rule == "shrink one success late" else s["successes"]
        cap_ok = rule == "no cap at K" or s["shrinks"] < config.n_shrinks
        shrink = (bool(success) if rule == "shrink every success" else count >= config.n_successes) and cap_ok
        if shrink:
            new = s["threshold"] - (config.delta if rule == "shrink by delta" else config.delta / config.n_shrinks)
            s["threshold"] = new if rule == "no floor" else max(new, config.floor)
            if rule != "successes not reset":
                s["successes"] = 0
            s["shrinks"] += 1
        greedy = greedy_before if rule == "reset counted from 0" else s["episodes"] % config.greedy_period == 0
        if greedy:
            ref = episode_best if rule == "reset to the last episode" else s["best_energy"]
            value = abs(e_min - ref) + (0.0 if rule == "reset without delta" else config.delta)
            s["threshold"] = value if rule == "no floor" else max(value, config.floor)
            if rule != "counters kept at reset":
                s["successes"], s["shrinks"] = 0, 0
        return s

    return update


def _replay_prediction(rule: str) -> list[float]:
    from crlqas_kit.rl.curriculum import CurriculumConfig

    config = CurriculumConfig(**PREDICTION_CONFIG)
    state = {"threshold": PREDICTION_XI0, "best_energy": np.inf, "successes": 0, "shrinks": 0, "episodes": 0}
    update, out = make_curriculum_update(rule), []
    for success, best in PREDICTION_EPISODES:
        state = update(state, success, best, PREDICTION_EMIN, config)
        out.append(state["threshold"])
    return out


def _noisy_energy(rule):
    def energy(r, h, ps):
        total = 0.0
        for p, c in zip(h.paulis, h.coeffs, strict=True):
            letters = [q for q, ch in enumerate(p[::-1] if rule == "qubit order reversed" else p) if ch != "I"]
            if rule == "global depolarizing":
                factor = 1 - ps[0] if letters else 1.0
            elif rule == "first order":
                factor = 1 - sum(ps[q] for q in letters)
            elif rule == "identity scaled":
                factor = np.prod([1 - ps[q] for q in letters]) * (1 - ps[0] if not letters else 1.0)
            elif rule == "p instead of 1 - p":
                factor = np.prod([ps[q] for q in letters])
            else:
                factor = np.prod([1 - ps[q] for q in letters])
            total += c * factor * r[ck.pauli_index(p)]
        return total

    return energy


def _wrong_prediction(kind: str) -> dict[str, float]:
    circuit, problem = h2_ansatz()
    r = ck.pauli_vector(circuit)
    terms = [
        (s, c, r[ck.pauli_index(s)])
        for s, c in zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs, strict=True)
    ]
    p, right = P_NOISE, measured_shifts()
    if kind == "noise at the end":
        return {"p1": -p * sum(c * v for s, c, v in terms if s[0] != "I"), "p2": right["p2"]}
    if kind == "two-qubit depolarizing":
        return {"p1": right["p1"], "p2": -p * sum(c * v for s, c, v in terms if s != "II")}
    if kind == "identity scaled":
        return {k: v - p * problem.hamiltonian.constant for k, v in right.items()}
    if kind == "sign flipped":
        return {k: -v for k, v in right.items()}
    raise ValueError(kind)


def _energies_not_shifts() -> dict[str, float]:
    circuit, problem = h2_ansatz()
    return {k: ck.expectation(circuit, problem.hamiltonian, s.format(p=P_NOISE)) for k, s in SPECS.items()}


def _fn(stem, name):
    return lambda: (solved(stem, name),)


def _val(stem, name):
    return lambda: (solved(stem, name),)


#: checker -> (the right answer's arguments, {listed wrong answer: its arguments}); lazily built.
CASES = {
    ex.check_cnot_images: (
        _val("ex01_ptm", "images"),
        {
            "signs dropped": lambda: ({k: "+" + v[1:] for k, v in solved("ex01_ptm", "images").items()},),
            "control and target swapped": lambda: (_cnot_images_swapped(),),
        },
    ),
    ex.check_ptm: (
        _fn("ex01_ptm", "ptm"),
        {
            "transpose": lambda: (lambda u: solved("ex01_ptm", "ptm")(u).T,),
            "conjugation reversed": lambda: (lambda u: solved("ex01_ptm", "ptm")(u.conj().T),),
            "no 1/2^k": lambda: (lambda u: solved("ex01_ptm", "ptm")(u) * u.shape[0],),
            "qubit order reversed": lambda: (_ptm_reversed,),
        },
    ),
    ex.check_pauli_vector: (
        _fn("ex01_ptm", "pauli_vector"),
        {
            "divided by 2^n": lambda: (lambda rho: solved("ex01_ptm", "pauli_vector")(rho) / rho.shape[0],),
            "qubit order reversed": lambda: (
                lambda rho: np.array(
                    [
                        np.trace(ck.pauli_matrix(ck.pauli_string(i, int(np.log2(len(rho))))[::-1]) @ rho).real
                        for i in range(len(rho) ** 2)
                    ]
                ),
            ),
        },
    ),
    ex.check_pauli_energy: (
        _fn("ex01_ptm", "energy"),
        {
            "identity term dropped": lambda: (lambda r, h: solved("ex01_ptm", "energy")(r, h) - h.constant,),
            "qubit order reversed": lambda: (
                lambda r, h: sum(c * r[ck.pauli_index(p[::-1])] for p, c in zip(h.paulis, h.coeffs, strict=True)),
            ),
        },
    ),
    ex.check_depolarizing_ptm: (
        _fn("ex02_noise_channels", "depolarizing_ptm"),
        {
            "Z untouched": lambda: (lambda p: np.diag([1.0, 1 - p, 1 - p, 1.0]),),
            "identity scaled": lambda: (lambda p: np.diag([1 - p] * 4),),
            "4p/3 convention": lambda: (lambda p: np.diag([1.0] + [1 - 4 * p / 3] * 3),),
            "p and 1-p swapped": lambda: (lambda p: np.diag([1.0, p, p, p]),),
        },
    ),
    ex.check_damping_prediction: (
        _val("ex02_noise_channels", "bloch"),
        {
            "z unchanged": lambda: ((0.8**1.5, 0.0, 0.0),),
            "x shrinks by 1 - gamma": lambda: ((0.8**3, 0.0, 1 - 0.8**3),),
            "one application": lambda: ((0.8**0.5, 0.0, 0.2),),
            "towards |1>": lambda: ((0.8**1.5, 0.0, -(1 - 0.8**3)),),
        },
    ),
    ex.check_amplitude_damping_ptm: (
        _fn("ex02_noise_channels", "amplitude_damping_ptm"),
        {
            "unital": lambda: (lambda g: _damping(g, np.sqrt(1 - g), 1 - g, 0.0),),
            "transpose": lambda: (lambda g: _damping(g, np.sqrt(1 - g), 1 - g, g).T,),
            "sqrt on Z": lambda: (lambda g: _damping(g, np.sqrt(1 - g), np.sqrt(1 - g), g),),
            "no sqrt on X and Y": lambda: (lambda g: _damping(g, 1 - g, 1 - g, g),),
            "towards |1>": lambda: (lambda g: _damping(g, np.sqrt(1 - g), 1 - g, -g),),
        },
    ),
    ex.check_mixed_state_energy: (
        _val("ex03_hamiltonians", "mixed_energy"),
        {
            "zero": lambda: (0.0,),
            "sum of coefficients": lambda: (float(np.sum(ck.load_problem("LiH-4q").hamiltonian.coeffs)),),
            "E_HF": lambda: (ck.load_problem("LiH-4q").e_hf,),
            "E0": lambda: (ck.load_problem("LiH-4q").e0,),
        },
    ),
    ex.check_ground_energy: (
        _fn("ex03_hamiltonians", "ground_energy"),
        {
            "highest eigenvalue": lambda: (lambda h: np.linalg.eigvalsh(h.to_matrix())[-1],),
            "identity dropped": lambda: (lambda h: np.linalg.eigvalsh(h.to_matrix())[0] - h.constant,),
            "best bitstring": lambda: (lambda h: np.min(np.diag(h.to_matrix()).real),),
        },
    ),
    ex.check_hf_energy: (
        _fn("ex03_hamiltonians", "hf_energy"),
        {
            "bit order reversed": lambda: (lambda h, b: solved("ex03_hamiltonians", "hf_energy")(h, b[::-1]),),
            "Z sign flipped": lambda: (_hf_flipped,),
            "X and Y terms counted": lambda: (
                lambda h, b: (
                    solved("ex03_hamiltonians", "hf_energy")(h, b)
                    + sum(c for p, c in zip(h.paulis, h.coeffs, strict=True) if set(p) - {"I", "Z"})
                ),
            ),
            "constant dropped": lambda: (lambda h, b: solved("ex03_hamiltonians", "hf_energy")(h, b) - h.constant,),
        },
    ),
    ex.check_spsa_by_hand: (
        _val("ex04_spsa", "g_by_hand"),
        {
            "true gradient": lambda: ((2.0, 3.0),),
            "no delta factor": lambda: ((-1.0, -1.0),),
            "divided by c": lambda: ((-2.0, 2.0),),
            "sign flipped": lambda: ((1.0, -1.0),),
        },
    ),
    ex.check_spsa_gradient: (
        _fn("ex04_spsa", "spsa_gradient"),
        {
            "sign flipped": lambda: (lambda f, x, d, c: (f(x - c * d) - f(x + c * d)) / (2 * c) * d,),
            "divided by c": lambda: (lambda f, x, d, c: (f(x + c * d) - f(x - c * d)) / c * d,),
            "one-sided": lambda: (lambda f, x, d, c: (f(x + c * d) - f(x)) / c * d,),
            "no delta factor": lambda: (lambda f, x, d, c: (f(x + c * d) - f(x - c * d)) / (2 * c) * np.ones_like(x),),
        },
    ),
    ex.check_spsa_gains: (
        _fn("ex04_spsa", "spsa_gains"),
        {
            "k instead of k + 1": lambda: (lambda k, a, c, A, al, ga: (a / (k + A) ** al, c / (k + 1) ** ga),),
            "c constant": lambda: (lambda k, a, c, A, al, ga: (a / (k + 1 + A) ** al, c),),
            "A in c_k": lambda: (lambda k, a, c, A, al, ga: (a / (k + 1 + A) ** al, c / (k + 1 + A) ** ga),),
            "exponents swapped": lambda: (lambda k, a, c, A, al, ga: (a / (k + 1 + A) ** ga, c / (k + 1) ** al),),
        },
    ),
    ex.check_action_mask: (
        _fn("ex05_environment", "legal_actions"),
        {
            "ANY qubit": lambda: (_mask("ANY qubit"),),
            "all legal": lambda: (lambda last, n: [True] * (n * (n + 2)),),
            "any rotation": lambda: (_mask("any rotation"),),
            "reversed CNOT": lambda: (_mask("reversed CNOT"),),
        },
    ),
    ex.check_depth_prediction: (
        _val("ex05_environment", "depth"),
        {"gate count": lambda: (7,), "most gates on a qubit": lambda: (3,), "CNOTs ignored": lambda: (2,)},
    ),
    ex.check_asap_layers: (
        _fn("ex05_environment", "asap_layers"),
        {
            rule: (lambda rule=rule: (_asap(rule),))
            for rule in ("1-based", "sequential", "CNOT at min", "only target moves")
        },
    ),
    ex.check_n_step_returns: (
        _fn("ex06_dqn", "n_step_returns"),
        {
            rule: (lambda rule=rule: (_n_step(rule),))
            for rule in ("Monte Carlo", "gamma^(i+1)", "undiscounted", "one-step")
        },
    ),
    ex.check_ddqn_by_hand: (
        _val("ex06_dqn", "y_by_hand"),
        {"mask ignored": lambda: (1.55,), "plain DQN": lambda: (2.0,), "discount ignored": lambda: (0.6,)},
    ),
    ex.check_ddqn_target: (
        _fn("ex06_dqn", "ddqn_target"),
        {
            rule: (lambda rule=rule: (_ddqn(rule),))
            for rule in ("mask ignored", "plain DQN", "online evaluation", "discount ignored")
        },
    ),
    ex.check_threshold_prediction: (
        _val("ex07_curriculum", "thresholds"),
        {
            rule: (lambda rule=rule: (_replay_prediction(rule),))
            for rule in (
                "shrink every success",
                "shrink by delta",
                "reset without delta",
                "reset to the last episode",
                "counters kept at reset",
            )
        },
    ),
    ex.check_curriculum_update: (
        _fn("ex07_curriculum", "curriculum_update"),
        {
            rule: (lambda rule=rule: (make_curriculum_update(rule),))
            for rule in ex.check_curriculum_update.wrong_answers
        },
    ),
    ex.check_depolarizing_rule: (
        _val("ex08_noise", "answer"),
        {"a": lambda: ("a",), "c": lambda: ("c",), "d": lambda: ("d",)},
    ),
    ex.check_noisy_energy: (
        _fn("ex08_noise", "noisy_energy"),
        {rule: (lambda rule=rule: (_noisy_energy(rule),)) for rule in ex.check_noisy_energy.wrong_answers},
    ),
    ex.check_noise_prediction: (
        lambda: (solved("ex08_noise", "prediction"), solved("ex08_noise", "measured")),
        {
            **{
                kind: (lambda kind=kind: (_wrong_prediction(kind), solved("ex08_noise", "measured")))
                for kind in ("noise at the end", "two-qubit depolarizing", "identity scaled", "sign flipped")
            },
            "energy instead of shift": lambda: (solved("ex08_noise", "prediction"), _energies_not_shifts()),
        },
    ),
}

CHECKERS = [c for group in ex.EXERCISES.values() for c in group]
WRONG = [(c, name) for c in CHECKERS for name in CASES[c][1]]


def test_every_checker_has_cases_and_documents_its_wrong_answers():
    assert set(CHECKERS) == set(CASES) and len(CHECKERS) == len(set(CHECKERS))
    for c in CHECKERS:
        assert c.wrong_answers, f"{c.__name__} lists no wrong answers"
        assert set(CASES[c][1]) == set(c.wrong_answers), c.__name__
        assert c.kind in ("code", "predict", "explain") and c.points > 0
    assert set(ex.EXERCISES) == {p.stem for p in SOURCES.glob("ex*.txt")}
    assert {"ex07_curriculum", "ex08_noise"} <= set(ex.EXERCISES)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checker_accepts_the_solution(checker):
    args = CASES[checker][0]()
    for seed in (None, 0, 1):
        score = checker(*args, seed=seed)
        assert isinstance(score, ex.Score), type(score)
        assert score and score.points == score.max_points == checker.points, str(score)
        assert str(score).startswith(f"✔ {checker.__name__}: ")


@pytest.mark.parametrize(("checker", "wrong"), WRONG, ids=[f"{c.__name__}-{w}" for c, w in WRONG])
def test_checker_rejects_each_listed_wrong_answer_on_every_seed(checker, wrong):
    args = CASES[checker][1][wrong]()
    for seed in SEEDS:
        score = checker(*args, seed=seed)
        assert not score, f"{checker.__name__} accepted the wrong answer {wrong!r} with seed={seed}: {score}"
        assert score.points < score.max_points
        assert score.messages and len(score.messages[0]) > 20, score  # a real hint
        assert str(score).startswith(f"✘ {checker.__name__}: ")
    assert checker(*args) == checker(*args, seed=None)  # unseeded is deterministic


FLOAT32 = {
    ex.check_ptm: lambda: (_ptm32,),
    ex.check_pauli_vector: lambda: (
        lambda rho: np.asarray(solved("ex01_ptm", "pauli_vector")(np.asarray(rho, np.complex64)), np.float32),
    ),
    ex.check_pauli_energy: lambda: (
        lambda r, h: np.float32(solved("ex01_ptm", "energy")(np.asarray(r, np.float32), h)),
    ),
    ex.check_depolarizing_ptm: lambda: (lambda p: np.diag(np.array([1, 1 - p, 1 - p, 1 - p], np.float32)),),
    ex.check_amplitude_damping_ptm: lambda: (
        lambda g: np.asarray(solved("ex02_noise_channels", "amplitude_damping_ptm")(np.float32(g)), np.float32),
    ),
    ex.check_spsa_gradient: lambda: (
        lambda f, x, d, c: np.asarray(solved("ex04_spsa", "spsa_gradient")(f, x, d, c), np.float32),
    ),
    ex.check_noisy_energy: lambda: (
        lambda r, h, ps: np.float32(solved("ex08_noise", "noisy_energy")(np.asarray(r, np.float32), h, ps)),
    ),
}


@pytest.mark.parametrize("checker", list(FLOAT32), ids=lambda c: c.__name__)
def test_float32_answers_pass_and_float32_wrong_answers_fail(checker):
    right = FLOAT32[checker]()
    for seed in (None, 0, 1, 2):
        assert checker(*right, seed=seed), str(checker(*right, seed=seed))
    for wrong in CASES[checker][1].values():
        (fn,) = wrong()
        as32 = (lambda *a, fn=fn: np.asarray(fn(*a), np.float32),)
        assert not checker(*as32), checker.__name__


def test_a_float32_ptm_has_float32_rounding_yet_passes():
    from crlqas_kit.sim.ptm import UNITARIES, ptm_from_unitary

    u = _harness.random_unitary(np.random.default_rng(1), 4)
    err = np.abs(_ptm32(u) - ptm_from_unitary(u)).max()
    assert 1e-8 < err < 1e-5  # the old fixed tolerance (atol 1e-8) rejected this correct answer
    assert ex.check_ptm(_ptm32) and not ex.check_ptm(lambda u: _ptm32(u).T)
    assert ex.check_ptm(lambda u: np.asarray(ptm_from_unitary(u), np.float32)) and UNITARIES["s"].shape == (2, 2)


GARBAGE = [
    42,
    None,
    "ptm",
    float("nan"),
    [[1, 2], [3]],
    {"a": 1},
    object(),
    lambda *a: None,
    lambda *a: "garbage",
    lambda *a: float("nan"),
    lambda *a: [[1, 2], [3]],
    lambda *a: {"a": 1},
    lambda *a: np.zeros((7, 3)),
    lambda: 0,  # wrong signature
    lambda *a: 1 / 0,
]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checker_never_raises_on_garbage(checker):
    n_args = len(CASES[checker][0]())
    for answer in GARBAGE:
        score = checker(*([answer] * n_args), seed=0)
        assert isinstance(score, ex.Score) and score.points == 0 and not score, (answer, score)
        assert "Traceback" not in str(score)


def test_stubs_score_zero_with_the_stub_hint():
    def stub(*args):
        raise NotImplementedError

    score = ex.check_depolarizing_ptm(stub)
    assert score.points == 0 and "replace `raise NotImplementedError`" in str(score)
    score = ex.check_cnot_images(...)
    assert score.points == 0 and "not answered yet" in str(score)
    score = ex.check_noise_prediction(..., ...)
    assert score.points == 0 and "not answered yet" in str(score)


def test_partial_credit_and_score_display(monkeypatch):
    prediction, measured = CASES[ex.check_noise_prediction][0]()
    half = ex.check_noise_prediction(prediction, _energies_not_shifts())
    assert half.points == 2 and half.max_points == 3 and not half
    assert ex.check_noise_prediction(prediction).points == 2  # the measurement is missing
    assert ex.check_noise_prediction(_wrong_prediction("sign flipped"), measured).points == 1
    bundle = half._repr_mimebundle_()
    assert bundle[_harness.SCORE_MIME]["points"] == 2 and bundle["text/plain"].startswith("✘ check_noise_prediction")
    assert bool(ex.Score("x", 1, 1)) and not ex.Score("x", 0, 0) and not ex.Score("x", 0.5, 1)
    # nbgrader: a score shows as its points (partial credit); 0 points fail the cell
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert repr(half) == "2"
    with pytest.raises(AssertionError, match="not answered"):
        ex.check_cnot_images(...)


def test_seed_changes_only_the_random_inputs():
    calls = []

    def spy(u):
        calls.append(np.asarray(u).copy())
        return solved("ex01_ptm", "ptm")(u)

    ex.check_ptm(spy)
    first = [c.copy() for c in calls]
    calls.clear()
    ex.check_ptm(spy, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(first[:4], calls[:4], strict=True))  # the fixed cases
    assert not np.allclose(first[-1], calls[-1])  # the random ones differ
    calls.clear()
    ex.check_ptm(spy)
    assert all(np.array_equal(a, b) for a, b in zip(first, calls, strict=True))


# -- the generator and the committed notebooks ----------------------------------------------------

NBGRADER_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum", "cell_type"}


def _check_nbgrader_metadata(nb: dict, name: str) -> None:
    """nbgrader's schema-3 rules: keys and types, grade ids, points, markdown grade <=> solution, unique ids."""
    ids = set()
    for cell in nb["cells"]:
        meta = cell["metadata"]["nbgrader"]
        where = f"{name} {meta.get('grade_id')}"
        assert set(meta) <= NBGRADER_KEYS and {"schema_version", "grade", "locked", "solution"} <= set(meta), where
        assert meta["schema_version"] == 3, where
        assert all(isinstance(meta[k], bool) for k in ("grade", "locked", "solution")), where
        assert re.fullmatch(r"[a-zA-Z0-9_\-]+", meta["grade_id"]), where
        assert meta["grade_id"] not in ids, f"{where}: duplicate grade id"
        ids.add(meta["grade_id"])
        if meta["grade"]:
            assert isinstance(meta["points"], int | float) and meta["points"] > 0, where
        else:
            assert "points" not in meta, where
        if cell["cell_type"] == "markdown":
            assert meta["grade"] == meta["solution"], f"{where}: a markdown grade cell must be a solution cell"
        if meta["solution"]:
            assert not meta["locked"], where
        if meta["grade"] and cell["cell_type"] == "code":
            assert meta["locked"] and not meta["solution"], where
            (called,) = re.findall(r"\b(check_\w+)\(", "".join(cell["source"]))
            assert meta["points"] == getattr(ex, called).points, where
            assert cell["metadata"]["crlqas"] == {"checker": called, "kind": getattr(ex, called).kind}


def test_generated_notebooks_are_up_to_date_and_deterministic(tmp_path):
    assert gen.main(["--check"]) == 0, "run `python scripts/make_exercises.py`"
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert gen.main(["--out", str(d / "s"), "--solutions", str(d / "i")]) == 0
    for p in (a / "s").glob("*.ipynb"):
        assert p.read_bytes() == (b / "s" / p.name).read_bytes() == (STUDENTS / p.name).read_bytes()
    for p in (a / "i").glob("*.ipynb"):
        assert p.read_bytes() == (SOLUTIONS / p.name).read_bytes()


def test_check_flags_a_stale_or_orphaned_notebook(tmp_path, capsys):
    out, sol = tmp_path / "s", tmp_path / "i"
    assert gen.main(["--out", str(out), "--solutions", str(sol)]) == 0
    victim = out / "ex01_ptm.ipynb"
    victim.write_text(victim.read_text(encoding="utf-8").replace("YOUR CODE HERE", "edited"), encoding="utf-8")
    (sol / "ex99_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert gen.main(["--check", "--out", str(out), "--solutions", str(sol)]) == 1
    err = capsys.readouterr().err
    assert "ex01_ptm.ipynb" in err and "ex99_orphan.ipynb" in err


def test_solutions_live_outside_the_binder_tree():
    assert not (ROOT / "notebooks" / "exercises" / "solutions").exists()
    assert not list((ROOT / "notebooks").rglob("*solution*"))
    assert sorted(p.name for p in SOLUTIONS.glob("*.ipynb")) == sorted(p.name for p in STUDENTS.glob("*.ipynb"))
    assert len(list(STUDENTS.glob("ex*.ipynb"))) == 8


@pytest.mark.parametrize("path", sorted(STUDENTS.glob("ex*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_carry_nbgrader_metadata_and_students_see_no_solution(path):
    student = json.loads(path.read_text(encoding="utf-8"))
    solution = json.loads((SOLUTIONS / path.name).read_text(encoding="utf-8"))
    _check_nbgrader_metadata(student, path.name)
    _check_nbgrader_metadata(solution, f"solutions/{path.name}")
    assert [c["metadata"]["nbgrader"] for c in student["cells"]] == [
        c["metadata"]["nbgrader"] for c in solution["cells"]
    ]
    text = path.read_text(encoding="utf-8")
    assert gen.BEGIN not in text and gen.END not in text
    n_solution = n_stub = 0
    for cell, sol in zip(student["cells"], solution["cells"], strict=True):
        meta, src = cell["metadata"], "".join(cell["source"])
        if meta["nbgrader"]["locked"]:
            assert meta["editable"] is False and meta["deletable"] is False
            assert src == "".join(sol["source"])
        if meta["nbgrader"]["solution"]:
            n_solution += 1
            n_stub += ("YOUR CODE HERE" in src) or ("YOUR ANSWER HERE" in src)
            assert gen.BEGIN in "".join(sol["source"])
    assert n_solution >= 2 and n_stub == n_solution
    graded = [c for c in student["cells"] if c["metadata"]["nbgrader"]["grade"]]
    assert len(graded) >= 2


def test_strip_solution_stubs():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert gen.strip_solution(src) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    top = "### BEGIN SOLUTION\nhelper = 2\nanswer = helper * 3\n### END SOLUTION\nprint(answer)"
    assert gen.strip_solution(top) == "# YOUR CODE HERE\nanswer = ...\nprint(answer)"
    assert (
        gen.strip_text_solution("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION") == "Why?\n\nYOUR ANSWER HERE"
    )
    for bad in ("### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"):
        with pytest.raises(gen.MarkerError):
            gen.strip_solution(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("%% markdown\n# T\n**Goal:** x\n%% tests id=t\ncheck_nope(f)\n", "known check_"),
        ("%% markdown\n# T\n**Goal:** x\n%% solution id=s\nx = 1\n", "needs a ### BEGIN SOLUTION"),
        ("%% markdown\n# T\n**Goal:** x\n%% manual id=m\n### BEGIN SOLUTION\nA\n### END SOLUTION\n", "points="),
        ("%% markdown\n# T\n**Goal:** x\n%% code\n### BEGIN SOLUTION\n### END SOLUTION\n", "belong in solution"),
        ("%% markdown\n# T\n**Goal:** x\n%% widget id=w\n", "bad cell header"),
        ("%% code\nx = 1\n", "**Goal:**"),
        ("%% markdown\n# T\n**Goal:** x\n%% tests id=a\ncheck_ptm(f)\n%% tests id=a\ncheck_ptm(f)\n", "repeated"),
    ],
)
def test_generator_rejects_malformed_sources(text, message):
    with pytest.raises(gen.MarkerError, match=re.escape(message)):
        gen.build(text, "ex00_bad.txt")


def test_teaching_guide_states_the_fraction_of_derive_predict_exercises():
    rows = gen.summary()
    n_pred = sum(r["kind"] in ("predict", "explain") for r in rows)
    assert n_pred * 3 >= len(rows), f"only {n_pred} of {len(rows)} exercises ask to derive, predict or explain"
    guide = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    assert f"**{n_pred} of {len(rows)}**" in guide, "docs/teaching.md must state the current count"
    for stem in ex.EXERCISES:
        assert stem in guide
    for n in range(9):
        assert f"| {n:02d} " in guide, f"docs/teaching.md has no row for notebook {n:02d}"
    assert "python -m crlqas_kit.exercises grade" in guide and "nbgrader" in guide and "instructor/solutions" in guide


# -- running the notebooks --------------------------------------------------------------------------


def _inject_solutions(path: Path) -> nbformat.NotebookNode:
    """The student notebook with every solution cell replaced by the instructor's (matched by grade id)."""
    student = nbformat.read(path, as_version=4)
    solution = nbformat.read(SOLUTIONS / path.name, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells}
    for cell in student.cells:
        if cell.metadata["nbgrader"]["solution"]:
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    return student


def _scores(nb) -> dict[str, dict]:
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", f"cell {cell.metadata['nbgrader']['grade_id']} raised"
            if _harness.SCORE_MIME in o.get("data", {}):
                out[cell.metadata["nbgrader"]["grade_id"]] = o["data"][_harness.SCORE_MIME]
    return out


def _run(nb, where: Path, monkeypatch):
    """Execute ``nb`` like tests/test_notebooks.py does (fast mode, fresh kernel, peak memory); return
    (executed nb, seconds, peak bytes)."""
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from test_notebooks import MAX_SECONDS, PEAK_CELL

    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(
        nb, timeout=int(MAX_SECONDS) + 30, kernel_name="python3", resources={"metadata": {"path": str(where)}}
    )
    t0 = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        pytest.fail(f"{where} failed under CI=true:\n{str(err)[-4000:]}", pytrace=False)
    seconds = time.perf_counter() - t0
    text = "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
    )
    m = re.search(r"CRLQAS_PEAK_RSS_BYTES (\d+)", text)
    nb.cells.pop()
    return nb, seconds, int(m.group(1)) if m else None


def _tests_cells(nb) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code" and c.metadata.nbgrader.grade]


@pytest.mark.parametrize("path", sorted(STUDENTS.glob("ex*.ipynb")), ids=lambda p: p.stem)
def test_notebook_runs_with_solutions_injected_and_untouched(path, monkeypatch, tmp_path):
    from test_notebooks import _check_budget

    nb, seconds, peak = _run(_inject_solutions(path), tmp_path, monkeypatch)
    _check_budget(path, seconds, peak)
    scores = _scores(nb)
    assert set(scores) == set(_tests_cells(nb))
    for grade_id, s in scores.items():
        assert s["points"] == s["max_points"] > 0, f"{path.name} {grade_id}: {s}"

    nb, seconds, peak = _run(nbformat.read(path, as_version=4), path.parent, monkeypatch)  # untouched
    _check_budget(path, seconds, peak)
    print(f"{path.name}: {seconds:.1f} s untouched, peak RSS {peak / 2**20:.0f} MB")
    scores = _scores(nb)
    assert set(scores) == set(_tests_cells(nb))
    for grade_id, s in scores.items():
        assert s["points"] == 0 and s["messages"], f"{path.name} {grade_id}: {s}"
        assert "not implemented yet" in s["messages"][0] or "not answered yet" in s["messages"][0], s


def test_grade_command_prints_a_score_table(tmp_path):
    stem = "ex07_curriculum"
    solved_path = tmp_path / f"{stem}_solved.ipynb"
    nbformat.write(_inject_solutions(STUDENTS / f"{stem}.ipynb"), solved_path)
    unsolved = tmp_path / f"{stem}.ipynb"
    unsolved.write_bytes((STUDENTS / f"{stem}.ipynb").read_bytes())
    env = {**os.environ, "CI": "true", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "crlqas_kit.exercises", "grade", str(solved_path), str(unsolved), "--json",
         str(tmp_path / "scores.json")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert re.search(r"check_threshold_prediction\s+predict\s+2 / 2", out), out
    assert re.search(r"check_curriculum_update\s+code\s+3 / 3", out), out
    assert re.search(r"explain_floor\s+explain\s+manual / 2\s+manual: grade by hand", out), out
    assert re.search(r"check_curriculum_update\s+code\s+0 / 3\s+not implemented yet", out), out
    assert "manual: not answered" in out
    assert re.search(r"total\s+5 / 5 \(\+ 2 graded by hand\)", out) and re.search(r"total\s+0 / 5", out), out
    assert "all notebooks: 5 / 10 automatic points (+ 4 by hand)" in out
    data = json.loads((tmp_path / "scores.json").read_text())
    assert [r["points"] for r in data] == [5, 0]

    bad = subprocess.run(
        [sys.executable, "-m", "crlqas_kit.exercises", "grade", str(tmp_path / "missing.ipynb")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "no such notebook" in bad.stderr


def test_grade_cells_without_metadata_fall_back_to_check_calls():
    from crlqas_kit.exercises.grade import grade_cells

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("check_ptm(ptm)")
    score = ex.Score("check_ptm", 1, 2, ("hint",))
    cell.outputs = [nbformat.v4.new_output("execute_result", data=score._repr_mimebundle_(), execution_count=1)]
    broken = nbformat.v4.new_code_cell("check_pauli_vector(pauli_vector)")
    broken.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="pauli_vector", traceback=[])]
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), cell, broken]
    rows = grade_cells(nb)
    assert [(r["points"], r["max_points"]) for r in rows] == [(1, 2), (0, 0)]
    assert "NameError" in rows[1]["note"]
