"""Sweeps: configurations x seeds as Ray tasks, on this machine or a cluster (``crlqas sweep``).

``sweep(grid, out) -> SweepResult``. The grid (:func:`expand`) is a product of problems, noise
models, presets and agents, each with its seeds; every (configuration, seed) is one run, made by
one Ray task in its own worker process, which calls the kit's normal search::

    search(config, seeds=[seed], out=out / name, save_every=..., resume=...)

so each run writes a normal run directory (``docs/runs.md``) named
``<problem>_<noise>_<preset>[_<agent>]_seed<S>`` under ``out``, and seed ``S`` is the PRNG key
``jax.random.key(S)`` exactly as in ``crlqas search --seeds S``: a sweep's run equals the same
run made alone.

* **Local by default**: ``ray.init(num_cpus=...)`` starts a Ray instance on this machine for the
  sweep and stops it at the end; ``address=`` (``--address``, or ``RAY_ADDRESS``) joins a running
  cluster instead. The workers import the driver's ``crlqas_kit``, shipped by value as the driver
  read it (:mod:`.shipping`: edits to the checkout meanwhile do not reach them); ``out`` must
  be storage every node sees at the same path.
* **Fault tolerance**: a finished run is skipped (judged from its newest checkpoint: the episode
  count or the run's stopping rule reached); an unfinished one resumes from its checkpoint
  (``load_checkpoint``, the exact resume); a task whose worker dies is retried by Ray
  (``max_retries``) and the retry resumes from the run's last periodic save (every
  ``save_every`` seconds, default 30). Ctrl-C (or SIGTERM) on the driver cancels the tasks: each
  running search stops after its compiled chunk and saves (a second Ctrl-C stops waiting, the
  runs keep their last periodic save); running the same sweep again continues.
* **Order**: the tasks take turns over the configurations (:func:`submission_order`), so the
  first ones compile different configurations side by side and the rest reuse them.
* **Bookkeeping** in ``out``: ``sweep.json`` (the grid; a sweep into a directory holding another
  grid is refused, a grid that only adds runs is allowed), ``sweep_tasks/<run>.json`` (each
  attempt: worker pid, node, start, first episode, end), ``sweep_summary.json`` (the results per
  configuration and seed, the raw data of ``docs/results.md``).

Ray is the optional extra ``scale`` (``pip install "crlqas_kit[scale]"``), imported only when
there is work to do; ``import crlqas_kit`` never imports it. Documentation: ``docs/scaling.md``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .driver import import_ray, submission_order, sweep
from .grid import (
    AXES,
    GRID_FILE,
    SCALE_EXTRA,
    SETTINGS,
    SUMMARY_FILE,
    SWEEP_AGENTS,
    TASKS_DIR,
    RunSpec,
    SweepError,
    expand,
    grid_from_options,
    load_grid,
)
from .summary import Board, SweepResult, check_sweep_dir, summarize
from .task import code_digest, pin_process, run_state, run_task


class _CallableModule(types.ModuleType):
    """``crlqas_kit.sweep`` is both this module and (lazily exported) its :func:`sweep`, as for
    :mod:`crlqas_kit.search`: ``ck.sweep(grid, out)`` works in any import order."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "AXES",
    "GRID_FILE",
    "SCALE_EXTRA",
    "SETTINGS",
    "SUMMARY_FILE",
    "SWEEP_AGENTS",
    "TASKS_DIR",
    "Board",
    "RunSpec",
    "SweepError",
    "SweepResult",
    "check_sweep_dir",
    "code_digest",
    "expand",
    "grid_from_options",
    "import_ray",
    "load_grid",
    "pin_process",
    "run_state",
    "run_task",
    "submission_order",
    "summarize",
    "sweep",
]
