"""powerfit: fit neural scaling laws with a Rust engine.

>>> import powerfit as pf
>>> res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
>>> print(res.summary())
"""

from __future__ import annotations

from . import analysis, compute, datasets, diagnosis, forecast, laws, readers, schedules, testtime
from ._core import __version__
from .api import fit, fit_groups
from .bootstrap import BootstrapResult
from .compute import Budget
from .diagnosis import Diagnosis, diagnose
from .errors import (
    InvalidDataError,
    InvalidLawError,
    InvalidOptionError,
    PowerfitError,
    PowerfitWarning,
)
from .expr import Law
from .fit import FitResult, bootstrap, load
from .forecast import (
    GroupSelection,
    LawComparison,
    RolloutResult,
    Selection,
    compare_laws,
    forecast_interval,
    rollout,
    select_law,
    select_laws,
)
from .frontier import (
    ApproachComparison,
    EnvelopeResult,
    IsoflopResult,
    compare_approaches,
    envelope,
    isoflop,
)
from .holdout import extrapolation_check
from .plot import plot_envelope, plot_isoflop
from .runs import read_runs
from .testtime import (
    CoverageResult,
    fit_coverage,
    pass_at_k,
    sampling_cost,
    sampling_tradeoff,
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
    "forecast",
    "rollout",
    "RolloutResult",
    "compare_laws",
    "GroupSelection",
    "LawComparison",
    "select_law",
    "select_laws",
    "Selection",
    "forecast_interval",
    "PowerfitError",
    "InvalidDataError",
    "InvalidLawError",
    "InvalidOptionError",
    "PowerfitWarning",
    "compute",
    "Budget",
    "diagnosis",
    "diagnose",
    "Diagnosis",
    "schedules",
    "testtime",
    "pass_at_k",
    "fit_coverage",
    "CoverageResult",
    "sampling_tradeoff",
    "sampling_cost",
]

# In a Jupyter kernel: figures display inline and results as HTML (nothing happens elsewhere).
from ._display import enable_notebook_display as _enable_notebook_display

_enable_notebook_display()
