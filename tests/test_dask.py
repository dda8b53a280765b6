"""``powerfit.dask.fit_groups`` on a two-process ``distributed.LocalCluster`` gives the same table
as ``pf.fit_groups`` on the pandas frame."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import powerfit as pf

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import powerfit.dask as pfd

HERE = os.path.dirname(os.path.abspath(__file__))
GADRE = os.path.join(HERE, "data", "gadre2024", "gadre2024_losses_long.csv")
KEYS = ["dataset", "eval_set"]
COLS = {"N": "params", "D": "train_tokens"}


@pytest.fixture(scope="module")
def gadre() -> pd.DataFrame:
    return pd.read_csv(GADRE)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _normalise(df: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by the keys; key dtypes as the pandas run's (Dask may store strings as
    pyarrow strings)."""
    out = df.sort_values(KEYS, kind="stable").reset_index(drop=True)
    for k in KEYS:
        out[k] = out[k].astype(like[k].dtype)
    return out


def test_cluster_result_equals_pandas(client: Any, gadre: pd.DataFrame) -> None:
    opts = dict(columns=COLS, loss="huber_log", n_boot=30, seed=3)
    ref = pf.fit_groups(gadre, by=KEYS, **opts)
    ddf = dd.from_pandas(gadre, npartitions=5)
    lazy = pfd.fit_groups(ddf, by=KEYS, **opts)
    # the lazy frame announces the pandas result's columns
    assert list(lazy.columns) == list(ref.columns)
    out = lazy.compute()
    assert len(out) == 24
    pd.testing.assert_frame_equal(_normalise(out, ref), ref, check_exact=True)


def test_cluster_reports_bad_groups_in_place(client: Any, gadre: pd.DataFrame) -> None:
    bad = gadre.copy()
    row = bad.index[(bad["dataset"] == "rpj") & (bad["eval_set"] == "c4_val")][4]
    bad.loc[row, "loss"] = float("nan")
    ref = pf.fit_groups(bad, by=KEYS, columns=COLS)
    out = pfd.fit_groups(dd.from_pandas(bad, npartitions=3), by=KEYS, columns=COLS).compute()
    out = _normalise(out, ref)
    pd.testing.assert_frame_equal(out, ref, check_exact=True)
    assert (out["status"] == "invalid_data").sum() == 1


def test_errors_are_raised_before_any_work(gadre: pd.DataFrame) -> None:
    ddf = dd.from_pandas(gadre, npartitions=2)
    with pytest.raises(pf.InvalidLawError):
        pfd.fit_groups(ddf, by=KEYS, law="nope", columns=COLS)
    with pytest.raises(pf.InvalidDataError, match="key column"):
        pfd.fit_groups(ddf, by=["nope"], columns=COLS)
    with pytest.raises(pf.InvalidDataError, match="dask DataFrame"):
        pfd.fit_groups(gadre, by=KEYS, columns=COLS)
