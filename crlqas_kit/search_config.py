"""Configuration of a CRLQAS search: plain dataclasses, printable, JSON/TOML round-trips, presets.

``fast``: small network and short curriculum periods, for laptops, Binder and CI.
``paper``: the published hyperparameters (spec section 7): 5 x 1000 MLP (2000 for 6 qubits,
5000 for 8), batch 1000, buffer 20 000, target copy every 500 updates, n-step 5 (2-4 qubits) or
6 (6-8 qubits), epsilon x 0.99995 per update down to 0.05, curriculum T = 500 / N_s = 25
(2-4 qubits) or T = 2000 / N_s = 50 (6-8 qubits), 10 000+ episodes.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

from .optim.spsa import SPSAConfig
from .rl.curriculum import CurriculumConfig
from .rl.dqn import DQNConfig

PRESET_NAMES = ("fast", "paper")


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a run (saved with its results)."""

    problem: str = "H2-2q"
    noise: str = "none"
    preset: str = "fast"
    episodes: int = 100
    n_envs: int = 1
    max_steps: int | None = None
    shots: int | None = None
    start: str = "zeros"
    halting: bool = True
    halt_min: int = 25
    halt_terminal: bool = True
    threshold0: float | None = None
    spsa: SPSAConfig = dataclasses.field(default_factory=lambda: SPSAConfig(budget=500))
    dqn: DQNConfig = dataclasses.field(default_factory=DQNConfig)
    curriculum: CurriculumConfig = dataclasses.field(default_factory=CurriculumConfig)
    eval_every: int = 50
    eval_episodes: int = 1
    chunk_steps: int = 16

    def __post_init__(self) -> None:
        for name in ("episodes", "n_envs", "eval_every", "eval_episodes", "chunk_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "eval_episodes" else 1):
                raise ValueError(f"search {name} must be a positive integer, got {value!r}")
        if self.preset not in PRESET_NAMES:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {PRESET_NAMES}")

    def replace(self, **changes: Any) -> SearchConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown search config field(s) {sorted(unknown)}; known: {sorted(known)}")
        nested = {"spsa": SPSAConfig, "dqn": DQNConfig, "curriculum": CurriculumConfig}
        for name, kind in nested.items():
            if isinstance(data.get(name), dict):
                sub = dict(data[name])
                bad = set(sub) - {f.name for f in dataclasses.fields(kind)}
                if bad:
                    raise ValueError(f"unknown {name} config field(s) {sorted(bad)}")
                if name == "dqn" and isinstance(sub.get("hidden"), list):
                    sub["hidden"] = tuple(sub["hidden"])
                data[name] = kind(**sub)
            elif name in data and not isinstance(data[name], kind):
                raise ValueError(f"config field {name!r} must be a table of {kind.__name__} fields, got {data[name]!r}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> SearchConfig:
        """From a ``.json`` or ``.toml`` file (nested tables ``[spsa]``, ``[dqn]``, ``[curriculum]``)."""
        path = Path(path)
        text = path.read_text()
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
            raise ValueError(f"{path}: cannot parse config ({err})") from None
        return cls.from_dict(data)

    def __str__(self) -> str:
        lines = [f"SearchConfig({self.problem}, noise={self.noise}, preset={self.preset}, episodes={self.episodes})"]
        for name in ("spsa", "dqn", "curriculum"):
            lines.append(f"  {name}: {getattr(self, name)}")
        return "\n".join(lines)


def preset(name: str, problem: str, n_qubits: int, **overrides: Any) -> SearchConfig:
    """The ``fast`` or ``paper`` configuration for a problem (``overrides`` replace fields)."""
    from .optim.vqe import preset_config

    small = n_qubits <= 4
    n_step = 5 if small else 6
    published = CurriculumConfig.published(n_qubits)
    if name == "fast":
        cfg = SearchConfig(
            problem=problem,
            preset="fast",
            episodes=100 if small else 200,
            spsa=preset_config(problem, "adam-spsa", 500),
            dqn=DQNConfig(
                hidden=(128, 128),
                learning_rate=1e-3,
                batch_size=32,
                buffer_size=5000 if n_qubits <= 6 else 1000,
                target_every=100,
                n_step=n_step,
                eps_decay=0.995,
            ),
            curriculum=CurriculumConfig(published.delta, greedy_period=20, n_successes=3, n_shrinks=10),
            eval_every=25,
        )
    elif name == "paper":
        width = {True: 1000, False: 2000 if n_qubits <= 6 else 5000}[small]
        cfg = SearchConfig(
            problem=problem,
            preset="paper",
            episodes=10_000 if small else 20_000,
            spsa=preset_config(problem, "adam-spsa", 500),
            dqn=DQNConfig(
                hidden=(width,) * 5,
                learning_rate=1e-4,
                batch_size=1000,
                buffer_size=20_000,
                target_every=500,
                n_step=n_step,
                eps_decay=0.99995,
            ),
            curriculum=published,
            eval_every=500,
        )
    else:
        raise ValueError(f"unknown preset {name!r}; choose one of {PRESET_NAMES}")
    return cfg.replace(**overrides)
