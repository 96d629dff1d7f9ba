"""The run directory's single writer (:class:`crlqas_kit.autosave.RunLock`): a second writer is
refused while the first runs, in this process and from another one, and the lock dies with its
process (never stale). The CLI side (one-line errors, files untouched) is in test_cli_search.py."""

from __future__ import annotations

import os
import signal

import pytest
from cli_helpers import holder

from crlqas_kit.autosave import LOCK_FILE, RunBusy, RunLock, check_out, claim_out, refuse_busy
from crlqas_kit.search import search
from crlqas_kit.search_config import preset

CFG = preset("fast", "H2-2q", 2, episodes=30, eval_every=10)  # test_search.py's: one compiled chunk


def test_two_locks_exclude_each_other_and_name_the_holder(tmp_path):
    first = RunLock(tmp_path).acquire()
    assert first.held and (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    with pytest.raises(RunBusy, match=rf"{tmp_path} is being written by another process \(pid {os.getpid()}\)"):
        RunLock(tmp_path).acquire()
    with pytest.raises(ValueError, match="two writers would corrupt the run"):  # a ValueError, as bad input is
        refuse_busy(tmp_path)
    first.release()
    assert not first.held
    with RunLock(tmp_path) as second:  # released: free again
        assert second.held
    refuse_busy(tmp_path)


def test_another_process_holds_it_until_it_dies(tmp_path):
    """A real second process: its lock refuses this one's claim (even with force, which would
    delete the run's files), and once it is killed (SIGKILL: no clean-up runs) the lock is free."""
    proc = holder(tmp_path)
    try:
        for force in (False, True):
            with pytest.raises(RunBusy, match=rf"pid {proc.pid}\)"):
                check_out(tmp_path, CFG, [0], force=force)
            with pytest.raises(RunBusy, match=rf"pid {proc.pid}\)"):
                claim_out(tmp_path, CFG, [0], force=force)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    path, created, lock = claim_out(tmp_path, CFG, [0])  # the dead holder left no stale lock
    assert path == tmp_path and not created and lock.held
    lock.release()


def test_a_search_holds_the_lock_while_it_runs_and_lets_go_after(tmp_path):
    """``search(out=)`` writes under the lock (a second claim from inside the run is refused) and
    releases it after its last save; the lock file alone does not make the directory a run's."""
    out = tmp_path / "run"
    seen = []

    def probe(event):
        if event["event"] == "chunk" and not seen:
            with pytest.raises(RunBusy):
                claim_out(out, CFG, [0], resuming=True)
            seen.append(event["episodes"])

    results = search(CFG, 0, out=out, callbacks=[probe])
    assert seen and (out / "config.json").is_file() and not results.stopped
    with RunLock(out):
        pass
    only_lock = tmp_path / "only-lock"
    only_lock.mkdir()
    RunLock(only_lock).acquire().release()
    check_out(only_lock, CFG, [0])  # empty apart from the lock file: a new run may start there


def test_a_failed_start_leaves_no_directory_and_no_lock(tmp_path):
    out = tmp_path / "new"

    def fail(event):
        if event["event"] == "chunk":
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        search(CFG, 0, out=out, callbacks=[fail])  # before the first periodic save
    assert not out.exists()


def test_a_planted_lock_file_is_never_written_through(tmp_path):
    """A shared run directory is data: a lock "file" that is a link or a directory is refused,
    and the link's target is untouched."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / LOCK_FILE).symlink_to(target)
    with pytest.raises(ValueError, match="cannot open the lock file"):
        RunLock(linked).acquire()
    with pytest.raises(ValueError, match="symbolic link"):
        claim_out(linked, CFG, [0])
    assert target.read_text() == "keep me"
    odd = tmp_path / "odd"
    (odd / LOCK_FILE).mkdir(parents=True)
    with pytest.raises(ValueError, match="lock file"):
        RunLock(odd).acquire()
