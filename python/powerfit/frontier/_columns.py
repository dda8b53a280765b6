"""Which columns the frontier analyses read: ``columns=`` maps the variables C (compute), N
(model size), D (tokens, optional) and ``loss`` to the table's columns, as in :func:`powerfit.fit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidDataError, InvalidOptionError
from ._inputs import positive_column

#: The variables a frontier analysis reads, with what each is.
VARIABLES = {"C": "compute (FLOPs)", "N": "model size", "D": "tokens", "loss": "observed loss"}

#: The old per-column keywords, as targets for :func:`powerfit._deprecate.renamed`.
OLD_KEYWORDS = {"compute": "columns:C", "size": "columns:N", "tokens": "columns:D"}


def resolve(columns: Mapping[str, Any] | None, names: list[str]) -> dict[str, str | None]:
    """The column of each variable: the mapping's, else the variable's own name; D only when
    mapped or present (without it, D_opt = C / (k N_opt))."""
    if columns is not None and not isinstance(columns, Mapping):
        raise InvalidOptionError(
            f"columns must map variables to column names, e.g. {{'N': 'params'}}, got {columns!r}"
        )
    cols = dict(columns or {})
    unknown = sorted(str(k) for k in cols if k not in VARIABLES)
    if unknown:
        raise InvalidOptionError(
            f"columns= maps {', '.join(unknown)}: the frontier reads {', '.join(VARIABLES)}"
        )
    for v, c in cols.items():
        if c is not None and not isinstance(c, str):
            raise InvalidOptionError(f"columns['{v}'] must be a column name, got {c!r}")
    out: dict[str, str | None] = {v: cols.get(v) or v for v in ("C", "N", "loss")}
    out["D"] = cols.get("D") or ("D" if "D" in names else None)
    return out


def read(
    data: Any, cols: Mapping[str, str | None], names: list[str], var: str
) -> np.ndarray | None:
    """The variable's column as positive finite float64 (None for an absent optional D)."""
    name = cols[var]
    if name is None:
        return None
    if name not in names:
        how = "" if name != var else " (the default)"
        raise InvalidDataError(
            f"column '{name}'{how} for {VARIABLES[var]} is not in the data; map yours with "
            f"columns={{'{var}': ...}}; columns are {names}"
        )
    return positive_column(data, name, names, VARIABLES[var])
