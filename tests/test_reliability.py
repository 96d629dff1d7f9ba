"""Regression tests of the reliability audit (issue 15): user mistakes get one clear error,
sizes are refused before anything is allocated, long circuits compile a bounded number of times."""

from __future__ import annotations

import json
import os
from pathlib import Path

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
    with pytest.raises(TypeError, match="must be an integer"):
        Circuit(2).x(bad)  # the builder method, as the audit wrote it


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


def test_fifty_megabyte_qasm_files_load_or_are_refused_in_seconds(tmp_path):
    """A 50 MB file of gates is refused by its statement count before parsing; 65,536 gates with
    ~250-character angle expressions by the expression budget (it was ~2 min of parsing); a file
    of MAX_GATES gates with long plain-number angles loads. Measured 0.3, 2.6 and 2.9 s."""
    import time

    from crlqas_kit.sim.qasm import MAX_EXPRESSION_CHARS, load_qasm

    head = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n'
    cases = {
        "gates.qasm": (head + "ry(0.123456789) q[0];\n" * (50 * 2**20 // 22), f"at most {MAX_GATES} gates"),
        "expressions.qasm": (
            head + f"ry({'+'.join(['pi/7'] * 50)}) q[1];\n" * MAX_GATES,
            f"angle expressions exceed {MAX_EXPRESSION_CHARS} characters in all",
        ),
        "numbers.qasm": (head + f"rx(0.{'3' * 780}) q[0];\n" * (MAX_GATES - 1), None),
    }
    for name, (text, match) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert path.stat().st_size > (45 * 2**20 if name != "expressions.qasm" else 15 * 2**20)
        start = time.perf_counter()
        if match is None:
            assert load_qasm(path).num_gates == MAX_GATES - 1
        else:
            with pytest.raises(ValueError, match=match):
                load_qasm(path)
        assert time.perf_counter() - start < 30, name  # seconds, not minutes, on a loaded 2-core machine
        path.unlink()


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


class _AfterSave:
    """A kill point: ``delay`` seconds after ``path`` (the checkpoint) was next replaced."""

    def __init__(self, path, delay: float) -> None:
        self.path, self.delay, self.t0, self.saved = path, delay, None, None

    def __call__(self) -> bool:
        import time

        self.t0 = self.t0 or time.time_ns()
        if self.saved is None:
            try:
                if self.path.stat().st_mtime_ns > self.t0:
                    self.saved = time.monotonic()
            except FileNotFoundError:
                pass
            return False
        return time.monotonic() - self.saved > self.delay


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
        ("between saves", _AfterSave(out / "checkpoint.npz", random.Random(15).uniform(0.05, 0.3))),
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


ANSATZ = str(Path(ck.__file__).resolve().parent / "data" / "circuits" / "H2-2q-ansatz.qasm")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["search", "--shots", "1e20"], "shots must be at most 1e+15"),  # 1e20 is read as a whole number
        (["search", "--seed", "1e23"], "a seed must be an integer in [0, 2^32), got 1" + "0" * 23),
        (["search", "--seeds", "1e23"], "a seed must be an integer in [0, 2^32)"),
        (["search", "--seeds", "0", "0"], "seeds must be distinct, got [0, 0]"),
        (["search", "--seeds", "1.5"], "argument --seeds: expected a whole number such as 1000 or 1e6, got '1.5'"),
        (["search", "--shots", "abc"], "argument --shots: expected a whole number"),
        (["search", "--shots", "1e1000000000"], "far beyond any count or seed"),  # no billion-digit int
        (["search", "--episodes", "nan"], "argument --episodes: expected a whole number"),
        (["search", "--bogus"], "unrecognized arguments: --bogus"),
        (["vqe", "--problem", "H2-2q", "--qasm", ANSATZ, "--seed", "1e23"], "key must be an integer seed in [0, 2^32)"),
        (["vqe", "--problem", "H2-2q", "--qasm", ANSATZ, "--budget", "0"], "budget must be a positive integer"),
        (
            ["evaluate", "--problem", "H2-2q", "--qasm", "{tmp}/q20.qasm"],
            "declares 20 qubits; the simulator handles at most 12",
        ),
        (["demo", "--episodes", "0"], "episodes must be a positive integer"),
        (["nosuch"], "invalid choice: 'nosuch'"),
    ],
)
def test_cli_mistakes_give_one_error_line(argv, fragment, tmp_path, capsys):
    """Each prints exactly one `crlqas: error:` line and exits 2 (argparse's own errors too, which
    exit through SystemExit); nothing is left in the output directory's place."""
    from cli_helpers import assert_one_line_error

    from crlqas_kit import cli

    (tmp_path / "q20.qasm").write_text("OPENQASM 2.0;\nqreg q[20];\n" + "".join(f"h q[{i}];\n" for i in range(20)))
    out = tmp_path / "run"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] in ("search", "demo"):
        argv += ["--out", str(out)]
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse's errors leave through parser.exit
        rc = exc.code
    captured = capsys.readouterr()
    line = assert_one_line_error(rc, captured.out, captured.err)
    assert fragment in line, line
    assert not out.exists()


def test_cli_whole_numbers_in_scientific_notation(capsys):
    """`--budget 2e1 --seed 1e3` are the integers 20 and 1000 (the run is the one of `--budget 20 --seed 1000`)."""
    from crlqas_kit import cli

    args = ["vqe", "--problem", "H2-2q", "--qasm", ANSATZ, "--method", "spsa", "--json"]
    assert cli.main([*args, "--budget", "2e1", "--seed", "1e3"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert cli.main([*args, "--budget", "20", "--seed", "1000"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert (a["budget"], a["seed"]) == (20, 1000)
    assert a["params"] == b["params"] and a["energy"] == b["energy"]


# ----------------------------------------------------------------------------- load
LOAD_CALLS = 10_000
#: capacity bucket -> the circuit lengths drawn for it (1..300 gates: four buckets)
LOAD_LENGTHS = {64: (1, 64), 128: (65, 128), 256: (129, 256), 512: (257, 300)}
LOAD_TERMS = {
    2: [("II", 0.1), ("ZI", 0.7), ("XX", 0.5), ("IY", -0.3), ("ZZ", 0.2)],
    3: [("III", 0.1), ("ZII", 0.7), ("XXI", 0.5), ("IYZ", -0.3), ("ZZZ", 0.2)],
}
_LOAD_GATES = ("rx", "ry", "rz", "x", "y", "z", "h", "s", "sx", "cx", "cz")
_MIB = 2**20


def _load_ops(rng: np.random.Generator, n: int, length: int) -> list[tuple]:
    """A random circuit with its own gate mix (Dirichlet weights over the 11 gates) and angles."""
    kinds = rng.choice(len(_LOAD_GATES), size=length, p=rng.dirichlet(np.ones(len(_LOAD_GATES))))
    qubits, shifts = rng.integers(n, size=length).tolist(), rng.integers(1, n, size=length).tolist()
    angles = rng.uniform(-np.pi, np.pi, size=length).tolist()
    ops: list[tuple] = []
    for k, q, s, theta in zip(kinds.tolist(), qubits, shifts, angles, strict=True):
        name = _LOAD_GATES[k]
        if k < 3:
            ops.append((name, (q,), theta))
        elif k < 9:
            ops.append((name, (q,)))
        else:
            ops.append((name, (q, (q + s) % n)))
    return ops


def _reference_energy(n: int, ops: list[tuple], p1: float | None) -> float:
    """The same energy from the independent dense density-matrix reference: the "depolarizing"
    preset is a 1-qubit depolarizing channel of strength ``p1`` after every rotation only."""
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import reference_dm as ref

    ref_ops: list[tuple] = []
    for op in ops:
        ref_ops.append(op)
        if p1 is not None and op[0] in ("rx", "ry", "rz"):
            ref_ops.append(("kraus", op[1], ref.kraus_depolarizing_1q(p1)))
    return ref.expectation(ref.run(n, ref_ops), LOAD_TERMS[n])


def _rss_bytes() -> int:
    import gc

    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident set size from /proc (Linux)")
def test_ten_thousand_expectation_calls_compile_a_bounded_number_of_times_in_flat_memory():
    """10,000 ``ck.expectation`` calls (the public per-call API) on random circuits of 1..300
    gates (capacity buckets 64..512), random gate mixes and angles, 2 and 3 qubits, noiseless
    (state-vector engine) and depolarizing with a random strength (PTM engine):

    * at most one trace per (bucket, engine, qubit count) = 4 x 2 x 2 = 16, all of them in the
      first half (every combination comes first); none in the second half;
    * resident memory after all calls within 50 MB of that after a 1,000-call warm-up;
    * the first call of every combination and every 1,000th call equal the independent dense
      density-matrix reference (1e-10), and every energy is finite and within sum |c_k|.

    Measured on the 2-core dev machine: 19 s wall, 16 traces, RSS +0.1 MB after the warm-up."""
    import itertools
    import time

    rng = np.random.default_rng(15)
    hams = {n: PauliSum.from_list(terms) for n, terms in LOAD_TERMS.items()}
    bound = {n: sum(abs(c) for _, c in terms) for n, terms in LOAD_TERMS.items()}
    combos = list(itertools.product(LOAD_TERMS, LOAD_LENGTHS, (False, True)))
    max_traces = len(combos)  # buckets x engines (noise shapes) x qubit counts
    start_traces, start_cache = simulator.TRACE_COUNT["simulate"], simulator._energy._cache_size()
    checked = 0
    t0 = time.perf_counter()
    for i in range(LOAD_CALLS):
        n, bucket, noisy = combos[i] if i < len(combos) else combos[rng.integers(len(combos))]
        ops = _load_ops(rng, n, int(rng.integers(LOAD_LENGTHS[bucket][0], LOAD_LENGTHS[bucket][1] + 1)))
        circuit = Circuit.from_ops(n, ops)
        assert circuit.capacity == bucket
        p1 = float(rng.uniform(0.0, 0.05)) if noisy else None
        energy = ck.expectation(circuit, hams[n], None if p1 is None else f"depolarizing:p1={p1!r}")
        assert np.isfinite(energy) and abs(energy) <= bound[n] + 1e-9, (i, energy)
        if i < len(combos) or i % 1000 == 999:
            assert energy == pytest.approx(_reference_energy(n, ops, p1), abs=1e-10), (i, n, bucket, p1)
            checked += 1
        if i + 1 == 1000:
            rss_warm = _rss_bytes()
        if i + 1 == LOAD_CALLS // 2:
            half_traces, half_cache = simulator.TRACE_COUNT["simulate"], simulator._energy._cache_size()
    seconds = time.perf_counter() - t0
    end_traces, end_cache = simulator.TRACE_COUNT["simulate"], simulator._energy._cache_size()
    rss_end = _rss_bytes()
    numbers = (
        f"{LOAD_CALLS} calls in {seconds:.1f} s; traces {end_traces - start_traces} (half-way "
        f"{half_traces - start_traces}); jit cache +{end_cache - start_cache}; RSS after warm-up "
        f"{rss_warm / _MIB:.1f} MB, at the end {rss_end / _MIB:.1f} MB; {checked} checked against the reference"
    )
    print(numbers)
    assert end_traces - start_traces <= max_traces, numbers
    assert end_traces == half_traces and end_cache == half_cache, numbers
    assert rss_end - rss_warm < 50 * _MIB, numbers
    assert checked == len(combos) + LOAD_CALLS // 1000
