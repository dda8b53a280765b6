"""Every figure powerfit draws: fits, bootstrap runs, frontiers, diagnoses, test-time scaling
(matplotlib, the optional extra ``powerfit[plot]``).

Every function builds a :class:`matplotlib.figure.Figure` on the Agg canvas directly, without
pyplot: nothing global changes (the backend of an interactive session is left alone, and figures
are not kept alive by pyplot's registry), so plotting is safe in scripts, servers and threads.
Each returns the Figure; save it with ``fig.savefig(path)`` or pass ``path=`` to write it
atomically. In Jupyter a returned Figure is displayed as usual.

- :func:`plot_fit`: data and the fitted law on log-log axes, one curve per slice (for laws of
  N and D: iso-FLOP curves, or loss against N for each D), with the bootstrap band.
- :func:`plot_residuals`: residuals against each variable, and their histogram.
- :func:`plot_bootstrap`: the replicates' parameter distributions and pairs.
- :func:`plot_frontier`: compute-optimal N*(C) and D*(C), and D*/N*, with bootstrap bands.
- :func:`plot_isoflop`, :func:`plot_envelope`: IsoFLOP profiles and training-curve envelopes.
- :func:`plot_diagnosis`: learning and capacity curves with each cell's regime.
- :func:`plot_coverage`, :func:`plot_tradeoff`: test-time scaling.
- :func:`plot_rollout`: forecast error against extrapolation distance (rollout validation).
"""

from __future__ import annotations

from ._base import MAX_BAND_REPLICATES, figure
from .bootstrap import plot_bootstrap
from .diagnosis import plot_diagnosis
from .fit import KINDS, plot_fit, plot_residuals
from .frontier import plot_envelope, plot_frontier, plot_isoflop
from .rollout import plot_rollout
from .testtime import plot_coverage, plot_tradeoff

__all__ = [
    "KINDS",
    "MAX_BAND_REPLICATES",
    "figure",
    "plot_bootstrap",
    "plot_coverage",
    "plot_diagnosis",
    "plot_envelope",
    "plot_fit",
    "plot_frontier",
    "plot_isoflop",
    "plot_residuals",
    "plot_tradeoff",
    "plot_rollout",
]
