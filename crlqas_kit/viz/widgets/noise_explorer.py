"""The :class:`NoiseExplorer` panel: noise sliders -> the energy of a circuit and the channel's PTM."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..plots import bloch_shrink, ptm_heatmap
from ._base import Panel, png


class NoiseExplorer(Panel):
    """Move noise sliders and watch the energy of a fixed circuit and the per-gate channel.

    The channel after every gate is depolarizing ``p`` followed by thermal relaxation
    (``T1``, ``T2`` in µs, gate time in ns; ``T2`` is capped at ``2 T1``), applied to each wire
    a gate touches; readout flips ``p10 = p(1|0)``, ``p01 = p(0|1)`` act on the measurement. The
    label gives the noisy and noiseless energies (and the error for a :class:`Problem`); the
    figure shows the channel's PTM and what it does to the Bloch ball (x-z plane).
    """

    SLIDERS = {  # name: (description, min, max, step, default)
        "p": ("depol. p", 0.0, 0.2, 0.001, 0.01),
        "t1": ("T1 (µs)", 1.0, 500.0, 1.0, 100.0),
        "t2": ("T2 (µs)", 1.0, 1000.0, 1.0, 100.0),
        "gate_time": ("gate (ns)", 0.0, 5000.0, 10.0, 0.0),
        "p10": ("readout p10", 0.0, 0.2, 0.001, 0.0),
        "p01": ("readout p01", 0.0, 0.2, 0.001, 0.0),
    }

    def __init__(self, circuit, hamiltonian, **values: float):
        from ...problems import Problem
        from ...sim.simulator import expectation
        from ..draw import as_circuit

        self.problem = hamiltonian if isinstance(hamiltonian, Problem) else None
        self.hamiltonian = self.problem.hamiltonian if self.problem else hamiltonian
        self.circuit = as_circuit(circuit)
        unknown = set(values) - set(self.SLIDERS)
        if unknown:
            raise ValueError(f"unknown NoiseExplorer values {sorted(unknown)}; known: {list(self.SLIDERS)}")
        self.sliders = {
            k: W.FloatSlider(values.get(k, d), min=lo, max=hi, step=st, description=desc, continuous_update=False)
            for k, (desc, lo, hi, st, d) in self.SLIDERS.items()
        }
        for k in ("p", "p10", "p01"):
            self.sliders[k].readout_format = ".3f"
        for s in self.sliders.values():
            s.observe(lambda _change: self.update(), names="value")
        self.label, self.image = W.HTML(), W.Image(format="png")
        self._expectation = expectation
        self.noiseless = expectation(self.circuit, self.hamiltonian, self._model(np.eye(4), 0.0, 0.0))
        self.widget = W.VBox([W.HBox([W.VBox(list(self.sliders.values())), self.label]), self.image])
        self.update()

    def values(self) -> dict[str, float]:
        return {k: float(s.value) for k, s in self.sliders.items()}

    def channel(self) -> np.ndarray:
        """The 4 x 4 PTM applied after each gate on each of its wires."""
        from ...sim.noise import depolarizing_1q, thermal_relaxation

        v = self.values()
        t1, t2 = v["t1"] * 1e-6, min(v["t2"], 2 * v["t1"]) * 1e-6
        return thermal_relaxation(t1, t2, v["gate_time"] * 1e-9) @ depolarizing_1q(v["p"])

    def _model(self, one: np.ndarray, p10: float, p01: float):
        from ...sim.noise import NoiseModel

        # readout always present (zeros = exact) so every setting reuses one compiled simulator
        return NoiseModel(one, one, np.kron(one, one), np.array([p10, p01]), name="noise-explorer")

    def noise_model(self):
        """The :class:`NoiseModel` the sliders describe."""
        v = self.values()
        return self._model(self.channel(), v["p10"], v["p01"])

    def energy(self) -> float:
        return self._expectation(self.circuit, self.hamiltonian, self.noise_model())

    def update(self) -> float:
        """Recompute the energy and the figure; returns the noisy energy."""
        e = self.energy()
        v = self.values()
        lines = [
            f"noisy E = {e:.6f} Ha",
            f"noiseless E = {self.noiseless:.6f} Ha",
            f"shift = {e - self.noiseless:+.2e} Ha",
        ]
        if self.problem is not None:
            lines.append(f"|E − E0| = {self.problem.error(e):.2e} Ha (E0 = {self.problem.e0:.6f})")
        if v["t2"] > 2 * v["t1"]:
            lines.append(f"T2 capped at 2·T1 = {2 * v['t1']:g} µs")
        self.last_energy = e
        self.label.value = "<br>".join(lines)
        self.image.value = png(self.figure())
        return e

    def figure(self) -> Figure:
        fig = Figure(figsize=(7.2, 3.2), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        R = self.channel()
        ptm_heatmap(R, ax=ax1, title="PTM of the per-gate channel")
        bloch_shrink(R, ax=ax2, title=f"E = {self.last_energy:.5f} Ha\n(noiseless {self.noiseless:.5f} Ha)")
        return fig
