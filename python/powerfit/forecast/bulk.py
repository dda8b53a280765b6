"""Law selection for many curves at once: every group's rollout of every candidate law, scored
as :func:`~powerfit.forecast.compare_laws` scores one curve.

The splits of all groups are fitted by one bulk fit per law (:func:`powerfit.fit_groups`: the
core fits every group's every split in parallel), and the forecasts of all of them come from one
native call per law, so the work does not grow a Python loop over groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _check, _core
from .._data import as_float_array, as_table, available, gather, in_memory
from .._keys import group_codes
from ..errors import InvalidDataError, InvalidOptionError
from ..expr import Law, law_argument
from ..groups import fit_groups
from ._tables import (
    check_laws,
    check_splits,
    default_by,
    frame_of,
    law_name,
    scale_of,
    y_column,
)
from .compare import TIE_Z, candidate_laws

#: The most training plus held-out rows the splits of one law may hold (a split repeats its
#: group's smaller runs), checked before they are gathered.
MAX_SPLIT_ROWS = 200_000_000
#: Options of :func:`powerfit.fit_groups` that shape every fit of the rollouts; the others
#: (the bootstrap, the output) apply to the chosen laws' fits only (``fit_options``).
ROLLOUT_OPTIONS = (
    "delta",
    "overestimate_penalty",
    "weights",
    "fixed",
    "bounds",
    "p0",
    "starts",
    "ftol",
    "xtol",
    "gtol",
    "max_iter",
)
#: The key column of the splits' bulk fits (a split is one group of it).
_SPLIT = "__split__"


@dataclass(frozen=True)
class GroupSelection:
    """Per group, the candidate law with the smallest held-out error; over the groups, the law
    that extrapolated best for the whole family.

    Attributes:
        table: one row per group, sorted by the keys: the keys, ``law`` (the winner; missing
            when no split could be scored), ``runner_up`` (the best other reliable law whose
            forecasts differ from the winner's), ``z_vs_runner_up`` (the paired z of
            :func:`~powerfit.forecast.compare_laws`), ``tie`` (z under one: the data support
            both), ``n_splits`` (splits scored), one ``<law>_log_rmse`` column per candidate
            (RMSE of log-loss over the farther half of the held-out forecasts, as
            ``heldout_log_rmse`` of :func:`~powerfit.forecast.compare_laws`), ``status``
            (``"ok"``, ``"invalid_data"`` or ``"no_split"``) and ``message``.
        pooled: one row per law, best first: ``median_log_rmse`` and ``mean_log_rmse`` over the
            groups with status ``"ok"``, ``wins`` (groups that chose it) and ``mean_rank``.
        fits: for each chosen law, :func:`powerfit.fit_groups` of the groups that chose it, on
            all their runs (empty when ``fit=False``).
    """

    table: pd.DataFrame
    pooled: pd.DataFrame
    fits: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def best(self) -> str | None:
        """The law with the smallest median held-out error over the groups (one law for the
        family); None when no group was scored."""
        ok = self.pooled[np.isfinite(self.pooled["median_log_rmse"])]
        return None if ok.empty else str(ok["law"].iloc[0])

    def summary(self) -> str:
        """The pooled ranking and the winners' counts as text."""
        n_ok = int((self.table["status"] == "ok").sum())
        head = (
            f"laws over {len(self.table)} groups ({n_ok} scored), best for the family: {self.best}"
        )
        return head + "\n" + self.pooled.to_string(index=False)


@dataclass(frozen=True)
class _Runs:
    """The runs sorted by group and scale, with their levels (distinct scales)."""

    order: np.ndarray  # row positions in the table, by (group, scale)
    scale: np.ndarray  # sorted
    level_group: np.ndarray  # per level: its group
    level_rank: np.ndarray  # per level: 1 for a group's smallest scale
    level_cut: np.ndarray  # per level: its largest scale
    rows_upto: np.ndarray  # per level: the group's rows at this level or below
    group_start: np.ndarray  # per group: first sorted row
    group_size: np.ndarray  # per group: rows kept
    n_levels: np.ndarray  # per group


def _levels(
    code: np.ndarray, scale: np.ndarray, keep: np.ndarray, n_groups: int, rtol: float
) -> _Runs:
    """Distinct scales per group, merging a value within ``rtol`` of the previous one into its
    level, as :func:`~powerfit.forecast.rollout` does for one curve."""
    rows = np.flatnonzero(keep)
    order = rows[np.lexsort((scale[rows], code[rows]))]
    sc, cg = scale[order], code[order]
    n = sc.size
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = cg[1:] != cg[:-1]
    new_level = new_group.copy()
    new_level[1:] |= sc[1:] > sc[:-1] * (1.0 + rtol)
    starts = np.flatnonzero(new_level)
    ends = np.append(starts[1:], n)
    level_group = cg[starts]
    group_size = np.bincount(cg, minlength=n_groups)
    group_start = np.concatenate([[0], np.cumsum(group_size)[:-1]])
    n_levels = np.bincount(level_group, minlength=n_groups)
    first_level = np.concatenate([[0], np.cumsum(n_levels)[:-1]])
    level_rank = np.arange(starts.size) - first_level[level_group] + 1
    return _Runs(
        order=order,
        scale=sc,
        level_group=level_group,
        level_rank=level_rank,
        level_cut=sc[ends - 1] if n else sc,
        rows_upto=ends - group_start[level_group],
        group_start=group_start,
        group_size=group_size,
        n_levels=n_levels,
    )


def _split_levels(runs: _Runs, need: int, min_train: int, splits: int | None) -> np.ndarray:
    """The levels that end a split's training runs: at least ``min_train`` levels, more rows
    than the law's free parameters, a larger level left to predict; the last ``splits`` of
    each group."""
    g = runs.level_group
    ok = (
        (runs.level_rank >= min_train)
        & (runs.level_rank < runs.n_levels[g])
        & (runs.rows_upto > need)
    )
    lv = np.flatnonzero(ok)
    if splits is not None and lv.size:
        count = np.bincount(g[lv], minlength=runs.n_levels.size)
        before = np.cumsum(count) - count
        position = np.arange(lv.size) - before[g[lv]]
        lv = lv[position >= count[g[lv]] - splits]
    return lv


def _ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenated ``start[i] + arange(length[i])``."""
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(length) - length
    return np.repeat(start - offsets, length) + np.arange(total)


class _Law:
    """One candidate: its native model (for forecasts) and its free parameters."""

    def __init__(
        self,
        law: str | Law,
        frame: pd.DataFrame,
        x: str | None,
        cols: Mapping[str, str],
        kw: Mapping[str, Any],
    ):
        self.law = law
        self.name = law_name(law)
        written = list(law.variables) if isinstance(law, Law) else None
        avail, xname = available(frame, law, x, {}, cols, written)
        self.model = _core.Model(law.native if isinstance(law, Law) else law, avail, xname)
        fixed = kw.get("fixed") or {}
        self.need = len([p for p in self.model.param_names if p not in fixed])


def _bad_rows(
    frame: pd.DataFrame, checks: Sequence[tuple[str, bool]], scale: np.ndarray
) -> np.ndarray:
    """Per row, the first unusable column (an index into ``checks``, pairs of a column and
    whether it must be positive; the first is the scale's; -1: none): a non-finite value, or a
    non-positive one where the column must be positive."""
    first = np.full(len(frame), -1, dtype=np.int64)
    columns = [scale] + [as_float_array(frame[c].to_numpy(), c) for c, _ in checks[1:]]
    for i, (values, (_, positive)) in enumerate(zip(columns, checks, strict=True)):
        ok = np.isfinite(values) & (values > 0) if positive else np.isfinite(values)
        bad = ~ok & (first < 0)
        first[bad] = i
    return first


def _read(
    table: Any,
    keys: list[str],
    by: Any,
    x: Any,
    columns: Any,
    laws: Any,
) -> Any:
    """A table in memory as it is; a file, folder, glob, lazy frame or DuckDB relation read
    with :func:`powerfit.readers.read_table`, only the columns the selection can use."""
    if in_memory(table):
        return table
    wanted = set(keys) | {"N", "D", "C", "U", "x", "loss", "y", "L"}
    for name in (by, x):
        if isinstance(name, str):
            wanted.add(name)
    if isinstance(columns, Mapping):
        wanted |= {str(v) for v in columns.values()}
    if isinstance(laws, Sequence) and not isinstance(laws, str):
        wanted |= {v for law in laws if isinstance(law, Law) for v in law.variables}
    return as_table(table, wanted)


def _invalid_groups(
    code: np.ndarray, first_bad: np.ndarray, checks: Sequence[tuple[str, bool]], n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, ``"invalid_data"`` and a message naming the column and row of its first bad
    row, else ``"ok"``."""
    status = np.full(n_groups, "ok", dtype=object)
    message = np.full(n_groups, "", dtype=object)
    bad_rows = np.flatnonzero(first_bad >= 0)
    grp, first = np.unique(code[bad_rows], return_index=True)
    for g, r in zip(grp, bad_rows[first], strict=True):
        column, positive = checks[first_bad[r]]
        status[g] = "invalid_data"
        message[g] = (
            f"column '{column}' has an invalid value at row {r}: must be "
            f"{'positive and finite' if positive else 'finite'}"
        )
    return status, message


def select_laws(
    table: Any,
    groups: str | Sequence[str],
    laws: Sequence[str | Law] | None = None,
    by: str | None = None,
    *,
    x: str | None = None,
    columns: Mapping[str, str] | None = None,
    min_train: int = 3,
    splits: int | None = None,
    rtol: float = 0.01,
    loss: str = "log",
    fit: bool = True,
    fit_options: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    **fit_kwargs: Any,
) -> GroupSelection:
    """Choose, for every group of a table (a learning curve, a sweep per dataset), the candidate
    law that predicted its held-out larger runs best, and the law that did best over all groups.

    ``pf.select_laws(df, groups=["size", "multiplier"], by="D", x="D")`` is the bulk form of
    :func:`~powerfit.forecast.select_law`: each group's rollout over ``by`` (fit on the runs at
    the k smallest scales, predict the larger ones, for every k), every law scored on the splits
    that all its reliable rivals fitted, by the RMSE of log-loss over the farther half of the
    forecasts. The choice and scores of a group are those of
    :func:`~powerfit.forecast.compare_laws` on its rows alone.

    Args:
        table: the runs: a pandas or polars DataFrame, a pyarrow Table, a dict of columns, or
            anything :func:`powerfit.readers.read_table` reads (a CSV, Parquet or other file,
            a partitioned folder, a glob, a polars LazyFrame, a DuckDB relation), of which only
            the needed columns are read.
        groups: the key column(s): one selection per distinct combination of their values.
        laws: candidates (names or :class:`powerfit.Law` objects); default
            :func:`~powerfit.forecast.candidate_laws` of the table.
        by: the column that orders the runs (``"N"``, ``"D"``, ``"C"`` computed as 6ND, or any
            other). Default: the first law's single variable, else N.
        x, columns, min_train, splits, rtol, loss, fit_kwargs: as in
            :func:`~powerfit.forecast.rollout`.
        fit: also fit each group's chosen law on all its runs (:attr:`GroupSelection.fits`).
        fit_options: more :func:`powerfit.fit_groups` options for those fits only (``n_boot``,
            ``seed``, ``level``, ...).
        progress: show a tqdm bar for each candidate's bulk fit of the splits and each chosen
            law's fit (default: when stderr is a terminal).

    Returns:
        a :class:`GroupSelection`. A group that cannot be scored (a non-positive value, too few
        distinct scales for a split) has status ``"invalid_data"`` or ``"no_split"`` and a
        message in its row; it does not affect the other groups.

    Raises:
        InvalidDataError: a missing key, scale or loss column.
        InvalidOptionError: bad options, or splits beyond :data:`MAX_SPLIT_ROWS` rows.
        InvalidLawError: an unknown law.
    """
    keys = _check.names(groups, "groups")
    if not keys:
        raise InvalidOptionError("groups must name one or more key columns")
    frame = frame_of(_read(table, keys, by, x, columns, laws), None, None)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"key column(s) {', '.join(repr(m) for m in missing)} not in the data; columns are "
            f"{list(frame.columns)}"
        )
    cols = _check.mapping(columns, "columns")
    x = _check.name(x, "x", optional=True)
    by = _check.name(by, "by", optional=True)
    fit = _check.flag(fit, "fit")
    progress = _check.optional_flag(progress, "progress")
    check_splits(min_train, splits)
    unknown = sorted(set(fit_kwargs) - set(ROLLOUT_OPTIONS))
    if unknown:
        raise InvalidOptionError(
            f"select_laws does not take {', '.join(unknown)}: the rollouts' fits take "
            f"{', '.join(ROLLOUT_OPTIONS)}; options of the chosen laws' fits only (n_boot, "
            "seed, ...) go in fit_options"
        )
    if not (isinstance(rtol, (int, float)) and not isinstance(rtol, bool) and 0 <= rtol < 1):
        raise InvalidOptionError(f"rtol must be in [0, 1), got {rtol!r}")
    cands = check_laws(laws if laws is not None else candidate_laws(frame, x, cols))
    cands = [law_argument(law) for law in cands]
    if by is None:
        by = default_by(frame, cands[0], x, cols)
    yname = y_column(frame, cols)
    kw = {"loss": loss, **fit_kwargs}
    models = [_Law(law, frame, x, cols, kw) for law in cands]
    bulk = {"progress": progress}

    code, key_values = group_codes(frame, "pandas", keys)
    n_groups = len(key_values[0])
    scale = scale_of(frame, by, cols, check=False)
    # variables that some candidate takes logs of must be positive; the losses are scored
    # on the log scale
    positive: dict[str, bool] = {}
    for m in models:
        for v in m.model.variables:
            c = cols.get(v, v)
            positive[c] = positive.get(c, False) or bool(m.model.positive_variables)
    checks = [(cols.get(by, by), True), *sorted(positive.items()), (yname, True)]
    first_bad = _bad_rows(frame, checks, scale)
    status, message = _invalid_groups(code, first_bad, checks, n_groups)
    keep = status[code] == "ok"
    runs = _levels(code, scale, keep, n_groups, float(rtol))
    # the splits repeat rows: gather only the columns the fits read
    weights = fit_kwargs.get("weights")
    if isinstance(weights, str) and weights not in frame.columns:
        raise InvalidDataError(
            f"weights column '{weights}' is not in the data; columns are {list(frame.columns)}"
        )
    used = [c for c, _ in checks if c in frame.columns]
    used += [weights] if isinstance(weights, str) else []
    work = frame[list(dict.fromkeys(used))]

    scored = [_score_law(m, work, runs, min_train, splits, x, cols, {**kw, **bulk}) for m in models]
    no_split = np.zeros(n_groups, dtype=bool)
    for s in scored:
        no_split |= (s.n_splits == 0) & (status == "ok")
    status[no_split] = "no_split"
    message[no_split] = (
        f"no split leaves enough training runs: fewer than {min_train + 1} distinct values of "
        f"'{by}' or fewer runs than a law's free parameters"
    )
    result = _rank(scored, runs, status)
    out = _table(keys, key_values, models, result, status, message)
    pooled = _pooled(out, models)
    if fit_options is not None and not isinstance(fit_options, Mapping):
        raise InvalidOptionError("fit_options must be a dict of fit_groups options")
    final = {**kw, **bulk, **(fit_options or {})}
    both = frame[list(dict.fromkeys([*keys, *work.columns]))]
    fits = _fit_chosen(both, keys, out, cands, code, x, cols, final) if fit else {}
    return GroupSelection(out, pooled, fits)


@dataclass(frozen=True)
class _Scored:
    """One law's splits over all groups: which fitted, and the forecasts' log errors."""

    levels: np.ndarray  # per split: the level that ends its training runs
    good: np.ndarray  # per split: fitted and every forecast finite
    n_splits: np.ndarray  # per group
    n_good: np.ndarray  # per group
    point_split: np.ndarray  # per forecast: its split (index into levels)
    log_error: np.ndarray  # per forecast
    test_sorted: np.ndarray  # per forecast: its run's position in the sorted runs


def _score_law(
    m: _Law,
    frame: pd.DataFrame,
    runs: _Runs,
    min_train: int,
    splits: int | None,
    x: str | None,
    cols: Mapping[str, str],
    kw: Mapping[str, Any],
) -> _Scored:
    """Fit every split of every group in one bulk fit, forecast the held-out runs in one
    native call."""
    n_groups = runs.n_levels.size
    lv = _split_levels(runs, m.need, min_train, splits)
    g = runs.level_group[lv]
    n_train = runs.rows_upto[lv]
    n_test = runs.group_size[g] - n_train
    total = int(n_train.sum()) + int(n_test.sum())
    if total > MAX_SPLIT_ROWS:
        raise InvalidOptionError(
            f"the splits of law '{m.name}' hold {total:,} rows (limit {MAX_SPLIT_ROWS:,}): pass "
            "splits= to keep only the last few per group, or min_train= to start later"
        )
    n_splits = np.bincount(g, minlength=n_groups)
    if lv.size == 0:
        none = np.zeros(0, dtype=np.int64)
        return _Scored(lv, np.zeros(0, dtype=bool), n_splits, n_splits, none, np.zeros(0), none)
    start = runs.group_start[g]
    train_rows = runs.order[_ranges(start, n_train)]
    test_sorted = _ranges(start + n_train, n_test)
    test_rows = runs.order[test_sorted]
    part = frame.iloc[train_rows]
    part = part.assign(**{_SPLIT: np.repeat(np.arange(lv.size), n_train)})
    res = fit_groups(
        part,
        _SPLIT,
        m.law,  # type: ignore[arg-type]
        x=x,
        columns=dict(cols),
        row_labels=train_rows.astype(np.int64),
        **kw,
    )
    params = res[list(m.model.param_names)].to_numpy(dtype=float)
    ran = res["status"].to_numpy() != "invalid_data"
    xs, _labels, obs, _y, _w = gather(
        frame.iloc[test_rows], m.model.variables, x, None, {}, cols, None
    )
    offsets = np.concatenate([[0], np.cumsum(n_test)])
    pred = m.model.predict_segments(np.ascontiguousarray(params), offsets.tolist(), xs)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_err = np.log(pred) - np.log(obs)
    point_split = np.repeat(np.arange(lv.size), n_test)
    finite = np.bincount(point_split, weights=np.isfinite(log_err), minlength=lv.size)
    good = ran & (finite == n_test)
    n_good = np.bincount(g, weights=good, minlength=n_groups).astype(np.int64)
    return _Scored(lv, good, n_splits, n_good, point_split, log_err, test_sorted)


@dataclass(frozen=True)
class _Ranking:
    rmse: np.ndarray  # groups x laws
    winner: np.ndarray  # per group (-1: none)
    runner_up: np.ndarray  # per group (-1: none)
    z: np.ndarray  # per group
    n_common: np.ndarray  # per group


def _rank(scored: list[_Scored], runs: _Runs, status: np.ndarray) -> _Ranking:
    """Score every law on the splits that every reliable law fitted, as compare_laws does."""
    n_groups, n_laws = runs.n_levels.size, len(scored)
    n_lv = runs.level_group.size
    reliable = np.stack([2 * s.n_good >= s.n_splits for s in scored], axis=1)
    reliable &= np.stack([s.n_splits > 0 for s in scored], axis=1)
    # a level is a common split when every reliable law of its group fitted it
    common = np.ones(n_lv, dtype=bool)
    for i, s in enumerate(scored):
        good_lv = np.zeros(n_lv, dtype=bool)
        good_lv[s.levels[s.good]] = True
        common &= good_lv | ~reliable[runs.level_group, i]
    any_reliable = np.asarray(reliable.any(axis=1))
    common &= any_reliable[runs.level_group] & (status[runs.level_group] == "ok")
    e, dist, grp, n_common = _common_errors(scored, runs, common)
    far = _far(dist, grp, n_groups)
    ef, gf = e[far], grp[far]
    n_far = np.bincount(gf, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.stack(
            [np.bincount(gf, weights=ef[:, i] ** 2, minlength=n_groups) for i in range(n_laws)],
            axis=1,
        )
        rmse = np.sqrt(sq / n_far[:, None])
    rmse[n_far == 0] = math.inf
    # stable ranks: unreliable laws last, then by held-out error, ties in candidate order
    order = np.lexsort((np.broadcast_to(np.arange(n_laws), rmse.shape), rmse, ~reliable), axis=1)
    winner = np.where((n_far > 0) & reliable.any(axis=1), order[:, 0], -1)
    runner_up, z = _runner_up(ef, gf, winner, order, reliable, n_groups)
    return _Ranking(rmse, winner, runner_up, z, n_common)


def _common_errors(
    scored: list[_Scored], runs: _Runs, common: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forecasts of the common splits: every law's log error (a column each, NaN where a
    law has no forecast), their distance beyond the split's data and their group; the number
    of common splits per group."""
    n_groups = runs.n_levels.size
    lv = np.flatnonzero(common)
    g = runs.level_group[lv]
    first_test = runs.group_start[g] + runs.rows_upto[lv]
    n_test = runs.group_size[g] - runs.rows_upto[lv]
    ref = _ranges(first_test, n_test)
    offset = np.zeros(common.size, dtype=np.int64)
    offset[lv] = np.cumsum(n_test) - n_test
    e = np.full((ref.size, len(scored)), np.nan)
    for i, s in enumerate(scored):
        if not s.levels.size:
            continue
        level = s.levels[s.point_split]
        on = common[level]
        level = level[on]
        start = runs.group_start[runs.level_group[level]] + runs.rows_upto[level]
        e[offset[level] + s.test_sorted[on] - start, i] = s.log_error[on]
    dist = np.log10(runs.scale[ref] / np.repeat(runs.level_cut[lv], n_test))
    return e, dist, np.repeat(g, n_test), np.bincount(g, minlength=n_groups)


def _far(dist: np.ndarray, grp: np.ndarray, n_groups: int) -> np.ndarray:
    """The farther half of each group's forecasts: distance at least the group's median."""
    if dist.size == 0:
        return np.zeros(0, dtype=bool)
    med = pd.Series(dist).groupby(grp).median()
    med_g = np.full(n_groups, np.nan)
    med_g[med.index.to_numpy()] = med.to_numpy()
    return np.asarray(dist >= med_g[grp])


def _runner_up(
    ef: np.ndarray,
    gf: np.ndarray,
    winner: np.ndarray,
    order: np.ndarray,
    reliable: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the best reliable law after the winner whose far forecasts differ from the
    winner's, and its paired z (mean of the squared-error differences over their standard
    error)."""
    n_laws = order.shape[1]
    runner = np.full(n_groups, -1)
    z = np.full(n_groups, np.nan)
    if ef.size == 0:
        return runner, z
    w_pt = np.maximum(winner[gf], 0)
    ew2 = ef[np.arange(ef.shape[0]), w_pt] ** 2
    n = np.bincount(gf, minlength=n_groups).astype(float)
    zs = np.full((n_groups, n_laws), np.nan)
    same = np.zeros((n_groups, n_laws), dtype=bool)
    for i in range(n_laws):
        d = ef[:, i] ** 2 - ew2
        s1 = np.bincount(gf, weights=d, minlength=n_groups)
        s2 = np.bincount(gf, weights=d * d, minlength=n_groups)
        mean_e2 = np.bincount(gf, weights=ef[:, i] ** 2, minlength=n_groups) / np.maximum(n, 1)
        mean_w2 = np.bincount(gf, weights=ew2, minlength=n_groups) / np.maximum(n, 1)
        worst = pd.Series(np.abs(d)).groupby(gf).max().reindex(range(n_groups)).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            same[:, i] = worst <= 1e-9 * np.maximum(mean_e2, mean_w2)
            var = (s2 - s1 * s1 / n) / (n - 1)
            se = np.sqrt(var) / np.sqrt(n)
            zs[:, i] = np.where(se > 0, (s1 / n) / se, np.nan)
    for rank in range(1, n_laws):
        law = order[:, rank]
        rows = np.arange(n_groups)
        pick = (runner < 0) & (winner >= 0) & reliable[rows, law] & ~same[rows, law]
        runner[pick] = law[pick]
    has = runner >= 0
    z[has] = zs[np.flatnonzero(has), runner[has]]
    return runner, z


def _table(
    keys: list[str],
    key_values: list[np.ndarray],
    models: list[_Law],
    r: _Ranking,
    status: np.ndarray,
    message: np.ndarray,
) -> pd.DataFrame:
    names = np.array([m.name for m in models], dtype=object)
    ok = (status == "ok") & (r.winner >= 0)
    status = np.where((status == "ok") & ~ok, "no_split", status)
    out: dict[str, Any] = {k: v for k, v in zip(keys, key_values, strict=True)}
    out["law"] = np.where(ok, names[np.maximum(r.winner, 0)], None)
    out["runner_up"] = np.where(ok & (r.runner_up >= 0), names[np.maximum(r.runner_up, 0)], None)
    out["z_vs_runner_up"] = np.where(ok, r.z, np.nan)
    out["tie"] = ok & (r.runner_up >= 0) & ~(r.z >= TIE_Z)
    out["n_splits"] = np.where(ok, r.n_common, 0)
    for i, m in enumerate(models):
        out[f"{m.name}_log_rmse"] = np.where(ok, r.rmse[:, i], np.nan)
    out["status"] = status
    out["message"] = np.where(
        (status == "no_split") & (message == ""),
        "no split was fitted by every reliable law",
        message,
    )
    return pd.DataFrame(out)


def _pooled(out: pd.DataFrame, models: list[_Law]) -> pd.DataFrame:
    ok = out[out["status"] == "ok"]
    errs = ok[[f"{m.name}_log_rmse" for m in models]].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ranks = pd.DataFrame(errs).rank(axis=1, method="min").to_numpy()
    rows = []
    for i, m in enumerate(models):
        # a law that failed on a group is worse there, not missing
        col = np.where(np.isnan(errs[:, i]), math.inf, errs[:, i]) if len(ok) else np.zeros(0)
        fin = col[np.isfinite(col)]
        rows.append(
            {
                "law": m.name,
                "median_log_rmse": float(np.median(col)) if col.size else math.nan,
                "mean_log_rmse": float(fin.mean()) if fin.size else math.nan,
                "wins": int((ok["law"] == m.name).sum()),
                "mean_rank": float(np.nanmean(ranks[:, i])) if col.size else math.nan,
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(
        ["median_log_rmse", "mean_rank"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def _fit_chosen(
    frame: pd.DataFrame,
    keys: list[str],
    out: pd.DataFrame,
    cands: list[str | Law],
    code: np.ndarray,
    x: str | None,
    cols: Mapping[str, str],
    kw: Mapping[str, Any],
) -> dict[str, pd.DataFrame]:
    """Each chosen law fitted on all runs of the groups that chose it: one bulk fit per law."""
    fits: dict[str, pd.DataFrame] = {}
    chosen = out["law"].to_numpy()
    for law in cands:
        name = law_name(law)
        mine = chosen[code] == name
        if not mine.any():
            continue
        rows = np.flatnonzero(mine)
        fits[name] = fit_groups(
            frame.iloc[rows],
            keys,
            law,  # type: ignore[arg-type]
            x=x,
            columns=dict(cols),
            row_labels=rows.astype(np.int64),
            **kw,
        )
    return fits
