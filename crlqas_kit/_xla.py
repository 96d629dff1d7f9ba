"""XLA:CPU's compiler memory: which fusion emitters the kit's compiled entry points use.

XLA:CPU (jaxlib 0.10) generates code for fused operations with its MLIR "fusion emitters" by
default. For most of the kit's programs these take about four times the compiler memory of XLA's
older emitters for the same speed: compiling a search's chunk (episodes of environment steps with
their Adam-SPSA loops and the DQN updates) raised a process's resident memory by 330 MB with them
and by 80 MB without, and the 500-evaluation environment step by 150 MB; glibc keeps what the
compiler freed, so a notebook kernel stays that large. The exception is a ``vmap`` over several
environments (the branch-free gather kernel), which runs 1.3x faster with the fusion emitters.
Measured side by side in ``benchmarks/xla_emitters.py`` (docs/benchmarks.md, "Compiler memory").

So the kit's single-environment programs (``rl.env.reset_jit`` / ``step_jit``, the search's
chunk when it steps one environment at a time, its initialisation and greedy evaluation,
``Agent.init``, ``vqe.optimize``) are compiled with :func:`compiler_options` (per ``jax.jit``:
nothing changes for your own JAX code, and it works whenever the kit is imported).
``CRLQAS_XLA_EMITTERS=default``, set before the kit is imported, compiles them with XLA's
default instead. The option exists in the jaxlib series it was measured on
(:data:`TESTED_JAXLIB`); with another jaxlib the kit uses XLA's default.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

import jax

try:  # whether no JAX trace is active (a top-level call); resolved once, it runs on every call
    from jax._src.core import trace_state_clean as _outside_traces
except ImportError:  # cannot tell: the plain jit works everywhere

    def _outside_traces() -> bool:
        return False


ENV_EMITTERS = "CRLQAS_XLA_EMITTERS"
#: The per-jit XLA option of the older emitters.
LEGACY = {"xla_cpu_use_fusion_emitters": False}
#: jaxlib versions (major.minor) on which the option exists and was measured.
TESTED_JAXLIB = ("0.10",)


def emitters() -> str:
    """``"legacy"`` (the kit's default) or ``"default"`` (XLA's), from ``$CRLQAS_XLA_EMITTERS``."""
    choice = os.environ.get(ENV_EMITTERS, "").strip().lower() or "legacy"
    if choice not in ("legacy", "default"):
        warnings.warn(f"{ENV_EMITTERS} must be 'legacy' or 'default', got {choice!r}; using 'legacy'", stacklevel=2)
        choice = "legacy"
    return choice


def compiler_options() -> dict[str, Any] | None:
    """The ``compiler_options`` of the kit's single-environment entry points (None: XLA's default)."""
    import jaxlib

    if emitters() == "default" or ".".join(jaxlib.__version__.split(".")[:2]) not in TESTED_JAXLIB:
        return None
    return dict(LEGACY)


def jit(fun, **kwargs):
    """``jax.jit(fun, **kwargs)`` compiled with the older emitters (:func:`compiler_options`) when
    called from Python; called inside another trace (your ``jit``, ``vmap`` or ``grad``, where
    JAX accepts no compiler options) it is a plain ``jax.jit`` of ``fun`` and the outer
    program's options apply. ``.lower`` lowers the top-level version."""
    options = compiler_options()
    top = jax.jit(fun, compiler_options=options, **kwargs)
    if options is None:
        return top
    nested = jax.jit(fun, **kwargs)

    @functools.wraps(fun)
    def call(*args, **kw):
        return (top if _outside_traces() else nested)(*args, **kw)

    for name in ("lower", "trace", "eval_shape", "_cache_size", "clear_cache"):  # jax.jit's API: the top-level one
        if hasattr(top, name):
            setattr(call, name, getattr(top, name))
    return call
