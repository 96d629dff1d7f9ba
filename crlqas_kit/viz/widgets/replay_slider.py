"""The :class:`ReplaySlider` panel: step through a saved run episode by episode."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..search_curves import error_curve
from ._base import Panel, circuit_figure, png


class ReplaySlider(Panel):
    """Step through a saved run (a run directory or a :class:`Results`): the slider picks an
    episode of the chosen seed and shows its statistics, its place on the error plot, and its
    circuit when the run stored it (the best circuits are kept; the "best circuits" menu jumps
    to them). ``select(episode)`` does the same from code and returns the episode record."""

    def __init__(self, run_dir_or_results, seed: int | None = None):
        from ...results import load_run

        r = run_dir_or_results
        self.results = load_run(r) if isinstance(r, str | Path) else r
        seeds = list(self.results.seeds) or sorted({e["seed"] for e in self.results.episodes}) or [0]
        self.seed = W.Dropdown(options=seeds, value=seeds[0] if seed is None else seed, description="seed")
        self.slider = W.IntSlider(1, min=1, max=1, description="episode", continuous_update=False)
        self.best_menu = W.Dropdown(description="best circuits")
        self.stats, self.curve, self.drawing = W.HTML(), W.Image(format="png"), W.Image(format="png")
        self.current: dict | None = None
        self.slider.observe(lambda ch: self.select(ch["new"]), names="value")
        self.best_menu.observe(lambda ch: ch["new"] and self.select(ch["new"]), names="value")
        self.seed.observe(lambda _ch: self._configure(), names="value")
        self.widget = W.VBox([W.HBox([self.seed, self.best_menu]), self.slider, self.stats, self.curve, self.drawing])
        self._configure()

    def episodes(self) -> list[dict]:
        return [e for e in self.results.episodes if e.get("seed", 0) == self.seed.value]

    def circuit_for(self, episode: int) -> dict | None:
        """The stored circuit record of ``episode`` (this seed), if the run kept it."""
        entries = self.results.best.get(self.seed.value, [])
        return next((e["circuit"] for e in entries if e["episode"] == episode), None)

    def _configure(self) -> None:
        n = len(self.episodes())
        self.slider.max, self.slider.disabled = max(n, 1), n == 0
        entries = sorted(self.results.best.get(self.seed.value, []), key=lambda e: e["episode"])
        self.best_menu.options = [("—", 0)] + [(f"{e['episode']}: {e['error']:.1e} Ha", e["episode"]) for e in entries]
        self.select(n if n else 1)

    def select(self, episode: int) -> dict | None:
        """Show ``episode`` (1-based, this seed); returns its record (None for an empty run)."""
        eps = self.episodes()
        if not eps:
            self.stats.value, self.current = "this run has no episodes", None
            return None
        episode = int(np.clip(episode, 1, len(eps)))
        if self.slider.value != episode:
            self.slider.value = episode  # re-enters select through the observer
            return self.current
        self.current = rec = eps[episode - 1]
        keys = ("return", "error", "energy", "gates", "cnots", "depth", "threshold", "eps", "success")
        show = {
            k: ("yes" if rec[k] else "no") if isinstance(rec[k], bool) else f"{rec[k]:.4g}" for k in keys if k in rec
        }
        cells = "".join(f"<td>{k}</td><td><b>{v}</b></td>" for k, v in show.items())
        self.stats.value = f"<table><tr>{cells}</tr></table>"
        self.curve.value = png(self.figure())
        circuit = self.circuit_for(episode)
        self.drawing.value = png(circuit_figure(circuit, f"episode {episode}")) if circuit else b""
        if not circuit:
            self.stats.value += "<i>circuit not stored for this episode (the run keeps its best circuits)</i>"
        return rec

    def figure(self) -> Figure:
        fig = Figure(figsize=(7, 3), layout="constrained")
        ax = fig.subplots()
        eps = self.episodes()
        if eps:
            error_curve(eps, ax=ax)
            for e in self.results.best.get(self.seed.value, []):
                ax.plot([e["episode"]], [max(e["error"], 1e-12)], "*", color="C3", ms=8, gid="best")
            if self.current is not None:
                ax.axvline(self.current["episode"], color="C1", lw=1.5, gid="cursor")
        return fig
