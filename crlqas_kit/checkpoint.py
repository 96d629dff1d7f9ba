"""Save a pytree of arrays to an ``.npz`` file and load it back into a template of the same shape.

Format (version :data:`FORMAT_VERSION` = 2): one array per leaf, named by the leaf's tree path
(:func:`jax.tree_util.keystr`, e.g. ``.agent.params['params']['Dense_0']['kernel']``), plus the
format version under :data:`VERSION_KEY` and, optionally, a JSON object of metadata under
:data:`META_KEY` (UTF-8 bytes as a ``uint8`` array; :func:`load_meta`). Typed PRNG keys are
stored as their key data and re-wrapped on load. Version 1 is version 2 without metadata.
Why paths and a version: when a saved state no longer fits the code (a changed network, a
renamed field), the error names the leaf and both versions, instead of "array 17 has the wrong
shape".

Version 0 is the format written before this module (``results.save_state``): arrays ``leaf0`` ..
``leafN`` in the order of :func:`jax.tree.leaves`, no version entry. It is still read, by
position; a mismatch names the leaf the template has at that position and the format version.

Loading never trusts the file for structure: the template (e.g. a freshly initialised state)
gives the tree, and every leaf's path, shape and dtype must match (``ValueError`` otherwise).
The file is written to a temporary name and renamed, so a crash never leaves half a checkpoint;
``previous=`` keeps the checkpoint it replaces under a second name until the new one is complete.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

#: The format :func:`save_pytree` writes; :func:`load_pytree` reads it and versions 0 and 1.
FORMAT_VERSION = 2
#: Name of the entry holding the format version (tree paths start with ``.`` or ``[``).
VERSION_KEY = "__format_version__"
#: Name of the entry holding the metadata JSON (format version 2).
META_KEY = "__meta__"
#: Largest metadata object accepted on load (bytes of JSON).
MAX_META_BYTES = 16 * 2**20
_RESERVED = (VERSION_KEY, META_KEY)
_ROOT = "<root>"  # the path of a tree that is a single leaf


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _paths_and_leaves(tree: Any) -> tuple[list[str], list[Any], Any]:
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    paths = [jax.tree_util.keystr(p) or _ROOT for p, _ in flat]
    return paths, [leaf for _, leaf in flat], treedef


def save_pytree(
    path: str | Path, tree: Any, meta: dict[str, Any] | None = None, previous: str | Path | None = None
) -> Path:
    """Write every leaf of ``tree`` to ``path`` (an ``.npz`` file) under its tree path.

    Leaves must be arrays (JAX, NumPy or scalars); typed PRNG keys are saved as their key data.
    ``meta``: a JSON-able dict stored beside the arrays (:func:`load_meta`). ``previous``: where the
    file already at ``path`` is moved once the new one is completely written (so a kill at any
    moment leaves the old checkpoint or the new one under one of the two names). Returns ``path``.
    """
    path = Path(path)
    paths, leaves, _ = _paths_and_leaves(tree)
    arrays: dict[str, np.ndarray] = {VERSION_KEY: np.asarray(FORMAT_VERSION)}
    if meta is not None:
        arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    for name, leaf in zip(paths, leaves, strict=True):
        value = np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf)
        if value.dtype == object:
            raise TypeError(f"checkpoint leaf {name} is not an array (got {type(leaf).__name__})")
        arrays[name] = value
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # never write through a file (or symlink) left at the temporary name
    with open(tmp, "xb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    if previous is not None and path.exists():
        os.replace(path, previous)
    os.replace(tmp, path)
    return path


def load_meta(path: str | Path) -> dict[str, Any] | None:
    """The metadata saved with the checkpoint at ``path`` (None when it has none, e.g. format < 2).

    ``ValueError`` naming the file when it is not a checkpoint or its metadata is malformed."""
    path = Path(path)
    with _open(path) as data:
        _version(path, data)
        if META_KEY not in data.files:
            return None
        raw = _member(data, META_KEY, path)
        if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
            raise ValueError(f"{path}: malformed checkpoint metadata (expected at most {MAX_META_BYTES} bytes of JSON)")
        try:
            meta = json.loads(raw.tobytes().decode())
        except (UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"{path}: malformed checkpoint metadata ({err})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: malformed checkpoint metadata (not a JSON object)")
    return meta


def format_version(path: str | Path) -> int:
    """The format version of the checkpoint at ``path`` (0 for files written before versions)."""
    with _open(Path(path)) as data:
        return _version(Path(path), data)


def load_pytree(path: str | Path, template: Any) -> Any:
    """The tree saved at ``path``, with the structure of ``template`` and its leaves' types.

    Every leaf of the template needs a saved array of the same shape and dtype under the same tree
    path (format version 1) or at the same position (version 0), and the file may hold no other
    leaves; otherwise ``ValueError`` naming the leaf, the file's format version and the expected one.
    JAX leaves come back as JAX arrays, others as NumPy arrays; PRNG keys are re-wrapped.
    """
    path = Path(path)
    paths, leaves, treedef = _paths_and_leaves(template)
    with _open(path) as data:
        version = _version(path, data)
        where = f"{path} (checkpoint format version {version}; this crlqas_kit writes {FORMAT_VERSION})"
        stored = [n for n in data.files if n not in _RESERVED]
        if version == 0:
            if len(stored) != len(leaves):
                raise ValueError(f"{where}: the file has {len(stored)} arrays, the template {len(leaves)} leaves")
            names = [f"leaf{i}" for i in range(len(leaves))]
            if set(names) != set(stored):
                raise ValueError(f"{where}: expected arrays leaf0..leaf{len(leaves) - 1}, got {sorted(stored)[:5]}")
        else:
            missing = [p for p in paths if p not in data.files]
            extra = sorted(set(stored) - set(paths))
            if missing or extra:
                raise ValueError(
                    f"{where}: the tree does not match the template"
                    + (f"; missing leaves {missing[:5]}" if missing else "")
                    + (f"; leaves not in the template {extra[:5]}" if extra else "")
                )
            names = paths
        out = [
            _restore(_member(data, name, path), leaf, leaf_path, where)
            for name, leaf, leaf_path in zip(names, leaves, paths, strict=True)
        ]
    return jax.tree.unflatten(treedef, out)


def _restore(arr: np.ndarray, leaf: Any, leaf_path: str, where: str) -> Any:
    if _is_key(leaf):
        expected = np.asarray(jax.random.key_data(leaf))
        _check(arr, expected.shape, expected.dtype, leaf_path, where)
        return jax.random.wrap_key_data(jnp.asarray(arr), impl=jax.random.key_impl(leaf))
    expected = leaf if hasattr(leaf, "dtype") and hasattr(leaf, "shape") else np.asarray(leaf)
    _check(arr, tuple(expected.shape), np.dtype(expected.dtype), leaf_path, where)
    return jnp.asarray(arr) if isinstance(leaf, jax.Array) else arr


def _check(arr: np.ndarray, shape: tuple, dtype: np.dtype, leaf_path: str, where: str) -> None:
    if arr.shape != tuple(shape):
        raise ValueError(f"{where}: leaf {leaf_path} has shape {arr.shape} in the file, the template {tuple(shape)}")
    if arr.dtype != dtype:
        raise ValueError(f"{where}: leaf {leaf_path} has dtype {arr.dtype} in the file, the template {dtype}")


def _open(path: Path) -> Any:
    """The open ``NpzFile`` at ``path`` (a context manager); ``ValueError`` if it is not one."""
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path} is not a checkpoint (.npz) file: {err}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not a checkpoint (.npz) file (it holds a single array)")
    return data


def _member(data, name: str, path: Path) -> np.ndarray:
    """``data[name]``; a damaged archive member (truncated or overwritten file) is a ValueError naming the file."""
    try:
        return data[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{path} is a damaged checkpoint: array {name!r} cannot be read ({err})") from None


def _version(path: Path, data) -> int:
    if VERSION_KEY not in data.files:
        return 0
    raw = _member(data, VERSION_KEY, path)
    if raw.shape != () or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"{path}: malformed checkpoint format version {raw!r}")
    version = int(raw)
    if not 0 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format version {version} is not readable by this crlqas_kit "
            f"(reads versions 0..{FORMAT_VERSION}); use the crlqas_kit that wrote it"
        )
    return version


__all__ = ["FORMAT_VERSION", "META_KEY", "VERSION_KEY", "format_version", "load_meta", "load_pytree", "save_pytree"]
