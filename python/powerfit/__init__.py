"""powerfit: fit neural scaling laws with a Rust engine.

>>> import powerfit as pf
>>> res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
>>> print(res.summary())
"""

from __future__ import annotations

from . import analysis, datasets, laws
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
from .fit import FitResult, fit
from .io import load
from .groups import fit_groups

__all__ = [
    "__version__",
    "fit",
    "FitResult",
    "extrapolation_check",
    "analysis",
    "load",
    "fit_groups",
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
