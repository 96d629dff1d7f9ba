"""XLA's older fusion emitters for the kit's single-environment programs (crlqas_kit._xla): the
setting, that the entry points compile with it (less compiler memory), that your own JAX code and
XLA_FLAGS are untouched, and that both emitters compute the same numbers.

Compiler memory is per process, so those cases run in fresh interpreters.
"""

from __future__ import annotations

import fresh_process
import numpy as np
import pytest

from crlqas_kit import _xla


def fresh(code: str, **env: str) -> tuple[object, str]:
    return fresh_process.fresh(code, drop=("XLA_FLAGS", "CRLQAS_XLA_EMITTERS"), **env)


@pytest.mark.parametrize(("value", "expected"), [(None, _xla.LEGACY), ("legacy", _xla.LEGACY), ("default", None)])
def test_setting(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(_xla.ENV_EMITTERS, raising=False)
    else:
        monkeypatch.setenv(_xla.ENV_EMITTERS, value)
    assert _xla.compiler_options() == expected


def test_bad_setting_warns_and_uses_legacy(monkeypatch):
    monkeypatch.setenv(_xla.ENV_EMITTERS, "fast")
    with pytest.warns(UserWarning, match="CRLQAS_XLA_EMITTERS must be 'legacy' or 'default', got 'fast'"):
        assert _xla.compiler_options() == _xla.LEGACY


def test_import_leaves_xla_flags_alone():
    """The option is per compiled function: the process's XLA_FLAGS (your own programs) are unchanged."""
    code = "import json, os, crlqas_kit; print(json.dumps(os.environ.get('XLA_FLAGS', '')))"
    assert fresh(code)[0] == ""
    assert fresh(code, XLA_FLAGS="--xla_cpu_enable_fast_math=false")[0] == "--xla_cpu_enable_fast_math=false"


COMPILE_MEMORY = """
import json
import jax, jax.numpy as jnp
import crlqas_kit as ck
from crlqas_kit.rl import env as E

def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) // 1024

with jax.enable_x64(True):
    params = E.make_params(ck.load_problem("H2-2q"))  # compiles something first: XLA's one-off setup
    obs, state = E.reset_jit(jax.random.key(0), params)
    before = rss()
    E.step_jit.lower(jax.random.key(1), state, 0, params).compile()
print(json.dumps(rss() - before))
"""


def test_step_compiles_in_less_memory():
    """``step_jit`` (500-evaluation Adam-SPSA, H2-2q) with the kit's option against XLA's default:
    measured 30-50 MB against 150-170 MB; a kit that lost the option compiles like the default."""
    legacy, _ = fresh(COMPILE_MEMORY)
    default, _ = fresh(COMPILE_MEMORY, CRLQAS_XLA_EMITTERS="default")
    assert legacy < 0.6 * default, (legacy, default)


ENERGIES = """
import json
import numpy as np, jax
import crlqas_kit as ck
from crlqas_kit.optim import vqe
from crlqas_kit.rl import env as E
from crlqas_kit.sim.circuit import Circuit

problem = ck.load_problem("LiH-4q")
ops = [(g, q) for q in range(4) for g in ("ry", "rz")] + [("cx", (q, q + 1)) for q in range(3)] + [("rx", 2)]
out = {"vqe": vqe.optimize(problem, Circuit.from_ops(4, ops), "depolarizing", budget=100, key=1).energy}
with jax.enable_x64(True):
    params = E.make_params(problem, "depolarizing")
    obs, state = E.reset_jit(jax.random.key(0), params)
    energies = []
    for action in (0, 5, 13, 2):
        obs, state, *_ = E.step_jit(jax.random.key(action), state, action, params)
        energies.append(float(state.energy))
out["steps"] = energies
print(json.dumps(out))
"""


def test_both_emitters_compute_the_same_energies():
    legacy, _ = fresh(ENERGIES)
    default, _ = fresh(ENERGIES, CRLQAS_XLA_EMITTERS="default")
    np.testing.assert_allclose(legacy["vqe"], default["vqe"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(legacy["steps"], default["steps"], rtol=0, atol=1e-12)
    assert np.ptp(legacy["steps"]) > 1e-4  # the circuits differ in energy: not one number four times


def test_entry_points_compose_with_your_transformations():
    """JAX refuses compiler options on a nested jit: inside your jit / vmap the kit's entry points
    are plain jits, even when every argument is a constant, and give the same numbers."""
    import jax

    import crlqas_kit as ck
    from crlqas_kit.rl import env as E

    with jax.enable_x64(True):
        params = E.make_params(ck.load_problem("H2-2q"))
        key = jax.random.key(3)
        top = E.reset_jit(key, params)[1].energy
        inside = jax.jit(lambda: E.reset_jit(key, params)[1].energy)()  # constants only
        mapped = jax.vmap(lambda k: E.reset_jit(k, params)[1].energy)(jax.random.split(key, 2))
    assert float(inside) == float(top)
    assert mapped.shape == (2,)
