"""`python3 tasks.py lab`: the README's one command that opens JupyterLab locally at 00_index.

The dry run checks the plan on a bare copy (a new venv, the notebooks extra, JupyterLab at the index).
The real run starts the task in the repository as a user would, with server options appended for a
headless test, and fetches the index notebook over HTTP. Under `python3 tasks.py test` (so CI) the
.venv it uses is already installed with the notebooks extra and the run takes seconds; elsewhere the
first run creates .venv (a few minutes).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INDEX = "notebooks/00_index.ipynb"


def test_lab_task_plan(tmp_path):
    for name in ("tasks.py", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    proc = subprocess.run(
        [sys.executable, "tasks.py", "--dry-run", "lab", "--no-browser"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("[tasks] $ ")]
    assert any(" -m venv " in ln for ln in lines), proc.stdout
    assert any(ln.endswith("-m pip install -e '.[notebooks]'") for ln in lines), proc.stdout
    assert lines[-1].endswith(
        f"/.venv/bin/jupyter lab {INDEX} --ServerApp.root_dir={tmp_path.resolve()} --no-browser"
    ), proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def test_lab_task_serves_the_index(tmp_path):
    port = _free_port()
    settings = tmp_path / "jupyter"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "JUPYTER_PATH")}
    env.update(
        JUPYTER_CONFIG_DIR=str(settings / "config"),
        JUPYTER_DATA_DIR=str(settings / "data"),
        JUPYTER_RUNTIME_DIR=str(settings / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(settings / "workspaces"),
    )
    server_opts = [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.allow_root=True",  # CI runs as root
    ]
    log_path = tmp_path / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "tasks.py", "lab", *server_opts],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # a first run installs .venv
        while True:
            if proc.poll() is not None:
                pytest.fail(f"tasks.py lab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if _get(f"{url}/api/status")[0] == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        status, body = _get(f"{url}/api/contents/{INDEX}?content=0")
        assert status == 200 and json.loads(body)["type"] == "notebook", (status, body[:300])
        status, body = _get(f"{url}/lab/tree/{INDEX}")
        assert status == 200 and b"JupyterLab" in body, status
        status, body = _get(f"{url}/api/kernelspecs")
        assert status == 200 and "python3" in json.loads(body)["kernelspecs"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    out = log_path.read_text()
    assert f"jupyter lab {INDEX}" in out, out[-2000:]
