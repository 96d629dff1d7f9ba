#!/usr/bin/env python3
"""The paper-scale results grid (docs/results.md, "The results grid"): configurations x methods.

Every step is resumable and skips what is done. The run directories (default
``~/crlqas-runs/grid``, ``--run-dir`` or ``$CRLQAS_GRID_DIR``; checkpoints are tens of MB, so they
are not committed) survive a new clone but not a new machine: what survives is ``grid.json``.
``collect`` keeps its finished rows (and baselines) for runs whose directories are gone, and the
random methods take a CRLQAS seed's spent evaluations from it, so a grid can grow over many
machines; a run interrupted with its machine is lost and restarts (on the same machine, every
method resumes: the sweeps from their checkpoints, random search from its logs). A sweep's workers run the code its
driver read at the start (docs/scaling.md), so the checkout may be edited meanwhile; a random
search (a subprocess per seed) imports the checkout when it starts. Each configuration has its own directory
``<run-dir>/<name>/`` with one sweep per method (``crlqas/``, ``random/``; a sweep directory holds
one grid) and ``random-search/``::

    .venv/bin/python scripts/results_grid.py crlqas [--only NAME ...]     # CRLQAS (DDQN, fast preset), a sweep
    .venv/bin/python scripts/results_grid.py random [--only NAME ...]     # random agent + random search
    .venv/bin/python scripts/results_grid.py baselines [--only NAME ...]  # HEA-1/2/3 and qubit-ADAPT-VQE
    .venv/bin/python scripts/results_grid.py floors [--only NAME ...]     # noise floors of 0..K CNOTs (2-3 qubits)
    .venv/bin/python scripts/results_grid.py reoptimize [--only NAME ...] # CRLQAS best circuits, exact-gradient angles
    .venv/bin/python scripts/results_grid.py collect                      # run directories -> grid.json
    .venv/bin/python scripts/results_grid.py table [--into docs/results.md]  # grid.json -> the Markdown tables
    .venv/bin/python scripts/results_grid.py figures                      # grid.json -> docs/figures/grid_*.png

* ``crlqas``: one sweep (:mod:`crlqas_kit.sweep`) of every configuration's seeds, each run stopped by
  its configuration's wall-time limit (over resumes).
* ``random``: for every CRLQAS run that finished, the random agent (a sweep) and random search (one
  ``crlqas search --agent random-search`` process) with the same seed and **the objective
  evaluations that CRLQAS run spent** (``--max-evaluations``): equal evaluation budgets. Their
  wall-time limits are safety stops only: twice the CRLQAS seed's for the random agent,
  :data:`SEARCH_TIME_FACTOR` times for random search (a search stopped by it is unfinished).
* ``baselines``: the RY hardware-efficient ansatz with 1, 2 and 3 layers (exact-gradient Adam,
  :func:`crlqas_kit.baselines.hea.hea_baseline`) and qubit-ADAPT-VQE (full pool, stopped at
  chemical accuracy, :func:`crlqas_kit.baselines.adapt.adapt_vqe`), under the configuration's
  noise and readout mitigation, with exact energies.
* ``floors``: for the noisy configurations of 2 and 3 qubits, the lowest error over every placement
  of ``k`` CNOTs (:func:`crlqas_kit.baselines.floor.cnot_floor`, RY on every qubit between them),
  ``k = 0 .. 3`` (2 qubits) or ``0 .. 2`` (3 qubits), under the noise and noiselessly: where no
  method is accurate, how low the real-amplitude circuits of that CNOT count get (docs/baselines.md).
* ``reoptimize``: every finished CRLQAS seed's best circuit with its angles re-optimised under the
  configuration's noise by exact-gradient Adam (its angles and 2 random starts): whether the found
  circuit itself could be accurate, i.e. what the inner SPSA left on the table.
* ``collect``: ``benchmarks/results/grid.json``, the raw numbers: every seed of every method (success,
  first accurate episode and its time, accurate episodes (all, and in the last 1000), best error,
  the best circuit's gates / CNOTs / depth / rotations and QASM, objective evaluations, wall time,
  learning curves in windows of 50 episodes) and the baselines' results.
* ``table``: the Markdown tables of docs/results.md from ``grid.json`` alone (no run directories).
* ``figures``: per configuration where a random method ran beside CRLQAS, the lowest error so far
  against objective evaluations and the share of accurate episodes, every seed of every method
  (``docs/figures/grid_<name>.png``), from ``grid.json`` alone.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RUN_DIR = Path(os.environ.get("CRLQAS_GRID_DIR", Path.home() / "crlqas-runs" / "grid"))
OUT_JSON = ROOT / "benchmarks" / "results" / "grid.json"
EPISODES = 10**7  # the time limit (CRLQAS) or the evaluation budget (random methods) ends a run
SEEDS = [0, 1, 2]
LIH_SHOTS = 10**7  # the published LiH-4q noisy run's shots per term (optim.presets.published_config)


def _config(problem, noise="none", limit=600, mitigate=False, shots=None, seeds=SEEDS):
    return {"problem": problem, "noise": noise, "mitigate_readout": mitigate, "shots": shots, "seeds": seeds,
            "time_limit": limit}  # fmt: skip


#: name -> configuration; ``time_limit`` = wall seconds of each CRLQAS seed (issue 17's budgets)
CONFIGS = {
    "h2-2q_none": _config("H2-2q", limit=300),
    "h2-3q_none": _config("H2-3q", limit=300),
    "h2-4q_none": _config("H2-4q", limit=600),
    "lih-4q_none": _config("LiH-4q", limit=1200),
    "lih-6q_none": _config("LiH-6q", limit=3600),
    "h2o-8q_none": _config("H2O-8q", limit=7200),
    **{
        f"{p.lower()}_{noise}": _config(p, noise, limit=2400 if p == "LiH-4q" else 600)
        for noise in ("depolarizing", "depolarizing-cnot")
        for p in ("H2-2q", "H2-3q", "LiH-4q")
    },
    **{
        f"{p.lower()}_mumbai-median_mitigated": _config(p, "mumbai-median", 2400 if p == "LiH-4q" else 600, True)
        for p in ("H2-2q", "H2-3q", "LiH-4q")
    },
    "lih-4q_mumbai-median_mitigated_shots": _config("LiH-4q", "mumbai-median", 2400, True, LIH_SHOTS),
}


def run_spec(name: str, seed: int, agent: str = "ddqn", **settings):
    """The sweep's :class:`~crlqas_kit.sweep.grid.RunSpec` of configuration ``name``'s ``seed`` (its
    ``name`` is the run directory's; ``agent`` ``"ddqn"`` or ``"random"``; ``settings`` override the
    block's, e.g. the random agent's ``max_evaluations`` and ``time_limit``)."""
    from crlqas_kit.sweep.grid import expand

    return expand({"preset": "fast", **_block(CONFIGS[name], seeds=[seed], agent=agent, **settings)})[0]


def _random_settings(name: str, budget: int) -> dict:
    """The random agent's stopping rule: CRLQAS's evaluations, twice its time as a safety stop."""
    return {"max_evaluations": budget, "time_limit": 2 * CONFIGS[name]["time_limit"]}


#: Random search's safety stop, in CRLQAS seeds' wall times. Not the random agent's 2: random
#: search's circuits are longer than the DDQN's (its episodes rarely end early on success), so it
#: spends the same evaluations in up to 3.4x the DDQN's time on the noisy 2-4 qubit problems
#: (H2-2q ``depolarizing`` seed 1: 6.0e7 in 2034 s against 600 s) and at 2x stopped short (2026-12-07).
SEARCH_TIME_FACTOR = 4


def config_dir(run_dir: Path, name: str, method: str) -> Path:
    """Where a configuration's runs of ``method`` live: ``crlqas`` / ``random`` sweeps, ``random-search``."""
    return Path(run_dir) / name / method


def _block(config: dict, **extra) -> dict:
    block = {k: config[k] for k in ("problem", "noise", "seeds", "time_limit")}
    block.update({k: config[k] for k in ("shots", "mitigate_readout") if config[k]})
    return {**block, "episodes": EPISODES, **extra}


def _selected(args) -> list[str]:
    unknown = sorted(set(args.only or ()) - set(CONFIGS))
    if unknown:
        raise SystemExit(f"unknown configuration(s) {unknown}; known: {sorted(CONFIGS)}")
    return list(args.only or CONFIGS)


def _seeds(args, name: str, held: Path | None = None) -> tuple[list[int], dict[int, dict]]:
    """Configuration ``name``'s seeds to run now (all, or those ``--seeds`` picks) and the seeds the
    sweep directory ``held`` already records. A sweep directory's grid only grows, so its sweep's
    grid names both; the sweep makes only the ones to run now (``sweep(only=...)``), so seeds can be
    run one session at a time. The recorded seeds map to their recorded runs (``RunSpec.to_dict``)."""
    seeds = CONFIGS[name]["seeds"]
    picked = getattr(args, "seeds", None)
    unknown = sorted(set(picked or ()) - set(seeds))
    if unknown:
        raise SystemExit(f"{name}: unknown seed(s) {unknown}; its seeds are {seeds}")
    from crlqas_kit.sweep.grid import GRID_FILE

    recorded = {}
    if held is not None and (held / GRID_FILE).is_file():
        recorded = {int(r["seed"]): r for r in json.loads((held / GRID_FILE).read_text())["runs"]}
    return [s for s in seeds if not picked or s in picked], recorded


def cmd_crlqas(args) -> int:
    from crlqas_kit.sweep import sweep

    for name in _selected(args):  # one sweep per configuration: --only can pick any subset
        held = config_dir(args.run_dir, name, "crlqas")
        now, recorded = _seeds(args, name, held)
        # a seed finished on an earlier machine is not run again
        now = [s for s in now if not _done_elsewhere(args.run_dir, name, "ddqn", s)]
        if not now:
            continue
        grid = {"preset": "fast", "block": [_block(CONFIGS[name], seeds=sorted(set(now) | set(recorded)))]}
        only = [run_spec(name, s).name for s in now]
        result = sweep(grid, held, num_cpus=args.num_cpus, only=only)
        print(result.table(), flush=True)
        if result.interrupted:  # Ctrl-C / SIGTERM: stop here, not at the next configuration
            return 130
    return 0


def _done_elsewhere(run_dir: Path, name: str, agent: str, seed: int) -> bool:
    """The seed's run directory is gone but the committed grid.json has its finished row."""
    path, _ = _where(run_dir, name, seed, agent)
    return not path.exists() and _previous_row(name, agent, seed) is not None


def _spent(run_dir: Path, name: str, seed: int) -> int | None:
    """Objective evaluations the CRLQAS run of ``name``'s ``seed`` spent, once it is finished (its
    time limit met; not merely interrupted), else None."""
    from crlqas_kit.results import load_run
    from crlqas_kit.sweep.task import run_state

    spec = run_spec(name, seed)
    path = config_dir(run_dir, name, "crlqas") / spec.name
    if path.exists() and run_state(path, spec) == "finished":
        return load_run(path).evaluations.get(seed)
    row = _previous_row(name, "ddqn", seed)  # finished on an earlier machine (its directory gone)
    return None if row is None else row["evaluations"]


@functools.lru_cache(maxsize=4)
def _entries(path: Path, stamp: int) -> dict[str, dict]:
    """The configurations of a grid.json by name (``stamp``: its mtime, so a rewrite is re-read)."""
    return {e["name"]: e for e in json.loads(path.read_text())["entries"]}


def _previous_entry(name: str, path: Path | None = None) -> dict:
    path = Path(path or OUT_JSON)
    return _entries(path, path.stat().st_mtime_ns).get(name, {}) if path.exists() else {}


def _previous_row(name: str, agent: str, seed: int, path: Path | None = None) -> dict | None:
    """``seed``'s finished row of ``agent`` in configuration ``name`` of the committed grid.json."""
    rows = _previous_entry(name, path).get("methods", {}).get(agent, [])
    return next((r for r in rows if r["seed"] == seed and r["finished"]), None)


def _previous(name: str, key: str, path: Path | None = None) -> dict | None:
    """Configuration ``name``'s ``key`` (``"baselines"``, ``"floors"``) in the committed grid.json."""
    return _previous_entry(name, path).get(key)


def cmd_random(args) -> int:
    from crlqas_kit.sweep import sweep

    failed = 0
    for name in _selected(args):
        config = CONFIGS[name]
        blocks, only, searches = [], [], []
        now, recorded = _seeds(args, name, config_dir(args.run_dir, name, "random"))
        for seed in sorted(set(now) | set(recorded)):
            budget = _spent(args.run_dir, name, seed)
            if budget is None and seed in recorded:  # the sweep directory's grid only grows: keep its record
                budget = recorded[seed]["max_evaluations"]
            if budget is None:
                print(f"{name} seed {seed}: CRLQAS run not finished, skipped", file=sys.stderr)
                continue
            settings = _random_settings(name, budget)
            if seed in recorded or not _done_elsewhere(args.run_dir, name, "random", seed):
                blocks.append(_block(config, seeds=[seed], agent="random", **settings))
            if seed in now and not _done_elsewhere(args.run_dir, name, "random", seed):
                only.append(run_spec(name, seed, "random", **settings).name)
            if seed in now and not _done_elsewhere(args.run_dir, name, "random-search", seed):
                searches.append((seed, budget, SEARCH_TIME_FACTOR * config["time_limit"]))
        if only:
            grid = {"preset": "fast", "block": blocks}
            result = sweep(grid, config_dir(args.run_dir, name, "random"), num_cpus=args.num_cpus, only=only)
            print(result.table(), flush=True)
            if result.interrupted:  # Ctrl-C / SIGTERM: stop here, not in the random searches
                return 130
        for seed, budget, limit in searches:
            out = config_dir(args.run_dir, name, "random-search") / run_spec(name, seed).name
            if (out / "config.json").exists() and _finished_search(out, budget):
                continue
            cmd = [sys.executable, "-m", "crlqas_kit.cli", "search"]
            if (out / "config.json").exists():  # an unfinished one resumes (its logs are its state)
                from crlqas_kit.results import load_run

                limit -= load_run(out).seconds  # the safety limit counts over resumes, as the sweeps' do
                if limit <= 0:
                    print(f"{name} seed {seed}: random search stopped by its time limit short of its "
                          "evaluations; not resumed", file=sys.stderr)  # fmt: skip
                    continue
                cmd += ["--resume", str(out)]
            else:
                cmd += ["--agent", "random-search", "--preset", "fast", "--problem", config["problem"]]
                cmd += ["--noise", config["noise"], "--seeds", str(seed)]
                cmd += ["--shots", str(config["shots"])] if config["shots"] else []
                cmd += ["--mitigate-readout"] if config["mitigate_readout"] else []
                cmd += ["--force"] if out.exists() else []  # a directory without a run (a failed start)
            cmd += ["--episodes", str(EPISODES), "--max-evaluations", str(budget), "--time-limit", str(limit)]
            print(" ".join(cmd[2:]), file=sys.stderr, flush=True)
            rc = _run_child(cmd + ["--quiet", "--out", str(out)])
            if rc == 130:  # interrupted (saved: the next call resumes it)
                return 130
            if rc != 0:
                failed += 1
                print(f"{name} seed {seed}: random search exited with {rc}; re-run to redo it", file=sys.stderr)
    return 1 if failed else 0


def _run_child(cmd: list[str]) -> int:
    """Run ``cmd`` in ROOT and return its exit code; SIGINT / SIGTERM to this driver reach it once.

    The child (a random search) saves and exits with 130 on either signal. It runs in a process
    group of its own, so a Ctrl-C at the terminal reaches the driver alone, which passes it on
    (exactly one signal: a second one means "stop now", without the final save), and a ``kill`` of the driver
    reaches it too instead of leaving it running as an orphan that goes on writing into the run
    directory (seen on 2026-12-06). The driver waits for the child to finish saving.
    """
    child = subprocess.Popen(cmd, cwd=ROOT, process_group=0)
    forwarding = threading.current_thread() is threading.main_thread()  # handlers: main thread only
    old = {}
    if forwarding:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _finished_search(path: Path, budget: int) -> bool:
    from crlqas_kit.results import load_run

    run = load_run(path)
    return min(run.evaluations.values(), default=0) >= budget


def cmd_baselines(args) -> int:
    from crlqas_kit.baselines.adapt import adapt_vqe
    from crlqas_kit.baselines.hea import hea_baseline
    from crlqas_kit.problems import load_problem

    for name in _selected(args):
        config = CONFIGS[name]
        out = config_dir(args.run_dir, name, "baselines.json")
        if not args.redo and (out.exists() or _previous(name, "baselines")):
            continue
        problem = load_problem(config["problem"])
        noise, mitigate = config["noise"], config["mitigate_readout"]
        t0 = time.perf_counter()
        entry = {"hea": {}}
        for layers in (1, 2, 3):
            res = hea_baseline(problem, noise, layers=layers, mitigate_readout=mitigate)
            entry["hea"][layers] = {**res.summary(), "accurate": problem.is_chemically_accurate(res.energy)}
        if problem.n_qubits <= 6:  # the full pool at 8 qubits has 32,640 strings: not run here
            res = adapt_vqe(
                problem,
                noise=noise,
                energy_tol=problem.chemical_accuracy,
                mitigate_readout=mitigate,
                reoptimize_noisy=noise != "none",  # its angles re-optimised under the noise, as the HEA's are
            )
            entry["adapt"] = res.summary()
            entry["adapt"]["pool_operators"] = len(entry["adapt"]["pool_operators"])  # the size, not the list
        entry["seconds"] = time.perf_counter() - t0
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(entry, indent=1, default=float) + "\n")
        print(f"{name}: baselines in {entry['seconds']:.0f} s", file=sys.stderr, flush=True)
    return 0


FLOOR_CNOTS = {2: 3, 3: 2}  # most CNOTs whose placements are all tried: 2^3 = 8 and 6^2 = 36
FLOOR_SCHEDULE = {"starts": 4, "steps": 600}  # 2 x 400 left the mumbai floors start-dependent (up to 35 %)


def _floor_row(res) -> dict:
    s = res.summary()
    keep = ("cnots", "error", "best_skeleton", "counts", "starts", "steps", "seconds", "noise", "rotation_noise")
    return {**{k: s[k] for k in keep}, "placements": len(res.skeletons)}


def cmd_floors(args) -> int:
    from crlqas_kit.baselines.floor import cnot_floor
    from crlqas_kit.problems import load_problem

    noiseless: dict[str, dict] = {}
    for name in _selected(args):
        config = CONFIGS[name]
        problem = load_problem(config["problem"])
        out = config_dir(args.run_dir, name, "floors.json")
        if (
            config["noise"] == "none"
            or problem.n_qubits not in FLOOR_CNOTS
            or (not args.redo and (out.exists() or _previous(name, "floors")))
        ):
            continue
        t0 = time.perf_counter()
        ks = range(FLOOR_CNOTS[problem.n_qubits] + 1)
        if problem.name not in noiseless:
            noiseless[problem.name] = {k: _floor_row(cnot_floor(problem, None, cnots=k, **FLOOR_SCHEDULE)) for k in ks}
        noisy = {
            k: _floor_row(
                cnot_floor(
                    problem, config["noise"], cnots=k, mitigate_readout=config["mitigate_readout"], **FLOOR_SCHEDULE
                )
            )
            for k in ks
        }
        entry = {"noisy": noisy, "noiseless": noiseless[problem.name], "seconds": time.perf_counter() - t0}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(entry, indent=1, default=float) + "\n")
        print(f"{name}: floors in {entry['seconds']:.0f} s", file=sys.stderr, flush=True)
    return 0


def cmd_reoptimize(args) -> int:
    from crlqas_kit.optim.vqe import optimize_starts
    from crlqas_kit.problems import load_problem
    from crlqas_kit.sim.qasm import from_qasm

    for name in _selected(args):
        config = CONFIGS[name]
        out = config_dir(args.run_dir, name, "reoptimized.json")
        done = json.loads(out.read_text()) if out.exists() else dict(_previous(name, "reoptimized") or {})
        problem = load_problem(config["problem"])
        for seed in config["seeds"]:
            row = _row(args.run_dir, name, seed, "ddqn", OUT_JSON)
            if str(seed) in done or row is None or not row["finished"] or not row.get("best_qasm"):
                continue
            t0 = time.perf_counter()
            circuit = from_qasm(row["best_qasm"])
            runs = optimize_starts(
                problem, circuit, config["noise"], starts=3, seed=seed,  # start 0: the circuit's own angles
                method="adam", budget=800, lr=0.02, mitigate_readout=config["mitigate_readout"],
            )  # fmt: skip
            errors = [float(r.error) for r in runs]
            done[str(seed)] = {"found_error": row["best_error"], "error": float(min(errors)), "errors": errors,
                               "gates": row["best_gates"], "cnots": row["best_cnots"],
                               "seconds": time.perf_counter() - t0}  # fmt: skip
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(done, indent=1) + "\n")
            print(f"{name} seed {seed}: {row['best_error']:.2e} -> {min(errors):.2e} Ha", file=sys.stderr, flush=True)
    return 0


def _seed_row(path: Path, finished: bool, seed: int) -> dict | None:
    """One seed's numbers; ``finished``: its stopping rule was met (an interrupted run is not)."""
    from crlqas_kit.results import learning_stats, load_run, record_to_circuit
    from crlqas_kit.sim.qasm import to_qasm

    if not (path / "config.json").exists():
        return None
    run = load_run(path)
    row = run.summary()[0]
    best = (run.best.get(seed) or [None])[0]
    circuit = None if best is None else record_to_circuit(best["circuit"])
    row.update(
        evaluations=run.evaluations.get(seed),
        finished=finished,
        best_accurate=bool(best and best["chemically_accurate"]),
        best_rotations=None if circuit is None else circuit.counts()["rotations"],
        best_qasm=None if circuit is None else to_qasm(circuit),
        accurate_episodes=sum(bool(e["chemically_accurate"]) for e in run.episodes_of(seed)),
        accurate_in_last_1000=sum(bool(e["chemically_accurate"]) for e in run.episodes_of(seed)[-1000:]),
        curve=learning_stats(run.episodes_of(seed), window=50),
        improvements=improvements(run.episodes_of(seed)),
    )
    return row


def improvements(episodes) -> list[dict]:
    """Each new lowest error of a run: the episode, its training time (s), the objective
    evaluations so far, the error (Ha) and the circuit's gates / CNOTs."""
    out, lowest = [], float("inf")
    for e in episodes:
        if e["error"] < lowest:
            lowest = e["error"]
            keys = ("episode", "seconds", "evaluations", "error", "gates", "cnots")
            out.append({k: e.get(k) for k in keys})
    return out


def _where(run_dir: Path, name: str, seed: int, agent: str) -> tuple[Path, bool]:
    """A seed's run directory for ``agent`` and whether that run is finished. Random search has no
    sweep: its directory is named like the seed's CRLQAS run, and it is finished once it spent that
    run's evaluations."""
    from crlqas_kit.sweep.task import run_state

    if agent == "random-search":
        path = config_dir(run_dir, name, agent) / run_spec(name, seed).name
        budget = _spent(run_dir, name, seed)
        done = budget is not None and (path / "config.json").exists() and _finished_search(path, budget)
        return path, done
    if agent == "ddqn":
        spec = run_spec(name, seed)
    else:
        budget = _spent(run_dir, name, seed)
        if budget is None:
            return config_dir(run_dir, name, agent) / run_spec(name, seed, agent).name, False
        spec = run_spec(name, seed, agent, **_random_settings(name, budget))
    path = config_dir(run_dir, name, "crlqas" if agent == "ddqn" else agent) / spec.name
    return path, path.exists() and run_state(path, spec) == "finished"


def _row(run_dir: Path, name: str, seed: int, agent: str, previous: Path) -> dict | None:
    """A seed's row from its run directory; a finished row of ``previous`` (the committed grid.json)
    where that directory is gone or holds less (an earlier machine finished it)."""
    path, finished = _where(run_dir, name, seed, agent)
    row = _seed_row(path, finished, seed=seed)
    if row is None or not row["finished"]:
        row = _previous_row(name, agent, seed, previous) or row
    return row


def collect(run_dir: Path, previous: Path | None = None) -> list[dict]:
    entries = []
    for name, config in CONFIGS.items():
        methods = {}
        for agent in ("ddqn", "random", "random-search"):
            rows = [_row(run_dir, name, s, agent, previous) for s in config["seeds"]]
            methods[agent] = [r for r in rows if r is not None]
        entry = {"name": name, **config, "methods": methods}
        for key in ("baselines", "floors", "reoptimized"):
            file = config_dir(run_dir, name, f"{key}.json")
            entry[key] = json.loads(file.read_text()) if file.exists() else _previous(name, key, previous)
        if any(methods.values()) or entry["baselines"] or entry["floors"] or entry["reoptimized"]:
            entries.append(entry)
    return entries


def _finished(rows: list[dict]) -> tuple[list[dict], str]:
    """The finished seeds' rows (the tables count only those) and a note on the others."""
    done = [r for r in rows if r["finished"]]
    running = len(rows) - len(done)
    return done, f" (+{running} unfinished)" if running else ""


def lowest_error(row: dict, within: int | None = None) -> float | None:
    """A seed's lowest error over all its episodes (its last improvement), or over those that
    ended within ``within`` objective evaluations. The row's ``best_error`` is its *best
    circuit's* error, and the kit's best circuit is the shortest accurate one once there is one,
    which may be less accurate than the run's lowest."""
    steps = row.get("improvements") or []
    if within is not None and steps:
        steps = [s for s in steps if s["evaluations"] is not None and s["evaluations"] <= within]
        return steps[-1]["error"] if steps else float("inf")  # nothing yet within the budget
    if steps:
        return steps[-1]["error"]
    # without the record, the best circuit's error is the lowest only if it is not an accurate one
    return None if row.get("best_accurate") else row.get("best_error")


def _inf_if_none(x: float | None) -> float:
    return float("inf") if x is None else x


def _shortest_accurate(rows: list[dict]) -> dict | None:
    """The row whose best circuit is accurate with the fewest CNOTs (then gates), or None."""
    acc = [r for r in rows if r["best_accurate"]]
    return min(acc, key=lambda r: (r["best_cnots"], r["best_gates"])) if acc else None


def _method_cell(rows: list[dict]) -> str:
    rows, note = _finished(rows)
    if not rows:
        return "-" + note
    ok = sum(r["success"] for r in rows)
    low = min((lowest_error(r) for r in rows), key=_inf_if_none)
    b = _shortest_accurate(rows)
    circuit = "-" if b is None else f"{b['best_gates']}/{b['best_cnots']}"
    err = "-" if low is None else f"{low:.1e}"
    return f"{ok}/{len(rows)}{note}, {err}, {circuit}"


def _adapt_error(a: dict) -> float:
    """ADAPT's error under the configuration's noise: re-optimised there if it was, else as grown."""
    for key in ("reoptimized_error", "noisy_error", "error"):
        if a.get(key) is not None:
            return a[key]
    raise KeyError("error")


def _label(e: dict, sep: str = " ", mitigated: str = "mitigated") -> str:
    """A configuration's name in the tables, e.g. ``LiH-4q `mumbai-median` mitigated 1e+07 shots``."""
    label = f"{e['problem']}{sep}`{e['noise']}`" + (f"{sep}{mitigated}" if e["mitigate_readout"] else "")
    return label + (f"{sep}{e['shots']:.0e} shots" if e["shots"] else "")


def markdown(entries: list[dict]) -> str:
    head = (
        "| configuration | CRLQAS (DDQN) | random agent | random search | HEA-1 | HEA-2 | HEA-3 | qubit-ADAPT-VQE |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for e in entries:
        cells = [_method_cell(e["methods"][a]) for a in ("ddqn", "random", "random-search")]
        b = e["baselines"] or {}
        for layers in ("1", "2", "3"):
            h = (b.get("hea") or {}).get(layers)
            cells.append("-" if h is None else f"{h['best_error']:.1e}, {h['gates']}/{h['cnots']}")
        a = b.get("adapt")
        cells.append("-" if a is None else f"{_adapt_error(a):.1e}, {a['counts']['gates']}/{a['counts']['cnots']}")
        label = _label(e)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: errors closer than this (Ha) are a tie in :func:`comparison`: two runs reaching the same optimum
#: by different circuits and angles (H2O-8q seed 0: 1.1670824 and 1.1670844 mHa, 2e-9 Ha apart),
#: while noiseless H2 errors of 1e-6 and 2e-6 Ha stay apart
TIE = 1e-8


def comparison(entries: list[dict]) -> str:
    """DDQN against each random method seed by seed at equal evaluations: over the seeds both
    finished with the random method spending at least the DDQN seed's evaluations (a random run
    stopped short, e.g. by its safety time limit, is left out and counted), the accurate seeds of
    each, and on how many seeds the DDQN's lowest error is lower (by more than :data:`TIE`; ties
    said). Empty when no configuration has such seeds."""
    lines = []
    for e in entries:
        rows = {a: {r["seed"]: r for r in _finished(e["methods"].get(a, []))[0]} for a, _, _ in METHODS}
        seeds = sorted(set(rows["ddqn"]) & (set(rows["random"]) | set(rows["random-search"])))
        if not seeds:
            continue
        cells = []
        for agent in ("random", "random-search"):
            both = [s for s in seeds if s in rows[agent]]
            have = [s for s in both if (rows[agent][s]["evaluations"] or 0) >= (rows["ddqn"][s]["evaluations"] or 0)]
            short = f" ({len(both) - len(have)} short of the budget, left out)" if len(have) < len(both) else ""
            if not have:
                cells += ["-" + short, "-"]
                continue
            ok = f"{sum(rows['ddqn'][s]['success'] for s in have)} vs {sum(rows[agent][s]['success'] for s in have)}"
            # the random method's lowest error within the DDQN seed's evaluations (it may overrun by a chunk)
            ours = {s: lowest_error(rows["ddqn"][s]) for s in have}
            theirs = {s: lowest_error(rows[agent][s], within=rows["ddqn"][s]["evaluations"]) for s in have}
            known = [s for s in have if ours[s] is not None and theirs[s] is not None]
            tied = sum(abs(ours[s] - theirs[s]) <= TIE or ours[s] == theirs[s] for s in known)  # inf == inf
            lower = sum(ours[s] < theirs[s] - TIE for s in known)
            notes = [f"{tied} tied"] if tied else []
            notes += [f"{len(have) - len(known)} unknown"] if len(known) < len(have) else []
            note = f" ({', '.join(notes)})" if notes else ""
            cells += [f"{ok} of {len(have)}{short}", f"{lower}/{len(known)}{note}"]
        label = _label(e)
        lines.append(f"| {label} | {', '.join(map(str, seeds))} | " + " | ".join(cells) + " |")
    if not lines:
        return ""
    head = (
        "| configuration | seeds | accurate seeds: DDQN vs random agent | DDQN's lowest error lower | accurate seeds: "
        "DDQN vs random search | DDQN's lowest error lower |\n|---|---|---|---|---|---|"
    )
    return "\n".join([head, *lines]) + "\n"


def _seed_list(seeds) -> str:
    seeds = sorted(seeds)
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def missing(entries: list[dict]) -> str:
    """What the grid still lacks, per configuration (from grid.json and :data:`CONFIGS`): CRLQAS
    seeds not finished (with their wall-time limits: the core-hours they need) and finished CRLQAS
    seeds without their equal-evaluation random agent or random search, with the range of the
    random methods' wall time over the CRLQAS seed's measured so far. Empty when complete."""
    by_name = {e["name"]: e for e in entries}
    lines, hours, ratios = [], 0.0, []
    for name, config in CONFIGS.items():
        methods = by_name.get(name, {}).get("methods", {})
        done = {a: {r["seed"]: r for r in _finished(methods.get(a, []))[0]} for a, _, _ in METHODS}
        for agent, _, _ in METHODS[1:]:
            ratios += [r["seconds"] / done["ddqn"][s]["seconds"] for s, r in done[agent].items() if s in done["ddqn"]]
        parts = []
        crlqas = [s for s in config["seeds"] if s not in done["ddqn"]]
        if crlqas:
            hours += len(crlqas) * config["time_limit"] / 3600
            each = " each" if len(crlqas) > 1 else ""
            parts.append(f"CRLQAS {_seed_list(crlqas)} ({config['time_limit'] / 60:.0f} min{each})")
        for agent, label, _ in METHODS[1:]:
            lacking = [s for s in done["ddqn"] if s not in done[agent]]
            if lacking:
                parts.append(f"{label} {_seed_list(lacking)}")
        if parts:
            lines.append(f"- `{name}`: " + "; ".join(parts))
    if not lines:
        return ""
    spread = f", which have taken {min(ratios):.1f}-{max(ratios):.1f}x a CRLQAS seed's wall time" if ratios else ""
    crlqas = f"{hours:.1f} core-hours of CRLQAS seeds, then their" if hours else "the"
    head = f"Not run yet: {crlqas} random agents and random searches at equal evaluations{spread}:\n\n"
    return head + "\n".join(lines) + "\n"


def details(entries: list[dict]) -> str:
    """Per configuration, one row per method: every column the issue asks for."""
    out = []
    for e in entries:
        label = _label(e, ", ", "readout mitigated")
        out += [f"#### {label}", "", "| method | seeds accurate | lowest error (Ha) | best circuit: error (Ha), "
                "gates / CNOTs / depth / rotations | objective evaluations (median) | wall (s, median) |",
                "|---|---|---|---|---|---|"]  # fmt: skip
        for agent, name in (
            ("ddqn", "CRLQAS (DDQN, fast)"),
            ("random", "random agent"),
            ("random-search", "random search"),
        ):
            rows, note = _finished(e["methods"][agent])
            if not rows:
                continue
            ok = sum(r["success"] for r in rows)
            low = min((lowest_error(r) for r in rows), key=_inf_if_none)
            # the best circuit: the shortest accurate one, else the most accurate
            best = _shortest_accurate(rows) or min(rows, key=lambda r: _inf_if_none(r["best_error"]))
            shape = "/".join(str(best[k]) for k in ("best_gates", "best_cnots", "best_depth", "best_rotations"))
            circuit = "-" if best["best_error"] is None else f"{best['best_error']:.2e}, {shape}"
            # the median of an even number of seeds is the mean of the middle two, not the upper one
            evals = statistics.median(r["evaluations"] or 0 for r in rows)
            wall = statistics.median(r["seconds"] for r in rows)
            seeds = f"{ok}/{len(rows)}{note}"
            low = "-" if low is None else f"{low:.2e}"
            out.append(f"| {name} | {seeds} | {low} | {circuit} | {evals:.3g} | {wall:.0f} |")
            again = e.get("reoptimized") or {}
            if agent == "ddqn" and again:
                accurate = [r for r in again.values() if r["error"] < 1.6e-3]
                low = min(again.values(), key=lambda r: r["error"])
                # as for the methods: the shortest accurate circuit, else the most accurate
                best = min(accurate, key=lambda r: (r["cnots"], r["gates"])) if accurate else low
                circuit = f"{best['error']:.2e}, {best['gates']}/{best['cnots']}"
                name = "CRLQAS best circuits, angles by exact-gradient Adam"
                out.append(f"| {name} | {len(accurate)}/{len(again)} | {low['error']:.2e} | {circuit} | - | - |")
        b = e["baselines"] or {}
        for layers, h in sorted((b.get("hea") or {}).items()):
            shape = f"{h['gates']}/{h['cnots']}/{h['depth']}/{h['gates'] - h['cnots']}"
            accurate = "yes" if h.get("accurate") else "no"
            name = f"HEA-{layers} (exact-gradient Adam)"
            err = f"{h['best_error']:.2e}"
            out.append(f"| {name} | {accurate} | {err} | {err}, {shape} | - | {h['seconds']:.0f} |")
        a = b.get("adapt")
        if a is not None:
            c = a["counts"]
            error = _adapt_error(a)
            accurate = "yes" if error < 1.6e-3 else "no"
            shape = f"{c['gates']}/{c['cnots']}/{c['depth']}/{c['rotations']}"
            name = f"qubit-ADAPT-VQE ({len(a['operators'])} operators)"
            out.append(f"| {name} | {accurate} | {error:.2e} | {error:.2e}, {shape} | - | {a['seconds']:.0f} |")
        floors = e.get("floors") or {}
        for k, f in sorted((floors.get("noisy") or {}).items()):
            c = f["counts"]
            shape = f"{c['gates']}/{c['cnots']}/{c['depth']}/{c['rotations']}"
            quiet = floors["noiseless"][k]["error"]
            name = f"floor: all {f['placements']} placements of {k} CNOTs (noiseless: {quiet:.1e})"
            accurate = "yes" if f["error"] < 1.6e-3 else "no"
            out.append(
                f"| {name} | {accurate} | {f['error']:.2e} | {f['error']:.2e}, {shape} | - | {f['seconds']:.0f} |"
            )
        out.append("")
    return "\n".join(out)


def cmd_collect(args) -> int:
    from crlqas_kit.results import package_versions

    global OUT_JSON
    OUT_JSON = args.json  # the previous rows come from the file this collect rewrites

    entries = collect(Path(args.run_dir), previous=args.json)
    meta = {"date": time.strftime("%Y-%m-%d"), "versions": package_versions(), "configs": CONFIGS}
    args.json.write_text(json.dumps({**meta, "entries": entries}, indent=1) + "\n")
    print(f"wrote {args.json}: {len(entries)} configurations", file=sys.stderr)
    return 0


METHODS = (("ddqn", "CRLQAS (DDQN)", "C0"), ("random", "random agent", "C1"), ("random-search", "random search", "C2"))
FIG_DIR = ROOT / "docs" / "figures"


def figure(entry: dict):
    """Configuration ``entry``'s methods at equal evaluations (a matplotlib figure): left, each
    finished seed's lowest error so far against the objective evaluations spent (its record of
    improvements); right, the share of chemically accurate episodes in windows of 50 episodes."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    from crlqas_kit.problems import CHEMICAL_ACCURACY

    fig, (low, rate) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for agent, label, colour in METHODS:
        rows, _ = _finished(entry["methods"].get(agent, []))
        # the legend names the seeds drawn on the left: runs made before improvements were recorded have
        # no step line (LiH-6q DDQN seeds 0 and 1), and a legend keyed to the first seed lost the label
        drawn = [r for r in rows if r.get("improvements") and r.get("evaluations")]
        seeds = ", ".join(str(r["seed"]) for r in drawn)
        for i, r in enumerate(drawn):
            steps = r["improvements"]
            x = [s["evaluations"] for s in steps] + [r["evaluations"]]
            y = [s["error"] for s in steps] + [steps[-1]["error"]]
            name = f"{label} (seed{'s' if len(drawn) > 1 else ''} {seeds})"
            low.step(x, y, where="post", color=colour, alpha=0.8, label=name if i == 0 else None)
        for r in rows:
            curve = r.get("curve") or {}
            if curve.get("evaluations"):
                rate.plot(curve["evaluations"], curve["accurate_rate"], color=colour, alpha=0.8)
    low.axhline(CHEMICAL_ACCURACY, color="k", lw=0.8, ls="--", label="chemical accuracy")
    low.set(xscale="log", yscale="log", xlabel="objective evaluations", ylabel="lowest error so far (Ha)")
    rate.set(xlabel="objective evaluations", ylabel="accurate episodes (per 50)", ylim=(-0.02, 1.02))
    low.legend(fontsize=8)
    fig.suptitle(_label(entry).replace("`", ""), fontsize=10)
    return fig


def cmd_figures(args) -> int:
    """One PNG per configuration with a random method beside CRLQAS (from grid.json alone)."""
    import matplotlib.pyplot as plt

    entries = json.loads(args.json.read_text())["entries"]
    args.out.mkdir(parents=True, exist_ok=True)
    for e in entries:
        done = {a for a, _, _ in METHODS if _finished(e["methods"].get(a, []))[0]}
        if "ddqn" in done and done - {"ddqn"}:
            fig = figure(e)
            path = args.out / f"grid_{e['name']}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            print(f"wrote {path}", file=sys.stderr)
    return 0


BEGIN, END = "<!-- grid tables: begin (scripts/results_grid.py table --into) -->", "<!-- grid tables: end -->"


def cmd_table(args) -> int:
    entries = json.loads(args.json.read_text())["entries"]
    text = (
        markdown(entries)
        + "\nCells: CRLQAS and the random methods: seeds with a chemically accurate circuit / finished seeds, the "
        "lowest error over all episodes (Ha), gates/CNOTs of the shortest accurate circuit; HEA and ADAPT: error "
        "(Ha), gates/CNOTs.\n\n"
    )
    versus = comparison(entries)
    if versus:
        text += "DDQN against the random methods at equal evaluations, seed by seed (seeds both finished):\n\n"
        text += versus + "\n"
    todo = missing(entries)
    if todo:
        text += todo + "\n"
    text += details(entries)
    if args.into is None:
        print(text)
        return 0
    doc = args.into.read_text()
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        raise SystemExit(f"{args.into} needs one {BEGIN!r} line before one {END!r} line")
    head, rest = doc.split(BEGIN)
    args.into.write_text(head + BEGIN + "\n\n" + text.rstrip() + "\n\n" + END + rest.split(END, 1)[1])
    print(f"wrote the tables into {args.into}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name, func, text in (
        ("crlqas", cmd_crlqas, "CRLQAS runs (a sweep; resumes)"),
        ("random", cmd_random, "random agent and random search at CRLQAS's evaluations"),
        ("baselines", cmd_baselines, "HEA-1/2/3 and qubit-ADAPT-VQE"),
        ("floors", cmd_floors, "noise floors: every placement of 0..K CNOTs (2-3 qubits)"),
        ("reoptimize", cmd_reoptimize, "CRLQAS best circuits with exact-gradient angles under the noise"),
        ("collect", cmd_collect, "the run directories' numbers into grid.json"),
        ("table", cmd_table, "the Markdown tables from grid.json"),
        ("figures", cmd_figures, "DDQN against the random methods, per configuration, from grid.json"),
    ):
        p = sub.add_parser(name, help=text)
        if name not in ("table", "figures"):
            p.add_argument("--run-dir", type=Path, default=RUN_DIR, help=f"run directories (default {RUN_DIR})")
        if name in ("collect", "table", "figures"):
            p.add_argument("--json", type=Path, default=OUT_JSON, help=f"the raw numbers (default {OUT_JSON})")
        if name == "table":
            p.add_argument("--into", type=Path, help="replace the tables between the grid markers of this file")
        if name == "figures":
            p.add_argument("--out", type=Path, default=FIG_DIR, help=f"where the PNGs go (default {FIG_DIR})")
        if name not in ("collect", "table", "figures"):
            p.add_argument("--only", nargs="+", metavar="NAME", help="some configurations only")
        if name in ("baselines", "floors"):
            p.add_argument("--redo", action="store_true", help="recompute what grid.json or the run directory holds")
        if name in ("crlqas", "random"):
            p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance")
            p.add_argument("--seeds", type=int, nargs="+", metavar="SEED", help="some seeds only (of 0 1 2)")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
