"""Drawings, figures and widgets (matplotlib / ipywidgets live here, never in the core).

``draw``/``draw_text`` draw circuits; the figure functions all accept ``ax=`` and return the
figure. The ipywidgets panels live in :mod:`crlqas_kit.viz.widgets` (imported on demand, so the
figures work without ipywidgets).
"""

from .draw import circuit_figsize, draw, draw_text, format_angle, layers
from .plots import bloch_shrink, energy_landscape, param_names, ptm_heatmap, spsa_trace
from .report import comparison_table, write_report
from .search_curves import comparison_curves, curriculum_curve, error_curve, learning_curve, threshold_curve

__all__ = [
    "comparison_curves",
    "comparison_table",
    "curriculum_curve",
    "bloch_shrink",
    "circuit_figsize",
    "draw",
    "draw_text",
    "energy_landscape",
    "error_curve",
    "format_angle",
    "layers",
    "learning_curve",
    "param_names",
    "ptm_heatmap",
    "spsa_trace",
    "threshold_curve",
    "write_report",
]
