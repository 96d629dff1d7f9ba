"""Figures, tested on the data of their artists (and one PNG each written to ``tmp_path``)."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection, QuadMesh  # noqa: E402

from crlqas_kit.optim.spsa import minimize  # noqa: E402
from crlqas_kit.problems import CHEMICAL_ACCURACY, load_problem  # noqa: E402
from crlqas_kit.sim import Circuit, amplitude_damping, depolarizing_1q, rotation_ptm, thermal_relaxation  # noqa: E402
from crlqas_kit.sim.ptm import GATE_PTMS  # noqa: E402
from crlqas_kit.viz import (  # noqa: E402
    bloch_shrink,
    energy_landscape,
    error_curve,
    learning_curve,
    ptm_heatmap,
    spsa_trace,
    threshold_curve,
    write_report,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

H2 = load_problem("H2-2q")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gid(ax, name):
    return [a for a in [*ax.lines, *ax.collections, *ax.images] if a.get_gid() == name]


def episodes(seeds=(0, 1, 2), n=30):
    rng = np.random.default_rng(1)
    return [
        {
            "seed": s,
            "episode": i + 1,
            "return": float(i + s + rng.normal(0, 0.1)),
            "error": float(0.1 * 0.8**i),
            "threshold": float(0.05 * 0.5 ** (i // 10)),
        }
        for s in seeds
        for i in range(n)
    ]


def save(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=80)
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 3000


# -- search figures ----------------------------------------------------------------------------


def test_learning_curve_is_the_mean_over_seeds_with_a_band(tmp_path):
    eps = episodes()
    fig = learning_curve(eps, smooth=1)
    ax = fig.axes[0]
    returns = np.array([[e["return"] for e in eps if e["seed"] == s] for s in (0, 1, 2)])
    (mean,) = gid(ax, "mean")
    np.testing.assert_allclose(mean.get_ydata(), returns.mean(0))
    (band,) = gid(ax, "band")
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx((returns.mean(0) - returns.std(0)).min())
    fig = learning_curve(eps, smooth=1, band="minmax")
    ys = gid(fig.axes[0], "band")[0].get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(returns.max())
    smoothed = gid(learning_curve(SimpleNamespace(episodes=eps), smooth=10).axes[0], "mean")[0]
    assert len(smoothed.get_xdata()) == 21 and smoothed.get_xdata()[0] == 10
    assert not gid(learning_curve(episodes(seeds=(4,))).axes[0], "band")  # one seed: no band
    with pytest.raises(ValueError, match="band"):
        learning_curve(eps, band="iqr")
    save(learning_curve(eps), tmp_path, "learning_curve")


def test_error_and_threshold_curves(tmp_path):
    eps = episodes(seeds=(0, 1))
    fig = error_curve(eps)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    (line,) = gid(ax, "chemical_accuracy")
    assert line.get_ydata()[0] == CHEMICAL_ACCURACY
    np.testing.assert_allclose(gid(ax, "error:1")[0].get_ydata(), [e["error"] for e in eps if e["seed"] == 1])
    save(fig, tmp_path, "error_curve")
    fig = threshold_curve(eps)
    np.testing.assert_allclose(gid(fig.axes[0], "threshold:0")[0].get_ydata(), [e["threshold"] for e in eps[:30]])
    assert "ξ" in fig.axes[0].get_ylabel()
    save(fig, tmp_path, "threshold_curve")


def test_write_report_still_writes_its_figures(tmp_path):
    from crlqas_kit.results import Results
    from crlqas_kit.search_config import preset

    res = Results(config=preset("fast", "H2-2q", 2, episodes=3), seeds=[0], problem=H2.summary())
    record = {"n_qubits": 2, "ops": [["ry", [0], -0.3], ["cx", [0, 1], None]]}
    for i, e in enumerate(episodes(seeds=(0,), n=3)):
        stats = dict(energy=-1.1, exact_energy=-1.1, success=True, chemically_accurate=i == 2, gates=2, cnots=1)
        res.add_episode({**e, **stats, "depth": 2, "eps": 1.0, "loss": 0.0}, record)
    res.save(tmp_path)
    report = write_report(tmp_path).read_text()
    assert "![best circuit](best_circuit.png)" in report and "RY(-0.3)" in report
    for name in ("learning_curve", "error", "threshold", "best_circuit"):
        assert (tmp_path / f"{name}.png").stat().st_size > 3000


# -- physics figures ---------------------------------------------------------------------------


def reference_energy(circuit: Circuit) -> float:
    rho = ref.run(circuit.n_qubits, [op if op[2] is not None else op[:2] for op in circuit.ops()])
    return ref.expectation(rho, [(t, c) for t, c in H2.hamiltonian.to_json()["terms"]])


def test_energy_landscape_one_and_two_angles(tmp_path):
    circ = Circuit(2).ry(0, 0.3).ry(1, -0.4).cx(0, 1).ry(1, 0.2)
    fig = energy_landscape(H2, circ, which=(2,), grid=8)
    ax = fig.axes[0]
    (curve,) = gid(ax, "landscape")
    thetas, energies = curve.get_xdata(), curve.get_ydata()
    assert len(thetas) == 8 and thetas[0] == pytest.approx(-np.pi)
    for k in (0, 5):
        angles = circ.params.copy()
        angles[2] = thetas[k]
        assert energies[k] == pytest.approx(reference_energy(circ.with_params(angles)), abs=1e-10)
    (current,) = gid(ax, "current")
    assert current.get_xdata()[0] == 0.2 and current.get_ydata()[0] == pytest.approx(reference_energy(circ), abs=1e-10)
    assert gid(ax, "e0")[0].get_ydata()[0] == H2.e0
    assert "RY(1)" in ax.get_xlabel()
    save(fig, tmp_path, "landscape_1d")

    fig = energy_landscape(H2.hamiltonian, circ, which=(0, 2), grid=3)  # 9 points: the same compiled batch
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    grid = np.asarray(mesh.get_array()).reshape(3, 3)
    angles = circ.params.copy()
    angles[0], angles[2] = np.pi, -np.pi  # column 2 (angle 0 = x), row 0 (angle 2 = y)
    assert grid[0, 2] == pytest.approx(reference_energy(circ.with_params(angles)), abs=1e-10)
    assert len(fig.axes) == 2  # colour bar
    save(fig, tmp_path, "landscape_2d")
    with pytest.raises(ValueError, match="which"):
        energy_landscape(H2, circ, which=(0, 1, 2))
    with pytest.raises(ValueError, match="which"):
        energy_landscape(H2, circ, which=7)


def test_ptm_heatmap(tmp_path):
    R = thermal_relaxation(50e-6, 70e-6, 20e-6)
    fig = ptm_heatmap(R)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), R)
    assert ax.images[0].get_clim() == (-1, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["I", "X", "Y", "Z"]
    assert len(ax.texts) == 16 and ax.texts[0].get_text() == "1.00"
    save(fig, tmp_path, "ptm_1q")
    fig = ptm_heatmap(GATE_PTMS["cx"], title="CNOT", colorbar=False)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and not ax.texts and ax.get_title() == "CNOT"
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["II", "IX", "IY"]
    save(fig, tmp_path, "ptm_2q")
    with pytest.raises(ValueError, match="4\\^k"):
        ptm_heatmap(np.eye(3))


def test_bloch_shrink_draws_the_image_of_the_bloch_sphere(tmp_path):
    fig = bloch_shrink({"depolarizing": depolarizing_1q(0.3), "amplitude damping": amplitude_damping(0.5)})
    xz, xy = fig.axes
    assert xz.get_xlabel() == "⟨X⟩" and xz.get_ylabel() == "⟨Z⟩" and xy.get_ylabel() == "⟨Y⟩"
    (before,) = gid(xz, "before")
    np.testing.assert_allclose(np.hypot(before.get_xdata(), before.get_ydata()), 1.0)
    (dep,) = gid(xz, "after:depolarizing")
    np.testing.assert_allclose(np.hypot(dep.get_xdata(), dep.get_ydata()), 0.7)
    (amp,) = gid(xz, "after:amplitude damping")
    x, z = amp.get_xdata(), amp.get_ydata()
    assert x.max() == pytest.approx(np.sqrt(0.5), abs=1e-3) and (z.min(), z.max()) == pytest.approx(
        (0.0, 1.0), abs=1e-3
    )
    (centre,) = gid(xz, "centre:amplitude damping")
    assert (centre.get_xdata()[0], centre.get_ydata()[0]) == (0.0, 0.5)  # non-unital: the centre moves up
    save(fig, tmp_path, "bloch_shrink")
    # one given axes -> one plane; a rotation turns the circle without shrinking it
    fig, ax = plt.subplots()
    assert bloch_shrink(np.asarray(rotation_ptm("y", 0.7)), ax=ax) is fig
    (rot,) = gid(ax, "after:after")
    np.testing.assert_allclose(np.hypot(rot.get_xdata(), rot.get_ydata()), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="planes"):
        bloch_shrink(depolarizing_1q(0.1), ax=ax, planes=("xz", "xy"))
    with pytest.raises(ValueError, match="4 x 4"):
        bloch_shrink(np.eye(16))


def test_spsa_trace(tmp_path):
    history = np.array([0.5, 0.2, 0.3, -0.8, -0.7, -1.0])
    fig = spsa_trace(SimpleNamespace(history=history, method="spsa"), e0=-1.137)
    ax = fig.axes[0]
    np.testing.assert_allclose(gid(ax, "trace:spsa")[0].get_ydata(), history)
    np.testing.assert_allclose(gid(ax, "best:spsa")[0].get_ydata(), np.minimum.accumulate(history))
    assert gid(ax, "e0")[0].get_ydata()[0] == -1.137
    res = minimize(lambda x: jnp.sum((x - 1.0) ** 2), np.zeros(2), jax.random.key(0), method="spsa", budget=42)
    fig = spsa_trace({"spsa": res, "array": history}, e0=H2, error=True)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and gid(ax, "chemical_accuracy")
    np.testing.assert_allclose(gid(ax, "trace:array")[0].get_ydata(), np.abs(history - H2.e0))
    assert len(gid(ax, "trace:spsa")[0].get_ydata()) == 20  # (42 - 2) / 2 iterations (x0, last iterate)
    save(fig, tmp_path, "spsa_trace")
    assert len([ln for ln in spsa_trace([history, history + 1]).axes[0].lines if ln.get_gid()]) == 4
    with pytest.raises(ValueError, match="e0"):
        spsa_trace(history, error=True)


def test_every_figure_function_draws_on_a_given_axes():
    fig, axes = plt.subplots(2, 3)
    eps = episodes()
    outs = [
        learning_curve(eps, ax=axes[0, 0]),
        error_curve(eps, ax=axes[0, 1]),
        threshold_curve(eps, ax=axes[0, 2]),
        ptm_heatmap(depolarizing_1q(0.1), ax=axes[1, 0], colorbar=False),
        bloch_shrink(depolarizing_1q(0.1), ax=axes[1, 1]),
        spsa_trace(np.arange(5.0), ax=axes[1, 2]),
    ]
    assert all(out is fig for out in outs)
    assert all(ax.has_data() for ax in axes.ravel())
    assert not any(isinstance(c, PolyCollection) and c.get_gid() == "band" for c in axes[1, 2].collections)
