"""crlqas_kit.sweep.shipping: the driver's sources to a sweep's workers, by value.

No Ray here (tests/test_sweep.py runs the real thing): the zip round trip and its digest, the
unpacking rules (a damaged copy is replaced, a member outside the package is refused, a shared
directory is refused), and what a worker's process imports after :func:`use`, in a fresh process
that first imported the kit from another checkout.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import crlqas_kit
from crlqas_kit.sweep import code_digest, shipping

KIT = Path(crlqas_kit.__file__).parent


def test_pack_unpack_round_trip_and_digest(tmp_path):
    payload, digest = shipping.pack(KIT)
    assert digest == code_digest()  # the digest the workers check is the one of the shipped bytes
    where = shipping.unpack(payload, digest, base=tmp_path / "code")
    assert where == tmp_path / "code" / digest
    assert shipping.read_sources(where / "crlqas_kit") == shipping.read_sources(KIT)
    stamp = (where / "crlqas_kit" / "__init__.py").stat().st_mtime_ns
    assert shipping.unpack(payload, digest, base=tmp_path / "code") == where  # reused, not rewritten
    assert (where / "crlqas_kit" / "__init__.py").stat().st_mtime_ns == stamp
    files = shipping.read_sources(KIT)
    files["sweep/task.py"] += b"#"
    assert shipping.source_digest(files) != digest  # a changed source changes the digest


def test_a_damaged_copy_is_replaced(tmp_path):
    payload, digest = shipping.pack(KIT)
    where = shipping.unpack(payload, digest, base=tmp_path / "code")
    (where / "crlqas_kit" / "sweep" / "task.py").unlink()  # e.g. a temp-directory cleaner
    (where / "crlqas_kit" / "search.py").write_text("raise SystemExit('not the driver's code')\n")
    again = shipping.unpack(payload, digest, base=tmp_path / "code")
    assert again == where and shipping.read_sources(where / "crlqas_kit") == shipping.read_sources(KIT)
    assert [p.name for p in (tmp_path / "code").iterdir()] == [digest]  # no leftovers


def test_members_outside_the_package_and_shared_directories_are_refused(tmp_path):
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("crlqas_kit/../../evil.py", b"")
    base = tmp_path / "code"
    with pytest.raises(ValueError, match="unexpected member"):
        shipping.unpack(bad.getvalue(), "0" * 64, base=base)
    assert not (base / ("0" * 64)).exists() and not (base / "evil.py").exists()
    assert not (tmp_path / "evil.py").exists() and list(base.iterdir()) == []
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    payload, digest = shipping.pack(KIT)
    with pytest.raises(PermissionError, match="not this user's private directory"):
        shipping.unpack(payload, digest, base=shared)


WORKER = """
import json, sys
import crlqas_kit.sweep.task  # as a reused worker might have: from the checkout on its path
before = crlqas_kit.sweep.task.__file__
from crlqas_kit.sweep import shipping
payload = open(sys.argv[1], "rb").read()
where = shipping.unpack(payload, sys.argv[2], base=sys.argv[3])
shipping.use(where)
import crlqas_kit.sweep.task
import crlqas_kit.sim.circuit
files = {name: getattr(m, "__file__", None) for name, m in sys.modules.items() if name.split(".")[0] == "crlqas_kit"}
print(json.dumps({"before": before, "files": files, "digest": crlqas_kit.sweep.task.code_digest()}))
"""


def test_use_makes_the_process_import_the_shipped_copy_only(tmp_path):
    """A process that imported the kit from an edited checkout, after ``use``: every crlqas_kit
    module it then holds comes from the shipped copy, and its code digest is the driver's."""
    checkout = tmp_path / "checkout"
    shutil.copytree(KIT, checkout / "crlqas_kit", ignore=shutil.ignore_patterns("__pycache__"))
    edited = checkout / "crlqas_kit" / "sweep" / "task.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    payload, digest = shipping.pack(KIT)
    (tmp_path / "payload.zip").write_bytes(payload)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    argv = [sys.executable, "-c", WORKER, str(tmp_path / "payload.zip"), digest, str(tmp_path / "code")]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=checkout, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["before"].startswith(str(checkout))  # the test's premise: it had the checkout's copy
    shipped = str((tmp_path / "code" / digest).resolve())
    assert out["files"] and all(f is None or f.startswith(shipped) for f in out["files"].values()), out["files"]
    assert "crlqas_kit.sim.circuit" in out["files"]
    assert out["digest"] == digest
