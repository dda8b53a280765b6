"""Forecasts you can check: rollout validation, law comparison and forecast intervals.

A scaling law is fitted to decide what to train next, so what matters is how well it predicts
scales it has not seen. These tools measure exactly that, on your own runs:

>>> import powerfit as pf
>>> roll = pf.rollout(df, law="m4", by="N")          # fit on the k smallest sizes, predict the rest
>>> roll.splits                                      # per split: relative error, log-loss RMSE, ...
>>> cmp = pf.compare_laws(df, laws=["power", "m4", "bnsl"], by="N")
>>> law, evidence = pf.select_law(df, by="N")        # the law that extrapolated best, and why
>>> pf.forecast_interval(fit, roll, boot, N=[7e10])  # bootstrap + measured extrapolation error
>>> sel = pf.select_laws(curves, groups="run", by="D")  # the same for every curve, in bulk

Fits run in the Rust core through :func:`powerfit.fit`; the splits of one rollout are few (one
per distinct scale), so they are fitted one after another. :func:`select_laws` fits the splits of
many curves in one bulk fit per law (:func:`powerfit.fit_groups`).
"""

from .bulk import GroupSelection, select_laws
from .compare import (
    ND_CANDIDATES,
    SINGLE_VARIABLE_CANDIDATES,
    LawComparison,
    Selection,
    candidate_laws,
    compare_laws,
    select_law,
)
from .intervals import extrapolation_distance, forecast_interval
from .rollout import RolloutResult, rollout

__all__ = [
    "ND_CANDIDATES",
    "SINGLE_VARIABLE_CANDIDATES",
    "GroupSelection",
    "LawComparison",
    "RolloutResult",
    "Selection",
    "candidate_laws",
    "compare_laws",
    "extrapolation_distance",
    "forecast_interval",
    "rollout",
    "select_law",
    "select_laws",
]
