"""The checker harness: :func:`checker` turns a checking routine into a printing, never-raising
checker; :class:`Hint` is a wrong answer's message; the ``as_*`` helpers read the student's answer
and the ``random_*`` ones make the random inputs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np


class Hint(Exception):
    """A wrong answer: the message is the hint shown to the student."""


def checker(func: Callable[..., int]) -> Callable[..., bool]:
    """Turn a checking routine (returns the number of inputs tried) into a printing, never-raising one."""

    @functools.wraps(func)
    def wrapper(answer: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            if not callable(answer):
                raise Hint(
                    f"pass your function itself, e.g. {func.__name__}(my_function), not a {type(answer).__name__}"
                )
            n = func(answer, *args, **kwargs)
        except Hint as hint:
            print(f"✘ {func.__name__}: {hint}")
            return False
        except Exception as err:  # the checker must never show a traceback to a student
            print(f"✘ {func.__name__}: could not check your answer ({type(err).__name__}: {err})")
            return False
        print(f"✔ {func.__name__}: correct on {n} inputs.")
        return True

    return wrapper


def call(fn: Callable, *args: Any, show: str = "") -> Any:
    """Call the student's function; turn its exceptions into hints."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise Hint("not implemented yet: replace `raise NotImplementedError` with your code") from None
    except Exception as err:
        where = f" for {show}" if show else ""
        raise Hint(f"your function raised {type(err).__name__}: {err}{where}") from None


def as_array(value: Any, shape: tuple[int, ...] | None, what: str, complex_ok: bool = False) -> np.ndarray:
    """The student's answer as a float array of ``shape`` (a hint otherwise)."""
    if value is None:
        raise Hint(f"your function returned None instead of {what}: is a `return` missing?")
    try:
        arr = np.asarray(value, dtype=complex)
    except (TypeError, ValueError):
        raise Hint(f"{what} should be an array of numbers, got {type(value).__name__}: {value!r:.80}") from None
    if arr.dtype == object:
        raise Hint(f"{what} should be an array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise Hint(f"{what} should have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Hint(f"{what} contains NaN or inf")
    if not complex_ok and np.abs(arr.imag).max(initial=0.0) > 1e-8:
        raise Hint(f"{what} should be real; yours has imaginary parts (take .real of a trace that is real)")
    return arr if complex_ok else arr.real


def as_float(value: Any, what: str) -> float:
    arr = as_array(value, None, what)
    if arr.size != 1:
        raise Hint(f"{what} should be one number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0])


def make_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def random_unitary(rng: np.random.Generator, dim: int) -> np.ndarray:
    z = (rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_pauli_sum(rng: np.random.Generator, n_qubits: int, n_terms: int = 6):
    from ..sim.paulis import PauliSum

    strings = {"I" * n_qubits}
    while len(strings) < min(n_terms, 4**n_qubits):
        strings.add("".join(rng.choice(list("IXYZ"), size=n_qubits)))
    return PauliSum.from_list([(s, float(rng.normal())) for s in sorted(strings)])


def random_circuit(rng: np.random.Generator, n_qubits: int, n_gates: int = 6):
    from ..sim.circuit import Circuit

    c = Circuit(n_qubits, capacity=16)
    for _ in range(n_gates):
        if n_qubits > 1 and rng.random() < 0.3:
            a, b = rng.choice(n_qubits, size=2, replace=False)
            c = c.cx(int(a), int(b))
        else:
            gate, q = str(rng.choice(["rx", "ry", "rz"])), int(rng.integers(n_qubits))
            c = c.add(gate, q, float(rng.uniform(-np.pi, np.pi)))
    return c


def close(a, b, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))
