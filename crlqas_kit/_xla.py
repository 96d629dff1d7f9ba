"""XLA:CPU's compiler memory: the kit's fusion-emitter setting.

XLA:CPU (jaxlib 0.10) generates code for fused operations with its MLIR "fusion emitters" by
default. For the kit's programs these take about 4x the compiler memory of XLA's older emitters
for the same machine code speed: compiling a search's chunk (episodes of environment steps with
their Adam-SPSA loops and the DQN updates) raised a process's resident memory by 330 MB with
them and by 80 MB without, and the 500-evaluation environment step by 170 MB; glibc keeps what
the compiler freed, so a notebook kernel stays that large. Measured side by side in
``benchmarks/xla_emitters.py`` (docs/benchmarks.md, "Compiler memory").

``import crlqas_kit`` therefore adds ``--xla_cpu_use_fusion_emitters=false`` to ``XLA_FLAGS``:

* ``CRLQAS_XLA_EMITTERS=default`` keeps XLA's default (the fusion emitters);
* a setting of the flag already in ``XLA_FLAGS`` is left alone;
* only with the jaxlib series it was measured on (:data:`TESTED_JAXLIB`): XLA aborts the process
  on a flag it does not know, and a later jaxlib may drop this one;
* only before JAX's first computation in the process (XLA reads ``XLA_FLAGS`` once).
"""

from __future__ import annotations

import os

ENV_EMITTERS = "CRLQAS_XLA_EMITTERS"
FLAG = "--xla_cpu_use_fusion_emitters=false"
#: jaxlib versions (major.minor) on which the flag exists and was measured.
TESTED_JAXLIB = ("0.10",)


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", None))
    except ImportError:  # cannot tell: assume it has
        return True


def use_legacy_emitters() -> bool:
    """Add :data:`FLAG` to ``XLA_FLAGS`` when allowed (see the module docstring); True when added."""
    choice = os.environ.get(ENV_EMITTERS, "").strip().lower()
    if choice not in ("", "legacy", "default"):
        import warnings

        warnings.warn(f"{ENV_EMITTERS} must be 'legacy' or 'default', got {choice!r}; using 'legacy'", stacklevel=2)
    if choice == "default":
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_use_fusion_emitters" in flags:
        return False
    import jaxlib

    if ".".join(jaxlib.__version__.split(".")[:2]) not in TESTED_JAXLIB or _backends_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {FLAG}".strip()
    return True
