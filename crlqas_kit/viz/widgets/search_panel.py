"""The :class:`SearchPanel`: run a CRLQAS search live (background thread, Stop button)."""

from __future__ import annotations

import threading
import time

import ipywidgets as W
from matplotlib.figure import Figure

from ..search_curves import best_entry, error_curve, learning_curve
from ._base import Panel, circuit_figure, displayable, png


class SearchPanel(Panel):
    """Train CRLQAS live. Choose problem, noise spec, preset and episodes; Run starts
    :func:`crlqas_kit.search.search` in a background thread, the progress bar, learning curve and
    error plot update after each compiled chunk, and Stop asks the search to stop after the chunk
    in flight (``should_stop``). When the run ends (or live, if episode events carry a
    ``"circuit"``) the best circuit is drawn; the
    :class:`Results` are in ``panel.results``. ``overrides`` are :class:`SearchConfig` fields
    (e.g. ``chunk_steps=4``); ``listeners`` receive every search event.

    ``out`` (the "save to" box): a run directory written while training, every ``save_every``
    seconds and when the run ends or is stopped (``search(..., out=...)``), so a kernel restart
    loses at most that interval; resume it with ``load_checkpoint``. Empty: nothing is saved."""

    def __init__(
        self,
        problem="H2-2q",
        noise="none",
        preset="fast",
        episodes: int = 50,
        seeds=(0,),
        out: str | None = None,
        save_every: float = 60.0,
        **overrides,
    ):
        from ...problems import list_problems
        from ...sim.noise_spec import known_models

        self.problem = W.Dropdown(options=list_problems(), value=problem, description="problem")
        self.noise = W.Combobox(value=noise, options=list(known_models()), description="noise", ensure_option=False)
        self.preset = W.Dropdown(options=["fast", "paper"], value=preset, description="preset")
        self.episodes = W.BoundedIntText(episodes, min=1, max=100_000, description="episodes")
        self.out = W.Text(value=out or "", description="save to", placeholder="run directory (optional)")
        self.save_every = save_every
        self.run_button = W.Button(description="run", button_style="success", icon="play")
        self.stop_button = W.Button(description="stop", button_style="danger", icon="stop", disabled=True)
        self.run_button.on_click(lambda _b: self.run())
        self.stop_button.on_click(lambda _b: self.stop())
        self.progress = W.IntProgress(0, min=0, max=episodes, description="episodes")
        self.status, self.curve, self.best = W.HTML(), W.Image(format="png"), W.Image(format="png")
        self.seeds, self.overrides, self.listeners = list(seeds), overrides, []
        self.thread: threading.Thread | None = None
        self.results, self.error, self.records, self.min_interval = None, None, [], 1.0
        self._stop, self._done, self._last_draw, self._live_best = threading.Event(), threading.Event(), 0.0, None
        controls = W.HBox([W.VBox([self.problem, self.noise]), W.VBox([self.preset, self.episodes, self.out])])
        buttons = W.HBox([self.run_button, self.stop_button, self.progress])
        self.widget = W.VBox([controls, buttons, self.status, self.curve, self.best])

    def config(self):
        """The :class:`SearchConfig` the controls describe."""
        from ...problems import load_problem
        from ...search_config import preset

        n = load_problem(self.problem.value).n_qubits
        extra = {"noise": self.noise.value.strip() or "none", "episodes": int(self.episodes.value), **self.overrides}
        return preset(self.preset.value, self.problem.value, n, **extra)

    @property
    def running(self) -> bool:
        # not ``thread.is_alive()``: a KeyboardInterrupt in ``Thread.join`` marks a live thread as
        # stopped (CPython's bpo-45274 handling), which let a second search start beside the first
        return self.thread is not None and not self._done.is_set()

    def run(self, wait: bool = False) -> bool:
        """Start a search in a background thread ``panel.thread``; the kernel stays free (Stop,
        other cells). ``wait=True`` blocks until it ends (:meth:`wait`: a kernel interrupt then
        stops the search). Returns False, saying so in the panel, when a search is already
        running or the settings are invalid."""
        if self.running:
            self.status.value = "<span style='color:#b00'>a search is already running: stop it first</span>"
            return False
        try:
            cfg = self.config()
        except (ValueError, TypeError) as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return False
        self._stop.clear()
        self._done.clear()
        self.results, self.error, self.records, self._last_draw, self._live_best = None, None, [], 0.0, None
        self.progress.max, self.progress.value = cfg.episodes, 0
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "compiling and training (the first chunk compiles: ~30 s)…"
        self.thread = threading.Thread(target=self._work, args=(cfg,), daemon=True, name="crlqas-search")
        self.thread.start()
        if wait:
            self.wait()
        return True

    def stop(self) -> None:
        """Ask the running search to stop after the current chunk (chunks of the fast preset take
        well under a second once compiled; the first one includes the compile)."""
        self._stop.set()
        if self.running:
            self.status.value = "stopping after the current chunk…"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the search thread; True when it has finished. A kernel interrupt (Ctrl-C,
        the notebook's stop button) while waiting stops the search too, then re-raises."""
        if self.thread is not None:
            try:
                self._done.wait(timeout)
            except KeyboardInterrupt:
                self.stop()
                self.status.value = "interrupted: stopping after the current chunk…"
                raise
        return not self.running

    def _work(self, cfg) -> None:
        from ...search import search

        try:
            self.results = search(
                cfg,
                seeds=self.seeds,
                callbacks=[self._on_event],
                should_stop=self._stop.is_set,
                out=self.out.value.strip() or None,
                save_every=self.save_every,
            )
        except Exception as err:  # shown in the panel: a worker thread has nobody to raise to
            self.error = err
        finally:
            try:
                self._finish()
            finally:
                self._done.set()

    def _on_event(self, event: dict) -> None:
        if event["event"] == "episode":
            self.records.append(event)
            if "circuit" in event and event["error"] <= min(r["error"] for r in self.records):
                self._live_best = event  # episode events may carry their circuit: draw it live
        elif event["event"] == "chunk":
            self.progress.value = min(min(event["episodes"]), self.progress.max)
            best = min((r["error"] for r in self.records), default=float("nan"))
            self.status.value = f"{self.progress.value}/{event['target']} episodes, {event['seconds']:.0f} s, "
            self.status.value += f"best error {best:.2e} Ha"
            if time.monotonic() - self._last_draw >= self.min_interval:
                self._last_draw = time.monotonic()
                self.curve.value = png(self.figure())
                if self._live_best is not None:
                    e = self._live_best
                    title = f"best so far (episode {e['episode']}): error {e['error']:.2e} Ha"
                    self.best.value = png(circuit_figure(e["circuit"], title))
        for listener in self.listeners:
            listener(event)

    def _finish(self) -> None:
        self.run_button.disabled, self.stop_button.disabled = False, True
        if self.error is not None:
            self.status.value = f"<span style='color:#b00'>search failed: {self.error!r}</span>"
            return
        res = self.results
        self.progress.value = min(len(res.episodes) // max(len(self.seeds), 1), self.progress.max)
        self.status.value = (
            f"{'stopped' if res.stopped else 'finished'}: {len(res.episodes)} episodes in {res.seconds:.1f} s"
        )
        if self.out.value.strip():
            self.status.value += f"; saved to {self.out.value.strip()}"
        if self.records:
            self.curve.value = png(self.figure())
        entry = best_entry(res.best)
        if entry is not None:
            title = f"best circuit (episode {entry['episode']}): error {entry['error']:.2e} Ha"
            self.best.value = png(circuit_figure(entry["circuit"], title))

    def figure(self) -> Figure:
        fig = Figure(figsize=(9, 3.2), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        records = self.records or (self.results.episodes if self.results else [])
        if records:
            learning_curve(records, ax=ax1, smooth=max(1, min(10, len(records) // 5)))
            error_curve(records, ax=ax2)
        return fig

    def static(self):
        if self.results is None and not self.records:
            return "SearchPanel: no run yet (call run(), then wait() for the results, or use crlqas_kit.search.search)"
        return displayable(self.figure())
