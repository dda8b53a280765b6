"""Bulk fits on a Dask cluster: the same engine as :func:`powerfit.fit_groups`, run on the
workers, one native call per partition.

>>> import dask.dataframe as dd
>>> import powerfit.dask
>>> ddf = dd.read_parquet("sweeps/*.parquet")                          # doctest: +SKIP
>>> res = powerfit.dask.fit_groups(ddf, by=["dataset", "eval_set"],
...                                columns={"N": "params", "D": "train_tokens"})  # doctest: +SKIP
>>> res.compute()                                                       # doctest: +SKIP

Dask is an optional extra: ``pip install "powerfit[dask]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import groups as _groups
from .errors import InvalidDataError, InvalidOptionError

#: Temporary column holding each row's position in the table (restores row order after the
#: shuffle, so that every group is fitted on its rows in table order, as pandas would).
ROW = "__powerfit_row__"


def _require_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            'powerfit.dask needs Dask: pip install "powerfit[dask]" '
            "(dask[dataframe] and distributed)"
        ) from exc
    return dd


def _fit_partition(
    part: pd.DataFrame, by: list[str], law: str, options: dict[str, Any]
) -> pd.DataFrame:
    """Fits the groups of one partition (each group lies wholly in one partition), its rows in
    table order and numbered by their position in the whole table."""
    if ROW in part.columns:
        part = part.sort_values(ROW, kind="stable")
        part = part.assign(**{ROW: part[ROW].to_numpy() - 1})  # cumsum of ones: 1-based
        return _groups.fit_groups(part, by, law, row_labels=ROW, **options)
    return _groups.fit_groups(part, by, law, **options)


def fit_groups(
    ddf: Any,
    by: str | Sequence[str],
    law: str = "chinchilla",
    *,
    npartitions: int | None = None,
    **options: Any,
) -> Any:
    """Fit a scaling law to every group of a Dask DataFrame, on the workers.

    The rows are shuffled so that each group lies in one partition (rows with equal keys
    hash to the same partition), their table order is restored within each partition, and
    every partition is fitted by one call of :func:`powerfit.fit_groups` (the Rust engine,
    all groups of the partition in parallel).

    Args:
        ddf: a ``dask.dataframe.DataFrame``.
        by: the key column(s).
        law: the law, as for :func:`powerfit.fit_groups`.
        npartitions: partitions after the shuffle (default: as many as ``ddf`` has).
        **options: any other keyword of :func:`powerfit.fit_groups` (``columns``, ``loss``,
            ``fixed``, ``bounds``, ``bootstrap``, ``seed``, ...). ``progress`` is ignored (the
            work runs on the workers; use the Dask dashboard).

    Returns:
        A lazy Dask DataFrame with exactly the columns and dtypes of the pandas result, one row
        per group; rows are in partition order (sort by the keys after ``compute()`` to compare
        with :func:`powerfit.fit_groups`). The values equal the pandas result's: groups are
        fitted from the same rows in the same order, and bootstrap seeds derive from the keys,
        not from the partitioning.

    Raises:
        ImportError: Dask is not installed.
        InvalidDataError: ``ddf`` is not a Dask DataFrame, or a key or data column is missing.
        InvalidLawError, InvalidOptionError: as :func:`powerfit.fit_groups`, raised here,
            before any work is sent to the cluster.
    """
    dd = _require_dask()
    if not isinstance(ddf, dd.DataFrame):
        raise InvalidDataError(
            f"powerfit.dask.fit_groups takes a dask DataFrame, not {type(ddf).__name__}; "
            "use powerfit.fit_groups for in-memory tables"
        )
    keys = [by] if isinstance(by, str) else list(by)
    options = dict(options)
    options.pop("progress", None)
    if options.get("output", "pandas") != "pandas":
        raise InvalidOptionError("powerfit.dask.fit_groups returns pandas partitions only")
    options.pop("output", None)
    if "row_labels" in options:
        raise InvalidOptionError("powerfit.dask.fit_groups numbers rows itself (row_labels)")
    if ROW in ddf.columns:
        raise InvalidDataError(f"the column name '{ROW}' is reserved by powerfit.dask")
    # the result's structure, and every table-level check, from the empty meta frame
    meta = _groups.fit_groups(ddf._meta, keys, law, progress=False, **options)
    options["progress"] = False
    ddf = ddf.assign(**{ROW: 1})
    ddf = ddf.assign(**{ROW: ddf[ROW].cumsum()})
    ddf = ddf.shuffle(on=keys, npartitions=npartitions)
    return ddf.map_partitions(_fit_partition, keys, law, options, meta=meta)
