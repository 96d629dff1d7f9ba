"""The ``crlqas`` command line.

    crlqas evaluate --qasm FILE (--hamiltonian FILE.json | --problem NAME) [--noise SPEC] [--mitigate-readout]
                    [--json]
    crlqas problems [--json]
    crlqas vqe --problem NAME --qasm FILE [--noise SPEC] [--shots N] [--mitigate-readout] [--method M]
               [--budget N] [--json]
    crlqas search --problem NAME [--noise SPEC] [--preset fast|paper] [--episodes N] [--seeds S ...]
                  [--agent ddqn|random|random-search] [--e-min exact|pauli-bound|E] [--shots N]
                  [--variance exact|published] [--variant kit|published] [--mitigate-readout]
                  [--start zeros|hf] [--new-angle zeros|random] [--new-angle-scale RAD]
                  [--time-limit SECONDS] [--until-accurate] [--max-evaluations N] --out DIR
    crlqas sweep (--problem NAME ... [--noise SPEC ...] [--preset P ...] [--agent A ...] [--seeds S ...]
                  [--shots N] [--mitigate-readout] [--episodes N] [--time-limit SECONDS] [--until-accurate]
                  [--max-evaluations N]
                  | --grid FILE.toml) --out DIR [--num-cpus N | --address HOST:PORT]
                  [--cpus-per-run N] [--max-retries N] [--save-every SECONDS]
    crlqas report DIR [--compare DIR ...]
    crlqas baseline adapt --problem NAME [--noise SPEC] [--mitigate-readout] [--pool P] [--max-operators N]
                          [--out FILE.json]
    crlqas baseline hea --problem NAME [--noise SPEC] [--mitigate-readout] [--layers L] [--starts S] [--steps N]
                        [--out FILE.json]
    crlqas demo [--out DIR]

User mistakes (bad files, unknown names, malformed specs) print one ``crlqas: error: ...`` line
on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import cli_baseline
from ._checks import UsageError
from .cli_search import DEFAULT_PROBLEM, cmd_demo, cmd_search, cmd_sweep

_DATA = Path(__file__).resolve().parent / "data"

#: Largest register ``evaluate`` accepts: the PTM state holds 4^n float64 numbers (n = 12: 134 MB,
#: n = 16 would need 34 GB per copy), so bigger inputs are refused up front instead of failing in XLA.
MAX_QUBITS = 12


class _Parser(argparse.ArgumentParser):
    """argparse with the kit's error format: one ``crlqas: error:`` line, exit code 2 (the usage
    block argparse would print is replaced by a pointer to ``--help``). Subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"crlqas: error: {message} (see {self.prog} --help)\n")


_MITIGATE_HELP = (
    "correct the noise model's readout error in every energy estimate (its confusion inverted, as an "
    "experiment would; docs/devices.md)"
)


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
    energy = expectation(circuit, hamiltonian, noise, mitigate_readout=args.mitigate_readout)
    out = {"energy": energy, "noise": args.noise, "mitigate_readout": args.mitigate_readout}
    out.update(n_qubits=circuit.n_qubits, **circuit.counts())
    if problem is not None:
        out.update(problem=problem.name, e0=problem.e0, error=problem.error(energy))
        out["chemically_accurate"] = problem.is_chemically_accurate(energy)
    if args.json:
        print(json.dumps(out))
    else:
        mitigated = ", readout mitigated" if args.mitigate_readout else ""
        print(f"energy: {energy:.10f} Ha  (noise: {args.noise}{mitigated}, {out['gates']} gates, {out['cnots']} CNOTs)")
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
        problem,
        circuit,
        noise,
        method=args.method,
        budget=args.budget,
        key=args.seed,
        shots=args.shots,
        config=config,
        mitigate_readout=args.mitigate_readout,
    )
    out = {
        "problem": problem.name,
        "method": res.method,
        "noise": args.noise,
        "shots": args.shots,
        "mitigate_readout": args.mitigate_readout,
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


def cmd_report(args) -> int:
    from .viz.report import write_report

    path = write_report(args.run_dir, compare=args.compare or ())
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crlqas", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="exact noisy energy of a QASM circuit")
    ev.add_argument("--qasm", required=True, help="OpenQASM 2.0 file")
    ev.add_argument("--problem", help="a shipped problem name (see `crlqas problems`)")
    ev.add_argument("--hamiltonian", help='JSON file {"n_qubits": n, "terms": [["XZ", 0.1], ...]}')
    ev.add_argument("--noise", default="none", help="noise spec, e.g. depolarizing, mumbai-median (default none)")
    ev.add_argument(
        "--mitigate-readout",
        action="store_true",
        help=_MITIGATE_HELP,
    )
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
    vq.add_argument(
        "--mitigate-readout",
        action="store_true",
        help=_MITIGATE_HELP,
    )
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
        "--mitigate-readout",
        action="store_const",
        const=True,
        default=None,
        help=_MITIGATE_HELP,
    )
    se.add_argument(
        "--start",
        default=None,
        help="initial state of every episode: zeros (default, published) or hf (the Hartree-Fock bitstring)",
    )
    se.add_argument(
        "--new-angle",
        dest="new_angle",
        default=None,
        help="start of a newly placed rotation: zeros (default, published) or random (new-angle-scale * N(0, 1))",
    )
    se.add_argument(
        "--new-angle-scale",
        dest="new_angle_scale",
        type=float,
        default=None,
        metavar="RAD",
        help="standard deviation of random new angles in rad (default 0.01)",
    )
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
    se.add_argument(
        "--resume",
        metavar="DIR",
        help="continue a saved run exactly from its checkpoint (a random search: from its logs)",
    )
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
        "--mitigate-readout",
        action="store_const",
        const=True,
        default=None,
        help=_MITIGATE_HELP,
    )
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
        "--only",
        nargs="+",
        metavar="RUN",
        help="make only these runs of the grid now (run names, e.g. H2-2q_none_fast_seed1); the others are "
        "left as they are",
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
    sw.add_argument(
        "--pin-cpus",
        action="store_true",
        help="pin each run's worker to --cpus-per-run cores of its own (XLA then uses those cores only, as "
        "under taskset; for many-core nodes, not faster on 2 cores: docs/scaling.md)",
    )
    sw.add_argument("--quiet", action="store_true", help="no live table on stderr")
    sw.set_defaults(func=cmd_sweep)

    rp = sub.add_parser("report", help="write report.md with figures for a run directory")
    rp.add_argument("run_dir")
    rp.add_argument(
        "--compare", nargs="+", metavar="DIR", help="other runs (e.g. the random agent) to overlay on the curves"
    )
    rp.set_defaults(func=cmd_report)

    cli_baseline.add_parser(sub, _integer)

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
