"""The persistent compilation cache: on by default in a per-user directory, off by env variable.

Each case runs a fresh interpreter (the cache is configured at ``import crlqas_kit``) with its
own ``XDG_CACHE_HOME`` under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, jax
hits = []
jax.monitoring.register_event_listener(lambda event, **kw: hits.append(event))
import crlqas_kit as ck
circ = ck.Circuit(2, 8).ry(0, 0.4).cx(0, 1)
e = ck.expectation(circ, ck.PauliSum.from_list([("ZZ", 1.0), ("XI", 0.5)]))
print(json.dumps({"dir": jax.config.jax_compilation_cache_dir, "energy": e,
                  "hits": sum(ev == "/jax/compilation_cache/cache_hits" for ev in hits)}))
"""


def run(tmp_path: Path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("CRLQAS_NO_COMPILE_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    base.update(XDG_CACHE_HOME=str(tmp_path / "cache"), JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=base, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cache_on_by_default_in_xdg_cache_home_and_reused(tmp_path):
    first = run(tmp_path)
    expected = tmp_path / "cache" / "crlqas_kit" / "jax"
    assert first["dir"] == str(expected)
    assert any(expected.iterdir()), "no executable was written to the cache"
    second = run(tmp_path)  # a new process: the executables come from the disk
    assert second["hits"] > 0 and first["hits"] == 0
    assert second["energy"] == first["energy"]


def test_env_variable_turns_it_off(tmp_path):
    out = run(tmp_path, CRLQAS_NO_COMPILE_CACHE="1")
    assert out["dir"] is None
    assert not (tmp_path / "cache" / "crlqas_kit").exists()


def test_users_own_cache_dir_is_kept(tmp_path):
    own = tmp_path / "mine"
    assert run(tmp_path, JAX_COMPILATION_CACHE_DIR=str(own))["dir"] == str(own)
