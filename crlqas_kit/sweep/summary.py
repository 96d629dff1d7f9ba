"""What a sweep leaves in its directory: the grid check, the results per configuration and seed, the live board."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._checks import write_atomic
from .grid import GRID_FILE, SUMMARY_FILE, TASKS_DIR, RunSpec, SweepError
from .task import run_state


def _normal(data: Any) -> Any:
    """A run's record as this version writes it (JSON-normalised; its config's new fields defaulted)."""
    from ..search_config import canonical_config

    data = json.loads(json.dumps(data))
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data["config"] = canonical_config(data["config"])
    return data


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
    from ..results import load_run, record_to_circuit
    from ..sim.qasm import to_qasm

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
    from ..results import rank_key

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
                "mitigate_readout": cfg.mitigate_readout,
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
    from ..results import package_versions

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
        counts = {k: 0 for k in ("finished", "running", "failed", "pending", "interrupted", "not run")}
        for run in self.runs:
            s = self.status.get(run.name, "pending")
            counts["finished" if s in ("finished", "skipped") else s if s in counts else "pending"] += 1
        stopped = f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""
        stopped += f", {counts['not run']} not selected" if counts["not run"] else ""
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
