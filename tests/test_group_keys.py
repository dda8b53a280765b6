"""Group keys: the dense path for integer keys gives the same codes and key values as the
general factorisation, whatever the dtypes, signs and ranges of the keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import powerfit as pf
from powerfit import _keys


def _general(table: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, list[pd.Series]]:
    """The path every other key type takes: per-column factorisation, then combined."""
    uniques, codes = [], []
    for k in keys:
        codes_k, uniques_k = pd.factorize(table[k], sort=True)
        codes.append(np.asarray(codes_k, dtype=np.int64))
        uniques.append(uniques_k)
    code, per_key = _keys._combine(codes, [len(u) for u in uniques])
    return code, [_keys._key_values(u, "pandas", g) for u, g in zip(uniques, per_key)]


def _same(table: pd.DataFrame, keys: list[str]) -> None:
    code, values = _keys.group_codes(table, "pandas", keys)
    ref_code, ref_values = _general(table, keys)
    np.testing.assert_array_equal(code, ref_code)
    assert code.dtype == np.int64 and code.flags.c_contiguous
    for got, want, k in zip(values, ref_values, keys):
        assert got.dtype == table[k].dtype
        pd.testing.assert_series_equal(got, want, check_names=False)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    lo=st.integers(-(2**40), 2**40),
    width=st.integers(1, 50),
    second=st.sampled_from(["int8", "int32", "uint16", "int64"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_dense_integer_keys_match_the_general_path(
    n: int, lo: int, width: int, second: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "run": rng.integers(lo, lo + width, n).astype(np.int64),
            "cfg": rng.integers(0, 20, n).astype(second),
        }
    )
    assert _keys._dense_int_keys(table, ["run", "cfg"]) is not None
    _same(table, ["run", "cfg"])
    _same(table, ["cfg", "run"])
    _same(table, ["run"])


def test_sparse_or_extreme_integer_keys_take_the_general_path() -> None:
    # combinations far sparser than the rows, and values near the int64 limits
    sparse = pd.DataFrame({"a": [0, 10**9, 5], "b": [0, 10**9, 7]})
    assert _keys._dense_int_keys(sparse, ["a", "b"]) is None
    _same(sparse, ["a", "b"])
    extreme = pd.DataFrame({"a": np.array([2**63 - 1, 2**63 - 2], dtype=np.int64)})
    assert _keys._dense_int_keys(extreme, ["a"]) is None
    _same(extreme, ["a"])
    big = pd.DataFrame({"a": np.array([2**64 - 1, 2**64 - 2], dtype=np.uint64)})
    assert _keys._dense_int_keys(big, ["a"]) is None
    _same(big, ["a"])


@pytest.mark.parametrize("dtype", ["float64", "Int64", "object"])
def test_other_key_types_are_not_taken_for_dense_integers(dtype: str) -> None:
    table = pd.DataFrame({"a": pd.Series([1, 2, 2], dtype=dtype)})
    assert _keys._dense_int_keys(table, ["a"]) is None


def test_fit_groups_on_negative_integer_keys() -> None:
    rng = np.random.default_rng(3)
    n_pts = np.geomspace(1e7, 1e10, 12)
    rows = []
    for run in (-3, 7):
        for cfg in (2, -1):
            amp = 400.0 + 10 * run + cfg
            loss = 1.7 + amp * n_pts**-0.3 * (1 + 0.001 * rng.standard_normal(n_pts.size))
            rows.append(pd.DataFrame({"run": run, "cfg": cfg, "N": n_pts, "loss": loss}))
    table = pd.concat(rows).sample(frac=1.0, random_state=0)
    out = pf.fit_groups(table, by=["run", "cfg"], law="power", x="N")
    assert out[["run", "cfg"]].values.tolist() == [[-3, -1], [-3, 2], [7, -1], [7, 2]]
    for r in out.itertuples():
        alone = table[(table["run"] == r.run) & (table["cfg"] == r.cfg)]
        single = pf.fit(alone, law="power", x="N", warn=False)
        assert r.cost == pytest.approx(single.cost, rel=1e-10)


def test_fit_groups_on_uint64_keys_above_the_int64_range() -> None:
    # such keys once overflowed in the key factorisation (a raw OverflowError)
    n_pts = np.geomspace(1e7, 1e9, 10)
    table = pd.DataFrame(
        {
            "a": np.array([2**64 - 1] * 10 + [2**63] * 10, dtype=np.uint64),
            "N": np.tile(n_pts, 2),
            "loss": np.concatenate([2 + 50 * n_pts**-0.2, 1.5 + 80 * n_pts**-0.3]),
        }
    )
    out = pf.fit_groups(table, by="a", law="power", x="N")
    assert out["a"].tolist() == [2**63, 2**64 - 1]
    assert out["success"].all()


@pytest.mark.parametrize("first", ["uint64", "uint32", "int8", "uint8", "int16"])
def test_dense_keys_of_every_integer_dtype(first: str) -> None:
    table = pd.DataFrame(
        {
            "a": np.array([3, 1, 2, 3, 1, 0], dtype=first),
            "b": np.array([5, 5, 6, 7, 5, 9], dtype=np.uint64),
        }
    )
    assert _keys._dense_int_keys(table, ["a", "b"]) is not None
    _same(table, ["a", "b"])
    _same(table, ["b", "a"])
