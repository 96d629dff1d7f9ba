"""Do 3-qubit PTM blocks pay? One 64x64 pass against two 16x16 passes (issue 12, deliverable 2).

Two CNOT-ladder neighbours ``(3, 4)`` then ``(4, 5)`` act on three qubits; fused, they are one
64x64 PTM applied to three axes of the ``(4,) * n`` Pauli vector (64 multiply-adds per entry in
one pass) instead of two 16x16 ones (2 x 16 in two passes). Random matrices and state (the
arithmetic is what is timed), ``jnp.tensordot`` + ``moveaxis`` as in the kit's kernel, one
state and a ``vmap`` over 32, one device pinned to one core; best of repeated calls.

    CRLQAS_CPU_DEVICES=1 taskset -c 0 python benchmarks/fused_blocks.py --out benchmarks/results/fused_blocks.json
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np


def apply(state, m, axes):
    k = len(axes)
    t = jnp.tensordot(m.reshape((4,) * (2 * k)), state, axes=(list(range(k, 2 * k)), list(axes)))
    return jnp.moveaxis(t, list(range(k)), list(axes))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    rows = []
    for n in (8, 10):
        rng = np.random.default_rng(0)
        s = jnp.asarray(rng.normal(size=(4,) * n))
        m2a, m2b = (jnp.asarray(rng.normal(size=(16, 16))) for _ in range(2))
        m3 = jnp.asarray(rng.normal(size=(64, 64)))

        def two(s, m2a=m2a, m2b=m2b):
            return apply(apply(s, m2a, (3, 4)), m2b, (4, 5))

        def three(s, m3=m3):
            return apply(s, m3, (3, 4, 5))

        batch = jnp.stack([s] * 32)
        for name, f, x in (
            ("two 16x16", jax.jit(two), s),
            ("one 64x64", jax.jit(three), s),
            ("two 16x16, vmap 32", jax.jit(jax.vmap(two)), batch),
            ("one 64x64, vmap 32", jax.jit(jax.vmap(three)), batch),
        ):
            f(x).block_until_ready()
            times = []
            for _ in range(20 if n == 8 else 5):
                t0 = time.perf_counter()
                f(x).block_until_ready()
                times.append(time.perf_counter() - t0)
            rows.append({"n": n, "case": name, "best_ms": 1e3 * min(times), "times_s": times})
            print(f"n = {n:2d}  {name:20s} {1e3 * min(times):9.3f} ms", flush=True)
    if args.out:
        data = {"rows": rows, "loadavg": os.getloadavg(), "jax": jax.__version__}
        with open(args.out, "w") as fh:
            json.dump(data, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
