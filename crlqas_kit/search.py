"""The CRLQAS search loop: environments + curriculum + double-DQN agent, compiled in chunks.

``search(config, key) -> Results``. One training step (all inside ``jit``):

1. every environment picks an epsilon-greedy LEGAL action from the online network (the
   ``random`` agent: a uniform legal action, and no learning in step 5);
2. the environments step (gate appended, all angles re-optimised by Adam-SPSA, reward);
3. n-step transitions enter the replay buffer;
4. finished episodes update the curriculum (in order) and restart with its current threshold;
5. once the buffer holds a batch, ``n_envs`` gradient updates (one per environment step).

``chunk_steps`` steps are one compiled ``lax.scan``; a Python loop over chunks reports progress
to the callbacks and honours a stop request between chunks. Evaluation episodes (greedy, with
the current threshold) run every ``eval_every`` training episodes and never touch the curriculum.
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
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ._checks import check_seed
from ._x64 import enable_x64
from .autosave import Autosave, Interrupts, claim_out
from .checkpoint import load_meta, load_pytree
from .problems import load_problem
from .results import Results, ResumeWarning, checkpoint_files, circuit_record, load_run, restore_from
from .rl import curriculum as qas_curriculum
from .rl import env as qas_env
from .rl import replay
from .rl.actions import action_arrays, legal_mask
from .rl.batch import step_many
from .rl.dqn import Agent, AgentState, select_action
from .search_config import SearchConfig, make_env_params


class TrainState(NamedTuple):
    key: jax.Array
    env: qas_env.EnvState  # batched over n_envs
    obs: jnp.ndarray  # (B, D)
    agent: AgentState
    buffer: replay.Replay
    queues: replay.NStepQueue  # batched over n_envs
    curriculum: qas_curriculum.CurriculumState
    ep_return: jnp.ndarray  # (B,)
    episodes: jnp.ndarray
    steps: jnp.ndarray


class _AgentStateV0(NamedTuple):
    """The agent state of checkpoints saved before epsilon was derived from ``updates``."""

    params: dict
    target_params: dict
    opt_state: Any
    updates: jnp.ndarray
    eps: jnp.ndarray


def _legacy_layout(template: TrainState) -> TrainState:
    """``template`` in the layout of those checkpoints (``agent.eps`` after ``agent.updates``)."""
    agent = template.agent
    return template._replace(agent=_AgentStateV0(*agent, eps=jnp.zeros(agent.updates.shape, jnp.float64)))


@dataclasses.dataclass(frozen=True, eq=False)
class Trainer:
    """The pure pieces of a run, built from a :class:`SearchConfig` (``make_trainer``).

    Hashes and compares by its config (everything else is derived from it), so it can be a
    static argument of ``jit``: equal configs share one compiled chunk.
    """

    config: SearchConfig
    params: qas_env.EnvParams
    agent: Agent
    #: True when the training states of several seeds are ``vmap``ped (``_CHUNK_SEEDS``)
    seeds_batched: bool = False

    def _compiled_key(self) -> tuple[SearchConfig, bool]:
        # The run length and the evaluation schedule are read by the Python loop only, never
        # inside the compiled chunk: runs that differ only there (e.g. a resume with more
        # episodes) share one compilation.
        return self.config.replace(episodes=1, eval_every=1, eval_episodes=0), self.seeds_batched

    def _env_step(self, keys, env, actions):
        # Several seeds in one vmap batch every environment, and a batched lax.switch would run
        # every branch: they need the branch-free kernel ("vmap"); otherwise step_many picks.
        return step_many(keys, env, actions, self.params, "vmap" if self.seeds_batched else "auto")

    def __hash__(self) -> int:
        return hash(self._compiled_key())

    def __eq__(self, other) -> bool:
        return isinstance(other, Trainer) and self._compiled_key() == other._compiled_key()

    # -- state ----------------------------------------------------------------------------------
    def init(self, key: jax.Array) -> TrainState:
        cfg, p = self.config, self.params
        k_agent, k_env, key = jax.random.split(key, 3)
        curr = qas_curriculum.init(cfg.curriculum, float(p.threshold0), float(p.e_min))
        obs, env = jax.vmap(qas_env.reset, in_axes=(0, None, None))(
            jax.random.split(k_env, cfg.n_envs), p, curr.threshold
        )
        n = cfg.dqn.n_step
        queue = replay.nstep_init(n, p.obs_size)
        ts = TrainState(
            key=key,
            env=env,
            obs=obs.astype(jnp.float32),
            agent=self.agent.init(k_agent),
            buffer=replay.init(cfg.dqn.buffer_size, p.obs_size, p.n_actions),
            queues=jax.tree.map(lambda x: jnp.broadcast_to(x, (cfg.n_envs, *x.shape)), queue),
            curriculum=curr,
            ep_return=jnp.zeros(cfg.n_envs),
            episodes=jnp.asarray(0),
            steps=jnp.asarray(0),
        )
        # Strong (non-weak) dtypes, so that the state entering a chunk has exactly the types of the
        # state leaving it and of a reloaded checkpoint: otherwise each of them compiles anew.
        return jax.tree.map(_strong, ts)

    # -- one step -------------------------------------------------------------------------------
    def step(self, ts: TrainState, _=None) -> tuple[TrainState, dict]:
        cfg, p, agent = self.config, self.params, self.agent
        B = cfg.n_envs
        key, k_act, k_env, k_reset, k_upd = jax.random.split(ts.key, 5)
        masks = jax.vmap(qas_env.action_mask, in_axes=(0, None))(ts.env, p)
        learning = cfg.agent == "ddqn"
        if learning:
            actions = jax.vmap(agent.act, in_axes=(0, None, 0, 0))(jax.random.split(k_act, B), ts.agent, ts.obs, masks)
        else:  # uniform over the legal actions (select_action at epsilon = 1)
            uniform = lambda k, m: select_action(k, jnp.zeros(p.n_actions), m, 1.0)  # noqa: E731
            actions = jax.vmap(uniform)(jax.random.split(k_act, B), masks)
        obs2, env2, reward, term, trunc, info = self._env_step(jax.random.split(k_env, B), ts.env, actions)
        obs2 = obs2.astype(jnp.float32)
        wires = jnp.asarray(action_arrays(p.n_qubits)["wires"])
        next_mask = jax.vmap(lambda la: legal_mask(la, p.allowed, wires))(env2.last_action)
        queues, items, valid = jax.vmap(replay.nstep_push, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, None))(
            ts.queues, ts.obs, actions, reward, obs2, next_mask, term, trunc, agent.gamma
        )
        flat = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), items)
        buffer = replay.add(ts.buffer, flat, valid.reshape(-1)) if learning else ts.buffer
        done = term | trunc
        ep_return = ts.ep_return + reward

        def curriculum_update(curr, xs):
            d, success, best = xs
            new = qas_curriculum.update(cfg.curriculum, curr, success, best, p.e_min)
            return jax.tree.map(lambda a, b: jnp.where(d, a, b), new, curr), None

        curr, _ = jax.lax.scan(curriculum_update, ts.curriculum, (done, info["success"], env2.best_energy))
        obs_r, env_r = jax.vmap(qas_env.reset, in_axes=(0, None, None))(jax.random.split(k_reset, B), p, curr.threshold)
        pick = lambda a, b: jnp.where(done.reshape((B,) + (1,) * (a.ndim - 1)), a, b)  # noqa: E731
        env_next = jax.tree.map(pick, env_r, env2)
        obs_next = pick(obs_r.astype(jnp.float32), obs2)

        def learn(agent_state):
            def one(carry, k):
                new, loss = agent.update(carry, replay.sample(buffer, k, cfg.dqn.batch_size))
                return new, loss

            return jax.lax.scan(one, agent_state, jax.random.split(k_upd, B))

        ready = (buffer.size >= cfg.dqn.batch_size) & learning
        agent_state, losses = jax.lax.cond(ready, learn, lambda s: (s, jnp.full(B, jnp.nan, jnp.float32)), ts.agent)
        eps = agent.epsilon(ts.agent.updates) if learning else jnp.asarray(1.0, jnp.result_type(float))
        metrics = {
            "done": done,
            "reward": reward,
            "return": ep_return,
            "energy": env2.energy,
            "exact_energy": env2.exact_energy,
            "threshold": env2.threshold,
            "eps": jnp.broadcast_to(eps, (B,)),
            "loss": jnp.broadcast_to(jnp.nanmean(losses), (B,)),
            "gates_arr": env2.circuit.gates,
            "wires_arr": env2.circuit.wires,
            "slots_arr": env2.circuit.slots,
            "angles_arr": env2.circuit.angles,
            **info,
        }
        new = TrainState(
            key=key,
            env=env_next,
            obs=obs_next,
            agent=agent_state,
            buffer=buffer,
            queues=queues,
            curriculum=curr,
            ep_return=jnp.where(done, 0.0, ep_return),
            episodes=ts.episodes + jnp.sum(done),
            steps=ts.steps + B,
        )
        return new, metrics

    def chunk(self, ts: TrainState) -> tuple[TrainState, dict]:
        return jax.lax.scan(self.step, ts, None, length=self.config.chunk_steps)

    # -- greedy evaluation (no curriculum, no learning) -----------------------------------------
    def evaluate(self, agent_state: AgentState, key: jax.Array, threshold) -> dict:
        p = self.params

        def body(carry):
            k, state, obs, ret = carry
            k, k_act, k_env = jax.random.split(k, 3)
            a = self.agent.act(k_act, agent_state, obs.astype(jnp.float32), qas_env.action_mask(state, p), greedy=True)
            obs, state, r, *_ = qas_env.step(k_env, state, a, p)
            return k, state, obs, ret + r

        k_reset, k_run = jax.random.split(key)
        obs, state = qas_env.reset(k_reset, p, threshold)
        _, state, _, ret = jax.lax.while_loop(lambda c: ~c[1].done, body, (k_run, state, obs, jnp.asarray(0.0)))
        return {"return": ret, "state": state}


def _strong(x):
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return x
    return jnp.asarray(x, dtype=x.dtype)


def make_trainer(config: SearchConfig) -> Trainer:
    params = make_env_params(config)
    agent = Agent(config.dqn, params.obs_size, params.n_actions, params.max_steps)
    return Trainer(config, params, agent)


_CHUNK = jax.jit(lambda trainer, ts: trainer.chunk(ts), static_argnums=0)
_CHUNK_SEEDS = jax.jit(lambda trainer, ts: jax.vmap(trainer.chunk)(ts), static_argnums=0)
_EVAL = jax.jit(lambda trainer, agent, key, thr: trainer.evaluate(agent, key, thr), static_argnums=0)


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
    path, created = claim_out(out, config, seed_list, resuming=resume is not None, force=force)
    try:
        with Interrupts() as interrupts:
            stop = lambda: interrupts.signal is not None or (should_stop is not None and should_stop())  # noqa: E731
            results = _run(config, key, seeds, [saver, *callbacks], stop, resume)  # saved before callbacks see a chunk
    except BaseException:
        if created and path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # a failed start leaves no empty run directory behind
        raise
    results.save(path)
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

            if resume is not None:
                raise ValueError("a random-search run cannot be resumed (it keeps no training state); start a new one")
            return random_search(config, key, seeds=seeds, callbacks=callbacks, should_stop=should_stop)
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
        ts, metrics = (_CHUNK_SEEDS if multi else _CHUNK)(trainer, ts)
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
    """
    path = Path(path)
    run = load_run(path)
    files = checkpoint_files(path)
    if not files:
        raise ValueError(f"{path} has no checkpoint.npz to resume from")
    problems: list[str] = []
    for file in files:
        try:
            results, notes = restore_from(path, run, load_meta(file))
            state = _load_state(file, results)
        except ValueError as err:
            problems.append(f"{file.name}: {err}")
            continue
        for note in problems:
            warnings.warn(f"{note}; resuming from {file.name} instead", ResumeWarning, stacklevel=2)
        for note in notes:
            warnings.warn(note, ResumeWarning, stacklevel=2)
        return state, results
    raise ValueError(f"cannot resume {path}: " + "; ".join(problems))


def _load_state(file: Path, results: Results) -> TrainState:
    """The training state in ``file``, loaded into a fresh init of ``results``' config and seeds."""
    with enable_x64():
        trainer = make_trainer(results.config)
        states = [trainer.init(jax.random.key(s)) for s in results.seeds]
        template = jax.tree.map(lambda *xs: jnp.stack(xs), *states) if len(states) > 1 else states[0]
        try:
            return load_pytree(file, template)
        except ValueError as err:  # saved before AgentState lost ``eps``: drop it (it follows from ``updates``)
            try:
                state = load_pytree(file, _legacy_layout(template))
            except ValueError:
                raise err from None
            return state._replace(agent=AgentState(*state.agent[:4]))


class _CallableModule(types.ModuleType):
    """``crlqas_kit.search`` is both this module and (lazily exported) its :func:`search`: once the
    module is imported, the package attribute ``ck.search`` is the module, so calling the module
    runs :func:`search` and ``ck.search(config)`` works in any import order."""

    def __call__(self, *args: Any, **kwargs: Any) -> Results:
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
