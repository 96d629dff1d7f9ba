"""The CRLQAS search loop: environments + curriculum + double-DQN agent, compiled in chunks.

``search(config, key) -> Results``. The compiled training step, its state and the chunk of
``chunk_steps`` steps (one ``lax.scan``) are in :mod:`crlqas_kit.trainer`; here a Python loop
over chunks reports progress to the callbacks and honours a stop request between chunks.
Evaluation episodes (greedy, with the current threshold) run every ``eval_every`` training
episodes and never touch the curriculum.
Several seeds train at once with ``jax.vmap`` over the whole training state (``seeds=[...]``).
That suits an accelerator; on a CPU one process per seed is faster (measured on 2 cores, LiH-4q:
3 seeds in one ``vmap`` made 20 training steps/s in all, two single-seed processes 68), because
a batch of different circuits needs the simulator's branch-free gather kernel (see ``docs/results.md``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
import types
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from ._checks import check_seed
from ._x64 import enable_x64
from .autosave import LOCK_FILE, Autosave, Interrupts, claim_out, run_entries
from .checkpoint import load_meta
from .problems import load_problem
from .results import Results, ResumeWarning, checkpoint_files, circuit_record, load_run, restore_from
from .search_config import SearchConfig
from .trainer import _EVAL, load_state, make_trainer, run_chunk
from .trainer import Trainer as Trainer  # re-exported: the trainer lived here until issue 13
from .trainer import TrainState as TrainState  # re-exported
from .trainer import _AgentStateV0 as _AgentStateV0  # re-exported (tests build old checkpoints with it)

Callback = Callable[[dict[str, Any]], Any]


def check_seeds(key: int | None, seeds: Sequence[int] | None) -> None:
    """Integer seeds in ``[0, 2^32)``, at least one, no repeats (a repeat would count its episodes twice)."""
    values = ([key] if key is not None else []) + ([] if seeds is None else list(seeds))
    if seeds is not None and not values:
        raise ValueError("seeds must hold at least one seed")
    for seed in values:
        check_seed(seed, "a seed")
    if seeds is not None and len(set(int(x) for x in seeds)) != len(values):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")


def search(
    config: SearchConfig,
    key: jax.Array | int = 0,
    *,
    seeds: Sequence[int] | None = None,
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] | None = None,
    resume: Any = None,
    out: str | Path | None = None,
    save_every: float = 60.0,
    force: bool = False,
) -> Results:
    """Run CRLQAS. ``key``/``seeds``: one integer seed (or key), or several seeds trained at once.

    ``callbacks`` receive ``{"event": "chunk" | "episode" | "eval" | "interrupted", ...}``
    dictionaries; ``should_stop()`` is polled between chunks. ``resume``: a checkpoint from
    :func:`load_checkpoint` to continue exactly where it stopped.

    ``out``: a run directory written while training (:mod:`crlqas_kit.autosave`): claimed first
    (a new or empty directory, or the same run when resuming; ``force=True`` replaces another
    run), saved every ``save_every`` seconds between chunks and at the end. In the main thread,
    Ctrl-C (SIGINT) or SIGTERM then stops the search after the running chunk and saves (a second
    one interrupts at once): the returned results are ``stopped`` and the directory resumable
    with ``search(config, resume=load_checkpoint(out), out=out)``.
    """
    check_seeds(key if seeds is None and isinstance(key, int) else None, seeds)
    if out is None:
        return _run(config, key, seeds, callbacks, should_stop, resume)
    saver = Autosave(out, save_every)
    seed_list = list(resume[1].seeds) if resume is not None else _seed_list(key, seeds)
    path, created, lock = claim_out(out, config, seed_list, resuming=resume is not None, force=force)
    try:
        with Interrupts() as interrupts:
            stop = lambda: interrupts.signal is not None or (should_stop is not None and should_stop())  # noqa: E731
            results = _run(config, key, seeds, [saver, *callbacks], stop, resume)  # saved before callbacks see a chunk
        results.save(path)
    except BaseException:
        lock.release()
        if created and path.is_dir() and not run_entries(path):
            (path / LOCK_FILE).unlink(missing_ok=True)  # a failed start leaves no run directory behind
            path.rmdir()
        raise
    lock.release()  # after the last save: the directory is the next writer's
    if interrupts.signal is not None:
        for cb in callbacks:
            cb({"event": "interrupted", "signal": interrupts.signal, "out": str(path)})
    return results


def _seed_list(key, seeds) -> list[int]:
    return list(seeds) if seeds is not None else [key if isinstance(key, int) else 0]


def _run(config, key, seeds, callbacks, should_stop, resume) -> Results:
    with enable_x64():
        if config.agent == "random-search":
            from .baselines.random_search import random_search

            results = None if resume is None else resume[1]  # its logs are its state: no train state
            return random_search(config, key, seeds=seeds, callbacks=callbacks, should_stop=should_stop, resume=results)
        return _search(config, key, seeds, callbacks, should_stop, resume)


def _search(config, key, seeds, callbacks, should_stop, resume) -> Results:
    problem = load_problem(config.problem)
    seed_list = _seed_list(key, seeds)
    if resume is not None:  # the checkpoint's seeds, whatever key/seeds were passed
        ts, results = resume
        seed_list = list(results.seeds)
        results.config = config  # e.g. a longer run: saved with the config it continued under
        results.stopped = False  # set again below if this run is stopped too
    multi = len(seed_list) > 1
    trainer = dataclasses.replace(make_trainer(config), seeds_batched=multi)
    if resume is None:
        keys = [jax.random.key(s) for s in seed_list] if isinstance(key, int) or seeds is not None else [key]
        states = [trainer.init(k) for k in keys]
        ts = jax.tree.map(lambda *xs: jnp.stack(xs), *states) if multi else states[0]
        results = Results(config=config, seeds=seed_list, problem=problem.summary())
    t0 = time.perf_counter() - results.seconds
    done = {s: len(results.episodes_of(s)) for s in seed_list}  # episodes per seed (no rescans: O(1))
    # objective evaluations per seed, counted over every step (also of unfinished episodes)
    spent = {s: int(results.evaluations.get(s, 0)) for s in seed_list}
    next_eval = {s: (done[s] // config.eval_every + 1) * config.eval_every for s in seed_list}
    while min(done.values()) < config.episodes:
        if should_stop is not None and should_stop():
            results.stopped = True
            break
        ts, metrics = run_chunk(trainer, ts)
        metrics = jax.device_get(metrics)
        results.seconds = time.perf_counter() - t0  # the chunk's episodes are stamped with its end time
        for i, seed in enumerate(seed_list):
            m = jax.tree.map(lambda x, i=i: x[i], metrics) if multi else metrics
            for record in _episodes_from(m, problem, results, seed, done, spent):
                for cb in callbacks:
                    cb({"event": "episode", **record})
            if done[seed] >= next_eval[seed] and config.eval_episodes:
                agent = jax.tree.map(lambda x, i=i: x[i], ts.agent) if multi else ts.agent
                thr = ts.curriculum.threshold[i] if multi else ts.curriculum.threshold
                for k in range(config.eval_episodes if config.agent == "ddqn" else 0):
                    ev = jax.device_get(_EVAL(trainer, agent, eval_key(seed, next_eval[seed], k), thr))
                    record = results.add_eval(seed, done[seed], ev, problem)
                    for cb in callbacks:
                        cb({"event": "eval", **record})
                next_eval[seed] += config.eval_every
        results.seconds = time.perf_counter() - t0
        results.checkpoint = ts
        results.evaluations = dict(spent)
        for cb in callbacks:
            cb(
                {
                    "event": "chunk",
                    "episodes": [done[s] for s in seed_list],
                    "target": config.episodes,
                    "seconds": results.seconds,
                    "results": results,  # complete up to this chunk (checkpoint included): savable
                }
            )
    results.seconds = time.perf_counter() - t0
    results.checkpoint = ts
    return results


def eval_key(seed: int, after_episodes: int, k: int) -> jax.Array:
    """The key of evaluation episode ``k`` after ``after_episodes`` training episodes of ``seed``.

    Derived from the seed, so the evaluation episodes of different seeds never share draws.
    """
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), after_episodes), k)


def _episodes_from(
    m: dict, problem, results: Results, seed: int, done: dict[int, int], spent: dict[int, int]
) -> list[dict]:
    """Turn the per-step metrics of a chunk ``(K, B, ...)`` into episode records (``done[seed]``
    counts episodes, ``spent[seed]`` the seed's objective evaluations so far, all environments)."""
    out = []
    K, B = m["done"].shape
    for k in range(K):
        spent[seed] += int(m["evaluations"][k].sum())
        for b in range(B):
            if not m["done"][k, b]:
                continue
            circuit = circuit_record(
                problem.n_qubits,
                m["gates_arr"][k, b],
                m["wires_arr"][k, b],
                m["slots_arr"][k, b],
                m["angles_arr"][k, b],
                int(m["gates"][k, b]),
            )
            record = {
                "seed": seed,
                "episode": done[seed] + 1,
                "return": float(m["return"][k, b]),
                "energy": float(m["energy"][k, b]),
                "exact_energy": float(m["exact_energy"][k, b]),
                "error": float(m["error"][k, b]),
                "success": bool(m["success"][k, b]),
                "chemically_accurate": bool(m["chemically_accurate"][k, b]),
                "gates": int(m["gates"][k, b]),
                "cnots": int(m["cnots"][k, b]),
                "depth": int(m["depth"][k, b]),
                "eps": float(m["eps"][k, b]),
                "threshold": float(m["threshold"][k, b]),
                "loss": float(m["loss"][k, b]),
                "evaluations": spent[seed],
                "agent": results.config.agent,
            }
            results.add_episode(record, circuit)
            done[seed] += 1
            out.append(record)
    return out


def load_checkpoint(path: str | Path) -> tuple[Any, Results]:
    """``(train_state, results)`` of a saved run, ready for ``search(..., resume=...)``.

    The saved state is loaded into a fresh :meth:`Trainer.init` of the run's config (one per seed),
    so a checkpoint that no longer fits the code fails with a ``ValueError`` naming the leaf and
    the checkpoint's format version (:func:`crlqas_kit.checkpoint.load_pytree`; runs saved before
    format versions, version 0, still load). The checkpoint must belong to the run's logs
    (:func:`crlqas_kit.results.restore_from`: longer logs are cut back to it). When
    ``checkpoint.npz`` is damaged or does not match, the previous checkpoint
    ``checkpoint.prev.npz`` is used; every such repair is reported as a
    :class:`~crlqas_kit.results.ResumeWarning`. Neither usable: a ``ValueError`` naming both.
    A random-search run has no training state: ``(None, results)`` (its logs are its state).
    """
    path = Path(path)
    run = load_run(path)
    if run.config.agent == "random-search":  # no training state: its logs are all it needs
        for seed in run.seeds:  # config.json is written before the logs: the logs decide
            logged = run.episodes_of(seed)
            run.evaluations[seed] = int(logged[-1]["evaluations"]) if logged else 0
        return None, run
    files = checkpoint_files(path)
    if not files:
        raise ValueError(f"{path} has no checkpoint.npz to resume from")
    problems: list[str] = []
    for file in files:
        try:
            results, notes = restore_from(path, run, load_meta(file))
            state = load_state(file, results.config, results.seeds)
        except ValueError as err:
            problems.append(f"{file.name}: {err}")
            continue
        for note in problems:
            warnings.warn(f"{note}; resuming from {file.name} instead", ResumeWarning, stacklevel=2)
        for note in notes:
            warnings.warn(note, ResumeWarning, stacklevel=2)
        return state, results
    raise ValueError(f"cannot resume {path}: " + "; ".join(problems))


class _CallableModule(types.ModuleType):
    """``crlqas_kit.search`` is both this module and (lazily exported) its :func:`search`: once the
    module is imported, the package attribute ``ck.search`` is the module, so calling the module
    runs :func:`search` and ``ck.search(config)`` works in any import order."""

    def __call__(self, *args: Any, **kwargs: Any) -> Results:
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
