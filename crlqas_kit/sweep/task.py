"""One run of a sweep, as a Ray task in its own worker process: resume or start, record each attempt."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._checks import write_atomic
from .grid import GRID_FILE, TASKS_DIR, RunSpec, SweepError


def _checkpoint_progress(path: Path) -> dict[str, Any] | None:
    """What the newest checkpoint of a run says (config, seeds, episodes, seconds, evaluations,
    accurate), or None when there is no readable one. The checkpoint is written last in a save,
    so the logs and config.json it belongs to are complete."""
    from ..checkpoint import load_meta
    from ..results import checkpoint_files

    for file in checkpoint_files(path):
        try:
            meta = load_meta(file)
            best = meta["best"]
            seeds = [int(s) for s in meta["seeds"]]
            return {
                "config": meta["config"],
                "seeds": seeds,
                "episodes": int(meta["episodes_lines"]),
                "seconds": float(meta["seconds"]),
                "evaluations": sum(int(v) for v in meta["evaluations"].values()),
                "accurate": any(bool(e and e[0].get("chemically_accurate")) for e in best.values()),
            }
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            continue
    return None


def run_state(path: str | Path, run: RunSpec) -> str:
    """``"new"`` (nothing saved yet), ``"partial"`` (saved, unfinished) or ``"finished"``.

    Finished: the newest checkpoint holds the run's episodes, or its stopping rule was met (the
    checkpoint's training seconds, accurate episodes, evaluations). A ``SweepError`` when the
    directory holds another run or files the kit does not write."""
    from ..autosave import RUN_FILES, check_out, describe_run, run_entries

    path = Path(path)
    if not path.exists():
        return "new"
    if not path.is_dir():
        raise SweepError(f"{path} is not a directory; move it away or choose a new --out")
    if not (path / "config.json").exists():
        # a first save cut short (e.g. only best/ made): this run's own files, else refused
        kit = set(RUN_FILES) | {f + ".tmp" for f in RUN_FILES} | {"best"}
        entries = run_entries(path)
        foreign = sorted(e.name for e in entries if e.name not in kit and not e.name.endswith(".png"))
        if foreign:
            raise SweepError(
                f"{path} holds files of no run ({', '.join(foreign[:3])}); move them away or choose a new --out"
            )
        return "partial" if entries else "new"
    try:
        check_out(path, run.config, [run.seed], resuming=True, check_lock=False)  # reads only; the search locks
    except ValueError:
        raise SweepError(
            f"{path} holds another run ({describe_run(path)}) than this sweep's {run.name}; "
            "move it away or choose a new --out"
        ) from None
    progress = _checkpoint_progress(path)
    if progress is None:
        return "partial"
    done = progress["episodes"] >= run.config.episodes
    if done or run.reached(progress["seconds"], progress["accurate"], progress["evaluations"]):
        return "finished"
    return "partial"


# ------------------------------------------------------------------------- the task (a worker)
class _RunRule:
    """The run's stopping rule as ``should_stop`` + callback, counted over resumes (the training
    seconds of the run, not of this attempt), and the attempt's first-episode time."""

    def __init__(self, run: RunSpec, results: Any, on_first_episode: Callable[[], None]) -> None:
        self.run = run
        self.seconds = 0.0 if results is None else float(results.seconds)
        self.accurate = results is not None and results.first_chemically_accurate(run.seed) is not None
        self.evaluations = 0 if results is None else int(results.evaluations.get(run.seed, 0))
        self.on_first_episode = on_first_episode

    def __call__(self, event: dict[str, Any]) -> None:
        if event["event"] == "episode":
            if self.on_first_episode is not None:
                self.on_first_episode()
                self.on_first_episode = None
            self.accurate |= bool(event["chemically_accurate"])
            self.evaluations = int(event.get("evaluations", self.evaluations))
        elif event["event"] == "chunk":
            self.seconds = float(event["seconds"])

    def should_stop(self) -> bool:
        return self.run.reached(self.seconds, self.accurate, self.evaluations)


def _record_attempt(out: Path, name: str, **fields: Any) -> Callable[..., None]:
    """Append this attempt to ``sweep_tasks/<name>.json``; returns ``update(**fields)`` for it."""
    file = out / TASKS_DIR / f"{name}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        record = json.loads(file.read_text())
        attempts = record["attempts"] if isinstance(record.get("attempts"), list) else []
    except (OSError, ValueError, AttributeError):
        attempts = []
    attempt = {"attempt": len(attempts) + 1, **fields}
    attempts.append(attempt)

    def update(**more: Any) -> None:
        attempt.update(more)
        write_atomic(file, json.dumps({"run": name, "attempts": attempts}, indent=1) + "\n")

    update()
    return update


def run_task(
    spec: Mapping[str, Any], out: str, save_every: float, code: str | None = None, pin: int = 0
) -> dict[str, Any]:
    """Make one run of a sweep (in a Ray worker, or anywhere): resume it from its checkpoint if it
    has one, skip it if it is finished, else start it; returns what happened (``status``:
    ``finished``, ``skipped`` or ``interrupted``). ``code``: the driver's :func:`code_digest`,
    checked against this process's kit. ``pin``: pin this process to that many free cores
    (:func:`pin_process`)."""
    cpus = pin_process(pin) if pin else None  # before JAX starts in this process
    run = RunSpec.from_dict(spec)
    root = Path(out)
    path = root / run.name
    if code is not None and code != code_digest():
        from .. import __file__ as kit

        raise SweepError(
            f"the worker on {socket.gethostname()} runs another crlqas_kit ({Path(kit).parent}) than the driver's "
            "(the shipped copy changed on this node's disk); run the sweep again"
        )
    if not (root / GRID_FILE).is_file():  # the driver wrote it before submitting
        raise SweepError(
            f"{root / GRID_FILE} is not visible on {socket.gethostname()}: --out must be storage every node "
            "sees at the same path"
        )
    update = _record_attempt(root, run.name, pid=os.getpid(), node=socket.gethostname(), started=time.time(), cpus=cpus)
    try:
        return _make_run(run, path, save_every, update)
    except BaseException as err:  # said in the task record too; a killed worker says nothing
        update(finished=time.time(), status="interrupted" if isinstance(err, KeyboardInterrupt) else "failed")
        raise


def _make_run(run: RunSpec, path: Path, save_every: float, update: Callable[..., None]) -> dict[str, Any]:
    import warnings

    from ..autosave import run_entries
    from ..results import ResumeWarning, checkpoint_files
    from ..search import load_checkpoint, search

    state = run_state(path, run)
    if state == "finished":
        update(finished=time.time(), status="skipped")
        return {"name": run.name, "status": "skipped", "notes": []}
    resume, notes = None, []
    if state == "partial" and checkpoint_files(path):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ResumeWarning)
                resume = load_checkpoint(path)
            notes = [str(w.message) for w in caught if issubclass(w.category, ResumeWarning)]
            resume[1].config = run.config
        except ValueError as err:  # saved files but no usable checkpoint: the run starts again
            notes = [f"no usable checkpoint ({err}); started again"]
    # saved files but no checkpoint to resume from (a first save cut short): this run's own files
    # (run_state checked), replaced by a fresh start
    force = resume is None and path.exists() and bool(run_entries(path))
    episodes0 = 0 if resume is None else len(resume[1].episodes)
    update(resumed_from=episodes0, notes=notes)
    rule = _RunRule(run, None if resume is None else resume[1], lambda: update(first_episode=time.time()))
    interrupted: list[str] = []
    results = search(
        run.config,
        seeds=[run.seed],
        callbacks=[rule, lambda e: e["event"] == "interrupted" and interrupted.append(e["signal"])],
        should_stop=rule.should_stop,
        resume=resume,
        out=path,
        save_every=save_every,
        force=force,
    )
    status = "interrupted" if interrupted else "finished"
    update(finished=time.time(), status=status, episodes=len(results.episodes))
    return {"name": run.name, "status": status, "resumed_from": episodes0, "notes": notes}


#: The cores this process was pinned to by :func:`pin_process` (and the lock file holding them).
_PINNED: dict[str, Any] = {}


def pin_process(count: int) -> list[int] | None:
    """Pin this process (all its threads) to ``count`` cores no other pinned sweep worker of this
    user on this node holds, once per process; returns the cores, or None when it cannot.

    XLA then sizes its CPU thread pool to those cores, as under ``taskset -c N crlqas search ...``:
    for nodes where many runs' thread pools would compete for the same cores (on a 2-core machine
    it measured 5 % slower than unpinned: ``benchmarks/sweep.py``, docs/benchmarks.md, "Sweeps").
    Only before JAX has started in the process (the first task of a worker): pinning a running
    thread pool onto one core makes its threads wait on each other.
    A core is held by an exclusive lock on ``$TMPDIR/crlqas-sweep-<uid>/cpu<N>.lock``, released
    when the process ends (also when it is killed)."""
    import fcntl
    import tempfile

    if "cores" in _PINNED:
        return _PINNED["cores"]
    _PINNED["cores"] = None
    if "jax" in sys.modules and _jax_started():
        return None
    try:
        usable = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    locks = Path(tempfile.gettempdir()) / f"crlqas-sweep-{os.getuid()}"
    locks.mkdir(exist_ok=True)
    for start in range(0, len(usable) - count + 1, count):
        cores = usable[start : start + count]
        fd = os.open(locks / f"cpu{cores[0]}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        for tid in os.listdir("/proc/self/task"):  # every thread (sched_setaffinity sets one)
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(tid), cores)
        _PINNED.update(cores=cores, lock=fd)
        return cores
    return None


def _jax_started() -> bool:
    """Whether this process has created JAX's backends (and their thread pools) already."""
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", None))
    except ImportError:  # cannot tell: do not pin
        return True


def code_digest() -> str:
    """SHA-256 of this process's ``crlqas_kit`` sources (``*.py``; :func:`.shipping.source_digest`),
    to check that a worker runs the code the driver shipped."""
    from .shipping import read_sources, source_digest

    return source_digest(read_sources(Path(__file__).resolve().parents[1]))


# ---------------------------------------------------------------------------- the directory
