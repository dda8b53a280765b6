"""Bulk fits of sweep databases: one fit per group of rows, all groups in one native call.

>>> import powerfit as pf
>>> table = pf.fit_groups("sweeps.parquet", by=["dataset", "eval_set"], law="chinchilla",
...                       columns={"N": "params", "D": "train_tokens"})   # doctest: +SKIP

The group keys are factorised with the table library's own vectorised tools (no Python loop
over groups or rows) into one dense group code per row; the Rust core groups the rows by a
stable counting sort (the table is never copied as a whole: each task gathers its group's rows)
and fits every group in parallel (rayon) with the GIL released. Each group's result is
bit-identical to ``pf.fit`` on that group's rows alone (same options, rows in table order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _check, _core
from ._data import (
    as_table,
    available,
    column_names,
    gather,
    get_column,
    in_memory,
    mapping_frame,
)
from ._deprecate import renamed
from ._keys import Flavour, group_codes, group_ids
from ._progress import Progress
from .errors import InvalidDataError, InvalidOptionError
from .expr import Law, with_defaults

#: Bootstrap resampling schemes available per group (defined by the core).
BOOT_METHODS: tuple[str, ...] = tuple(_core.GROUP_BOOTSTRAP_METHODS)
_D = _core.DEFAULTS

#: Status of a group whose data could not be fitted (NaN, non-positive values, too few points,
#: constant observations); the other statuses are the solver's (``converged_cost``, ...).
INVALID_DATA = "invalid_data"


# --------------------------------------------------------------------------------------------
# Input: tables of three flavours, or files read with pyarrow
# --------------------------------------------------------------------------------------------


def _flavour(table: Any) -> Flavour:
    mod = type(table).__module__.split(".")[0]
    if mod == "polars":
        return "polars"
    if mod == "pyarrow":
        return "pyarrow"
    return "pandas"


def _wanted_columns(by: list[str], columns: Mapping[str, str], weights: Any, x: Any) -> set[str]:
    """Columns a file must provide (the rest is not read): keys, law variables, loss."""
    wanted = set(by) | {"N", "D", "C", "U", "x", "loss", "y", "L"} | set(columns.values())
    if isinstance(weights, str):
        wanted.add(weights)
    if isinstance(x, str):
        wanted.add(columns.get(x, x))
    return wanted


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _build(columns: dict[str, Any], flavour: Flavour) -> Any:
    if flavour == "pandas":
        # text columns get pandas' string dtype whether or not there are rows (Dask's meta)
        for k in ("status", "message"):
            columns[k] = pd.Series(columns[k], dtype=str)
        return pd.DataFrame(columns)
    import pyarrow as pa

    arrays = {
        k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v))
        for k, v in columns.items()
    }
    table = pa.table(arrays)
    if flavour == "pyarrow":
        return table
    import polars as pl

    return pl.from_arrow(table)


def as_flavour(frame: pd.DataFrame, output: str | None, like: Any) -> Any:
    """A pandas result as the requested output flavour, by default the input's (pandas for
    files and dicts)."""
    output = _check.name(output, "output", optional=True)
    if output is not None and output not in ("pandas", "polars", "pyarrow"):
        raise InvalidOptionError(f"output must be 'pandas', 'polars' or 'pyarrow', not {output!r}")
    flavour = output or (_flavour(like) if in_memory(like) else "pandas")
    if flavour == "pandas":
        return frame
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if flavour == "pyarrow":
        return table
    import polars as pl

    return pl.from_arrow(table)


def _status_tables() -> tuple[np.ndarray, np.ndarray]:
    names = np.full(256, "unknown", dtype=object)
    messages = np.full(256, "", dtype=object)
    for code, name, msg in _core.STATUS:
        names[code] = name
        messages[code] = msg
    return names, messages


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


@renamed({"bootstrap": "n_boot", "bootstrap_method": "resample"})
def fit_groups(
    table: Any,
    by: str | Sequence[str],
    law: str = "chinchilla",
    *,
    x: str | None = None,
    columns: Mapping[str, str] | None = None,
    loss: str = _D["loss"],
    delta: float = _D["delta"],
    overestimate_penalty: float = _D["overestimate_penalty"],
    weights: str | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    p0: Mapping[str, float] | Sequence[float] | None = None,
    starts: str = _D["starts"],
    ftol: float = _D["ftol"],
    xtol: float = _D["xtol"],
    gtol: float = _D["gtol"],
    max_iter: int = _D["max_iter"],
    n_boot: int | None = None,
    resample: str = "case",
    seed: int = 0,
    level: float = 0.95,
    progress: bool | None = None,
    output: Flavour | None = None,
    row_labels: str | np.ndarray | None = None,
) -> Any:
    """Fit a scaling law to every group of a sweep table, in parallel, in one native call.

    Args:
        table: a pandas or polars DataFrame, a pyarrow Table, or anything
            :func:`powerfit.readers.read_table` reads: the path of a CSV, TSV, JSON (lines),
            Parquet (a file, a partitioned folder, a glob) or Feather file, a DuckDB relation,
            a polars LazyFrame (only the needed columns are read).
        by: the key column(s); one fit per distinct combination of their values. Missing key
            values form their own group.
        law, x, columns, loss, delta, overestimate_penalty, fixed, bounds, p0, starts, ftol,
            xtol, gtol, max_iter: as for :func:`powerfit.fit` (the same defaults), applied to
            every group.
        weights: name of a column of per-point weights.
        n_boot: bootstrap replicates per group (formerly ``bootstrap``; None or 0: no
            bootstrap). Groups whose fit converged get percentile intervals
            ``<param>_lower`` / ``<param>_upper`` over the converged replicates.
        resample: the resampling scheme (formerly ``bootstrap_method``): ``"case"``
            (resample rows) or ``"residual"``.
        seed: the run's seed. A group's bootstrap seed (column ``bootstrap_seed``) derives from
            it and a hash of the group's key values only, so it does not depend on the other
            groups, the row order or the partitioning; ``pf.bootstrap(pf.fit(rows), n_boot,
            seed=row.bootstrap_seed)`` reproduces a group's replicates.
        level: coverage of the intervals.
        progress: show a tqdm bar over groups (default: when stderr is a terminal).
        output: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; default: the input's flavour
            (pandas for files and dicts).
        row_labels: name of an integer column that numbers the rows in messages, or an integer
            array with one label per row (default: the rows' 0-based positions in the table).

    Returns:
        One row per group, sorted by the key columns: the keys, ``n_points``, one column per
        parameter, ``<param>_stderr`` (NaN without a covariance, 0 for fixed parameters),
        ``<param>_lower`` / ``<param>_upper``, ``n_boot_ok`` (converged replicates) and
        ``bootstrap_seed``
        when bootstrapped, then ``cost``, ``n_iter``, ``condition`` (of the scaled J^T J; large:
        weakly identified), ``success``, ``status`` and ``message``. A group that cannot be
        fitted (NaN or non-positive values, too few points, a constant loss column) has status
        ``"invalid_data"``, NaN parameters and a message naming the column, the row of the
        table and the row within the group; it does not affect the other groups. Each
        converged group's parameters, errors and cost are bit-identical to ``pf.fit`` on that
        group's rows alone.

    Raises:
        InvalidDataError: a missing key or data column, an unreadable table.
        InvalidLawError: unknown law, or a parameter the law does not have.
        InvalidOptionError: unknown loss, starts or resampling scheme, bad bounds or start.
        KeyboardInterrupt: Ctrl-C stops the run within a fraction of a second.
    """
    if isinstance(law, Law):
        p0, bounds = with_defaults(law, p0, bounds)
    keys = _check.names(by, "by")
    if not keys:
        raise InvalidOptionError("by must name one or more key columns")
    if weights is not None and not isinstance(weights, str):
        raise InvalidOptionError("weights must be the name of a column in fit_groups")
    output = _check.name(output, "output", optional=True)  # type: ignore[assignment]
    if output is not None and output not in ("pandas", "polars", "pyarrow"):
        raise InvalidOptionError(f"output must be 'pandas', 'polars' or 'pyarrow', not {output!r}")
    progress = _check.optional_flag(progress, "progress")
    cols = _check.mapping(columns, "columns")
    boot = n_boot is not None and not (isinstance(n_boot, int) and n_boot == 0)

    extra: set[str] = set(law.variables) if isinstance(law, Law) else set()
    if not in_memory(table):
        # files, DuckDB relations, lazy frames: read only the needed columns, as pyarrow
        table = as_table(table, _wanted_columns(keys, cols, weights, x) | extra)
        flavour: Flavour = "pandas"
        src: Flavour = "pyarrow"
    elif isinstance(table, Mapping):
        table = mapping_frame(table)
        flavour = src = "pandas"
    else:
        flavour = src = _flavour(table)
    out_flavour: Flavour = output or flavour

    names = column_names(table)
    missing = [k for k in keys if k not in names]
    if missing:
        raise InvalidDataError(
            f"key column(s) {', '.join(repr(m) for m in missing)} not in the data; columns are "
            f"{names}"
        )
    written = list(law.variables) if isinstance(law, Law) else None
    law_arg = law.native if isinstance(law, Law) else law
    avail, xname = available(table, law, x, {}, cols, written)
    model = _core.Model(
        law_arg,
        avail,
        xname,
        loss=loss,
        delta=delta,
        overestimate_penalty=overestimate_penalty,
        fixed=fixed,
        bounds=bounds,
    )
    options = _core.FitOptions(starts, p0, ftol, xtol, gtol, max_iter)
    xs, labels, yv, yname, w = gather(table, model.variables, x, None, {}, cols, weights)
    params = tuple(model.param_names)
    clash = [k for k in keys if k in _result_columns(params, boot)]
    if clash:
        raise InvalidOptionError(
            f"key column(s) {', '.join(clash)} clash with result columns; rename them"
        )

    # factorise the keys (sorted), one dense code per row; the core groups the rows by a
    # counting sort, so no sorted copy of the table is made here
    code, key_values = group_codes(table, src, keys)
    n_groups = len(key_values[0])
    rows = None if row_labels is None else _row_labels(table, names, row_labels, len(yv))
    ids = group_ids(key_values) if boot else None

    with Progress(n_groups, progress, "fit_groups", "group") as bar:
        raw = _core.fit_groups(
            model,
            xs,
            yv,
            code,
            n_groups,
            options=options,
            labels=labels,
            y_name=yname,
            weights=w,
            rows=rows,
            n_boot=n_boot if boot else None,
            resample=resample,
            seed=seed,
            level=level,
            ids=ids,
            progress=bar.callback,
        )
    del xs, yv, w, code, rows
    return _assemble(raw, keys, key_values, params, src, out_flavour, boot)


def _row_labels(table: Any, names: list[str], labels: str | np.ndarray, n: int) -> np.ndarray:
    """The rows' labels in messages as int64: a column of the table, or an array of n labels."""
    if isinstance(labels, str):
        if labels not in names:
            raise InvalidDataError(f"row_labels column '{labels}' is not in the data")
        lab = np.asarray(get_column(table, labels))
        what = f"row_labels column '{labels}'"
    else:
        try:
            lab = np.asarray(labels)
        except (TypeError, ValueError):  # ragged nested lists
            lab = np.empty(0)
        what = "row_labels"
        if lab.shape != (n,):
            raise InvalidDataError(f"row_labels must hold one label per row ({n}), not {lab.shape}")
    if lab.dtype.kind not in "iu":
        raise InvalidDataError(f"{what} must hold integers")
    return np.ascontiguousarray(lab, dtype=np.int64)


def _assemble(
    raw: _core.GroupFits,
    keys: list[str],
    key_values: list[Any],
    params: Sequence[str],
    src: Flavour,
    flavour: Flavour,
    boot: bool,
) -> Any:
    """The result table from the native arrays (no per-group Python objects but messages)."""
    names_by_code, messages_by_code = _status_tables()
    status = raw.status
    message = messages_by_code[status]
    idx = raw.message_index
    if len(idx):
        message[idx] = np.asarray(raw.message_text, dtype=object)
    out: dict[str, Any] = {}
    for k, v in zip(keys, key_values):
        if src != "pandas" and flavour == "pandas":
            v = v.to_pandas()
        elif src == "pandas" and flavour != "pandas":
            import pyarrow as pa

            v = pa.array(v)
        out[k] = v
    out["n_points"] = raw.n_points
    values, stderr = raw.params, raw.stderr
    for j, p in enumerate(params):
        out[p] = values[:, j]
    for j, p in enumerate(params):
        out[f"{p}_stderr"] = stderr[:, j]
    if boot:
        lower, upper = raw.lower, raw.upper
        assert lower is not None and upper is not None
        for j, p in enumerate(params):
            out[f"{p}_lower"] = lower[:, j]
            out[f"{p}_upper"] = upper[:, j]
        out["n_boot_ok"] = raw.n_boot_ok
        out["bootstrap_seed"] = raw.boot_seed
    out["cost"] = raw.cost
    out["n_iter"] = raw.n_iter
    out["condition"] = raw.condition
    out["success"] = raw.success
    out["status"] = names_by_code[status]
    out["message"] = message
    return _build(out, flavour)


def _result_columns(params: Sequence[str], boot: bool) -> list[str]:
    out = ["n_points", *params, *(f"{p}_stderr" for p in params)]
    if boot:
        out += [f"{p}_{s}" for p in params for s in ("lower", "upper")]
        out += ["n_boot_ok", "bootstrap_seed"]
    return out + ["cost", "n_iter", "condition", "success", "status", "message"]
