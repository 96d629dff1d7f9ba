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
