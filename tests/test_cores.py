"""One CPU device per core and the batch split over them (crlqas_kit._cores, Evaluator.energies).

The device count is fixed when JAX starts, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import os

import fresh_process
import numpy as np
import pytest


def fresh(code: str, **env: str) -> tuple[object, str]:
    return fresh_process.fresh(code, drop=("XLA_FLAGS", "CRLQAS_CPU_DEVICES"), **env)


COUNT = "import json, crlqas_kit, jax; print(json.dumps(len(jax.devices())))"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, min(len(os.sched_getaffinity(0)), 2)),
        ({"CRLQAS_CPU_DEVICES": "1"}, 1),
        ({"CRLQAS_CPU_DEVICES": "3"}, 3),
        ({"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}, 4),  # the user's choice is kept
    ],
)
def test_device_count(env, expected):
    assert fresh(COUNT, **env)[0] == expected


def test_bad_device_count_warns_and_uses_the_default():
    count, stderr = fresh(COUNT, CRLQAS_CPU_DEVICES="two")
    assert count == min(len(os.sched_getaffinity(0)), 2)
    assert "CRLQAS_CPU_DEVICES must be a positive integer" in stderr and "'two'" in stderr


def test_too_late_keeps_one_device():
    """JAX already computed before the import: the kit keeps the process's single device."""
    code = (
        "import json, jax, jax.numpy as jnp; jnp.zeros(1).block_until_ready()\n"
        "import crlqas_kit\nfrom crlqas_kit._cores import enable_cpu_devices\n"
        "print(json.dumps([len(jax.devices()), enable_cpu_devices()]))"
    )
    assert fresh(code)[0] == [1, None]


SPLIT = """
import json, re
import numpy as np, jax
import crlqas_kit
from crlqas_kit.sim import simulator as sim
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.paulis import PauliSum

rng = np.random.default_rng(7)
out = {}
for n, noise in ((7, "depolarizing-2q"), (11, None)):
    terms = [("".join(rng.choice(list("IXYZ"), n)), float(rng.normal())) for _ in range(6)] + [("Z" * n, 0.5)]
    ops = [(g, q) for q in range(n) for g in ("ry", "rz")] + [("cx", (q, q + 1)) for q in range(n - 1)]
    ops += [("rx", q) for q in range(n)]
    circuit = Circuit.from_ops(n, ops)
    with jax.enable_x64(True):
        ev = sim.Evaluator.create(PauliSum.from_list(terms), noise)
        rows = {}
        for batch in (1, 2, 5):  # 5: padded to 6 for two devices
            params = np.zeros((batch, circuit.capacity))
            params[:, : circuit.n_params] = rng.uniform(0, 2 * np.pi, (batch, circuit.n_params))
            split = np.asarray(sim._energies(ev, circuit, params))
            one_by_one = [float(sim._energy(ev, circuit, p)) for p in params]
            text = sim._energies.lower(ev, circuit, params).as_text()
            parts = re.findall(r"num_partitions = (\\d+)", text)
            rows[batch] = [float(np.abs(split - one_by_one).max()), int(parts[0]) if parts else 1, len(split)]
    out[f"{n}-{ev.engine}"] = rows
print(json.dumps(out))
"""


#: partitions expected with two devices: batch x state entries >= 2^15 (PTM, 4^7 = 2^14 per set)
#: or 2^13 (state vector, 2^11 per set); a batch of one is never split
SPLIT_EXPECTED = {"7-ptm": {"1": 1, "2": 2, "5": 2}, "11-statevector": {"1": 1, "2": 1, "5": 2}}


@pytest.mark.parametrize("devices", ["1", "2"])
def test_split_batch_equals_single_evaluations(devices):
    """With two devices a batch with enough work (SHARD_MIN_WORK) is compiled for two partitions
    (one per core) and gives the single evaluations' energies, padding included; a small batch,
    a batch of one and a single device are not split."""
    result, _ = fresh(SPLIT, CRLQAS_CPU_DEVICES=devices)
    assert set(result) == set(SPLIT_EXPECTED)
    for name, rows in result.items():
        for batch, (deviation, partitions, length) in rows.items():
            assert deviation < 1e-12 and length == int(batch)
            assert partitions == (SPLIT_EXPECTED[name][batch] if devices == "2" else 1), (name, batch, partitions)


OPTIMISE = """
import json
import numpy as np
import crlqas_kit
from crlqas_kit.optim import vqe
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.paulis import PauliSum

n = 7
ham = PauliSum.from_list([("ZZIIIII", 0.7), ("IXXIIII", -0.4), ("IIIIZZI", 0.3), ("YIIIIIY", 0.2)])
ops = [("ry", q) for q in range(n)] + [("cx", (q, q + 1)) for q in range(n - 1)] + [("rx", q) for q in range(n)]
circuit = Circuit.from_ops(n, ops)
out = [vqe.optimize(ham, circuit, "depolarizing", budget=12, key=1, shots=shots).energy for shots in (None, 200)]
print(json.dumps(out))
"""


def test_inner_optimiser_gives_the_same_numbers_on_one_and_two_devices():
    """The SPSA points split over two devices (7 noisy qubits) keep their keys: same energies,
    exact and with shot noise, as on one device (to rounding: the compiled code differs)."""
    one, _ = fresh(OPTIMISE, CRLQAS_CPU_DEVICES="1")
    two, _ = fresh(OPTIMISE, CRLQAS_CPU_DEVICES="2")
    assert two == pytest.approx(one, abs=1e-10)
    assert one[0] != one[1]  # the shot-noise run is a different computation (the case can fail)


ENVS = """
import json, re
import numpy as np, jax, jax.numpy as jnp
import crlqas_kit
from crlqas_kit import load_problem
from crlqas_kit.rl import env as E
from crlqas_kit.rl.batch import reset_batch, step_batch

out = {}
with jax.enable_x64(True):
    params = E.make_params(load_problem("H2-3q"), "depolarizing")
    for batch in (5, 8):  # 5: padded to 6 for two devices
        _, states = reset_batch(jax.random.split(jax.random.key(3), batch), params, -1.0)
        rows = []
        for t in range(3):
            keys = jax.random.split(jax.random.key(t), batch)
            actions = jnp.asarray((np.arange(batch) * 7 + t * 5) % params.n_actions, jnp.int32)
            obs, states, reward, *_ = step_batch(keys, states, actions, params, strategy="vmap")
            rows.append([np.asarray(states.energy).tolist(), np.asarray(reward).tolist(), np.asarray(obs).tolist()])
        text = step_batch.lower(keys, states, actions, params, strategy="vmap").as_text()
        parts = re.findall(r"num_partitions = (\\d+)", text)
        out[batch] = [rows, int(parts[0]) if parts else 1]
print(json.dumps(out))
"""


def test_environment_batch_is_split_over_two_devices_with_the_same_numbers():
    """A lock-step batch of environments runs one part per device (rl.batch.env_devices) and
    steps exactly as on one device: energies, rewards and observations, padding included."""
    one, _ = fresh(ENVS, CRLQAS_CPU_DEVICES="1")
    two, _ = fresh(ENVS, CRLQAS_CPU_DEVICES="2")
    for batch in ("5", "8"):
        assert one[batch][1] == 1 and two[batch][1] == 2
        for (e1, r1, o1), (e2, r2, o2) in zip(one[batch][0], two[batch][0], strict=True):
            assert len(e2) == int(batch)
            np.testing.assert_allclose(e2, e1, rtol=0, atol=1e-10)
            np.testing.assert_allclose(r2, r1, rtol=0, atol=1e-10)
            np.testing.assert_allclose(o2, o1, rtol=0, atol=1e-10)
        assert len(set(one[batch][0][-1][0])) > 2  # the environments differ (the case can fail)
