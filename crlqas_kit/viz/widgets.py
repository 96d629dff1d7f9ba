"""ipywidgets panels that drive the kit: thin front ends, never the only way to do a thing.

* :class:`CircuitBuilder` -- build a circuit by hand under the environment's rules;
* :class:`NoiseExplorer` -- noise sliders -> the energy of a circuit and the channel's PTM;
* :class:`SPSAPlayground` -- SPSA gains and budget -> optimiser traces;
* :class:`SearchPanel` -- run a CRLQAS search live (background thread, Stop button);
* :class:`ReplaySlider` -- step through a saved run episode by episode.

Each panel keeps its logic in plain methods (``apply``, ``update``, ``run``, ``select``, ...) that
scripts and tests call directly; the buttons and sliders only call them. ``panel.widget`` is the
ipywidgets container, ``panel.show()`` displays it in Jupyter (and falls back to the static
picture without a front end), ``panel.static()`` returns a matplotlib figure for places that
cannot show widgets (GitHub, CI, terminals). Figures are rendered to PNG into ``ipywidgets.Image``
views with bare ``Figure`` objects (no pyplot), so updates from a worker thread are safe and no
stray figure appears in the notebook.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from .draw import circuit_axes, draw
from .plots import best_entry, bloch_shrink, error_curve, learning_curve, ptm_heatmap, spsa_trace


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _has_frontend() -> bool:
    """True inside a Jupyter kernel (a front end can render widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _displayable(out):
    """Make a bare ``Figure`` render as a PNG when it is a notebook cell's value (pyplot's inline
    backend, which would register that, may never have been loaded)."""
    if isinstance(out, Figure) and _has_frontend():
        from IPython import get_ipython

        formatter = get_ipython().display_formatter.formatters["image/png"]
        try:
            formatter.lookup_by_type(Figure)
        except KeyError:
            formatter.for_type(Figure, _png)
    return out


def _problem(problem):
    from ..problems import load_problem

    return load_problem(problem) if isinstance(problem, str) else problem


def _circuit_figure(circuit, title: str | None = None, highlight_last: bool = False, **kw) -> Figure:
    fig, ax = circuit_axes(circuit, kw.get("fold", 20), title=title or "", pyplot=False)
    return draw(circuit, ax=ax, highlight_last=highlight_last, title=title, **kw)


class _Panel:
    widget: W.Widget

    def show(self):
        """Display the widget in Jupyter; elsewhere return the static figure (text is printed)."""
        if _has_frontend():
            from IPython.display import display

            display(self.widget)
            return None
        out = self.static()
        if isinstance(out, str):
            print(out)
        return out

    def static(self):
        """A matplotlib figure (or text) of the panel's current state, for GitHub, CI and terminals."""
        return _displayable(self.figure())

    def figure(self) -> Figure:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def _ipython_display_(self):
        self.show()


class CircuitBuilder(_Panel):
    """Grow a circuit gate by gate under the environment's rules (:class:`InteractiveEnv`).

    One button per action of the action table (RX/RY/RZ per qubit, CNOT per ordered pair). Each
    click steps the environment: the gate is appended, all angles are re-optimised and the label
    shows the energy, the true error ``|E - E0|`` and whether the episode ended; illegal actions
    (an immediate repeat, a CNOT outside the coupling map, anything after the episode ended) are
    disabled. ``apply("ry(0)")`` / ``apply(3)`` and ``reset()`` do the same from code;
    ``env_options`` go to :func:`crlqas_kit.rl.env.make_params` (e.g. ``spsa=SPSAConfig(...)``).
    """

    def __init__(self, problem, noise=None, *, seed: int = 0, angle_style: str = "decimal", **env_options: Any):
        from ..rl.interactive import InteractiveEnv

        self.problem = _problem(problem)
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
        try:
            *_, info = self.env.step(action)
        except (ValueError, TypeError) as err:
            self.message = str(err)
            self.refresh()
            return None
        self.message = ""
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
        self.drawing.value = _png(self.figure())

    def figure(self) -> Figure:
        title = f"E = {self.env.energy:.5f} Ha, |E − E0| = {self.env.error:.1e} Ha"
        return _circuit_figure(self.circuit, title, highlight_last=True, angle_style=self.angle_style)


class NoiseExplorer(_Panel):
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
        from ..problems import Problem
        from ..sim.simulator import expectation
        from .draw import as_circuit

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
        from ..sim.noise import depolarizing_1q, thermal_relaxation

        v = self.values()
        t1, t2 = v["t1"] * 1e-6, min(v["t2"], 2 * v["t1"]) * 1e-6
        return thermal_relaxation(t1, t2, v["gate_time"] * 1e-9) @ depolarizing_1q(v["p"])

    def _model(self, one: np.ndarray, p10: float, p01: float):
        from ..sim.noise import NoiseModel

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
        self.image.value = _png(self.figure())
        return e

    def figure(self) -> Figure:
        fig = Figure(figsize=(7.2, 3.2), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        R = self.channel()
        ptm_heatmap(R, ax=ax1, title="PTM of the per-gate channel")
        bloch_shrink(R, ax=ax2, title=f"E = {self.last_energy:.5f} Ha\n(noiseless {self.noiseless:.5f} Ha)")
        return fig


class SPSAPlayground(_Panel):
    """Tune SPSA by hand: gains ``a``, ``c``, exponents ``α``, ``γ``, evaluation budget and method
    -> Run optimises the circuit's angles (:func:`crlqas_kit.optim.optimize`) and overlays the
    trace (error ``|E - E0|``, log scale) on the previous runs (the last four are kept; Clear
    empties the list). ``run()`` does the same from code and returns the ``VQEResult``.
    Each new setting compiles the optimiser loop once (a second or two)."""

    def __init__(self, problem, circuit, noise=None, *, method: str = "spsa", budget: int = 200, seed: int = 0):
        from .draw import as_circuit

        self.problem, self.circuit, self.noise = _problem(problem), as_circuit(circuit), noise
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
        from ..optim.spsa import SPSAConfig

        gains = {k: float(getattr(self, k).value) for k in ("a", "c", "alpha", "gamma")}
        return SPSAConfig(method=self.method.value, budget=int(self.budget.value), **gains)

    def run(self):
        """Optimise with the current settings; returns the ``VQEResult`` (None if the settings are invalid)."""
        from ..optim.vqe import optimize

        try:
            cfg = self.config()
        except ValueError as err:
            self.label.value = f"<span style='color:#b00'>{err}</span>"
            return None
        seed = int(self.seed.value)
        res = optimize(
            self.problem, self.circuit, self.noise, method=cfg.method, budget=cfg.budget, key=seed, config=cfg
        )
        name = f"{cfg.method} a={cfg.a:.3g} c={cfg.c:.3g} α={cfg.alpha:.3g} γ={cfg.gamma:.3g}"
        self.runs = [*self.runs, (name, res)][-4:]
        self.label.value = (
            f"{name}<br>E = {res.exact_energy:.6f} Ha, |E − E0| = {res.error:.2e} Ha<br>"
            f"{res.evaluations} evaluations, {res.seconds:.1f} s"
        )
        self.image.value = _png(self.figure())
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
        return _displayable(self.figure())


class SearchPanel(_Panel):
    """Train CRLQAS live. Choose problem, noise spec, preset and episodes; Run starts
    :func:`crlqas_kit.search.search` in a background thread, the progress bar, learning curve and
    error plot update after each compiled chunk, and Stop asks the search to stop after the chunk
    in flight (``should_stop``). When the run ends (or live, if episode events carry a
    ``"circuit"``) the best circuit is drawn; the
    :class:`Results` are in ``panel.results``. ``overrides`` are :class:`SearchConfig` fields
    (e.g. ``chunk_steps=4``); ``listeners`` receive every search event."""

    def __init__(self, problem="H2-2q", noise="none", preset="fast", episodes: int = 50, seeds=(0,), **overrides):
        from ..problems import list_problems
        from ..sim.noise import PRESETS

        self.problem = W.Dropdown(options=list_problems(), value=problem, description="problem")
        self.noise = W.Combobox(value=noise, options=list(PRESETS), description="noise", ensure_option=False)
        self.preset = W.Dropdown(options=["fast", "paper"], value=preset, description="preset")
        self.episodes = W.BoundedIntText(episodes, min=1, max=100_000, description="episodes")
        self.run_button = W.Button(description="run", button_style="success", icon="play")
        self.stop_button = W.Button(description="stop", button_style="danger", icon="stop", disabled=True)
        self.run_button.on_click(lambda _b: self.run())
        self.stop_button.on_click(lambda _b: self.stop())
        self.progress = W.IntProgress(0, min=0, max=episodes, description="episodes")
        self.status, self.curve, self.best = W.HTML(), W.Image(format="png"), W.Image(format="png")
        self.seeds, self.overrides, self.listeners = list(seeds), overrides, []
        self.thread: threading.Thread | None = None
        self.results, self.error, self.records, self.min_interval = None, None, [], 1.0
        self._stop, self._last_draw, self._live_best = threading.Event(), 0.0, None
        controls = W.HBox([W.VBox([self.problem, self.noise]), W.VBox([self.preset, self.episodes])])
        buttons = W.HBox([self.run_button, self.stop_button, self.progress])
        self.widget = W.VBox([controls, buttons, self.status, self.curve, self.best])

    def config(self):
        """The :class:`SearchConfig` the controls describe."""
        from ..problems import load_problem
        from ..search_config import preset

        n = load_problem(self.problem.value).n_qubits
        extra = {"noise": self.noise.value.strip() or "none", "episodes": int(self.episodes.value), **self.overrides}
        return preset(self.preset.value, self.problem.value, n, **extra)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def run(self, wait: bool = False) -> None:
        """Start a search in a background thread ``panel.thread`` (``wait=True``: block until it ends)."""
        if self.running:
            return
        try:
            cfg = self.config()
        except (ValueError, TypeError) as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return
        self._stop.clear()
        self.results, self.error, self.records, self._last_draw, self._live_best = None, None, [], 0.0, None
        self.progress.max, self.progress.value = cfg.episodes, 0
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "compiling and training (the first chunk compiles: ~30 s)…"
        self.thread = threading.Thread(target=self._work, args=(cfg,), daemon=True, name="crlqas-search")
        self.thread.start()
        if wait:
            self.thread.join()

    def stop(self) -> None:
        """Ask the running search to stop after the current chunk."""
        self._stop.set()
        if self.running:
            self.status.value = "stopping after the current chunk…"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the search thread; True when it has finished."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    def _work(self, cfg) -> None:
        from ..search import search

        try:
            self.results = search(cfg, seeds=self.seeds, callbacks=[self._on_event], should_stop=self._stop.is_set)
        except Exception as err:  # shown in the panel: a worker thread has nobody to raise to
            self.error = err
        finally:
            self._finish()

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
                self.curve.value = _png(self.figure())
                if self._live_best is not None:
                    e = self._live_best
                    title = f"best so far (episode {e['episode']}): error {e['error']:.2e} Ha"
                    self.best.value = _png(_circuit_figure(e["circuit"], title))
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
        if self.records:
            self.curve.value = _png(self.figure())
        entry = best_entry(res.best)
        if entry is not None:
            title = f"best circuit (episode {entry['episode']}): error {entry['error']:.2e} Ha"
            self.best.value = _png(_circuit_figure(entry["circuit"], title))

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
            return "SearchPanel: no run yet (call run(wait=True) or use crlqas_kit.search.search)"
        return _displayable(self.figure())


class ReplaySlider(_Panel):
    """Step through a saved run (a run directory or a :class:`Results`): the slider picks an
    episode of the chosen seed and shows its statistics, its place on the error plot, and its
    circuit when the run stored it (the best circuits are kept; the "best circuits" menu jumps
    to them). ``select(episode)`` does the same from code and returns the episode record."""

    def __init__(self, run_dir_or_results, seed: int | None = None):
        from ..results import load_run

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
        self.curve.value = _png(self.figure())
        circuit = self.circuit_for(episode)
        self.drawing.value = _png(_circuit_figure(circuit, f"episode {episode}")) if circuit else b""
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
