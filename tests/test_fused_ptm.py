"""The fused PTM kernel (n >= ``FUSE_MIN_QUBITS``) against the dense density-matrix reference.

From 6 qubits the switch kernel folds each qubit's 1-qubit gates (with their noise) into the
next 2-qubit gate on that qubit. These tests check it with random per-qubit / per-pair channels
and readout errors (built by the reference from Kraus operators, as in ``test_simulator.py``),
both loops, gradients (parameter-shift rule on the reference: noise after a rotation does not
depend on its angle, so the rule stays exact), batches, and against the unfused kernel.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import crlqas_kit as ck
from crlqas_kit.sim import simulator
from crlqas_kit.sim.circuit import Circuit
from crlqas_kit.sim.paulis import PauliSum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402
from test_simulator import custom_per_qubit, random_ops, spec_case  # noqa: E402

ATOL = 1e-10
CAP = 40


@pytest.fixture(autouse=True)
def _x64():
    with ck.enable_x64():
        yield


def random_terms(n: int, rng: np.random.Generator, k: int = 10) -> list[tuple[str, float]]:
    strings = ["I" * n, "Z" * n, "Y" * n]
    while len(strings) < k:
        s = "".join(rng.choice(list("IXYZ"), size=n))
        if s not in strings:
            strings.append(s)
    return [(s, float(c)) for s, c in zip(strings, rng.normal(size=k), strict=True)]


def reference_energy(n, ops, ref_noise, terms, initial=None):
    rho = ref.run(n, ref_noise.ops(ops), None if initial is None else ref.basis_state(initial))
    if ref_noise.readout is None:
        return ref.expectation(rho, terms), rho
    return ref.readout_expectation(rho, terms, *ref_noise.readout), rho


def test_fusion_threshold_is_what_these_tests_cover():
    assert simulator.FUSE_MIN_QUBITS <= 6


@pytest.mark.parametrize("n", [6, 7])
def test_fused_kernel_matches_reference(n):
    rng = np.random.default_rng(60 + n)
    kit_noise, ref_noise = custom_per_qubit(n, rng)
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ops = random_ops(n, rng, length=30)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    e_ref, rho = reference_energy(n, ops, ref_noise, terms, "1" * n)
    params = np.asarray(circuit.angles)
    for loop in ("scan", "while"):
        ev = dataclasses.replace(simulator.Evaluator.create(ham, kit_noise, "1" * n), loop=loop)
        assert ev.engine == "ptm"
        assert abs(float(simulator._energy(ev, circuit, params)) - e_ref) <= ATOL, loop
    if n == 6:  # the whole Pauli vector (4096 entries; n = 7 would take the reference minutes)
        vec = np.asarray(simulator._state(ev, circuit, params)).reshape(-1)
        np.testing.assert_allclose(vec, ref.pauli_vector(rho), rtol=0, atol=ATOL)


def test_fused_and_unfused_kernels_agree_with_presets(monkeypatch):
    rng = np.random.default_rng(5)
    n = 6
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ops = random_ops(n, rng, length=28)
    for spec in ("depolarizing-2q", "thermal+readout"):
        _, ref_noise = spec_case(spec)(n, rng)
        e_ref, _ = reference_energy(n, ops, ref_noise, terms)
        fused = ck.expectation(Circuit.from_ops(n, ops, capacity=CAP), ham, spec)
        monkeypatch.setattr(simulator, "FUSE_MIN_QUBITS", 99)  # a new capacity: traced unfused
        unfused = ck.expectation(Circuit.from_ops(n, ops, capacity=CAP + 1), ham, spec)
        monkeypatch.undo()
        assert abs(fused - e_ref) <= ATOL and abs(unfused - e_ref) <= ATOL, spec


def test_fused_gradient_and_batch():
    rng = np.random.default_rng(9)
    n = 6
    kit_noise, ref_noise = custom_per_qubit(n, rng)
    kit_noise = dataclasses.replace(kit_noise, readout=None)
    ref_noise = dataclasses.replace(ref_noise, readout=None)
    terms = random_terms(n, rng)
    ham = PauliSum.from_list(terms)
    ops = random_ops(n, rng, length=20)
    circuit = Circuit.from_ops(n, ops, capacity=CAP)
    ev = simulator.Evaluator.create(ham, kit_noise)
    angles = circuit.params
    grad = np.asarray(jax.jit(jax.grad(lambda p: ev.energy(circuit, p)))(jnp.asarray(circuit.angles)))
    for i in range(min(4, len(angles))):  # parameter shift on the reference for the first angles
        shifted = []
        for sign in (1, -1):
            a = np.array(angles)
            a[i] += sign * np.pi / 2
            it = iter(a)
            shifted_ops = [(name, w, next(it) if t is not None else None) for name, w, t in ops]
            shifted.append(reference_energy(n, shifted_ops, ref_noise, terms)[0])
        assert abs(grad[i] - 0.5 * (shifted[0] - shifted[1])) <= ATOL, i
    params = rng.uniform(-np.pi, np.pi, size=(5, CAP))
    batch = np.asarray(simulator._energies(ev, circuit, params))
    loop = [float(simulator._energy(ev, circuit, p)) for p in params]
    np.testing.assert_allclose(batch, loop, rtol=0, atol=1e-12)
