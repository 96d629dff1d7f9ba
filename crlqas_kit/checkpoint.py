"""Save a pytree of arrays to an ``.npz`` file and load it back into a template of the same shape.

Format (version :data:`FORMAT_VERSION` = 1): one array per leaf, named by the leaf's tree path
(:func:`jax.tree_util.keystr`, e.g. ``.agent.params['params']['Dense_0']['kernel']``), plus the
format version under :data:`VERSION_KEY`. Typed PRNG keys are stored as their key data and
re-wrapped on load. Why paths and a version: when a saved state no longer fits the code (a
changed network, a renamed field), the error names the leaf and both versions, instead of
"array 17 has the wrong shape".

Version 0 is the format written before this module (``results.save_state``): arrays ``leaf0`` ..
``leafN`` in the order of :func:`jax.tree.leaves`, no version entry. It is still read, by
position; a mismatch names the leaf the template has at that position and the format version.

Loading never trusts the file for structure: the template (e.g. a freshly initialised state)
gives the tree, and every leaf's path, shape and dtype must match (``ValueError`` otherwise).
The file is written to a temporary name and renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

#: The format :func:`save_pytree` writes; :func:`load_pytree` reads it and version 0.
FORMAT_VERSION = 1
#: Name of the entry holding the format version (tree paths start with ``.`` or ``[``).
VERSION_KEY = "__format_version__"
_ROOT = "<root>"  # the path of a tree that is a single leaf


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _paths_and_leaves(tree: Any) -> tuple[list[str], list[Any], Any]:
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    paths = [jax.tree_util.keystr(p) or _ROOT for p, _ in flat]
    return paths, [leaf for _, leaf in flat], treedef


def save_pytree(path: str | Path, tree: Any) -> Path:
    """Write every leaf of ``tree`` to ``path`` (an ``.npz`` file) under its tree path.

    Leaves must be arrays (JAX, NumPy or scalars); typed PRNG keys are saved as their key data.
    Returns the path written.
    """
    path = Path(path)
    paths, leaves, _ = _paths_and_leaves(tree)
    arrays: dict[str, np.ndarray] = {VERSION_KEY: np.asarray(FORMAT_VERSION)}
    for name, leaf in zip(paths, leaves, strict=True):
        value = np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf)
        if value.dtype == object:
            raise TypeError(f"checkpoint leaf {name} is not an array (got {type(leaf).__name__})")
        arrays[name] = value
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return path


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
        where = f"{path} (checkpoint format version {version}, expected {FORMAT_VERSION})"
        stored = [n for n in data.files if n != VERSION_KEY]
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
            _restore(data[name], leaf, leaf_path, where)
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


def _version(path: Path, data) -> int:
    if VERSION_KEY not in data.files:
        return 0
    raw = data[VERSION_KEY]
    if raw.shape != () or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"{path}: malformed checkpoint format version {raw!r}")
    version = int(raw)
    if not 0 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format version {version} is not readable by this crlqas_kit "
            f"(reads versions 0..{FORMAT_VERSION}); use the crlqas_kit that wrote it"
        )
    return version


__all__ = ["FORMAT_VERSION", "VERSION_KEY", "format_version", "load_pytree", "save_pytree"]
