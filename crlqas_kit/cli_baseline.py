"""``crlqas baseline``: the baselines CRLQAS is compared with, one subcommand each.

    crlqas baseline adapt --problem NAME [--noise SPEC] [--mitigate-readout] [--pool full|minimal|two-local]
                          [--max-operators N] [--grad-tol G] [--energy-tol E] [--reoptimize-noisy]
                          [--json] [--out FILE.json]
    crlqas baseline hea   --problem NAME [--noise SPEC] [--mitigate-readout] [--layers L] [--starts S] [--steps N]
                          [--lr LR] [--seed S] [--json] [--out FILE.json]
    crlqas baseline floor --problem NAME [--noise SPEC] [--mitigate-readout] --cnots K [--rotations ry ...]
                          [--noiseless-rotations] [--starts S] [--steps N] [--seed S] [--json] [--out FILE.json]

Random search runs in the CRLQAS harness (``crlqas search --agent random-search``), since it
shares the environment's budget accounting. ``--out`` writes one JSON object: the baseline, the
problem, the noise, the seed, the configuration, the package versions and the result (with the
circuit's QASM).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from ._checks import UsageError, write_atomic


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e-5, got {text!r}") from None


def _write(args, record: dict) -> None:
    from .results import package_versions

    record = {**record, "versions": package_versions()}
    if args.json:
        print(json.dumps(record))
    if args.out:
        write_atomic(args.out, json.dumps(record, indent=1) + "\n")
        if not args.json:
            print(f"wrote {args.out}")


def cmd_adapt(args) -> int:
    from .baselines.adapt import adapt_vqe
    from .problems import load_problem
    from .sim.qasm import to_qasm

    problem = load_problem(args.problem)
    res = adapt_vqe(
        problem,
        noise=args.noise,
        pool=args.pool,
        max_operators=args.max_operators,
        grad_tol=args.grad_tol,
        energy_tol=args.energy_tol,
        reoptimize_noisy=args.reoptimize_noisy,
        mitigate_readout=args.mitigate_readout,
    )
    c = res.counts
    if not args.json:
        verdict = "yes" if res.chemically_accurate else "no"
        print(f"{problem.name}: qubit-ADAPT-VQE, pool {res.pool} ({len(res.pool_operators)} strings), stop: {res.stop}")
        print(f"operators: {len(res.operators)}  " + " ".join(res.operators))
        print(f"energy: {res.energy:.10f} Ha   E0: {res.e0:.10f} Ha   error: {res.error:.3e} Ha   accurate: {verdict}")
        print(f"circuit: {c['gates']} gates, {c['cnots']} CNOTs, depth {c['depth']}, {c['parameters']} ADAPT angles")
        if res.noise != "none":
            line = f"noise {res.noise}: energy {res.noisy_energy:.10f} Ha, error {res.noisy_error:.3e} Ha"
            if res.reoptimized_energy is not None:
                line += f"; re-optimised under noise: error {res.reoptimized_error:.3e} Ha"
            print(line)
        print(
            f"evaluations: {res.energy_evaluations} energies, {res.gradient_evaluations} gradients (BFGS), "
            f"{res.pool_gradient_evaluations} pool gradients   seconds: {res.seconds:.2f}"
        )
    record = {
        "baseline": "adapt",
        "problem": problem.name,
        "noise": args.noise,
        "seed": None,  # deterministic: no random choice anywhere (ties go to the first pool string)
        "config": res.config,
        "result": res.summary(),
        "qasm": to_qasm(res.circuit),
    }
    _write(args, record)
    return 0


def cmd_hea(args) -> int:
    from .baselines.hea import hea_baseline
    from .sim.qasm import to_qasm

    res = hea_baseline(
        args.problem,
        args.noise,
        layers=args.layers,
        starts=args.starts,
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        mitigate_readout=args.mitigate_readout,
    )
    if not args.json:
        from .problems import load_problem

        accurate = "yes" if load_problem(args.problem).is_chemically_accurate(res.energy) else "no"
        print(f"{res.problem}: {res.layers}-layer hardware-efficient ansatz, noise {res.noise}")
        print(f"best error: {res.best_error:.3e} Ha (energy {res.energy:.10f} Ha)   accurate: {accurate}")
        print(f"circuit: {res.gates} gates, {res.cnots} CNOTs, depth {res.depth}")
        print(f"Adam: {res.starts} starts x {res.steps} steps (lr {res.lr})   seconds: {res.seconds:.2f}")
    config = {k: getattr(res, k) for k in ("layers", "starts", "steps", "lr")}
    config["mitigate_readout"] = args.mitigate_readout
    record = {
        "baseline": "hea",
        "problem": res.problem,
        "noise": args.noise,
        "seed": res.seed,
        "config": {**config, "optimizer": "adam (exact gradients)"},
        "result": res.summary(),
        "qasm": to_qasm(res.circuit),
    }
    _write(args, record)
    return 0


def cmd_floor(args) -> int:
    from .baselines.floor import cnot_floor
    from .sim.qasm import to_qasm

    res = cnot_floor(
        args.problem,
        args.noise,
        cnots=args.cnots,
        rotations=tuple(args.rotations),
        rotation_noise=not args.noiseless_rotations,
        starts=args.starts,
        steps=args.steps,
        seed=args.seed,
        mitigate_readout=args.mitigate_readout,
    )
    if not args.json:
        print(f"{res.problem}: every placement of {res.cnots} CNOTs ({len(res.skeletons)}), noise {res.noise}")
        print(f"floor: {res.error:.3e} Ha   best placement: {res.summary()['best_skeleton']}")
        print(f"Adam: {res.starts} starts x {res.steps} steps per placement   seconds: {res.seconds:.2f}")
    config = {k: getattr(res, k) for k in ("cnots", "rotations", "rotation_noise", "starts", "steps")}
    record = {
        "baseline": "floor",
        "problem": res.problem,
        "noise": args.noise,
        "seed": args.seed,
        "config": {**config, "mitigate_readout": args.mitigate_readout, "optimizer": "adam (exact gradients)"},
        "result": res.summary(),
        "qasm": to_qasm(res.circuit),
    }
    _write(args, record)
    return 0


def add_parser(sub, integer: Callable[[str], int]) -> None:
    """Add ``baseline`` with its subcommands to the ``crlqas`` subparsers ``sub``."""
    from .baselines.adapt import POOLS

    ba = sub.add_parser("baseline", help="run a baseline (qubit-ADAPT-VQE, hardware-efficient ansatz) on a problem")
    which = ba.add_subparsers(dest="baseline", required=True, parser_class=type(ba))

    def common(p) -> None:
        p.add_argument("--problem", required=True, help="a shipped problem name (see `crlqas problems`)")
        p.add_argument("--noise", default="none", help="noise spec, e.g. depolarizing, mumbai-median (default none)")
        p.add_argument(
            "--mitigate-readout", action="store_true", help="correct the readout error of --noise (docs/devices.md)"
        )
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--out", metavar="FILE.json", help="also write the result as JSON")

    ad = which.add_parser("adapt", help="qubit-ADAPT-VQE from the HF state, compiled to RX/RY/RZ/CNOT")
    common(ad)
    ad.add_argument("--pool", default="full", choices=POOLS, help="operator pool (default full: every odd-Y string)")
    ad.add_argument("--max-operators", type=integer, default=40, help="most operators added (default 40)")
    ad.add_argument("--grad-tol", type=_float, default=1e-5, help="stop when the pool gradient norm is below it")
    ad.add_argument("--energy-tol", type=_float, default=None, help="also stop once |E - E0| is below it (Ha)")
    ad.add_argument(
        "--reoptimize-noisy", action="store_true", help="re-optimise the ADAPT angles under --noise (frozen gates kept)"
    )
    ad.set_defaults(func=cmd_adapt)

    he = which.add_parser("hea", help="the RY hardware-efficient ansatz, exact-gradient Adam from several starts")
    common(he)
    he.add_argument("--layers", type=integer, default=2, help="RY + CNOT-ladder layers (default 2)")
    he.add_argument("--starts", type=integer, default=None, help="starts (default 5; 1 beyond 6 qubits)")
    he.add_argument("--steps", type=integer, default=None, help="Adam steps per start (default 2000; 200 beyond 6)")
    he.add_argument("--lr", type=_float, default=0.02, help="Adam learning rate (default 0.02)")
    he.add_argument("--seed", type=integer, default=0, help="seed of the random starts (default 0)")
    he.set_defaults(func=cmd_hea)

    fl = which.add_parser("floor", help="the lowest error over every placement of K CNOTs (an empirical noise floor)")
    common(fl)
    fl.add_argument("--cnots", type=integer, required=True, help="the number of CNOTs K")
    fl.add_argument("--rotations", nargs="+", default=["ry"], choices=["rx", "ry", "rz"], help="per slot (default ry)")
    fl.add_argument("--noiseless-rotations", action="store_true", help="drop the noise after rotations")
    fl.add_argument("--starts", type=integer, default=3, help="starts per placement (default 3)")
    fl.add_argument("--steps", type=integer, default=800, help="Adam steps per start (default 800)")
    fl.add_argument("--seed", type=integer, default=0, help="seed of the random starts (default 0)")
    fl.set_defaults(func=cmd_floor)


__all__ = ["UsageError", "add_parser", "cmd_adapt", "cmd_floor", "cmd_hea"]
