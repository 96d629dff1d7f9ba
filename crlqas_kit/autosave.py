"""Saving a search while it trains: claim the run directory, save it periodically, and turn
Ctrl-C / SIGTERM into "stop after this chunk and save".

Used by ``crlqas search`` and by :func:`crlqas_kit.search.search` when it is given ``out=``
(the notebooks' :class:`~crlqas_kit.viz.widgets.SearchPanel` too):

* :func:`claim_out` refuses to write over another run: a run directory is only written by a
  new search when it is new or empty, by a resumed search when it holds the same run
  (configuration apart from the episode count, and seeds), and otherwise only with
  ``force=True``, which first removes the old run's files (report and figures included).
* :class:`RunLock` makes one process the directory's only writer while it runs (an advisory
  ``flock`` on ``out/.crlqas.lock``, released by the kernel when the process ends, however it
  ends: no stale locks); a second search, resume or ``--force`` on a directory being written is
  a :class:`RunBusy` error naming the writer's process id.
* :class:`Autosave` is a search callback writing the run directory every ``every`` seconds at
  the end of a compiled chunk, so a killed run loses at most that interval plus the chunk.
* :class:`Interrupts` (main thread only) makes SIGINT/SIGTERM ask the search to stop after the
  running chunk; a second signal interrupts at once (``KeyboardInterrupt``).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .run_dir import refuse_symlinks

try:  # POSIX; elsewhere (Windows) there is no lock and two writers are the user's to avoid
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms the kit is tested on
    fcntl = None

#: The files a run directory may hold (``Results.save`` and ``crlqas report`` write them).
RUN_FILES = ("config.json", "episodes.jsonl", "evals.jsonl", "checkpoint.npz", "checkpoint.prev.npz", "report.md")
#: The lock file of a run directory being written (:class:`RunLock`; never removed: see there).
LOCK_FILE = ".crlqas.lock"
#: Configuration fields a resumed run may change (the rest must match the run it continues).
RESUME_OVERRIDES = ("episodes",)


def _normal(config: Any) -> dict[str, Any]:
    from .search_config import canonical_config  # the run's fields as this version writes them

    data = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    data = canonical_config(data)  # also tuples vs lists, as stored in config.json
    return {k: v for k, v in data.items() if k not in RESUME_OVERRIDES}


def _run_files(out: Path) -> list[Path]:
    """The kit's files in ``out`` (what :func:`clear_run` removes); other files are never touched."""
    files = [out / name for name in RUN_FILES] + sorted(out.glob("*.png"))
    files += [out / (name + ".tmp") for name in RUN_FILES]
    best = out / "best"
    if best.is_dir() and not best.is_symlink():
        files += sorted(
            p for p in best.iterdir() if p.name.startswith("seed") and p.suffix in (".json", ".qasm", ".tmp")
        )
    return [f for f in files if f.is_symlink() or f.exists()]


def clear_run(out: str | Path) -> None:
    """Remove the run files of ``out`` (logs, checkpoints, best circuits, report, figures).

    Symlinks are removed as links (their targets are never touched); files the kit does not
    write are left alone, and so is ``out`` itself."""
    out = Path(out)
    for f in _run_files(out):
        f.unlink()
    best = out / "best"
    if best.is_dir() and not best.is_symlink() and not any(best.iterdir()):
        best.rmdir()


class RunBusy(ValueError):
    """A run directory is being written by another process (:class:`RunLock`)."""


class RunLock:
    """An exclusive lock on run directory ``out`` (which must exist) while one process writes it.

    ``acquire()`` takes an advisory ``flock`` on ``out/.crlqas.lock`` without waiting and writes
    this process's id into it; :class:`RunBusy` (a ``ValueError``) if another open lock holds it.
    The kernel drops the lock when the holder's file is closed or its process dies (a killed run,
    a dead Ray worker), so a lock is never stale. The file itself stays: removing it would let a
    process still waiting on the old file and a newcomer on a new one both hold "the" lock. Two
    ``RunLock`` objects of one process exclude each other too (each opens the file anew).
    """

    def __init__(self, out: str | Path) -> None:
        self.path = Path(out) / LOCK_FILE
        self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> RunLock:
        if self._file is not None or fcntl is None:
            return self
        try:  # never through a planted link (shared run directories are data): O_NOFOLLOW
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as err:
            raise ValueError(f"cannot open the lock file {self.path}: {err.strerror}") from None
        f = os.fdopen(fd, "r+")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            f.close()
            raise ValueError(f"{self.path} is not a regular file; refused in run directories")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip() or "unknown"
            f.close()
            raise RunBusy(
                f"{self.path.parent} is being written by another process (pid {pid}); wait for it to "
                "finish or stop it (Ctrl-C saves it) first: two writers would corrupt the run"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def refuse_busy(out: str | Path) -> None:
    """:class:`RunBusy` if another process holds the :class:`RunLock` of ``out`` (tried and let go)."""
    if (Path(out) / LOCK_FILE).is_file():
        RunLock(out).acquire().release()


def run_entries(out: Path) -> list[Path]:
    """What ``out`` holds, apart from its lock file (which does not make a directory non-empty)."""
    return [e for e in out.iterdir() if e.name != LOCK_FILE]


def describe_run(out: Path) -> str:
    """One line about the run in ``out`` (for error messages), from its ``config.json``."""
    try:
        meta = json.loads((out / "config.json").read_text())
        cfg = meta["config"]
        return f"{cfg['problem']}, agent {cfg['agent']}, noise {cfg['noise']}, seeds {meta['seeds']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "unreadable config.json"


def check_out(
    out: str | Path,
    config: Any,
    seeds: Sequence[int],
    *,
    resuming: bool = False,
    force: bool = False,
    check_lock: bool = True,
) -> None:
    """The checks of :func:`claim_out` without touching anything: ``ValueError`` if a search with
    ``config`` and ``seeds`` may not write into ``out`` (:class:`RunBusy` if another process is
    writing it, even with ``force``; ``check_lock=False`` skips that: the caller holds the lock, or
    only reads)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {out} exists and is not a directory")
    refuse_symlinks(out)  # the saves would refuse it (and --force never deletes through a link): say so first
    if check_lock and out.is_dir():
        refuse_busy(out)
    if force or not out.exists() or not run_entries(out):
        return
    if not (out / "config.json").exists():
        raise ValueError(
            f"{out} is not empty and holds no run; choose a new or empty directory "
            "(or pass --force to write the run into it anyway)"
        )
    held = describe_run(out)
    if not resuming:
        raise ValueError(
            f"{out} already holds a run ({held}); continue it with --resume {out} --out {out}, "
            "choose a new directory, or pass --force to replace it"
        )
    try:
        meta = json.loads((out / "config.json").read_text())
        same = _normal(meta["config"]) == _normal(config) and [int(s) for s in meta["seeds"]] == list(seeds)
    except (OSError, ValueError, KeyError, TypeError):
        same = False
    if not same:
        raise ValueError(
            f"{out} holds another run ({held}) than the one being resumed; choose a new directory "
            "or pass --force to replace it"
        )


def claim_out(
    out: str | Path, config: Any, seeds: Sequence[int], *, resuming: bool = False, force: bool = False
) -> tuple[Path, bool, RunLock]:
    """Make ``out`` the directory of a search with ``config`` and ``seeds``; returns
    ``(path, created, lock)`` (``created``: the directory did not exist before; ``lock``: the
    held :class:`RunLock`, for the caller to release when the search has saved for the last time).

    Allowed without ``force``: a new or empty directory, or (``resuming``) one holding the same
    run: equal configuration apart from :data:`RESUME_OVERRIDES`, and the same seeds. Anything
    else is a ``ValueError`` saying what is there and what to do (:func:`check_out`).
    ``force=True`` removes the old run's files first (:func:`clear_run`) and writes beside files
    the kit does not own. Never while another process writes ``out``: :class:`RunBusy`.
    """
    out = Path(out)
    check_out(out, config, seeds, resuming=resuming, force=force)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot create output directory {out}: {err.strerror}") from None
    lock = RunLock(out).acquire()
    try:  # again under the lock: another process may have claimed it since the first check
        check_out(out, config, seeds, resuming=resuming, force=force, check_lock=False)
        if force and not created:
            clear_run(out)
    except BaseException:
        lock.release()
        raise
    return out, created, lock


class Autosave:
    """Search callback: write the run directory to ``out`` every ``every`` seconds (at the end of a
    compiled chunk; ``every=0``: after every chunk). ``last_save`` is the wall time of the last one."""

    def __init__(self, out: str | Path, every: float = 60.0) -> None:
        if isinstance(every, bool) or not isinstance(every, int | float) or not every >= 0:  # also rejects nan
            raise ValueError(f"save interval must be a number of seconds >= 0, got {every!r}")
        self.out, self.every = Path(out), float(every)
        self.last = time.monotonic()
        self.saves = 0

    def __call__(self, event: dict) -> None:
        if event["event"] == "chunk" and time.monotonic() - self.last >= self.every:
            event["results"].save(self.out)
            self.last, self.saves = time.monotonic(), self.saves + 1


class Interrupts:
    """Context manager: SIGINT / SIGTERM set :attr:`signal` (poll it between chunks) instead of
    killing the search; a second signal raises ``KeyboardInterrupt`` at once. Outside the main
    thread (where Python cannot install handlers) it does nothing. Handlers are restored on exit."""

    def __init__(self, announce: bool = True) -> None:
        self.signal: str | None = None
        self.announce = announce
        self._old: dict = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        self._old.clear()

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        if self.announce:
            print(f"\ncrlqas: {self.signal}: stopping after the current chunk and saving", file=sys.stderr, flush=True)


__all__ = [
    "RESUME_OVERRIDES",
    "LOCK_FILE",
    "RUN_FILES",
    "Autosave",
    "Interrupts",
    "RunBusy",
    "RunLock",
    "check_out",
    "claim_out",
    "clear_run",
    "describe_run",
    "refuse_busy",
    "run_entries",
]
