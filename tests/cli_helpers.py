"""Shared helpers for the CLI tests: run ``crlqas`` in-process and check one-line errors; hold a
run directory's lock from another process."""

import os
import subprocess
import sys
from pathlib import Path

from crlqas_kit import cli

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, out, err):
    assert rc == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("crlqas: error: ") and len(lines[0]) > len("crlqas: error: ") + 10
    return lines[0]


HOLD = """
import sys
from crlqas_kit.autosave import RunLock
lock = RunLock(sys.argv[1]).acquire()  # kept: the lock lives as long as its object
print("locked", flush=True)
sys.stdin.read()  # holds the lock until killed or stdin closes
"""


def holder(path: Path) -> subprocess.Popen:
    """Another process holding ``path``'s lock (returns once it holds it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc
