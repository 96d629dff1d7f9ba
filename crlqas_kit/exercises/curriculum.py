"""Checkers for notebook 07 the curriculum (``ex07_curriculum``).

The student's state is a plain dict with the fields of
:class:`crlqas_kit.rl.curriculum.CurriculumState`: ``threshold``, ``best_energy``, ``successes``,
``shrinks``, ``episodes``. Every answer is compared with :func:`crlqas_kit.rl.curriculum.update`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._harness import Hint, as_array, call, checker

FIELDS = ("threshold", "best_energy", "successes", "shrinks", "episodes")

#: The prediction exercise: config (delta, T, N_s, K), xi0, E_min and eight (success, episode best) outcomes.
PREDICTION_CONFIG = {"delta": 0.03, "greedy_period": 6, "n_successes": 2, "n_shrinks": 3}
PREDICTION_XI0, PREDICTION_EMIN = 0.1, -1.0
PREDICTION_EPISODES = [
    (True, -0.95),
    (True, -0.97),
    (True, -0.93),
    (False, -0.96),
    (True, -0.98),
    (True, -0.94),
    (True, -0.985),
    (True, -0.99),
]


def _config(**kwargs):
    from ..rl.curriculum import CurriculumConfig

    return CurriculumConfig(**kwargs)


def kit_thresholds(config, xi0: float, e_min: float, episodes) -> tuple[list[dict], dict]:
    """The kit's state (as dicts) after each episode, and the initial state."""
    from .._x64 import enable_x64
    from ..rl import curriculum

    with enable_x64():  # float64 like the student's Python floats
        state = curriculum.init(config, xi0, e_min)
        start = _as_dict(state)
        out = []
        for success, best in episodes:
            state = curriculum.update(config, state, bool(success), float(best), float(e_min))
            out.append(_as_dict(state))
    return out, start


def _as_dict(state) -> dict:
    return {f: (float(v) if f in ("threshold", "best_energy") else int(v)) for f, v in zip(FIELDS, state, strict=True)}


#: Fixed sequences, each aimed at one wrong rule: (name, config kwargs, xi0, e_min, [(success, best), ...]).
FIXED_SEQUENCES = [
    ("the prediction exercise", PREDICTION_CONFIG, PREDICTION_XI0, PREDICTION_EMIN, PREDICTION_EPISODES),
    # 8 successes inside one greedy period: the 4th shrink must not happen (K = 3)
    ("eight successes in a row", dict(delta=0.03, greedy_period=20, n_successes=2, n_shrinks=3), 0.1, -1.0,
     [(True, -0.9 - 0.001 * i) for i in range(8)]),
    # xi0 just above delta: the third shrink hits the floor delta / K = 0.01
    ("a threshold near the floor", dict(delta=0.03, greedy_period=10, n_successes=1, n_shrinks=3), 0.031, -1.0,
     [(True, -0.99), (True, -0.99), (True, -0.99)]),
    # a greedy reset when the best energy is E_min exactly: xi = delta, then shrinks towards the floor
    ("a reset at the exact minimum", dict(delta=0.03, greedy_period=3, n_successes=1, n_shrinks=3), 0.2, -1.0,
     [(False, -0.9), (True, -1.0), (False, -0.95), (True, -0.97), (True, -0.97), (True, -0.96), (True, -0.98)]),
]  # fmt: skip


def _compare(got: dict, want: dict, where: str) -> None:
    for f in FIELDS:
        if f not in got:
            raise Hint(f"{where}: your state has no field {f!r} (fields: {', '.join(FIELDS)})")
    g = {f: as_array(got[f], (), f"{where}: {f}")[0] for f in FIELDS}
    for f in FIELDS:
        if f == "best_energy" and np.isinf(want[f]) and np.isinf(g[f]) and g[f] > 0:
            continue
        if not np.isclose(float(g[f]), want[f], rtol=1e-7, atol=1e-7):
            raise Hint(f"{where}: {f} should be {want[f]:.6g}, yours is {float(g[f]):.6g}. {_RULE_HINTS[f]}")


_RULE_HINTS = {
    "threshold": "Shrink by delta/K after N_s successes (at most K times, never below the floor "
    "max(delta/K, min_threshold)); every T episodes reset to max(|E_min - E_best| + delta, floor).",
    "best_energy": "E_best is the lowest episode energy seen so far.",
    "successes": "Count successes; reset the count to 0 after a shrink and at every greedy reset.",
    "shrinks": "Count shrinks since the last greedy reset; at most K.",
    "episodes": "Count every finished (training) episode.",
}


@checker(points=3)
def check_curriculum_update(curriculum_update: Callable, rng: np.random.Generator) -> int:
    """``curriculum_update(state, success, episode_best, e_min, config)`` -> the next state (a dict
    with ``threshold, best_energy, successes, shrinks, episodes``); ``config`` is a
    :class:`~crlqas_kit.rl.curriculum.CurriculumConfig`.

    Wrong answers:

    * ``shrink every success``: N_s ignored (caught by the prediction sequence, episode 1).
    * ``successes not reset``: the count goes on after a shrink (prediction sequence, episode 3).
    * ``shrink one success late``: the count compared before it is incremented (episode 2).
    * ``shrink by delta``: delta instead of delta / K (episode 2).
    * ``no cap at K``: a 4th shrink with K = 3 (eight successes in a row).
    * ``no floor``: the threshold below max(delta / K, min_threshold) (a threshold near the floor).
    * ``reset without delta``: ``xi = |E_min - E_best|`` (prediction sequence, episode 6).
    * ``reset to the last episode``: the episode's energy instead of the best so far (episode 6).
    * ``counters kept at reset``: successes and shrinks not zeroed by the greedy reset (episode 6).
    * ``reset counted from 0``: the period tested before the episode is counted (episode 1).
    """
    cases = list(FIXED_SEQUENCES)
    for _ in range(2):
        kw = dict(
            delta=float(rng.choice([0.01, 0.03, 0.05])),
            greedy_period=int(rng.integers(3, 8)),
            n_successes=int(rng.integers(1, 4)),
            n_shrinks=int(rng.integers(1, 5)),
            min_threshold=float(rng.choice([0.0, 0.012])),
        )
        episodes = [
            (bool(rng.random() < 0.7), float(-1 + rng.uniform(0, 0.2))) for _ in range(int(rng.integers(8, 20)))
        ]
        cases.append(("a random sequence", kw, float(rng.uniform(0.06, 0.3)), -1.0, episodes))
    for name, kw, xi0, e_min, episodes in cases:
        config = _config(**kw)
        want, state = kit_thresholds(config, xi0, e_min, episodes)
        for t, ((success, best), after) in enumerate(zip(episodes, want, strict=True), 1):
            show = f"{name} ({kw}), episode {t} (success={success}, energy {best})"
            got = call(curriculum_update, dict(state), success, best, e_min, config, show=show)
            if not isinstance(got, dict):
                raise Hint(
                    f"return the new state as a dict with the fields {', '.join(FIELDS)}; got {type(got).__name__}"
                )
            _compare(
                got, after, f"{name}, config {kw}, xi0={xi0}: after episode {t} (success={success}, energy {best})"
            )
            state = after  # continue from the right state so one mistake gives one hint
    return len(cases)


@checker(points=2, kind="predict", answer="value")
def check_threshold_prediction(thresholds: list, rng: np.random.Generator) -> int:
    """``thresholds``: your prediction of xi after each of the eight episodes of
    :data:`PREDICTION_EPISODES` (delta = 0.03, T = 6, N_s = 2, K = 3, xi0 = 0.1, E_min = -1), by hand.

    Wrong answers:

    * ``shrink every success``: N_s ignored.
    * ``shrink by delta``: delta instead of delta / K.
    * ``reset without delta``: ``|E_min - E_best|`` at episode 6.
    * ``reset to the last episode``: episode 6's own energy.
    * ``counters kept at reset``: the shrink after episode 7 instead of 8.
    """
    got, _ = as_array(thresholds, (len(PREDICTION_EPISODES),), "your list of eight thresholds")
    want, _ = kit_thresholds(_config(**PREDICTION_CONFIG), PREDICTION_XI0, PREDICTION_EMIN, PREDICTION_EPISODES)
    want = np.array([w["threshold"] for w in want])
    bad = np.flatnonzero(~np.isclose(got, want, atol=1e-6))
    if bad.size == 0:
        return len(want)
    t = int(bad[0]) + 1
    if t == 6:
        raise Hint(
            "episode 6 is a greedy reset: xi = |E_min - E_best| + delta with E_best the lowest energy SO FAR, and "
            "the success and shrink counters start again from 0"
        )
    raise Hint(f"xi after episode {t} is wrong: count successes; every N_s = 2 of them shrink xi by delta/K = 0.01")
