"""The entry points users call as ``pf.fit``: :func:`powerfit.fit.fit`, plus ``law="auto"``,
which chooses the law by how well each candidate extrapolates (rollout validation, see
:mod:`powerfit.forecast`) before fitting it. This module sits above both, so that neither
imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import wraps
from typing import Any

from . import fit as _fit
from .errors import InvalidOptionError
from .expr import Law
from .forecast import select_law

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
    sel_opts = dict(selection or {})
    unknown = sorted(set(sel_opts) - set(_SELECTION_OPTIONS))
    if unknown:
        raise InvalidOptionError(
            f"selection= takes {', '.join(_SELECTION_OPTIONS)}; got {', '.join(unknown)}"
        )
    shared = {k: kwargs[k] for k in ("x", "y", "columns") if k in kwargs}
    loss = kwargs.setdefault("loss", "log")
    laws: Sequence[Any] | None = sel_opts.pop("laws", None)
    chosen = select_law(data, laws, loss=loss, warn=kwargs.get("warn", True), **shared, **sel_opts)
    res = _fit.fit(data, chosen.law, **kwargs)
    return res.with_selection(chosen)


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
