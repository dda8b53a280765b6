"""Law comparison and selection by held-out error: every candidate's rollout, scored on the
same splits, with the in-sample AIC/BIC beside it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from ..errors import InvalidOptionError, PowerfitError
from ..errors import warn as warn_user
from ..expr import Law
from ..fit import FitResult, fit
from ._tables import check_laws, frame_of, law_name
from .rollout import RolloutResult, rollout

#: Candidate laws of :func:`select_law` for one variable (a learning curve or a size sweep).
#: ``m2`` is the power law under M2's parameter names, so it is not a candidate of its own.
SINGLE_VARIABLE_CANDIDATES = ("power", "m1", "m3", "m4", "bnsl")
#: Candidate laws of :func:`select_law` over model size N and tokens D.
ND_CANDIDATES = ("chinchilla", "kaplan")
#: Below this ``z_vs_best`` the runner-up is not told apart from the winner (a warning says so).
TIE_Z = 1.0


@dataclass(frozen=True)
class LawComparison:
    """Candidate laws ranked by held-out error.

    Attributes:
        table: one row per law, best first: ``law``, ``heldout_log_rmse`` (RMSE of log-loss
            over the farther half of the held-out predictions of the scored splits: those at
            least the median distance beyond their training data), ``pooled_log_rmse`` (over
            all of them), ``median_split_log_rmse`` (median over splits of each split's RMSE),
            ``heldout_rel_error``, ``n_splits`` (scored), ``n_failed`` (splits whose fit raised
            or forecast a non-finite loss), ``n_unconverged`` (splits whose fit stopped before
            converging: they still forecast), ``reliable`` (fitted at
            least half of its splits), ``insample_log_rmse``, ``aic``, ``bic`` (full-data fit),
            ``rank`` (held-out), ``rank_aic`` and ``z_vs_best`` (how many standard errors of
            the paired difference a law's held-out mean squared log error lies above the
            winner's, on the same forecasts; NaN for the winner and unreliable laws) and
            ``same_as`` (the higher-ranked law whose held-out forecasts this law repeats to
            rounding, as when a law reduces to a simpler one on these data; missing otherwise).
        best: the winning law (a name or the :class:`powerfit.Law` given).
        rollouts: each law's :class:`RolloutResult`, by name.
        fits: each law's full-data fit, by name (None where it raised).
        warnings: disagreements between in-sample and held-out rankings, a winner that the
            held-out errors do not tell apart from the runner-up, failed laws.
    """

    table: pd.DataFrame
    best: str | Law
    rollouts: dict[str, RolloutResult] = field(repr=False)
    fits: dict[str, FitResult | None] = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def runner_up(self) -> pd.Series | None:
        """The table row of the best reliable law after the winner whose forecasts differ
        from every higher-ranked law's (``same_as`` missing); None when there is none. Its
        ``z_vs_best`` says how firmly the held-out errors separate it from the winner."""
        return _runner_up(self.table)

    def summary(self) -> str:
        """The ranking as a text table, with the warnings."""
        lines = [f"laws ranked by held-out log-loss RMSE (best: {law_name(self.best)})"]
        lines.append(self.table.to_string(index=False))
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _insample(fitted: FitResult | None) -> tuple[float, float, float]:
    if fitted is None or not fitted.success:
        return math.nan, math.nan, math.nan
    d = fitted.data
    pred = fitted.predict(warn=False, **{v: d[v] for v in fitted.variables})
    rmse = float(np.sqrt(np.mean((np.log(pred) - np.log(d["loss"])) ** 2)))
    aic = math.nan if fitted.aic is None else float(fitted.aic)
    bic = math.nan if fitted.bic is None else float(fitted.bic)
    return rmse, aic, bic


def _good_splits(roll: RolloutResult) -> set[int]:
    """Splits that forecast a finite loss at every held-out run (the fit did not raise)."""
    bad = set(roll.points.loc[~np.isfinite(roll.points["log_error"]), "split"])
    ran = roll.splits.loc[~roll.splits["status"].str.startswith("error"), "split"]
    return {int(k) for k in ran if k not in bad}


def _score(roll: RolloutResult, common: set[int]) -> dict[str, Any]:
    pts = roll.points[roll.points["split"].isin(common)]
    spl = roll.splits[roll.splits["split"].isin(common)]
    e = pts["log_error"].to_numpy()
    d = pts["distance"].to_numpy()
    has = e.size > 0
    # the farther half of the forecasts (the same points for every law: they depend on the
    # data and the splits only): forecasts are made beyond the data, and near forecasts
    # tell laws apart least
    far = e[d >= np.median(d)] if has else e
    return {
        "heldout_log_rmse": float(np.sqrt(np.mean(far**2))) if has else math.inf,
        "pooled_log_rmse": float(np.sqrt(np.mean(e**2))) if has else math.inf,
        "median_split_log_rmse": float(np.median(spl["log_rmse"])) if has else math.inf,
        "heldout_rel_error": float(np.mean(np.abs(pts["rel_error"]))) if has else math.inf,
        "n_splits": len(spl),
        "n_failed": len(roll.splits) - len(_good_splits(roll)),
        "n_splits_run": len(_good_splits(roll)),
        "n_unconverged": int((~roll.splits["success"]).sum()),
    }


def _far_errors(roll: RolloutResult, common: set[int]) -> np.ndarray:
    """The log errors of the farther half of the forecasts on the common splits, in a fixed
    order (split, then held-out run), so that two laws' arrays pair point by point."""
    pts = roll.points[roll.points["split"].isin(common)].sort_values("split", kind="stable")
    e = pts["log_error"].to_numpy(dtype=float)
    d = pts["distance"].to_numpy(dtype=float)
    return e[d >= np.median(d)] if e.size else e


def _same_forecasts(e: np.ndarray, e_other: np.ndarray) -> bool:
    """Two laws forecast alike to rounding (one reduces to the other on these data)."""
    if e.size != e_other.size or e.size == 0:
        return False
    scale = max(float(np.mean(e**2)), float(np.mean(e_other**2)))
    return float(np.max(np.abs(e**2 - e_other**2))) <= 1e-9 * scale


def _paired_z(e: np.ndarray, e_best: np.ndarray) -> float:
    """Mean of the paired difference of squared errors over its standard error: 0 for the same
    forecasts (to rounding), NaN without an estimate (fewer than two points)."""
    if e.size != e_best.size or e.size < 2:
        return math.nan
    # two laws that reduce to one another forecast alike up to rounding: a tie, not a ratio
    # of rounding errors
    if _same_forecasts(e, e_best):
        return 0.0
    diff = e**2 - e_best**2
    se = float(np.std(diff, ddof=1)) / math.sqrt(diff.size)
    return float(np.mean(diff)) / se if se > 0.0 else math.nan


def compare_laws(
    data: Any = None,
    laws: Sequence[str | Law] = ("power", "m4", "bnsl"),
    by: str | None = None,
    *,
    validate: str = "rollout",
    x: Any = None,
    y: Any = None,
    columns: Mapping[str, str] | None = None,
    min_train: int = 3,
    splits: int | None = None,
    rtol: float = 0.01,
    loss: str = "log",
    warn: bool = True,
    **fit_kwargs: Any,
) -> LawComparison:
    """Rank candidate laws by how well they predict held-out larger runs, with their in-sample
    AIC/BIC beside it.

    Args:
        data, by, x, y, columns, min_train, splits, rtol, loss, fit_kwargs: as in
            :func:`rollout`.
        laws: candidate laws (names or :class:`powerfit.Law` objects).
        validate: ``"rollout"`` (every expanding-window split) or ``"last"`` (only the split
            that holds out the largest scale).
        warn: emit the comparison's warnings as :class:`~powerfit.PowerfitWarning`.

    Laws are scored on the splits that every reliable law fitted (a law is reliable when it
    fitted at least half of its splits; the others rank last), by the RMSE of log-loss over the
    farther half of their held-out predictions (the same points for every law): forecasts are
    made beyond the data, and errors grow with the distance. ``z_vs_best`` says how firmly the
    held-out errors separate each law from the winner (paired on the same forecasts); when the
    runner-up is under one standard error away, a warning says that the data support both.
    """
    validate = _check.name(validate, "validate")
    warn = _check.flag(warn, "warn")
    by = _check.name(by, "by", optional=True)
    if validate not in ("rollout", "last"):
        raise InvalidOptionError(f"validate must be 'rollout' or 'last', got {validate!r}")
    cands = check_laws(laws)
    if validate == "last":
        splits = 1
    rolls, fits = {}, {}
    for law in cands:
        name = law_name(law)
        rolls[name] = rollout(
            data,
            law,
            by,
            x=x,
            y=y,
            columns=columns,
            min_train=min_train,
            splits=splits,
            rtol=rtol,
            loss=loss,
            **fit_kwargs,
        )
        fits[name] = _full_fit(data, law, x=x, y=y, columns=columns, loss=loss, kw=fit_kwargs)
    # every law is scored on the same splits: those that all of them fitted; a law that fails
    # on most splits is left out of that set and ranked last
    good = {n: _good_splits(r) for n, r in rolls.items()}
    reliable = [n for n, g in good.items() if len(g) * 2 >= len(rolls[n].splits)]
    common = set.intersection(*(good[n] for n in reliable)) if reliable else set()
    rows = []
    for law in cands:
        name = law_name(law)
        ins, aic, bic = _insample(fits[name])
        rows.append(
            {
                "law": name,
                **_score(rolls[name], common),
                "reliable": name in reliable,
                "insample_log_rmse": ins,
                "aic": aic,
                "bic": bic,
            }
        )
    table = pd.DataFrame(rows)
    table["unreliable"] = ~table["reliable"]
    table["rank"] = _ranks(table, ["unreliable", "heldout_log_rmse"])
    table["rank_aic"] = table["aic"].rank(method="min").astype("Int64")
    table = table.sort_values("rank", kind="stable").reset_index(drop=True)
    table["z_vs_best"], table["same_as"] = _evidence(table, rolls, common)
    notes = _disagreements(table, common)
    table = table.drop(columns=["unreliable", "n_splits_run"])
    best_name = str(table["law"].iloc[0])
    best = next(law for law in cands if law_name(law) == best_name)
    if warn:
        for note in notes:
            warn_user(note)
    return LawComparison(table, best, rolls, fits, tuple(notes))


def _full_fit(
    data: Any,
    law: str | Law,
    *,
    x: Any,
    y: Any,
    columns: Mapping[str, str] | None,
    loss: str,
    kw: Mapping[str, Any],
) -> FitResult | None:
    try:
        if data is None:
            return fit(law=law, x=x, y=y, loss=loss, warn=False, **kw)
        return fit(
            data,
            law=law,
            x=x,
            columns=dict(columns or {}),
            loss=loss,
            warn=False,
            **kw,
        )
    except PowerfitError:
        return None


def _evidence(
    table: pd.DataFrame, rolls: Mapping[str, RolloutResult], common: set[int]
) -> tuple[list[float], list[str | None]]:
    """Each reliable law's paired z against the winner (the first row), on the same far
    forecasts, and the higher-ranked law whose forecasts it repeats, if any. The forecasts
    share training runs, so the points are not independent and the z overstates the evidence:
    a small z is a firm sign that the data cannot separate them."""
    z: list[float] = [math.nan] * len(table)
    same: list[str | None] = [None] * len(table)
    if not common or not bool(table["reliable"].iloc[0]):
        return z, same
    far: list[tuple[str, np.ndarray]] = []
    for i, row in enumerate(table.itertuples()):
        if not bool(row.reliable):
            continue
        e = _far_errors(rolls[str(row.law)], common)
        same[i] = next((name for name, prev in far if _same_forecasts(e, prev)), None)
        if far:
            z[i] = _paired_z(e, far[0][1])
        far.append((str(row.law), e))
    return z, same


def _ranks(table: pd.DataFrame, keys: list[str]) -> np.ndarray:
    order = table.sort_values(keys, kind="stable").index
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(1, len(table) + 1)
    return rank


def _disagreements(table: pd.DataFrame, common: set[int]) -> list[str]:
    """Warnings: the in-sample ranking picks another law than the held-out one (by more than
    2 in AIC, or 1% in in-sample RMSE without AIC), and laws that failed on some splits."""
    notes = []
    if not common:
        notes.append("no split was fitted by every reliable law: the held-out ranking is empty")
        return notes
    held = table.iloc[0]
    use_aic = bool(table["aic"].notna().all())
    key, label = ("aic", "AIC") if use_aic else ("insample_log_rmse", "in-sample log RMSE")
    if table[key].notna().any():
        best = table.iloc[int(np.nanargmin(table[key].to_numpy(dtype=float)))]
        worse = held[key] - best[key] > 2.0 if use_aic else held[key] > 1.01 * best[key]
        if worse or math.isnan(held[key]):
            notes.append(
                f"the in-sample ranking ({label}) prefers law '{best['law']}' but held-out "
                f"error prefers '{held['law']}': trust the held-out ranking for forecasts"
            )
    runner_up = _runner_up(table)
    if runner_up is not None:
        z = float(runner_up["z_vs_best"])
        if not z >= TIE_Z:
            how = (
                "too few forecasts to estimate their difference"
                if math.isnan(z)
                else f"z = {z:.2f}: their paired difference is under one standard error"
            )
            notes.append(
                f"held-out errors do not tell '{held['law']}' from '{runner_up['law']}' "
                f"({how}): the data support both forecasts; compare them before acting on either"
            )
    failed = table[table["n_failed"] > 0]
    if len(failed):
        parts = [
            f"{r.law} ({r.n_failed} of {r.n_failed + r.n_splits_run})" for r in failed.itertuples()
        ]
        notes.append(f"fits failed on some splits: {', '.join(parts)}")
    return notes


def _runner_up(table: pd.DataFrame) -> pd.Series | None:
    """The best reliable law after the winner whose forecasts differ from every higher-ranked
    law's (a law that merely repeats the winner's forecasts offers no other choice)."""
    rest = table.iloc[1:]
    rest = rest[rest["reliable"] & rest["same_as"].isna()]
    return None if rest.empty else rest.iloc[0]


@dataclass(frozen=True)
class Selection:
    """The law that extrapolated best, with the evidence (:attr:`LawComparison.table`);
    unpacks as ``law, evidence``."""

    law: str | Law
    evidence: pd.DataFrame
    comparison: LawComparison = field(repr=False)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.law, self.evidence))


def candidate_laws(
    data: Any = None, x: Any = None, columns: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The default candidates of :func:`select_law` for these data: the single-variable laws
    for a learning curve or one swept column, the two-variable laws when the runs have N and D."""
    columns = _check.mapping(columns, "columns")
    if data is None or x is not None:
        return SINGLE_VARIABLE_CANDIDATES
    frame = frame_of(data, None, None)
    have = {v for v in ("N", "D") if columns.get(v, v) in frame.columns}
    return ND_CANDIDATES if have == {"N", "D"} else SINGLE_VARIABLE_CANDIDATES


def select_law(
    data: Any = None,
    laws: Sequence[str | Law] | None = None,
    by: str | None = None,
    **kwargs: Any,
) -> Selection:
    """The candidate law with the smallest held-out error (see :func:`compare_laws`, which takes
    the same arguments): ``law, evidence = pf.select_law(df, by="N")``.

    Args:
        data: the runs (or arrays ``x=``, ``y=`` in ``kwargs``).
        laws: candidates; default :func:`candidate_laws` of the data.
        by: the column that orders the runs.
        kwargs: passed to :func:`compare_laws`.
    """
    if laws is None:
        laws = candidate_laws(data, kwargs.get("x"), kwargs.get("columns"))
    cmp = compare_laws(data, laws, by, **kwargs)
    return Selection(cmp.best, cmp.table, cmp)
