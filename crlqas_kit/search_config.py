"""Configuration of a CRLQAS search: plain dataclasses, printable, JSON/TOML round-trips, presets.

``fast``: small network and short curriculum periods, for laptops, Binder and CI.
``paper``: the published configuration, each value with its spec section in :func:`preset`.

``agent``: ``"ddqn"`` (the method), ``"random"`` (uniform over the legal actions in the same
environment, inner optimiser, halting, curriculum and budget; no learning) or ``"random-search"``
(random circuits of the halting length, each optimised with the evaluations the environment would
spend building it; :mod:`crlqas_kit.baselines.random_search`). The two baselines tell what the
learning adds to VQE on random circuits.

``new_angle``: how a newly placed rotation starts, ``"zeros"`` (published: the identity, so a
step starts at the previous energy) or ``"random"`` (``new_angle_scale * N(0, 1)`` rad; every
agent, the random search included, starts its rotations the same way).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from ._checks import check_int, check_number
from .optim.presets import preset_config, published_config
from .optim.spsa_config import SPSAConfig
from .problems import CHEMICAL_ACCURACY, Problem, load_problem
from .rl import env as qas_env
from .rl.curriculum import CurriculumConfig
from .rl.dqn import DQNConfig
from .rl.env import NEW_ANGLES, STARTS
from .sim.shots import VARIANCES

PRESET_NAMES = ("fast", "paper")
AGENTS = ("ddqn", "random", "random-search")


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
    halt_r: float = 70.0
    halt_p: float = 0.573
    halt_min: int = 25
    halt_terminal: bool = True
    threshold0: float | None = None
    e_min: str | float = "exact"
    variance: str = "exact"
    mitigate_readout: bool = False
    new_angle: str = "zeros"
    new_angle_scale: float = 0.01
    agent: str = "ddqn"
    spsa: SPSAConfig = dataclasses.field(default_factory=lambda: SPSAConfig(budget=500))
    dqn: DQNConfig = dataclasses.field(default_factory=DQNConfig)
    curriculum: CurriculumConfig = dataclasses.field(default_factory=CurriculumConfig)
    eval_every: int = 50
    eval_episodes: int = 1
    chunk_steps: int = 16

    def __post_init__(self) -> None:
        for name in ("episodes", "n_envs", "eval_every", "eval_episodes", "chunk_steps"):
            check_int(getattr(self, name), f"search {name}", minimum=0 if name == "eval_episodes" else 1)
        if self.preset not in PRESET_NAMES:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {PRESET_NAMES}")
        if self.agent not in AGENTS:
            raise ValueError(f"unknown agent {self.agent!r}; choose one of {AGENTS}")
        if self.variance not in VARIANCES:
            raise ValueError(f"unknown shot-noise variance {self.variance!r}; choose one of {VARIANCES}")
        if not isinstance(self.mitigate_readout, bool):
            raise TypeError(f"mitigate_readout must be true or false, got {self.mitigate_readout!r}")
        if self.start not in STARTS:
            raise ValueError(f"unknown start {self.start!r}; choose one of {STARTS}")
        if self.new_angle not in NEW_ANGLES:
            raise ValueError(f"unknown new_angle {self.new_angle!r}; choose one of {NEW_ANGLES}")
        object.__setattr__(self, "new_angle_scale", check_number(self.new_angle_scale, "new_angle_scale", unit="rad"))
        object.__setattr__(self, "e_min", parse_e_min(self.e_min))

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


def canonical_config(data: Any) -> Any:
    """A stored configuration (``config.json``'s ``"config"``) as this version writes it: fields
    added since it was saved get their defaults, so that runs saved before them still match the
    configuration that resumes them; left as it is (JSON-normalised) when it does not parse."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        data = SearchConfig.from_dict(data).to_dict()
    return json.loads(json.dumps(data))


def make_env_params(config: SearchConfig, problem: Problem | None = None) -> qas_env.EnvParams:
    """The environment of a run (the search and the random-search baseline share it)."""
    problem = load_problem(config.problem) if problem is None else problem
    return qas_env.make_params(
        problem,
        config.noise,
        max_steps=config.max_steps,
        spsa=config.spsa,
        shots=config.shots,
        variance=config.variance,
        mitigate_readout=config.mitigate_readout,
        start=config.start,
        e_min=config.e_min,
        threshold0=config.threshold0,
        halting=config.halting,
        halt_r=config.halt_r,
        halt_p=config.halt_p,
        halt_min=min(config.halt_min, config.max_steps or qas_env.DEFAULT_MAX_STEPS.get(problem.n_qubits, 250)),
        halt_terminal=config.halt_terminal,
        new_angle=config.new_angle,
        new_angle_scale=config.new_angle_scale,
    )


def parse_e_min(value: Any) -> str | float:
    """``"exact"``, ``"pauli-bound"`` or a finite number (also given as a string, e.g. from the CLI)."""
    if isinstance(value, str) and value in ("exact", "pauli-bound"):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"e_min must be 'exact', 'pauli-bound' or a finite energy in Ha, got {value!r}")


def preset(name: str, problem: str, n_qubits: int, noise: str = "none", **overrides: Any) -> SearchConfig:
    """The ``fast`` or ``paper`` configuration for a problem and noise (``overrides`` replace fields)."""
    small = n_qubits <= 4
    n_step = 5 if small else 6
    published = CurriculumConfig.published(n_qubits)
    if name == "fast":
        # Halting scaled to the episode length: the published NegBin(70, 0.573) (mean 52, clip
        # [25, 70]) was made for L = 70; with the L = 40 of 2-4 qubits it almost never halts
        # (P(h < 40) ~ 0.1), so every failing episode runs to 40 gates. NegBin(70, 0.737) has mean 25
        # (sd 6), clipped to [12, 40]: measured on LiH-4q (seed 0, 10 min), 1316 instead of 380
        # episodes and a 15-gate / 6-CNOT accurate circuit instead of a 27 / 9 one.
        halting = dict(halt_p=0.737, halt_min=12) if small else {}
        cfg = SearchConfig(
            problem=problem,
            noise=noise,
            preset="fast",
            **halting,
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
            # the curriculum stops at chemical accuracy (see CurriculumConfig.min_threshold):
            # measured on LiH-4q, see docs/results.md
            curriculum=CurriculumConfig(
                published.delta, greedy_period=20, n_successes=3, n_shrinks=10, min_threshold=CHEMICAL_ACCURACY
            ),
            eval_every=25,
        )
    elif name == "paper":
        noisy = noise != "none"
        width = {True: 1000, False: 2000 if n_qubits <= 6 else 5000}[small]  # spec section 7
        # spec section 8: the published Adam-SPSA (variant, gains, budget or 3-stage schedule);
        # multi-stage runs sampled shots (N/100, N/10, N) with the published 1/N variance
        spsa, shots = published_config(problem, noisy)
        cfg = SearchConfig(
            problem=problem,
            noise=noise,
            preset="paper",
            # spec section 7: 10k-50k episodes per run; H2 at the lower end, LiH/H2O at the upper
            episodes=10_000 if problem.startswith("H2-") else 50_000,
            spsa=spsa,
            shots=shots,
            variance="published",
            dqn=DQNConfig(
                hidden=(width,) * 5,  # spec section 7: 5 x 1000 (2-4q), 5 x 2000 (6q), 5 x 5000 (8q)
                # spec section 7 (Adam 1e-4..3e-4): 3e-4 for the noisy and the LiH-4q runs, 1e-4 otherwise
                learning_rate=3e-4 if noisy or problem == "LiH-4q" else 1e-4,
                batch_size=1000,  # spec section 7
                buffer_size=20_000,  # spec section 7
                target_every=500,  # spec section 7: hard copy every 500 updates
                n_step=n_step,  # spec section 7: 5 (2-4q), 6 (6-8q)
                eps_decay=0.99995,  # spec section 7: x0.99995 per update, floor 0.05
            ),
            curriculum=published,  # spec section 6: delta, T, N_s, K by qubit count
            eval_every=100,  # the published runs evaluate the greedy policy every 100 episodes
        )
    else:
        raise ValueError(f"unknown preset {name!r}; choose one of {PRESET_NAMES}")
    return cfg.replace(**overrides)
