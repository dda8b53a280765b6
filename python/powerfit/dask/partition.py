"""What a worker does with one partition: one call of the local engine on all its groups.

Rows are numbered by their position in the whole frame (the offset of the partition, known
from the layout pass), so messages name the same rows as :func:`powerfit.fit_groups` on the
whole table would. Groups split across partitions (``split``: their sorted key hashes) are
left out of the partition's own fit and handed to the shuffle instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import groups
from .layout import in_keys

#: Temporary column holding each row's position in the whole frame across a shuffle (restores
#: table order within each group, so that groups are fitted on their rows in table order).
ROW = "__powerfit_row__"


def _number(partition_info: dict[str, Any] | None, offsets: np.ndarray, n: int) -> np.ndarray:
    i = 0 if partition_info is None else int(partition_info["number"])
    return np.arange(offsets[i], offsets[i] + n, dtype=np.int64)


def fit_in_place(
    part: pd.DataFrame,
    keys: list[str],
    law: Any,
    options: dict[str, Any],
    offsets: np.ndarray,
    numbered: bool,
    split: np.ndarray | None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Fits the groups a partition holds whole, on its rows in table order (``numbered``:
    labelled by position, else by the ``row_labels`` column in ``options``), leaving out the
    groups in ``split``."""
    rows = _number(partition_info, offsets, len(part))
    if split is not None and len(split):
        keep = ~in_keys(part, keys, split)
        if not keep.all():
            part, rows = part[keep], rows[keep]
    if numbered:
        options = {**options, "row_labels": rows}
    return groups.fit_groups(part, keys, law, **options)


def split_rows(
    part: pd.DataFrame,
    keys: list[str],
    offsets: np.ndarray,
    split: np.ndarray | None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The rows of a partition to shuffle (those of the groups in ``split``; all when None),
    with a column of their positions in the whole frame."""
    out = part.assign(**{ROW: _number(partition_info, offsets, len(part))})
    if split is not None:
        out = out[in_keys(part, keys, split)]
    return out


def fit_shuffled(
    part: pd.DataFrame, keys: list[str], law: Any, options: dict[str, Any], numbered: bool
) -> pd.DataFrame:
    """Fits the groups of a partition gathered by a shuffle: its rows back in table order
    first (a shuffle interleaves the rows of its input partitions)."""
    order = part[ROW].to_numpy()
    if len(order) > 1 and not bool(np.all(order[1:] > order[:-1])):
        part = part.take(np.argsort(order, kind="stable"))
    if numbered:
        options = {**options, "row_labels": part[ROW].to_numpy()}
    return groups.fit_groups(part, keys, law, **options)
