"""The entry points users call as ``pf.fit`` and ``pf.fit_groups``: :func:`powerfit.fit.fit`
and :func:`powerfit.groups.fit_groups`, plus ``law="auto"``, which chooses the law by how well
each candidate extrapolates (rollout validation, see :mod:`powerfit.forecast`) before fitting
it. This module sits above them, so that none imports another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import wraps
from typing import Any

import numpy as np
import pandas as pd

from . import fit as _fit
from . import groups as _groups
from .errors import InvalidOptionError
from .expr import Law
from .forecast import select_law, select_laws
from .forecast.bulk import ROLLOUT_OPTIONS

#: The law name that asks for a selection.
AUTO = "auto"
#: Options of the selection (the rest go to the fits).
_SELECTION_OPTIONS = ("laws", "by", "validate", "min_train", "splits", "rtol")


@wraps(_fit.fit)
def fit(data: Any = None, law: str | Law = "chinchilla", **kwargs: Any) -> _fit.FitResult:
    if not (isinstance(law, str) and law == AUTO):
        return _fit.fit(data, law, **kwargs)
    return _fit_auto(data, **kwargs)


def _fit_auto(
    data: Any,
    *,
    selection: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> _fit.FitResult:
    """``law="auto"``: rank the candidate laws by held-out error on the data (``selection=``
    passes ``laws``, ``by``, ``validate``, ``min_train``, ``splits``, ``rtol`` to
    :func:`powerfit.select_law`), then fit the winner with the same loss and options. The
    result's :attr:`~powerfit.FitResult.selection` holds the evidence."""
    sel_opts = _selection_options(selection)
    shared = {k: kwargs[k] for k in ("x", "y", "columns") if k in kwargs}
    loss = kwargs.setdefault("loss", "log")
    laws: Sequence[Any] | None = sel_opts.pop("laws", None)
    chosen = select_law(data, laws, loss=loss, warn=kwargs.get("warn", True), **shared, **sel_opts)
    res = _fit.fit(data, chosen.law, **kwargs)
    return res.with_selection(chosen)


def _selection_options(selection: Mapping[str, Any] | None) -> dict[str, Any]:
    if selection is not None and not isinstance(selection, Mapping):
        raise InvalidOptionError("selection must be a dict of options")
    sel_opts = dict(selection or {})
    unknown = sorted(set(sel_opts) - set(_SELECTION_OPTIONS))
    if unknown:
        raise InvalidOptionError(
            f"selection= takes {', '.join(_SELECTION_OPTIONS)}; got {', '.join(unknown)}"
        )
    return sel_opts


@wraps(_groups.fit_groups)
def fit_groups(
    table: Any, by: str | Sequence[str], law: str | Law = "chinchilla", **kwargs: Any
) -> Any:
    if not (isinstance(law, str) and law == AUTO):
        return _groups.fit_groups(table, by, law, **kwargs)  # type: ignore[arg-type]
    return _fit_groups_auto(table, by, **kwargs)


def _fit_groups_auto(
    table: Any,
    by: str | Sequence[str],
    *,
    selection: Mapping[str, Any] | None = None,
    output: str | None = None,
    **kwargs: Any,
) -> Any:
    """``fit_groups(..., law="auto")``: :func:`powerfit.select_laws` chooses each group's law
    (``selection=`` passes ``laws``, ``by`` (the column that orders the runs), ``validate``,
    ``min_train``, ``splits``, ``rtol``), then each chosen law is fitted on its groups with all
    the options. One row per group: the keys, ``law``, the fit's columns (the union of the
    chosen laws' parameters), the selection's evidence, ``status`` and ``message``."""
    sel_opts = _selection_options(selection)
    validate = sel_opts.pop("validate", "rollout")
    if validate not in ("rollout", "last"):
        raise InvalidOptionError(f"validate must be 'rollout' or 'last', got {validate!r}")
    if validate == "last":
        sel_opts["splits"] = 1
    kwargs.setdefault("loss", "log")
    progress = kwargs.pop("progress", None)
    shared = ("x", "columns", "loss", *ROLLOUT_OPTIONS)
    roll_kw = {k: kwargs[k] for k in shared if k in kwargs}
    keys = [by] if isinstance(by, str) else list(by)
    rest = {k: v for k, v in kwargs.items() if k not in roll_kw}
    sel = select_laws(
        table,
        keys,
        sel_opts.pop("laws", None),
        sel_opts.pop("by", None),
        fit_options=rest,
        progress=progress,
        **roll_kw,
        **sel_opts,
    )
    # nullable integers and flags: a group without a fit must not turn seeds into floats
    fitted = [_nullable(f).assign(law=law) for law, f in sel.fits.items()]
    evidence = sel.table.drop(columns=["status", "message"])
    if not fitted:
        return _groups.as_flavour(sel.table, output, table)
    out = evidence.merge(
        pd.concat(fitted, ignore_index=True).drop(columns=["law"]), on=keys, how="left"
    )
    chosen = out["law"].notna().to_numpy()
    out["status"] = np.where(chosen, out["status"], sel.table["status"].to_numpy())
    out["message"] = np.where(chosen, out["message"], sel.table["message"].to_numpy())
    return _groups.as_flavour(out, output, table)


def _nullable(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer and boolean columns as pandas' nullable dtypes (exact when rows are missing)."""
    out = frame.copy()
    for c in out.columns:
        kind = out[c].dtype.kind
        if kind in "iu":
            out[c] = out[c].astype("UInt64" if kind == "u" else "Int64")
        elif kind == "b":
            out[c] = out[c].astype("boolean")
    return out


fit.__doc__ = (
    (_fit.fit.__doc__ or "")
    + """
    ``law="auto"`` chooses the law before fitting: the candidates (``selection={"laws":
    [...]}``, default :func:`powerfit.forecast.candidate_laws` of the data) are ranked by their
    held-out error when fitted on the smaller runs and asked to predict the larger ones
    (:func:`powerfit.compare_laws`); the winner is fitted on all the data with the same loss
    (default ``"log"``) and options, and ``res.selection`` holds the evidence.
"""
)

fit_groups.__doc__ = (
    (_groups.fit_groups.__doc__ or "")
    + """
    ``law="auto"`` chooses each group's law first (:func:`powerfit.select_laws`, which ranks
    the candidates by held-out error over the column ``selection={"by": ...}`` that orders the
    runs; ``selection`` also takes ``laws``, ``validate``, ``min_train``, ``splits``, ``rtol``),
    then fits each chosen law on its groups with the options given (default loss ``"log"``).
    The table has, after the keys, ``law``, the selection's evidence (``runner_up``,
    ``z_vs_runner_up``, ``tie``, ``n_splits``, ``<law>_log_rmse``), then the fit's columns,
    with one column per parameter of any chosen law (missing for the other laws' groups).
    A group that could not be scored keeps its selection ``status`` and ``message``.
"""
)
