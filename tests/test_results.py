"""Results, run directories and search configurations.

Results here are built by hand (no search, no compilation), so every summary number is known.
The round trip of a real search with its checkpoint is in ``test_search.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib

import numpy as np
import pytest

from crlqas_kit.optim.spsa import SPSAConfig
from crlqas_kit.problems import load_problem
from crlqas_kit.results import (
    N_BEST,
    Results,
    circuit_record,
    load_run,
    package_versions,
    record_to_circuit,
)
from crlqas_kit.rl.curriculum import CurriculumConfig
from crlqas_kit.rl.dqn import DQNConfig
from crlqas_kit.search import load_checkpoint
from crlqas_kit.search_config import SearchConfig, preset
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.qasm import load_qasm

PROBLEM = load_problem("H2-2q")
CFG = preset("fast", "H2-2q", 2, episodes=8)


def circuit(ops) -> dict:
    c = Circuit.from_ops(2, ops)
    return circuit_record(2, c.gates, c.wires, c.slots, c.angles, c.num_gates)


def episode(seed, n, error, gates, cnots, depth):
    exact = PROBLEM.e0 + error
    return {
        "seed": seed,
        "episode": n,
        "return": 1.5 * n,
        "energy": exact,
        "exact_energy": exact,
        "error": error,
        "success": error < 1e-2,
        "chemically_accurate": error < 1.6e-3,
        "gates": gates,
        "cnots": cnots,
        "depth": depth,
        "eps": 0.9**n,
        "threshold": 0.02 / n,
        "loss": float("nan") if n == 1 else 0.1 * n,
    }


C_A = [("ry", (0,), 0.25), ("cx", (0, 1))]  # 2 gates, 1 CNOT
C_B = [("ry", (0,), -0.125), ("cx", (0, 1)), ("rz", (1,), 0.5)]  # 3 gates, 1 CNOT
C_C = [("rx", (1,), 1.0)]  # 1 gate, 0 CNOTs
C_D = [("ry", (0,), 0.1), ("cx", (0, 1)), ("cx", (1, 0)), ("ry", (1,), 0.2)]  # 4 gates, 2 CNOTs


def make_results() -> Results:
    res = Results(config=CFG, seeds=[0, 7], problem=PROBLEM.summary())
    rows = [
        # seed 0: chemically accurate from episode 3
        (episode(0, 1, 0.2, 1, 0, 1), circuit(C_C)),
        (episode(0, 2, 0.05, 4, 2, 4), circuit(C_D)),
        (episode(0, 3, 1e-3, 3, 1, 3), circuit(C_B)),
        (episode(0, 4, 1e-4, 4, 2, 4), circuit(C_D)),
        (episode(0, 5, 1.5e-3, 2, 1, 2), circuit(C_A)),
        (episode(0, 6, 0.3, 1, 0, 1), circuit(C_C)),
        (episode(0, 7, 0.01, 2, 1, 2), circuit(C_A)),
        # seed 7: never chemically accurate
        (episode(7, 1, 0.5, 1, 0, 1), circuit(C_C)),
        (episode(7, 2, 0.004, 3, 1, 3), circuit(C_B)),
        (episode(7, 3, 0.02, 2, 1, 2), circuit(C_A)),
    ]
    for k, (rec, circ) in enumerate(rows):
        res.seconds = 0.5 * k
        res.add_episode(rec, circ)
    res.add_eval(0, 5, {"return": 4.0, "state": _FakeState(PROBLEM.e0 + 2e-4, 2)}, PROBLEM)
    res.add_eval(7, 3, {"return": -1.0, "state": _FakeState(PROBLEM.e0 + 0.3, 5)}, PROBLEM)
    res.seconds = 12.5
    return res


@dataclasses.dataclass
class _FakeCircuit:
    length: int


class _FakeState:
    def __init__(self, exact, length):
        self.exact_energy = np.float64(exact)
        self.circuit = _FakeCircuit(np.int64(length))


# ----------------------------------------------------------------------------- best circuits
def test_best_circuits_ranked():
    res = make_results()
    best0 = res.best[0]
    assert len(best0) == N_BEST
    # chemically accurate first, by CNOTs then gates then error; then the rest by error
    assert [(e["episode"], e["chemically_accurate"]) for e in best0] == [
        (5, True),
        (3, True),
        (4, True),
        (7, False),
        (2, False),
    ]
    assert [e["episode"] for e in res.best[7]] == [2, 3, 1]
    assert best0[0]["circuit"] == circuit(C_A)
    for e in best0:
        assert set(e) >= {"episode", "error", "exact_energy", "energy", "gates", "cnots", "depth", "circuit"}


def test_empty_circuits_are_not_best_candidates():
    res = Results(config=CFG, seeds=[0], problem=PROBLEM.summary())
    res.add_episode(episode(0, 1, 0.3, 0, 0, 0), {"n_qubits": 2, "ops": []})
    assert res.best == {} and len(res.episodes) == 1
    row = res.summary()[0]
    assert row["best_error"] is None and row["best_gates"] is None and not row["success"]
    assert "| 0 | 1 | no | - | - | - | - | - |" in res.summary_table()


def test_circuit_record_round_trip():
    rec = circuit(C_D)
    assert rec == {
        "n_qubits": 2,
        "ops": [["ry", [0], 0.1], ["cx", [0, 1], None], ["cx", [1, 0], None], ["ry", [1], 0.2]],
    }
    assert record_to_circuit(rec).ops() == Circuit.from_ops(2, C_D).ops()


# ----------------------------------------------------------------------------- summaries
def test_summary_fields():
    res = make_results()
    rows = res.summary()
    assert [r["seed"] for r in rows] == [0, 7]
    r0, r7 = rows
    assert r0 == {
        "seed": 0,
        "episodes": 7,
        "success": True,
        "first_chemically_accurate_episode": 3,
        "seconds_to_chemical_accuracy": 1.0,  # logged with the episode (k = 2 -> 1.0 s)
        "best_error": 1.5e-3,
        "best_gates": 2,
        "best_cnots": 1,
        "best_depth": 2,
        "seconds": 12.5,
    }
    assert r7["success"] is False and r7["first_chemically_accurate_episode"] is None
    assert r7["seconds_to_chemical_accuracy"] is None and r7["best_error"] == 0.004 and r7["episodes"] == 3
    assert res.first_chemically_accurate(0) == 3 and res.first_chemically_accurate(7) is None
    assert res.first_chemically_accurate(99) is None


def test_summary_table_markdown():
    table = make_results().summary_table().splitlines()
    assert len(table) == 4
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == ["seed", "episodes", "chem. acc.", "first episode", "best error (Ha)", "gates", "CNOTs", "depth"]
    assert table[1] == "|" + "---|" * 8
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table[2:]]
    assert cells[0] == ["0", "7", "yes", "3", "1.50e-03", "2", "1", "2"]
    assert cells[1] == ["7", "3", "no", "-", "4.00e-03", "3", "1", "3"]


def test_eval_records():
    res = make_results()
    assert res.evals[0] == {
        "seed": 0,
        "after_episodes": 5,
        "return": 4.0,
        "exact_energy": PROBLEM.e0 + 2e-4,
        "error": pytest.approx(2e-4, abs=1e-12),
        "chemically_accurate": True,
        "gates": 2,
    }
    assert res.evals[1]["chemically_accurate"] is False and res.evals[1]["seed"] == 7
    assert all(type(v) in (int, float, bool) for ev in res.evals for k, v in ev.items() if k != "seed")


def test_repr_is_concise():
    text = repr(make_results())
    assert text.startswith("Results(H2-2q") and "episodes=10" in text and len(text) < 300


# ----------------------------------------------------------------------------- run directory
def test_save_load_round_trip(tmp_path):
    res = make_results()
    res.stopped = True
    out = res.save(tmp_path / "run")
    assert out == tmp_path / "run"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"config.json", "episodes.jsonl", "evals.jsonl"} <= files
    assert "checkpoint.npz" not in files  # no training state to save
    assert {f"best/seed0_{i}.qasm" for i in range(N_BEST)} <= files and "best/seed7_2.json" in files

    back = load_run(out)
    assert back.config == CFG and isinstance(back.config, SearchConfig)
    assert back.seeds == [0, 7] and back.problem == PROBLEM.summary()
    assert json.dumps(back.episodes) == json.dumps(res.episodes)  # NaN losses included
    assert back.evals == res.evals
    assert back.best == res.best
    assert back.seconds == 12.5 and back.stopped is True
    assert back.versions == res.versions == package_versions()
    assert set(back.versions) >= {"python", "crlqas_kit", "jax", "jaxlib", "flax", "optax", "numpy"}
    assert back.summary() == res.summary() and back.summary_table() == res.summary_table()
    meta = json.loads((out / "config.json").read_text())
    assert meta["seeds"] == [0, 7] and meta["summary"] == res.summary() and meta["versions"] == res.versions
    # every episode line is one JSON object with its seed
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 10 and {json.loads(x)["seed"] for x in lines} == {0, 7}


def test_saved_qasm_reloads_as_the_best_circuits(tmp_path):
    res = make_results()
    out = res.save(tmp_path / "run")
    for seed, entries in res.best.items():
        for i, entry in enumerate(entries):
            loaded = load_qasm(out / "best" / f"seed{seed}_{i}.qasm")
            assert loaded.ops() == record_to_circuit(entry["circuit"]).ops()
            assert json.loads((out / "best" / f"seed{seed}_{i}.json").read_text()) == entry


def test_resave_drops_stale_best_files(tmp_path):
    res = make_results()
    out = res.save(tmp_path / "run")
    res.best = {0: res.best[0][:1]}
    res.save(out)
    assert sorted(p.name for p in (out / "best").iterdir()) == ["seed0_0.json", "seed0_0.qasm"]
    assert load_run(out).best == {0: res.best[0]}


def test_load_checkpoint_needs_a_checkpoint(tmp_path):
    out = make_results().save(tmp_path / "run")
    with pytest.raises(ValueError, match="checkpoint"):
        load_checkpoint(out)


# ----------------------------------------------------------------------------- malformed run dirs
def _valid_run(tmp_path):
    return make_results().save(tmp_path / "run")


def test_load_run_not_a_directory(tmp_path):
    with pytest.raises(ValueError, match="not a run directory"):
        load_run(tmp_path / "missing")
    with pytest.raises(ValueError, match="not a run directory"):
        load_run(tmp_path)  # exists, but no config.json


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        "{}",
        '{"config": {}}',  # no seeds, problem, ...
        '{"config": {"problem": "H2-2q", "bogus": 1}, "seeds": [0]}',
        '{"config": {"dqn": {"widths": [3]}}, "seeds": [0]}',
        '{"config": {"episodes": -3}, "seeds": [0]}',
    ],
)
def test_load_run_malformed_config(tmp_path, content):
    out = _valid_run(tmp_path)
    (out / "config.json").write_text(content)
    with pytest.raises(ValueError, match="config.json"):
        load_run(out)


def test_load_run_missing_field_is_value_error(tmp_path):
    out = _valid_run(tmp_path)
    meta = json.loads((out / "config.json").read_text())
    for field in ("seeds", "problem", "versions", "seconds"):
        broken = {k: v for k, v in meta.items() if k != field}
        (out / "config.json").write_text(json.dumps(broken))
        with pytest.raises(ValueError, match="config.json"):
            load_run(out)


@pytest.mark.parametrize("name", ["episodes.jsonl", "evals.jsonl"])
def test_load_run_malformed_log(tmp_path, name):
    out = _valid_run(tmp_path)
    with open(out / name, "a") as f:
        f.write("{truncated\n")
    with pytest.raises(ValueError, match=name):
        load_run(out)
    (out / name).write_text("[1, 2]\n")
    with pytest.raises(ValueError, match=name):
        load_run(out)


def test_load_run_malformed_best_file(tmp_path):
    out = _valid_run(tmp_path)
    (out / "best" / "seed0_0.json").write_text("nope")
    with pytest.raises(ValueError, match="seed0_0.json"):
        load_run(out)


def test_load_run_without_optional_logs(tmp_path):
    out = _valid_run(tmp_path)
    (out / "evals.jsonl").unlink()
    assert load_run(out).evals == []


# ----------------------------------------------------------------------------- configs
@pytest.mark.parametrize(
    "cfg",
    [
        SearchConfig(),
        preset("fast", "H2-2q", 2),
        preset("paper", "LiH-6q", 6, noise="depolarizing", shots=1000, threshold0=0.5, max_steps=60),
        preset("fast", "H2O-8q", 8),
        SearchConfig(dqn=DQNConfig(hidden=(3, 4, 5), gamma=0.97), spsa=SPSAConfig(method="spsa", a=None, A=2.0)),
        SearchConfig(start="hf", new_angle="random", new_angle_scale=0.25),
    ],
)
def test_config_json_round_trip(cfg, tmp_path):
    assert SearchConfig.from_dict(json.loads(cfg.to_json())) == cfg
    (tmp_path / "c.json").write_text(cfg.to_json())
    loaded = SearchConfig.load(tmp_path / "c.json")
    assert loaded == cfg and hash(loaded) == hash(cfg)
    assert isinstance(loaded.dqn.hidden, tuple) and isinstance(loaded.spsa, SPSAConfig)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if not (isinstance(v, float) and math.isinf(v)) else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def to_toml(cfg: SearchConfig) -> str:
    """A small TOML writer for the test (TOML has no null: None fields are left out)."""
    data = cfg.to_dict()
    top = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) and v is not None]
    tables = [
        f"[{k}]\n" + "\n".join(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items() if vv is not None)
        for k, v in data.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


@pytest.mark.parametrize(
    "cfg",
    [preset("fast", "H2-2q", 2), preset("paper", "LiH-4q", 4, noise="mumbai-median", halt_terminal=False)],
)
def test_config_toml_round_trip(cfg, tmp_path):
    # the None fields are None by default, so leaving them out of the TOML loses nothing
    for obj in (cfg, cfg.dqn, cfg.spsa, cfg.curriculum):
        for f in dataclasses.fields(obj):
            if getattr(obj, f.name) is None:
                assert f.default is None, f.name
    (tmp_path / "c.toml").write_text(to_toml(cfg))
    assert SearchConfig.load(tmp_path / "c.toml") == cfg


def test_config_hand_written_toml(tmp_path):
    (tmp_path / "mine.toml").write_text(
        """
# a small H2-3q run
problem = "H2-3q"
noise = "depolarizing"
episodes = 12
eval_every = 4
chunk_steps = 8

[dqn]
hidden = [32, 16]
batch_size = 8
learning_rate = 5e-4
gamma = 0.95

[curriculum]
delta = 1e-3
greedy_period = 10

[spsa]
budget = 100
"""
    )
    cfg = SearchConfig.load(tmp_path / "mine.toml")
    assert (cfg.problem, cfg.noise, cfg.episodes, cfg.eval_every, cfg.chunk_steps) == (
        "H2-3q",
        "depolarizing",
        12,
        4,
        8,
    )
    assert cfg.dqn == DQNConfig(hidden=(32, 16), batch_size=8, learning_rate=5e-4, gamma=0.95)
    assert cfg.curriculum == CurriculumConfig(delta=1e-3, greedy_period=10)
    assert cfg.spsa == SPSAConfig(budget=100)
    assert cfg.preset == "fast" and cfg.n_envs == 1 and cfg.max_steps is None  # defaults
    assert cfg.dqn.discount(40) == 0.95


@pytest.mark.parametrize(
    "text",
    [
        'problem = "H2-2q"\nepisods = 10\n',
        'problem = "H2-2q"\n[dqn]\nhiden = [8]\n',
        "[spsa]\nbudgett = 10\n",
        "[curriculum]\ndelta = 1e-3\nN_s = 4\n",
        "[optimizer]\nlr = 1.0\n",
    ],
)
def test_config_unknown_keys_are_value_errors(tmp_path, text):
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ValueError, match="unknown"):
        SearchConfig.load(tmp_path / "c.toml")
    data = tomllib.loads(text)
    with pytest.raises(ValueError, match="unknown"):
        SearchConfig.from_dict(data)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.toml", "problem = \n"),
        ("c.toml", "[dqn\nhidden = [1]\n"),
        ("c.json", '{"problem": "H2-2q",'),
        ("c.json", ""),
    ],
)
def test_config_malformed_files(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=name):
        SearchConfig.load(tmp_path / name)


@pytest.mark.parametrize(
    "data",
    [
        {"dqn": 3},
        {"curriculum": "published"},
        {"episodes": 0},
        {"episodes": 2.5},
        {"n_envs": True},
        {"chunk_steps": 0},
        {"eval_every": 0},
        {"eval_episodes": -1},
        {"preset": "slow"},
        {"dqn": {"batch_size": 0}},
        {"curriculum": {"delta": -1.0}},
        {"spsa": {"method": "bfgs"}},
        {"start": "plus"},
        {"new_angle": "ones"},
        {"new_angle": None},
        {"new_angle_scale": 0.0},
        {"new_angle_scale": float("inf")},
        {"new_angle_scale": True},
    ],
)
def test_config_invalid_values(data):
    with pytest.raises(ValueError):
        SearchConfig.from_dict(data)


def test_config_is_printable_and_frozen():
    cfg = preset("fast", "LiH-4q", 4)
    text = str(cfg)
    assert text.startswith("SearchConfig(LiH-4q, noise=none, preset=fast")
    assert "dqn: DQNConfig(hidden=(128, 128)" in text and "curriculum:" in text and "spsa:" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.episodes = 3  # type: ignore[misc]
    assert cfg.replace(episodes=3).episodes == 3 and cfg.episodes != 3


# ----------------------------------------------------------------------------- presets
@pytest.mark.parametrize(("problem", "n", "width", "n_step"), [("H2-2q", 2, 1000, 5), ("LiH-4q", 4, 1000, 5)])
def test_paper_preset_small(problem, n, width, n_step):
    cfg = preset("paper", problem, n)
    d = cfg.dqn
    assert cfg.preset == "paper" and cfg.problem == problem and cfg.episodes >= 10_000
    assert d.hidden == (width,) * 5 and d.batch_size == 1000 and d.buffer_size == 20_000
    assert d.target_every == 500 and d.n_step == n_step and d.gamma is None
    assert d.eps_start == 1.0 and d.eps_decay == 0.99995 and d.eps_min == 0.05 and 1e-4 <= d.learning_rate <= 3e-4
    assert cfg.curriculum == CurriculumConfig(5e-4, 500, 25, 10)


@pytest.mark.parametrize(("problem", "n", "width"), [("LiH-6q", 6, 2000), ("H2O-8q", 8, 5000)])
def test_paper_preset_large(problem, n, width):
    cfg = preset("paper", problem, n)
    assert cfg.dqn.hidden == (width,) * 5 and cfg.dqn.n_step == 6
    assert cfg.curriculum == CurriculumConfig(1e-3, 2000, 50, 10)


def test_fast_preset_is_small_and_overridable():
    fast, paper = preset("fast", "H2-4q", 4), preset("paper", "H2-4q", 4)
    assert sum(fast.dqn.hidden) < sum(paper.dqn.hidden) and fast.dqn.batch_size < paper.dqn.batch_size
    assert fast.episodes < paper.episodes and fast.curriculum.greedy_period < paper.curriculum.greedy_period
    assert fast.dqn.n_step == 5 and preset("fast", "LiH-6q", 6).dqn.n_step == 6
    cfg = preset("fast", "H2-2q", 2, episodes=7, noise="depolarizing")
    assert cfg.episodes == 7 and cfg.noise == "depolarizing"
    with pytest.raises(ValueError, match="preset"):
        preset("slow", "H2-2q", 2)
    with pytest.raises(TypeError):
        preset("fast", "H2-2q", 2, bogus=1)


def test_one_ranking_for_best_circuits():
    """Accurate beats inaccurate whatever the error; among accurate: fewer CNOTs, then gates,
    then error; among inaccurate: error. By hand on five entries."""
    from crlqas_kit.results import best_of, rank_key
    from crlqas_kit.viz.plots import best_entry

    def e(name, acc, cnots, gates, error):
        return {"name": name, "chemically_accurate": acc, "cnots": cnots, "gates": gates, "error": error}

    entries = [
        e("inaccurate, tiny error", False, 0, 2, 1e-9),
        e("accurate, 3 cnots", True, 3, 9, 1e-6),
        e("accurate, 2 cnots, 12 gates", True, 2, 12, 1e-3),
        e("accurate, 2 cnots, 10 gates, larger error", True, 2, 10, 1.5e-3),
        e("accurate, 2 cnots, 10 gates", True, 2, 10, 1e-3),
    ]
    order = [x["name"] for x in sorted(entries, key=rank_key)]
    assert order == [
        "accurate, 2 cnots, 10 gates",
        "accurate, 2 cnots, 10 gates, larger error",
        "accurate, 2 cnots, 12 gates",
        "accurate, 3 cnots",
        "inaccurate, tiny error",
    ]
    best = {0: entries[:2], 1: entries[2:]}
    assert best_of(best)["name"] == best_entry(best)["name"] == "accurate, 2 cnots, 10 gates"
    assert best_of({}) is None
