"""Replay buffer (fixed-size ring arrays, uniform sampling) and n-step returns across episode ends.

Items carry their identity in ``action`` (and ``obs``), so every check names exactly which
transition sits where. The n-step numbers are computed by hand with ``gamma = 0.5`` and rewards
that are powers of two, so every expected value is exact in binary floating point.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.rl import replay as R

D, A = 3, 4


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def items(ids) -> R.Transition:
    """Transitions whose every field encodes its id."""
    ids = np.asarray(ids)
    return R.Transition(
        obs=jnp.asarray(np.repeat(ids[:, None], D, 1), jnp.float32),
        action=jnp.asarray(ids, jnp.int32),
        reward=jnp.asarray(ids * 10.0),
        discount=jnp.asarray(ids / 100.0),
        next_obs=jnp.asarray(np.repeat(ids[:, None] + 0.5, D, 1)),
        next_mask=jnp.asarray(np.arange(A)[None, :] <= (ids[:, None] % A)),
    )


_ADD = jax.jit(R.add)


def add(buf, ids, valid=None):
    valid = np.ones(len(ids), bool) if valid is None else np.asarray(valid, bool)
    return _ADD(buf, items(ids), jnp.asarray(valid))


def assert_slots(buf, expected_ids):
    """Slot k holds the item with id expected_ids[k] (all fields consistent)."""
    ids = np.asarray(expected_ids)
    buf = buf.storage
    np.testing.assert_array_equal(np.asarray(buf.action)[: len(ids)], ids)
    np.testing.assert_array_equal(np.asarray(buf.obs)[: len(ids)], np.repeat(ids[:, None], D, 1))
    np.testing.assert_array_equal(np.asarray(buf.reward)[: len(ids)], np.float32(ids * 10.0))
    np.testing.assert_array_equal(np.asarray(buf.discount)[: len(ids)], np.float32(ids / 100.0))
    np.testing.assert_array_equal(np.asarray(buf.next_obs)[: len(ids)], np.repeat(ids[:, None] + 0.5, D, 1))
    np.testing.assert_array_equal(np.asarray(buf.next_mask)[: len(ids)], np.arange(A)[None, :] <= (ids[:, None] % A))


# ----------------------------------------------------------------------------- buffer
def test_init_shapes_and_dtypes():
    buf = R.init(7, D, A)
    assert isinstance(buf.storage, R.Transition)
    assert (
        buf.storage.obs.shape == (7, D)
        and buf.storage.next_obs.shape == (7, D)
        and buf.storage.next_mask.shape == (7, A)
    )
    st = buf.storage
    assert st.obs.dtype == jnp.float32 and st.action.dtype == jnp.int32 and st.next_mask.dtype == bool
    assert int(buf.size) == 0 and int(buf.pos) == 0
    with pytest.raises(ValueError, match="capacity"):
        R.init(0, D, A)


def test_add_in_order_then_wrap_around():
    buf = R.init(5, D, A)
    buf = add(buf, [1, 2, 3])
    assert int(buf.size) == 3 and int(buf.pos) == 3
    assert_slots(buf, [1, 2, 3])
    buf = add(buf, [4, 5, 6, 7])  # 6 and 7 overwrite the two oldest (1, 2), in order
    assert int(buf.size) == 5 and int(buf.pos) == 2
    assert_slots(buf, [6, 7, 3, 4, 5])
    buf = add(buf, [8, 9, 10])
    assert int(buf.size) == 5 and int(buf.pos) == 0  # pos wraps exactly to 0
    assert_slots(buf, [6, 7, 8, 9, 10])
    buf = add(buf, [11])
    assert int(buf.size) == 5 and int(buf.pos) == 1
    assert_slots(buf, [11, 7, 8, 9, 10])


def test_many_small_adds_keep_the_latest_capacity_items():
    cap = 4
    buf = R.init(cap, D, A)
    for i in range(1, 12):
        buf = add(buf, [i])
        assert int(buf.size) == min(i, cap) and int(buf.pos) == i % cap
    # the newest item i sits at slot (i - 1) % cap
    assert_slots(buf, [9, 10, 11, 8])


def test_invalid_rows_are_not_written():
    buf = R.init(6, D, A)
    buf = add(buf, [1, 2, 3, 4], valid=[True, False, True, False])
    assert int(buf.size) == 2 and int(buf.pos) == 2
    assert_slots(buf, [1, 3])
    np.testing.assert_array_equal(np.asarray(buf.storage.action)[2:], 0)  # untouched
    assert not np.asarray(buf.storage.next_mask)[2:].any()
    buf = add(buf, [5, 6, 7], valid=[False, False, False])
    assert int(buf.size) == 2 and int(buf.pos) == 2
    assert_slots(buf, [1, 3])


def test_invalid_rows_are_not_written_when_full():
    buf = add(R.init(3, D, A), [1, 2, 3])
    buf = add(buf, [4, 5, 6, 7], valid=[False, True, False, True])
    assert int(buf.size) == 3 and int(buf.pos) == 2
    assert_slots(buf, [5, 7, 3])


def test_one_add_larger_than_capacity_keeps_the_last_items():
    buf = add(R.init(3, D, A), [1])
    buf = add(buf, [2, 3, 4, 5, 6, 7], valid=[True, True, False, True, True, True])  # 5 valid rows
    # valid rows 2, 3, 5, 6, 7 written at 1, 2, 0, 1, 2: the last write of each slot wins
    assert int(buf.size) == 3 and int(buf.pos) == (1 + 5) % 3
    assert_slots(buf, [5, 6, 7])


_SAMPLE = jax.jit(R.sample, static_argnums=2)


def test_transition_round_trip_by_hand_capacity_two():
    """Three transitions, one at a time, into a capacity-2 buffer: every field and pos/size by hand."""
    t = [
        R.Transition(
            obs=jnp.array([1.0, 2.0, 3.0]),
            action=jnp.asarray(1),
            reward=jnp.asarray(-0.5),
            discount=jnp.asarray(0.25),
            next_obs=jnp.array([4.0, 5.0, 6.0]),
            next_mask=jnp.array([True, False, False, True]),
        ),
        R.Transition(
            obs=jnp.array([7.0, 8.0, 9.0]),
            action=jnp.asarray(2),
            reward=jnp.asarray(1.5),
            discount=jnp.asarray(0.0),
            next_obs=jnp.array([10.0, 11.0, 12.0]),
            next_mask=jnp.array([False, True, True, False]),
        ),
        R.Transition(
            obs=jnp.array([-1.0, -2.0, -3.0]),
            action=jnp.asarray(3),
            reward=jnp.asarray(2.0),
            discount=jnp.asarray(0.5),
            next_obs=jnp.array([0.0, 0.5, 1.0]),
            next_mask=jnp.array([True, True, True, True]),
        ),
    ]
    one = lambda tr: jax.tree.map(lambda x: x[None], tr)  # noqa: E731  (a batch of one)
    buf = R.init(2, D, A)
    buf = _ADD(buf, one(t[0]), jnp.array([True]))
    assert (int(buf.size), int(buf.pos)) == (1, 1)
    buf = _ADD(buf, one(t[1]), jnp.array([True]))
    assert (int(buf.size), int(buf.pos)) == (2, 0)
    buf = _ADD(buf, one(t[2]), jnp.array([True]))  # overwrites the oldest (t[0]) in slot 0
    assert (int(buf.size), int(buf.pos)) == (2, 1)
    st = buf.storage
    np.testing.assert_array_equal(np.asarray(st.obs), [[-1.0, -2.0, -3.0], [7.0, 8.0, 9.0]])
    np.testing.assert_array_equal(np.asarray(st.action), [3, 2])
    np.testing.assert_array_equal(np.asarray(st.reward), [2.0, 1.5])
    np.testing.assert_array_equal(np.asarray(st.discount), [0.5, 0.0])
    np.testing.assert_array_equal(np.asarray(st.next_obs), [[0.0, 0.5, 1.0], [10.0, 11.0, 12.0]])
    np.testing.assert_array_equal(np.asarray(st.next_mask), [[True, True, True, True], [False, True, True, False]])
    # stored with the buffer's dtypes
    assert st.obs.dtype == jnp.float32 and st.action.dtype == jnp.int32 and st.reward.dtype == jnp.float32
    # a sample is a Transition batch (no size/pos), each row one of the stored transitions
    batch = _SAMPLE(buf, jax.random.key(0), 64)
    assert isinstance(batch, R.Transition) and batch.obs.shape == (64, D)
    rows = {3: ([-1.0, -2.0, -3.0], 2.0, 0.5), 2: ([7.0, 8.0, 9.0], 1.5, 0.0)}
    b = jax.tree.map(np.asarray, batch)
    assert set(np.unique(b.action)) == {2, 3}
    for i in range(64):
        obs, reward, discount = rows[int(b.action[i])]
        np.testing.assert_array_equal(b.obs[i], obs)
        assert b.reward[i] == reward and b.discount[i] == discount


def test_sample_only_from_valid_entries_uniformly():
    buf = add(R.init(10, D, A), [11, 12, 13])
    n = 30_000
    batch = _SAMPLE(buf, jax.random.key(0), n)
    ids = np.asarray(batch.action)
    assert set(np.unique(ids)) == {11, 12, 13}
    # the fields of one sample stay together
    np.testing.assert_array_equal(np.asarray(batch.obs)[:, 0], ids)
    np.testing.assert_array_equal(np.asarray(batch.reward), np.float32(ids * 10.0))
    se = math.sqrt(n * (1 / 3) * (2 / 3))
    for i in (11, 12, 13):
        assert abs(np.sum(ids == i) - n / 3) < 5 * se


def test_sample_after_wrap_covers_all_slots_uniformly():
    buf = add(R.init(4, D, A), list(range(1, 8)))  # holds 5, 6, 7, 4
    n = 30_000
    ids = np.asarray(_SAMPLE(buf, jax.random.key(1), n).action)
    assert set(np.unique(ids)) == {4, 5, 6, 7}
    se = math.sqrt(n * 0.25 * 0.75)
    for i in (4, 5, 6, 7):
        assert abs(np.sum(ids == i) - n / 4) < 5 * se


def test_sample_shapes():
    buf = add(R.init(10, D, A), [1, 2])
    batch = _SAMPLE(buf, jax.random.key(2), 8)
    assert batch.obs.shape == (8, D) and batch.next_mask.shape == (8, A) and batch.action.shape == (8,)


# ----------------------------------------------------------------------------- n-step returns
N, GAMMA = 3, 0.5
_PUSH = jax.jit(R.nstep_push, static_argnames="gamma")


class Episode:
    """Feeds one environment's transitions through the queue and collects the emitted items."""

    def __init__(self, n=N, gamma=GAMMA):
        self.queue = R.nstep_init(n, D)
        self.gamma = gamma

    def push(self, obs_id, action, reward, next_id, terminal=False, truncated=False):
        self.queue, out, valid = _PUSH(
            self.queue,
            jnp.full(D, float(obs_id)),
            jnp.asarray(action, jnp.int32),
            jnp.asarray(float(reward)),
            jnp.full(D, float(next_id)),
            jnp.asarray(np.arange(A) == next_id % A),
            jnp.asarray(terminal),
            jnp.asarray(truncated),
            gamma=self.gamma,
        )
        valid = np.asarray(valid)
        rows = []
        for j in np.flatnonzero(valid):
            rows.append(
                {
                    "obs": float(out.obs[j, 0]),
                    "action": int(out.action[j]),
                    "R": float(out.reward[j]),
                    "discount": float(out.discount[j]),
                    "next_obs": float(out.next_obs[j, 0]),
                    "next_mask": np.asarray(out.next_mask[j]).tolist(),
                }
            )
        return rows


def emitted(obs, action, R_, discount, next_obs):
    return {
        "obs": float(obs),
        "action": action,
        "R": R_,
        "discount": discount,
        "next_obs": float(next_obs),
        "next_mask": (np.arange(A) == next_obs % A).tolist(),
    }


def test_nstep_run_emits_oldest_with_gamma_n():
    ep = Episode()
    # states s0..s5 (ids 0..5), rewards r_t = 2^t, actions 10 + t
    assert ep.push(0, 10, 1, 1) == []
    assert ep.push(1, 11, 2, 2) == []
    # third step: the oldest (s0) has its full 3-step return 1 + .5*2 + .25*4 = 3, bootstrap from s3
    assert ep.push(2, 12, 4, 3) == [emitted(0, 10, 3.0, 0.125, 3)]
    assert int(ep.queue.count) == 2
    assert ep.push(3, 13, 8, 4) == [emitted(1, 11, 2 + 0.5 * 4 + 0.25 * 8, 0.125, 4)]
    assert ep.push(4, 14, 16, 5) == [emitted(2, 12, 4 + 0.5 * 8 + 0.25 * 16, 0.125, 5)]
    assert int(ep.queue.count) == 2


def test_nstep_terminal_flushes_truncated_returns_with_discount_zero():
    ep = Episode()
    ep.push(0, 10, 1, 1)
    ep.push(1, 11, 2, 2)
    ep.push(2, 12, 4, 3)  # emits s0
    ep.push(3, 13, 8, 4)  # emits s1; queue: s2, s3
    out = ep.push(4, 14, 16, 5, terminal=True)
    assert out == [
        emitted(2, 12, 4 + 0.5 * 8 + 0.25 * 16, 0.0, 5),
        emitted(3, 13, 8 + 0.5 * 16, 0.0, 5),
        emitted(4, 14, 16.0, 0.0, 5),
    ]
    assert int(ep.queue.count) == 0


def test_nstep_truncated_end_bootstraps_with_gamma_k():
    ep = Episode()
    ep.push(0, 10, 1, 1)
    ep.push(1, 11, 2, 2)
    out = ep.push(2, 12, 4, 3, truncated=True)
    # k = 3, 2, 1 steps to the cut; every entry bootstraps from the last observation s3
    assert out == [
        emitted(0, 10, 1 + 0.5 * 2 + 0.25 * 4, 0.125, 3),
        emitted(1, 11, 2 + 0.5 * 4, 0.25, 3),
        emitted(2, 12, 4.0, 0.5, 3),
    ]
    assert int(ep.queue.count) == 0


def test_nstep_short_episodes_shorter_than_n():
    ep = Episode()
    assert ep.push(0, 10, 3, 1, terminal=True) == [emitted(0, 10, 3.0, 0.0, 1)]
    assert int(ep.queue.count) == 0
    ep.push(5, 20, 2, 6)
    assert ep.push(6, 21, -4, 7, truncated=True) == [
        emitted(5, 20, 2 + 0.5 * -4, 0.25, 7),
        emitted(6, 21, -4.0, 0.5, 7),
    ]
    assert int(ep.queue.count) == 0


def test_nstep_next_episode_never_mixes_with_previous():
    ep = Episode()
    ep.push(0, 10, 1, 1)
    ep.push(1, 11, 2, 2)
    ep.push(2, 12, 4, 3)
    ep.push(3, 13, 8, 4, terminal=True)  # flushes; stale values stay in the arrays
    # a new episode: rewards 64, 128, 256 from states 100, 101, 102
    assert ep.push(100, 30, 64, 101) == []
    assert ep.push(101, 31, 128, 102) == []
    assert ep.push(102, 32, 256, 103) == [emitted(100, 30, 64 + 0.5 * 128 + 0.25 * 256, 0.125, 103)]
    # and its own end flushes only its own entries
    assert ep.push(103, 33, 512, 104, terminal=True) == [
        emitted(101, 31, 128 + 0.5 * 256 + 0.25 * 512, 0.0, 104),
        emitted(102, 32, 256 + 0.5 * 512, 0.0, 104),
        emitted(103, 33, 512.0, 0.0, 104),
    ]


def test_nstep_one_is_one_step_td():
    ep = Episode(n=1, gamma=0.9)
    assert ep.push(0, 1, 2.5, 1) == [emitted(0, 1, 2.5, 0.9, 1)]
    assert ep.push(1, 2, -1.0, 2, terminal=True) == [emitted(1, 2, -1.0, 0.0, 2)]
    assert ep.push(2, 3, 4.0, 3, truncated=True) == [emitted(2, 3, 4.0, 0.9, 3)]
    assert int(ep.queue.count) == 0


def test_nstep_long_episode_against_reference():
    """A 12-step episode with random rewards against a direct n-step computation."""
    rng = np.random.default_rng(0)
    n, gamma, T = 4, 0.8, 12
    rewards = rng.normal(size=T)
    ep = Episode(n=n, gamma=gamma)
    got = []
    for t in range(T):
        got += ep.push(t, t, rewards[t], t + 1, terminal=(t == T - 1))
    assert [g["obs"] for g in got] == list(range(T))
    for t, g in enumerate(got):
        k = min(n, T - t)
        expected = sum(gamma**i * rewards[t + i] for i in range(k))
        assert g["R"] == pytest.approx(expected, abs=1e-12)
        end = t + k
        assert g["discount"] == (0.0 if end == T else pytest.approx(gamma**n, abs=1e-12))
        assert g["next_obs"] == end


def test_nstep_into_buffer_end_to_end():
    """Queue output goes straight into ``add`` with its validity mask (as in the search loop)."""
    buf = R.init(8, D, A)
    queue = R.nstep_init(2, D)
    for t, (term, trunc) in enumerate([(False, False), (False, False), (False, True), (False, False)]):
        queue, out, valid = _PUSH(
            queue,
            jnp.full(D, float(t)),
            jnp.asarray(t, jnp.int32),
            jnp.asarray(1.0),
            jnp.full(D, t + 1.0),
            jnp.ones(A, bool),
            jnp.asarray(term),
            jnp.asarray(trunc),
            gamma=0.5,
        )
        buf = _ADD(buf, out, valid)
    # t=1: s0 (R 1.5, d .25); t=2 truncated: s1 (1.5, .25), s2 (1, .5); t=3: nothing yet
    assert int(buf.size) == 3
    st = buf.storage
    np.testing.assert_array_equal(np.asarray(st.action)[:3], [0, 1, 2])
    np.testing.assert_allclose(np.asarray(st.reward)[:3], [1.5, 1.5, 1.0])
    np.testing.assert_allclose(np.asarray(st.discount)[:3], [0.25, 0.25, 0.5])
    np.testing.assert_array_equal(np.asarray(st.next_obs)[:3, 0], [2, 3, 3])
