"""Where the groups of a Dask DataFrame lie: one pass over its key columns, on the workers.

Each partition reports its number of rows and the 64-bit hashes of the distinct key values it
holds; the client finds the hashes reported by more than one partition. A collision of two
different keys' hashes can only make a group look split (the safe direction: the rows are then
shuffled, which is correct, only slower), never hide a split one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Layout:
    """How the rows of a Dask DataFrame lie in its partitions, by some key columns.

    Attributes:
        columns: the key columns looked at.
        sizes: the number of rows of every partition (int64).
        n_keys: distinct key values (groups) in the whole frame.
        split: key values whose rows lie in more than one partition (0: the frame is
            partitioned by these columns, and by any finer key).
        split_keys: the hashes (:func:`key_hashes`) of the split key values, sorted.
        example: the partitions holding one split key value's rows (empty when none is split).
    """

    columns: tuple[str, ...]
    sizes: np.ndarray
    n_keys: int
    split: int
    split_keys: np.ndarray
    example: tuple[int, ...]
    example_hash: int | None

    @property
    def partitioned(self) -> bool:
        """True when every key value's rows lie in one partition."""
        return self.split == 0

    @property
    def offsets(self) -> np.ndarray:
        """The position of every partition's first row in the whole frame (int64)."""
        out = np.zeros(len(self.sizes), dtype=np.int64)
        np.cumsum(self.sizes[:-1], out=out[1:])
        return out


def key_hashes(part: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One 64-bit hash per row of the key values in ``columns`` (by value: a categorical and a
    plain column holding the same values hash alike)."""
    if not len(part):
        return np.zeros(0, dtype=np.uint64)
    h = pd.util.hash_pandas_object(part[list(columns)], index=False, categorize=True)
    return np.asarray(h, dtype=np.uint64)


def in_keys(part: pd.DataFrame, columns: Sequence[str], keys: np.ndarray) -> np.ndarray:
    """Which rows' key values are among ``keys`` (sorted hashes), as a boolean mask."""
    h = key_hashes(part, columns)
    if not len(keys):
        return np.zeros(len(h), dtype=bool)
    at = np.searchsorted(keys, h)
    at[at == len(keys)] = 0
    return keys[at] == h


def _summary(part: pd.DataFrame, columns: list[str]) -> tuple[int, np.ndarray]:
    """(rows, distinct key hashes) of one partition; runs on a worker."""
    return len(part), pd.unique(key_hashes(part, columns))


def partitions(ddf: Any) -> list[Any]:
    """The partitions of a Dask DataFrame as delayed objects, planned once.

    Dask re-plans a Parquet scan for each computation by the columns it needs (fusing files
    when few are read), so two computations on one frame can see different partitions. The
    layout pass and the fit therefore run on this one list: the same partitions, rows and
    offsets in both."""
    return list(ddf.to_delayed())


def inspect_layout(ddf: Any, columns: str | Sequence[str]) -> Layout:
    """Where the rows of each key value of a Dask DataFrame lie, from one pass over its
    partitions.

    Args:
        ddf: a ``dask.dataframe.DataFrame``, or its partitions from :func:`partitions` (the
            list the fit then runs on).
        columns: the key column(s).

    Returns:
        A :class:`Layout`: rows per partition, and whether (and how many) key values span
        partitions.
    """
    import dask

    dk: Any = dask  # untyped in places
    cols = [columns] if isinstance(columns, str) else list(columns)
    parts = ddf if isinstance(ddf, list) else partitions(ddf)
    task = dk.delayed(_summary, pure=True)
    out = dk.compute(*[task(p, cols) for p in parts])
    sizes = np.array([n for n, _ in out], dtype=np.int64)
    hashes = [h for _, h in out]
    every = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    shared = pd.Series(every).duplicated(keep=False).to_numpy()
    split_hashes = pd.unique(every[shared])
    example: tuple[int, ...] = ()
    example_hash = None
    if len(split_hashes):
        example_hash = int(split_hashes[0])
        owner = np.repeat(np.arange(len(hashes)), [len(h) for h in hashes])
        example = tuple(int(p) for p in owner[every == split_hashes[0]])
    return Layout(
        columns=tuple(cols),
        sizes=sizes,
        n_keys=int(len(every) - shared.sum() + len(split_hashes)),
        split=int(len(split_hashes)),
        split_keys=np.sort(split_hashes),
        example=example,
        example_hash=example_hash,
    )


def example_key(parts: list[Any], layout: Layout) -> dict[str, Any]:
    """The values of one split key (reads one of the partitions ``parts``); {} when none
    is."""
    if layout.example_hash is None:
        return {}
    cols = list(layout.columns)
    part = parts[layout.example[0]].compute()
    hit = np.flatnonzero(key_hashes(part, cols) == np.uint64(layout.example_hash))
    if not len(hit):
        return {}
    row = part.iloc[int(hit[0])]
    return {c: row[c] for c in cols}
