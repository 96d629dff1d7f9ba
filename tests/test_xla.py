"""XLA:CPU's older fusion emitters by default (crlqas_kit._xla): when the flag is set, when it is
left alone, and that both emitters compute the same energies.

XLA reads its flags once per process, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crlqas_kit._xla import FLAG

ROOT = Path(__file__).resolve().parents[1]


def fresh(code: str, **env: str) -> tuple[object, str]:
    """Run ``code`` (which prints one JSON line last) in a new interpreter; (result, stderr)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "CRLQAS_XLA_EMITTERS")}
    environ.update(env, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", CRLQAS_NO_COMPILE_CACHE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


FLAGS = "import json, os, crlqas_kit; print(json.dumps(os.environ.get('XLA_FLAGS', '')))"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, FLAG),
        ({"CRLQAS_XLA_EMITTERS": "legacy"}, FLAG),
        ({"CRLQAS_XLA_EMITTERS": "default"}, ""),  # XLA's own default kept
        ({"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}, "--xla_cpu_use_fusion_emitters=true"),  # the user's
        ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, f"--xla_force_host_platform_device_count=2 {FLAG}"),
    ],
)
def test_flag(env, expected):
    assert fresh(FLAGS, **env)[0] == expected


def test_bad_setting_warns_and_uses_legacy():
    flags, stderr = fresh(FLAGS, CRLQAS_XLA_EMITTERS="fast")
    assert flags == FLAG
    assert "CRLQAS_XLA_EMITTERS must be 'legacy' or 'default', got 'fast'" in stderr


def test_too_late_leaves_the_flags_alone():
    """JAX already computed before the import: XLA has read its flags, so the kit adds none."""
    code = (
        "import json, os, jax.numpy as jnp; jnp.zeros(1).block_until_ready()\n"
        "import crlqas_kit\nprint(json.dumps(os.environ.get('XLA_FLAGS', '')))"
    )
    assert fresh(code)[0] == ""


ENERGIES = """
import json
import numpy as np, jax
import crlqas_kit as ck
from crlqas_kit.sim.circuit import Circuit

rng = np.random.default_rng(11)
problem = ck.load_problem("LiH-4q")
ops = [(g, q) for q in range(4) for g in ("ry", "rz")] + [("cx", (q, q + 1)) for q in range(3)] + [("rx", 2)]
circuit = Circuit.from_ops(4, ops)
params = rng.uniform(0, 2 * np.pi, (5, circuit.n_params))
out = {}
for noise in (None, "depolarizing"):
    out[str(noise)] = np.asarray(ck.expectation_batch(circuit, problem.hamiltonian, noise, params)).tolist()
print(json.dumps(out))
"""


def test_both_emitters_compute_the_same_energies():
    legacy, _ = fresh(ENERGIES)
    default, _ = fresh(ENERGIES, CRLQAS_XLA_EMITTERS="default")
    for noise in ("None", "depolarizing"):
        np.testing.assert_allclose(legacy[noise], default[noise], rtol=0, atol=1e-12)
        assert np.ptp(legacy[noise]) > 1e-3  # five different energies, not one value five times
