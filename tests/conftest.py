"""Shared pytest setup. Deliberately minimal: nothing global is switched on here."""

from __future__ import annotations

import os

# Must happen before anything imports jax: tests always run on the CPU backend.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Tests compile from scratch and write nothing under ~/.cache: the persistent compilation cache
# that ``import crlqas_kit`` turns on is tested explicitly (tests/test_compile_cache.py).
os.environ.setdefault("CRLQAS_NO_COMPILE_CACHE", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fast_mode() -> bool:
    """True under CI (CI=true): tests should use their smallest sizes / fewest steps."""
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop JAX's compiled executables after each test module. Every executable keeps its JIT
    code mapped (~100-500 memory maps each, measured); the whole suite compiles thousands and
    would otherwise reach the kernel's ``vm.max_map_count`` (65530), where XLA aborts mid-compile."""
    yield
    import sys

    jax = sys.modules.get("jax")
    if jax is not None:
        jax.clear_caches()
