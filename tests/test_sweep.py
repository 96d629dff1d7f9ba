"""``crlqas sweep`` on a real Ray cluster (no mocks): a head started with ``ray start --head`` on a
free port, joined by address; the sweep's runs against the same runs made one by one with
``crlqas search``; a worker killed mid-run; Ctrl-C on the driver; re-runs, refusals and one-line
errors.

The Ray head is this module's fixture: ``ray start --head --block`` in a subprocess (its session
files in a short temporary directory: Ray's socket paths are limited in length), stopped at the
end by terminating that process, which stops the processes it started. The workers share one
persistent compilation cache (a temporary ``XDG_CACHE_HOME``), so each configuration compiles once.
Needs the ``scale`` extra (``pip install -e ".[test,scale]"``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run

from crlqas_kit import cli
from crlqas_kit.autosave import LOCK_FILE, RunLock
from crlqas_kit.sweep import GRID_FILE, SCALE_EXTRA, SUMMARY_FILE, TASKS_DIR, SweepError, sweep

pytest.importorskip("ray", reason='the scale extra: pip install -e ".[test,scale]"')

RAY = Path(sys.executable).with_name("ray")
NOISES = ("none", "depolarizing")
SEEDS = (0, 1)
EPISODES = 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def episodes(path: Path) -> list[dict]:
    """A run's training episodes without the wall-clock field (all the rest must be equal)."""
    rows = [json.loads(line) for line in (path / "episodes.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def evals(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "evals.jsonl").read_text().splitlines()]


def attempt(out: Path, name: str) -> dict:
    """The last attempt recorded for a run (``{}`` before its task started)."""
    try:
        return json.loads((out / TASKS_DIR / f"{name}.json").read_text())["attempts"][-1]
    except (OSError, ValueError, KeyError, IndexError):
        return {}


def proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


def search_alone(out: Path, *argv: str) -> Path:
    """The run made by ``crlqas search`` in this process (the reference)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["search", *argv, "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="module")
def worker_env(cache) -> dict[str, str]:
    """The compilation cache for the workers (the test process itself compiles without one)."""
    return {"CRLQAS_NO_COMPILE_CACHE": "0", "XDG_CACHE_HOME": str(cache)}


@pytest.fixture(scope="module")
def ray_head(worker_env):
    """A real local Ray head with 2 CPUs on a free port; yields its address."""
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's unix socket paths
    port = free_port()
    log = Path(temp) / "head.log"
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "CRLQAS_NO_COMPILE_CACHE")}
    env.update(worker_env, RAY_USAGE_STATS_ENABLED="0")
    cmd = [str(RAY), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port)]
    cmd += ["--include-dashboard=false", "--dashboard-port", str(free_port())]
    cmd += ["--dashboard-agent-listen-port", str(free_port()), "--temp-dir", temp, "--disable-usage-stats"]
    with open(log, "w") as fh:
        head = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None, f"ray start failed:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"ray start did not come up in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # ray start --block stops the processes it started on SIGTERM
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def grid(**changes) -> dict:
    return {"problem": "H2-2q", "noise": list(NOISES), "seeds": list(SEEDS), "episodes": EPISODES, **changes}


@pytest.fixture(scope="module")
def swept(ray_head, worker_env, tmp_path_factory):
    """A sweep of 4 tiny runs (H2-2q, 2 noise models x 2 seeds) joining the head by address."""
    out = tmp_path_factory.mktemp("sweep") / "grid"
    stream = io.StringIO()
    t0 = time.monotonic()
    result = sweep(grid(), out, address=ray_head, env=worker_env, stream=stream, save_every=30)
    return out, result, stream.getvalue(), time.monotonic() - t0


# ----------------------------------------------------------------------------- (1) equality
def test_sweep_completes_and_equals_runs_made_alone(swept, tmp_path):
    out, result, progress, _ = swept
    assert not result.failed and not result.interrupted, result.runs
    assert sorted(r["status"] for r in result.runs) == ["finished"] * 4
    names = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != TASKS_DIR)
    assert names == sorted(f"H2-2q_{n}_fast_seed{s}" for n in NOISES for s in SEEDS)
    for noise in NOISES:
        for seed in SEEDS:
            mine = out / f"H2-2q_{noise}_fast_seed{seed}"
            alone = search_alone(
                tmp_path / f"{noise}{seed}",
                *("--problem", "H2-2q", "--noise", noise, "--preset", "fast"),
                *("--episodes", str(EPISODES), "--seeds", str(seed)),
            )
            assert len(episodes(mine)) >= EPISODES
            assert episodes(mine) == episodes(alone), (noise, seed)
            assert evals(mine) == evals(alone)
            sweep_cfg = json.loads((mine / "config.json").read_text())
            alone_cfg = json.loads((alone / "config.json").read_text())
            assert sweep_cfg["config"] == alone_cfg["config"] and sweep_cfg["seeds"] == [seed]
    # the live table and the summary
    assert "4 finished, 0 running, 0 failed, 0 pending of 4 runs" in progress
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert [c["configuration"] for c in summary["configurations"]] == ["H2-2q none fast", "H2-2q depolarizing fast"]
    for c in summary["configurations"]:
        assert [s["seed"] for s in c["seeds"]] == list(SEEDS) and c["finished"] == 2
        assert c["best"]["qasm"].startswith("OPENQASM 2.0;")
    assert "| H2-2q none fast | 2 | 2/2 |" in result.table()
    recorded = json.loads((out / GRID_FILE).read_text())["runs"]
    assert [r["name"] for r in recorded] == [r["name"] for r in result.runs]


def test_pinned_workers_make_the_same_runs(swept, ray_head, worker_env, tmp_path):
    """--pin-cpus: each worker on a core of its own (recorded per attempt); the runs are unchanged."""
    out = tmp_path / "pinned"
    result = sweep(grid(noise="none"), out, address=ray_head, env=worker_env, pin_cpus=True, stream=io.StringIO())
    assert not result.failed, result.runs
    tasks = [attempt(out, f"H2-2q_none_fast_seed{seed}") for seed in SEEDS]
    for seed in SEEDS:
        name = f"H2-2q_none_fast_seed{seed}"
        assert episodes(out / name) == episodes(swept[0] / name)
    assert all(isinstance(t["cpus"], list) and len(t["cpus"]) == 1 for t in tasks), tasks
    if tasks[0]["pid"] != tasks[1]["pid"]:  # two live workers never hold the same core
        assert tasks[0]["cpus"] != tasks[1]["cpus"], tasks


# ----------------------------------------------------------------------------- (2) a lost worker, Ctrl-C
def wait_for(what: str, check, driver: subprocess.Popen, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert driver.poll() is None, (what, driver.communicate())
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_lost_worker_and_ctrl_c_lose_nothing(ray_head, worker_env, tmp_path):
    """A run's worker is killed (SIGKILL) after a checkpoint: Ray retries the task, which resumes
    from the checkpoint. Then Ctrl-C on the driver: the search saves and stops, exit 130. The same
    command again resumes it to the end, and the run equals the same run made uninterrupted."""
    out, name, total = tmp_path / "lost", "H2-2q_none_fast_seed3", 600
    args = ["--problem", "H2-2q", "--seeds", "3", "--episodes", str(total)]
    env = {k: v for k, v in os.environ.items() if k != "CRLQAS_NO_COMPILE_CACHE"} | worker_env
    cmd = [sys.executable, "-m", "crlqas_kit.cli", "sweep", *args, "--address", ray_head, "--out", str(out)]
    cmd += ["--save-every", "1", "--max-retries", "2"]
    driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # the task's worker records its pid in sweep_tasks/<run>.json: kill it once the run has
        # saved a checkpoint with some episodes
        def saved() -> int:
            try:
                return json.loads((out / name / "config.json").read_text())["summary"][0]["episodes"]
            except (OSError, ValueError, KeyError, IndexError):
                return 0

        wait_for("a checkpoint", lambda: saved() >= 50 and (out / name / "checkpoint.npz").exists(), driver)
        pid = attempt(out, name)["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for("the worker's end", lambda: not Path(f"/proc/{pid}").exists() or "zombie" in proc_state(pid), driver)
        killed_at = saved()  # config.json is written first in a save: at least the checkpoint's episodes
        # Ray starts the task again in a new worker; once it trains, Ctrl-C the driver
        wait_for(
            "the retry", lambda: "first_episode" in attempt(out, name) and attempt(out, name)["pid"] != pid, driver
        )
        driver.send_signal(signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=180)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, stderr
    assert "interrupted: cancelling" in stderr and "run the same sweep again to continue" in stderr
    attempts = json.loads((out / TASKS_DIR / f"{name}.json").read_text())["attempts"]
    assert len(attempts) == 2 and attempts[0]["pid"] == pid and "finished" not in attempts[0], attempts
    # resumed from a checkpoint (the newest complete one: the kill may have hit a save in progress)
    assert 0 < attempts[1]["resumed_from"] <= killed_at and attempts[1]["status"] == "interrupted", attempts
    cfg = json.loads((out / name / "config.json").read_text())
    assert cfg["stopped"] and cfg["summary"][0]["episodes"] < total  # saved when stopped
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "1 to resume" in again.stderr and f"{name} finished (resumed at episode" in again.stderr
    attempts = json.loads((out / TASKS_DIR / f"{name}.json").read_text())["attempts"]
    assert len(attempts) == 3 and attempts[2]["resumed_from"] >= attempts[1]["resumed_from"], attempts
    alone = search_alone(tmp_path / "alone", *args)
    assert episodes(out / name) == episodes(alone)
    assert evals(out / name) == evals(alone)
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["runs"][name]["attempts"] == 3 and summary["runs"][name]["status"] == "finished"


# ----------------------------------------------------------------------------- (2b) the code
def test_workers_run_the_code_the_driver_read_while_its_checkout_changes(worker_env, tmp_path):
    """The driver runs from a checkout (its working directory, first on every worker's path too);
    after the first run started and before the second (one CPU: one run at a time), the checkout
    is edited. The second run's worker still runs the driver's code: the code check passes, both
    runs finish. (With Ray's ``py_modules`` the worker imported the edited checkout and the run
    failed: ``imports another crlqas_kit``.)"""
    checkout = tmp_path / "checkout"
    shutil.copytree(Path(cli.__file__).parent, checkout / "crlqas_kit", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "CRLQAS_NO_COMPILE_CACHE")}
    env.update(worker_env, PYTHONPATH=str(checkout), RAY_USAGE_STATS_ENABLED="0")
    cmd = [sys.executable, "-m", "crlqas_kit.cli", "sweep", "--problem", "H2-2q", "--seeds", "0", "1"]
    cmd += ["--episodes", "60", "--num-cpus", "1", "--out", str(out)]
    driver = subprocess.Popen(cmd, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first, second = "H2-2q_none_fast_seed0", "H2-2q_none_fast_seed1"
        wait_for("the first run's first episode", lambda: "first_episode" in attempt(out, first), driver)
        assert attempt(out, second) == {}  # not started: it will start after the edit
        task = checkout / "crlqas_kit" / "sweep" / "task.py"
        task.write_text(task.read_text() + "\n# edited while the sweep runs\n")
        stdout, stderr = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, stderr
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert {name: r["status"] for name, r in summary["runs"].items()} == {first: "finished", second: "finished"}
    assert attempt(out, second)["started"] > attempt(out, first)["started"]


# ----------------------------------------------------------------------------- (3) re-runs
def test_rerunning_a_finished_sweep_does_no_work(swept, capsys):
    out = swept[0]
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")}
    tasks = {p: p.read_text() for p in (out / TASKS_DIR).iterdir()}
    t0 = time.monotonic()
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--noise", *NOISES, "--seeds", *SEEDS,
                             "--episodes", EPISODES, "--address", "127.0.0.1:1", "--out", out)  # fmt: skip
    assert rc == 0, stderr
    assert time.monotonic() - t0 < 30  # no Ray at all (the address is not even a cluster)
    assert "all 4 runs of" in stderr and "nothing to do" in stderr
    assert "| H2-2q none fast | 2 | 2/2 |" in stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")} == stamps
    assert {p: p.read_text() for p in (out / TASKS_DIR).iterdir()} == tasks
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert {r["status"] for r in summary["runs"].values()} == {"skipped"}


def test_a_sweep_into_another_grid_is_refused(swept, capsys, tmp_path):
    out = swept[0]
    before = sorted(str(p) for p in out.rglob("*"))
    common = ("--address", "127.0.0.1:1", "--out", out)
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--noise", *NOISES, "--seeds", *SEEDS,
                             "--episodes", EPISODES + 1, *common)  # fmt: skip
    line = assert_one_line_error(rc, stdout, stderr)
    assert "holds the sweep of another grid" in line and "episodes is 6 there, 7 here" in line
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--seeds", *SEEDS, "--episodes", EPISODES, *common)
    line = assert_one_line_error(rc, stdout, stderr)
    assert "H2-2q_depolarizing_fast_seed0 is not in this grid" in line
    assert sorted(str(p) for p in out.rglob("*")) == before  # nothing written
    # a directory holding other files, and a run directory holding another run
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--out", tmp_path / "busy")
    assert "is not empty and holds no sweep" in assert_one_line_error(rc, stdout, stderr)
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    shutil.copytree(out / "H2-2q_none_fast_seed1", moved / "H2-2q_none_fast_seed0", dirs_exist_ok=True)
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--noise", *NOISES, "--seeds", *SEEDS,
                             "--episodes", EPISODES, "--out", moved)  # fmt: skip
    line = assert_one_line_error(rc, stdout, stderr)
    assert "H2-2q_none_fast_seed0 holds another run" in line and "seeds [1]" in line


def test_a_grid_that_adds_runs_is_allowed(swept, tmp_path):
    """Adding a seed to a finished sweep passes the directory check, and only the new run is left to do."""
    from crlqas_kit.sweep import check_sweep_dir, expand, run_state

    out = tmp_path / "grown"
    shutil.copytree(swept[0], out)
    grown = {"problem": "H2-2q", "episodes": EPISODES, "block": [{"noise": list(NOISES), "seeds": list(SEEDS)}]}
    grown["block"].append({"noise": "none", "seeds": [2]})
    runs = expand(grown)
    assert len(check_sweep_dir(out, runs)) == 4
    states = {r.name: run_state(out / r.name, r) for r in runs}
    assert states.pop("H2-2q_none_fast_seed2") == "new" and set(states.values()) == {"finished"}


def test_only_makes_the_named_runs_and_leaves_the_others(swept, ray_head, worker_env, tmp_path):
    """A grown grid (seeds 2 and 3 added) swept with ``only`` seed 2 (given as a generator): seed 2
    is made, seed 3 is recorded in the grid but not started, the finished runs are untouched; the
    summary and the progress notes say which runs were not selected. Seed 3's directory is locked
    (another writer) meanwhile: no matter while it is not selected, refused before Ray when it is."""
    out = tmp_path / "subset"
    shutil.copytree(swept[0], out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")}
    stream = io.StringIO()
    only = (name for name in ["H2-2q_none_fast_seed2"])
    (out / "H2-2q_none_fast_seed3").mkdir()
    with RunLock(out / "H2-2q_none_fast_seed3"):  # being written elsewhere: no matter, it is not selected
        result = sweep(grid(seeds=[0, 1, 2, 3]), out, address=ray_head, env=worker_env, stream=stream, only=only)
        with pytest.raises(SweepError, match=r"run H2-2q_none_fast_seed3: .* is being written by another process"):
            sweep(grid(seeds=[0, 1, 2, 3]), out, address="127.0.0.1:1", only=["H2-2q_none_fast_seed3"])
    assert not result.failed and not result.interrupted
    assert "1 of 8 runs to make (4 finished, 0 to resume, 3 not selected)" in stream.getvalue()
    summary = json.loads((out / SUMMARY_FILE).read_text())["runs"]
    assert summary["H2-2q_none_fast_seed2"]["status"] == "finished"
    assert summary["H2-2q_none_fast_seed3"]["status"] == "not run"
    assert summary["H2-2q_depolarizing_fast_seed2"]["status"] == "not run"
    assert {summary[f"H2-2q_{n}_fast_seed{s}"]["status"] for n in NOISES for s in SEEDS} == {"skipped"}
    assert [p.name for p in (out / "H2-2q_none_fast_seed3").iterdir()] == [LOCK_FILE]  # not started
    assert (out / "H2-2q_none_fast_seed2" / "config.json").exists()
    assert len(json.loads((out / GRID_FILE).read_text())["runs"]) == 8  # the grown grid is recorded
    assert {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz") if p in stamps} == stamps
    # the made run equals the same run made alone
    alone = search_alone(tmp_path / "alone", "--problem", "H2-2q", "--seeds", "2", "--episodes", str(EPISODES))
    assert episodes(out / "H2-2q_none_fast_seed2") == episodes(alone)


def test_only_must_name_runs_of_the_grid(swept, capsys):
    out = swept[0]
    before = sorted(str(p) for p in out.rglob("*"))
    rc, stdout, stderr = run(capsys, "sweep", "--problem", "H2-2q", "--noise", *NOISES, "--seeds", *SEEDS,
                             "--episodes", EPISODES, "--address", "127.0.0.1:1", "--only", "H2-2q_none_fast_seed7",
                             "--out", out)  # fmt: skip
    line = assert_one_line_error(rc, stdout, stderr)
    assert "only names runs not in the grid: ['H2-2q_none_fast_seed7']" in line
    for bad in ("H2-2q_none_fast_seed0", [], [3]):  # a bare string, nothing, not names
        with pytest.raises(SweepError, match="non-empty list of run names"):
            sweep(grid(), out, only=bad)
    assert sorted(str(p) for p in out.rglob("*")) == before  # nothing written


# ----------------------------------------------------------------------------- (4) errors
BLOCK_RAY = textwrap.dedent(
    """
    import sys

    class NoRay:  # Ray absent, as without the scale extra
        def find_spec(self, name, path=None, target=None):
            if name == "ray" or name.startswith("ray."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NoRay())
    from crlqas_kit import cli
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def test_missing_ray_names_the_extra(tmp_path):
    out = tmp_path / "no-ray"
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_RAY, "sweep", "--problem", "H2-2q", "--episodes", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = assert_one_line_error(proc.returncode, proc.stdout, proc.stderr)
    assert SCALE_EXTRA in line and "needs Ray" in line
    assert not out.exists()  # said before anything is written


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--problem", "H2-9q"], "unknown problem 'H2-9q'"),
        (["--problem", "H2-2q", "--noise", "none", "fog"], "noise 'fog'"),
        (["--problem", "H2-2q", "--seeds", "1", "2", "1"], "seeds must be distinct"),
        (["--problem", "H2-2q", "LiH-4q", "H2-2q"], "problem lists 'H2-2q' twice"),
        (["--problem", "H2-2q", "--agent", "random-search"], "cannot be swept"),
        (["--problem", "H2-2q", "--episodes", "0"], "episodes must be a positive integer, got 0"),
        (["--problem", "H2-2q", "--time-limit", "-5"], "time_limit must be a positive finite number (seconds)"),
        (["--problem", "H2-2q", "--max-retries", "-1"], "max_retries must be an integer >= 0, got -1"),
        (["--problem", "H2-2q", "--num-cpus", "2", "--address", "127.0.0.1:1"], "num_cpus sets up a local Ray"),
        (["--noise", "none"], "give the grid"),
        (["--problem", "H2-2q", "--pin-cpus", "--cpus-per-run", "1.5"], "pinning needs a whole number of CPUs"),
        (["--problem", "H2-2q", "--grid", "g.toml"], "give either --grid FILE or the grid options"),
        (["--grid", "missing.toml"], "grid file not found"),
    ],
)
def test_bad_input_is_one_line_before_ray(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    rc, stdout, stderr = run(capsys, "sweep", *argv, "--out", tmp_path / "never")
    assert message in assert_one_line_error(rc, stdout, stderr)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    "toml, message",
    [
        ("problem = []\nseeds = [0]\n", "the grid is empty"),
        ('problem = "H2-2q"\nseeds = []\n', "the grid is empty"),
        ("seeds = [0]\n", "names no problem"),
        ('problem = "H2-2q"\nnoises = ["none"]\n', "unknown grid option(s) 'noises'"),
        ('problem = "H2-2q"\nseeds = [0, true]\n', "a seed must be an integer"),
        ('problem = "H2-2q"\nuntil_accurate = "yes"\n', "until_accurate must be true or false"),
        ('problem = "H2-2q"\n[[block]]\nnoise = "none"\n[[block]]\nseeds = [0]\n', "blocks 1 and 2 both make the run"),
        ('problem = "H2-2q\n', "not valid TOML"),
    ],
)
def test_bad_grid_files_are_one_line_errors(capsys, tmp_path, toml, message):
    (tmp_path / "g.toml").write_text(toml)
    rc, stdout, stderr = run(capsys, "sweep", "--grid", tmp_path / "g.toml", "--out", tmp_path / "never")
    assert message in assert_one_line_error(rc, stdout, stderr)
    assert not (tmp_path / "never").exists()


def test_grid_file_blocks_expand_in_order(tmp_path):
    from crlqas_kit.sweep import expand, load_grid

    (tmp_path / "g.toml").write_text(
        textwrap.dedent(
            """
            preset = "fast"
            seeds = [0, 1]
            episodes = 50

            [[block]]
            problem = ["LiH-4q", "H2-3q"]
            noise = ["none", "depolarizing:p1=2e-3"]
            time_limit = 600

            [[block]]
            problem = "H2-2q"
            agent = ["ddqn", "random"]
            seeds = [0, 1, 2]
            until_accurate = true
            """
        )
    )
    runs = expand(load_grid(tmp_path / "g.toml"))
    assert len(runs) == 2 * 2 * 2 + 2 * 3
    assert runs[0].name == "LiH-4q_none_fast_seed0" and runs[0].config.episodes == 50 and runs[0].time_limit == 600
    assert runs[2].name.startswith("LiH-4q_depolarizing-p1=2e-3-") and runs[2].config.noise == "depolarizing:p1=2e-3"
    assert runs[-1].name == "H2-2q_none_fast_random_seed2" and runs[-1].config.agent == "random"
    assert runs[-1].until_accurate and runs[-1].time_limit is None
    assert {r.seed for r in runs} == {0, 1, 2}
