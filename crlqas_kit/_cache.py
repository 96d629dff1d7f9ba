"""Persistent JAX compilation cache, on by default for the kit's entry points.

``import crlqas_kit`` (notebooks) and the ``crlqas`` command call :func:`enable_compilation_cache`
once: compiled XLA executables are stored in a per-user directory and reused by later
processes, so a new kernel/notebook session skips most compiles (cold vs warm start in
``docs/benchmarks.md``).

* Directory: ``$XDG_CACHE_HOME/crlqas_kit/jax``, default ``~/.cache/crlqas_kit/jax``.
* ``CRLQAS_NO_COMPILE_CACHE=1`` (any value but ``""`` / ``"0"``) turns it off.
* A cache directory the user has already configured (``jax_compilation_cache_dir``, e.g. via
  ``JAX_COMPILATION_CACHE_DIR``) is left alone.

The cache is consulted from the first compile on; code that compiled JAX functions before
importing the kit keeps JAX's own setting for that process.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

ENV_DISABLE = "CRLQAS_NO_COMPILE_CACHE"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/crlqas_kit/jax`` (default ``~/.cache/crlqas_kit/jax``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "crlqas_kit" / "jax"


def enable_compilation_cache() -> str | None:
    """Point JAX's persistent compilation cache at :func:`cache_dir`; return the directory used.

    Returns None when disabled by ``CRLQAS_NO_COMPILE_CACHE`` or when the directory cannot be
    created (read-only home: the kit then simply compiles as usual). Every executable is cached
    (``jax_persistent_cache_min_compile_time_secs = 0``): the kit's kernels compile in 0.1-2 s
    each, below JAX's default threshold of 1 s, and a notebook runs dozens of them.
    """
    if os.environ.get(ENV_DISABLE, "").strip() not in ("", "0"):
        return None
    current = jax.config.jax_compilation_cache_dir
    if current:
        return current
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return str(path)
