"""``crlqas search`` / ``crlqas report`` / ``--resume``, and one-line errors for bad input.

In-process through ``crlqas_kit.cli.main``. The searches use the fast H2-2q preset, whose
compiled chunk is shared with ``test_search.py`` when both run in one process (run length and
evaluation schedule are not part of the compiled chunk).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, holder, run

from crlqas_kit import cli
from crlqas_kit.results import load_run
from crlqas_kit.search_config import preset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("learning_curve.png", "error.png", "threshold.png", "best_circuit.png")


def log(episodes):
    return json.dumps([{k: v for k, v in e.items() if k != "seconds"} for e in episodes])


@pytest.fixture(scope="module")
def search_dir(tmp_path_factory):
    """``crlqas search --problem H2-2q --episodes 10 --out DIR --quiet``, run once (capsys is per test)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = cli.main(["search", "--problem", "H2-2q", "--episodes", "10", "--out", str(out), "--quiet"])
    return out, rc, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def report(search_dir):
    out = search_dir[0]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = cli.main(["report", str(out)])
    return rc, stdout.getvalue()


# ----------------------------------------------------------------------------- search
def test_search_writes_a_run_directory(search_dir):
    out, rc, stdout, stderr = search_dir
    assert rc == 0
    assert f"run saved to {out}" in stdout
    assert "| seed | episodes | chem. acc." in stdout and "| 0 |" in stdout
    assert "[#" not in stderr  # --quiet: no progress bar
    for name in ("config.json", "episodes.jsonl", "checkpoint.npz"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "evals.jsonl").is_file()  # empty: 10 episodes < the preset's eval_every
    assert list((out / "best").glob("seed0_*.qasm"))
    res = load_run(out)
    assert res.config == preset("fast", "H2-2q", 2, episodes=10)
    assert res.seeds == [0] and len(res.episodes) >= 10 and not res.stopped
    assert res.first_chemically_accurate(0) is not None


def test_search_progress_bar_without_quiet(search_dir, capsys, tmp_path):
    """Without --quiet the bar ticks on stderr (a stop after the first chunk keeps this short)."""
    out = tmp_path / "bar"
    rc, stdout, stderr = run(capsys, "search", "--problem", "H2-2q", "--episodes", "1", "--out", out)
    assert rc == 0 and "run saved to" in stdout
    assert "episodes, best error" in stderr and "\r[" in stderr
    assert len(load_run(out).episodes) >= 1


# ----------------------------------------------------------------------------- report
def test_report_writes_markdown_and_pngs(search_dir, report):
    out = search_dir[0]
    rc, stdout = report
    assert rc == 0 and f"wrote {out / 'report.md'}" in stdout
    text = (out / "report.md").read_text()
    assert text.startswith("# CRLQAS report: H2-2q")
    assert "| seed | episodes |" in text and "## Best circuit" in text
    for name in FIGURES:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 2000, name
        assert f"]({name})" in text, name


# ----------------------------------------------------------------------------- resume
def test_resume_continues_the_run(search_dir, report, capsys, tmp_path):
    out = search_dir[0]
    before = load_run(out)
    out2 = tmp_path / "more"
    rc, stdout, stderr = run(capsys, "search", "--resume", out, "--episodes", "20", "--out", out2, "--quiet")
    assert rc == 0 and f"run saved to {out2}" in stdout
    res = load_run(out2)
    assert res.config == preset("fast", "H2-2q", 2, episodes=20)
    assert len(res.episodes) >= 20 and res.seeds == [0]
    # the first part of the log is the saved run's, untouched; the original directory is unchanged
    assert log(res.episodes[: len(before.episodes)]) == log(before.episodes)
    assert [e["episode"] for e in res.episodes] == list(range(1, len(res.episodes) + 1))
    assert log(load_run(out).episodes) == log(before.episodes)
    assert (out2 / "checkpoint.npz").is_file()


def test_time_limit_stops_between_chunks(capsys, tmp_path):
    out = tmp_path / "limited"
    rc, stdout, _ = run(capsys, "search", "--episodes", "100000", "--time-limit", "0.001", "--out", out, "--quiet")
    assert rc == 0 and f"run saved to {out}" in stdout
    res = load_run(out)
    # the deadline passes during the first chunk: exactly one chunk of steps is trained
    assert res.stopped and 0 < len(res.episodes) < 100
    assert res.config.episodes == 100000
    assert (out / "checkpoint.npz").is_file()  # resumable


def test_until_accurate_stops_after_the_first_accurate_chunk(capsys, tmp_path):
    out = tmp_path / "until"
    rc, stdout, _ = run(capsys, "search", "--episodes", "100000", "--until-accurate", "--out", out, "--quiet")
    assert rc == 0
    res = load_run(out)
    first = res.first_chemically_accurate(0)
    assert res.stopped and first is not None
    # it stops at the end of the chunk holding the first accurate episode: no later chunk runs
    last_chunk = [e for e in res.episodes if e["seconds"] == res.episodes[-1]["seconds"]]
    assert any(e["chemically_accurate"] for e in last_chunk)
    assert not any(e["chemically_accurate"] for e in res.episodes if e["seconds"] < last_chunk[0]["seconds"])


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
def test_bad_time_limit(capsys, tmp_path, value):
    line = assert_one_line_error(*run(capsys, "search", "--time-limit", value, "--out", tmp_path / "x"))
    assert "--time-limit" in line
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------- bad input
def test_unknown_problem(capsys, tmp_path):
    line = assert_one_line_error(*run(capsys, "search", "--problem", "Nope-9q", "--out", tmp_path / "x"))
    assert "Nope-9q" in line
    assert not (tmp_path / "x" / "config.json").exists()  # no run written


def test_missing_out_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["search", "--problem", "H2-2q"])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_bad_episodes(capsys, tmp_path):
    line = assert_one_line_error(*run(capsys, "search", "--episodes", "0", "--out", tmp_path / "x"))
    assert "episodes" in line


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.toml", "problem = \n"),
        ("bad.json", '{"problem": '),
        ("unknown.toml", 'problem = "H2-2q"\nepisodez = 3\n'),
        ("nested.toml", "[dqn]\nhidden = [8]\nwidth = 3\n"),
        ("invalid.json", '{"episodes": -1}'),
    ],
)
def test_malformed_config_file(capsys, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert_one_line_error(*run(capsys, "search", "--config", path, "--out", tmp_path / "x"))


def test_missing_config_file(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "search", "--config", tmp_path / "none.toml", "--out", tmp_path / "x"))


def test_report_on_a_non_run_dir(capsys, tmp_path):
    line = assert_one_line_error(*run(capsys, "report", tmp_path))
    assert "not a run directory" in line
    assert_one_line_error(*run(capsys, "report", tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{broken")
    assert "config.json" in assert_one_line_error(*run(capsys, "report", tmp_path))


def test_resume_from_a_non_run_dir(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "search", "--resume", tmp_path, "--out", tmp_path / "x"))


def test_resume_from_a_run_without_checkpoint(capsys, tmp_path, search_dir):
    copy = tmp_path / "copy"
    shutil.copytree(search_dir[0], copy)
    (copy / "checkpoint.npz").unlink()
    line = assert_one_line_error(*run(capsys, "search", "--resume", copy, "--out", tmp_path / "x"))
    assert "checkpoint" in line


def test_unknown_noise_is_one_line(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "search", "--noise", "bogus-noise", "--out", tmp_path / "x"))


def test_unknown_noise_fails_with_exit_2(capsys, tmp_path):
    rc, out, err = run(capsys, "search", "--noise", "bogus-noise", "--out", tmp_path / "x")
    assert rc == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1].startswith("crlqas: error: ") and "bogus-noise" in err
    assert not (tmp_path / "x" / "config.json").exists()


# ----------------------------------------------------------------------------- baselines and options
@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("--agent", "greedy"), "choose one of ('ddqn', 'random', 'random-search')"),
        (("--e-min", "fake"), "'exact', 'pauli-bound' or a finite energy in Ha"),
        (("--e-min", "nan"), "'exact', 'pauli-bound' or a finite energy in Ha"),
        (("--variance", "binomial"), "choose one of ('exact', 'published')"),
        (("--variant", "paper"), "choose one of ('kit', 'published')"),
        (("--new-angle", "ones"), "choose one of ('zeros', 'random')"),
        (("--start", "plus"), "choose one of ('zeros', 'hf')"),
        (("--new-angle", "random", "--new-angle-scale", "-0.1"), "new_angle_scale must be a positive finite number"),
    ],
)
def test_bad_baseline_and_estimate_options_are_one_line_errors(capsys, tmp_path, args, allowed):
    line = assert_one_line_error(*run(capsys, "search", "--episodes", "1", *args, "--out", tmp_path / "x"))
    assert allowed in line
    assert not (tmp_path / "x").exists()  # refused before the run directory is created


def test_vqe_bad_variant_is_one_line(capsys):
    ansatz = Path(cli.__file__).resolve().parent / "data" / "circuits" / "H2-2q-ansatz.qasm"
    line = assert_one_line_error(*run(capsys, "vqe", "--problem", "H2-2q", "--qasm", ansatz, "--variant", "fast"))
    assert "choose one of ('kit', 'published')" in line


@pytest.mark.parametrize("agent", ["random", "random-search"])
def test_baseline_agents_write_comparable_runs(capsys, tmp_path, search_dir, agent):
    out = tmp_path / agent
    rc, stdout, _ = run(
        capsys, "search", "--problem", "H2-2q", "--episodes", "4", "--agent", agent, "--quiet", "--out", out
    )
    assert rc == 0, stdout
    eps = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(eps) >= 4 and {e["agent"] for e in eps} == {agent} and {e["eps"] for e in eps} == {1.0}
    assert all(b["evaluations"] > a["evaluations"] for a, b in itertools.pairwise(eps))  # cumulative, growing
    ddqn = shutil.copytree(search_dir[0], tmp_path / "ddqn")
    rc, stdout, _ = run(capsys, "report", ddqn, "--compare", out)
    assert rc == 0
    text = (ddqn / "report.md").read_text()
    assert "## Against the baselines" in text and f"| {agent} |" in text and "| ddqn |" in text
    assert (ddqn / "comparison.png").stat().st_size > 10_000


def _tiny_random_config(tmp_path, problem: str, noise: str) -> Path:
    """A random-agent run of one 2-gate episode with a 4-evaluation optimiser: only the plumbing."""
    cfg = {
        "problem": problem,
        "noise": noise,
        "agent": "random",
        "episodes": 1,
        "max_steps": 2,
        "halt_min": 1,
        "eval_episodes": 0,
        "chunk_steps": 2,
        "spsa": {"budget": 4},
        "dqn": {"hidden": [8], "batch_size": 2, "buffer_size": 4},
    }
    path = tmp_path / f"{problem}_{noise}.json"
    path.write_text(json.dumps(cfg))
    return path


def _random_agent_cases():
    from crlqas_kit.problems import list_problems
    from crlqas_kit.sim.noise_spec import known_models

    # every problem noiselessly; under noise every H2 problem (2-4 qubits, cheap) and one geometry of
    # LiH and H2O (a second geometry runs the same 6-8 qubit density-matrix programs, ~15 s a case)
    cases = [(p, "none") for p in list_problems()]
    cases += [(p, "depolarizing") for p in list_problems() if p.count("-") == 1 or p.startswith("H2-")]
    return cases + [("H2-2q", n) for n in known_models() if n not in ("none", "depolarizing")]


@pytest.mark.parametrize(("problem", "noise"), _random_agent_cases())
def test_random_agent_runs_for_every_problem_and_noise(capsys, tmp_path, problem, noise):
    out = tmp_path / "run"
    rc, stdout, stderr = run(
        capsys, "search", "--config", _tiny_random_config(tmp_path, problem, noise), "--quiet", "--out", out
    )
    assert rc == 0, stderr
    res = load_run(out)
    assert res.config.agent == "random" and res.config.noise == noise and len(res.episodes) >= 1
    assert all(e["agent"] == "random" and 1 <= e["gates"] <= 2 for e in res.episodes)


@pytest.mark.parametrize("agent, save_every", [("ddqn", "60"), ("random-search", "60"), ("random-search", "0")])
def test_max_evaluations_gives_equal_evaluation_budgets(capsys, tmp_path, agent, save_every):
    """Also: random search saves between circuits (``--save-every 0``: after each; it once failed
    there, a chunk event without the results to save, after a minute of a real run)."""
    out = tmp_path / agent
    rc, _, err = run(
        capsys,
        "search",
        "--save-every",
        save_every,
        "--problem",
        "H2-2q",
        "--episodes",
        "1000",
        "--agent",
        agent,
        "--max-evaluations",
        "20000",
        "--quiet",
        "--out",
        out,
    )
    assert rc == 0, err
    res = load_run(out)
    spent = res.evaluations[0]
    assert spent >= 20000 and len(res.episodes) < 1000  # stopped by the budget, not the episode count
    # stopped at the first check after the budget: at most one chunk / one circuit beyond it
    assert res.episodes[-1]["evaluations"] <= spent


def test_bad_max_evaluations(capsys, tmp_path):
    line = assert_one_line_error(*run(capsys, "search", "--max-evaluations", "0", "--out", tmp_path / "x"))
    assert "--max-evaluations" in line


def test_min_threshold_option(capsys, tmp_path):
    """The fast preset stops its curriculum at chemical accuracy; --min-threshold 0 restores the
    published delta/K floor; a negative value is a one-line error."""
    assert preset("fast", "H2-2q", 2).curriculum.min_threshold == 1.6e-3
    rc, stdout, _ = run(capsys, "search", "--episodes", "1", "--min-threshold", "0", "--out", tmp_path / "a", "--quiet")
    assert rc == 0
    assert load_run(tmp_path / "a").config.curriculum.min_threshold == 0.0
    line = assert_one_line_error(*run(capsys, "search", "--min-threshold", "-1", "--out", tmp_path / "x"))
    assert "min_threshold" in line


def test_start_and_new_angle_options_reach_the_run(capsys, tmp_path):
    options = ("--start", "hf", "--new-angle", "random", "--new-angle-scale", "0.2")
    rc, _, _ = run(capsys, "search", "--episodes", "1", *options, "--out", tmp_path / "a")
    assert rc == 0
    cfg = load_run(tmp_path / "a").config
    assert (cfg.start, cfg.new_angle, cfg.new_angle_scale) == ("hf", "random", 0.2)


# ----------------------------------------------------------------------------- run directories are not clobbered
def test_out_onto_an_existing_run_is_refused(search_dir, capsys, tmp_path):
    import shutil

    d = shutil.copytree(search_dir[0], tmp_path / "run")
    before = (d / "episodes.jsonl").read_bytes()
    rc, _, stderr = run(capsys, "search", "--problem", "H2-3q", "--episodes", "5", "--out", d, "--quiet")
    assert rc == 2 and stderr.count("\n") == 1 and "already holds a run (H2-2q, agent ddqn, noise none" in stderr
    assert f"--resume {d} --out {d}" in stderr and "--force" in stderr
    assert (d / "episodes.jsonl").read_bytes() == before


def test_a_run_being_written_is_refused_even_with_force(search_dir, capsys, tmp_path):
    """While another process writes the run (holds its lock), resuming it, writing a new run into
    it, and --force (which would delete its files) are one-line errors naming that process; the
    run's files are untouched."""
    import shutil

    d = shutil.copytree(search_dir[0], tmp_path / "run")
    files = {p: p.read_bytes() for p in d.rglob("*") if p.is_file() and p.name != ".crlqas.lock"}
    proc = holder(d)
    try:
        for argv in (
            ["--resume", d, "--episodes", "12", "--out", d],
            ["--problem", "H2-2q", "--episodes", "2", "--out", d, "--force"],
            ["--problem", "H2-2q", "--episodes", "2", "--out", d],
        ):
            line = assert_one_line_error(*run(capsys, "search", *argv, "--quiet"))
            assert f"{d} is being written by another process (pid {proc.pid})" in line, line
    finally:
        proc.kill()
        proc.wait()
    assert {p: p.read_bytes() for p in files} == files


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--noise", "depolarizing"], ["--noise depolarizing (the run: none)"]),
        (["--problem", "H2-3q", "--seeds", "1", "2"], ["--problem H2-3q (the run: H2-2q)", "--seeds 1 2 (the run: 0)"]),
        (
            ["--shots", "100", "--min-threshold", "0"],
            ["--shots 100 (the run: None)", "--min-threshold 0.0 (the run: 0.0016)"],
        ),
        (["--preset", "fast"], ["--preset"]),
        (["--variant", "published"], ["--variant published (the run: kit)"]),
        (["--new-angle", "random"], ["--new-angle random (the run: zeros)"]),
        (["--start", "hf"], ["--start hf (the run: zeros)"]),
    ],
)
def test_resume_refuses_options_that_change_the_run(search_dir, capsys, tmp_path, args, named):
    rc, _, stderr = run(capsys, "search", "--resume", search_dir[0], *args, "--out", tmp_path / "x")
    assert rc == 2 and stderr.count("\n") == 1, stderr
    assert all(n in stderr for n in named), stderr
    assert "allowed with --resume: --episodes" in stderr and not (tmp_path / "x").exists()


def test_resume_accepts_options_equal_to_the_run(search_dir, capsys, tmp_path):
    """Repeating the run's own settings is not a conflict; resuming in place is allowed."""
    import shutil

    d = shutil.copytree(search_dir[0], tmp_path / "run")
    n = len(load_run(d).episodes)
    rc, stdout, _ = run(
        capsys, "search", "--resume", d, "--problem", "H2-2q", "--noise", "none", "--seeds", "0",
        "--episodes", str(n + 4), "--out", d, "--quiet",
    )  # fmt: skip
    assert rc == 0 and f"run saved to {d}" in stdout
    assert len(load_run(d).episodes) >= n + 4 and (d / "checkpoint.prev.npz").is_file()


def test_resume_into_another_run_is_refused(search_dir, capsys, tmp_path):
    other = tmp_path / "other"
    assert run(capsys, "search", "--problem", "H2-2q", "--noise", "depolarizing", "--episodes", "2", "--out", other,
               "--quiet")[0] == 0  # fmt: skip
    rc, _, stderr = run(capsys, "search", "--resume", search_dir[0], "--episodes", "12", "--out", other, "--quiet")
    assert rc == 2 and "holds another run (H2-2q, agent ddqn, noise depolarizing" in stderr


def test_force_replaces_a_run_report_and_figures_included(search_dir, report, capsys, tmp_path):
    import shutil

    d = shutil.copytree(search_dir[0], tmp_path / "run")
    assert (d / "report.md").is_file() and (d / "learning_curve.png").is_file()
    (d / "notes.txt").write_text("mine")
    rc, _, _ = run(capsys, "search", "--agent", "random", "--episodes", "2", "--out", d, "--force", "--quiet")
    assert rc == 0
    assert not list(d.glob("*.png")) and not (d / "report.md").exists()  # stale report and figures are gone
    assert load_run(d).config.agent == "random" and (d / "notes.txt").read_text() == "mine"


def test_a_directory_that_is_not_a_run_is_refused(capsys, tmp_path):
    (tmp_path / "thesis.tex").write_text("x")
    rc, _, stderr = run(capsys, "search", "--episodes", "2", "--out", tmp_path, "--quiet")
    assert rc == 2 and "is not empty and holds no run" in stderr and stderr.count("\n") == 1


def test_random_search_resumes_from_its_run_directory(capsys, tmp_path):
    """``crlqas search --resume`` continues a random search (its logs are its state) to the run
    made in one go."""
    common = ("--problem", "H2-2q", "--agent", "random-search", "--quiet")
    rc, _, err = run(capsys, "search", *common, "--episodes", "2", "--out", tmp_path / "part")
    assert rc == 0, err
    rc, _, err = run(
        capsys, "search", "--resume", tmp_path / "part", "--episodes", "4", "--quiet", "--out", tmp_path / "part"
    )
    assert rc == 0, err
    rc, _, err = run(capsys, "search", *common, "--episodes", "4", "--out", tmp_path / "whole")
    assert rc == 0, err
    strip = lambda path: [{k: v for k, v in e.items() if k != "seconds"} for e in load_run(path).episodes]  # noqa: E731
    assert strip(tmp_path / "part") == strip(tmp_path / "whole") and len(strip(tmp_path / "whole")) == 4
    assert load_run(tmp_path / "part").evaluations == load_run(tmp_path / "whole").evaluations
