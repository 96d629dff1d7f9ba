"""Circuit drawings, tested on the artists and text they produce (no image baselines), plus one
rendered PNG per angle style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

from crlqas_kit.sim import Circuit  # noqa: E402
from crlqas_kit.viz import draw, draw_text, format_angle, layers  # noqa: E402
from crlqas_kit.viz.draw import HIGHLIGHT  # noqa: E402

MINUS = "\u2212"  # the typographic minus the PNG labels must use (the ASCII hyphen vanished)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def sample() -> Circuit:
    # layer 0: RY(0), RX(1); layer 1: CX(0,2) (blocks q1 too); layer 2: H(1), RZ(2)
    return Circuit(3).ry(0, -0.5).rx(1, np.pi / 2).cx(0, 2).h(1).rz(2, -3 * np.pi / 4)


def by_gid(fig, prefix: str) -> list:
    ax = fig.axes[0]
    return [a for a in [*ax.patches, *ax.lines, *ax.texts] if (a.get_gid() or "").startswith(prefix)]


def centre(artist) -> tuple[float, float]:
    if isinstance(artist, FancyBboxPatch):
        return artist.get_x() + artist.get_width() / 2, artist.get_y() + artist.get_height() / 2
    if isinstance(artist, Circle):
        return artist.center
    return artist.get_position()


# -- layering and angle text -------------------------------------------------------------------


def test_layers_are_asap_and_a_cnot_blocks_the_wires_it_spans():
    assert [[op[0] for op in layer] for layer in layers(sample())] == [["ry", "rx"], ["cx"], ["h", "rz"]]
    adjacent = Circuit(3).ry(0).cx(1, 2).rx(0)
    assert [[op[0] for op in layer] for layer in layers(adjacent)] == [["ry", "cx"], ["rx"]]


@pytest.mark.parametrize(
    ("theta", "style", "expected"),
    [
        (0.785398, "decimal", "0.785"),
        (-0.00921, "decimal", "-0.009"),
        (-1e-9, "decimal", "0"),
        (np.pi / 4, "pi", "π/4"),
        (-3 * np.pi / 4, "pi", "-3π/4"),
        (np.pi, "pi", "π"),
        (0.3, "pi", "0.3"),  # no simple fraction: decimals
    ],
)
def test_format_angle(theta, style, expected):
    assert format_angle(theta, style) == expected
    assert format_angle(theta, style, minus=MINUS) == expected.replace("-", MINUS)


def test_format_angle_rejects_an_unknown_style():
    with pytest.raises(ValueError, match="angle_style"):
        format_angle(1.0, "degrees")


# -- text drawer -------------------------------------------------------------------------------


def test_text_drawer_has_one_row_per_wire_in_layer_order():
    rows = draw_text(sample()).splitlines()
    assert [r[:3] for r in rows] == ["q0:", "q1:", "q2:"]
    assert "RY(-0.5)" in rows[0] and "●" in rows[0]
    assert "RX(1.57)" in rows[1] and "┼" in rows[1] and "H" in rows[1]
    assert "⊕" in rows[2] and "RZ(-2.36)" in rows[2]
    assert len({len(r) for r in rows}) == 1  # aligned columns
    # order along a wire follows the layers: the control dot comes after RY on q0
    assert rows[0].index("RY") < rows[0].index("●")
    assert rows[1].index("RX") < rows[1].index("┼") < rows[1].index("H")
    assert "RZ(-3π/4)" in draw_text(sample(), angle_style="pi")
    assert "RY" in draw_text(sample(), angles=False) and "(" not in draw_text(sample(), angles=False)


def test_text_drawer_folds_into_blocks():
    circ = Circuit(2)
    for _ in range(5):
        circ = circ.ry(0, 0.1).cx(0, 1)
    blocks = draw_text(circ, fold=4).split("\n\n")
    assert len(blocks) == 3 and all(len(b.splitlines()) == 2 for b in blocks)
    assert draw_text(Circuit(2)).splitlines() == ["q0: ──", "q1: ──"]


# -- matplotlib drawer -------------------------------------------------------------------------


def test_artists_counts_and_qubit_zero_on_top():
    fig = draw(sample())
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 4  # RY, RX, H, RZ
    assert len(by_gid(fig, "gate2:control")) == 1 and len(by_gid(fig, "gate2:target")) == 3  # circle + plus
    assert len(by_gid(fig, "wire")) == 3 and len(by_gid(fig, "label")) == 3
    assert len(by_gid(fig, "gate")) and all(t.get_text() for t in ax.texts)
    wire_y = [by_gid(fig, f"wire{q}:row0")[0].get_ydata()[0] for q in range(3)]
    assert wire_y[0] > wire_y[1] > wire_y[2]  # qubit 0 on top
    (ry_box,) = by_gid(fig, "gate0:box")
    (rz_box,) = by_gid(fig, "gate4:box")
    assert centre(ry_box)[1] == pytest.approx(wire_y[0]) and centre(rz_box)[1] == pytest.approx(wire_y[2])
    assert centre(rz_box)[0] > centre(by_gid(fig, "gate2:control")[0])[0] > centre(ry_box)[0]  # left to right
    # family colours and the angle on a second line
    assert ry_box.get_facecolor() != rz_box.get_facecolor()
    (ry_name,) = by_gid(fig, "gate0:label")
    (ry_angle,) = by_gid(fig, "gate0:angle")
    assert ry_name.get_text() == "RY" and ry_angle.get_text() == f"{MINUS}0.5"
    assert ry_name.get_position()[1] > ry_angle.get_position()[1]
    assert not by_gid(fig, "gate3:angle")  # H has no angle


def test_cnot_is_a_control_dot_a_line_and_an_open_target():
    fig = draw(Circuit(3).cx(2, 0))
    (dot,) = by_gid(fig, "gate0:control")
    ring = next(a for a in by_gid(fig, "gate0:target") if isinstance(a, Circle))
    (line,) = by_gid(fig, "gate0:line")
    assert dot.get_radius() < ring.get_radius()
    assert ring.get_facecolor() == to_rgba("white")  # open circle
    assert dot.center[1] < ring.center[1]  # control on q2 (bottom), target on q0 (top)
    assert sorted(line.get_ydata()) == sorted([dot.center[1], ring.center[1]])


def test_newest_gate_is_highlighted():
    fig = draw(sample(), highlight_last=True)
    (last,) = by_gid(fig, "gate4:box")
    (first,) = by_gid(fig, "gate0:box")
    assert last.get_edgecolor() == to_rgba(HIGHLIGHT) and first.get_edgecolor() == to_rgba("black")
    fig = draw(Circuit(2).ry(0, 0.1).cx(0, 1), highlight_last=True)
    assert all(a.get_color() == HIGHLIGHT for a in by_gid(fig, "gate1:line"))
    assert by_gid(draw(sample()), "gate4:box")[0].get_edgecolor() == to_rgba("black")
    assert by_gid(draw(sample(), highlight=0), "gate0:box")[0].get_edgecolor() == to_rgba(HIGHLIGHT)


def test_long_circuits_fold_into_rows():
    circ = Circuit(2)
    for k in range(12):
        circ = circ.ry(0, 0.1 * k)  # 12 layers -> rows of 5, 5 and 2
    fig = draw(circ, fold=5)
    rows = 3
    assert {a.get_gid().split(":")[1] for a in by_gid(fig, "wire")} == {f"row{r}" for r in range(rows)}
    y = [by_gid(fig, f"wire0:row{r}")[0].get_ydata()[0] for r in range(rows)]
    assert all(a > b for a, b in zip(y, y[1:], strict=False))  # rows go down
    xs = sorted({round(centre(b)[0], 6) for b in fig.axes[0].patches if isinstance(b, FancyBboxPatch)})
    assert len(xs) == 5  # every row reuses the same 5 columns
    assert len(by_gid(draw(circ, fold=100), "wire")) == 2


def test_labels_fit_their_boxes_and_keep_the_minus_sign(tmp_path):
    """The PNG glitch: hyphen-minus vanished at small sizes and long labels overflowed the box."""
    circ = Circuit(2).ry(0, -0.00921).rx(1, -2.4449).ry(0, -0.0947)
    fig = draw(circ)
    fig.savefig(tmp_path / "minus.png", dpi=72)
    renderer = fig.canvas.get_renderer()
    for i in range(3):
        (box,) = by_gid(fig, f"gate{i}:box")
        (angle,) = by_gid(fig, f"gate{i}:angle")
        assert angle.get_text().startswith(MINUS)
        outer, inner = box.get_window_extent(renderer), angle.get_window_extent(renderer)
        assert outer.x0 < inner.x0 and inner.x1 < outer.x1 and outer.y0 < inner.y0 and inner.y1 < outer.y1


def test_draws_on_a_given_axes_and_accepts_circuit_records():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert draw(sample(), ax=ax2) is fig
    assert not ax1.patches and len(ax2.patches) > 0
    record = {"n_qubits": 2, "ops": [["ry", [0], 0.25], ["cx", [0, 1], None]]}
    fig2 = draw({"circuit": record, "error": 0.1})
    assert by_gid(fig2, "gate0:angle")[0].get_text() == "0.25"
    with pytest.raises(ValueError, match="fold"):
        draw(sample(), fold=0)
    with pytest.raises(TypeError):
        draw("not a circuit")
    assert len(by_gid(draw(Circuit(2)), "wire")) == 2  # empty circuit: just wires


@pytest.mark.parametrize("style", ["decimal", "pi"])
def test_rendered_png_per_style(tmp_path, style):
    circ = sample().ry(0, np.pi / 3).cx(1, 0)
    fig = draw(circ, angle_style=style, highlight_last=True, title=f"angle_style={style!r}")
    path = tmp_path / f"circuit_{style}.png"
    fig.savefig(path, dpi=100)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    expected = "π/3" if style == "pi" else "1.05"
    assert any(t.get_text() == expected for t in fig.axes[0].texts)


def test_figures_show_once_under_the_inline_backend(monkeypatch):
    fig = draw(sample())
    assert fig.number in plt.get_fignums()  # Agg (scripts): left open for plt.show()
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    fig = draw(sample())
    assert fig.number not in plt.get_fignums()  # inline: closed, shown once as the cell's value
    own, ax = plt.subplots()
    assert draw(sample(), ax=ax) is own and own.number in plt.get_fignums()  # the caller's figure: untouched
