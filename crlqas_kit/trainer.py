"""The compiled trainer of a CRLQAS search: its state, one training step, a chunk of steps, greedy evaluation.

One training step (all inside ``jit``; :meth:`Trainer.step`):

1. every environment picks an epsilon-greedy LEGAL action from the online network (the
   ``random`` agent: a uniform legal action, and no learning in step 5);
2. the environments step (gate appended, all angles re-optimised by Adam-SPSA, reward);
3. n-step transitions enter the replay buffer;
4. finished episodes update the curriculum (in order) and restart with its current threshold;
5. once the buffer holds a batch, ``n_envs`` gradient updates (one per environment step).

``chunk_steps`` steps are one compiled ``lax.scan`` (:func:`run_chunk`; several seeds ``vmap``ped),
compiled once per :class:`Trainer` (equal configs share it), with XLA's older emitters unless the
environments are ``vmap``ped (:mod:`crlqas_kit._xla`: a quarter of the compiler memory; the
vmapped gather kernel runs faster with the default ones). The loop over
chunks, callbacks and resuming are in :mod:`crlqas_kit.search`. :func:`load_state` reads a
training state back from a checkpoint, including the layout of runs saved before ``AgentState``
lost ``eps``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ._x64 import enable_x64
from ._xla import jit
from .checkpoint import load_pytree
from .rl import curriculum as qas_curriculum
from .rl import env as qas_env
from .rl import replay
from .rl.actions import action_arrays, legal_mask
from .rl.batch import auto_strategy, step_many
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

    @property
    def vmaps_envs(self) -> bool:
        """Whether a step ``vmap``s its environments (several seeds, or ``step_many``'s ``auto`` choice)."""
        return self.seeds_batched or auto_strategy(self.config.n_envs, self.params.n_qubits) == "vmap"

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
        """A fresh training state for ``key`` (one compiled call: built op by op it compiles over a
        hundred small programs, whose memory a notebook kernel keeps)."""
        return _INIT(self, key)

    def _init(self, key: jax.Array) -> TrainState:
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


_INIT = jit(lambda trainer, key: trainer._init(key), static_argnums=0)


def _chunk(trainer: Trainer, ts: TrainState) -> tuple[TrainState, dict]:
    return trainer.chunk(ts)


_CHUNK = jit(_chunk, static_argnums=0)  # one environment at a time: XLA's older emitters
_CHUNK_VMAP = jax.jit(_chunk, static_argnums=0)  # environments vmapped: XLA's default emitters
_CHUNK_SEEDS = jax.jit(lambda trainer, ts: jax.vmap(trainer.chunk)(ts), static_argnums=0)
_EVAL = jit(lambda trainer, agent, key, thr: trainer.evaluate(agent, key, thr), static_argnums=0)


def run_chunk(trainer: Trainer, ts: TrainState) -> tuple[TrainState, dict]:
    """``trainer.chunk_steps`` training steps, compiled: ``(state, metrics)`` with metrics ``(chunk_steps, n_envs)``
    (a leading seed axis when ``trainer.seeds_batched``)."""
    if trainer.seeds_batched:
        return _CHUNK_SEEDS(trainer, ts)
    return (_CHUNK_VMAP if trainer.vmaps_envs else _CHUNK)(trainer, ts)


def load_state(file: Path, config: SearchConfig, seeds: list[int]) -> TrainState:
    """The training state in ``file``, loaded into a fresh init of ``config`` and ``seeds``."""
    with enable_x64():
        trainer = make_trainer(config)
        states = [trainer.init(jax.random.key(s)) for s in seeds]
        template = jax.tree.map(lambda *xs: jnp.stack(xs), *states) if len(states) > 1 else states[0]
        try:
            return load_pytree(file, template)
        except ValueError as err:  # saved before AgentState lost ``eps``: drop it (it follows from ``updates``)
            try:
                state = load_pytree(file, _legacy_layout(template))
            except ValueError:
                raise err from None
            return state._replace(agent=AgentState(*state.agent[:4]))
