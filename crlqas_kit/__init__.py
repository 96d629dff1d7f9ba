"""crlqas_kit: curriculum reinforcement learning for quantum architecture search under noise.

The kit computes in float64: its entry points run under ``jax.enable_x64`` without changing
JAX's global default for your own code (see :func:`enable_x64` to compose its jittable kernels).
Compiled kernels are kept in a persistent per-user cache (``~/.cache/crlqas_kit/jax``;
``CRLQAS_NO_COMPILE_CACHE=1`` turns it off, see :mod:`crlqas_kit._cache`). JAX gets one CPU
device per core (up to 2; ``CRLQAS_CPU_DEVICES`` sets it, see :mod:`crlqas_kit._cores`) so
large batches of energies use both cores. Its single-environment programs are compiled with
XLA:CPU's older fusion emitters, in a quarter of the memory (``CRLQAS_XLA_EMITTERS=default``
keeps XLA's; see :mod:`crlqas_kit._xla`).

The search layer and the baselines are exported lazily (``ck.search``, ``ck.sweep``,
``ck.SearchConfig``, ``ck.Results``, ``ck.load_run``, ``ck.InteractiveEnv``, ``ck.adapt_vqe``,
``ck.hea_baseline``): ``import crlqas_kit`` stays light (no
flax, optax, matplotlib or Ray) until one of them is used. :func:`notebook_mode` is the
notebooks' fast flag and :func:`versions` their last line.
"""

import importlib
import os

from ._cache import enable_compilation_cache
from ._cores import enable_cpu_devices
from ._x64 import enable_x64
from .problems import CHEMICAL_ACCURACY, Problem, list_problems, load_problem
from .sim import *  # noqa: F403
from .sim import __all__ as _sim_all
from .sim import preset as preset  # deprecated name of noise_preset, not in __all__ (warns when called)

__version__ = "0.1.0"

enable_compilation_cache()
enable_cpu_devices()  # the imports above run no JAX computation, so this is still in time

#: name -> (module, attribute) imported on first use (flax, optax and the RL code load only then)
_LAZY = {
    "search": (".search", "search"),
    "sweep": (".sweep", "sweep"),
    "SearchConfig": (".search_config", "SearchConfig"),
    "Results": (".results", "Results"),
    "load_run": (".results", "load_run"),
    "InteractiveEnv": (".rl.interactive", "InteractiveEnv"),
    "adapt_vqe": (".baselines.adapt", "adapt_vqe"),
    "hea_baseline": (".baselines.hea", "hea_baseline"),
    "cnot_floor": (".baselines.floor", "cnot_floor"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module 'crlqas_kit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def versions() -> str:
    """One line for the last cell of a notebook: the versions of the kit, JAX, jaxlib, flax, numpy and
    Python, today's date and the notebook mode (what a reader needs to reproduce its outputs)."""
    import datetime

    from .results import package_versions

    found = {**package_versions(), "crlqas_kit": __version__}
    names = ("crlqas_kit", "jax", "jaxlib", "flax", "numpy", "python")
    return ", ".join(f"{name} {found[name]}" for name in names) + (
        f"; run on {datetime.date.today().isoformat()} in {notebook_mode()} mode"
    )


def notebook_mode() -> str:
    """``"fast"`` under CI (``CI=true``: notebooks run a tiny version, tested top to bottom) and
    ``"full"`` otherwise (Binder, a laptop). The notebooks branch on ``ck.notebook_mode() == "fast"``."""
    return "fast" if os.environ.get("CI", "").strip().lower() == "true" else "full"


__all__ = [
    "CHEMICAL_ACCURACY",
    "Problem",
    "enable_x64",
    "list_problems",
    "load_problem",
    "notebook_mode",
    "versions",
    *_LAZY,
    *_sim_all,
]
