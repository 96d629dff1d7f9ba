"""Ten-minute LiH-6q probes of an episode's start (docs/results.md, LiH-6q target row): the random
agent or the DDQN (fast preset, seed 0) with the published start (|000000>, new rotations at 0),
from Hartree-Fock (``start="hf"``) or with small random new angles (``new_angle="random"``).

    python scripts/probe_start.py AGENT START NEW_ANGLE SCALE [--seconds 600] [--seed 0]

Appends one record to ``benchmarks/results/side_lih-6q_probes.json``: every episode's error,
gates, CNOTs, evaluations, seconds and epsilon, the number of episodes that ended at the
Hartree-Fock error (36.9 mHa, within 0.5 mHa) and the lowest error. (The 2026-12-08 records were
made by an equivalent earlier version that set the same ``EnvParams`` fields directly, before
``SearchConfig`` had them.)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from crlqas_kit import load_problem
from crlqas_kit.rl.env import NEW_ANGLES, STARTS
from crlqas_kit.search import search
from crlqas_kit.search_config import preset

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "side_lih-6q_probes.json"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("agent", choices=["ddqn", "random"])
    ap.add_argument("start", choices=STARTS)
    ap.add_argument("new_angle", choices=NEW_ANGLES)
    ap.add_argument("scale", type=float)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    problem = load_problem("LiH-6q")
    cfg = preset("fast", problem.name, problem.n_qubits).replace(
        episodes=10**6, agent=args.agent, start=args.start, new_angle=args.new_angle, new_angle_scale=args.scale
    )
    t0, episodes = time.time(), []

    def record(event):
        if event.get("event") == "episode":
            keys = ("error", "gates", "cnots", "evaluations", "eps")
            episodes.append([event[k] for k in keys] + [time.time() - t0])

    search(cfg, seeds=[args.seed], callbacks=[record], should_stop=lambda: time.time() - t0 > args.seconds)
    hf_error = problem.e_hf - problem.e0
    out = {
        "agent": args.agent,
        "start": args.start,
        "new_angle": args.new_angle,
        "new_angle_scale": args.scale,
        "seed": args.seed,
        "seconds": args.seconds,
        "episodes": len(episodes),
        "at_hartree_fock": sum(abs(e[0] - hf_error) < 5e-4 for e in episodes),
        "lowest": min(episodes) if episodes else None,
        "columns": ["error", "gates", "cnots", "evaluations", "eps", "seconds"],
        "log": episodes,
    }
    old = json.loads(OUT.read_text()) if OUT.exists() else []
    OUT.write_text(json.dumps([*old, out]) + "\n")
    print({k: v for k, v in out.items() if k != "log"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
