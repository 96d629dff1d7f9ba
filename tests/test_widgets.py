"""The ipywidgets panels, driven programmatically (button clicks, slider values) without a browser.

Costs: the circuit builder compiles the environment step once, the SPSA playground one optimiser
loop, and the search panel one tiny search (H2-2q, fast preset): the first run is stopped during
its first chunk, the second (same compiled chunk) runs 3 episodes to the end.
"""

from __future__ import annotations

import os
import sys

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from crlqas_kit.problems import load_problem  # noqa: E402
from crlqas_kit.results import Results  # noqa: E402
from crlqas_kit.search_config import preset  # noqa: E402
from crlqas_kit.sim import Circuit, depolarizing_1q, expectation  # noqa: E402
from crlqas_kit.viz.widgets import (  # noqa: E402
    CircuitBuilder,
    NoiseExplorer,
    ReplaySlider,
    SearchPanel,
    SPSAPlayground,
)

H2 = load_problem("H2-2q")
PNG = b"\x89PNG"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402


def boxes(fig: Figure) -> int:
    return sum(isinstance(p, FancyBboxPatch) for p in fig.axes[0].patches)


# -- circuit builder ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builder():
    return CircuitBuilder("H2-2q", max_steps=8, halting=False)  # the env tests' configuration: one compile


def test_circuit_builder_buttons_follow_the_rules(builder):
    builder.reset()
    labels = [b.description for b in builder.buttons.values()]
    assert labels == ["CX(0,1)", "CX(1,0)", "RX(0)", "RY(0)", "RZ(0)", "RX(1)", "RY(1)", "RZ(1)"]
    assert not any(b.disabled for b in builder.buttons.values())
    assert builder.text().startswith("0 gates") and builder.drawing.value[:4] == PNG
    builder.buttons[3].click()  # RY(0)
    assert builder.text().startswith("1 gates") and "E = -0.35" in builder.status.value
    disabled = [a for a, b in builder.buttons.items() if b.disabled]
    assert disabled == [3]  # an immediate repeat would merge with the previous rotation
    assert builder.apply("ry(0)") is None and "illegal action ry(0)" in builder.status.value
    info = builder.apply("cx(0,1)")
    assert info["success"] and info["chemically_accurate"]
    assert all(b.disabled for b in builder.buttons.values())  # the episode is over
    assert "episode over (success)" in builder.text() and "chemically accurate" in builder.text()
    fig = builder.static()
    assert isinstance(fig, Figure) and boxes(fig) == 1 and "E = -1.13727" in fig.axes[0].get_title()
    builder.reset_button.click()
    assert builder.text().startswith("0 gates") and not any(b.disabled for b in builder.buttons.values())
    assert len(builder.circuit) == 0


def test_circuit_builder_disables_cnots_outside_the_coupling_map():
    panel = CircuitBuilder(H2, max_steps=8, halting=False, coupling_map=[(0, 1)])
    assert panel.buttons[1].description == "CX(1,0)" and panel.buttons[1].disabled
    assert not panel.buttons[0].disabled
    assert isinstance(panel.widget, W.VBox) and isinstance(panel.show(), Figure)  # no front end: static figure


# -- noise explorer ----------------------------------------------------------------------------


def test_noise_explorer_sliders_change_the_energy_and_the_ptm():
    circ = Circuit(2).ry(0, 3.37).cx(0, 1)
    panel = NoiseExplorer(circ, H2, p=0.0)
    assert panel.last_energy == pytest.approx(panel.noiseless, abs=1e-12)
    terms = H2.hamiltonian.to_json()["terms"]
    assert panel.noiseless == pytest.approx(ref.expectation(ref.run(2, circ.ops()[:1] + [("cx", (0, 1))]), terms))
    panel.sliders["p"].value = 0.1
    np.testing.assert_allclose(panel.channel(), depolarizing_1q(0.1))
    e_dep = panel.last_energy
    assert e_dep == pytest.approx(
        expectation(circ, H2.hamiltonian, "depolarizing-cnot:p1=0.1,p2=0.1+readout:p10=0,p01=0"), abs=1e-12
    )
    assert f"noisy E = {e_dep:.6f}" in panel.label.value and "|E − E0|" in panel.label.value
    panel.sliders["p01"].value = 0.05
    assert panel.last_energy != pytest.approx(e_dep)
    assert panel.noise_model().readout.tolist() == [0.0, 0.05]
    panel.sliders["t1"].value, panel.sliders["t2"].value, panel.sliders["gate_time"].value = 20.0, 80.0, 1000.0
    assert "T2 capped at 2·T1 = 40 µs" in panel.label.value
    assert panel.channel()[1, 1] == pytest.approx(0.9 * np.exp(-1e-6 / 40e-6))
    assert panel.image.value[:4] == PNG
    fig = panel.static()
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), panel.channel())
    with pytest.raises(ValueError, match="unknown NoiseExplorer"):
        NoiseExplorer(circ, H2.hamiltonian, q=0.1)


# -- SPSA playground ---------------------------------------------------------------------------


def test_spsa_playground_runs_and_overlays_traces():
    circ = Circuit(2).ry(0, 0.5).ry(1, -0.5).cx(0, 1)
    panel = SPSAPlayground("H2-2q", circ, budget=42)
    panel.a.value, panel.c.value, panel.alpha.value, panel.gamma.value = 0.5, 0.2, 0.7, 0.2
    cfg = panel.config()
    assert (cfg.method, cfg.budget, cfg.a, cfg.c, cfg.alpha, cfg.gamma) == ("spsa", 42, 0.5, 0.2, 0.7, 0.2)
    panel.run_button.click()
    assert len(panel.runs) == 1 and "42 evaluations" in panel.label.value
    name, res = panel.runs[0]
    assert name == "spsa a=0.5 c=0.2 α=0.7 γ=0.2" and res.error == pytest.approx(abs(res.exact_energy - H2.e0))
    assert panel.image.value[:4] == PNG
    ax = panel.static().axes[0]
    (trace,) = [ln for ln in ax.lines if ln.get_gid() == f"trace:{name}"]
    np.testing.assert_allclose(trace.get_ydata(), np.maximum(np.abs(res.history - H2.e0), 1e-12))
    panel.clear_button.click()
    assert panel.runs == [] and panel.image.value == b""


# -- search panel ------------------------------------------------------------------------------


def test_search_panel_runs_in_a_thread_and_stops():
    # the plain fast preset: its compiled chunk is shared with any other test searching H2-2q fast
    # (the run length is not part of the compiled chunk)
    panel = SearchPanel("H2-2q", episodes=50)
    panel.noise.value = "depolarizing"
    assert panel.config() == preset("fast", "H2-2q", 2, episodes=50, noise="depolarizing")
    panel.noise.value = "none"
    assert isinstance(panel.show(), str)  # nothing ran yet: a text fallback
    events: list[str] = []
    panel.listeners.append(lambda ev: events.append(ev["event"]))
    panel.listeners.append(lambda ev: ev["event"] == "chunk" and panel.stop())  # Stop during the first chunk
    panel.run_button.click()
    assert panel.running and panel.run_button.disabled and not panel.stop_button.disabled
    assert panel.wait(timeout=240)
    res = panel.results
    assert res.stopped and len(res.episodes) < 50 and events.count("chunk") == 1
    assert panel.progress.value == len(res.episodes) and panel.progress.max == 50
    assert panel.status.value.startswith("stopped") and panel.curve.value[:4] == PNG
    assert not panel.run_button.disabled and panel.stop_button.disabled

    panel.listeners.clear()
    panel.episodes.value = 3
    panel.run(wait=True)  # the same compiled chunk: runs to the end in seconds
    res = panel.results
    assert not res.stopped and len(res.episodes) >= 3 and panel.progress.value == 3
    assert panel.status.value.startswith("finished") and panel.best.value[:4] == PNG
    assert isinstance(panel.static(), Figure)

    panel.noise.value = "no-such-noise"
    panel.run(wait=True)
    assert panel.error is not None and "search failed" in panel.status.value and "no-such-noise" in panel.status.value


def test_search_panel_saves_the_run_it_trains(tmp_path):
    """ "save to": the run directory is written as the panel trains and when Stop ends it; it
    resumes like a command-line run; a second run into the same directory is refused in the panel."""
    from crlqas_kit.search import load_checkpoint, search

    out = tmp_path / "panel-run"
    panel = SearchPanel("H2-2q", episodes=50, out=str(out), save_every=0)
    saved = []
    panel.listeners.append(lambda ev: ev["event"] == "chunk" and saved.append((out / "checkpoint.npz").exists()))
    panel.listeners.append(lambda ev: ev["event"] == "chunk" and len(saved) == 2 and panel.stop())
    panel.run(wait=True)
    res = panel.results
    assert res.stopped and saved == [True, True]  # save_every=0: saved at every chunk, before the listeners
    assert panel.status.value.endswith(f"saved to {out}")
    state, loaded = load_checkpoint(out)
    assert len(loaded.episodes) == len(res.episodes)
    more = search(loaded.config.replace(episodes=len(res.episodes) + 2), resume=(state, loaded), out=out)
    assert len(more.episodes) >= len(res.episodes) + 2
    panel.run(wait=True)
    assert panel.error is not None and "already holds a run" in panel.status.value


def test_search_panel_refuses_a_second_start_and_stops_within_a_second():
    import time

    panel = SearchPanel("H2-2q", episodes=100_000)
    chunks = []
    panel.listeners.append(lambda ev: ev["event"] == "chunk" and chunks.append(time.monotonic()))
    assert panel.run() is True and panel.running
    deadline = time.monotonic() + 240
    while len(chunks) < 3 and time.monotonic() < deadline:  # compiled and training
        time.sleep(0.05)
    assert len(chunks) >= 3 and panel.running
    assert panel.run() is False and "already running" in panel.status.value  # refused, said in the panel
    assert panel.thread.is_alive()
    t0 = time.monotonic()
    panel.stop()
    assert panel.wait(timeout=10)
    assert time.monotonic() - t0 < 1.0, "Stop took more than a second"
    assert not panel.running and panel.results.stopped and panel.status.value.startswith("stopped")


def test_kernel_interrupt_while_waiting_stops_the_search():
    """Ctrl-C / the notebook's interrupt while a cell waits on the panel (``run(wait=True)``):
    the KeyboardInterrupt reaches the cell and the background search stops too."""
    import os
    import signal
    import threading
    import time

    panel = SearchPanel("H2-2q", episodes=100_000)
    started = threading.Event()
    panel.listeners.append(lambda ev: ev["event"] == "chunk" and started.set())

    def interrupt():  # what a kernel interrupt does: SIGINT to the kernel process
        started.wait(240)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        panel.run(wait=True)
    t0 = time.monotonic()
    assert panel.wait(timeout=10) and time.monotonic() - t0 < 1.0
    assert panel.error is None, panel.error
    assert panel.results.stopped and len(panel.results.episodes) < 100_000


def test_spsa_playground_reuses_its_compiled_loop_and_shows_busy():
    from crlqas_kit.optim import vqe

    play = SPSAPlayground("H2-2q", Circuit(2).ry(0, 0.5).ry(1, -0.5).cx(0, 1), budget=41)
    seen = []
    play.label.observe(lambda change: seen.append((change["new"], play.run_button.disabled)), "value")
    first = play.run()
    cache = vqe._run_spsa._cache_size()
    play.a.value, play.c.value, play.alpha.value, play.gamma.value, play.seed.value = 0.05, 0.2, 0.7, 0.15, 3
    second = play.run()
    assert vqe._run_spsa._cache_size() == cache  # new gains and seed: no compile
    assert first.exact_energy != second.exact_energy
    assert ("<i>optimising…</i>", True) in seen and not play.run_button.disabled  # busy while it ran


def test_circuit_builder_is_busy_while_a_step_runs():
    builder = CircuitBuilder("H2-2q")
    real_step, states = builder.env.step, []

    def step(action):  # the real step, observed: every button is disabled while it runs
        states.append({b.disabled for b in (*builder.buttons.values(), builder.reset_button)})
        return real_step(action)

    builder.env.step = step
    assert builder.apply("ry(0)") is not None
    assert states == [{True}] and not builder.reset_button.disabled
    assert not builder.buttons[builder.legal()[0]].disabled


# -- replay slider -----------------------------------------------------------------------------


def fake_run() -> Results:
    res = Results(config=preset("fast", "H2-2q", 2, episodes=5), seeds=[0, 1], problem=H2.summary())
    for seed in (0, 1):
        for i in range(5 if seed == 0 else 2):
            record = {"n_qubits": 2, "ops": [["ry", [0], 0.1 * i], ["cx", [0, 1], None]][: 1 + (i % 2)]}
            ep = {
                "seed": seed,
                "episode": i + 1,
                "return": float(i),
                "energy": -1.0,
                "exact_energy": -1.0,
                "error": 0.1 / (i + 1),
                "success": False,
                "chemically_accurate": False,
                "gates": 1 + (i % 2),
                "cnots": i % 2,
                "depth": 1 + (i % 2),
                "eps": 1.0,
                "threshold": 0.05,
                "loss": 0.0,
            }
            res.add_episode(ep, record)
    res.best[0] = [e for e in res.best[0] if e["episode"] in (2, 5)]  # only some circuits stored
    return res


def test_replay_slider_walks_through_a_saved_run(tmp_path):
    fake_run().save(tmp_path)
    panel = ReplaySlider(tmp_path)
    assert panel.slider.max == 5 and panel.slider.value == 5  # starts at the last episode
    assert "<b>0.02</b>" in panel.stats.value and "success</td><td><b>no</b>" in panel.stats.value
    assert "gates</td><td><b>1</b>" in panel.stats.value and panel.drawing.value[:4] == PNG
    panel.slider.value = 1
    assert panel.current["episode"] == 1 and panel.drawing.value == b"" and "not stored" in panel.stats.value
    rec = panel.select(2)
    assert rec["return"] == 1.0 and panel.slider.value == 2 and panel.drawing.value[:4] == PNG
    assert panel.circuit_for(2)["ops"] == [["ry", [0], 0.1], ["cx", [0, 1], None]]
    assert [v for _, v in panel.best_menu.options] == [0, 2, 5]
    panel.best_menu.value = 5
    assert panel.slider.value == 5
    cursor = [ln for ln in panel.static().axes[0].lines if ln.get_gid() == "cursor"]
    assert cursor and cursor[0].get_xdata()[0] == 5
    panel.seed.value = 1
    assert panel.slider.max == 2 and panel.current["seed"] == 1 and panel.current["episode"] == 2
    empty = ReplaySlider(Results(config=None, seeds=[0], problem={}))
    assert empty.slider.disabled and empty.select(3) is None and "no episodes" in empty.stats.value


def test_search_panel_offers_presets_and_device_models():
    """The noise box lists every model parse_noise knows: the presets and the device profiles."""
    from crlqas_kit.sim.noise_spec import PRESETS, known_models
    from crlqas_kit.viz.widgets import SearchPanel

    options = list(SearchPanel().noise.options)
    assert options == list(known_models())
    assert set(PRESETS) < set(options) and any(name.startswith("mumbai") for name in options)
