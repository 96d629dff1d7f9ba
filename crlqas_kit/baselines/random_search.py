"""Random search over circuits, at the evaluation cost of the CRLQAS environment.

One "episode" of random search:

1. draw the length ``h`` from the environment's halting distribution (``NegBin(r, p)`` clipped
   to ``[h_min, L]``), so circuits have the lengths CRLQAS episodes have;
2. draw ``h`` gates one by one, each uniform over the actions legal after the previous ones
   (the environment's mask: no immediate repeats);
3. optimise all angles with ``h`` warm-started calls of the environment's inner optimiser
   (starting where the environment starts a new rotation: zeros, or small random angles with
   ``new_angle="random"``): exactly the objective evaluations the environment spends on a circuit it
   builds gate by gate, so equal evaluation budgets compare like with like;
4. record the final circuit's true error like a CRLQAS episode (``success`` = chemically accurate).

What it lacks against the random agent: no intermediate energies, no early stop on success, no
curriculum; what it lacks against CRLQAS: any learning. Each episode is one compiled call.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .._x64 import x64
from ..problems import load_problem
from ..results import N_BEST, Results, circuit_record, kept_entry, rank_key
from ..rl import actions as qas_actions
from ..rl import env as qas_env
from ..search_config import make_env_params


def _sample(key: jax.Array, params: qas_env.EnvParams) -> dict[str, jnp.ndarray]:
    """One random circuit of the halting length, optimised; see the module docstring (pure, jittable)."""
    n, L = params.n_qubits, params.max_steps
    arr = qas_actions.action_arrays(n)
    wires_of, is_cnot_of = jnp.asarray(arr["wires"]), jnp.asarray(arr["is_cnot"])
    k_h, k_gates, k_opt = jax.random.split(key, 3)
    h = qas_env.sample_halt_step(k_h, params)
    _, state = qas_env.reset(k_h, params)

    def add_gate(i, carry):
        circuit, moments, last = carry
        mask = qas_actions.legal_mask(last, params.allowed, wires_of)
        action = jax.random.categorical(jax.random.fold_in(k_gates, i), jnp.where(mask, 0.0, -jnp.inf)).astype(
            jnp.int32
        )
        wires, is_cnot = wires_of[action], is_cnot_of[action]
        _, moments = qas_actions.place(moments, wires, is_cnot)
        last = last.at[wires[0]].set(action).at[wires[1]].set(action)
        # the environment's start angle (0 unless ``new_angle="random"``; then drawn from a key of
        # its own, so zeros runs draw the same circuits as before the option existed)
        angle = qas_env.draw_new_angle(jax.random.fold_in(jax.random.fold_in(k_gates, i), 1), params)
        return qas_env.append_gate(circuit, action, n, angle), moments, last

    circuit, moments, _ = jax.lax.fori_loop(0, h, add_gate, (state.circuit, state.moments, state.last_action))

    def optimise(i, carry):
        circuit, energy, exact, evaluations = carry
        angles, energy, exact = qas_env._optimise(jax.random.fold_in(k_opt, i), circuit, params)
        evaluations = evaluations + jnp.where(jnp.any(circuit.slots >= 0), params.spsa.evaluations, 0) + 1
        return dataclasses.replace(circuit, angles=angles), energy, exact, evaluations

    zero = jnp.zeros((), state.energy.dtype)
    circuit, energy, exact, evaluations = jax.lax.fori_loop(0, h, optimise, (circuit, zero, zero, jnp.asarray(0)))
    cnots = jnp.sum((jnp.arange(L) < circuit.length) & (circuit.gates == qas_actions.GATE_IDS["cx"]))
    return {
        "circuit": circuit,
        "energy": energy,
        "exact_energy": exact,
        "gates": circuit.length,
        "cnots": cnots,
        "depth": jnp.max(moments),
        "evaluations": evaluations,
    }


_SAMPLE = jax.jit(_sample)


@jax.jit
def _advance(key: jax.Array, n: jax.Array) -> jax.Array:
    """``key`` after ``n`` episodes: each episode keeps the first half of ``jax.random.split``."""
    return jax.lax.fori_loop(0, n, lambda i, k: jax.random.split(k)[0], key)


def _circuit_of(seed: int, episode: int, params: qas_env.EnvParams) -> tuple[dict[str, Any], float]:
    """Seed ``seed``'s circuit of ``episode`` drawn and optimised again (random search is
    deterministic given its key): ``(circuit record, exact energy)``."""
    _, k = jax.random.split(_advance(jax.random.key(seed), episode - 1))
    out = jax.device_get(_SAMPLE(k, params))
    c = out["circuit"]
    return circuit_record(params.n_qubits, c.gates, c.wires, c.slots, c.angles, c.length), float(out["exact_energy"])


def _restore_best(results: Results, params: qas_env.EnvParams) -> None:
    """Each seed's best circuits from its logs: the top :data:`~crlqas_kit.results.N_BEST` logged
    circuits by the kit's ranking (as :meth:`Results.add_episode` keeps them), each taken from the
    saved ``best/`` when it holds that episode, else drawn again. A run killed while saving can
    leave ``best/`` behind its logs; the logs decide."""
    for seed in results.seeds:
        kept = {b["episode"]: b for b in results.best.get(seed, [])}
        logged = sorted((e for e in results.episodes_of(seed) if e["gates"] > 0), key=rank_key)[:N_BEST]
        best = []
        for e in logged:
            entry = kept.get(e["episode"])
            if entry is None or entry["error"] != e["error"]:
                circuit, exact = _circuit_of(seed, e["episode"], params)
                if abs(exact - e["exact_energy"]) > 1e-9:
                    raise ValueError(
                        f"cannot restore seed {seed}'s circuit of episode {e['episode']}: drawn again it has "
                        f"energy {exact!r}, logged {e['exact_energy']!r} (another code version or machine?)"
                    )
                entry = kept_entry(e, circuit)
            best.append(entry)
        results.best[seed] = best


@x64
def random_search(
    config,
    key: jax.Array | int = 0,
    *,
    seeds: Sequence[int] | None = None,
    callbacks: Sequence[Callable[[dict[str, Any]], Any]] = (),
    should_stop: Callable[[], bool] | None = None,
    resume: Results | None = None,
) -> Results:
    """Random search with ``config`` (a :class:`~crlqas_kit.search_config.SearchConfig`): its
    problem, noise, environment and inner optimiser; ``config.episodes`` circuits per seed.

    Seeds take turns, one circuit each; ``should_stop()`` is polled between circuits. The
    results have the run-directory format of a CRLQAS search (``agent = "random-search"``).
    ``resume``: the results of a stopped random search (:func:`~crlqas_kit.results.load_run`):
    continued as if never stopped. Its logs are its whole state: each seed's key is its seed's
    key advanced by the episodes it logged, its evaluations those of its last episode, its best
    circuits the best logged ones (drawn again where ``best/`` lacks them, :func:`_restore_best`).
    """
    problem = load_problem(config.problem)
    params = make_env_params(config, problem)
    seed_list = list(seeds) if seeds is not None else [key if isinstance(key, int) else 0]
    if resume is not None:  # the run's own seeds, whatever key/seeds were passed
        results, seed_list = resume, list(resume.seeds)
        results.config, results.stopped = config, False  # e.g. more episodes
        _restore_best(results, params)
    else:
        results = Results(config=config, seeds=seed_list, problem=problem.summary())
    done = {s: len(results.episodes_of(s)) for s in seed_list}
    keys = {s: _advance(jax.random.key(s), done[s]) for s in seed_list}
    spent = {s: int(results.episodes_of(s)[-1]["evaluations"]) if done[s] else 0 for s in seed_list}
    t0 = time.perf_counter() - results.seconds
    for episode in range(min(done.values()) + 1, config.episodes + 1):
        if should_stop is not None and should_stop():
            results.stopped = True
            break
        for seed in seed_list:
            if done[seed] >= episode:  # an interrupted turn: this seed drew its circuit already
                continue
            done[seed] = episode
            keys[seed], k = jax.random.split(keys[seed])
            out = jax.device_get(_SAMPLE(k, params))
            spent[seed] += int(out["evaluations"])
            exact = float(out["exact_energy"])
            c = out["circuit"]
            record = {
                "seed": seed,
                "episode": episode,
                "return": float("nan"),
                "energy": float(out["energy"]),
                "exact_energy": exact,
                "error": problem.error(exact),
                "success": problem.is_chemically_accurate(exact),
                "chemically_accurate": problem.is_chemically_accurate(exact),
                "gates": int(out["gates"]),
                "cnots": int(out["cnots"]),
                "depth": int(out["depth"]),
                "eps": 1.0,
                "threshold": float("nan"),
                "loss": float("nan"),
                "evaluations": spent[seed],
                "agent": "random-search",
            }
            results.seconds = time.perf_counter() - t0
            results.add_episode(record, circuit_record(problem.n_qubits, c.gates, c.wires, c.slots, c.angles, c.length))
            for cb in callbacks:
                cb({"event": "episode", **record})
        results.evaluations = dict(spent)
        for cb in callbacks:
            cb(
                {
                    "event": "chunk",
                    "episodes": [episode] * len(seed_list),
                    "target": config.episodes,
                    "seconds": results.seconds,
                    "results": results,  # complete up to this circuit: savable (``--out``, ``save_every``)
                }
            )
    results.seconds = time.perf_counter() - t0
    results.evaluations = dict(spent)
    return results
