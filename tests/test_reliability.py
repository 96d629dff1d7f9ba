"""Regression tests of the reliability audit (issue 15): user mistakes get one clear error,
sizes are refused before anything is allocated, long circuits compile a bounded number of times."""

from __future__ import annotations

import numpy as np
import pytest

import crlqas_kit as ck
from crlqas_kit.optim import vqe
from crlqas_kit.rl.interactive import InteractiveEnv
from crlqas_kit.search import check_seeds
from crlqas_kit.sim import simulator
from crlqas_kit.sim.circuit import MAX_GATES, Circuit, bucket_capacity
from crlqas_kit.sim.paulis import PauliSum
from crlqas_kit.sim.qasm import from_qasm, to_qasm
from crlqas_kit.sim.shots import check_shots


@pytest.mark.parametrize("bad", ["2", None, 2.5])
def test_circuit_qubit_count_must_be_an_integer(bad):
    with pytest.raises(TypeError, match="n_qubits must be a positive integer"):
        Circuit(bad)


@pytest.mark.parametrize("bad", [1.0, "1", None, [0.5]])
def test_gate_wires_must_be_integers(bad):
    with pytest.raises(TypeError, match="integer"):
        Circuit(2).add("x", bad)


def test_bucket_capacity_by_hand():
    assert [bucket_capacity(n) for n in (0, 1, 64, 65, 128, 129, 1000)] == [64, 64, 64, 128, 128, 256, 1024]


def test_from_ops_equals_gate_by_gate_building():
    """The one-pass builder gives the arrays of the append-one-gate builder (independent path)."""
    ops = [("ry", 0, 0.3), ("cx", (0, 2)), ("rz", 2), ("h", 1), ("cz", (1, 0)), ("rx", 1, -1.25)] * 15
    fast = Circuit.from_ops(3, ops)
    slow = Circuit(3, 128)
    for op in ops:
        slow = slow.add(*op)
    assert fast.capacity == 128 and fast.num_gates == 90 and fast.n_params == 45
    for name in ("gates", "wires", "slots", "angles"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))


def test_long_circuits_compile_once_per_capacity_bucket():
    """QASM circuits of 65..127 gates share the 128-slot bucket: one compile, not one per length."""
    ham = PauliSum.from_list([("ZI", 1.0), ("XX", 0.5)])
    before = simulator.TRACE_COUNT["simulate"]
    energies = []
    for length in (65, 90, 127):
        ops = [("ry", q % 2, 0.01 * k) if k % 3 else ("cx", (q % 2, 1 - q % 2)) for k, q in enumerate(range(length))]
        circuit = from_qasm(to_qasm(Circuit.from_ops(2, ops)))
        assert circuit.capacity == 128
        energies.append(ck.expectation(circuit, ham, "depolarizing"))
    assert simulator.TRACE_COUNT["simulate"] - before <= 1
    assert len(set(energies)) == 3


def test_qasm_gate_after_measure_is_an_error():
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nx q[1];\n'
    with pytest.raises(ValueError, match=r"line 6: gate 'x' after the measurement on line 5"):
        from_qasm(text)
    # measurements at the end stay allowed (ignored)
    assert from_qasm(text.replace("x q[1];\n", "")).num_gates == 0


def test_qasm_line_numbers_survive_the_linear_parser():
    text = "OPENQASM 2.0;\n\nqreg q[2];\n// comment\nx q[0]; y q[1];\n\n\n  cx q[0],q[0];\n"
    with pytest.raises(ValueError, match="QASM line 8: cx"):
        from_qasm(text)


def test_huge_qasm_is_refused_before_parsing():
    big = "OPENQASM 2.0;\nqreg q[2];\n" + "x q[0];\n" * (MAX_GATES + 2000)
    with pytest.raises(ValueError, match=f"at most {MAX_GATES} gates"):
        from_qasm(big)


def test_many_gates_parse():
    n = 20_000
    text = "OPENQASM 2.0;\nqreg q[3];\n" + "ry(0.5) q[0];\ncx q[0],q[1];\n" * (n // 2)
    circuit = from_qasm(text)
    assert circuit.num_gates == n and circuit.capacity == 32768 and circuit.n_params == n // 2


def test_expectation_refuses_beyond_the_engine_limit_before_allocating():
    ham = PauliSum.from_list([("Z" + "I" * 19, 1.0)])
    assert ck.expectation(Circuit(20).x(0), ham) == pytest.approx(-1.0)  # state vector: 17 MB
    with pytest.raises(ValueError, match="20 qubits is beyond the ptm engine's limit of 12"):
        ck.expectation(Circuit(20).x(0), ham, "depolarizing")


@pytest.mark.parametrize("bad", [10**20, 1e20, 0, -3, 2.5, "100", True])
def test_shot_counts(bad):
    with pytest.raises(ValueError, match="shots must be"):
        check_shots(bad)


@pytest.mark.parametrize(
    ("seeds", "match"),
    [([10**23], r"\[0, 2\^32\)"), ([-1], r"\[0, 2\^32\)"), ([1.0], "integer"), ([0, 0], "distinct"), ([], "at least")],
)
def test_search_seeds(seeds, match):
    with pytest.raises(ValueError, match=match):
        check_seeds(None, seeds)


def test_interactive_env_inputs():
    env = InteractiveEnv("H2-2q")  # a problem's name is accepted
    assert env.problem.name == "H2-2q"
    for kwargs, match in (({"seed": "x"}, "seed"), ({"seed": 1.5}, "seed"), ({"threshold": float("nan")}, "threshold")):
        with pytest.raises(ValueError, match=match):
            env.reset(**kwargs)
    with pytest.raises(TypeError, match="problem must be"):
        InteractiveEnv(3)


@pytest.mark.parametrize("bad", ["a", -1, 2.0, 2**40])
def test_optimize_key(bad):
    with pytest.raises(ValueError, match="key must be an integer seed"):
        vqe.optimize(ck.load_problem("H2-2q"), Circuit(2).ry(0), key=bad, budget=8)


# ----------------------------------------------------------------------------- interrupts
def _episodes(path):
    from crlqas_kit.results import load_run

    return [{k: v for k, v in e.items() if k != "seconds"} for e in load_run(path).episodes]


def test_sigint_saves_a_resumable_run_that_continues_exactly(tmp_path):
    """Ctrl-C (SIGINT) during a real `crlqas search` process: it stops after the running chunk,
    saves, exits 130 with a resume hint; resuming it gives exactly the episodes of an
    uninterrupted run with the same seed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from crlqas_kit import cli

    out = tmp_path / "interrupted"
    env = {**os.environ, "CRLQAS_NO_COMPILE_CACHE": "1", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "crlqas_kit.cli", "search", "--problem", "H2-2q", "--episodes", "100000"]
    proc = subprocess.Popen(
        [*cmd, "--save-every", "0", "--quiet", "--out", str(out)], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while not (out / "checkpoint.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (out / "checkpoint.npz").exists(), "no periodic save within 240 s"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr and f"--resume {out}" in stderr
    done = len(_episodes(out))
    assert done >= 1
    target = done + 30
    resumed, straight = tmp_path / "resumed", tmp_path / "straight"
    assert cli.main(["search", "--resume", str(out), "--episodes", str(target), "--quiet", "--out", str(resumed)]) == 0
    assert cli.main(["search", "--problem", "H2-2q", "--episodes", str(target), "--quiet", "--out", str(straight)]) == 0
    a, b = _episodes(resumed), _episodes(straight)
    assert len(a) >= target and len(b) >= target
    assert a[:target] == b[:target]


def test_bad_save_interval(tmp_path, capsys):
    from crlqas_kit import cli

    assert cli.main(["search", "--save-every", "-1", "--out", str(tmp_path / "x")]) == 2
    assert "--save-every" in capsys.readouterr().err


def _start(args, env):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "crlqas_kit.cli", "search", *map(str, args), "--save-every", "0", "--quiet"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_when(proc, ready, timeout=300.0):
    """SIGKILL ``proc`` as soon as ``ready()`` holds (polled every ~0.2 ms); False if it ended first."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.0002)
    assert proc.poll() is not None, "the search neither reached the kill point nor ended"
    return False


class _After:
    """A kill point: ``seconds`` after its first poll (the process start)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.t0 = seconds, None

    def __call__(self) -> bool:
        import time

        self.t0 = self.t0 or time.monotonic()
        return time.monotonic() - self.t0 > self.seconds


class _Writing:
    """A kill point: ``path`` (a temporary file of a save) written since the first poll; a file
    left there by an earlier kill does not count."""

    def __init__(self, path) -> None:
        self.path, self.t0 = path, None

    def __call__(self) -> bool:
        import time

        self.t0 = self.t0 or time.time_ns()
        try:
            return self.path.stat().st_mtime_ns >= self.t0
        except FileNotFoundError:
            return False


def test_sigkill_at_any_point_keeps_a_checkpoint_and_resumes_exactly(tmp_path):
    """SIGKILL a real `crlqas search` (saving after every chunk) at several points: while the
    checkpoint is being written, while the logs are, between two saves, right after start of a
    resumed process. After every kill the directory still resumes (the last good checkpoint
    survives, repaired if a kill split a save); resuming in place to the end gives exactly the
    episodes of an uninterrupted run with the same seed."""
    import os
    import random

    from crlqas_kit import cli
    from crlqas_kit.search import load_checkpoint

    target = 60
    out = tmp_path / "killed"
    # one compilation cache for the processes (the first compiles, the others start in seconds)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu"}
    fresh = ["--problem", "H2-2q", "--episodes", target, "--out", out]
    resume = ["--resume", out, "--episodes", target, "--out", out]
    saved = lambda: (out / "checkpoint.npz").exists()  # noqa: E731
    points = [
        ("checkpoint being written", _Writing(out / "checkpoint.npz.tmp")),
        ("logs being written", _Writing(out / "episodes.jsonl.tmp")),
        ("between saves", _After(random.Random(15).uniform(2.0, 6.0))),
        ("checkpoint being written", _Writing(out / "checkpoint.npz.tmp")),
        ("early in a resumed process", _After(0.5)),
    ]
    killed, counts = [], []
    for i, (what, ready) in enumerate(points):
        proc = _start(fresh if i == 0 else resume, env)
        if i == 0:
            _kill_when(proc, saved)  # nothing to keep before the first save: wait for it
            proc = _start(resume, env)
        if _kill_when(proc, ready):
            killed.append(what)
        state, results = load_checkpoint(out)  # the last good checkpoint is still there
        counts.append(len(results.episodes))
        if len(results.episodes) >= target:
            break
    assert killed, "no kill landed before the run ended"
    assert counts == sorted(counts), counts  # no save was lost
    assert cli.main(["search", *map(str, resume), "--quiet"]) == 0
    straight = tmp_path / "straight"
    assert cli.main(["search", "--problem", "H2-2q", "--episodes", str(target), "--quiet", "--out", str(straight)]) == 0
    a, b = _episodes(out), _episodes(straight)
    assert len(a) >= target and a[:target] == b[:target]
    print(f"kills landed: {killed}; episodes at each kill: {counts}")
