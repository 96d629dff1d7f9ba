"""The :class:`SPSAPlayground` panel: SPSA gains and budget -> optimiser traces."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from matplotlib.figure import Figure

from ..plots import spsa_trace
from ._base import Panel, as_problem, busy, displayable, png


class SPSAPlayground(Panel):
    """Tune SPSA by hand: gains ``a``, ``c``, exponents ``α``, ``γ``, evaluation budget and method
    -> Run optimises the circuit's angles (:func:`crlqas_kit.optim.optimize`) and overlays the
    trace (error ``|E - E0|``, log scale) on the previous runs (the last four are kept; Clear
    empties the list). ``run()`` does the same from code and returns the ``VQEResult``.
    The gains and the seed are traced values of the compiled loop: moving a slider reruns it
    without compiling; a new budget or method compiles once (a second or two). While it runs
    the Run button is disabled and the label says so."""

    def __init__(self, problem, circuit, noise=None, *, method: str = "spsa", budget: int = 200, seed: int = 0):
        from ..draw import as_circuit

        self.problem, self.circuit, self.noise = as_problem(problem), as_circuit(circuit), noise
        self.method = W.Dropdown(options=["spsa", "adam-spsa"], value=method, description="method")
        self.a = W.FloatLogSlider(0.2, base=10, min=-3, max=1, step=0.05, description="a")
        self.c = W.FloatLogSlider(0.1, base=10, min=-3, max=0, step=0.05, description="c")
        self.alpha = W.FloatSlider(0.602, min=0.0, max=1.5, step=0.01, description="α")
        self.gamma = W.FloatSlider(0.101, min=0.0, max=0.5, step=0.001, description="γ")
        self.budget = W.IntSlider(budget, min=11, max=2001, step=10, description="budget")
        self.seed = W.IntText(seed, description="seed")
        self.run_button = W.Button(description="run", button_style="success")
        self.clear_button = W.Button(description="clear")
        self.run_button.on_click(lambda _b: self.run())
        self.clear_button.on_click(lambda _b: self.clear())
        self.label, self.image = W.HTML(), W.Image(format="png")
        self.runs: list[tuple[str, Any]] = []
        controls = [self.method, self.a, self.c, self.alpha, self.gamma, self.budget, self.seed]
        self.widget = W.VBox(
            [W.HBox([W.VBox(controls), W.VBox([self.run_button, self.clear_button, self.label])]), self.image]
        )

    def config(self):
        """The :class:`SPSAConfig` of the current settings."""
        from ...optim.spsa_config import SPSAConfig

        gains = {k: float(getattr(self, k).value) for k in ("a", "c", "alpha", "gamma")}
        return SPSAConfig(method=self.method.value, budget=int(self.budget.value), **gains)

    def run(self):
        """Optimise with the current settings; returns the ``VQEResult`` (None if the settings are invalid)."""
        from ...optim.vqe import optimize

        try:
            cfg = self.config()
        except ValueError as err:
            self.label.value = f"<span style='color:#b00'>{err}</span>"
            return None
        seed = int(self.seed.value)
        with busy(self.run_button, self.label, "optimising…"):
            res = optimize(
                self.problem, self.circuit, self.noise, method=cfg.method, budget=cfg.budget, key=seed, config=cfg
            )
        name = f"{cfg.method} a={cfg.a:.3g} c={cfg.c:.3g} α={cfg.alpha:.3g} γ={cfg.gamma:.3g}"
        self.runs = [*self.runs, (name, res)][-4:]
        self.label.value = (
            f"{name}<br>E = {res.exact_energy:.6f} Ha, |E − E0| = {res.error:.2e} Ha<br>"
            f"{res.evaluations} evaluations, {res.seconds:.1f} s"
        )
        self.image.value = png(self.figure())
        return res

    def clear(self) -> None:
        self.runs, self.label.value, self.image.value = [], "", b""

    def figure(self) -> Figure:
        fig = Figure(figsize=(6.5, 3.5), layout="constrained")
        spsa_trace(dict(self.runs), ax=fig.subplots(), e0=self.problem, error=True)
        return fig

    def static(self) -> Figure:
        if not self.runs:
            self.run()
        return displayable(self.figure())
