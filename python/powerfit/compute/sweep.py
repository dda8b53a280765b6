"""Checking the compute column of a sweep: k in C = k N D per run, and the runs whose k departs
from the rest (mis-logged compute bends fitted curves)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from .._deprecate import renamed
from .._tables import as_frame, group_codes, require
from ..errors import InvalidDataError, InvalidOptionError
from ..errors import warn as warn_user

#: Factors a mis-logged C is commonly off by, and what they suggest.
KNOWN_FACTORS: dict[float, str] = {
    2.0: "C counted twice",
    0.5: "half the compute logged",
    3.0: "C = 3 x the rest: the backward pass counted twice?",
    1.0 / 3.0: "forward-pass FLOPs (2ND) logged instead of training FLOPs (6ND)?",
    1e3: "unit slip (x1000)",
    1e-3: "unit slip (/1000)",
    1e6: "unit slip (x1e6)",
    1e-6: "unit slip (/1e6)",
    1e9: "unit slip (x1e9)",
    1e-9: "unit slip (/1e9)",
    1e12: "unit slip (x1e12)",
    1e-12: "unit slip (/1e12)",
    1e15: "unit slip (x1e15)",
    1e-15: "unit slip (/1e15: PFLOPs?)",
    1.0 / 8.64e19: "C logged in PF-days (1 PF-day = 8.64e19 FLOPs)",
    1.0 / 3.6e18: "C logged in PF-hours?",
}
#: Relative tolerance when matching a ratio to a known factor.
FACTOR_RTOL = 0.08


def _explain(ratio: float) -> str:
    if not (math.isfinite(ratio) and ratio > 0):
        return ""
    for f, why in KNOWN_FACTORS.items():
        if abs(math.log(ratio / f)) < math.log1p(FACTOR_RTOL):
            return why
    return ""


def _global_note(k: float, expected: float) -> str:
    """What a sweep-wide k far from the expected one suggests."""
    ratio = k / expected
    why = _explain(ratio)
    if why:
        return f"every run's k is {ratio:.3g} x {expected:g}: {why}"
    if 0.75 <= ratio <= 2.0:
        return ""
    return f"the median k ({k:.4g}) is far from {expected:g}: check the units of C, N and D"


@renamed({"expected_k": "flops_per_param_token"})
def check_sweep(
    table: Any,
    *,
    columns: Mapping[str, str] | None = None,
    by: str | Sequence[str] | None = None,
    flops_per_param_token: float = 6.0,
    tolerance: float = 0.1,
    z: float = 3.5,
    warn: bool = True,
) -> pd.DataFrame:
    """Estimate k in C = k N D for every run and flag the runs whose k departs from the rest.

    A run is flagged when its k differs from its group's median k by more than `tolerance`
    (relative) and by more than `z` robust standard deviations (1.4826 MAD of ln k), so that a
    sweep whose k drifts smoothly with model size (attention and embedding terms do that) is
    not flagged while a run logged in the wrong unit is. Rows with missing or non-positive
    values are kept and flagged as invalid, never dropped silently.

    Args:
        table: a DataFrame (pandas or polars), pyarrow Table, dict or file path with columns
            C, N and D (map others with ``columns={"C": "flops", "N": "params", ...}``).
        by: group columns (separate sweeps): medians are taken per group.
        flops_per_param_token: the k the sweep should have (6 for 6ND; formerly
            ``expected_k``); a group whose median k is far from it is reported in ``note``.
        tolerance: smallest relative departure from the median that is flagged.
        z: robust z-score above which a departure is flagged.
        warn: emit a :class:`~powerfit.PowerfitWarning` naming the flagged rows.

    Returns:
        The input's columns plus ``k`` (C / (N D)), ``k_median`` (of the group),
        ``ratio`` (k / k_median), ``z`` (robust z of ln k), ``flagged`` and ``reason`` (why,
        with a likely cause when the ratio matches a common slip: 2x, 3x, powers of 1000,
        PF-days) and ``note`` (a group-wide remark on the median k).

    Raises:
        InvalidDataError: a missing column, fewer than three valid rows in a group.
    """
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise InvalidOptionError(f"tolerance must be positive, got {tolerance!r}")
    if not (isinstance(z, (int, float)) and z > 0):
        raise InvalidOptionError(f"z must be positive, got {z!r}")
    expected_k = flops_per_param_token
    if not (isinstance(expected_k, (int, float)) and expected_k > 0):
        raise InvalidOptionError(
            f"flops_per_param_token must be positive, got {flops_per_param_token!r}"
        )
    df = as_frame(table).reset_index(drop=True)
    mapped = _check.mapping(columns, "columns")
    cols = {v: mapped.get(v, v) for v in ("C", "N", "D")}
    for v, name in cols.items():
        require(df, name, {"C": "compute (FLOPs)", "N": "parameters", "D": "tokens"}[v])
    vals = {
        v: pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        for v, name in cols.items()
    }
    valid = np.ones(len(df), dtype=bool)
    reason = np.full(len(df), "", dtype=object)
    for v, name in cols.items():
        bad = ~(np.isfinite(vals[v]) & (vals[v] > 0))
        reason[bad & valid] = f"invalid: {name} is missing, non-numeric or not positive"
        valid &= ~bad
    with np.errstate(all="ignore"):
        k = vals["C"] / (vals["N"] * vals["D"])
    k[~valid] = np.nan
    lk = np.log(k)
    codes, keys = group_codes(df, by)
    s = pd.Series(np.where(valid, lk, np.nan))
    count = s.groupby(codes).count().to_numpy()
    if (count < 3).any():
        g = int(np.flatnonzero(count < 3)[0])
        label = "" if by is None else f" in group {keys.iloc[g].to_dict()}"
        raise InvalidDataError(
            f"need at least three valid runs{label} to compare k across runs, got {count[g]}"
        )
    m = s.groupby(codes).transform("median").to_numpy()
    scale = (s - m).abs().groupby(codes).transform("median").to_numpy() * 1.4826
    med = np.exp(m)
    group_notes = [
        _global_note(float(v), float(expected_k))
        for v in np.exp(s.groupby(codes).median().to_numpy())
    ]
    notes = np.asarray(group_notes, dtype=object)[codes]
    dev = lk - np.log(med)
    with np.errstate(all="ignore"):
        zscore = np.where(scale > 0, dev / scale, np.where(dev == 0, 0.0, np.inf * np.sign(dev)))
    flagged = ~valid | ((np.abs(dev) > math.log1p(tolerance)) & (np.abs(zscore) > z))
    ratio = k / med
    for i in np.flatnonzero(flagged & valid):
        why = _explain(float(ratio[i]))
        reason[i] = f"k = {k[i]:.4g} is {ratio[i]:.3g} x the median {med[i]:.4g}" + (
            f": {why}" if why else ""
        )
    out = df.copy()
    out["k"] = k
    out["k_median"] = med
    out["ratio"] = ratio
    out["z"] = zscore
    out["flagged"] = flagged
    out["reason"] = reason
    out["note"] = notes
    if warn and flagged.any():
        rows = np.flatnonzero(flagged)
        shown = ", ".join(str(int(r)) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        warn_user(f"{len(rows)} run(s) with suspect compute (rows {shown}): {reason[rows[0]]}")
    if warn:
        for note in sorted({str(n) for n in notes if n}):
            warn_user(note)
    return out
