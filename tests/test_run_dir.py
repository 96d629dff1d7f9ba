"""Untrusted run directories (``crlqas_kit.run_dir``): schemas, size limits, symbolic links.

Valid records come from real runs (a fast DDQN search and a random search on H2-2q, written
once per module); every adversarial case edits a copy of them. ``crlqas report`` on hostile
directories runs in a subprocess with a timeout, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run

from crlqas_kit import run_dir
from crlqas_kit._checks import write_atomic
from crlqas_kit.results import load_run
from crlqas_kit.run_dir import BEST, CONFIG, EPISODE, EVAL, MAX_GATES, check_best, check_record, refuse_symlinks
from crlqas_kit.search import search
from crlqas_kit.search_config import preset

SHIPPED = Path(run_dir.__file__).parent / "data" / "runs"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """``{"ddqn": DIR, "random-search": DIR}``: one seed, four episodes each, saved once."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for agent in ("ddqn", "random-search"):
        cfg = preset("fast", "H2-2q", 2, episodes=4, eval_every=2, agent=agent)
        out[agent] = search(cfg, seeds=[0]).save(base / agent)
    return out


@pytest.fixture
def ddqn(runs, tmp_path) -> Path:
    """A fresh copy of the DDQN run, to break."""
    return Path(shutil.copytree(runs["ddqn"], tmp_path / "run"))


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_first_row(path: Path, change) -> None:
    rows = lines(path)
    change(rows[0])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


FILES = {"config": "config.json", "episode": "episodes.jsonl", "eval": "evals.jsonl", "best": "best/seed0_0.json"}
SCHEMAS = {"config": CONFIG, "episode": EPISODE, "eval": EVAL, "best": BEST}


def parent_of(record: dict, field: str) -> tuple[dict, str]:
    """The object holding ``field`` (``"circuit.ops"``: ``record["circuit"]``) and its last name."""
    *parents, leaf = field.split(".")
    for p in parents:
        record = record[p]
    return record, leaf


def edit(run: Path, kind: str, change) -> str:
    """Apply ``change`` to a record of ``kind`` in ``run``; the file name the error must name."""
    path = run / FILES[kind]
    (edit_first_row if path.suffix == ".jsonl" else edit_json)(path, change)
    return path.name + (": line 1" if path.suffix == ".jsonl" else "")


# ----------------------------------------------------------------------------- valid runs
@pytest.mark.parametrize("agent", ["ddqn", "random-search"])
def test_every_record_the_kit_writes_is_valid(runs, agent):
    out = runs[agent]
    check_record(json.loads((out / "config.json").read_text()), CONFIG, "config.json")
    episodes = lines(out / "episodes.jsonl")
    assert len(episodes) >= 4  # a chunk may finish more episodes than asked for
    for row in episodes:
        check_record(row, EPISODE, "episodes.jsonl")
    evals = lines(out / "evals.jsonl")
    assert bool(evals) == (agent == "ddqn")  # random search makes no evaluation episodes
    for row in evals:
        check_record(row, EVAL, "evals.jsonl")
    best = sorted((out / "best").glob("seed*.json"))
    assert best
    for f in best:
        check_best(json.loads(f.read_text()), f.name, n_qubits=2)
    if agent == "random-search":  # NaN return, threshold and loss are legitimate
        assert math.isnan(episodes[0]["return"]) and math.isnan(episodes[0]["threshold"])
    res = load_run(out)
    assert res.seeds == [0] and json.dumps(res.episodes) == json.dumps(episodes) and res.best[0]


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()))
def test_shipped_runs_load(name):
    res = load_run(SHIPPED / name)
    assert res.episodes and res.best
    assert res.evals or res.config.agent != "ddqn"  # greedy evaluations are the DDQN's only


def test_shipped_runs_of_an_older_kit_still_load():
    """Some shipped runs were written before episodes had "evaluations" and "agent" (the
    compatibility case stays covered as long as one of them is shipped)."""
    older = [p.name for p in SHIPPED.iterdir() if p.is_dir() and "evaluations" not in load_run(p).episodes[0]]
    assert older, "no shipped run of an older kit left: keep one, or drop this test"


def test_optional_fields_may_be_missing(ddqn):
    edit(ddqn, "config", lambda d: (d.pop("evaluations"), d.pop("summary"), d["problem"].clear()))
    for field in ("eps", "loss", "evaluations", "agent"):
        edit(ddqn, "episode", lambda r, field=field: r.pop(field))
    res = load_run(ddqn)
    assert res.evaluations == {} and res.problem == {}


# ----------------------------------------------------------------------------- missing fields
MISSING = [(kind, name) for kind, schema in SCHEMAS.items() for name, (_, required) in schema.items() if required] + [
    ("best", "circuit.n_qubits"),
    ("best", "circuit.ops"),
]


@pytest.mark.parametrize(("kind", "field"), MISSING)
def test_a_missing_field_is_named(ddqn, kind, field):
    where = edit(ddqn, kind, lambda d: dict.pop(*parent_of(d, field)))
    with pytest.raises(ValueError, match=f"{where}: missing field '{field}'") as err:
        load_run(ddqn)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- wrong values
WRONG = [
    ("config", "config", []),
    ("config", "seeds", True),
    ("config", "seeds", []),
    ("config", "seeds", [0, 0]),
    ("config", "seeds", [True]),
    ("config", "seeds", [2**32]),
    ("config", "seeds", "0"),
    ("config", "problem", [1, 2]),
    ("config", "problem.n_qubits", 1e9),
    ("config", "problem.n_qubits", 13),
    ("config", "problem.e0", "-1.1"),
    ("config", "seconds", "12"),
    ("config", "seconds", 10**30),
    ("config", "stopped", 1),
    ("config", "versions", ["jax"]),
    ("config", "versions", {"jax": 1}),
    ("config", "evaluations", {"x": 1}),
    ("config", "evaluations", {"0": True}),
    ("config", "evaluations", {"0": -1}),
    ("config", "summary", {}),
    ("episode", "seed", True),
    ("episode", "seed", -1),
    ("episode", "episode", 0),
    ("episode", "episode", 1.0),
    ("episode", "error", "0.1"),
    ("episode", "energy", None),
    ("episode", "return", [1.0]),
    ("episode", "success", 1),
    ("episode", "chemically_accurate", "yes"),
    ("episode", "gates", -1),
    ("episode", "gates", True),
    ("episode", "gates", MAX_GATES + 1),
    ("episode", "cnots", 1.5),
    ("episode", "depth", {}),
    ("episode", "eps", "x"),
    ("episode", "evaluations", 2.5),
    ("episode", "agent", 3),
    ("eval", "seed", 2.0),
    ("eval", "after_episodes", -1),
    ("eval", "return", "x"),
    ("eval", "chemically_accurate", 0),
    ("eval", "gates", None),
    ("best", "episode", True),
    ("best", "error", "x"),
    ("best", "gates", -1),
    ("best", "chemically_accurate", 1),
    ("best", "circuit", []),
    ("best", "circuit.ops", {}),
    ("best", "circuit.ops", "rx"),
]


@pytest.mark.parametrize(("kind", "field", "value"), WRONG)
def test_a_wrong_value_is_named_with_what_is_allowed(ddqn, kind, field, value):
    where = edit(ddqn, kind, lambda d: dict.__setitem__(*parent_of(d, field), value))
    with pytest.raises(ValueError, match=f"{where}: field '{field}' is .*; allowed: ") as err:
        load_run(ddqn)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- best circuits
def write_best(run: Path, n_qubits: str) -> None:
    """``best/seed0_0.json`` with ``n_qubits`` as literal JSON text (``1e9`` stays ``1e9``)."""
    path = run / "best" / "seed0_0.json"
    data = json.loads(path.read_text())
    data["circuit"]["n_qubits"] = "@N@"
    path.write_text(json.dumps(data).replace('"@N@"', n_qubits))


BAD_QUBITS = ["1e9", str(10**9), "0", "-1", "13", "true", "2.0", "null"]


@pytest.mark.parametrize("n_qubits", BAD_QUBITS)
def test_best_circuit_qubits_out_of_range(ddqn, n_qubits):
    write_best(ddqn, n_qubits)
    with pytest.raises(
        ValueError, match=r"seed0_0.json: field 'circuit.n_qubits' is .*allowed: an integer in \[1, 12\]"
    ):
        load_run(ddqn)


def test_best_circuit_must_have_the_problems_qubits(ddqn):
    write_best(ddqn, "3")
    with pytest.raises(
        ValueError, match=r"seed0_0.json: field 'circuit.n_qubits' is 3; allowed: 2 \(the run's problem\)"
    ):
        load_run(ddqn)


REPORT = """
import contextlib, io, json, sys
from crlqas_kit import cli
out = []
for d in sys.argv[1:]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["report", d])
    out.append([rc, err.getvalue()])
print(json.dumps(out))
"""


def report_in_subprocess(dirs: list[Path]) -> list[tuple[int, str]]:
    """``crlqas report DIR`` for each of ``dirs`` in one fresh process (a hang fails after 300 s)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", REPORT, *map(str, dirs)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return [tuple(x) for x in json.loads(proc.stdout.splitlines()[-1])]


def test_report_on_hostile_directories_fails_in_one_line_without_hanging(runs, tmp_path):
    dirs = []
    for i, n in enumerate(BAD_QUBITS[:5]):  # 1e9, 10**9, 0, -1, 13
        dirs.append(Path(shutil.copytree(runs["ddqn"], tmp_path / f"qubits{i}")))
        write_best(dirs[-1], n)
    for name in ("report.md", "error.png", "episodes.jsonl"):  # a FIFO would block a reader or writer
        dirs.append(Path(shutil.copytree(runs["ddqn"], tmp_path / f"fifo-{name}")))
        (dirs[-1] / name).unlink(missing_ok=True)
        os.mkfifo(dirs[-1] / name)
    results = report_in_subprocess(dirs)
    for d, (rc, err) in zip(dirs, results, strict=True):
        line = assert_one_line_error(rc, "", err)
        assert str(d) in line
        assert ("circuit.n_qubits" in line) if d.name.startswith("qubits") else ("not a regular file" in line)
        assert not (d / "learning_curve.png").exists()  # refused before anything was written


@pytest.mark.parametrize(
    "op",
    [
        ["foo", [0], None],
        ["id", [0], None],  # Circuit.from_ops refuses the identity
        ["RX", [0], 0.1],  # the kit writes lower case
        ["cx", [0], None],  # arity
        ["rx", [0, 1], 0.1],
        ["rx", [2], 0.1],  # out of range for 2 qubits
        ["rx", [-1], 0.1],
        ["rx", [True], 0.1],
        ["rx", 0, 0.1],
        ["cx", [1, 1], None],
        ["x", [0], 0.5],  # a fixed gate takes no angle
        ["rx", [0], float("nan")],
        ["rx", [0], "0.1"],
        ["rx", [0]],
        ["rx", [0], 0.1, 0],
        "rx",
    ],
)
def test_bad_gates_are_named(ddqn, op):
    edit(ddqn, "best", lambda d: d["circuit"]["ops"].insert(0, op))
    with pytest.raises(
        ValueError, match=r"seed0_0.json: field 'circuit.ops\[0\]' is .*allowed: \[gate, wires, angle\]"
    ):
        load_run(ddqn)


def test_too_many_gates(ddqn):
    edit(ddqn, "best", lambda d: d["circuit"].update(ops=[["x", [0], None]] * (MAX_GATES + 1)))
    with pytest.raises(ValueError, match=f"field 'circuit.ops' is .*allowed: a list of at most {MAX_GATES} gates"):
        load_run(ddqn)


def test_best_file_names(ddqn):
    shutil.copy(ddqn / "best" / "seed0_0.json", ddqn / "best" / "seedX_0.json")
    with pytest.raises(ValueError, match="seedX_0.json: malformed best-circuit file name"):
        load_run(ddqn)
    (ddqn / "best" / "seedX_0.json").rename(ddqn / "best" / f"seed{2**32}_0.json")
    with pytest.raises(ValueError, match="malformed best-circuit file name"):
        load_run(ddqn)


# ----------------------------------------------------------------------------- sizes and parsing
@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("config.json", run_dir.MAX_JSON_BYTES),
        ("best/seed0_0.json", run_dir.MAX_JSON_BYTES),
        ("episodes.jsonl", run_dir.MAX_LOG_BYTES),
        ("evals.jsonl", run_dir.MAX_LOG_BYTES),
    ],
)
def test_oversized_files_are_refused_before_reading(ddqn, name, limit):
    os.truncate(ddqn / name, limit + 1)  # sparse: no gigabytes written
    with pytest.raises(ValueError, match=f"{Path(name).name}: {limit + 1} bytes; the limit for this file is {limit}"):
        load_run(ddqn)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("config.json", "[" * 100_000, "config.json: malformed run config"),
        ("best/seed0_0.json", "{" * 100_000, "seed0_0.json: malformed best-circuit file"),
        ("episodes.jsonl", "[" * 500_000 + "\n", "episodes.jsonl: line 1 is not valid JSON"),
        ("episodes.jsonl", '{"seed": ' + "9" * 5000 + "}\n", "episodes.jsonl: line 1 is not valid JSON"),
        ("evals.jsonl", " " * (run_dir.MAX_LINE_BYTES + 1), "evals.jsonl: line 1 is longer than"),
        ("config.json", "[]", "config.json: the record is a list"),
    ],
)
def test_hostile_json_is_a_one_line_value_error(ddqn, name, text, match):
    (ddqn / name).write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        load_run(ddqn)
    assert "\n" not in str(err.value)


def test_non_utf8_log(ddqn):
    n = len(lines(ddqn / "episodes.jsonl"))
    with open(ddqn / "episodes.jsonl", "ab") as f:
        f.write(b'{"seed": "\xff"}\n')
    with pytest.raises(ValueError, match=f"episodes.jsonl: line {n + 1} is not UTF-8"):
        load_run(ddqn)


# ----------------------------------------------------------------------------- symbolic links
def test_report_refuses_a_planted_report_link(ddqn, tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (ddqn / "report.md").symlink_to("../outside.txt")
    line = assert_one_line_error(*run(capsys, "report", ddqn))
    assert "report.md" in line and "symlinks are refused in run directories" in line
    assert outside.read_text() == "precious\n"
    assert not (ddqn / "learning_curve.png").exists()


def test_save_refuses_a_planted_best_link(ddqn, tmp_path):
    res = load_run(ddqn)
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    (ddqn / "best" / "seed0_0.json").unlink()
    (ddqn / "best" / "seed0_0.json").symlink_to(outside)
    with pytest.raises(ValueError, match="seed0_0.json is a symbolic link; symlinks are refused"):
        res.save(ddqn)
    assert outside.read_text() == "{}"


@pytest.mark.parametrize("where", ["episodes.jsonl", "best", "config.json.tmp", "extra/deeper/link"])
def test_load_run_refuses_links_anywhere(ddqn, tmp_path, where):
    target = tmp_path / "elsewhere"
    if (ddqn / where).exists():
        shutil.move(ddqn / where, target)
    else:
        target.write_text("")
    (ddqn / where).parent.mkdir(parents=True, exist_ok=True)
    (ddqn / where).symlink_to(target)
    with pytest.raises(ValueError, match=f"{where} is a symbolic link"):
        load_run(ddqn)


def test_the_run_directory_itself_may_be_a_link(ddqn, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(ddqn, target_is_directory=True)
    res = load_run(link)
    assert len(res.episodes) == len(lines(ddqn / "episodes.jsonl")) >= 4
    res.save(link)
    assert (ddqn / "config.json").is_file() and link.is_symlink()


def test_search_and_resume_refuse_linked_directories(ddqn, tmp_path, capsys):
    (ddqn / "notes.txt").symlink_to(tmp_path)
    line = assert_one_line_error(*run(capsys, "search", "--resume", ddqn, "--out", tmp_path / "new"))
    assert "notes.txt is a symbolic link" in line
    # --out with a planted link: refused before any training
    line = assert_one_line_error(*run(capsys, "search", "--problem", "H2-2q", "--out", ddqn, "--quiet"))
    assert "notes.txt is a symbolic link" in line


def test_the_scan_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(run_dir, "MAX_ENTRIES", 10)
    for i in range(11):
        (tmp_path / f"f{i}").write_text("")
    with pytest.raises(ValueError, match="more than 10 entries"):
        refuse_symlinks(tmp_path)
    refuse_symlinks(tmp_path / "missing")  # nothing to refuse


def test_write_atomic_replaces_links_instead_of_following_them(tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("precious")
    (tmp_path / "a").symlink_to(outside)
    (tmp_path / "b.tmp").symlink_to(outside)
    write_atomic(tmp_path / "a", b"new")
    write_atomic(tmp_path / "b", b"new")
    assert outside.read_text() == "precious"
    assert (
        not (tmp_path / "a").is_symlink() and (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == b"new"
    )


def test_report_on_real_runs_still_works(runs, tmp_path, capsys):
    ddqn = Path(shutil.copytree(runs["ddqn"], tmp_path / "ddqn"))
    edit(ddqn, "config", lambda d: d["problem"].clear())  # an older or hand-made run: no E0 to print
    rc, out, err = run(capsys, "report", ddqn, "--compare", runs["random-search"])
    assert rc == 0, err
    text = (ddqn / "report.md").read_text()
    assert "E0 = nan Ha, ? qubits" in text and "random-search" in text
    for name in ("learning_curve.png", "error.png", "threshold.png", "best_circuit.png", "comparison.png"):
        assert (ddqn / name).read_bytes()[:4] == b"\x89PNG" and not (ddqn / name).is_symlink()
    assert not list(ddqn.glob("*.tmp"))
    assert not (runs["random-search"] / "report.md").exists()  # the compared run is only read
