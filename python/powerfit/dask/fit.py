"""``powerfit.dask.fit_groups``: every group of a Dask DataFrame (or a Parquet dataset) fitted
on the workers, one native call per partition, rows moved only when a group spans partitions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import groups
from ..errors import InvalidDataError, InvalidOptionError
from ..readers._filters import Filter
from .layout import Layout, example_key, inspect_layout, partitions
from .parquet import is_path, needed_columns, read_parquet, require_dask
from .partition import ROW, fit_in_place, fit_shuffled, split_rows

log = logging.getLogger("powerfit.dask")

#: Largest share of groups spanning partitions for which only their rows are shuffled (the
#: other groups fitted where they lie); above it every row is shuffled.
PARTIAL = 0.5


def _options(ddf: Any, options: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The local engine's options for every partition, and the user's row_labels column."""
    options = dict(options)
    options.pop("progress", None)
    if options.pop("output", "pandas") not in ("pandas", None):
        raise InvalidOptionError("powerfit.dask.fit_groups returns pandas partitions only")
    labels = options.pop("row_labels", None)
    if labels is not None and not isinstance(labels, str):
        raise InvalidOptionError("row_labels must name an integer column of the frame")
    if ROW in ddf.columns:
        raise InvalidDataError(f"the column name '{ROW}' is reserved by powerfit.dask")
    options["progress"] = False
    return options, labels


def _not_partitioned(parts: list[Any], layout: Layout) -> InvalidDataError:
    key = example_key(parts, layout)
    shown = ", ".join(f"{k}={v!r}" for k, v in key.items()) or "one key value"
    where = " and ".join(str(p) for p in layout.example)
    return InvalidDataError(
        f"the frame is not partitioned by {list(layout.columns)}: the rows of {shown} lie in "
        f"partitions {where} ({layout.split} of {layout.n_keys} key values are split); drop "
        "partitioned_by= to let powerfit shuffle the rows by key"
    )


def fit_groups(
    data: Any,
    by: str | Sequence[str],
    law: Any = "chinchilla",
    *,
    partitioned_by: str | Sequence[str] | None = None,
    npartitions: int | None = None,
    shuffle_method: str | None = None,
    filters: Sequence[Filter] | Filter | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Any:
    """Fit a scaling law to every group of a Dask DataFrame or a Parquet dataset, on the
    workers of the current Dask scheduler (a ``distributed.Client`` if one is active).

    One pass over the key columns (only they are read) finds each partition's size and whether
    any group's rows lie in more than one partition. When none does, every partition is fitted
    where it lies by one call of the local engine (:func:`powerfit.fit_groups`: all its groups
    in parallel in Rust) and no row moves. Otherwise the rows of the groups that span
    partitions are hash-partitioned by the keys (a Dask shuffle; every row when more than half
    of the groups span partitions), put back in table order within each partition, and fitted
    the same way, while the other groups are fitted where they lie.

    Args:
        data: a ``dask.dataframe.DataFrame``, or the path of a Parquet dataset (a file, a
            folder, Hive-partitioned or not, a glob, a list of files, a remote URL), read by
            the workers with :func:`powerfit.dask.read_parquet` (only the columns the fit
            needs, the ``filters`` pushed into the scan).
        by: the key column(s).
        law: the law, as for :func:`powerfit.fit_groups`.
        partitioned_by: key column(s), a subset of ``by``, whose values you know lie each in
            one partition (e.g. a dataset written one file per sweep, or ``by`` itself): the
            layout pass then reads only these columns, and a value that does span partitions
            raises InvalidDataError instead of making the rows move.
        npartitions: partitions after a shuffle (default: as many as the input has, or in
            proportion to the groups that move).
        shuffle_method: Dask's shuffle method (``"p2p"``, ``"tasks"``, ``"disk"``; default:
            Dask's choice).
        filters: rows to keep when ``data`` is a path: ``(column, op, value)`` conditions that
            must all hold (see :func:`powerfit.dask.read_parquet`).
        storage_options: fsspec options for a remote path.
        **options: any other keyword of :func:`powerfit.fit_groups` (``columns``, ``x``,
            ``loss``, ``weights``, ``fixed``, ``bounds``, ``p0``, ``starts``, ``n_boot``,
            ``seed``, ``level``, ``row_labels``: a column name). ``progress`` is ignored (use
            the Dask dashboard).

    Returns:
        A lazy Dask DataFrame with exactly the columns and dtypes of the pandas result, one row
        per group, each partition's groups sorted by the keys (sort after ``compute()`` to
        compare with :func:`powerfit.fit_groups`). Each group's values equal the local result's
        bit for bit: it is fitted on the same rows in table order, and its bootstrap seed
        derives from its key values only, not from the partitioning. Messages number rows by
        their position in the whole frame, as the local engine does for its table.

    Raises:
        ImportError: Dask is not installed.
        InvalidDataError: ``data`` is neither a Dask DataFrame nor a path; a key or data column
            is missing; ``partitioned_by`` columns whose values span partitions.
        InvalidLawError, InvalidOptionError: as :func:`powerfit.fit_groups`, raised here,
            before any work is sent to the cluster.
    """
    dd = require_dask()
    keys = [by] if isinstance(by, str) else list(by)
    if not keys or not all(isinstance(k, str) for k in keys):
        raise InvalidOptionError("by must name one or more key columns")
    read = {k: options.get(k) for k in ("x", "columns", "weights", "row_labels")}
    if is_path(data):
        data = read_parquet(
            data, keys, law, filters=filters, storage_options=storage_options, **read
        )
    elif filters is not None or storage_options is not None:
        raise InvalidOptionError("filters and storage_options apply to a Parquet path only")
    if not isinstance(data, dd.DataFrame):
        raise InvalidDataError(
            "powerfit.dask.fit_groups takes a dask DataFrame or the path of a Parquet dataset, "
            f"not {type(data).__name__}; use powerfit.fit_groups for in-memory tables"
        )
    names = [str(c) for c in data.columns]
    ddf = data[needed_columns(names, keys, law, **read)]  # only the columns the fit reads
    local, labels = _options(ddf, options)
    if labels is not None:
        local["row_labels"] = labels
    # every table-level check, and the result's columns and dtypes, from the empty meta frame
    meta = groups.fit_groups(ddf._meta, keys, law, **local)
    owned = [partitioned_by] if isinstance(partitioned_by, str) else list(partitioned_by or [])
    if partitioned_by is not None and (not owned or not set(owned) <= set(keys)):
        raise InvalidOptionError(f"partitioned_by must name key columns (of {keys}), not {owned}")

    parts = partitions(ddf)  # one plan for the layout pass and the fit
    layout = inspect_layout(parts, owned or keys)
    numbered = labels is None
    if layout.partitioned:
        log.info("fit_groups: %d partitions hold whole groups; no shuffle", len(parts))
        return _each(parts, fit_in_place, meta, keys, law, local, layout.offsets, numbered, None)
    if owned:
        raise _not_partitioned(parts, layout)
    return _shuffled(
        parts, ddf._meta, keys, law, local, meta, layout, numbered, npartitions, shuffle_method
    )


def _each(parts: list[Any], func: Any, meta: Any, *args: Any) -> Any:
    """A Dask DataFrame of ``func(part, *args, partition_info)`` on each partition."""
    import dask
    import dask.dataframe

    dk: Any = dask  # untyped in places
    task = dk.delayed(func, pure=True)
    done = [task(p, *args, partition_info={"number": i}) for i, p in enumerate(parts)]
    return dk.dataframe.from_delayed(done, meta=meta, verify_meta=False)


def _shuffled(
    parts: list[Any],
    frame_meta: Any,
    keys: list[str],
    law: Any,
    local: dict[str, Any],
    meta: Any,
    layout: Layout,
    numbered: bool,
    npartitions: int | None,
    shuffle_method: str | None,
) -> Any:
    """Groups that span partitions hash-partitioned by key and fitted after the shuffle; when
    they are at most half of all groups, only their rows move and the others are fitted where
    they lie."""
    import dask
    import dask.dataframe

    dk: Any = dask  # untyped in places
    partial = layout.split <= PARTIAL * layout.n_keys
    # one copy of the split keys' hashes, shared by every task
    split = dk.delayed(layout.split_keys) if partial else None
    offsets = layout.offsets
    moved_meta = frame_meta.assign(**{ROW: np.zeros(0, dtype=np.int64)})
    moved = _each(parts, split_rows, moved_meta, keys, offsets, split)
    n_in = len(parts)
    n_out = npartitions or (max(1, -(-n_in * layout.split // layout.n_keys)) if partial else n_in)
    log.info(
        "fit_groups: %d of %d groups span partitions; shuffling %s into %d partitions",
        layout.split,
        layout.n_keys,
        "their rows" if partial else "all rows",
        n_out,
    )
    fitted = moved.shuffle(on=keys, npartitions=n_out, shuffle_method=shuffle_method)
    fitted = fitted.map_partitions(fit_shuffled, keys, law, local, numbered, meta=meta)
    if not partial:
        return fitted
    whole = _each(parts, fit_in_place, meta, keys, law, local, offsets, numbered, split)
    return dk.dataframe.concat([whole, fitted])
