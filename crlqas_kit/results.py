"""Results of a search and its run directory.

A run directory holds::

    config.json         the SearchConfig, seeds, package versions, problem summary, timings
    episodes.jsonl      one JSON object per training episode (return, energies, true error, success,
                        gates, CNOTs, depth, epsilon, threshold, loss, seed)
    evals.jsonl         greedy evaluation episodes (curriculum untouched)
    best/seed<S>_<i>.qasm, best/seed<S>_<i>.json   the best circuits and their energies
    checkpoint.npz      the whole training state (agent, target, optimiser, buffer, environments,
                        curriculum, PRNG keys), so ``crlqas search --resume DIR`` continues exactly
                        (``crlqas_kit.search.load_checkpoint``; arrays named by tree path and a format
                        version, see :mod:`crlqas_kit.checkpoint`)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import run_dir
from ._checks import MAX_SEED, check_int, write_atomic
from .checkpoint import save_pytree
from .sim.circuit import GATE_NAMES, GATES, Circuit
from .sim.qasm import to_qasm

N_BEST = 5
_PACKAGES = ("crlqas_kit", "jax", "jaxlib", "flax", "optax", "numpy", "scipy")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def circuit_record(n_qubits: int, gates, wires, slots, angles, length: int) -> dict[str, Any]:
    """A JSON-able circuit: ops with angles and its QASM."""
    ops = []
    for i in range(int(length)):
        name = GATE_NAMES[int(gates[i])]
        w = [int(wires[i][0]), int(wires[i][1])] if GATES[name][1] == 2 else [int(wires[i][0])]
        ops.append([name, w, float(angles[int(slots[i])]) if slots[i] >= 0 else None])
    return {"n_qubits": n_qubits, "ops": ops}


def record_to_circuit(record: dict[str, Any]) -> Circuit:
    return Circuit.from_ops(record["n_qubits"], [(n, tuple(w), a) for n, w, a in record["ops"]])


def kept_entry(record: Mapping[str, Any], circuit: dict[str, Any]) -> dict[str, Any]:
    """A best-circuit entry (``Results.best``) of an episode's ``record`` and its ``circuit``."""
    keys = ("episode", "error", "exact_energy", "energy", "gates", "cnots", "depth", "chemically_accurate")
    return {**{k: record[k] for k in keys}, "circuit": circuit}


def rank_key(entry: Mapping[str, Any]) -> tuple:
    """The kit's one ranking of circuits (smaller is better): chemically accurate first, and
    among those fewer CNOTs, then fewer gates, then lower error; the others by error alone."""
    if entry["chemically_accurate"]:
        return (False, entry["cnots"], entry["gates"], entry["error"])
    return (True, entry["error"], 0, 0)


def best_of(best: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The best entry of ``Results.best`` (``{seed: [entries...]}``) by :func:`rank_key`."""
    return min((e for entries in best.values() for e in entries), key=rank_key, default=None)


@dataclasses.dataclass
class Results:
    """What a search returns: per-episode logs, evaluations, best circuits, and the final state."""

    config: Any
    seeds: list[int]
    problem: dict[str, Any]
    episodes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    evals: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    best: dict[int, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    #: objective evaluations spent per seed (every step, finished episodes or not)
    evaluations: dict[int, int] = dataclasses.field(default_factory=dict)
    stopped: bool = False
    checkpoint: Any = None
    versions: dict[str, str] = dataclasses.field(default_factory=package_versions)

    def __repr__(self) -> str:
        # concise: the dataclass default would print every episode and the whole training state
        name = self.problem.get("name", "?") if isinstance(self.problem, dict) else self.problem
        first = {s: self.first_chemically_accurate(s) for s in self.seeds}
        return (
            f"Results({name}, seeds={self.seeds}, episodes={len(self.episodes)}, evals={len(self.evals)}, "
            f"first chemically accurate episode={first}, seconds={self.seconds:.1f}"
            + (", stopped" if self.stopped else "")
            + (", with checkpoint" if self.checkpoint is not None else "")
            + ")"
        )

    def episodes_of(self, seed: int) -> list[dict[str, Any]]:
        return [e for e in self.episodes if e["seed"] == seed]

    def add_episode(self, record: dict[str, Any], circuit: dict[str, Any]) -> None:
        record = {**record, "seconds": self.seconds}
        self.episodes.append(record)
        if record["gates"] == 0:
            return
        best = self.best.setdefault(record["seed"], [])
        best.append(kept_entry(record, circuit))
        best.sort(key=rank_key)
        del best[N_BEST:]

    def best_circuit(self) -> dict[str, Any] | None:
        """The best kept circuit over all seeds by :func:`rank_key` (None before any episode)."""
        return best_of(self.best)

    def add_eval(self, seed: int, after_episodes: int, ev: dict, problem) -> dict[str, Any]:
        state = ev["state"]
        exact = float(state.exact_energy)
        record = {
            "seed": seed,
            "after_episodes": after_episodes,
            "return": float(ev["return"]),
            "exact_energy": exact,
            "error": problem.error(exact),
            "chemically_accurate": problem.is_chemically_accurate(exact),
            "gates": int(state.circuit.length),
        }
        self.evals.append(record)
        return record

    # -- summaries --------------------------------------------------------------------------
    def first_chemically_accurate(self, seed: int) -> int | None:
        return next((e["episode"] for e in self.episodes_of(seed) if e["chemically_accurate"]), None)

    def summary(self) -> list[dict[str, Any]]:
        """One row per seed: success, first chemically accurate episode, best circuit, time."""
        rows = []
        for seed in self.seeds:
            eps = self.episodes_of(seed)
            best = (self.best.get(seed) or [None])[0]
            first = self.first_chemically_accurate(seed)
            first_seconds = next((e["seconds"] for e in eps if e["chemically_accurate"]), None)
            rows.append(
                {
                    "seed": seed,
                    "episodes": len(eps),
                    "success": first is not None,
                    "first_chemically_accurate_episode": first,
                    "seconds_to_chemical_accuracy": first_seconds,
                    "best_error": None if best is None else best["error"],
                    "best_gates": None if best is None else best["gates"],
                    "best_cnots": None if best is None else best["cnots"],
                    "best_depth": None if best is None else best["depth"],
                    "seconds": self.seconds,
                }
            )
        return rows

    def summary_table(self) -> str:
        """The summary as a Markdown table."""
        rows = self.summary()
        head = "| seed | episodes | chem. acc. | first episode | best error (Ha) | gates | CNOTs | depth |"
        lines = [head, "|" + "---|" * 8]
        for r in rows:
            err = "-" if r["best_error"] is None else f"{r['best_error']:.2e}"
            lines.append(
                f"| {r['seed']} | {r['episodes']} | {'yes' if r['success'] else 'no'} | "
                f"{r['first_chemically_accurate_episode'] or '-'} | {err} | {r['best_gates'] or '-'} | "
                f"{r['best_cnots'] if r['best_cnots'] is not None else '-'} | {r['best_depth'] or '-'} |"
            )
        return "\n".join(lines)

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the run directory (see module docstring).

        Order: ``config.json`` (a directory with any file of a run is a run), logs, best circuits,
        checkpoint. Every file is written to a
        temporary name and renamed, and the previous checkpoint is kept as
        ``checkpoint.prev.npz`` until the new one is complete; the checkpoint records how many log
        lines it belongs to and their SHA-256, so a kill between two files is caught on resume
        (:func:`restore_from`).
        """
        out = Path(path)
        run_dir.refuse_symlinks(out)  # an existing directory: never write or delete through a planted link
        (out / "best").mkdir(parents=True, exist_ok=True)
        meta = self._meta()
        write_atomic(out / "config.json", json.dumps({**meta, "summary": self.summary()}, indent=1) + "\n")
        logs = {name: _jsonl(rows) for name, rows in (("episodes", self.episodes), ("evals", self.evals))}
        for name, text in logs.items():
            write_atomic(out / f"{name}.jsonl", text)
        kept = set()
        for seed, entries in self.best.items():
            for i, entry in enumerate(entries):
                stem = out / "best" / f"seed{seed}_{i}"
                write_atomic(stem.with_suffix(".json"), json.dumps(entry, indent=1) + "\n")
                write_atomic(stem.with_suffix(".qasm"), to_qasm(record_to_circuit(entry["circuit"])))
                kept |= {stem.name + ".json", stem.name + ".qasm"}
        for old in (out / "best").glob("seed*"):
            if old.name not in kept:
                old.unlink()
        if self.checkpoint is not None:
            counts = {name: text.count("\n") for name, text in logs.items()}
            ckpt_meta = {
                **meta,
                **{f"{name}_lines": counts[name] for name in logs},
                **{f"{name}_sha256": _sha256(text.encode()) for name, text in logs.items()},
                "best": {str(k): v for k, v in self.best.items()},
            }
            save_pytree(out / CHECKPOINT, self.checkpoint, meta=ckpt_meta, previous=out / PREVIOUS_CHECKPOINT)
        return out

    def _meta(self) -> dict[str, Any]:
        from .search_config import SearchConfig

        cfg = self.config.to_dict() if isinstance(self.config, SearchConfig) else self.config
        return {
            "config": cfg,
            "seeds": self.seeds,
            "problem": self.problem,
            "seconds": self.seconds,
            "evaluations": {str(k): v for k, v in self.evaluations.items()},
            "stopped": self.stopped,
            "versions": self.versions,
        }


#: The checkpoint of a run directory, and the one it replaced (kept until the next is complete).
CHECKPOINT, PREVIOUS_CHECKPOINT = "checkpoint.npz", "checkpoint.prev.npz"


class ResumeWarning(UserWarning):
    """Resuming a run needed a repair: logs cut back to the checkpoint, or the previous checkpoint used."""


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checkpoint_files(path: str | Path) -> list[Path]:
    """The checkpoints of a run directory to try, newest first (``checkpoint.npz``, ``checkpoint.prev.npz``)."""
    return [f for f in (Path(path) / CHECKPOINT, Path(path) / PREVIOUS_CHECKPOINT) if f.exists()]


def restore_from(path: str | Path, results: Results, meta: dict[str, Any] | None) -> tuple[Results, list[str]]:
    """``results`` (as :func:`load_run` read them from ``path``) brought to the checkpoint whose
    metadata is ``meta``, and notes saying what was repaired.

    The checkpoint belongs to the first ``episodes_lines`` lines of ``episodes.jsonl`` (and
    ``evals_lines`` of ``evals.jsonl``) with the recorded SHA-256: longer logs (a kill after the
    logs were written and before the checkpoint) are cut back to those lines, saying so; shorter
    or different logs are a ``ValueError``. Seeds, config, timings and best circuits come from the
    checkpoint, so a run resumed from the previous checkpoint is the run as it was then.
    ``meta=None`` (checkpoints written before format version 2): the logs are taken as they are.
    """
    from .search_config import SearchConfig

    if meta is None:
        return dataclasses.replace(results), []
    path, notes, kept, longer = Path(path), [], {}, False
    try:
        for name in ("episodes", "evals"):
            n, digest = int(meta[f"{name}_lines"]), str(meta[f"{name}_sha256"])
            file = path / f"{name}.jsonl"
            lines = file.read_bytes().splitlines(keepends=True) if file.exists() else []
            if len(lines) < n:
                raise ValueError(f"{file.name} has {len(lines)} lines, the checkpoint belongs to {n}")
            if _sha256(b"".join(lines[:n])) != digest:
                raise ValueError(f"the first {n} lines of {file.name} are not the ones the checkpoint belongs to")
            longer |= len(lines) > n
            kept[name] = n
        if longer:
            notes.append(
                f"the logs go beyond the checkpoint: cut back to its {kept['episodes']} episodes and "
                f"{kept['evals']} evaluation episodes (the rest is trained again)"
            )
        out = dataclasses.replace(
            results,
            config=SearchConfig.from_dict(meta["config"]),
            seeds=[int(s) for s in meta["seeds"]],
            episodes=results.episodes[: kept["episodes"]],
            evals=results.evals[: kept["evals"]],
            best={
                int(k): [run_dir.check_best(e, "checkpoint metadata", results.problem.get("n_qubits")) for e in v]
                for k, v in meta["best"].items()
            },
            seconds=float(meta["seconds"]),
            evaluations={int(k): int(v) for k, v in meta["evaluations"].items()},
            stopped=bool(meta["stopped"]),
            checkpoint=None,
        )
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"malformed checkpoint metadata ({type(err).__name__}: {err})") from None
    return out, notes


#: Per-window learning statistics of :func:`learning_stats` (what the comparison figures plot).
STAT_KEYS = ("success_rate", "accurate_rate", "median_error", "median_gates", "eps", "threshold", "evaluations")


def learning_stats(episodes, window: int = 100) -> dict[str, list]:
    """Learning curves in windows of ``window`` episodes (per seed, then pooled over seeds).

    Returns ``{"episode": [last episode of each window], "success_rate": ..., ...}`` with, per
    window: the success rate against the curriculum threshold (random search: chemical accuracy),
    the chemical-accuracy rate, the median true error (Ha) and circuit length (gates), the mean
    epsilon, the median threshold xi, and the mean cumulative objective evaluations at the window's
    end. Only complete windows are reported (a seed's trailing partial window is dropped).
    """
    check_int(window, "window", unit="episodes")
    by_seed: dict[int, list[dict]] = {}
    for e in getattr(episodes, "episodes", episodes):
        by_seed.setdefault(e.get("seed", 0), []).append(e)
    n_windows = min((len(v) // window for v in by_seed.values()), default=0)
    out: dict[str, list] = {"episode": [(w + 1) * window for w in range(n_windows)], **{k: [] for k in STAT_KEYS}}
    for w in range(n_windows):
        rows = [e for v in by_seed.values() for e in v[w * window : (w + 1) * window]]
        out["success_rate"].append(float(np.mean([bool(e["success"]) for e in rows])))
        out["accurate_rate"].append(float(np.mean([bool(e["chemically_accurate"]) for e in rows])))
        out["median_error"].append(float(np.median([e["error"] for e in rows])))
        out["median_gates"].append(float(np.median([e["gates"] for e in rows])))
        out["eps"].append(float(np.mean([e.get("eps", np.nan) for e in rows])))
        out["threshold"].append(
            float(np.nanmedian([e.get("threshold", np.nan) for e in rows]))
            if any(np.isfinite(e.get("threshold", np.nan)) for e in rows)
            else float("nan")
        )
        ends = [v[(w + 1) * window - 1].get("evaluations", np.nan) for v in by_seed.values()]
        out["evaluations"].append(float(np.mean(ends)))
    return out


def curriculum_trace(run: Results, seed: int) -> dict[str, Any]:
    """What the curriculum did in one seed of a run: :func:`crlqas_kit.rl.curriculum.trace` over its log.

    The rule is re-run from the logged ``success`` of each training episode, with the episode's
    logged final energy standing in for its best energy (the log keeps only the final one; they
    differ only when a later gate made the energy worse), from the first episode's logged
    threshold and the run's ``E_min``. Returns the trace's per-episode arrays plus ``episode``,
    ``gap`` (``|E - E_min|`` at each episode's end: what the success test compares with xi),
    ``error`` (the true ``|E - E0|``), ``logged_threshold``, ``e_min`` and ``config``
    (the run's :class:`~crlqas_kit.rl.curriculum.CurriculumConfig`). ``threshold`` equal to
    ``logged_threshold`` checks that the run followed the rule. Random search has no curriculum:
    a ``ValueError``.
    """
    from .problems import load_problem
    from .rl import curriculum
    from .rl.env import reference_minimum

    episodes = run.episodes_of(seed)
    if not episodes:
        raise ValueError(f"the run has no training episodes of seed {seed} (seeds: {run.seeds})")
    if getattr(run.config, "agent", "ddqn") == "random-search":
        raise ValueError("a random-search run has no curriculum (its episodes are independent circuits)")
    e_min = float(run.problem["e0"]) if run.config.e_min == "exact" else None
    if e_min is None:
        e_min = reference_minimum(load_problem(run.config.problem), run.config.e_min)
    out: dict[str, Any] = curriculum.trace(
        run.config.curriculum,
        [e["success"] for e in episodes],
        [e["energy"] for e in episodes],
        episodes[0]["threshold"],
        e_min,
    )
    out.update(
        episode=np.array([e["episode"] for e in episodes]),
        gap=np.abs(np.array([e["energy"] for e in episodes]) - e_min),
        error=np.array([e["error"] for e in episodes]),
        logged_threshold=np.array([e["threshold"] for e in episodes]),
        e_min=e_min,
        config=run.config.curriculum,
    )
    return out


def _read_json(path: Path, what: str) -> Any:
    run_dir.check_size(path, run_dir.MAX_JSON_BYTES)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{path}: malformed {what} ({type(err).__name__}: {err})") from None


def _read_jsonl(path: Path, schema: run_dir.Schema) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    run_dir.check_size(path, run_dir.MAX_LOG_BYTES)
    rows = []
    with open(path, "rb") as f:
        for i, line in enumerate(iter(lambda: f.readline(run_dir.MAX_LINE_BYTES + 1), b""), 1):
            if len(line) > run_dir.MAX_LINE_BYTES:
                raise ValueError(f"{path}: line {i} is longer than {run_dir.MAX_LINE_BYTES} bytes")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{path}: line {i} is not UTF-8 text") from None
            if text.strip():
                try:
                    row = json.loads(text)
                except (ValueError, RecursionError) as err:  # e.g. JSONDecodeError, an integer of 5000 digits
                    raise ValueError(f"{path}: line {i} is not valid JSON ({err})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}: line {i} is not a JSON object")
                rows.append(run_dir.check_record(row, schema, f"{path}: line {i}"))
    return rows


def load_run(path: str | Path, with_checkpoint: bool = False) -> Results:
    """Read a run directory written by :meth:`Results.save`, checking every record it reads
    against the rules of :mod:`crlqas_kit.run_dir` (symbolic links refused, sizes and schemas)."""
    from .search_config import SearchConfig

    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ValueError(f"{path} is not a run directory (no config.json)")
    run_dir.refuse_symlinks(path)
    meta = run_dir.check_record(_read_json(cfg_file, "run config"), run_dir.CONFIG, str(cfg_file))
    try:
        config = SearchConfig.from_dict(meta["config"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{cfg_file}: malformed run config ({type(err).__name__}: {err})") from None
    results = Results(
        config=config,
        seeds=list(meta["seeds"]),
        problem=dict(meta["problem"]),
        seconds=float(meta["seconds"]),
        evaluations={int(k): v for k, v in meta.get("evaluations", {}).items()},
        stopped=meta["stopped"],
        versions=dict(meta["versions"]),
    )
    results.episodes = _read_jsonl(path / "episodes.jsonl", run_dir.EPISODE)
    results.evals = _read_jsonl(path / "evals.jsonl", run_dir.EVAL)
    for f in sorted((path / "best").glob("seed*_*.json")):
        name = re.fullmatch(r"seed(\d{1,10})_\d{1,6}\.json", f.name)
        if name is None or int(name[1]) >= MAX_SEED:
            raise ValueError(f"{f}: malformed best-circuit file name (allowed: seed<S>_<i>.json, S a seed)")
        entry = run_dir.check_best(_read_json(f, "best-circuit file"), str(f), results.problem.get("n_qubits"))
        results.best.setdefault(int(name[1]), []).append(entry)
    if with_checkpoint and (path / "checkpoint.npz").exists():
        results.checkpoint = path / "checkpoint.npz"
    return results
