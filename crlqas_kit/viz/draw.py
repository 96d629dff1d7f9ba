"""Circuit drawings: a text drawer for terminals and a matplotlib drawer.

Layout: wires left to right, qubit 0 on top, gates placed ASAP in layers (the same layering as
the RL encoding). Rotations are boxes coloured by axis with the angle on a second line; a CNOT
is a control dot, a vertical line and an open target circle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sim.circuit import Circuit

COLORS = {
    "rx": "#f4a6a6",
    "ry": "#a6d8f4",
    "rz": "#b8e6a6",
    "h": "#f4e3a6",
    "x": "#d9c2f0",
    "y": "#d9c2f0",
    "z": "#d9c2f0",
    "s": "#f4e3a6",
    "sx": "#f4e3a6",
    "cz": "#cccccc",
}


def layers(circuit: Circuit) -> list[list[tuple[str, tuple[int, ...], float | None]]]:
    """Gates grouped into ASAP layers (a CNOT occupies both its wires)."""
    moments = [0] * circuit.n_qubits
    out: list[list] = []
    for op in circuit.ops():
        _, wires, _ = op
        lo, hi = min(wires), max(wires)
        span = range(lo, hi + 1) if len(wires) == 2 else wires
        layer = max(moments[q] for q in span)
        for q in span:
            moments[q] = layer + 1
        while len(out) <= layer:
            out.append([])
        out[layer].append(op)
    return out


def format_angle(theta: float, style: str = "decimal") -> str:
    """``"0.785"`` or, with ``style="pi"``, the nearest simple fraction of pi (``"π/4"``)."""
    if style == "pi":
        for den in (1, 2, 3, 4, 6, 8, 12):
            num = theta * den / np.pi
            if abs(num - round(num)) < 1e-6:
                num = int(round(num))
                if num == 0:
                    return "0"
                sign = "-" if num < 0 else ""
                top = "π" if abs(num) == 1 else f"{abs(num)}π"
                return f"{sign}{top}" if den == 1 else f"{sign}{top}/{den}"
    return f"{theta:.3g}"


def draw_text(circuit: Circuit, angles: bool = True) -> str:
    """One row per wire: ``q0: ─RY(0.3)──●──``."""
    rows = [[f"q{q}: "] for q in range(circuit.n_qubits)]
    for layer in layers(circuit):
        cells = {q: "" for q in range(circuit.n_qubits)}
        for name, wires, theta in layer:
            if name in ("cx", "cz"):
                a, b = wires
                cells[a] = "●"
                cells[b] = "⊕" if name == "cx" else "●"
                for q in range(min(a, b) + 1, max(a, b)):
                    cells[q] = "│"
            else:
                label = name.upper() + (f"({format_angle(theta)})" if angles and theta is not None else "")
                cells[wires[0]] = label
        width = max(len(c) for c in cells.values()) + 2
        for q in range(circuit.n_qubits):
            c = cells[q] or "─"
            rows[q].append(c.center(width, "─"))
    return "\n".join("".join(r) + "─" for r in rows)


def draw(
    circuit: Circuit,
    ax: Any = None,
    highlight_last: bool = False,
    angle_style: str = "decimal",
    fold: int = 20,
    title: str | None = None,
):
    """Matplotlib drawing; returns the figure. ``fold``: layers per row before wrapping."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyBboxPatch

    lay = layers(circuit)
    n = circuit.n_qubits
    n_rows = max(1, -(-len(lay) // fold))
    per_row = min(max(len(lay), 1), fold)
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.2 + 0.9 * per_row, 0.2 + 0.55 * n * n_rows + 0.3 * (n_rows - 1)))
    else:
        fig = ax.figure
    last = circuit.ops()[-1] if (highlight_last and len(circuit)) else None
    row_height = n + 0.8
    for r in range(n_rows):
        y0 = -r * row_height
        for q in range(n):
            ax.plot([-0.6, per_row - 0.4], [y0 - q, y0 - q], color="black", lw=1, zorder=0)
            ax.text(-0.8, y0 - q, f"q{q}", ha="right", va="center", fontsize=10)
    for i, layer in enumerate(lay):
        r, x = divmod(i, fold)
        y0 = -r * row_height
        for op in layer:
            name, wires, theta = op
            edge = "#d62728" if op == last else "black"
            lw = 2.0 if op == last else 1.0
            if name in ("cx", "cz"):
                a, b = wires
                ax.plot([x, x], [y0 - a, y0 - b], color=edge, lw=lw, zorder=1)
                ax.add_patch(Circle((x, y0 - a), 0.09, color=edge, zorder=2))
                if name == "cx":
                    ax.add_patch(Circle((x, y0 - b), 0.2, facecolor="white", edgecolor=edge, lw=lw, zorder=2))
                    ax.plot([x - 0.2, x + 0.2], [y0 - b, y0 - b], color=edge, lw=lw, zorder=3)
                    ax.plot([x, x], [y0 - b - 0.2, y0 - b + 0.2], color=edge, lw=lw, zorder=3)
                else:
                    ax.add_patch(Circle((x, y0 - b), 0.09, color=edge, zorder=2))
            else:
                q = wires[0]
                box = FancyBboxPatch(
                    (x - 0.36, y0 - q - 0.3),
                    0.72,
                    0.6,
                    boxstyle="round,pad=0.02,rounding_size=0.12",
                    facecolor=COLORS.get(name, "#dddddd"),
                    edgecolor=edge,
                    lw=lw,
                    zorder=2,
                )
                ax.add_patch(box)
                label = name.upper() if theta is None else f"{name.upper()}\n{format_angle(theta, angle_style)}"
                ax.text(x, y0 - q, label, ha="center", va="center", fontsize=7 if theta is not None else 9, zorder=3)
    ax.set_xlim(-1.2, per_row - 0.2)
    ax.set_ylim(-(n_rows - 1) * row_height - n + 0.4, 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
