"""The training commands of ``crlqas``: ``search``, ``sweep`` and ``demo`` (the parser and the
other commands are in :mod:`crlqas_kit.cli`).

What they share: the configuration from command-line options (``--problem``, ``--noise``, ...),
the rules of ``--resume`` (only ``--episodes`` and the stopping and saving options may change a
run), the progress line, and the stopping rules checked between compiled chunks (wall time,
"every seed accurate", an evaluation budget).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

from ._checks import UsageError

#: ``crlqas search``'s problem when none is given.
DEFAULT_PROBLEM = "H2-2q"


class _Progress:
    """A one-line progress bar on stderr for ``crlqas search``."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.best: float | None = None

    def __call__(self, event: dict) -> None:
        if self.quiet:
            return
        if event["event"] == "episode":
            self.best = event["error"] if self.best is None else min(self.best, event["error"])
        elif event["event"] == "chunk":
            done, target = min(event["episodes"]), event["target"]
            bar = "#" * int(30 * min(done, target) / target)
            best = "-" if self.best is None else f"{self.best:.2e}"
            print(
                f"\r[{bar:<30}] {min(done, target)}/{target} episodes, best error {best} Ha, {event['seconds']:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )


class _StopRule:
    """``should_stop`` for ``crlqas search``: a wall-time limit and/or "every seed is accurate".

    The clock starts at the first poll (the start of training, compile included), so a run
    always trains at least one chunk.
    """

    def __init__(
        self, time_limit: float | None, until_accurate: bool, results=None, seeds=(), max_evaluations: int | None = None
    ) -> None:
        self.time_limit = time_limit
        self.until_accurate = until_accurate
        self.max_evaluations = max_evaluations
        # seeds without a chemically accurate episode yet (a resumed run may have some already)
        self.waiting = {s for s in seeds if results is None or results.first_chemically_accurate(s) is None}
        self.spent = {s: 0 if results is None else results.evaluations.get(s, 0) for s in seeds}
        self.deadline: float | None = None
        self.callbacks = [self._episode] if until_accurate or max_evaluations is not None else []

    def _episode(self, event: dict) -> None:
        if event["event"] == "episode" and event["chemically_accurate"]:
            self.waiting.discard(event["seed"])
        if event["event"] == "episode":
            self.spent[event["seed"]] = event.get("evaluations", 0)

    def __call__(self) -> bool:
        if self.time_limit is not None and self.deadline is None:
            self.deadline = time.monotonic() + self.time_limit
        if self.until_accurate and not self.waiting:
            return True
        if self.max_evaluations is not None and min(self.spent.values()) >= self.max_evaluations:
            return True
        return self.deadline is not None and time.monotonic() > self.deadline


#: ``crlqas search`` options that set the configuration (attribute, SearchConfig field or None)
_CONFIG_OPTIONS = (
    ("problem", "problem"),
    ("noise", "noise"),
    ("shots", "shots"),
    ("agent", "agent"),
    ("e_min", "e_min"),
    ("variance", "variance"),
    ("mitigate_readout", "mitigate_readout"),
    ("start", "start"),
    ("new_angle", "new_angle"),
    ("new_angle_scale", "new_angle_scale"),
    ("variant", None),
    ("min_threshold", None),
)


def _apply_options(cfg, args):
    """``cfg`` with the configuration options given on the command line."""
    changes = {}
    for name, field in _CONFIG_OPTIONS:
        if field is not None and getattr(args, name) is not None:
            changes[field] = getattr(args, name)
    if args.variant is not None:
        changes["spsa"] = cfg.spsa.replace(variant=args.variant)
    if args.min_threshold is not None:
        changes["curriculum"] = dataclasses.replace(cfg.curriculum, min_threshold=args.min_threshold)
    return cfg.replace(**changes)


def _search_config(args):
    from .problems import load_problem
    from .search_config import SearchConfig, preset

    if args.config:
        cfg = SearchConfig.load(args.config)
    else:
        problem = load_problem(args.problem or DEFAULT_PROBLEM)
        cfg = preset(args.preset or "fast", problem.name, problem.n_qubits, noise=args.noise or "none")
    cfg = _apply_options(cfg, args)
    if args.episodes is not None:
        cfg = cfg.replace(episodes=args.episodes)
    # validate what the search would only reject after compiling, before anything is printed
    from .sim.noise_spec import parse_noise
    from .sim.shots import check_shots

    parse_noise(cfg.noise, load_problem(cfg.problem).n_qubits)
    check_shots(cfg.shots)
    return cfg


def _resume_conflicts(args, cfg, seeds) -> list[str]:
    """The options given with ``--resume`` that would change the run (only episodes and the
    stopping options may): each as ``--name VALUE (the run: VALUE)``."""
    out = [f"--{name}" for name in ("preset", "config") if getattr(args, name) is not None]
    changed = _apply_options(cfg, args)
    for name, field in _CONFIG_OPTIONS:
        if getattr(args, name) is None:
            continue
        old, new = cfg.to_dict(), changed.to_dict()
        key = field or ("spsa" if name == "variant" else "curriculum")
        if old[key] != new[key]:
            shown = {"spsa": cfg.spsa.variant, "curriculum": cfg.curriculum.min_threshold}.get(key, old[key])
            out.append(f"--{name.replace('_', '-')} {getattr(args, name)} (the run: {shown})")
    if args.seeds is not None and list(args.seeds) != list(seeds):
        out.append(f"--seeds {' '.join(map(str, args.seeds))} (the run: {' '.join(map(str, seeds))})")
    return out


def cmd_search(args) -> int:
    from .autosave import check_out
    from .results import ResumeWarning
    from .search import check_seeds, load_checkpoint, search

    if args.time_limit is not None and not args.time_limit > 0:  # also rejects nan
        raise UsageError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    if args.max_evaluations is not None and args.max_evaluations < 1:
        raise UsageError(f"--max-evaluations must be a positive number of evaluations, got {args.max_evaluations}")
    if args.save_every is not None and not args.save_every >= 0:  # also rejects nan
        raise UsageError(f"--save-every must be a number of seconds >= 0, got {args.save_every}")
    if args.resume:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always", ResumeWarning)
            state, results = load_checkpoint(args.resume)
        conflicts = _resume_conflicts(args, results.config, results.seeds)
        if conflicts:
            raise UsageError(
                f"--resume continues {args.resume} with its own configuration; these options would change it: "
                + ", ".join(conflicts)
                + " (allowed with --resume: --episodes and the stopping and saving options)"
            )
        for note in notes:  # repairs (logs cut back, previous checkpoint used): said, not a traceback
            print(f"crlqas: note: {note.message}", file=sys.stderr)
        cfg = results.config if args.episodes is None else results.config.replace(episodes=args.episodes)
        results.config = cfg
        seeds, resume = results.seeds, (state, results)
    else:
        cfg = _search_config(args)
        seeds, resume = args.seeds or [0], None
        check_seeds(None, seeds)
    check_out(args.out, cfg, seeds, resuming=resume is not None, force=args.force)  # before any output
    print(cfg, file=sys.stderr)
    progress = _Progress(args.quiet)
    stop = _StopRule(args.time_limit, args.until_accurate, resume[1] if resume else None, seeds, args.max_evaluations)
    interrupted: list[dict] = []  # search(out=...) saves; it reports a SIGINT/SIGTERM stop as an event
    results = search(
        cfg,
        seeds=seeds,
        callbacks=[progress, *stop.callbacks, lambda e: e["event"] == "interrupted" and interrupted.append(e)],
        resume=resume,
        should_stop=stop,
        out=args.out,
        save_every=60.0 if args.save_every is None else args.save_every,
        force=args.force,
    )
    if not args.quiet:
        print(file=sys.stderr)
    print(results.summary_table())
    print(f"run saved to {args.out}")
    if interrupted:
        hint = f"continue with: crlqas search --resume {args.out} --out {args.out}"
        print(f"interrupted by {interrupted[0]['signal']}; {hint}", file=sys.stderr)
        return 130
    return 0


#: ``crlqas sweep`` options that make the grid (attribute -> grid key); ``--grid FILE`` replaces them all
_GRID_OPTIONS = {
    "problem": "problem",
    "noise": "noise",
    "preset": "preset",
    "agent": "agent",
    "seeds": "seeds",
    "episodes": "episodes",
    "time_limit": "time_limit",
    "until_accurate": "until_accurate",
    "max_evaluations": "max_evaluations",
    "shots": "shots",
    "mitigate_readout": "mitigate_readout",
}


def cmd_sweep(args) -> int:
    """Every (configuration, seed) of a grid as a Ray task: see :mod:`crlqas_kit.sweep`."""
    from .sweep import load_grid, sweep

    values = {key: getattr(args, attr) for attr, key in _GRID_OPTIONS.items()}
    given = {key: value for key, value in values.items() if value is not None and value is not False}  # 0 is given
    if args.grid is not None:
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise UsageError(f"give either --grid FILE or the grid options, not both (also given: {flags})")
        grid = load_grid(args.grid)
    else:
        if args.problem is None:
            raise UsageError("give the grid: --problem NAME ... (with --noise, --seeds, ...) or --grid FILE.toml")
        grid = given
    result = sweep(
        grid,
        args.out,
        num_cpus=args.num_cpus,
        cpus_per_run=args.cpus_per_run,
        max_retries=args.max_retries,
        address=args.address,
        save_every=args.save_every,
        pin_cpus=args.pin_cpus,
        progress=not args.quiet,
        only=args.only,
    )
    print(result.table())
    print(f"sweep saved to {args.out} (summary: {Path(args.out) / 'sweep_summary.json'})")
    if result.interrupted:
        print(
            "interrupted; continue with the same command (finished runs are skipped, the others resume)",
            file=sys.stderr,
        )
        return 130
    if result.failed:
        for row in result.failed:
            print(f"crlqas: run {row['name']} failed: {row.get('error', 'unknown error')}", file=sys.stderr)
        return 1
    return 0


#: The main job's problem: small enough for a few minutes on 2 cores, large enough that a learned
#: policy visibly beats random gate choices (measured: docs/results.md, "The main job").
DEMO_PROBLEM = "H2-3q"


def cmd_demo(args) -> int:
    """The main job: CRLQAS (fast preset) and the random agent on the same problem and budget,
    each in its run directory, and a report that overlays their learning curves."""
    from .autosave import check_out
    from .problems import load_problem
    from .search import search
    from .search_config import preset
    from .viz.report import write_report

    out = Path(args.out)
    # running the demo again replaces its previous output; any other run in --out is refused
    again = _is_demo(out)
    problem = load_problem(DEMO_PROBLEM)
    cfg = preset("fast", problem.name, problem.n_qubits, episodes=args.episodes)
    check_out(out, cfg, [0], force=again)
    print(cfg, file=sys.stderr)
    results, interrupted = {}, []
    for agent, where in (("ddqn", out), ("random", out / "random-agent")):
        print(f"{agent}: {args.episodes} episodes of {problem.name}", file=sys.stderr)
        callbacks = [_Progress(), lambda e: e["event"] == "interrupted" and interrupted.append(e)]
        results[agent] = search(cfg.replace(agent=agent), seeds=[0], callbacks=callbacks, out=where, force=again)
        print(file=sys.stderr)
        if interrupted:
            print(f"interrupted by {interrupted[0]['signal']}; the {agent} run is saved in {where}", file=sys.stderr)
            return 130
    report = write_report(out, compare=[out / "random-agent"], labels=["DDQN", "random agent"])
    print(results["ddqn"].summary_table())
    print(f"wrote {out} (report: {report}; the random agent's run: {out / 'random-agent'})")
    return 0


def _is_demo(out: Path) -> bool:
    """Whether ``out`` holds the output of an earlier ``crlqas demo`` (a run of its problem)."""
    try:
        return json.loads((out / "config.json").read_text())["config"]["problem"] == DEMO_PROBLEM
    except (OSError, ValueError, KeyError, TypeError):
        return False
