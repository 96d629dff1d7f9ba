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

One module per panel (``circuit_builder``, ``noise_explorer``, ``spsa_playground``,
``search_panel``, ``replay_slider``); what they share is in ``_base``.
"""

from .circuit_builder import CircuitBuilder
from .noise_explorer import NoiseExplorer
from .replay_slider import ReplaySlider
from .search_panel import SearchPanel
from .spsa_playground import SPSAPlayground

__all__ = ["CircuitBuilder", "NoiseExplorer", "ReplaySlider", "SPSAPlayground", "SearchPanel"]
