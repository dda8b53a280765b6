"""``powerfit.dask.fit_groups`` on a two-process ``distributed.LocalCluster`` reading Parquet
datasets from disk gives the table ``pf.fit_groups`` gives on the same rows, bit for bit
(bootstrap intervals and messages included), whichever way the rows lie in the partitions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import powerfit as pf

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import powerfit.dask as pfd

HERE = os.path.dirname(os.path.abspath(__file__))
GADRE = os.path.join(HERE, "data", "gadre2024", "gadre2024_losses_long.csv")
KEYS = ["dataset", "eval_set"]
COLS = {"N": "params", "D": "train_tokens"}
BOOT = dict(columns=COLS, loss="huber_log", n_boot=30, seed=3)


@pytest.fixture(scope="module")
def gadre() -> pd.DataFrame:
    df = pd.read_csv(GADRE)
    df.loc[df.index[(df["dataset"] == "rpj") & (df["eval_set"] == "c4_val")][4], "loss"] = np.nan
    return df


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


#: The columns the fits read: files holding only these are read one partition per file
#: (Dask fuses files when a computation reads a small share of their columns).
USED = [*KEYS, "params", "train_tokens", "loss"]


def _write(df: pd.DataFrame, path: Path, every_column: bool = False) -> None:
    df = df if every_column else df[[c for c in USED if c in df.columns]]
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


@pytest.fixture(scope="module")
def hive(gadre: pd.DataFrame, tmp_path_factory: Any) -> tuple[Path, pd.DataFrame]:
    """A Hive-partitioned dataset (one folder per dataset, two files each, every group whole
    in one file) and the table in the order Dask reads it."""
    root = tmp_path_factory.mktemp("hive")
    parts = []
    for name in sorted(gadre["dataset"].unique()):
        sub = gadre[gadre["dataset"] == name]
        (root / f"dataset={name}").mkdir()
        for i, half in enumerate(np.array_split(np.sort(sub["eval_set"].unique()), 2)):
            rows = sub[sub["eval_set"].isin(half)]
            _write(rows.drop(columns="dataset"), root / f"dataset={name}" / f"part-{i}.parquet")
            parts.append(rows)
    return root, pd.concat(parts, ignore_index=True)


def _chunks(df: pd.DataFrame, root: Path, n: int, every_column: bool = False) -> Path:
    """``df`` cut into n files of consecutive rows (groups straddle the cuts)."""
    root.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(df)), n)):
        _write(df.iloc[rows], root / f"part-{i:02d}.parquet", every_column)
    return root


def _normalise(df: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by the keys; key dtypes as the pandas run's (Dask reads Hive partition
    columns as categoricals)."""
    out = df.sort_values(KEYS, kind="stable").reset_index(drop=True)
    for k in KEYS:
        out[k] = out[k].astype(like[k].dtype)
    return out


def _shuffles(lazy: Any) -> bool:
    return any("shuffle" in str(k) for k in dict(lazy.__dask_graph__()))


def test_hive_dataset_is_fitted_in_place(client: Any, hive: tuple[Path, pd.DataFrame]) -> None:
    root, table = hive
    ref = pf.fit_groups(table, by=KEYS, **BOOT)
    lazy = pfd.fit_groups(str(root), by=KEYS, **BOOT)
    assert list(lazy.columns) == list(ref.columns)  # the lazy frame announces the result
    assert lazy.npartitions == 6 and not _shuffles(lazy)
    out = lazy.compute()
    assert len(out) == 24
    pd.testing.assert_frame_equal(_normalise(out, ref), ref, check_exact=True)
    bad = out[out["status"] == "invalid_data"]
    assert len(bad) == 1 and "row 4 of the group" in bad["message"].iloc[0]
    # partitioned_by: the same work; a split group would raise instead of moving
    same = pfd.fit_groups(str(root), by=KEYS, partitioned_by=KEYS, **BOOT).compute()
    pd.testing.assert_frame_equal(_normalise(same, ref), ref, check_exact=True)


def test_split_groups_are_shuffled(client: Any, gadre: pd.DataFrame, tmp_path: Path) -> None:
    """Rows in table order cut into files: every group spans files, all rows move."""
    ref = pf.fit_groups(gadre, by=KEYS, **BOOT)
    lazy = pfd.fit_groups(str(_chunks(gadre, tmp_path / "rows", 5)), by=KEYS, **BOOT)
    assert _shuffles(lazy)
    pd.testing.assert_frame_equal(_normalise(lazy.compute(), ref), ref, check_exact=True)


def test_only_straddling_groups_move(client: Any, gadre: pd.DataFrame, tmp_path: Path) -> None:
    """A table sorted by the keys cut into files: only the groups at the cuts move."""
    table = gadre.sort_values(KEYS, kind="stable").reset_index(drop=True)
    ref = pf.fit_groups(table, by=KEYS, **BOOT)
    root = _chunks(table, tmp_path / "sorted", 4)
    layout = pfd.inspect_layout(pfd.read_parquet(str(root), KEYS, columns=COLS), KEYS)
    assert (layout.split, layout.n_keys) == (3, 24)
    assert list(layout.sizes) == [208, 208, 208, 208] and list(layout.offsets) == [0, 208, 416, 624]
    lazy = pfd.fit_groups(str(root), by=KEYS, **BOOT)
    assert lazy.npartitions == 4 + 1  # the groups fitted in place, then the 3 moved ones
    pd.testing.assert_frame_equal(_normalise(lazy.compute(), ref), ref, check_exact=True)


def test_parquet_reads_needed_columns_and_filters(
    client: Any, hive: tuple[Path, pd.DataFrame]
) -> None:
    root, table = hive
    law = pf.Law("E + A*N^-alpha + B*D^-beta", variables=["N", "D"])
    ddf = pfd.read_parquet(
        str(root), KEYS, law, columns=COLS, filters=[("eval_set", "in", ["c4_val", "de-en"])]
    )
    assert list(ddf.columns) == [*KEYS, "params", "train_tokens", "loss"]
    ref = pf.fit_groups(table[table["eval_set"].isin(["c4_val", "de-en"])], by=KEYS, law=law,
                        columns=COLS, n_boot=20, seed=1)  # fmt: skip
    out = pfd.fit_groups(ddf, by=KEYS, law=law, columns=COLS, n_boot=20, seed=1).compute()
    assert len(out) == len(ref) == 6
    pd.testing.assert_frame_equal(_normalise(out, ref), ref, check_exact=True)


def test_a_wrong_partitioned_by_is_named(client: Any, hive: tuple[Path, pd.DataFrame]) -> None:
    # each dataset's folder holds two files: its rows lie in two partitions
    root, _ = hive
    with pytest.raises(pf.InvalidDataError, match=r"not partitioned by \['dataset'\].*dataset="):
        pfd.fit_groups(str(root), by=KEYS, partitioned_by="dataset", columns=COLS)
    with pytest.raises(pf.InvalidOptionError, match="partitioned_by"):
        pfd.fit_groups(str(root), by=KEYS, partitioned_by="params", columns=COLS)


def test_a_frame_from_pandas(client: Any, gadre: pd.DataFrame) -> None:
    ref = pf.fit_groups(gadre, by=KEYS, columns=COLS)
    out = pfd.fit_groups(dd.from_pandas(gadre, npartitions=3), by=KEYS, columns=COLS).compute()
    pd.testing.assert_frame_equal(_normalise(out, ref), ref, check_exact=True)


def test_errors_are_raised_before_any_work(gadre: pd.DataFrame, tmp_path: Path) -> None:
    ddf = dd.from_pandas(gadre, npartitions=2)
    with pytest.raises(pf.InvalidLawError):
        pfd.fit_groups(ddf, by=KEYS, law="nope", columns=COLS)
    with pytest.raises(pf.InvalidDataError, match="key column"):
        pfd.fit_groups(ddf, by=["nope"], columns=COLS)
    with pytest.raises(pf.InvalidDataError, match="dask DataFrame"):
        pfd.fit_groups(gadre, by=KEYS, columns=COLS)
    with pytest.raises(pf.InvalidOptionError, match="Parquet path"):
        pfd.fit_groups(ddf, by=KEYS, columns=COLS, filters=[("dataset", "==", "c4")])
    root = _chunks(gadre, tmp_path / "rows", 2)
    with pytest.raises(pf.InvalidDataError, match="'tokens'"):
        pfd.read_parquet(str(root), KEYS, columns={"N": "params", "D": "tokens"})
    with pytest.raises(pf.InvalidOptionError, match="filters use column 'nope'"):
        pfd.read_parquet(str(root), KEYS, columns=COLS, filters=[("nope", "==", 1)])
    with pytest.raises(pf.InvalidOptionError, match="operator"):
        pfd.read_parquet(str(root), KEYS, columns=COLS, filters=[("params", "~", 1)])


def test_layout_and_fit_read_the_same_partitions(
    client: Any, gadre: pd.DataFrame, tmp_path: Path
) -> None:
    """Dask fuses Parquet files when a computation reads few of their columns: the pass over
    the keys must see the partitions the fit sees, or rows are numbered (and ordered) wrongly.
    A frame read with every column, from files the key pass alone would fuse."""
    root = _chunks(gadre, tmp_path / "wide", 5, every_column=True)
    ref = pf.fit_groups(gadre, by=KEYS, **BOOT)
    out = pfd.fit_groups(dd.read_parquet(str(root)), by=KEYS, **BOOT).compute()
    pd.testing.assert_frame_equal(_normalise(out, ref), ref, check_exact=True)
