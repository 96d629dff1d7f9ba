"""The checker harness.

:func:`checker` turns a checking routine into a deterministic, never-raising checker that returns a
:class:`Score`; :class:`Hint` is a wrong answer's message; the ``as_*`` helpers read the student's
answer (with a tolerance that follows its dtype, :func:`tolerance`) and the ``random_*`` ones make the
extra random inputs.

Rules every checker follows:

* **Deterministic.** ``seed=None`` means :data:`DEFAULT_SEED`, so re-running a cell never turns a
  wrong answer into a pass. A student may pass ``seed=`` for other random inputs.
* **Fixed adversarial cases.** Every wrong answer a checker's docstring lists (section
  ``Wrong answers:``) is caught by a fixed input that runs first, whatever the seed; the random
  inputs come on top. ``tests/test_exercises.py`` checks each listed wrong answer on many seeds.
* **dtype-aware.** A float32 (or complex64) answer is compared at float32 precision, a float64 one
  at float64 precision (:func:`tolerance`); the imaginary-part check uses the same scale.
* **A score, never a traceback.** A missing implementation, an exception in the student's code or a
  malformed answer all give 0 points and a hint.

Under nbgrader (``NBGRADER_EXECUTION`` set, as ``nbgrader autograde`` / ``validate`` do) a score
displays as its number of points (nbgrader's partial credit) and a score of 0 raises
``AssertionError`` (nbgrader gives 0 to a test cell that fails; a cell showing 0 would get full
marks).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

#: The seed a checker uses when none is given.
DEFAULT_SEED = 20240214
#: Mime type carrying a score in a notebook output (read by ``python -m crlqas_kit.exercises grade``).
SCORE_MIME = "application/vnd.crlqas.score+json"

KINDS = ("code", "predict", "explain")


class Hint(Exception):
    """A wrong answer: the message is the hint shown to the student."""


@dataclasses.dataclass(frozen=True)
class Score:
    """The result of a checker: ``points`` out of ``max_points`` and the messages behind them.

    Truthy only with full marks; prints as one verdict line plus the messages.
    """

    checker: str
    points: float
    max_points: float
    messages: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.max_points > 0 and self.points >= self.max_points

    def __str__(self) -> str:
        mark = "✔" if self else "✘"
        head = f"{mark} {self.checker}: {self.points:g}/{self.max_points:g} points"
        return head + "".join(f"\n  {m}" for m in self.messages)

    def __repr__(self) -> str:
        if _under_nbgrader():
            return f"{self.points:g}"
        return str(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": repr(self), SCORE_MIME: self.as_dict()}

    def as_dict(self) -> dict:
        return {
            "checker": self.checker,
            "points": self.points,
            "max_points": self.max_points,
            "messages": list(self.messages),
        }


@dataclasses.dataclass(frozen=True)
class Marks:
    """What a checking routine returns when it gives partial credit: points and messages."""

    points: float
    messages: tuple[str, ...] = ()


def _under_nbgrader() -> bool:
    return os.environ.get("NBGRADER_EXECUTION", "").strip().lower() in {"autograde", "validate"}


_WRONG = re.compile(r"^\s*\*\s+``([^`]+)``", re.M)


def wrong_answers(doc: str | None) -> tuple[str, ...]:
    """The names listed under ``Wrong answers:`` in a checker's docstring (``* ``name``: ...``)."""
    if not doc or "Wrong answers:" not in doc:
        return ()
    section = doc.split("Wrong answers:", 1)[1]
    return tuple(_WRONG.findall(section))


def checker(points: float = 1, kind: str = "code", answer: str = "function") -> Callable:
    """Decorator: a checking routine ``func(answer, rng, **kwargs)`` becomes a checker.

    The routine returns the number of inputs it tried (full marks), a :class:`Marks` (partial
    credit) or raises :class:`Hint` (0 points). ``kind`` says what the exercise asks for: ``"code"``,
    ``"predict"`` (derive or predict before coding) or ``"explain"``; ``answer`` is ``"function"``
    (the student passes a function) or ``"value"`` (a number, a dict, a choice, ...).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if answer not in ("function", "value"):
        raise ValueError(f"answer must be 'function' or 'value', got {answer!r}")

    def decorate(func: Callable) -> Callable[..., Score]:
        name = func.__name__

        @functools.wraps(func)
        def wrapper(student: Any = None, *args: Any, seed: int | None = None, **kwargs: Any) -> Score:
            rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
            try:
                if answer == "function" and not callable(student):
                    raise Hint(f"pass your function itself, e.g. {name}(my_function), not a {type(student).__name__}")
                if answer == "value" and student is Ellipsis:
                    raise Hint("not answered yet: replace the `...` with your answer")
                result = func(student, rng, *args, **kwargs)
            except Hint as hint:
                score = Score(name, 0, points, (str(hint),))
            except Exception as err:  # the checker must never show a traceback to a student
                score = Score(name, 0, points, (f"could not check your answer ({type(err).__name__}: {err})",))
            else:
                if isinstance(result, Marks):
                    score = Score(name, min(float(result.points), points), points, tuple(result.messages))
                else:
                    score = Score(name, points, points, (f"correct on {result} inputs",))
            if _under_nbgrader() and score.points <= 0:
                raise AssertionError(str(score))
            return score

        wrapper.points = points
        wrapper.kind = kind
        wrapper.answer = answer
        wrapper.wrong_answers = wrong_answers(func.__doc__)
        return wrapper

    return decorate


# -- reading the student's answer -------------------------------------------------------------------


def call(fn: Callable, *args: Any, show: str = "") -> Any:
    """Call the student's function; turn its exceptions into hints."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise Hint("not implemented yet: replace `raise NotImplementedError` with your code") from None
    except Exception as err:
        where = f" for {show}" if show else ""
        raise Hint(f"your function raised {type(err).__name__}: {err}{where}") from None


@dataclasses.dataclass(frozen=True)
class Tol:
    """Relative and absolute tolerance of a comparison."""

    rtol: float
    atol: float


#: float64 answers: the old checkers' tolerance (the kit's own numbers agree to ~1e-12).
FLOAT64_TOL = Tol(1e-6, 1e-8)


def tolerance(value: Any) -> Tol:
    """The tolerance for an answer, from its dtype: float64 answers at :data:`FLOAT64_TOL`, lower
    precisions at ``64 * eps`` of their dtype (float32: ~7.6e-6), so a correct PTM computed in
    float32 passes and an answer wrong by more than rounding does not."""
    try:
        dtype = np.asarray(value).dtype
    except Exception:
        return FLOAT64_TOL
    if dtype.kind == "c":
        dtype = np.finfo(dtype).dtype
    if dtype.kind != "f" or np.finfo(dtype).eps <= np.finfo(np.float64).eps:
        return FLOAT64_TOL
    eps = float(np.finfo(dtype).eps)
    return Tol(64 * eps, 64 * eps)


def as_array(value: Any, shape: tuple[int, ...] | None, what: str, complex_ok: bool = False) -> tuple[np.ndarray, Tol]:
    """The student's answer as a float64 (or complex128) array of ``shape`` and its tolerance."""
    if value is None:
        raise Hint(f"your function returned None instead of {what}: is a `return` missing?")
    if value is Ellipsis:
        raise Hint(f"not answered yet: replace the `...` with {what}")
    tol = tolerance(value)
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
    scale = max(1.0, float(np.abs(arr).max(initial=0.0)))
    if not complex_ok and np.abs(arr.imag).max(initial=0.0) > tol.atol * scale:
        raise Hint(f"{what} should be real; yours has imaginary parts (take .real of a trace that is real)")
    return (arr if complex_ok else arr.real), tol


def as_float(value: Any, what: str) -> tuple[float, Tol]:
    """One real number and its tolerance."""
    if isinstance(value, bool | np.bool_):
        raise Hint(f"{what} should be a number, got {value!r}")
    arr, tol = as_array(value, None, what)
    if arr.size != 1:
        raise Hint(f"{what} should be one number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0]), tol


def close(a: Any, b: Any, tol: Tol = FLOAT64_TOL) -> bool:
    """``a`` and ``b`` agree within ``tol`` (shapes must match)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol.rtol, atol=tol.atol))


def choice(value: Any, options: str, what: str = "your answer") -> str:
    """A multiple-choice answer: one letter out of ``options`` (case-insensitive)."""
    if value is Ellipsis or value is None:
        raise Hint('not answered yet: replace the `...` with a letter, e.g. "b"')
    if not isinstance(value, str) or value.strip().lower() not in options:
        raise Hint(f"{what} should be one of the letters {', '.join(repr(o) for o in options)}, got {value!r}")
    return value.strip().lower()


# -- random inputs ----------------------------------------------------------------------------------


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
