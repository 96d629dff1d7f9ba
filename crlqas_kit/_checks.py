"""Validators shared across the package: one wording per kind of mistake."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path


class UsageError(Exception):
    """A user mistake, reported in one line with exit code 2."""


#: PRNG seeds are ``jax.random.key(seed)``: non-negative integers below this.
MAX_SEED = 2**32


def check_seed(seed: object, what: str = "seed") -> int:
    """``seed`` as an int in ``[0, 2^32)``; otherwise a ValueError naming ``what``."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"{what} must be an integer in [0, 2^32), got {seed!r}")
    return int(seed)


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8 encoded) to a fresh temporary file beside ``path`` and rename
    it over ``path``: a crash leaves the old file or the new one, never half of one. Never writes
    through a link: one left at the temporary name is removed first, and the rename replaces a
    link at ``path`` instead of following it."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # removes a link itself, not its target
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def check_int(value: object, what: str, *, minimum: int = 1, unit: str = "") -> int:
    """``value`` as an int >= ``minimum`` (a bool is not an integer); otherwise a ValueError
    "``what`` must be a positive integer (``unit``), got ..." (or "an integer >= minimum")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{what} must be {kind}{_unit(unit)}, got {value!r}")
    return int(value)


def check_number(value: object, what: str, *, minimum: float = 0.0, strict: bool = True, unit: str = "") -> float:
    """``value`` as a finite float > ``minimum`` (``strict``) or >= it; otherwise a ValueError
    "``what`` must be a positive finite number (``unit``), got ..." (or "a finite number >= minimum")."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if not ok or not (value > minimum if strict else value >= minimum):
        if minimum == 0:
            kind = "a positive finite number" if strict else "a finite number >= 0"
        else:
            kind = f"a finite number {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{what} must be {kind}{_unit(unit)}, got {value!r}")
    return float(value)


def check_probability(value: object, what: str, *, upper_open: bool = False) -> float:
    """``value`` as a float in [0, 1] (``upper_open``: [0, 1)); a non-number is a TypeError, a number
    outside the range (or NaN) a ValueError, both naming ``what``."""
    interval = "[0, 1)" if upper_open else "[0, 1]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:
            value = float(value)  # numpy scalars, 0-d arrays, numeric strings of noise specs
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a real number in {interval}, got {value!r}") from None
    inside = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0  # also rejects NaN
    if not inside:
        raise ValueError(f"{what} must be a probability in {interval}, got {value!r}")
    return float(value)
