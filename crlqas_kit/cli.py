"""The ``crlqas`` command line.

    crlqas evaluate --qasm FILE (--hamiltonian FILE.json | --problem NAME) [--noise SPEC] [--json]
    crlqas problems [--json]
    crlqas demo [--out DIR]

User mistakes (bad files, unknown names, malformed specs) print one ``crlqas: error: ...`` line
on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

#: Largest register ``evaluate`` accepts: the PTM state holds 4^n float64 numbers (n = 12: 134 MB,
#: n = 16 would need 34 GB per copy), so bigger inputs are refused up front instead of failing in XLA.
MAX_QUBITS = 12


class UsageError(Exception):
    """A user mistake, reported in one line with exit code 2."""


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


def cmd_evaluate(args) -> int:
    from .sim.noise import parse_noise
    from .sim.qasm import load_qasm
    from .sim.simulator import expectation

    hamiltonian, problem = _load_target(args)
    try:
        circuit = load_qasm(args.qasm)
    except UnicodeDecodeError:
        raise UsageError(f"{args.qasm}: not a UTF-8 text file") from None
    if circuit.n_qubits > MAX_QUBITS:
        raise UsageError(f"{args.qasm} declares {circuit.n_qubits} qubits; the simulator handles at most {MAX_QUBITS}")
    if circuit.n_qubits != hamiltonian.n_qubits:
        raise UsageError(
            f"{args.qasm} declares {circuit.n_qubits} qubits but the Hamiltonian acts on {hamiltonian.n_qubits}"
        )
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


def cmd_demo(args) -> int:
    """Evaluate the shipped H2-2q ansatz under each noise preset and write a small report."""
    from .problems import load_problem
    from .sim.noise import parse_noise
    from .sim.qasm import load_qasm, to_qasm
    from .sim.simulator import expectation

    problem = load_problem("H2-2q")
    circuit = load_qasm(_DATA / "circuits" / "H2-2q-ansatz.qasm")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"H2-2q ansatz ({len(circuit)} gates), E0 = {problem.e0:.10f} Ha")
    for spec in ("none", "depolarizing", "depolarizing-cnot", "mumbai-median", "mumbai-max"):
        t0 = time.perf_counter()
        energy = expectation(circuit, problem.hamiltonian, parse_noise(spec, problem.n_qubits))
        row = {"noise": spec, "energy": energy, "error": problem.error(energy), "seconds": time.perf_counter() - t0}
        rows.append(row)
        print(f"  {spec:<18} E = {energy:+.10f}   |E - E0| = {row['error']:.3e}")
    (out / "circuit.qasm").write_text(to_qasm(circuit))
    (out / "demo.json").write_text(json.dumps({"problem": problem.name, "e0": problem.e0, "rows": rows}, indent=1))
    print(f"wrote {out / 'demo.json'} and {out / 'circuit.qasm'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crlqas", description=__doc__.split("\n\n")[0])
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

    de = sub.add_parser("demo", help="the main job: a small end-to-end run with a report")
    de.add_argument("--out", default="runs/demo", help="output directory (default runs/demo)")
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
