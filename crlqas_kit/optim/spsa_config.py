"""The SPSA / Adam-SPSA hyperparameters: :class:`SPSAConfig`, its validation and its accounting.

What a call costs (:attr:`SPSAConfig.evaluations`, :attr:`SPSAConfig.iterations`, per-stage
iterations of a multi-stage run) is derived here from the budget, the variant and the
calibration; the update rules themselves (the ``kit`` and ``published`` variants) and the
compiled loop are in :mod:`crlqas_kit.optim.spsa`, which re-exports :class:`SPSAConfig`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._checks import check_int, check_number, check_probability

METHODS = ("adam-spsa", "spsa")
VARIANTS = ("kit", "published")


@dataclasses.dataclass(frozen=True)
class SPSAConfig:
    """Hyperparameters of SPSA / Adam-SPSA (defaults: Spall's classic exponents).

    ``A=None`` means ``0.1 * iterations`` (``kit`` variant) or ``0`` (``published``). ``budget``
    is the nominal number of objective evaluations; :attr:`evaluations` is what a call really
    spends. ``stages``: per-stage budgets of a multi-stage run (their sum is the budget).
    ``a=None`` calibrates the step gain from the data (Spall's rule, as Qiskit's SPSA does):
    ``calibration`` gradient samples at ``x0`` (2 evaluations each, counted in the budget) set
    ``a = target_step * (A + 1)^alpha / mean|g|`` so the first step moves each angle about
    ``target_step`` radians. Adam-SPSA normalises its step, so ``a`` is directly that size:
    for it ``a=None`` means ``a = target_step * (A + 1)^alpha`` and costs no evaluations.
    """

    method: str = "adam-spsa"
    budget: int = 500
    a: float | None = 0.2
    c: float = 0.1
    A: float | None = None
    alpha: float = 0.602
    gamma: float = 0.101
    beta1: float = 0.9
    beta2: float = 0.999
    lam: float = 0.4
    eps: float = 1e-8
    calibration: int = 5
    target_step: float = 0.1
    variant: str = "kit"
    stages: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown SPSA method {self.method!r}; choose one of {METHODS}")
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown Adam-SPSA variant {self.variant!r}; choose one of {VARIANTS}")
        if self.variant == "published" and self.method != "adam-spsa":
            raise ValueError("variant='published' is an Adam-SPSA variant; use method='adam-spsa'")
        smallest = 4 if self.variant == "kit" else 1
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < smallest:
            raise ValueError(
                f"budget must be an integer >= {smallest} evaluations "
                f"({'x0, 2 per iteration, the last iterate' if smallest == 4 else 'at least one iteration'}),"
                f" got {self.budget!r}"
            )
        stages = tuple(self.stages) if isinstance(self.stages, list | tuple) else self.stages
        if not isinstance(stages, tuple) or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in stages):
            raise ValueError(f"stages must be a tuple of positive per-stage budgets, got {self.stages!r}")
        object.__setattr__(self, "stages", stages)
        if stages and sum(stages) != self.budget:
            raise ValueError(f"the stage budgets {stages} must add up to the budget {self.budget}")
        for name in ("a", "c", "eps", "target_step"):
            value = getattr(self, name)
            if name == "a" and value is None:
                continue
            check_number(value, f"SPSA gain {name}")
        for name in ("alpha", "gamma", "lam"):
            check_number(getattr(self, name), f"SPSA exponent {name}", strict=False)
        if self.A is not None:
            check_number(self.A, "SPSA stability constant A", strict=False)
        for name in ("beta1", "beta2"):
            check_probability(getattr(self, name), f"Adam coefficient {name}", upper_open=True)
        check_int(self.calibration, "calibration", unit="gradient samples")
        if self.budget < self.calibration_evaluations + smallest:
            raise ValueError(f"budget {self.budget} leaves no iterations after {self.calibration} calibration samples")

    @property
    def calibration_evaluations(self) -> int:
        return 2 * self.calibration if self.a is None and self.method == "spsa" else 0

    @property
    def stage_budgets(self) -> tuple[int, ...]:
        return self.stages or (self.budget,)

    @property
    def stage_iterations(self) -> tuple[int, ...]:
        """Iterations per stage: ``ceil(b/2)`` (published) or the stage's share of :attr:`iterations`."""
        if self.variant == "published":
            return tuple(math.ceil(b / 2) for b in self.stage_budgets)
        # kit: x0 and the last iterate cost one evaluation each; the rest goes 2 per iteration,
        # iteration k belonging to the stage whose budget holds its evaluations
        total = (self.budget - 2 - self.calibration_evaluations) // 2
        ends = np.cumsum(self.stage_budgets)
        stage_of = [int(np.searchsorted(ends, 2 * k + 3, side="left")) for k in range(total)]
        return tuple(stage_of.count(s) for s in range(len(self.stage_budgets)))

    @property
    def iterations(self) -> int:
        return sum(self.stage_iterations)

    @property
    def evaluations(self) -> int:
        """Objective evaluations one call really spends (x0 included)."""
        if self.variant == "published":
            return 1 + 3 * self.iterations
        return 2 + 2 * self.iterations + self.calibration_evaluations

    @property
    def stability(self) -> float:
        if self.A is not None:
            return float(self.A)
        return 0.0 if self.variant == "published" else 0.1 * self.iterations

    def replace(self, **changes) -> SPSAConfig:
        return dataclasses.replace(self, **changes)
