"""Drawings, figures and widgets (matplotlib / ipywidgets live here, never in the core)."""

from .draw import draw, draw_text, layers
from .plots import error_curve, learning_curve, threshold_curve, write_report

__all__ = ["draw", "draw_text", "error_curve", "layers", "learning_curve", "threshold_curve", "write_report"]
