"""The compute-optimal frontier straight from runs: IsoFLOP profiles, the training-curve
envelope, and the three approaches of Hoffmann et al. (2022) side by side.

>>> import powerfit as pf
>>> iso = pf.isoflop(pf.datasets.porian2024(), compute="flops", size="n", tokens="t",
...                  by=["dataset", "hparams", "warmup", "decay", "param_count", "val"])
>>> iso.table[["dataset", "hparams", "a", "a_lower", "a_upper"]]        # doctest: +SKIP

- :func:`isoflop` (Approach 2): at each FLOP budget, the minimum of log loss over log model size,
  located by a local parabola around the lowest sampled point; budgets whose lowest point is the
  smallest or largest sampled size are dropped (and listed). N*(C) = k_N C^a and
  D*(C) = k_D C^b are then fitted by least squares in log-log.
- :func:`envelope` (Approach 1): from training curves, the lowest loss of any run at each budget
  of a log-spaced grid, and the model size attaining it; the same power-law fits.
- :func:`compare_approaches`: Approaches 1, 2 and 3 (a parametric ``pf.fit``) on the same data,
  a, b, N*(C) and D*(C) at given budgets with bootstrap intervals, in one table.

All numerics (optima, fits, bootstrap replicates, intervals) run in the Rust core with the GIL
released, in one call for all groups; results come back as columns. The figures are in
:mod:`powerfit.plot` (``plot_isoflop``, ``plot_envelope``, or the results' ``plot()``).
"""

from __future__ import annotations

from .compare import ApproachComparison, compare_approaches
from .envelope import envelope
from .isoflop import isoflop
from .results import STATUS_NAMES, EnvelopeResult, IsoflopResult

__all__ = [
    "STATUS_NAMES",
    "ApproachComparison",
    "EnvelopeResult",
    "IsoflopResult",
    "compare_approaches",
    "envelope",
    "isoflop",
]
