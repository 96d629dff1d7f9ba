"""The :class:`CircuitBuilder` panel: grow a circuit by hand under the environment's rules."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from matplotlib.figure import Figure

from ._base import Panel, as_problem, circuit_figure, png


class CircuitBuilder(Panel):
    """Grow a circuit gate by gate under the environment's rules (:class:`InteractiveEnv`).

    One button per action of the action table (RX/RY/RZ per qubit, CNOT per ordered pair). Each
    click steps the environment: the gate is appended, all angles are re-optimised and the label
    shows the energy, the true error ``|E - E0|`` and whether the episode ended; illegal actions
    (an immediate repeat, a CNOT outside the coupling map, anything after the episode ended) are
    disabled, and every button while a step runs. ``apply("ry(0)")`` / ``apply(3)`` and
    ``reset()`` do the same from code; ``env_options`` go to
    :func:`crlqas_kit.rl.env.make_params` (e.g. ``spsa=SPSAConfig(...)``).
    """

    def __init__(self, problem, noise=None, *, seed: int = 0, angle_style: str = "decimal", **env_options: Any):
        from ...rl.interactive import InteractiveEnv

        self.problem = as_problem(problem)
        self.env = InteractiveEnv(self.problem, noise, **env_options)
        self.seed, self.angle_style, self.message = seed, angle_style, ""
        self.buttons: dict[int, W.Button] = {}
        for a, (gate, wires) in enumerate(self.env.table):
            b = W.Button(description=f"{gate.upper()}({','.join(map(str, wires))})", layout=W.Layout(width="84px"))
            b.on_click(lambda _b, a=a: self.apply(a))
            self.buttons[a] = b
        self.reset_button = W.Button(description="reset", icon="refresh", button_style="warning")
        self.reset_button.on_click(lambda _b: self.reset())
        self.status, self.drawing = W.HTML(), W.Image(format="png")
        n = self.problem.n_qubits
        rot_rows = [W.HBox([b for a, b in self.buttons.items() if self.env.table[a][1] == (q,)]) for q in range(n)]
        cnots = W.HBox([b for a, b in self.buttons.items() if self.env.table[a][0] == "cx"])
        cnots.layout.flex_flow = "row wrap"
        self.widget = W.VBox(
            [W.HTML("<b>rotations</b>"), *rot_rows, W.HTML("<b>CNOTs</b>"), cnots, self.reset_button]
            + [self.status, self.drawing]
        )
        self.reset(seed)

    @property
    def circuit(self):
        return self.env.circuit

    def legal(self) -> list[int]:
        return self.env.legal_actions()

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode (empty circuit)."""
        self.env.reset(self.seed if seed is None else seed)
        self.message = ""
        self.refresh()

    def apply(self, action: int | str) -> dict | None:
        """Step with ``action`` (index or ``"cx(0,1)"``); returns the step info, or None (and a
        message in the label) when the action is refused."""
        # busy while the angles are re-optimised (the kernel is blocked): no button takes a click
        for b in (*self.buttons.values(), self.reset_button):
            b.disabled = True
        self.status.value = "<i>optimising the angles…</i>"
        try:
            *_, info = self.env.step(action)
        except (ValueError, TypeError) as err:
            self.message, info = str(err), None
        else:
            self.message = ""
        finally:
            self.reset_button.disabled = False
            self.refresh()
        return info

    def text(self) -> str:
        """The status line as plain text."""
        env, last = self.env, (self.env.history[-1] if self.env.history else {})
        parts = [f"{len(env.history)} gates", f"E = {env.energy:.6f} Ha", f"|E - E0| = {env.error:.2e} Ha"]
        if env.error < self.problem.chemical_accuracy:
            parts.append("chemically accurate")
        if bool(env.state.done):
            parts.append("episode over (" + ("success" if last.get("success") else "halted/failed") + "): reset")
        return " · ".join(parts) + (f" · {self.message}" if self.message else "")

    def refresh(self) -> None:
        legal = set(self.legal())
        for a, b in self.buttons.items():
            b.disabled = a not in legal
        self.status.value = f"<code>{self.text()}</code>"
        self.drawing.value = png(self.figure())

    def figure(self) -> Figure:
        title = f"E = {self.env.energy:.5f} Ha, |E − E0| = {self.env.error:.1e} Ha"
        return circuit_figure(self.circuit, title, highlight_last=True, angle_style=self.angle_style)
