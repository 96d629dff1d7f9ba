"""The ``crlqas`` command line.

    crlqas evaluate --qasm FILE (--hamiltonian FILE.json | --problem NAME) [--noise SPEC] [--json]
    crlqas problems [--json]
    crlqas vqe --problem NAME --qasm FILE [--noise SPEC] [--shots N] [--method M] [--budget N] [--json]
    crlqas search --problem NAME [--noise SPEC] [--preset fast|paper] [--episodes N] [--seeds S ...]
                  [--agent ddqn|random|random-search] [--e-min exact|pauli-bound|E] [--shots N]
                  [--variance exact|published] [--variant kit|published]
                  [--time-limit SECONDS] [--until-accurate] [--max-evaluations N] --out DIR
    crlqas sweep (--problem NAME ... [--noise SPEC ...] [--preset P ...] [--agent A ...] [--seeds S ...]
                  [--episodes N] [--time-limit SECONDS] [--until-accurate] [--max-evaluations N]
                  | --grid FILE.toml) --out DIR [--num-cpus N | --address HOST:PORT]
                  [--cpus-per-run N] [--max-retries N] [--save-every SECONDS]
    crlqas report DIR [--compare DIR ...]
    crlqas demo [--out DIR]

User mistakes (bad files, unknown names, malformed specs) print one ``crlqas: error: ...`` line
on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

#: Largest register ``evaluate`` accepts: the PTM state holds 4^n float64 numbers (n = 12: 134 MB,
#: n = 16 would need 34 GB per copy), so bigger inputs are refused up front instead of failing in XLA.
MAX_QUBITS = 12


#: ``crlqas search``'s problem when none is given.
DEFAULT_PROBLEM = "H2-2q"


class UsageError(Exception):
    """A user mistake, reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with the kit's error format: one ``crlqas: error:`` line, exit code 2 (the usage
    block argparse would print is replaced by a pointer to ``--help``). Subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"crlqas: error: {message} (see {self.prog} --help)\n")


def _integer(text: str) -> int:
    """argparse type of counts and seeds: an integer, also in scientific notation when it is a
    whole number (``--shots 1e6``); the range is checked where the value is used."""
    import decimal

    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"expected a whole number such as 1000 or 1e6, got {text!r}")
    if value.adjusted() >= 100:  # int() of 1e1000000000 would build a billion-digit integer
        raise argparse.ArgumentTypeError(f"{text!r} is far beyond any count or seed the kit accepts")
    return int(value)


def _load_target(args) -> tuple:
    from .problems import load_problem
    from .sim.paulis import PauliSum

    if (args.problem is None) == (args.hamiltonian is None):
        raise UsageError("give exactly one of --problem NAME or --hamiltonian FILE.json")
    if args.problem is not None:
        problem = load_problem(args.problem)
        return problem.hamiltonian, problem
    path = Path(args.hamiltonian)
    if not path.is_file():
        raise UsageError(f"Hamiltonian file not found: {path}")
    try:
        return PauliSum.load(path), None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None


def _load_circuit(path: str, n_qubits: int, target: str):
    """Read a QASM file for a ``n_qubits`` target, with one-line errors for every mistake."""
    from .sim.qasm import load_qasm

    try:
        circuit = load_qasm(path)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None
    if circuit.n_qubits > MAX_QUBITS:
        raise UsageError(f"{path} declares {circuit.n_qubits} qubits; the simulator handles at most {MAX_QUBITS}")
    if circuit.n_qubits != n_qubits:
        raise UsageError(f"{path} declares {circuit.n_qubits} qubits but {target} acts on {n_qubits}")
    return circuit


def cmd_evaluate(args) -> int:
    from .sim.noise_spec import parse_noise
    from .sim.simulator import expectation

    hamiltonian, problem = _load_target(args)
    circuit = _load_circuit(args.qasm, hamiltonian.n_qubits, "the Hamiltonian")
    noise = parse_noise(args.noise, circuit.n_qubits)
    energy = expectation(circuit, hamiltonian, noise)
    out = {"energy": energy, "noise": args.noise, "n_qubits": circuit.n_qubits, **circuit.counts()}
    if problem is not None:
        out.update(problem=problem.name, e0=problem.e0, error=problem.error(energy))
        out["chemically_accurate"] = problem.is_chemically_accurate(energy)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"energy: {energy:.10f} Ha  (noise: {args.noise}, {out['gates']} gates, {out['cnots']} CNOTs)")
        if problem is not None:
            verdict = "yes" if out["chemically_accurate"] else "no"
            print(f"E0: {problem.e0:.10f} Ha   error: {out['error']:.3e} Ha   chemically accurate: {verdict}")
    return 0


def cmd_problems(args) -> int:
    from .problems import list_problems, load_problem

    rows = [load_problem(name).summary() for name in list_problems()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'name':<14}{'qubits':>7}{'terms':>7}{'E0 (Ha)':>17}{'E_HF (Ha)':>17}  HF")
    for r in rows:
        cols = f"{r['name']:<14}{r['n_qubits']:>7}{r['n_terms']:>7}{r['e0']:>17.10f}{r['e_hf']:>17.10f}"
        print(f"{cols}  {r['hf_bitstring']}")
    return 0


def cmd_vqe(args) -> int:
    """Optimise the angles of a QASM circuit for a problem's energy (the QASM angles are the start)."""
    from .optim.vqe import optimize
    from .problems import load_problem
    from .sim.noise_spec import parse_noise

    problem = load_problem(args.problem)
    circuit = _load_circuit(args.qasm, problem.n_qubits, problem.name)
    noise = parse_noise(args.noise, circuit.n_qubits)
    config = None
    if args.variant is not None:
        from .optim.presets import preset_config
        from .optim.spsa_config import VARIANTS

        if args.variant not in VARIANTS:
            raise UsageError(f"unknown Adam-SPSA variant {args.variant!r}; choose one of {VARIANTS}")
        config = preset_config(problem.name, args.method, args.budget).replace(variant=args.variant)
    res = optimize(
        problem, circuit, noise, method=args.method, budget=args.budget, key=args.seed, shots=args.shots, config=config
    )
    out = {
        "problem": problem.name,
        "method": res.method,
        "noise": args.noise,
        "shots": args.shots,
        "budget": args.budget,
        "seed": args.seed,
        "energy": res.energy,
        "exact_energy": res.exact_energy,
        "e0": problem.e0,
        "error": res.error,
        "chemically_accurate": problem.is_chemically_accurate(res.exact_energy),
        "evaluations": res.evaluations,
        "seconds": res.seconds,
        "params": [float(v) for v in res.params],
    }
    if args.json:
        print(json.dumps(out))
        return 0
    shots = "exact expectations" if args.shots is None else f"{args.shots} shots per term"
    print(f"{problem.name}: {res.method}, noise {args.noise}, {shots}, {len(circuit)} gates, {len(res.params)} angles")
    print(f"best energy:  {res.energy:.10f} Ha  (as the optimiser evaluated it)")
    print(f"exact energy: {res.exact_energy:.10f} Ha  (noise-channel exact, no shot noise)")
    verdict = "yes" if out["chemically_accurate"] else "no"
    print(f"E0: {problem.e0:.10f} Ha   error: {res.error:.3e} Ha   chemically accurate: {verdict}")
    print(f"evaluations: {res.evaluations}   seconds: {res.seconds:.2f}")
    print("params: " + " ".join(f"{v:.6f}" for v in res.params))
    return 0


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
        progress=not args.quiet,
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


def cmd_report(args) -> int:
    from .viz.report import write_report

    path = write_report(args.run_dir, compare=args.compare or ())
    print(f"wrote {path}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crlqas", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="exact noisy energy of a QASM circuit")
    ev.add_argument("--qasm", required=True, help="OpenQASM 2.0 file")
    ev.add_argument("--problem", help="a shipped problem name (see `crlqas problems`)")
    ev.add_argument("--hamiltonian", help='JSON file {"n_qubits": n, "terms": [["XZ", 0.1], ...]}')
    ev.add_argument("--noise", default="none", help="noise spec, e.g. depolarizing, mumbai-median (default none)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("problems", help="list the shipped molecular problems")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_problems)

    vq = sub.add_parser("vqe", help="optimise the angles of a QASM circuit (VQE) for a problem")
    vq.add_argument("--problem", required=True, help="a shipped problem name (see `crlqas problems`)")
    vq.add_argument("--qasm", required=True, help="OpenQASM 2.0 file; its angles are the starting point")
    vq.add_argument("--noise", default="none", help="noise spec, e.g. depolarizing, mumbai-median (default none)")
    vq.add_argument("--shots", type=_integer, default=None, help="shots per Pauli term (SPSA methods; default exact)")
    vq.add_argument("--method", default="adam-spsa", help="adam-spsa (default), spsa, adam or cobyla")
    vq.add_argument("--budget", type=_integer, default=500, help="objective evaluations (adam: steps; default 500)")
    vq.add_argument("--seed", type=_integer, default=0, help="PRNG seed: SPSA directions and shot noise (default 0)")
    vq.add_argument("--variant", default=None, help="Adam-SPSA variant: kit (default) or published")
    vq.add_argument("--json", action="store_true", help="print one JSON object")
    vq.set_defaults(func=cmd_vqe)

    se = sub.add_parser("search", help="run CRLQAS (training, curriculum, evaluations) and save the run")
    se.add_argument("--problem", default=None, help=f"a shipped problem name (default {DEFAULT_PROBLEM})")
    se.add_argument("--noise", default=None, help="noise spec (default: the preset's, none)")
    se.add_argument("--preset", default=None, choices=["fast", "paper"], help="configuration preset (default fast)")
    se.add_argument("--episodes", type=_integer, default=None, help="training episodes per seed")
    se.add_argument("--shots", type=_integer, default=None, help="shots per Pauli term (default exact)")
    se.add_argument(
        "--agent",
        default=None,
        help="ddqn (default: the method), random (uniform legal actions, same environment and budget) "
        "or random-search (random circuits optimised with the same evaluations)",
    )
    se.add_argument(
        "--e-min",
        dest="e_min",
        default=None,
        help="reference minimum of reward and curriculum: exact (E0, default), pauli-bound (the published "
        "fake minimum, with the published initial threshold) or an energy in Ha",
    )
    se.add_argument("--variance", default=None, help="shot-noise variance: exact (default) or published (1/N)")
    se.add_argument("--variant", default=None, help="Adam-SPSA variant: kit (default) or published")
    se.add_argument(
        "--min-threshold",
        dest="min_threshold",
        type=float,
        default=None,
        metavar="HA",
        help="lowest curriculum threshold in Ha (fast preset: 1.6e-3, chemical accuracy; 0: the published "
        "delta/K floor only)",
    )
    se.add_argument(
        "--seeds",
        type=_integer,
        nargs="+",
        default=None,
        help="one or more distinct seeds (default 0), trained together in one vmap (on a CPU, one process per "
        "seed is faster)",
    )
    se.add_argument("--config", help="a JSON/TOML SearchConfig file (overrides --problem/--preset)")
    se.add_argument("--resume", metavar="DIR", help="continue a saved run exactly from its checkpoint")
    se.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop after this wall time, counted from the start of training (compile included) and "
        "checked between compiled chunks; the saved run is resumable",
    )
    se.add_argument(
        "--until-accurate",
        action="store_true",
        help="stop once every seed has had a chemically accurate episode (checked between chunks)",
    )
    se.add_argument(
        "--max-evaluations",
        type=_integer,
        metavar="N",
        help="stop once every seed has spent N objective evaluations (checked between chunks; the way to "
        "give the DDQN, the random agent and random search the same evaluation budget)",
    )
    se.add_argument(
        "--save-every",
        dest="save_every",
        type=float,
        metavar="SECONDS",
        help="write the run directory (checkpoint included) every SECONDS of training (default 60); "
        "Ctrl-C or SIGTERM stops after the current chunk and saves",
    )
    se.add_argument(
        "--out",
        required=True,
        help="run directory to write: new or empty, or (with --resume) one holding the same run",
    )
    se.add_argument(
        "--force",
        action="store_true",
        help="replace the run already in --out (its logs, checkpoints, report and figures are removed first)",
    )
    se.add_argument("--quiet", action="store_true")
    se.set_defaults(func=cmd_search)

    sw = sub.add_parser(
        "sweep",
        help="run configurations x seeds as Ray tasks (this machine, or a cluster with --address); docs/scaling.md",
    )
    sw.add_argument("--problem", nargs="+", default=None, help="one or more shipped problem names")
    sw.add_argument("--noise", nargs="+", default=None, help="one or more noise specs (default none)")
    sw.add_argument("--preset", nargs="+", default=None, choices=["fast", "paper"], help="presets (default fast)")
    sw.add_argument("--agent", nargs="+", default=None, help="ddqn (default) and/or random")
    sw.add_argument("--seeds", type=_integer, nargs="+", default=None, help="distinct seeds (default 0), one run each")
    sw.add_argument("--episodes", type=_integer, default=None, help="training episodes per run (default: the preset's)")
    sw.add_argument("--shots", type=_integer, default=None, help="shots per Pauli term (default exact)")
    sw.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop each run after this much training time (counted over its resumes)",
    )
    sw.add_argument(
        "--until-accurate", action="store_true", help="stop each run at its first chemically accurate episode"
    )
    sw.add_argument("--max-evaluations", type=_integer, metavar="N", help="stop each run after N objective evaluations")
    sw.add_argument(
        "--grid", metavar="FILE", help="the grid as a TOML file (instead of the options above; docs/scaling.md)"
    )
    sw.add_argument(
        "--out",
        required=True,
        help="the sweep's directory: one run directory per run, sweep.json, sweep_summary.json (on a cluster: "
        "storage every node sees at the same path)",
    )
    sw.add_argument(
        "--num-cpus",
        type=_integer,
        default=None,
        help="CPUs of the local Ray instance (default: all of this machine's)",
    )
    sw.add_argument(
        "--address",
        default=None,
        help="join the Ray cluster at HOST:PORT (ray start --head ...) instead (default: $RAY_ADDRESS, else local)",
    )
    sw.add_argument("--cpus-per-run", type=float, default=1, help="CPUs Ray reserves for each run (default 1)")
    sw.add_argument(
        "--max-retries",
        type=_integer,
        default=3,
        help="times a run whose worker died is retried, from its last save (default 3)",
    )
    sw.add_argument(
        "--save-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="each run saves (checkpoint included) every SECONDS (default 30): what a lost worker can cost",
    )
    sw.add_argument("--quiet", action="store_true", help="no live table on stderr")
    sw.set_defaults(func=cmd_sweep)

    rp = sub.add_parser("report", help="write report.md with figures for a run directory")
    rp.add_argument("run_dir")
    rp.add_argument(
        "--compare", nargs="+", metavar="DIR", help="other runs (e.g. the random agent) to overlay on the curves"
    )
    rp.set_defaults(func=cmd_report)

    de = sub.add_parser("demo", help="the main job: CRLQAS and the random agent on H2-3q, with a report comparing them")
    de.add_argument("--out", default="runs/demo", help="output directory (default runs/demo)")
    de.add_argument("--episodes", type=_integer, default=300, help="training episodes per agent (default 300)")
    de.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ValueError, TypeError, OSError) as err:
        print(f"crlqas: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crlqas: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
