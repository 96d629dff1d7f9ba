"""The double-DQN agent (spec section 7): target, masks, epsilon-greedy, updates, config.

Hand-computed arrays for the target; the real network for ``Agent.loss`` (checked against a NumPy
re-computation); statistical tests of the exploration with tolerances from the binomial standard
error (5 sigma, so a correct implementation fails with probability < 1e-6).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.rl import replay as R
from crlqas_kit.rl.dqn import Agent, DQNConfig, QNetwork, ddqn_target, masked_argmax, select_action

OBS, ACTIONS = 6, 5


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def make_batch(seed, size=16, discount=0.9, obs=OBS, actions=ACTIONS):
    """A batch of transitions from NumPy's RNG (no JAX compilations)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((size, actions)) < 0.6
    mask[:, 0] = True  # at least one legal action
    return R.Transition(
        obs=jnp.asarray(rng.normal(size=(size, obs)), jnp.float32),
        action=jnp.asarray(rng.integers(0, actions, size), jnp.int32),
        reward=jnp.asarray(rng.normal(size=size), jnp.float32),
        discount=jnp.full(size, discount, jnp.float32),
        next_obs=jnp.asarray(rng.normal(size=(size, obs)), jnp.float32),
        next_mask=jnp.asarray(mask),
    )


#: One agent shared by the update tests (one compilation of ``update``): target copy every 3
#: updates, epsilon 0.8 -> x0.5 per update, floor 0.07.
SHARED = Agent(
    DQNConfig(hidden=(16, 16), learning_rate=3e-3, target_every=3, eps_start=0.8, eps_decay=0.5, eps_min=0.07),
    OBS,
    ACTIONS,
    max_steps=40,
)
_UPDATE = jax.jit(SHARED.update)
_LOSS = jax.jit(SHARED.loss)
_INIT = jax.jit(SHARED.init)
_Q = jax.jit(SHARED.q_values)


def tree_equal(a, b) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb, strict=True))


# ----------------------------------------------------------------------------- masked argmax
def test_masked_argmax_picks_best_legal():
    q = jnp.array([1.0, 9.0, 3.0, 7.0, -2.0])
    assert int(masked_argmax(q, jnp.array([True] * 5))) == 1
    assert int(masked_argmax(q, jnp.array([True, False, True, True, True]))) == 3
    assert int(masked_argmax(q, jnp.array([True, False, True, False, True]))) == 2
    assert int(masked_argmax(q, jnp.array([False, False, False, False, True]))) == 4  # negative but only legal


def test_masked_argmax_ties_and_batches():
    q = jnp.array([[2.0, 5.0, 5.0, 1.0], [0.0, 0.0, 0.0, 0.0], [-np.inf, -1.0, -3.0, -2.0]])
    mask = jnp.array([[True, True, True, True], [False, False, True, True], [True, False, True, True]])
    # ties: the first legal maximiser; a legal -inf never beats a finite legal value
    np.testing.assert_array_equal(np.asarray(masked_argmax(q, mask)), [1, 2, 3])


def test_masked_argmax_large_illegal_value_is_ignored():
    q = jnp.array([1e30, -1e30, -5.0])
    assert int(masked_argmax(q, jnp.array([False, True, True]))) == 2


# ----------------------------------------------------------------------------- DDQN target
def test_ddqn_target_hand_computed():
    q_online = jnp.array([1.0, 5.0, 3.0, 4.0])
    q_target = jnp.array([10.0, 20.0, 50.0, 40.0])
    mask = jnp.array([True, False, True, True])
    # online argmax over LEGAL actions {0, 2, 3}: action 3 (4.0); evaluated by the TARGET net: 40
    assert float(ddqn_target(q_online, q_target, mask, 0.5, 0.9)) == pytest.approx(0.5 + 0.9 * 40.0, abs=1e-12)
    # the wrong variants give different numbers, so the test can tell them apart:
    unmasked = 0.5 + 0.9 * 20.0  # online argmax ignoring the mask (action 1, illegal)
    target_max = 0.5 + 0.9 * 50.0  # plain DQN: max of the target net over legal actions
    online_eval = 0.5 + 0.9 * 4.0  # evaluated with the online net
    y = float(ddqn_target(q_online, q_target, mask, 0.5, 0.9))
    assert y not in (pytest.approx(unmasked), pytest.approx(target_max), pytest.approx(online_eval))
    # with every action legal the unmasked argmax (action 1) is used
    full = jnp.ones(4, bool)
    assert float(ddqn_target(q_online, q_target, full, 0.5, 0.9)) == pytest.approx(unmasked, abs=1e-12)


def test_ddqn_target_discount_zero_ignores_next_state():
    q_online = jnp.array([3.0, 1e6, -7.0])
    q_target = jnp.array([1e9, -1e9, 123.0])
    for mask in ([True, True, True], [False, False, True], [True, False, False]):
        assert float(ddqn_target(q_online, q_target, jnp.array(mask), -1.25, 0.0)) == -1.25


def test_ddqn_target_vmapped_rows():
    q_online = jnp.array([[0.0, 2.0, 1.0], [5.0, 4.0, 3.0], [1.0, 1.0, 9.0]])
    q_target = jnp.array([[7.0, 8.0, 9.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = jnp.array([[True, False, True], [False, True, True], [True, True, True]])
    reward = jnp.array([1.0, -1.0, 0.5])
    discount = jnp.array([0.5, 0.25, 0.0])
    y = jax.vmap(ddqn_target)(q_online, q_target, mask, reward, discount)
    # row 0: legal {0, 2}, online argmax 2 -> target 9; row 1: legal {1, 2} -> 1 -> 2; row 2: discount 0
    np.testing.assert_allclose(np.asarray(y), [1.0 + 0.5 * 9.0, -1.0 + 0.25 * 2.0, 0.5], atol=1e-12)


def _huber(x, delta):
    a = np.abs(x)
    return np.where(a <= delta, 0.5 * x**2, delta * (a - 0.5 * delta))


def test_agent_loss_uses_online_argmax_target_value_and_masks():
    """``Agent.loss`` with a real network, recomputed in NumPy from the Q-values."""
    params = _INIT(jax.random.key(0)).params
    target_params = _INIT(jax.random.key(1)).params  # a different network
    batch = make_batch(2, size=12, discount=0.8)
    q_next_online = np.asarray(_Q(params, batch.next_obs), float)
    # make the unmasked online argmax illegal in every row, so the mask matters everywhere
    mask = np.ones((12, ACTIONS), bool)
    mask[np.arange(12), q_next_online.argmax(1)] = False
    batch = batch._replace(next_mask=jnp.asarray(mask))

    q = np.asarray(_Q(params, batch.obs), float)
    q_next_target = np.asarray(_Q(target_params, batch.next_obs), float)
    a_star = np.where(mask, q_next_online, -np.inf).argmax(1)
    y = np.asarray(batch.reward, float) + 0.8 * q_next_target[np.arange(12), a_star]
    q_sa = q[np.arange(12), np.asarray(batch.action)]
    rows = np.arange(12)
    expected = _huber(q_sa - y, 1.0).mean()
    assert float(_LOSS(params, target_params, batch)) == pytest.approx(expected, rel=1e-5)

    # the wrong variants give clearly different losses (so the check above is discriminating)
    wrong = {
        "unmasked argmax": q_next_target[rows, q_next_online.argmax(1)],
        "target-net argmax": np.where(mask, q_next_target, -np.inf).max(1),
        "online-net value": q_next_online[rows, a_star],
    }
    for name, value in wrong.items():
        other = _huber(q_sa - (np.asarray(batch.reward, float) + 0.8 * value), 1.0).mean()
        assert abs(other - expected) > 1e-4, name


def test_agent_loss_gradient_does_not_flow_through_target():
    params = _INIT(jax.random.key(0)).params
    batch = make_batch(3, discount=0.9)
    grads_target = jax.jit(jax.grad(SHARED.loss, argnums=1))(params, params, batch)
    assert all(np.all(np.asarray(g) == 0) for g in jax.tree.leaves(grads_target))


# ----------------------------------------------------------------------------- epsilon-greedy
Q = jnp.array([0.0, 10.0, 5.0, 3.0, 1.0])
MASK = jnp.array([True, False, True, True, False])  # legal {0, 2, 3}; unmasked argmax 1 is illegal
LEGAL = [0, 2, 3]


_SELECT = jax.jit(jax.vmap(select_action, in_axes=(0, None, None, None)))


N_DRAWS = 20_000  # one shape for every draw: one compilation


def _draws(eps, seed=0, mask=MASK, n=N_DRAWS):
    keys = jax.random.split(jax.random.key(seed), n)
    return np.asarray(_SELECT(keys, Q, mask, jnp.asarray(eps, jnp.float64)))


def _assert_binomial(count, n, p, sigmas=5.0):
    se = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= sigmas * se + 1e-9, f"count {count} vs expected {n * p:.1f} +- {sigmas}*{se:.1f}"


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_select_action_never_illegal(eps):
    a = _draws(eps, seed=int(eps * 10))
    assert set(np.unique(a)) <= set(LEGAL)
    assert a.dtype == np.int32


def test_select_action_greedy_at_eps_zero():
    a = _draws(0.0)
    assert np.all(a == 2)  # best LEGAL action, not the illegal argmax 1


def test_select_action_uniform_over_legal_at_eps_one():
    n = N_DRAWS
    a = _draws(1.0, seed=7)
    for action in LEGAL:
        _assert_binomial(int(np.sum(a == action)), n, 1 / 3)


def test_select_action_mixture_in_between():
    n, eps = N_DRAWS, 0.3
    a = _draws(eps, seed=11)
    _assert_binomial(int(np.sum(a == 2)), n, 1 - eps + eps / 3)
    for action in (0, 3):
        _assert_binomial(int(np.sum(a == action)), n, eps / 3)


def test_select_action_single_legal_action():
    mask = jnp.array([False, False, False, True, False])
    for eps in (0.0, 0.5, 1.0):
        assert np.all(_draws(eps, seed=5, mask=mask) == 3)


def test_agent_act_greedy_ignores_eps():
    state = _INIT(jax.random.key(0))  # no updates yet: eps = 0.8
    obs = jnp.asarray(np.random.default_rng(1).normal(size=OBS))
    mask = jnp.array([True, True, False, True, True])
    q = np.asarray(_Q(state.params, obs), float)
    best = int(np.where(np.asarray(mask), q, -np.inf).argmax())
    act = jax.jit(SHARED.act, static_argnames="greedy")
    keys = jax.random.split(jax.random.key(3), 20)
    assert all(int(act(k, state, obs, mask, greedy=True)) == best for k in keys)
    explored = {int(act(k, state, obs, mask)) for k in keys}
    assert explored <= {0, 1, 3, 4} and len(explored) > 1  # eps = 0.8: not always the greedy action


# ----------------------------------------------------------------------------- updates
def test_loss_decreases_on_fixed_batch():
    state = _INIT(jax.random.key(0))
    batch = make_batch(4, size=16, discount=0.0)  # discount 0: the regression targets are the rewards
    first = float(_LOSS(state.params, state.target_params, batch))
    losses = []
    for _ in range(200):
        state, loss = _UPDATE(state, batch)
        losses.append(float(loss))
    last = float(_LOSS(state.params, state.target_params, batch))
    assert losses[0] == pytest.approx(first, rel=1e-6)  # update reports the loss before its step
    assert last < 0.2 * first, (first, last)


def test_target_copied_exactly_every_target_every_updates():
    state = _INIT(jax.random.key(0))
    batch = make_batch(1)
    last_copy = state.params
    for count in range(1, 10):
        state, _ = _UPDATE(state, batch)
        assert int(state.updates) == count
        if count % 3 == 0:
            assert tree_equal(state.target_params, state.params)
            last_copy = state.params
        else:
            assert tree_equal(state.target_params, last_copy)
            assert not tree_equal(state.target_params, state.params)


def test_eps_decays_per_update_with_floor():
    state = _INIT(jax.random.key(0))
    assert float(SHARED.epsilon(state.updates)) == 0.8
    batch = make_batch(1)
    for k in range(1, 8):
        state, _ = _UPDATE(state, batch)
        assert float(SHARED.epsilon(state.updates)) == pytest.approx(max(0.8 * 0.5**k, 0.07), rel=1e-12)
    assert float(SHARED.epsilon(state.updates)) == 0.07


def test_eps_schedule_hand_values():
    """``eps_k = max(eps_min, eps_start * eps_decay^k)`` (spec), the default config, by hand."""
    agent = Agent(DQNConfig(hidden=(4,)), 3, 2, 40)  # eps 1.0, x0.99995 per update, floor 0.05
    eps = jax.jit(agent.epsilon)
    assert float(eps(jnp.asarray(0))) == 1.0
    assert float(eps(jnp.asarray(1))) == pytest.approx(0.99995, rel=1e-15)
    assert float(eps(jnp.asarray(10))) == pytest.approx(0.9995001124850014, rel=1e-14)  # 0.99995^10
    assert float(eps(jnp.asarray(50_000))) == pytest.approx(0.08207986830082019, rel=1e-12)  # 0.99995^50000
    # the floor binds from k = 59_914 (0.99995^k < 0.05 once k > ln 0.05 / ln 0.99995 = 59913.15)
    assert float(eps(jnp.asarray(59_913))) == pytest.approx(0.05000036899175416, rel=1e-12)
    assert float(eps(jnp.asarray(59_914))) == 0.05
    assert float(eps(jnp.asarray(10**6))) == 0.05
    # a different start, and no decay at all (constant)
    other = Agent(DQNConfig(hidden=(4,), eps_start=0.5, eps_decay=0.9, eps_min=0.1), 3, 2, 40)
    # 0.5 * 0.9^15 = 0.103 > 0.1 > 0.5 * 0.9^16 = 0.093: the floor binds from k = 16
    assert [float(other.epsilon(k)) for k in (0, 1, 2, 6, 15, 16, 30)] == pytest.approx(
        [0.5, 0.45, 0.405, 0.5 * 0.9**6, 0.5 * 0.9**15, 0.1, 0.1], rel=1e-14
    )
    constant = Agent(DQNConfig(hidden=(4,), eps_start=0.3, eps_decay=1.0, eps_min=0.1), 3, 2, 40)
    assert float(constant.epsilon(jnp.asarray(123))) == 0.3


def test_eps_schedule_monotone():
    agent = Agent(DQNConfig(hidden=(4,)), 3, 2, 40)
    values = np.asarray(jax.jit(jax.vmap(agent.epsilon))(jnp.arange(70_000)))
    assert np.all(np.diff(values) <= 0) and values[0] == 1.0 and values[-1] == 0.05


# ----------------------------------------------------------------------------- gamma, network
@pytest.mark.parametrize("L", [40, 70, 250])
def test_gamma_is_not_rounded(L):
    agent = Agent(DQNConfig(hidden=(4,)), 3, 2, max_steps=L)
    assert agent.gamma == 0.005 ** (1 / L)
    assert agent.gamma != round(0.005 ** (1 / L), 2)
    assert agent.gamma**L == pytest.approx(0.005, rel=1e-12)


def test_explicit_gamma_overrides():
    assert DQNConfig(gamma=0.9).discount(40) == 0.9
    assert Agent(DQNConfig(hidden=(4,), gamma=1.0), 3, 2, 40).gamma == 1.0


def test_network_shape_and_leaky_relu():
    net = QNetwork((7, 5), 4)
    params = jax.eval_shape(net.init, jax.random.key(0), jnp.zeros((1, 3)))
    kernels = [p["kernel"].shape for p in params["params"].values()]
    assert kernels == [(3, 7), (7, 5), (5, 4)]
    # LeakyReLU(0.01): with unit weights a negative input leaks through with slope 0.01
    one = QNetwork((1,), 1)
    unit = {"kernel": jnp.ones((1, 1)), "bias": jnp.zeros(1)}
    out = jax.jit(one.apply)({"params": {"Dense_0": unit, "Dense_1": unit}}, jnp.array([[-2.0], [3.0]]))
    np.testing.assert_allclose(np.asarray(out)[:, 0], [-0.02, 3.0], rtol=1e-6)


def test_agent_hash_eq_by_value():
    a = Agent(DQNConfig(hidden=(4,)), 3, 2, 40)
    assert a == Agent(DQNConfig(hidden=(4,)), 3, 2, 40) and hash(a) == hash(Agent(DQNConfig(hidden=(4,)), 3, 2, 40))
    assert a == Agent(config=DQNConfig(hidden=(4,)), obs_dim=3, n_actions=2, max_steps=40)
    assert a != Agent(DQNConfig(hidden=(5,)), 3, 2, 40)
    assert a != Agent(DQNConfig(hidden=(4,)), 3, 2, 70)
    assert a != Agent(DQNConfig(hidden=(4,)), 4, 2, 40)
    assert len({a, Agent(DQNConfig(hidden=(4,)), 3, 2, 40), Agent(DQNConfig(hidden=(4,)), 3, 3, 40)}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.obs_dim = 5


def test_agent_is_a_jit_static_argument():
    """Equal agents built separately share one compilation; a different one compiles anew."""
    first = jax.jit(lambda agent, state, batch: agent.update(state, batch), static_argnums=0)
    batch = make_batch(5, size=4)
    config = DQNConfig(hidden=(8,), target_every=2, eps_decay=0.5)
    a, b = (
        Agent(config, OBS, ACTIONS, 40),
        Agent(DQNConfig(hidden=(8,), target_every=2, eps_decay=0.5), OBS, ACTIONS, 40),
    )
    state = a.init(jax.random.key(0))
    s1, loss1 = first(a, state, batch)
    s2, loss2 = first(b, state, batch)
    assert first._cache_size() == 1
    assert tree_equal(s1, s2) and float(loss1) == float(loss2) and int(s1.updates) == 1
    first(Agent(config, OBS, ACTIONS, 41), state, batch)  # gamma differs: another compilation
    assert first._cache_size() == 2


# ----------------------------------------------------------------------------- config validation
@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": ()},
        {"hidden": (0,)},
        {"hidden": (16, -1)},
        {"hidden": (2.5,)},
        {"batch_size": 0},
        {"batch_size": True},
        {"buffer_size": 1.5},
        {"target_every": 0},
        {"n_step": 0},
        {"learning_rate": 0.0},
        {"learning_rate": -1e-3},
        {"gamma": 0.0},
        {"gamma": 1.5},
        {"eps_start": 1.5},
        {"eps_min": 0.5, "eps_start": 0.4},
        {"eps_min": -0.1},
        {"eps_decay": 0.0},
        {"eps_decay": 1.01},
    ],
)
def test_dqn_config_validation(kwargs):
    with pytest.raises(ValueError):
        DQNConfig(**kwargs)


def test_dqn_config_defaults_and_list_hidden():
    cfg = DQNConfig(hidden=[16, 8])
    assert cfg.hidden == (16, 8) and isinstance(cfg.hidden, tuple)
    assert hash(cfg) == hash(DQNConfig(hidden=(16, 8)))
    d = DQNConfig()
    assert d.eps_start == 1.0 and d.eps_decay == 0.99995 and d.eps_min == 0.05 and d.gamma is None
