"""Shipping the driver's ``crlqas_kit`` to a sweep's workers by value.

Why not Ray's ``py_modules``: a worker's ``sys.path`` starts with the driver's (its working
directory, a script's folder, an editable install), so a worker imported the *live* checkout
before the shipped copy, and a worker started after an edit ran other code than the driver
(measured: the third seed of a LiH-6q sweep, 2026-12-06). Here the driver reads its sources once
(:func:`pack`: a zip and the SHA-256 of its ``*.py`` files, the same bytes) and puts them in Ray's
object store; each task runs :func:`run_shipped`, which this module's functions ship *by value*
(cloudpickle), so a worker runs it before importing any ``crlqas_kit``: it unpacks the zip once per
machine into ``<tmp>/crlqas-sweep-code-<uid>/<sha256>/`` (this user's, mode 0700; a copy that
does not hash to the digest is replaced), puts that first on ``sys.path``, forgets any
``crlqas_kit`` modules imported from elsewhere, and only then imports the kit and runs the task.
A worker therefore runs exactly what the driver read, whatever happens to the checkout meanwhile,
on this machine or any node of a cluster.

Standard library only, on purpose: a module pickled by value takes its imports along by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACKAGE = "crlqas_kit"


def read_sources(root: Path) -> dict[str, bytes]:
    """The package's files under ``root`` (its directory) as ``{relative posix path: bytes}``,
    without byte-code caches."""
    root = Path(root)
    files = {}
    for file in sorted(root.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts and file.suffix not in (".pyc", ".pyo"):
            files[file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def source_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the ``*.py`` files (sorted by path; path, NUL, bytes, NUL each)."""
    h = hashlib.sha256()
    for name in sorted(files):
        if name.endswith(".py"):
            h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()


def pack(root: Path) -> tuple[bytes, str]:
    """``(zip bytes, digest)`` of the package directory ``root``, from one read of its files."""
    files = read_sources(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{PACKAGE}/{name}", data)
    return buffer.getvalue(), source_digest(files)


def _holds(target: Path, digest: str) -> bool:
    """``target`` holds a package whose sources hash to ``digest`` (not, e.g., half cleaned away)."""
    package = target / PACKAGE
    return (package / "__init__.py").is_file() and source_digest(read_sources(package)) == digest


def _private_base(base: Path) -> Path:
    """``base``, made if missing, refused unless this user owns it and no one else may write there."""
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = base.stat()
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        raise PermissionError(f"{base} is not this user's private directory: cannot unpack the sweep's code there")
    return base


def unpack(payload: bytes, digest: str, base: Path | None = None) -> Path:
    """The directory holding the shipped ``crlqas_kit`` of ``digest`` on this machine, unpacked
    from ``payload`` unless a copy that hashes to ``digest`` is there (into a fresh directory, then
    renamed into place: several workers may unpack at once, and one of them wins). ``base``
    defaults to this user's ``<tmp>/crlqas-sweep-code-<uid>``."""
    user = os.getuid() if hasattr(os, "getuid") else "user"
    base = _private_base(Path(base or Path(tempfile.gettempdir()) / f"crlqas-sweep-code-{user}"))
    target = base / digest
    if _holds(target, digest):
        return target
    if target.exists():  # damaged (e.g. a temp cleaner removed files): moved away, then replaced
        stale = Path(tempfile.mkdtemp(prefix=f".stale-{digest[:12]}-", dir=base))
        with contextlib.suppress(OSError):  # another worker moved or replaced it first
            os.rename(target, stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=base))
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for name in archive.namelist():  # our own archive, but never write outside ``fresh``
                if name.startswith("/") or ".." in Path(name).parts or not name.startswith(f"{PACKAGE}/"):
                    raise ValueError(f"unexpected member {name!r} in the shipped crlqas_kit")
            archive.extractall(fresh)
        os.rename(fresh, target)
    except OSError:
        if not _holds(target, digest):  # not another worker's win: a real error
            raise
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return target


def use(where: Path) -> None:
    """Make ``import crlqas_kit`` in this process load the copy in ``where`` (first on ``sys.path``;
    modules of the package loaded from anywhere else are forgotten)."""
    where = Path(where).resolve()
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or where not in Path(file).resolve().parents:
            del sys.modules[name]
    path = str(where)
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
    importlib.invalidate_caches()


def run_shipped(payload: bytes, digest: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The sweep's Ray task: unpack and use the driver's kit, then
    :func:`crlqas_kit.sweep.task.run_task` ``(*args, **kwargs)`` with it."""
    use(unpack(payload, digest))
    task = importlib.import_module(f"{PACKAGE}.sweep.task")
    return task.run_task(*args, **kwargs)
