"""Checkers for the course exercises (``notebooks/exercises/``).

Every ``check_*`` function takes the student's function, calls it on a few random inputs, compares
the answers with the kit's own implementation and **prints** a verdict: ``✔`` and ``True`` when
all inputs agree, otherwise ``✘`` with a hint and ``False``. A checker never raises: a missing
implementation, an exception inside the student's code, a wrong shape or type all become a hint.

>>> from crlqas_kit.exercises import check_depolarizing_ptm
>>> check_depolarizing_ptm(lambda p: np.diag([1, 1 - p, 1 - p, 1 - p]))   # doctest: +SKIP
✔ check_depolarizing_ptm: correct on 6 inputs.
True

:data:`EXERCISES` lists them by notebook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "EXERCISES",
    "check_action_mask",
    "check_amplitude_damping_ptm",
    "check_asap_layers",
    "check_ddqn_target",
    "check_depolarizing_ptm",
    "check_ground_energy",
    "check_hf_energy",
    "check_n_step_returns",
    "check_pauli_energy",
    "check_pauli_vector",
    "check_ptm",
    "check_spsa_gains",
    "check_spsa_gradient",
]


class _Hint(Exception):
    """A wrong answer: the message is the hint shown to the student."""


def _checker(func: Callable[..., int]) -> Callable[..., bool]:
    """Turn a checking routine (returns the number of inputs tried) into a printing, never-raising one."""

    @functools.wraps(func)
    def wrapper(answer: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            if not callable(answer):
                raise _Hint(
                    f"pass your function itself, e.g. {func.__name__}(my_function), not a {type(answer).__name__}"
                )
            n = func(answer, *args, **kwargs)
        except _Hint as hint:
            print(f"✘ {func.__name__}: {hint}")
            return False
        except Exception as err:  # the checker must never show a traceback to a student
            print(f"✘ {func.__name__}: could not check your answer ({type(err).__name__}: {err})")
            return False
        print(f"✔ {func.__name__}: correct on {n} inputs.")
        return True

    return wrapper


def _call(fn: Callable, *args: Any, show: str = "") -> Any:
    """Call the student's function; turn its exceptions into hints."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise _Hint("not implemented yet: replace `raise NotImplementedError` with your code") from None
    except Exception as err:
        where = f" for {show}" if show else ""
        raise _Hint(f"your function raised {type(err).__name__}: {err}{where}") from None


def _as_array(value: Any, shape: tuple[int, ...] | None, what: str, complex_ok: bool = False) -> np.ndarray:
    """The student's answer as a float array of ``shape`` (a hint otherwise)."""
    if value is None:
        raise _Hint(f"your function returned None instead of {what}: is a `return` missing?")
    try:
        arr = np.asarray(value, dtype=complex)
    except (TypeError, ValueError):
        raise _Hint(f"{what} should be an array of numbers, got {type(value).__name__}: {value!r:.80}") from None
    if arr.dtype == object:
        raise _Hint(f"{what} should be an array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise _Hint(f"{what} should have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise _Hint(f"{what} contains NaN or inf")
    if not complex_ok and np.abs(arr.imag).max(initial=0.0) > 1e-8:
        raise _Hint(f"{what} should be real; yours has imaginary parts (take .real of a trace that is real)")
    return arr if complex_ok else arr.real


def _as_float(value: Any, what: str) -> float:
    arr = _as_array(value, None, what)
    if arr.size != 1:
        raise _Hint(f"{what} should be one number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0])


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def _random_unitary(rng: np.random.Generator, dim: int) -> np.ndarray:
    z = (rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _random_pauli_sum(rng: np.random.Generator, n_qubits: int, n_terms: int = 6):
    from .sim.paulis import PauliSum

    strings = {"I" * n_qubits}
    while len(strings) < min(n_terms, 4**n_qubits):
        strings.add("".join(rng.choice(list("IXYZ"), size=n_qubits)))
    return PauliSum.from_list([(s, float(rng.normal())) for s in sorted(strings)])


def _random_circuit(rng: np.random.Generator, n_qubits: int, n_gates: int = 6):
    from .sim.circuit import Circuit

    c = Circuit(n_qubits, capacity=16)
    for _ in range(n_gates):
        if n_qubits > 1 and rng.random() < 0.3:
            a, b = rng.choice(n_qubits, size=2, replace=False)
            c = c.cx(int(a), int(b))
        else:
            gate, q = str(rng.choice(["rx", "ry", "rz"])), int(rng.integers(n_qubits))
            c = c.add(gate, q, float(rng.uniform(-np.pi, np.pi)))
    return c


def _close(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


# -------------------------------------------------------------------------------------------
# 01 Pauli transfer matrices
# -------------------------------------------------------------------------------------------


@_checker
def check_ptm(ptm: Callable, seed: int | None = None) -> int:
    """``ptm(U)`` -> the ``4^k x 4^k`` PTM ``R_PQ = Tr(P U Q U^dagger) / 2^k`` of a k-qubit unitary."""
    from .sim.ptm import UNITARIES, ptm_from_unitary

    rng = _rng(seed)
    cases = [("H", UNITARIES["h"]), ("S", UNITARIES["s"]), ("CNOT", UNITARIES["cx"])]
    cases += [(f"a random {d}x{d} unitary", _random_unitary(rng, d)) for d in (2, 2, 4)]
    for name, u in cases:
        want = ptm_from_unitary(u)
        got = _as_array(_call(ptm, u.copy(), show=name), want.shape, f"the PTM of {name}")
        if _close(got, want):
            continue
        k = int(np.log2(u.shape[0]))
        if _close(got, want.T):
            raise _Hint(f"for {name} you returned the transpose: the row index is the OUTPUT Pauli P in Tr(P U Q U†)")
        if _close(got, want * 2**k) or _close(got * 2**k, want):
            raise _Hint(f"for {name} the scale is off by 2^k = {2**k}: R_PQ = Tr(P U Q U†) / 2^k")
        raise _Hint(
            f"wrong PTM for {name}. Order the Paulis I, X, Y, Z (qubit 0 = leftmost kron factor) and use "
            "R[p, q] = Tr(P_p U P_q U†).real / 2^k"
        )
    return len(cases)


@_checker
def check_pauli_vector(pauli_vector: Callable, seed: int | None = None) -> int:
    """``pauli_vector(rho)`` -> ``r_P = Tr(P rho)`` for all ``4^n`` Pauli strings in index order."""
    from .sim.simulator import density_matrix
    from .sim.simulator import pauli_vector as kit_pauli_vector

    rng = _rng(seed)
    n_cases = 0
    for n, noise in ((1, "none"), (1, "amplitude-damping:gamma=0.3"), (2, "none"), (2, "depolarizing:p1=0.2")):
        circuit = _random_circuit(rng, n)
        rho = density_matrix(circuit, noise)
        want = kit_pauli_vector(circuit, noise)
        got = _as_array(_call(pauli_vector, rho.copy(), show=f"a {n}-qubit state"), want.shape, "the Pauli vector")
        n_cases += 1
        if _close(got, want):
            continue
        if _close(got * 2**n, want):
            raise _Hint(f"off by a factor 2^n = {2**n}: r_P = Tr(P rho) without dividing by 2^n (so r_I = 1)")
        if not np.isclose(got[0], 1.0):
            raise _Hint(f"r_I = Tr(rho) should be 1, got {got[0]:.4g}")
        raise _Hint(
            "wrong entries: use the order I, X, Y, Z per qubit with qubit 0 the most significant "
            "(e.g. pauli_matrix(pauli_string(i, n)) for index i)"
        )
    return n_cases


@_checker
def check_pauli_energy(energy: Callable, seed: int | None = None) -> int:
    """``energy(r, hamiltonian)`` -> ``sum_k c_k r[index(P_k)]`` (the energy from a Pauli vector)."""
    from .sim.simulator import expectation, pauli_vector

    rng = _rng(seed)
    n_cases = 0
    for n in (1, 2, 2, 3):
        circuit = _random_circuit(rng, n)
        ham = _random_pauli_sum(rng, n, n_terms=min(4**n, 6))
        r = pauli_vector(circuit, "depolarizing:p1=0.05")
        want = expectation(circuit, ham, "depolarizing:p1=0.05")
        got = _as_float(_call(energy, r.copy(), ham, show=f"a {n}-qubit Hamiltonian"), "the energy")
        n_cases += 1
        if np.isclose(got, want, rtol=1e-6, atol=1e-8):
            continue
        if np.isclose(got, want - ham.constant, rtol=1e-6, atol=1e-8):
            raise _Hint("the identity term is missing: its coefficient multiplies r_I = 1")
        raise _Hint("E = sum_k c_k * r[pauli_index(P_k)] over zip(hamiltonian.paulis, hamiltonian.coeffs)")
    return n_cases


# -------------------------------------------------------------------------------------------
# 02 noise channels
# -------------------------------------------------------------------------------------------


def _check_channel(fn: Callable, reference: Callable, values, what: str, formula: str) -> int:
    for v in values:
        want = reference(v)
        got = _as_array(_call(fn, v, show=f"{what} = {v}"), (4, 4), f"the PTM for {what} = {v}")
        if not _close(got, want):
            if _close(got, want.T):
                raise _Hint(f"for {what} = {v} you returned the transpose of the PTM (rows = output Paulis)")
            raise _Hint(f"wrong PTM for {what} = {v}: {formula}")
    return len(values)


@_checker
def check_depolarizing_ptm(depolarizing_ptm: Callable, seed: int | None = None) -> int:
    """``depolarizing_ptm(p)`` -> the 4x4 PTM of ``rho -> (1-p) rho + p I/2``."""
    from .sim.noise import depolarizing_1q

    values = [0.0, 1.0, *np.round(_rng(seed).uniform(0, 1, 4), 4).tolist()]
    return _check_channel(
        depolarizing_ptm, depolarizing_1q, values, "p", "I stays, X, Y and Z components shrink by (1 - p)"
    )


@_checker
def check_amplitude_damping_ptm(amplitude_damping_ptm: Callable, seed: int | None = None) -> int:
    """``amplitude_damping_ptm(gamma)`` -> the 4x4 PTM of the amplitude-damping channel."""
    from .sim.noise import amplitude_damping

    values = [0.0, 1.0, *np.round(_rng(seed).uniform(0, 1, 4), 4).tolist()]
    return _check_channel(
        amplitude_damping_ptm,
        amplitude_damping,
        values,
        "gamma",
        "build it from the Kraus operators K0 = [[1,0],[0,sqrt(1-g)]], K1 = [[0,sqrt(g)],[0,0]]; "
        "note the non-zero entry R[Z, I] = gamma (the channel is not unital)",
    )


# -------------------------------------------------------------------------------------------
# 03 molecular Hamiltonians
# -------------------------------------------------------------------------------------------


@_checker
def check_ground_energy(ground_energy: Callable, seed: int | None = None) -> int:
    """``ground_energy(hamiltonian)`` -> the lowest eigenvalue of a :class:`PauliSum`."""
    from .problems import load_problem

    rng = _rng(seed)
    hams = [("H2-2q", load_problem("H2-2q").hamiltonian)]
    hams += [(f"a random {n}-qubit Hamiltonian", _random_pauli_sum(rng, n)) for n in (1, 2, 3)]
    for name, ham in hams:
        want = ham.ground_energy()
        got = _as_float(_call(ground_energy, ham, show=name), f"the ground energy of {name}")
        if np.isclose(got, want, rtol=1e-8, atol=1e-8):
            continue
        if np.isclose(got, np.linalg.eigvalsh(ham.to_matrix())[-1]):
            raise _Hint(f"for {name} you returned the HIGHEST eigenvalue; eigvalsh sorts ascending")
        raise _Hint(f"wrong ground energy for {name}: build sum_k c_k pauli_matrix(P_k) and take its lowest eigenvalue")
    return len(hams)


@_checker
def check_hf_energy(hf_energy: Callable, seed: int | None = None) -> int:
    """``hf_energy(hamiltonian, bitstring)`` -> ``<b|H|b>`` of a computational basis state."""
    from .problems import load_problem
    from .sim.circuit import Circuit
    from .sim.simulator import expectation

    rng = _rng(seed)
    cases = []
    for name in ("H2-2q", "LiH-4q"):
        p = load_problem(name)
        cases.append((p.hamiltonian, p.hf_bitstring))
    for n in (2, 3):
        cases.append((_random_pauli_sum(rng, n), "".join(rng.choice(["0", "1"], size=n))))
    for ham, bits in cases:
        circuit = Circuit(ham.n_qubits)
        for q, b in enumerate(bits):
            if b == "1":
                circuit = circuit.x(q)
        want = expectation(circuit, ham)
        got = _as_float(_call(hf_energy, ham, bits, show=f"bitstring {bits!r}"), f"the energy of |{bits}>")
        if np.isclose(got, want, rtol=1e-8, atol=1e-8):
            continue
        flipped = expectation(Circuit(ham.n_qubits), ham) if set(bits) == {"1"} else None
        if flipped is not None and np.isclose(got, flipped):
            raise _Hint("bit '1' means the qubit is flipped: Z on it gives -1")
        raise _Hint(
            f"wrong energy for |{bits}>: only I/Z strings contribute, each Z on a qubit in state 1 flips the sign "
            "(qubit 0 is the leftmost letter and the leftmost bit)"
        )
    return len(cases)


# -------------------------------------------------------------------------------------------
# 04 VQE and SPSA
# -------------------------------------------------------------------------------------------


def _quadratic(rng: np.random.Generator, p: int):
    m = rng.normal(size=(p, p))
    a = m @ m.T + np.eye(p)
    b = rng.normal(size=p)
    return lambda x: 0.5 * x @ a @ x + b @ x + np.sum(np.sin(x))


@_checker
def check_spsa_gradient(spsa_gradient: Callable, seed: int | None = None) -> int:
    """``spsa_gradient(f, x, delta, c)`` -> ``(f(x + c delta) - f(x - c delta)) / (2c) * delta``."""
    import jax
    import jax.numpy as jnp

    from ._x64 import enable_x64
    from .optim.spsa import spsa_gradient as kit_gradient

    rng = _rng(seed)
    n_cases = 0
    for p in (1, 3, 5, 8):
        f = _quadratic(rng, p)
        x = rng.normal(size=p)
        c = float(rng.uniform(0.01, 0.3))
        with enable_x64():
            key = jax.random.key(int(rng.integers(2**31)))
            g, points, _ = kit_gradient(
                lambda pts, f=f: jnp.stack([jnp.asarray(f(np.asarray(q))) for q in pts]), jnp.asarray(x), key, c
            )
        want, delta = np.asarray(g), np.rint((np.asarray(points[0]) - x) / c)
        got = _as_array(_call(spsa_gradient, f, x.copy(), delta.copy(), c, show=f"{p} parameters"), (p,), "g")
        n_cases += 1
        if _close(got, want):
            continue
        if _close(got, -want):
            raise _Hint("wrong sign: f(x + c*delta) comes first in the difference")
        if _close(got, 2 * want) or _close(2 * got, want):
            raise _Hint("off by a factor 2: the two points are 2c apart, divide by 2*c")
        raise _Hint("g = (f(x + c*delta) - f(x - c*delta)) / (2*c) * delta  (delta_i = ±1, so 1/delta_i = delta_i)")
    return n_cases


@_checker
def check_spsa_gains(spsa_gains: Callable, seed: int | None = None) -> int:
    """``spsa_gains(k, a, c, A, alpha, gamma)`` -> ``(a_k, c_k)`` of SPSA's decaying schedules."""
    from .optim.spsa import perturbation_gain, step_gain

    rng = _rng(seed)
    cases = [(0, 0.2, 0.1, 0.0, 0.602, 0.101), (99, 0.2, 0.1, 10.0, 0.602, 0.101)]
    for _ in range(4):
        k = int(rng.integers(0, 500))
        a, c = (float(v) for v in np.round(rng.uniform(0.01, 2.0, 2), 4))
        cases.append((k, a, c, float(rng.integers(0, 50)), float(rng.uniform(0.3, 1)), float(rng.uniform(0, 0.3))))
    for k, a, c, A, alpha, gamma in cases:
        want = (float(step_gain(a, A, alpha, k)), float(perturbation_gain(c, gamma, k)))
        got = _as_array(_call(spsa_gains, k, a, c, A, alpha, gamma, show=f"k = {k}"), (2,), "(a_k, c_k)")
        if _close(got, want):
            continue
        if _close(got[0], a / (k + A) ** alpha if k + A > 0 else np.inf):
            raise _Hint("a_k: iterations count from k = 0, so the denominator is (k + 1 + A)^alpha")
        if not _close(got[0], want[0]):
            raise _Hint(f"a_k wrong for k={k}: a_k = a / (k + 1 + A)^alpha")
        raise _Hint(f"c_k wrong for k={k}: c_k = c / (k + 1)^gamma")
    return len(cases)


# -------------------------------------------------------------------------------------------
# 05 the QAS environment
# -------------------------------------------------------------------------------------------


def _random_last_actions(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """``last_action`` after a random legal gate sequence (the environment's bookkeeping)."""
    from .rl.actions import action_table

    table = action_table(n)
    last = np.full(n, -1)
    for _ in range(length):
        a = int(rng.integers(len(table)))
        for q in table[a][1]:
            last[q] = a
    return last


@_checker
def check_action_mask(legal_actions: Callable, seed: int | None = None) -> int:
    """``legal_actions(last_action, n_qubits)`` -> ``n(n+2)`` booleans (the illegal-action rule)."""
    import jax.numpy as jnp

    from .rl.actions import action_arrays, legal_mask

    rng = _rng(seed)
    cases = [(2, np.array([-1, -1])), (2, np.array([0, 0])), (3, np.array([8, 8, -1]))]
    cases += [(n, _random_last_actions(rng, n, int(rng.integers(1, 8)))) for n in (2, 3, 4, 4)]
    for n, last in cases:
        wires = jnp.asarray(action_arrays(n)["wires"])
        want = np.asarray(legal_mask(jnp.asarray(last), jnp.ones(n * (n + 2), bool), wires))
        got = _call(legal_actions, last.copy(), n, show=f"last_action = {last.tolist()}")
        got = _as_array(got, (n * (n + 2),), f"the mask for last_action = {last.tolist()}").astype(bool)
        if np.array_equal(got, want):
            continue
        bad = int(np.flatnonzero(got != want)[0])
        from .rl.actions import action_table

        gate, w = action_table(n)[bad]
        verdict = "legal" if want[bad] else "illegal"
        raise _Hint(
            f"with last_action = {last.tolist()} ({n} qubits) action {bad} = {gate}{w} is {verdict}. Rule: an action "
            "is illegal iff it equals the most recent action on EVERY qubit it acts on"
        )
    return len(cases)


@_checker
def check_asap_layers(asap_layers: Callable, seed: int | None = None) -> int:
    """``asap_layers(ops, n_qubits)`` -> the ASAP layer of every gate (``ops``: ``[(gate, wires), ...]``)."""
    import jax.numpy as jnp

    from .rl.actions import action_table, place

    rng = _rng(seed)
    cases = [(2, [("ry", (0,)), ("cx", (0, 1)), ("rx", (1,))]), (3, [("rx", (0,)), ("rx", (2,)), ("cx", (0, 2))])]
    for n in (2, 3, 4, 4):
        table = action_table(n)
        cases.append((n, [table[int(i)] for i in rng.integers(len(table), size=int(rng.integers(3, 12)))]))
    for n, ops in cases:
        moments, want = jnp.zeros(n, jnp.int32), []
        for gate, wires in ops:
            w = jnp.asarray(wires if len(wires) == 2 else (wires[0], wires[0]))
            layer, moments = place(moments, w, gate == "cx")
            want.append(int(layer))
        got = _as_array(_call(asap_layers, list(ops), n, show=f"ops = {ops}"), (len(ops),), "the list of layers")
        if np.array_equal(np.rint(got), want):
            continue
        if np.array_equal(np.rint(got), np.asarray(want) + 1):
            raise _Hint("layers count from 0: the first gate on an empty wire goes to layer 0")
        raise _Hint(
            f"for ops = {ops} the layers are {want}: a rotation on q goes to moments[q], a CNOT(c, t) to "
            "max(moments[c], moments[t]); then every wire it touches moves to layer + 1"
        )
    return len(cases)


# -------------------------------------------------------------------------------------------
# 06 the double-DQN agent
# -------------------------------------------------------------------------------------------


_N_STEP_OBS = 16  # one-hot time stamps identify the transitions; episodes up to 16 steps


def _kit_n_step(rewards: np.ndarray, gamma: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-step returns and discounts of a terminal episode, from the replay's ``nstep_push``."""
    import jax
    import jax.numpy as jnp

    from ._x64 import enable_x64
    from .rl.replay import nstep_init, nstep_push

    T = len(rewards)
    returns, discounts = np.full(T, np.nan), np.full(T, np.nan)
    push = jax.jit(nstep_push)
    with enable_x64():
        queue = nstep_init(n, _N_STEP_OBS)
        queue = queue._replace(reward=queue.reward.astype(jnp.float64))
        eye = jnp.eye(_N_STEP_OBS)
        for t, r in enumerate(rewards):
            obs, nxt = eye[t], eye[min(t + 1, T - 1)]
            queue, items, valid = push(queue, obs, t, float(r), nxt, jnp.ones(1, bool), t == T - 1, False, gamma)
            for j in np.flatnonzero(np.asarray(valid)):
                s = int(np.argmax(np.asarray(items.obs[j])))
                returns[s], discounts[s] = float(items.reward[j]), float(items.discount[j])
    return returns, discounts


@_checker
def check_n_step_returns(n_step_returns: Callable, seed: int | None = None) -> int:
    """``n_step_returns(rewards, gamma, n)`` -> ``G_t = sum_{i<k} gamma^i r_{t+i}``, ``k = min(n, T - t)``."""
    rng = _rng(seed)
    cases = [([1.0, 2.0, 3.0], 0.5, 2), ([0.0, 0.0, 5.0], 0.9, 5)]
    for _ in range(4):
        T = int(rng.integers(1, _N_STEP_OBS))
        rewards = np.round(rng.uniform(-1, 1, T), 3).tolist()
        cases.append((rewards, float(rng.uniform(0.5, 1.0)), int(rng.integers(1, 6))))
    for rewards, gamma, n in cases:
        want, _ = _kit_n_step(np.asarray(rewards), gamma, n)
        got = _call(n_step_returns, list(rewards), gamma, n, show=f"rewards={rewards}, gamma={gamma:.3g}, n={n}")
        got = _as_array(got, (len(rewards),), "the returns")
        if _close(got, want, rtol=1e-5, atol=1e-6):
            continue
        raise _Hint(
            f"for rewards={rewards}, gamma={gamma:.3g}, n={n} expected {np.round(want, 4).tolist()}: "
            "G_t sums at most n rewards, gamma^i r_{t+i} for i = 0 .. k-1, and stops at the episode end"
        )
    return len(cases)


@_checker
def check_ddqn_target(ddqn_target: Callable, seed: int | None = None) -> int:
    """``ddqn_target(q_next_online, q_next_target, next_mask, reward, discount)`` -> the double-DQN target."""
    import jax.numpy as jnp

    from .rl.dqn import ddqn_target as kit_target

    rng = _rng(seed)
    n_cases = 0
    for A in (3, 8, 8, 15, 24):
        q_on, q_tg = rng.normal(size=A), rng.normal(size=A)
        mask = rng.random(A) < 0.6
        mask[int(rng.integers(A))] = True
        reward, discount = float(rng.normal()), float(rng.choice([0.0, rng.uniform(0.5, 1)]))
        want = float(kit_target(jnp.asarray(q_on), jnp.asarray(q_tg), jnp.asarray(mask), reward, discount))
        got = _call(ddqn_target, q_on.copy(), q_tg.copy(), mask.copy(), reward, discount, show=f"{A} actions")
        got = _as_float(got, "the target")
        n_cases += 1
        if np.isclose(got, want, rtol=1e-5, atol=1e-6):
            continue
        legal = np.where(mask, q_on, -np.inf)
        if np.isclose(got, reward + discount * q_tg[np.argmax(q_on)]):
            raise _Hint("the argmax must run over LEGAL next actions only (use next_mask)")
        if np.isclose(got, reward + discount * np.max(np.where(mask, q_tg, -np.inf))):
            raise _Hint("that is the plain DQN target: pick a* with the ONLINE net, evaluate it with the TARGET net")
        if np.isclose(got, reward + discount * np.max(legal)):
            raise _Hint("evaluate a* with the TARGET network's Q-values, not the online ones")
        raise _Hint("y = reward + discount * q_next_target[a*], a* = argmax over legal a of q_next_online[a]")
    return n_cases


#: Exercise notebook -> the checkers it uses.
EXERCISES: dict[str, list[Callable[..., bool]]] = {
    "ex01_ptm": [check_ptm, check_pauli_vector, check_pauli_energy],
    "ex02_noise_channels": [check_depolarizing_ptm, check_amplitude_damping_ptm],
    "ex03_hamiltonians": [check_ground_energy, check_hf_energy],
    "ex04_spsa": [check_spsa_gradient, check_spsa_gains],
    "ex05_environment": [check_action_mask, check_asap_layers],
    "ex06_dqn": [check_n_step_returns, check_ddqn_target],
}
