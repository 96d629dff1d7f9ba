"""Both CPU cores for one batch: the kit's host-device setting.

XLA:CPU runs one computation on one core, so a batch of energies (SPSA's perturbed points, a
benchmark's 64 parameter sets) uses one core however many the machine has. ``import
crlqas_kit`` (and the ``crlqas`` command) therefore asks JAX for one CPU *device* per core,
up to :data:`MAX_DEVICES`, and :meth:`crlqas_kit.sim.simulator.Evaluator.energies` splits
large batches over them with ``jax.shard_map`` (from :data:`crlqas_kit.sim.sharding.SHARD_MIN_WORK`; measured in
``docs/benchmarks.md``, "Both cores").

* ``CRLQAS_CPU_DEVICES=N`` chooses the number (``1`` turns the split off).
* A device count the user already chose (``XLA_FLAGS=--xla_force_host_platform_device_count``
  or ``jax_num_cpu_devices``) is left alone.
* The setting only works before JAX's first computation in the process: a program that ran JAX
  code before importing the kit keeps one device (the kit then evaluates on one core, correctly).
"""

from __future__ import annotations

import os
import warnings

import jax

ENV_DEVICES = "CRLQAS_CPU_DEVICES"

#: At most this many CPU devices by default (the split has no gain past the physical cores).
MAX_DEVICES = 2


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_devices() -> int:
    """``min(usable cores, MAX_DEVICES)``, at least 1."""
    return max(1, min(usable_cores(), MAX_DEVICES))


def requested_devices() -> int:
    """``$CRLQAS_CPU_DEVICES`` if set, else :func:`default_devices`."""
    value = os.environ.get(ENV_DEVICES, "").strip()
    if not value:
        return default_devices()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{ENV_DEVICES} must be a positive integer number of CPU devices, got {value!r}")
    return count


def enable_cpu_devices() -> int | None:
    """Ask JAX for :func:`requested_devices` CPU devices; return the number set, or None when
    the user chose already or JAX has already started (then nothing changes)."""
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return None
    if jax.config.jax_num_cpu_devices != -1:  # set by the user (or an earlier call)
        return None
    try:
        count = requested_devices()
    except ValueError as err:  # an import must not fail on it: say so and use the default
        warnings.warn(f"{err}; using {MAX_DEVICES}", stacklevel=2)
        count = default_devices()
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:  # backends already initialised: keep what the process has
        return None
    return count
