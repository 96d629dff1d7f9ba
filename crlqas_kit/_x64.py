"""float64 inside the kit without flipping JAX's global default for the user.

Every public entry point that runs JAX code is wrapped in :func:`x64`, which enters
``jax.enable_x64(True)`` for the duration of the call. A user who imports ``crlqas_kit`` keeps
JAX's default (float32) in their own code. Users who compose the kit's pure, jittable kernels
inside their *own* ``jax.jit`` should run that code under ``with crlqas_kit.enable_x64():`` or set
``jax.config.update("jax_enable_x64", True)`` once at start-up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import jax

F = TypeVar("F", bound=Callable)


def enable_x64(enabled: bool = True):
    """Context manager turning JAX 64-bit mode on (the kit's numerics need float64)."""
    return jax.enable_x64(enabled)


def x64(fn: F) -> F:
    """Decorator: run ``fn`` with JAX float64 enabled."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
