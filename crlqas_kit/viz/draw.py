"""Circuit drawings: a text drawer for terminals and docstrings, and a matplotlib drawer.

Layout: wires left to right, qubit 0 on top, gates placed ASAP in layers. A gate goes to the
first layer after every wire it touches is free; a CNOT also occupies the wires *between* its
control and target (its vertical line crosses them), so nothing is drawn under that line. For
adjacent wires this is exactly the RL encoding's layering (:mod:`crlqas_kit.rl.actions`).

Rotations are rounded boxes coloured by gate family (RX red, RY blue, RZ green, Paulis violet,
Cliffords yellow) with the angle on a second line, as decimals (``angle_style="decimal"``) or as
simple fractions of pi (``angle_style="pi"``, falling back to decimals). A CNOT is a control dot,
a vertical line and an open target circle with a plus. Long circuits fold into several rows of
``fold`` layers. The newest gate can be highlighted (red edge) to follow a growing circuit.

Minus signs in the matplotlib drawing use the typographic minus (U+2212): the ASCII hyphen is a
1-2 pixel dash at small sizes and disappeared in low-resolution PNGs. Font sizes follow the
drawing's scale, so a label always fits its box (long labels get a smaller font, never clipping).

Artists carry gids for tests and post-processing: ``"gate<i>:box"``, ``"gate<i>:label"``, ``"gate<i>:angle"``,
``"gate<i>:line"``, ``"gate<i>:control"``, ``"gate<i>:target"`` (``i`` = position in
``circuit.ops()``), ``"wire<q>:row<r>"`` and ``"label<q>:row<r>"``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np

from .._checks import check_int
from ..sim.circuit import Circuit

#: Fill colour by gate family.
COLORS = {
    "rx": "#f4a6a6",
    "ry": "#a6d8f4",
    "rz": "#b8e6a6",
    "x": "#d9c2f0",
    "y": "#d9c2f0",
    "z": "#d9c2f0",
    "h": "#f4e3a6",
    "s": "#f4e3a6",
    "sx": "#f4e3a6",
    "cz": "#cccccc",
}
#: Edge colour of the highlighted (newest) gate.
HIGHLIGHT = "#d62728"
MINUS = "\u2212"
BOX_W, BOX_H = 0.78, 0.64  # in layer / wire units
ROW_GAP = 0.7  # empty wire units between folded rows

Op = tuple[str, tuple[int, ...], float | None]


def shown_once(fn):
    """Decorator for functions returning a figure: under Jupyter's inline backend a figure they
    created with pyplot is closed, so it shows once as the cell's value (open pyplot figures are
    shown again at the end of the cell) -- Qiskit's drawers do the same. ``fig = f(...)`` then
    shows nothing until ``fig`` is displayed. Other backends (scripts, ``plt.show()``) are untouched."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        pyplot = sys.modules.get("matplotlib.pyplot")  # never imported here: widgets draw in threads
        before = set(pyplot.get_fignums()) if pyplot else set()
        fig = fn(*args, **kwargs)
        if getattr(fig.canvas, "manager", None) is not None and fig.number not in before:
            import matplotlib
            import matplotlib.pyplot as plt

            if "inline" in matplotlib.get_backend():
                plt.close(fig)
        return fig

    return wrapper


def figure_axes(ax=None, figsize=(6, 3.5)):
    """``(figure, axes)`` for a figure function: ``ax``'s own, or a new pyplot figure of ``figsize``."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def as_circuit(circuit: Any) -> Circuit:
    """A :class:`Circuit` from a circuit, a JSON circuit record (``{"n_qubits", "ops"}``) or a
    best-circuit entry of :class:`~crlqas_kit.results.Results` (``{"circuit": record, ...}``)."""
    if isinstance(circuit, Circuit):
        return circuit
    if isinstance(circuit, dict) and "circuit" in circuit:
        circuit = circuit["circuit"]
    if isinstance(circuit, dict) and "ops" in circuit:
        ops = [(n, tuple(w), a) for n, w, a in circuit["ops"]]
        return Circuit.from_ops(int(circuit["n_qubits"]), ops)
    raise TypeError(f"expected a Circuit or a circuit record with 'n_qubits' and 'ops', got {type(circuit).__name__}")


def _placed(circuit: Circuit) -> list[list[tuple[int, Op]]]:
    """``[(op index, op), ...]`` per ASAP layer (a two-qubit gate blocks the wires it spans)."""
    moments = [0] * circuit.n_qubits
    out: list[list[tuple[int, Op]]] = []
    for i, op in enumerate(circuit.ops()):
        wires = op[1]
        span = range(min(wires), max(wires) + 1)
        layer = max(moments[q] for q in span)
        for q in span:
            moments[q] = layer + 1
        while len(out) <= layer:
            out.append([])
        out[layer].append((i, op))
    return out


def layers(circuit: Circuit) -> list[list[Op]]:
    """Gates grouped into ASAP layers: ``[[(name, wires, angle), ...], ...]``."""
    return [[op for _, op in layer] for layer in _placed(as_circuit(circuit))]


def format_angle(theta: float, style: str = "decimal", minus: str = "-", digits: int = 3) -> str:
    """An angle as text: ``"0.785"`` (at most ``digits`` significant digits and decimals) or, with ``style="pi"``, the
    nearest simple fraction of pi (``"π/4"``, ``"-3π/4"``) when within 1e-6, else decimals.
    ``minus`` replaces the ASCII hyphen (the matplotlib drawer passes U+2212)."""
    if style not in ("decimal", "pi"):
        raise ValueError(f"angle_style must be 'decimal' or 'pi', got {style!r}")
    text = None
    if style == "pi":
        for den in (1, 2, 3, 4, 6, 8, 12):
            num = theta * den / np.pi
            if abs(num - round(num)) < 1e-6:
                num = int(round(num))
                top = "π" if abs(num) == 1 else f"{abs(num)}π"
                text = "0" if num == 0 else ("-" if num < 0 else "") + (top if den == 1 else f"{top}/{den}")
                break
    if text is None:
        text = f"{round(theta, digits):.{digits}g}"
        if text in ("-0", "-0.0"):
            text = "0"
    return text.replace("-", minus)


# -------------------------------------------------------------------------------------------
# text
# -------------------------------------------------------------------------------------------


def draw_text(circuit: Circuit, angles: bool = True, angle_style: str = "decimal", fold: int | None = None) -> str:
    """One row per wire, e.g. ``q0: ─RY(0.3)──●──`` / ``q1: ──────────⊕──``.

    CNOT: ``●`` control, ``⊕`` target, ``┼`` where its line crosses a wire; CZ: ``●`` on both.
    ``fold``: layers per block (blocks separated by a blank line); None = one block.
    """
    circuit = as_circuit(circuit)
    n = circuit.n_qubits
    heads = [f"q{q}: ".ljust(len(f"q{n - 1}: ")) for q in range(n)]
    columns = []
    for layer in layers(circuit):
        cells = {q: "" for q in range(n)}
        for name, wires, theta in layer:
            if len(wires) == 2:
                a, b = wires
                cells[a], cells[b] = "●", ("⊕" if name == "cx" else "●")
                for q in range(min(a, b) + 1, max(a, b)):
                    cells[q] = "┼"
            else:
                arg = f"({format_angle(theta, angle_style)})" if angles and theta is not None else ""
                cells[wires[0]] = name.upper() + arg
        width = max(len(c) for c in cells.values()) + 2
        columns.append([(cells[q] or "─").center(width, "─") for q in range(n)])
    step = fold if fold else max(len(columns), 1)
    blocks = []
    for start in range(0, max(len(columns), 1), step):
        chunk = columns[start : start + step]
        blocks.append("\n".join(heads[q] + "─" + "".join(c[q] for c in chunk) + "─" for q in range(n)))
    return "\n\n".join(blocks)


# -------------------------------------------------------------------------------------------
# matplotlib
# -------------------------------------------------------------------------------------------


def _geometry(n_layers: int, n_qubits: int, fold: int) -> tuple[int, int, float]:
    """``(n_rows, layers per row, row height)``."""
    check_int(fold, "fold", unit="layers per row")
    n_rows = max(1, -(-n_layers // fold))
    return n_rows, min(max(n_layers, 1), fold), n_qubits + ROW_GAP


def _limits(n_layers: int, n_qubits: int, fold: int) -> tuple[tuple[float, float], tuple[float, float]]:
    n_rows, per_row, row_h = _geometry(n_layers, n_qubits, fold)
    return (-1.3, per_row - 0.15), (-(n_rows - 1) * row_h - (n_qubits - 1) - 0.55, 0.55)


def circuit_figsize(
    circuit: Circuit, fold: int = 20, scale: float = 0.6, title: str | bool = ""
) -> tuple[float, float]:
    """Figure size (inches) at which :func:`draw` renders ``scale`` inches per layer (wide
    enough for a ``title`` string at 10 pt)."""
    circuit = as_circuit(circuit)
    (x0, x1), (y0, y1) = _limits(len(_placed(circuit)), circuit.n_qubits, fold)
    width = max(scale * (x1 - x0), 0.09 * len(title) + 0.2 if isinstance(title, str) else 0.0)
    return width, scale * (y1 - y0 + (0.5 if title else 0.0))


def circuit_axes(circuit: Circuit, fold: int = 20, scale: float = 0.6, title: str | bool = "", pyplot: bool = True):
    """``(figure, axes)`` sized for :func:`draw` (``pyplot=False``: a bare ``Figure`` that pyplot
    does not track, for widgets and threads)."""
    size = circuit_figsize(circuit, fold, scale, title)
    if pyplot:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size)
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
    top = 1.0 - (0.5 * scale / size[1] if title else 0.0)
    return fig, fig.add_axes((0.0, 0.0, 1.0, top))


def _points_per_unit(ax, xlim, ylim) -> float:
    """Points per data unit of an equal-aspect axes showing ``xlim`` x ``ylim``."""
    fig = ax.figure
    pos = ax.get_position()
    w_in, h_in = pos.width * fig.get_figwidth(), pos.height * fig.get_figheight()
    return 72.0 * min(w_in / (xlim[1] - xlim[0]), h_in / (ylim[1] - ylim[0]))


def _fit(label: str, base: float, box_pt: float) -> float:
    """Font size so that ``label`` (one line) fits ``box_pt`` points (~0.68 em per character)."""
    return float(min(base, 0.9 * box_pt / (0.68 * max(len(label), 1))))


@shown_once
def draw(
    circuit: Circuit,
    ax: Any = None,
    highlight_last: bool = False,
    angle_style: str = "decimal",
    fold: int = 20,
    title: str | None = None,
    *,
    highlight: int | None = None,
    show_angles: bool = True,
    scale: float = 0.6,
):
    """Draw ``circuit`` with matplotlib and return the figure.

    Args:
        circuit: a :class:`Circuit` (or a circuit record / best-circuit entry of a run).
        ax: axes to draw on (a new figure sized by :func:`circuit_figsize` when None).
        highlight_last: give the newest gate a red edge (:data:`HIGHLIGHT`).
        angle_style: ``"decimal"`` or ``"pi"`` (fractions of pi when exact).
        fold: layers per row; longer circuits wrap into several rows, top to bottom.
        title: axes title.
        highlight: index (in ``circuit.ops()``) of a gate to highlight instead of the newest.
        show_angles: print the angle under the gate name.
        scale: inches per layer when the figure is created here.
    """
    from matplotlib.patches import Circle, FancyBboxPatch

    circuit = as_circuit(circuit)
    placed = _placed(circuit)
    n = circuit.n_qubits
    n_rows, per_row, row_h = _geometry(len(placed), n, fold)
    xlim, ylim = _limits(len(placed), n, fold)
    if ax is None:
        fig, ax = circuit_axes(circuit, fold, scale, title=title or "")
    fig = ax.figure
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ppu = _points_per_unit(ax, xlim, ylim)
    base = min(10.0, 0.24 * ppu)
    w_pt = BOX_W * ppu
    if highlight is None and highlight_last and len(circuit):
        highlight = len(circuit) - 1

    def text(x, y, s, size, gid):
        ax.text(x, y, s, ha="center", va="center", fontsize=size, zorder=3, gid=gid)

    for r in range(n_rows):
        y0 = -r * row_h
        row_layers = min(per_row, len(placed) - r * per_row) if placed else per_row
        for q in range(n):
            ax.plot([-0.7, row_layers - 0.3], [y0 - q, y0 - q], color="black", lw=1, zorder=0, gid=f"wire{q}:row{r}")
            ax.text(
                -0.8, y0 - q, f"q{q}", ha="right", va="center", fontsize=min(11.0, base * 1.1), gid=f"label{q}:row{r}"
            )

    for d, layer in enumerate(placed):
        r, x = divmod(d, per_row)
        y0 = -r * row_h
        for i, (name, wires, theta) in layer:
            hot = i == highlight
            edge, lw = (HIGHLIGHT, 2.2) if hot else ("black", 1.0)
            gid = f"gate{i}"
            if len(wires) == 2:
                a, b = wires
                ax.plot([x, x], [y0 - a, y0 - b], color=edge, lw=lw, zorder=1, gid=f"{gid}:line")
                ax.add_patch(Circle((x, y0 - a), 0.1, color=edge, zorder=2, gid=f"{gid}:control"))
                if name == "cx":
                    ax.add_patch(
                        Circle(
                            (x, y0 - b), 0.22, facecolor="white", edgecolor=edge, lw=lw, zorder=2, gid=f"{gid}:target"
                        )
                    )
                    ax.plot([x - 0.22, x + 0.22], [y0 - b] * 2, color=edge, lw=lw, zorder=3, gid=f"{gid}:target")
                    ax.plot([x, x], [y0 - b - 0.22, y0 - b + 0.22], color=edge, lw=lw, zorder=3, gid=f"{gid}:target")
                else:
                    ax.add_patch(Circle((x, y0 - b), 0.1, color=edge, zorder=2, gid=f"{gid}:target"))
                continue
            q = wires[0]
            box = FancyBboxPatch(
                (x - BOX_W / 2, y0 - q - BOX_H / 2),
                BOX_W,
                BOX_H,
                boxstyle="round,pad=0.0,rounding_size=0.12",
                facecolor=COLORS.get(name, "#dddddd"),
                edgecolor=edge,
                lw=lw,
                zorder=2,
                gid=f"{gid}:box",
            )
            ax.add_patch(box)
            head, y = name.upper(), y0 - q
            if theta is None or not show_angles:
                text(x, y, head, _fit(head, base, w_pt), f"{gid}:label")
            else:
                angle = format_angle(theta, angle_style, MINUS)
                text(x, y + 0.14, head, _fit(head, 0.8 * base, w_pt), f"{gid}:label")
                text(x, y - 0.15, angle, _fit(angle, 0.8 * base, w_pt), f"{gid}:angle")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
