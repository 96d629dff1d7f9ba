"""Validators shared across the package: one wording per kind of mistake."""

from __future__ import annotations

import numbers
import os
from pathlib import Path

#: PRNG seeds are ``jax.random.key(seed)``: non-negative integers below this.
MAX_SEED = 2**32


def check_seed(seed: object, what: str = "seed") -> int:
    """``seed`` as an int in ``[0, 2^32)``; otherwise a ValueError naming ``what``."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"{what} must be an integer in [0, 2^32), got {seed!r}")
    return int(seed)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to a temporary name beside ``path`` and rename it over ``path``: a crash
    leaves the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
