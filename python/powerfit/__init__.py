"""powerfit: fit neural scaling laws with a Rust engine.

>>> import powerfit as pf
>>> res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
>>> print(res.summary())
"""

from __future__ import annotations

from . import analysis, datasets, laws, readers
from ._core import __version__
from .errors import (
    InvalidDataError,
    InvalidLawError,
    InvalidOptionError,
    PowerfitError,
    PowerfitWarning,
)
from .bootstrap import BootstrapResult, bootstrap
from .analysis import extrapolation_check
from .expr import Law
from .fit import FitResult, fit
from .io import load
from .groups import fit_groups
from .runs import read_runs
from .frontier import (
    ApproachComparison,
    EnvelopeResult,
    IsoflopResult,
    compare_approaches,
    envelope,
    isoflop,
    plot_envelope,
    plot_isoflop,
)

__all__ = [
    "__version__",
    "fit",
    "FitResult",
    "Law",
    "extrapolation_check",
    "analysis",
    "load",
    "fit_groups",
    "read_runs",
    "readers",
    "isoflop",
    "IsoflopResult",
    "envelope",
    "EnvelopeResult",
    "compare_approaches",
    "ApproachComparison",
    "plot_isoflop",
    "plot_envelope",
    "bootstrap",
    "BootstrapResult",
    "datasets",
    "laws",
    "PowerfitError",
    "InvalidDataError",
    "InvalidLawError",
    "InvalidOptionError",
    "PowerfitWarning",
]

# In a Jupyter kernel: figures display inline and results as HTML (nothing happens elsewhere).
from ._display import enable_notebook_display as _enable_notebook_display  # noqa: E402

_enable_notebook_display()
