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
  cluster instead. The workers import the driver's ``crlqas_kit`` (shipped with Ray's
  ``py_modules``); ``out`` must be storage every node sees at the same path.
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

import dataclasses
import hashlib
import json
import logging
import math
import os
import platform
import re
import signal
import socket
import statistics
import sys
import threading
import time
import tomllib
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._checks import check_int, check_number, write_atomic

#: How to install Ray (the extra ``scale``), named by every "Ray is missing" error.
SCALE_EXTRA = 'pip install "crlqas_kit[scale]"'
#: The grid of a sweep, its summary, and the per-run task records, in the sweep's directory.
GRID_FILE, SUMMARY_FILE, TASKS_DIR = "sweep.json", "sweep_summary.json", "sweep_tasks"
#: The format of ``sweep.json``.
GRID_FORMAT = 1
#: Axes of a grid block (a name or a list of names each); the product of their values is expanded.
AXES = ("problem", "noise", "preset", "agent")
#: Settings of a grid block (one value each, inherited from the top level of the grid).
SETTINGS = ("seeds", "episodes", "time_limit", "until_accurate", "max_evaluations", "shots")
#: The agents a sweep runs (random search keeps no training state to resume from).
SWEEP_AGENTS = ("ddqn", "random")
DEFAULTS: dict[str, Any] = {"noise": "none", "preset": "fast", "agent": "ddqn", "seeds": [0]}


class SweepError(ValueError):
    """A mistake in a sweep's grid or directory: one line, said before Ray starts."""


# ----------------------------------------------------------------------------------- the grid
@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a search configuration, one seed, and the run's stopping rule."""

    name: str
    configuration: str
    config: Any  # SearchConfig
    seed: int
    time_limit: float | None = None
    until_accurate: bool = False
    max_evaluations: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return json.loads(
            json.dumps(
                {
                    "name": self.name,
                    "configuration": self.configuration,
                    "seed": self.seed,
                    "time_limit": self.time_limit,
                    "until_accurate": self.until_accurate,
                    "max_evaluations": self.max_evaluations,
                    "config": self.config.to_dict(),
                }
            )
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        from .search_config import SearchConfig

        return cls(
            name=data["name"],
            configuration=data["configuration"],
            config=SearchConfig.from_dict(data["config"]),
            seed=int(data["seed"]),
            time_limit=data.get("time_limit"),
            until_accurate=bool(data.get("until_accurate", False)),
            max_evaluations=data.get("max_evaluations"),
        )

    def reached(self, seconds: float, accurate: bool, evaluations: int) -> bool:
        """Whether the stopping rule (time limit, first accurate episode, evaluation budget) is met."""
        return (
            (self.time_limit is not None and seconds >= self.time_limit)
            or (self.until_accurate and accurate)
            or (self.max_evaluations is not None and evaluations >= self.max_evaluations)
        )


def load_grid(path: str | Path) -> dict[str, Any]:
    """A grid from a TOML file (the format: :func:`expand`), with one-line errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepError(f"grid file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SweepError(f"cannot read grid file {path}: {err}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SweepError(f"{path}: not valid TOML ({err})") from None


def expand(grid: Mapping[str, Any]) -> list[RunSpec]:
    """The runs of a grid, in a fixed order; every mistake is a one-line :class:`SweepError`.

    A grid is a mapping (the TOML file's top level, or the command line's options)::

        problem = ["LiH-4q", "H2-3q"]      # axes: a name or a list of names
        noise = ["none", "depolarizing"]   # default "none"
        preset = "fast"                    # default "fast"
        agent = "ddqn"                     # "ddqn" (default) or "random"
        seeds = [0, 1, 2]                  # default [0]
        episodes = 100000                  # default: the preset's
        time_limit = 1200                  # seconds of training per run (over resumes)
        until_accurate = false             # stop a run at its first chemically accurate episode
        max_evaluations = 1000000          # stop a run once it spent this many objective evaluations
        shots = 1000                       # shots per Pauli term (default exact)

        [[block]]                          # optional: several products, each inheriting the above
        problem = "H2-2q"
        seeds = [0, 1, 2, 3, 4]
        time_limit = 120

    Without ``[[block]]`` tables the top level is the one product. Runs are named
    ``<problem>_<noise>_<preset>[_<agent>][_shots<N>]_seed<S>`` (characters other than letters,
    digits, ``.``, ``-`` and ``=`` become ``-``, with a short hash of the original when anything
    was replaced); two runs of one name are refused.
    """
    if not isinstance(grid, Mapping):
        raise SweepError(f"a grid must be a table of options, got {type(grid).__name__}")
    known = set(AXES) | set(SETTINGS)
    unknown = sorted(set(grid) - known - {"block"})
    if unknown:
        raise SweepError(
            f"unknown grid option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}, block"
        )
    blocks = grid.get("block")
    top = {k: v for k, v in grid.items() if k != "block"}
    if blocks is None:
        blocks = [{}]
    if not isinstance(blocks, list) or not blocks or not all(isinstance(b, Mapping) for b in blocks):
        raise SweepError("block must be a non-empty list of tables ([[block]] in TOML)")
    runs: list[RunSpec] = []
    where: dict[str, int] = {}
    for i, block in enumerate(blocks, 1):
        label = f"block {i}: " if len(blocks) > 1 else ""
        bad = sorted(set(block) - known)
        if bad:
            raise SweepError(
                f"{label}unknown grid option(s) {', '.join(map(repr, bad))}; known: {', '.join(sorted(known))}"
            )
        for run in _expand_block({**DEFAULTS, **top, **block}, label):
            if run.name in where:
                raise SweepError(
                    f"blocks {where[run.name]} and {i} both make the run {run.name}; "
                    "a configuration and seed may appear once in a grid"
                )
            where[run.name] = i
            runs.append(run)
    if not runs:
        raise SweepError("the grid is empty: give at least one problem and one seed")
    return runs


def _names(value: Any, what: str, label: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise SweepError(f"{label}{what} must be a name or a list of names, got {value!r}")
    if not values:
        raise SweepError(f"{label}the grid is empty: {what} lists no value")
    for v in values:
        if values.count(v) > 1:
            raise SweepError(f"{label}{what} lists {v!r} twice")
    return list(values)


def _expand_block(block: dict[str, Any], label: str) -> list[RunSpec]:
    from .problems import load_problem
    from .search import check_seeds
    from .search_config import preset
    from .sim.noise_spec import parse_noise
    from .sim.shots import check_shots

    if "problem" not in block:
        raise SweepError(f"{label}the grid names no problem (--problem NAME ... or problem = [...] in the grid file)")
    axes = {axis: _names(block[axis], axis, label) for axis in AXES}
    seeds = block["seeds"]
    if not isinstance(seeds, list) or not seeds:
        raise SweepError(f"{label}the grid is empty: seeds must be a non-empty list of seeds, got {seeds!r}")
    try:
        check_seeds(None, seeds)
    except ValueError as err:
        raise SweepError(f"{label}{err}") from None
    until = block.get("until_accurate", False)
    if not isinstance(until, bool):
        raise SweepError(f"{label}until_accurate must be true or false, got {until!r}")
    try:
        episodes, limit, budget = (block.get(k) for k in ("episodes", "time_limit", "max_evaluations"))
        episodes = None if episodes is None else check_int(episodes, "episodes")
        limit = None if limit is None else check_number(limit, "time_limit", unit="seconds")
        budget = None if budget is None else check_int(budget, "max_evaluations")
    except ValueError as err:
        raise SweepError(f"{label}{err}") from None
    shots = block.get("shots")
    try:
        check_shots(shots)
    except ValueError as err:
        raise SweepError(f"{label}{err}") from None
    for agent in axes["agent"]:
        if agent not in SWEEP_AGENTS:
            hint = " (it keeps no training state, so a lost run could not resume; use crlqas search)"
            raise SweepError(
                f"{label}agent {agent!r} cannot be swept; choose from {', '.join(SWEEP_AGENTS)}"
                + (hint if agent == "random-search" else "")
            )
    runs = []
    for problem_name in axes["problem"]:
        try:
            problem = load_problem(problem_name)
        except (ValueError, TypeError) as err:
            raise SweepError(f"{label}{err}") from None
        for noise in axes["noise"]:
            try:
                parse_noise(noise, problem.n_qubits)
            except (ValueError, TypeError) as err:
                raise SweepError(f"{label}noise {noise!r}: {err}") from None
            for preset_name in axes["preset"]:
                for agent in axes["agent"]:
                    try:
                        cfg = preset(preset_name, problem.name, problem.n_qubits, noise=noise)
                        changes: dict[str, Any] = {"agent": agent, "shots": shots}
                        if episodes is not None:
                            changes["episodes"] = episodes
                        cfg = cfg.replace(**changes)
                    except (ValueError, TypeError) as err:
                        raise SweepError(f"{label}{err}") from None
                    configuration = " ".join(
                        [problem.name, noise, preset_name]
                        + ([agent] if agent != "ddqn" else [])
                        + ([f"shots={shots}"] if shots is not None else [])
                    )
                    stem = "_".join(
                        [_safe(problem.name), _safe(noise), _safe(preset_name)]
                        + ([_safe(agent)] if agent != "ddqn" else [])
                        + ([f"shots{shots}"] if shots is not None else [])
                    )
                    for seed in seeds:
                        runs.append(RunSpec(f"{stem}_seed{seed}", configuration, cfg, int(seed), limit, until, budget))
    return runs


def _safe(text: str) -> str:
    """``text`` as part of a directory name: letters, digits, ``.-=``; a short hash if anything changed."""
    safe = re.sub(r"[^A-Za-z0-9.=-]+", "-", text).strip("-.") or "x"
    if safe != text:
        safe += "-" + hashlib.sha256(text.encode()).hexdigest()[:6]
    return safe


def grid_from_options(
    problem: Sequence[str] | str,
    noise: Sequence[str] | str | None = None,
    seeds: Sequence[int] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A grid mapping from keyword options (the command line's), leaving out those not given."""
    grid: dict[str, Any] = {"problem": problem}
    if noise is not None:
        grid["noise"] = noise
    if seeds is not None:
        grid["seeds"] = list(seeds)
    grid.update({k: v for k, v in settings.items() if v is not None})
    return grid


# ------------------------------------------------------------------------------- run state
def _checkpoint_progress(path: Path) -> dict[str, Any] | None:
    """What the newest checkpoint of a run says (config, seeds, episodes, seconds, evaluations,
    accurate), or None when there is no readable one. The checkpoint is written last in a save,
    so the logs and config.json it belongs to are complete."""
    from .checkpoint import load_meta
    from .results import checkpoint_files

    for file in checkpoint_files(path):
        try:
            meta = load_meta(file)
            best = meta["best"]
            seeds = [int(s) for s in meta["seeds"]]
            return {
                "config": meta["config"],
                "seeds": seeds,
                "episodes": int(meta["episodes_lines"]),
                "seconds": float(meta["seconds"]),
                "evaluations": sum(int(v) for v in meta["evaluations"].values()),
                "accurate": any(bool(e and e[0].get("chemically_accurate")) for e in best.values()),
            }
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            continue
    return None


def run_state(path: str | Path, run: RunSpec) -> str:
    """``"new"`` (nothing saved yet), ``"partial"`` (saved, unfinished) or ``"finished"``.

    Finished: the newest checkpoint holds the run's episodes, or its stopping rule was met (the
    checkpoint's training seconds, accurate episodes, evaluations). A ``SweepError`` when the
    directory holds another run or files the kit does not write."""
    from .autosave import RUN_FILES, check_out, describe_run

    path = Path(path)
    if not path.exists():
        return "new"
    if not (path / "config.json").exists():
        # a first save cut short (e.g. only best/ made): this run's own files, else refused
        kit = set(RUN_FILES) | {f + ".tmp" for f in RUN_FILES} | {"best"}
        foreign = sorted(e.name for e in path.iterdir() if e.name not in kit and not e.name.endswith(".png"))
        if not path.is_dir() or foreign:
            what = "is not a directory" if not path.is_dir() else f"holds files of no run ({', '.join(foreign[:3])})"
            raise SweepError(f"{path} {what}; move them away or choose a new --out")
        return "partial" if any(path.iterdir()) else "new"
    try:
        check_out(path, run.config, [run.seed], resuming=True)
    except ValueError:
        raise SweepError(
            f"{path} holds another run ({describe_run(path)}) than this sweep's {run.name}; "
            "move it away or choose a new --out"
        ) from None
    progress = _checkpoint_progress(path)
    if progress is None:
        return "partial"
    done = progress["episodes"] >= run.config.episodes
    if done or run.reached(progress["seconds"], progress["accurate"], progress["evaluations"]):
        return "finished"
    return "partial"


# ------------------------------------------------------------------------- the task (a worker)
class _RunRule:
    """The run's stopping rule as ``should_stop`` + callback, counted over resumes (the training
    seconds of the run, not of this attempt), and the attempt's first-episode time."""

    def __init__(self, run: RunSpec, results: Any, on_first_episode: Callable[[], None]) -> None:
        self.run = run
        self.seconds = 0.0 if results is None else float(results.seconds)
        self.accurate = results is not None and results.first_chemically_accurate(run.seed) is not None
        self.evaluations = 0 if results is None else int(results.evaluations.get(run.seed, 0))
        self.on_first_episode = on_first_episode

    def __call__(self, event: dict[str, Any]) -> None:
        if event["event"] == "episode":
            if self.on_first_episode is not None:
                self.on_first_episode()
                self.on_first_episode = None
            self.accurate |= bool(event["chemically_accurate"])
            self.evaluations = int(event.get("evaluations", self.evaluations))
        elif event["event"] == "chunk":
            self.seconds = float(event["seconds"])

    def should_stop(self) -> bool:
        return self.run.reached(self.seconds, self.accurate, self.evaluations)


def _record_attempt(out: Path, name: str, **fields: Any) -> Callable[..., None]:
    """Append this attempt to ``sweep_tasks/<name>.json``; returns ``update(**fields)`` for it."""
    file = out / TASKS_DIR / f"{name}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        record = json.loads(file.read_text())
        attempts = record["attempts"] if isinstance(record.get("attempts"), list) else []
    except (OSError, ValueError, AttributeError):
        attempts = []
    attempt = {"attempt": len(attempts) + 1, **fields}
    attempts.append(attempt)

    def update(**more: Any) -> None:
        attempt.update(more)
        write_atomic(file, json.dumps({"run": name, "attempts": attempts}, indent=1) + "\n")

    update()
    return update


def run_task(spec: Mapping[str, Any], out: str, save_every: float, code: str | None = None) -> dict[str, Any]:
    """Make one run of a sweep (in a Ray worker, or anywhere): resume it from its checkpoint if it
    has one, skip it if it is finished, else start it; returns what happened (``status``:
    ``finished``, ``skipped`` or ``interrupted``). ``code``: the driver's :func:`code_digest`,
    checked against this process's kit."""
    run = RunSpec.from_dict(spec)
    root = Path(out)
    path = root / run.name
    if code is not None and code != code_digest():
        from . import __file__ as kit

        raise SweepError(
            f"the worker on {socket.gethostname()} imports another crlqas_kit ({Path(kit).parent}) than the driver's; "
            "install the same version on every node"
        )
    if not (root / GRID_FILE).is_file():  # the driver wrote it before submitting
        raise SweepError(
            f"{root / GRID_FILE} is not visible on {socket.gethostname()}: --out must be storage every node "
            "sees at the same path"
        )
    update = _record_attempt(root, run.name, pid=os.getpid(), node=socket.gethostname(), started=time.time())
    try:
        return _make_run(run, path, save_every, update)
    except BaseException as err:  # said in the task record too; a killed worker says nothing
        update(finished=time.time(), status="interrupted" if isinstance(err, KeyboardInterrupt) else "failed")
        raise


def _make_run(run: RunSpec, path: Path, save_every: float, update: Callable[..., None]) -> dict[str, Any]:
    import warnings

    from .results import ResumeWarning, checkpoint_files
    from .search import load_checkpoint, search

    state = run_state(path, run)
    if state == "finished":
        update(finished=time.time(), status="skipped")
        return {"name": run.name, "status": "skipped", "notes": []}
    resume, notes = None, []
    if state == "partial" and checkpoint_files(path):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ResumeWarning)
                resume = load_checkpoint(path)
            notes = [str(w.message) for w in caught if issubclass(w.category, ResumeWarning)]
            resume[1].config = run.config
        except ValueError as err:  # saved files but no usable checkpoint: the run starts again
            notes = [f"no usable checkpoint ({err}); started again"]
    # saved files but no checkpoint to resume from (a first save cut short): this run's own files
    # (run_state checked), replaced by a fresh start
    force = resume is None and path.exists() and any(path.iterdir())
    episodes0 = 0 if resume is None else len(resume[1].episodes)
    update(resumed_from=episodes0, notes=notes)
    rule = _RunRule(run, None if resume is None else resume[1], lambda: update(first_episode=time.time()))
    interrupted: list[str] = []
    results = search(
        run.config,
        seeds=[run.seed],
        callbacks=[rule, lambda e: e["event"] == "interrupted" and interrupted.append(e["signal"])],
        should_stop=rule.should_stop,
        resume=resume,
        out=path,
        save_every=save_every,
        force=force,
    )
    status = "interrupted" if interrupted else "finished"
    update(finished=time.time(), status=status, episodes=len(results.episodes))
    return {"name": run.name, "status": status, "resumed_from": episodes0, "notes": notes}


def code_digest() -> str:
    """SHA-256 of this process's ``crlqas_kit`` sources (``*.py``), to check that workers run the driver's code."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for file in sorted(root.rglob("*.py")):
        if "__pycache__" in file.parts:
            continue
        h.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------------------- the directory
def _normal(data: Any) -> Any:
    return json.loads(json.dumps(data))


def check_sweep_dir(out: str | Path, runs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """The runs ``sweep.json`` in ``out`` records (empty for a new sweep), checked against ``runs``.

    Allowed: a new or empty directory, or one holding a sweep whose recorded runs all belong to
    ``runs`` with the same settings (the same grid, or one that adds runs). Anything else is a
    one-line :class:`SweepError`; so is a run directory of this grid holding another run."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SweepError(f"output path {out} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return []
    grid_file = out / GRID_FILE
    if not grid_file.is_file():
        raise SweepError(f"{out} is not empty and holds no sweep ({GRID_FILE}); choose a new or empty directory")
    try:
        recorded = json.loads(grid_file.read_text())["runs"]
        old = {r["name"]: r for r in recorded}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SweepError(f"{grid_file}: unreadable sweep grid ({type(err).__name__}: {err})") from None
    new = {r.name: _normal(r.to_dict()) for r in runs}
    for name, rec in old.items():
        if name not in new:
            raise SweepError(
                f"{out} holds the sweep of another grid (its run {name} is not in this grid; {len(old)} runs recorded "
                f"in {GRID_FILE}); choose a new --out, or give the same grid (adding runs is allowed)"
            )
        if _normal(rec) != new[name]:
            diff = _first_difference(rec, new[name])
            raise SweepError(
                f"{out} holds the sweep of another grid (run {name}: {diff}); choose a new --out, or give the same "
                "grid (adding runs is allowed)"
            )
    for run in runs:
        run_state(out / run.name, run)  # refuses a directory holding another run
    return list(old.values())


def _first_difference(old: Any, new: Any, where: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}" if where else key)
    return f"{where or 'value'} is {json.dumps(old)} there, {json.dumps(new)} here"


# -------------------------------------------------------------------------------- Ray
def import_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError as err:
        raise SweepError(
            f"crlqas sweep needs Ray, which is not installed ({err}); install it with {SCALE_EXTRA}"
        ) from None
    return ray


def _worker_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of the workers: the driver's kit settings, so that a run equals the same
    run made by ``crlqas search`` here (the CPU device count, the compilation cache)."""
    from ._cores import ENV_DEVICES, requested_devices

    env = {ENV_DEVICES: str(requested_devices())}
    for name in ("CRLQAS_NO_COMPILE_CACHE", "XDG_CACHE_HOME", "JAX_COMPILATION_CACHE_DIR", "JAX_PLATFORMS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra or {})
    return {k: str(v) for k, v in env.items()}


def _start_ray(ray: Any, address: str | None, num_cpus: int | None, env: dict[str, str]) -> None:
    kit = str(Path(__file__).resolve().parent)
    runtime_env = {"py_modules": [kit], "env_vars": env, "excludes": ["__pycache__", "*.pyc"]}
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage-stats notice on every sweep
    if address:
        _token_auth_like_ray_start()
        ray.init(address=address, runtime_env=runtime_env, **quiet)
    else:
        ray.init(num_cpus=num_cpus, object_store_memory=200 * 2**20, runtime_env=runtime_env, **quiet)


def _token_auth_like_ray_start() -> None:
    """Send Ray's authentication token when joining a cluster by address, if this machine has one.

    ``ray start`` turns token authentication on when ``RAY_AUTH_MODE`` is unset and a token
    exists (``~/.ray/auth_token``, which a local ``ray.init()`` creates); ``ray.init(address=...)``
    does not, and would then be refused by such a head. The same rule here; a cluster without
    authentication accepts the token too. An explicit ``RAY_AUTH_MODE`` is left alone."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or Path(path).is_file():
        os.environ["RAY_AUTH_MODE"] = "token"
        try:  # Ray reads its configuration once: refresh it, as ray start does (Ray 2.60)
            from ray._raylet import Config

            Config.initialize("")
        except (ImportError, AttributeError):
            pass


# ------------------------------------------------------------------------------ results
@dataclasses.dataclass
class SweepResult:
    """What :func:`sweep` did: per run its status and summary, per configuration the table."""

    out: Path
    runs: list[dict[str, Any]]
    configurations: list[dict[str, Any]]
    seconds: float
    interrupted: bool = False
    timings: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "failed"]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "skipped"]

    def table(self) -> str:
        """The summary as a Markdown table, one row per configuration."""
        head = (
            "| configuration | seeds | finished | chem. acc. | median first accurate episode | best error (Ha) "
            "| gates | CNOTs |"
        )
        lines = [head, "|" + "---|" * 8]
        for c in self.configurations:
            best, med, n = c["best"], c["median_first_accurate_episode"], len(c["seeds"])
            cells = (
                ["-", "-", "-"] if best is None else [f"{best['error']:.2e}", str(best["gates"]), str(best["cnots"])]
            )
            lines.append(
                f"| {c['configuration']} | {n} | {c['finished']}/{n} | {c['accurate']}/{n} | "
                f"{'-' if med is None else f'{med:g}'} | " + " | ".join(cells) + " |"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = {s: sum(r["status"] == s for r in self.runs) for s in ("finished", "skipped", "failed")}
        return (
            f"SweepResult({self.out}, {len(self.runs)} runs: {counts['finished']} finished, {counts['skipped']} "
            f"skipped, {counts['failed']} failed{', interrupted' if self.interrupted else ''}, {self.seconds:.0f} s)"
        )


def _run_summary(out: Path, run: RunSpec) -> dict[str, Any]:
    """The summary row of a run directory (``Results.summary``) with its best circuit as QASM."""
    from .results import load_run, record_to_circuit
    from .sim.qasm import to_qasm

    path = out / run.name
    row: dict[str, Any] = {"run": run.name, "seed": run.seed}
    if not (path / "config.json").is_file():
        return {**row, "episodes": 0, "saved": False}
    try:
        res = load_run(path)
    except ValueError as err:
        return {**row, "episodes": 0, "saved": False, "error": str(err)}
    best = (res.best.get(run.seed) or [None])[0]
    return {
        **res.summary()[0],
        **row,
        "saved": True,
        "stopped": res.stopped,
        "evaluations": res.evaluations.get(run.seed),
        "best_chemically_accurate": bool(best and best["chemically_accurate"]),
        "best_qasm": None if best is None else to_qasm(record_to_circuit(best["circuit"])),
        "best_entry": best,
    }


def _attempts(out: Path, name: str) -> list[dict[str, Any]]:
    try:
        attempts = json.loads((out / TASKS_DIR / f"{name}.json").read_text())["attempts"]
        return attempts if isinstance(attempts, list) else []
    except (OSError, ValueError, KeyError, TypeError):
        return []


def summarize(out: str | Path, runs: Sequence[RunSpec], status: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per configuration (in grid order): its settings, one row per seed, and the aggregates."""
    from .results import rank_key

    out = Path(out)
    groups: dict[str, list[RunSpec]] = {}
    for run in runs:
        groups.setdefault(run.configuration, []).append(run)
    table = []
    for label, members in groups.items():
        cfg = members[0].config
        rows = []
        for run in members:
            row = _run_summary(out, run)
            row["status"] = status.get(run.name, "not run")
            row["attempts"] = len(_attempts(out, run.name))
            rows.append(row)
        firsts = [r["first_chemically_accurate_episode"] for r in rows if r.get("first_chemically_accurate_episode")]
        entries = [(r["best_entry"], r) for r in rows if r.get("best_entry")]
        best = min(entries, key=lambda e: rank_key(e[0]), default=None)
        table.append(
            {
                "configuration": label,
                "problem": cfg.problem,
                "noise": cfg.noise,
                "preset": cfg.preset,
                "agent": cfg.agent,
                "shots": cfg.shots,
                "episodes": cfg.episodes,
                "time_limit": members[0].time_limit,
                "until_accurate": members[0].until_accurate,
                "max_evaluations": members[0].max_evaluations,
                "seeds": [{k: v for k, v in r.items() if k != "best_entry"} for r in rows],
                "finished": sum(r["status"] in ("finished", "skipped") for r in rows),
                "accurate": sum(bool(r.get("success")) for r in rows),
                "median_first_accurate_episode": statistics.median(firsts) if firsts else None,
                "best": None
                if best is None
                else {
                    "seed": best[1]["seed"],
                    "run": best[1]["run"],
                    **{k: best[0][k] for k in ("episode", "error", "gates", "cnots", "depth", "chemically_accurate")},
                    "qasm": best[1]["best_qasm"],
                },
            }
        )
    return table


def _write_summary(result: SweepResult, runs: Sequence[RunSpec]) -> None:
    from .results import package_versions

    data = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {
            "host": socket.gethostname(),
            "cpu": platform.processor() or platform.machine(),
            "system": platform.system(),
            "cores": os.cpu_count(),
        },
        "versions": package_versions(),
        "seconds": result.seconds,
        "interrupted": result.interrupted,
        "timings": result.timings,
        "runs": {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in result.runs},
        "configurations": result.configurations,
        "grid": [r.to_dict() for r in runs],
    }
    write_atomic(result.out / SUMMARY_FILE, json.dumps(data, indent=1) + "\n")


# ---------------------------------------------------------------------------- progress
class Board:
    """The live table on stderr: runs finished / running / failed / pending, best error per
    configuration. On a terminal it is redrawn in place; otherwise one line per change."""

    def __init__(self, runs: Sequence[RunSpec], out: Path, stream: Any = None, enabled: bool = True) -> None:
        self.runs, self.out = list(runs), out
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.status: dict[str, str] = {}
        self.best: dict[str, float] = {}
        self.read: set[str] = set()
        self.lines = 0
        self.last = ""
        self.t0 = time.monotonic()

    def set(self, name: str, status: str) -> None:
        self.status[name] = status

    def _best_error(self, name: str) -> float | None:
        try:
            summary = json.loads((self.out / name / "config.json").read_text())["summary"][0]
            return None if summary["best_error"] is None else float(summary["best_error"])
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None

    def refresh(self, force: bool = False) -> None:
        if not self.enabled:
            return
        for run in self.runs:
            status = self.status.get(run.name)
            if status == "running" or (status in ("finished", "skipped", "interrupted") and run.name not in self.read):
                err = self._best_error(run.name)  # a running run's last save; a finished one's once
                if status != "running":
                    self.read.add(run.name)
                if err is not None:
                    self.best[run.configuration] = min(err, self.best.get(run.configuration, math.inf))
        counts = {k: 0 for k in ("finished", "running", "failed", "pending", "interrupted")}
        for run in self.runs:
            s = self.status.get(run.name, "pending")
            counts["finished" if s in ("finished", "skipped") else s if s in counts else "pending"] += 1
        stopped = f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""
        head = (
            f"sweep: {counts['finished']} finished, {counts['running']} running, {counts['failed']} failed, "
            f"{counts['pending']} pending{stopped} of {len(self.runs)} runs, {time.monotonic() - self.t0:.0f} s"
        )
        if self.tty:
            rows = [head]
            groups: dict[str, list[str]] = {}
            for run in self.runs:
                groups.setdefault(run.configuration, []).append(self.status.get(run.name, "pending"))
            for label, states in groups.items():
                done = sum(s in ("finished", "skipped") for s in states)
                best = self.best.get(label)
                rows.append(
                    f"  {label:<40} {done}/{len(states)} finished, {states.count('running')} running, "
                    f"{states.count('failed')} failed, best error {'-' if best is None else f'{best:.2e}'} Ha"
                )
            up = f"\x1b[{self.lines}F" if self.lines else ""
            self.stream.write(up + "".join(f"\x1b[2K{r}\n" for r in rows))
            self.lines = len(rows)
            self.stream.flush()
        else:
            key = head.rsplit(",", 1)[0]
            if force or key != self.last:
                self.stream.write(head + "\n")
                self.stream.flush()
                self.last = key

    def note(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty and self.lines:
            self.stream.write(f"\x1b[{self.lines}F\x1b[J")
            self.lines = 0
        self.stream.write(text + "\n")
        self.stream.flush()


# ---------------------------------------------------------------------------------- sweep
def sweep(
    grid: Mapping[str, Any] | str | Path | Sequence[RunSpec],
    out: str | Path,
    *,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    max_retries: int = 3,
    address: str | None = None,
    save_every: float = 30.0,
    env: Mapping[str, str] | None = None,
    progress: bool = True,
    stream: Any = None,
) -> SweepResult:
    """Run every (configuration, seed) of ``grid`` as a Ray task; returns a :class:`SweepResult`
    and writes ``out/sweep_summary.json``.

    ``grid``: a mapping (:func:`expand`), a TOML file, or runs from :func:`expand`. ``out``: the
    sweep's directory (new, empty, or holding this sweep). ``num_cpus``: the local Ray instance's
    CPUs (default: all); ``address`` (or ``RAY_ADDRESS``): join that cluster instead.
    ``cpus_per_run``: CPUs Ray reserves per task. ``max_retries``: retries of a task whose worker
    died (each resumes from the run's last save). ``save_every``: seconds between a run's saves.
    ``env``: more environment variables for the workers. ``progress``: the live table on
    ``stream`` (default stderr).

    Checks everything first (one-line :class:`SweepError`s, before Ray starts), skips finished
    runs, and starts Ray only when there is work. Ctrl-C (KeyboardInterrupt) cancels the tasks,
    waits for the running searches to save, and returns with ``interrupted=True``; a second
    Ctrl-C stops waiting.
    """
    t_start = time.monotonic()
    if isinstance(grid, str | Path):
        grid = load_grid(grid)
    runs = list(grid) if isinstance(grid, Sequence) and all(isinstance(r, RunSpec) for r in grid) else expand(grid)
    if not runs:
        raise SweepError("the grid is empty: give at least one problem and one seed")
    try:
        check_int(max_retries, "max_retries", minimum=0)
        num_cpus = None if num_cpus is None else check_int(num_cpus, "num_cpus")
        check_number(cpus_per_run, "cpus_per_run")
        check_number(save_every, "save_every", strict=False, unit="seconds")
    except ValueError as err:
        raise SweepError(str(err)) from None
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and num_cpus is not None:
        raise SweepError(
            "num_cpus sets up a local Ray instance; a cluster's nodes set theirs with ray start --num-cpus"
        )
    out = Path(out)
    recorded = check_sweep_dir(out, runs)
    states = {run.name: run_state(out / run.name, run) for run in runs}
    todo = [run for run in runs if states[run.name] != "finished"]
    ray = import_ray() if todo else None  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    known = {r.name for r in runs}
    grid_record = [*(r for r in recorded if r["name"] not in known), *(r.to_dict() for r in runs)]
    write_atomic(out / GRID_FILE, json.dumps({"format": GRID_FORMAT, "runs": grid_record}, indent=1) + "\n")

    status = {run.name: "skipped" for run in runs if states[run.name] == "finished"}
    board = Board(runs, out, stream, progress)
    for name in status:
        board.set(name, "skipped")
    errors: dict[str, str] = {}
    timings: dict[str, Any] = {"submitted": {}, "attempts_before": {}, "ray_init_seconds": None}
    interrupted = False
    if not todo:
        board.note(f"sweep: all {len(runs)} runs of {out} are finished: nothing to do")
    else:
        board.note(
            f"sweep: {len(todo)} of {len(runs)} runs to make ({len(runs) - len(todo)} finished, "
            f"{sum(states[r.name] == 'partial' for r in todo)} to resume) in {out}"
        )
        interrupted = _drive(
            ray,
            todo,
            out,
            address,
            num_cpus,
            cpus_per_run,
            max_retries,
            save_every,
            env,
            board,
            status,
            errors,
            timings,
        )
    seconds = time.monotonic() - t_start
    rows = []
    for run in runs:
        row = {
            "name": run.name,
            "configuration": run.configuration,
            "seed": run.seed,
            "status": status.get(run.name, "not run"),
        }
        if run.name in errors:
            row["error"] = errors[run.name]
        attempts = _attempts(out, run.name)
        row["attempts"] = len(attempts)
        if run.name in timings["submitted"]:
            row["submitted"] = timings["submitted"][run.name]
            mine = attempts[timings["attempts_before"][run.name] :]  # this sweep's attempts
            if mine:
                row["started"] = mine[0].get("started")
                row["first_episode"] = next((a["first_episode"] for a in mine if "first_episode" in a), None)
                row["finished"] = mine[-1].get("finished")
        rows.append(row)
    result = SweepResult(out, rows, summarize(out, runs, status), seconds, interrupted, timings)
    _write_summary(result, runs)
    board.refresh(force=True)
    return result


def _drive(
    ray, todo, out, address, num_cpus, cpus_per_run, max_retries, save_every, env, board, status, errors, timings
) -> bool:
    """Submit the runs to Ray, follow them, shut Ray down; True when stopped by Ctrl-C."""
    code = code_digest()  # before Ray ships the sources: a change meanwhile shows as a mismatch
    t0 = time.monotonic()
    try:
        _start_ray(ray, address, num_cpus, _worker_env(env))
    except Exception as err:  # e.g. no cluster at the address: one line, not Ray's traceback
        where = f"join the Ray cluster at {address}" if address else "start a local Ray instance"
        raise SweepError(
            f"cannot {where}: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        ) from None
    timings["ray_init_seconds"] = time.monotonic() - t0
    interrupted = False
    old_term = None
    if threading.current_thread() is threading.main_thread():  # SIGTERM (a batch system's stop) as Ctrl-C
        old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        task = ray.remote(num_cpus=cpus_per_run, max_retries=max_retries)(run_task)
        where = str(out.resolve())
        pending: dict[Any, RunSpec] = {}
        seen: dict[str, int] = {}  # attempts recorded before this sweep's submission
        resubmitted: dict[str, int] = {}

        def submit(run: RunSpec) -> None:
            seen[run.name] = len(_attempts(out, run.name))
            timings["attempts_before"].setdefault(run.name, seen[run.name])
            timings["submitted"].setdefault(run.name, time.time())
            pending[task.remote(run.to_dict(), where, float(save_every), code)] = run
            board.set(run.name, "pending")

        for run in submission_order(todo):
            submit(run)
        board.refresh()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
                for ref in ready:
                    run = pending.pop(ref)
                    _collect(ray, ref, run, board, status, errors)
                    # stopped by a signal the sweep did not send (e.g. SIGTERM from the node): once more
                    if status[run.name] == "interrupted" and resubmitted.get(run.name, 0) < max_retries:
                        resubmitted[run.name] = resubmitted.get(run.name, 0) + 1
                        board.note(f"sweep: {run.name} was stopped by a signal; submitted again to continue")
                        submit(run)
                for run in pending.values():
                    attempts = _attempts(out, run.name)
                    if len(attempts) > seen[run.name] and "finished" not in attempts[-1]:
                        board.set(run.name, "running")
                board.refresh()
        except KeyboardInterrupt:
            interrupted = True
            board.note("sweep: interrupted: cancelling; running searches save and stop (Ctrl-C again: do not wait)")
            for ref in pending:
                ray.cancel(ref)
            try:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=2.0)
                    for ref in ready:
                        _collect(ray, ref, pending.pop(ref), board, status, errors, cancelled=True)
            except KeyboardInterrupt:
                pass
            for run in pending.values():
                status.setdefault(run.name, "interrupted")
            board.note(f"sweep: stopped; every run keeps its last save: run the same sweep again to continue ({out})")
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        ray.shutdown()
    return interrupted


def submission_order(runs: Sequence[RunSpec]) -> list[RunSpec]:
    """The runs taking turns over their configurations (the first seed of each, then the second, ...):
    the first tasks compile different configurations side by side and the later ones find them in
    the compilation cache, and every configuration has results early."""
    groups: dict[str, list[RunSpec]] = {}
    for run in runs:
        groups.setdefault(run.configuration, []).append(run)
    order = []
    for i in range(max(len(g) for g in groups.values())):
        order += [g[i] for g in groups.values() if i < len(g)]
    return order


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _collect(ray, ref, run: RunSpec, board: Board, status, errors, cancelled: bool = False) -> None:
    """The outcome of one task into ``status`` (and ``errors``: one line per failed run)."""
    try:
        value = ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        status[run.name] = "interrupted"
    except ray.exceptions.RayTaskError as err:  # the task raised: its own error, in one line
        cause = getattr(err, "cause", None) or err
        if isinstance(cause, KeyboardInterrupt) or cancelled:
            status[run.name] = "interrupted"
        else:
            status[run.name] = "failed"
            text = str(cause).strip()
            errors[run.name] = f"{type(cause).__name__}: {text.splitlines()[-1] if text else ''}"
            board.note(f"sweep: {run.name} failed: {errors[run.name]}")
    except ray.exceptions.RayError as err:  # the worker died more often than max_retries, node lost, ...
        status[run.name] = "interrupted" if cancelled else "failed"
        if not cancelled:
            text = str(err).strip()
            errors[run.name] = f"{type(err).__name__}: {text.splitlines()[0] if text else ''}"
            board.note(f"sweep: {run.name} failed: {errors[run.name]}")
    else:
        status[run.name] = value["status"]
        if value["status"] == "finished":
            resumed = value.get("resumed_from")
            board.note(f"sweep: {run.name} finished" + (f" (resumed at episode {resumed})" if resumed else ""))
    board.set(run.name, status[run.name])


class _CallableModule(types.ModuleType):
    """``crlqas_kit.sweep`` is both this module and (lazily exported) its :func:`sweep`, as for
    :mod:`crlqas_kit.search`: ``ck.sweep(grid, out)`` works in any import order."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "SCALE_EXTRA",
    "RunSpec",
    "SweepError",
    "SweepResult",
    "expand",
    "grid_from_options",
    "load_grid",
    "run_state",
    "run_task",
    "summarize",
    "sweep",
]
