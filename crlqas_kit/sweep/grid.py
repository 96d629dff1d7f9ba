"""The grid of a sweep: its file, its expansion into runs (:class:`RunSpec`), run names."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._checks import check_int, check_number

#: How to install Ray (the extra ``scale``), named by every "Ray is missing" error.
SCALE_EXTRA = 'pip install "crlqas_kit[scale]"'
#: The grid of a sweep, its summary, and the per-run task records, in the sweep's directory.
GRID_FILE, SUMMARY_FILE, TASKS_DIR = "sweep.json", "sweep_summary.json", "sweep_tasks"
#: The format of ``sweep.json``.
GRID_FORMAT = 1
#: Axes of a grid block (a name or a list of names each); the product of their values is expanded.
AXES = ("problem", "noise", "preset", "agent")
#: Settings of a grid block (one value each, inherited from the top level of the grid).
SETTINGS = ("seeds", "episodes", "time_limit", "until_accurate", "max_evaluations", "shots", "mitigate_readout")
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
        from ..search_config import SearchConfig

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
        mitigate_readout = true            # correct the readout error (default false)

        [[block]]                          # optional: several products, each inheriting the above
        problem = "H2-2q"
        seeds = [0, 1, 2, 3, 4]
        time_limit = 120

    Without ``[[block]]`` tables the top level is the one product. Runs are named
    ``<problem>_<noise>_<preset>[_<agent>][_shots<N>][_mitigated]_seed<S>`` (characters other than letters,
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
    from ..problems import load_problem
    from ..search import check_seeds
    from ..search_config import preset
    from ..sim.noise_spec import parse_noise
    from ..sim.shots import check_shots

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
    mitigate = block.get("mitigate_readout", False)
    if not isinstance(mitigate, bool):
        raise SweepError(f"{label}mitigate_readout must be true or false, got {mitigate!r}")
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
                        changes: dict[str, Any] = {"agent": agent, "shots": shots, "mitigate_readout": mitigate}
                        if episodes is not None:
                            changes["episodes"] = episodes
                        cfg = cfg.replace(**changes)
                    except (ValueError, TypeError) as err:
                        raise SweepError(f"{label}{err}") from None
                    configuration = " ".join(
                        [problem.name, noise, preset_name]
                        + ([agent] if agent != "ddqn" else [])
                        + ([f"shots={shots}"] if shots is not None else [])
                        + (["mitigate-readout"] if mitigate else [])
                    )
                    stem = "_".join(
                        [_safe(problem.name), _safe(noise), _safe(preset_name)]
                        + ([_safe(agent)] if agent != "ddqn" else [])
                        + ([f"shots{shots}"] if shots is not None else [])
                        + (["mitigated"] if mitigate else [])
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
