"""Bulk fits on a Dask cluster: the engine of :func:`powerfit.fit_groups`, one native call per
partition on the workers.

>>> import powerfit.dask
>>> res = powerfit.dask.fit_groups("sweeps/", by=["dataset", "eval_set"],
...                                columns={"N": "params", "D": "train_tokens"},
...                                filters=[("dataset", "in", ["c4", "rpj"])])  # doctest: +SKIP
>>> res.compute()                                                          # doctest: +SKIP

A Parquet dataset (a folder, Hive-partitioned or not, a glob, a remote URL) is read by the
workers with only the columns the fit needs; a Dask DataFrame works too. One pass over the key
columns finds where each group's rows lie: when every group lies in one partition (a dataset
written partitioned by a key, or sorted by the keys) each partition is fitted where it is read,
without moving a row; otherwise the rows are hash-partitioned by the keys first. Either way the
result equals :func:`powerfit.fit_groups` on the same rows, bootstrap intervals included.

Dask is an optional extra: ``pip install "powerfit[dask]"``; docs/scaling.md has the costs and
how to run on a cluster.
"""

from __future__ import annotations

from .fit import fit_groups
from .layout import Layout, inspect_layout
from .parquet import read_parquet

__all__ = ["Layout", "fit_groups", "inspect_layout", "read_parquet"]
