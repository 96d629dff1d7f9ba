"""Run code in a new interpreter, for settings JAX and XLA read once per process (CPU devices,
compiler memory): ``fresh(code, drop=(...), **env)``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh(code: str, drop: tuple[str, ...] = (), **env: str) -> tuple[object, str]:
    """Run ``code`` (which prints one JSON line last) without the variables ``drop`` and with
    ``env``; (the JSON, stderr)."""
    environ = {k: v for k, v in os.environ.items() if k not in drop}
    environ.update(env, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", CRLQAS_NO_COMPILE_CACHE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr
