"""The batch split over CPU devices: one core per part of a batch of energies.

``import crlqas_kit`` asks JAX for one CPU device per core (:mod:`crlqas_kit._cores`); a batch
with enough work (:data:`SHARD_MIN_WORK`) is split over them with ``jax.shard_map``. Used by
:meth:`crlqas_kit.sim.simulator.Evaluator.energies` and the inner optimisers' perturbed points
(:func:`crlqas_kit.optim.vqe.batched_objective`). See ``docs/simulator.md``, "Both cores".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: Smallest batch work (parameter sets x state entries: ``4^n`` reals for the PTM engine, ``2^n``
#: amplitudes for the state vector) that :meth:`Evaluator.energies` splits over the CPU devices.
#: The split costs about 0.3-0.5 ms per call, so it pays from ~2 ms of single-core work
#: (measured, benchmarks/cores.py: PTM n = 6, 2 points 0.76 -> 1.12 ms when split, 64 points
#: 25 -> 11 ms; n = 7, 2 points 1.84 -> 1.57 ms; state vector n = 10, 2 points 0.6 -> 0.8 ms,
#: 64 points 15.6 -> 8.1 ms).
SHARD_MIN_WORK = {"ptm": 2**15, "statevector": 2**13}


def shard_devices(n_qubits: int, engine: str, batch: int) -> list | None:
    """The CPU devices a batch of ``batch`` energies is split over, or None for no split."""
    devices = jax.devices()
    state = 4**n_qubits if engine == "ptm" else 2**n_qubits
    if len(devices) < 2 or batch < 2 or batch * state < SHARD_MIN_WORK[engine]:
        return None
    return devices[: min(len(devices), batch)]


def split_batch(fn, n_qubits: int, engine: str, *batched):
    """``fn(*batched)`` for arrays with a leading batch axis ``B`` (output ``(B, ...)``), split
    over the CPU devices by :func:`shard_devices` with ``jax.shard_map`` (the batch padded to a
    multiple of the devices with copies of its last row); ``fn`` itself when not split.
    ``fn`` may close over replicated values (the evaluator, the circuit)."""
    return split_over(fn, shard_devices(n_qubits, engine, jax.tree.leaves(batched)[0].shape[0]), *batched)


def split_over(fn, devices: list | None, *batched):
    """``fn(*batched)`` for pytrees whose leaves share a leading batch axis ``B`` (every output
    leaf ``(B, ...)`` too), one part of the batch per device in ``devices`` with
    ``jax.shard_map``; the batch is padded to a multiple of the devices with copies of its last
    row, and the padding dropped from the output. ``devices=None``: ``fn(*batched)``."""
    if devices is None:
        return fn(*batched)
    batch, parts = jax.tree.leaves(batched)[0].shape[0], len(devices)
    pad = -(-batch // parts) * parts - batch

    def padded(a):
        return jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]) if pad else a

    spec = jax.sharding.PartitionSpec("batch")
    split = jax.shard_map(
        fn,
        mesh=jax.sharding.Mesh(np.asarray(devices), ("batch",)),
        in_specs=(spec,) * len(batched),
        out_specs=spec,
        check_vma=False,  # the kernel's lax.switch branches mix replicated and per-device values
    )
    out = split(*jax.tree.map(padded, batched))
    return jax.tree.map(lambda a: a[:batch], out) if pad else out
