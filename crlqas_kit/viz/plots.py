"""Physics figures: energy landscapes, PTMs, noise channels and optimiser traces.

:func:`energy_landscape` (energy along one or two angles), :func:`ptm_heatmap`,
:func:`bloch_shrink` (what a 1-qubit channel does to the Bloch ball) and :func:`spsa_trace`
(optimiser traces). Every function accepts ``ax=`` and returns the figure; artists carry gids
(``"landscape"``, ``"trace:<label>"``, ...) for tests.

A search's figures (:func:`learning_curve`, :func:`error_curve`, :func:`threshold_curve`,
:func:`comparison_curves`, :func:`curriculum_curve`, :func:`best_entry`) live in
:mod:`crlqas_kit.viz.search_curves` and the report (:func:`write_report`,
:func:`comparison_table`, :func:`comparison_summary`) in :mod:`crlqas_kit.viz.report`; both
are re-exported here, where they were until issue 13.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..problems import CHEMICAL_ACCURACY, Problem
from .draw import MINUS, as_circuit, figure_axes, format_angle, shown_once
from .report import comparison_summary, comparison_table, write_report  # noqa: F401  (re-exported)
from .search_curves import (  # noqa: F401  (re-exported)
    best_entry,
    comparison_curves,
    curriculum_curve,
    error_curve,
    learning_curve,
    threshold_curve,
)


def param_names(circuit) -> list[str]:
    """``["θ0 RY(0)", "θ1 RX(1)", ...]``: each rotation angle with its gate, in parameter order."""
    ops = [op for op in as_circuit(circuit).ops() if op[2] is not None]
    return [f"θ{k} {name.upper()}({wires[0]})" for k, (name, wires, _) in enumerate(ops)]


def _pi_ticks(axis, span):
    if np.allclose(span, (-np.pi, np.pi)):
        ticks = np.linspace(-np.pi, np.pi, 5)
        axis.set_ticks(ticks, [format_angle(t, "pi", MINUS) for t in ticks])


@shown_once
def energy_landscape(
    problem_or_hamiltonian,
    circuit,
    which: int | Sequence[int] = (0,),
    noise=None,
    grid: int | None = None,
    ax=None,
    *,
    span: tuple[float, float] = (-np.pi, np.pi),
    params=None,
):
    """Energy of ``circuit`` as one angle (``which=(i,)``, a curve) or two (``(i, j)``, a map)
    sweep ``span``, the other angles fixed at ``params`` (default: the circuit's own).

    Angles are numbered in gate order (:func:`param_names`). With a :class:`Problem` the exact
    ground energy E0 is drawn (1-D: a dashed line; 2-D: noted in the title). The current point is
    marked; one batched, compiled simulator call evaluates the whole grid (``grid`` points per
    axis, default 61 for a curve and 41 for a map).
    """
    from ..sim.simulator import expectation_batch

    problem = problem_or_hamiltonian if isinstance(problem_or_hamiltonian, Problem) else None
    ham = problem.hamiltonian if problem else problem_or_hamiltonian
    circuit = as_circuit(circuit)
    which = (which,) if isinstance(which, int | np.integer) else tuple(which)
    names = param_names(circuit)
    if len(which) not in (1, 2) or any(not 0 <= int(i) < len(names) for i in which):
        raise ValueError(
            f"which must name 1 or 2 of the circuit's {len(names)} angles (0..{len(names) - 1}), got {which}"
        )
    base = np.asarray(circuit.params if params is None else params, dtype=float)
    grid = grid or (61 if len(which) == 1 else 41)
    thetas = np.linspace(span[0], span[1], grid)
    fig, ax = figure_axes(ax, (5, 3.5) if len(which) == 1 else (5, 4))
    if len(which) == 1:
        i = int(which[0])
        batch = np.tile(base, (grid + 1, 1))  # the last row is the current point: one call
        batch[:grid, i] = thetas
        *energies, current = expectation_batch(circuit, ham, noise, batch)
        ax.plot(thetas, energies, gid="landscape")
        ax.plot([base[i]], [current], "o", color="C3", label="current angles", gid="current")
        if problem is not None:
            ax.axhline(problem.e0, color="k", ls="--", lw=1, label="E0", gid="e0")
        ax.set(xlabel=names[i], ylabel="energy (Ha)", title="Energy landscape")
        _pi_ticks(ax.xaxis, span)
        ax.legend(fontsize=7)
        return fig
    i, j = (int(w) for w in which)
    ti, tj = np.meshgrid(thetas, thetas)  # rows: angle j (y axis), columns: angle i (x axis)
    batch = np.tile(base, (grid * grid, 1))
    batch[:, i], batch[:, j] = ti.ravel(), tj.ravel()
    energies = expectation_batch(circuit, ham, noise, batch).reshape(grid, grid)
    mesh = ax.pcolormesh(thetas, thetas, energies, shading="auto", cmap="viridis", gid="landscape")
    ax.contour(thetas, thetas, energies, levels=8, colors="white", linewidths=0.5, alpha=0.6)
    fig.colorbar(mesh, ax=ax, label="energy (Ha)")
    ax.plot([base[i]], [base[j]], "o", color="C3", label="current angles", gid="current")
    k = np.unravel_index(np.argmin(energies), energies.shape)
    ax.plot([thetas[k[1]]], [thetas[k[0]]], "*", color="white", ms=10, label="grid minimum", gid="minimum")
    title = "Energy landscape" + (f" (E0 = {problem.e0:.4f} Ha)" if problem else "")
    ax.set(xlabel=names[i], ylabel=names[j], title=title)
    _pi_ticks(ax.xaxis, span)
    _pi_ticks(ax.yaxis, span)
    ax.legend(fontsize=7, loc="upper right")
    return fig


@shown_once
def ptm_heatmap(ptm, ax=None, title: str | None = None, annotate: bool | None = None, colorbar: bool = True):
    """A PTM ``R_PQ`` (rows: output Pauli P, columns: input Pauli Q) on a red-blue scale from −1
    to 1. ``annotate``: print the entries (default for 1-qubit, 4 x 4 matrices)."""
    from ..sim.paulis import pauli_string

    R = np.asarray(ptm, dtype=float)
    k = int(round(np.log(R.shape[0]) / np.log(4))) if R.ndim == 2 and R.shape[0] > 1 else 0
    if R.ndim != 2 or R.shape[0] != R.shape[1] or k < 1 or 4**k != R.shape[0]:
        raise ValueError(f"a PTM is a square 4^k x 4^k matrix, got shape {R.shape}")
    fig, ax = figure_axes(ax, (4.4, 3.5) if k == 1 else (6.8, 5.6))
    im = ax.imshow(R, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", gid="ptm")  # auto: the layout fits
    labels = [pauli_string(i, k) for i in range(4**k)]
    ax.set_xticks(range(4**k), labels, fontsize=8 if k == 1 else 6, rotation=0 if k == 1 else 90)
    ax.set_yticks(range(4**k), labels, fontsize=8 if k == 1 else 6)
    ax.set(xlabel="input Pauli Q", ylabel="output Pauli P", title=title or "Pauli transfer matrix")
    if annotate if annotate is not None else k == 1:
        for (p, q), v in np.ndenumerate(R):
            color = "white" if abs(v) > 0.6 else "black"
            ax.text(q, p, f"{v:.2f}".replace("-", MINUS), ha="center", va="center", fontsize=8, color=color)
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.85)
    return fig


_AXES = {"x": 1, "y": 2, "z": 3}


@shown_once
def bloch_shrink(channel_ptm, ax=None, planes: Sequence[str] | None = None, title: str | None = None):
    """What a 1-qubit channel does to the Bloch ball, one panel per plane (``"xz"``, ``"xy"``, ``"yz"``).

    The dashed unit circle is the pure states of that plane before the channel; each curve is
    its image ``r -> T r + t`` (``T = R[1:, 1:]``, ``t = R[1:, 0]``) projected on the plane, and the
    dot is the image of the maximally mixed state (the centre moves only for non-unital channels
    such as amplitude damping). For the usual channels (depolarizing, damping, thermal) the curve
    is the cross-section of the shrunk ellipsoid. ``channel_ptm``: a 4 x 4 PTM or ``{label: PTM}``.
    ``ax``: one Axes (one plane, default ``"xz"``) or a sequence of Axes (one per plane).
    """
    channels = dict(channel_ptm) if isinstance(channel_ptm, Mapping) else {"after": channel_ptm}
    channels = {str(k): np.asarray(v, dtype=float) for k, v in channels.items()}
    for label, R in channels.items():
        if R.shape != (4, 4):
            raise ValueError(f"bloch_shrink needs 1-qubit (4 x 4) PTMs; {label!r} has shape {R.shape}")
    if ax is None:
        import matplotlib.pyplot as plt

        planes = tuple(planes or ("xz", "xy"))
        fig, axes = plt.subplots(1, len(planes), figsize=(3.2 * len(planes), 3.4), squeeze=False, layout="constrained")
        axes = list(axes[0])
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        planes = tuple(planes or ("xz", "xy", "yz")[: len(axes)])
        fig = axes[0].figure
    if len(planes) != len(axes) or any(len(p) != 2 or set(p) - set(_AXES) or p[0] == p[1] for p in planes):
        raise ValueError(f"planes must be {len(axes)} pair(s) of distinct letters from 'xyz', got {planes}")
    phi = np.linspace(0, 2 * np.pi, 200)
    for plane, a in zip(planes, axes, strict=True):
        i, j = _AXES[plane[0]], _AXES[plane[1]]
        a.fill(np.cos(phi), np.sin(phi), color="0.93", zorder=0)
        a.plot(np.cos(phi), np.sin(phi), "--", color="0.5", lw=1, label="before", gid="before")
        for c, (label, R) in enumerate(channels.items()):
            r = np.zeros((phi.size, 4))
            r[:, 0], r[:, i], r[:, j] = 1.0, np.cos(phi), np.sin(phi)
            out = r @ R.T
            a.plot(out[:, i], out[:, j], color=f"C{c}", lw=1.8, label=label, gid=f"after:{label}")
            a.fill(out[:, i], out[:, j], color=f"C{c}", alpha=0.12)
            a.plot([R[i, 0]], [R[j, 0]], "o", color=f"C{c}", ms=4, gid=f"centre:{label}")
        a.set(xlim=(-1.15, 1.15), ylim=(-1.15, 1.15), xlabel=f"⟨{plane[0].upper()}⟩", ylabel=f"⟨{plane[1].upper()}⟩")
        a.set_aspect("equal")
        a.axhline(0, color="0.8", lw=0.5, zorder=0)
        a.axvline(0, color="0.8", lw=0.5, zorder=0)
    if ax is None:  # our own figure: the legend goes under the panels
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=7)
        fig.suptitle(title or "Bloch ball before and after the channel", fontsize=10)
    else:
        axes[0].legend(fontsize=7, loc="lower left")
        if title:
            axes[0].set_title(title, fontsize=10)
    return fig


def _history(trace) -> np.ndarray:
    h = trace.get("history") if isinstance(trace, Mapping) else getattr(trace, "history", trace)
    h = np.asarray(h, dtype=float).reshape(-1)
    if h.size == 0:
        raise ValueError("empty optimiser trace")
    return h


@shown_once
def spsa_trace(trace, ax=None, e0: float | Problem | None = None, error: bool = False, best: bool = True):
    """Optimiser traces: the objective per iteration (for SPSA the mean of its two perturbed
    evaluations) with the running best dashed. ``trace``: a ``VQEResult``/``SPSAResult``, a
    history array, or ``{label: trace}`` / a list of them to compare. ``e0`` (a number or a
    :class:`Problem`) adds the E0 line; ``error=True`` plots ``|E - E0|`` on a log scale with the
    chemical-accuracy line instead."""
    if isinstance(trace, Mapping) and "history" not in trace:
        traces = dict(trace)
    elif isinstance(trace, list | tuple):
        traces = {f"run {k}": t for k, t in enumerate(trace)}
    else:
        traces = {getattr(trace, "method", "trace"): trace}
    e0 = e0.e0 if isinstance(e0, Problem) else e0
    if error and e0 is None:
        raise ValueError("error=True needs e0 (a number or a Problem)")
    fig, ax = figure_axes(ax)
    for c, (label, t) in enumerate(traces.items()):
        h = _history(t)
        y = np.maximum(np.abs(h - e0), 1e-12) if error else h
        x = np.arange(1, h.size + 1)
        ax.plot(x, y, color=f"C{c}", lw=1, alpha=0.8, label=str(label), gid=f"trace:{label}")
        if best:
            ax.plot(x, np.minimum.accumulate(y), "--", color=f"C{c}", lw=1.2, gid=f"best:{label}")
    if error:
        ax.set_yscale("log")
        ax.axhline(CHEMICAL_ACCURACY, color="k", ls=":", lw=1, label="chemical accuracy", gid="chemical_accuracy")
    elif e0 is not None:
        ax.axhline(e0, color="k", ls=":", lw=1, label="E0", gid="e0")
    ylabel = "|E − E0| (Ha)" if error else "energy (Ha)"
    ax.set(xlabel="iteration", ylabel=ylabel, title="Optimiser trace" + (" (dashed: best so far)" if best else ""))
    ax.legend(fontsize=7)
    return fig
