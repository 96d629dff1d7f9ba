"""What every panel shares: PNG rendering of bare figures, the Jupyter front-end test, and
:class:`Panel` (``show`` / ``static`` / ``figure``)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import ipywidgets as W
from matplotlib.figure import Figure

from ..draw import circuit_axes, draw


def png(fig: Figure) -> bytes:
    """``fig`` rendered to PNG bytes (for an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def has_frontend() -> bool:
    """True inside a Jupyter kernel (a front end can render widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def displayable(out):
    """Make a bare ``Figure`` render as a PNG when it is a notebook cell's value (pyplot's inline
    backend, which would register that, may never have been loaded)."""
    if isinstance(out, Figure) and has_frontend():
        from IPython import get_ipython

        formatter = get_ipython().display_formatter.formatters["image/png"]
        try:
            formatter.lookup_by_type(Figure)
        except KeyError:
            formatter.for_type(Figure, png)
    return out


@contextlib.contextmanager
def busy(button: W.Button, label: W.HTML, message: str) -> Iterator[None]:
    """Show a panel as busy while its work blocks the kernel: ``button`` disabled (with an hourglass
    icon) and ``message`` in ``label``; both restored afterwards, also on errors."""
    icon, disabled, before = button.icon, button.disabled, label.value
    button.disabled, button.icon, label.value = True, "hourglass-half", f"<i>{message}</i>"
    try:
        yield
    except BaseException:
        label.value = before
        raise
    finally:
        button.disabled, button.icon = disabled, icon


def as_problem(problem):
    """A :class:`Problem` from a problem or its name."""
    from ...problems import load_problem

    return load_problem(problem) if isinstance(problem, str) else problem


def circuit_figure(circuit, title: str | None = None, highlight_last: bool = False, **kw) -> Figure:
    """A bare (pyplot-free) figure of ``circuit``; ``kw`` go to :func:`~crlqas_kit.viz.draw.draw`."""
    fig, ax = circuit_axes(circuit, kw.get("fold", 20), title=title or "", pyplot=False)
    return draw(circuit, ax=ax, highlight_last=highlight_last, title=title, **kw)


class Panel:
    """The base of every panel: ``widget`` is its ipywidgets container, ``figure()`` its picture."""

    widget: W.Widget

    def show(self):
        """Display the widget in Jupyter; elsewhere return the static figure (text is printed)."""
        if has_frontend():
            from IPython.display import display

            display(self.widget)
            return None
        out = self.static()
        if isinstance(out, str):
            print(out)
        return out

    def static(self):
        """A matplotlib figure (or text) of the panel's current state, for GitHub, CI and terminals."""
        return displayable(self.figure())

    def figure(self) -> Figure:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def _ipython_display_(self):
        self.show()
