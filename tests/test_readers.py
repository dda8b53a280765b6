"""powerfit.readers.read_table: every file format, every in-memory flavour, DuckDB, column
pruning, filters pushed into scans, and errors that name the file, column and row."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq
from pyarrow import feather

import powerfit as pf
from powerfit.readers import Table, read_table, table_columns

FRAME = pd.DataFrame(
    {
        "N": [1e6, 2e6, 4e6, 8e6],
        "D": [2e9, 4e9, 8e9, 1.6e10],
        "loss": [3.1, 2.9, 2.75, 2.6],
        "dataset": ["c4", "pile", "c4", "pile"],
        "seed": [0, 1, 2, 3],
    }
)
EXPECTED = {k: FRAME[k].tolist() for k in ("N", "D", "loss")}


def _check(t: Table, cols: tuple[str, ...] = ("N", "D", "loss")) -> None:
    assert t.column_names == list(cols)
    for c in cols:
        np.testing.assert_array_equal(t.floats(c), np.asarray(FRAME[c], dtype=float))


# --- files ----------------------------------------------------------------------------------
def _write(path, kind: str) -> None:
    if kind == "csv":
        FRAME.to_csv(path, index=False)
    elif kind == "tsv":
        FRAME.to_csv(path, index=False, sep="\t")
    elif kind == "jsonl":
        FRAME.to_json(path, orient="records", lines=True)
    elif kind == "json_records":
        FRAME.to_json(path, orient="records")
    elif kind == "json_columns":
        path.write_text(json.dumps({k: FRAME[k].tolist() for k in FRAME.columns}, indent=2))
    elif kind == "parquet":
        FRAME.to_parquet(path)
    elif kind == "feather":
        feather.write_feather(pa.Table.from_pandas(FRAME, preserve_index=False), path)
    elif kind == "arrows":
        table = pa.Table.from_pandas(FRAME, preserve_index=False)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "name, kind, expected_kind",
    [
        ("runs.csv", "csv", "csv"),
        ("runs.tsv", "tsv", "tsv"),
        ("runs.jsonl", "jsonl", "jsonl"),
        ("runs.ndjson", "jsonl", "jsonl"),
        ("runs.json", "jsonl", "json"),
        ("runs.json", "json_records", "json"),
        ("runs.json", "json_columns", "json"),
        ("runs.parquet", "parquet", "parquet"),
        ("runs.feather", "feather", "ipc"),
        ("runs.arrow", "feather", "ipc"),
        ("runs.arrows", "arrows", "ipc"),
    ],
)
def test_file_formats(tmp_path, name, kind, expected_kind):
    path = tmp_path / name
    _write(path, kind)
    assert table_columns(path) == list(FRAME.columns)
    t = read_table(path, columns=["N", "D", "loss"])
    assert t.kind == expected_kind and t.flavour == "pandas"
    assert str(path) in t.source
    _check(t)
    whole = read_table(str(path))
    assert whole.column_names == list(FRAME.columns)
    assert whole.column("dataset").to_pylist() == FRAME["dataset"].tolist()


@pytest.mark.parametrize(
    "name, opener",
    [
        ("runs.csv.gz", gzip.open),
        ("runs.tsv.gz", gzip.open),
        ("runs.csv.bz2", bz2.open),
        ("runs.jsonl.gz", gzip.open),
    ],
)
def test_compressed_text(tmp_path, name, opener):
    sep = "\t" if ".tsv" in name else ","
    if ".jsonl" in name:
        text = FRAME.to_json(orient="records", lines=True)
    else:
        text = FRAME.to_csv(index=False, sep=sep)
    with opener(tmp_path / name, "wt") as fh:
        fh.write(text)
    _check(read_table(tmp_path / name, columns=["N", "D", "loss"]))


def test_zstd_csv(tmp_path):
    path = tmp_path / "runs.csv.zst"
    try:
        with pa.CompressedOutputStream(str(path), "zstd") as out:
            out.write(FRAME.to_csv(index=False).encode())
    except (pa.ArrowNotImplementedError, ValueError):
        pytest.skip("pyarrow built without zstd")
    _check(read_table(path, columns=["N", "D", "loss"]))


def test_json_records_with_nonfinite_strings(tmp_path):
    # powerfit's own JSON tables store non-finite numbers as strings
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            [{"N": 1.0, "loss": "NaN"}, {"N": 2.0, "loss": 2.5}, {"N": 3.0, "loss": "Infinity"}]
        )
    )
    y = read_table(path).floats("loss")
    assert np.isnan(y[0]) and y[1] == 2.5 and y[2] == np.inf


def test_format_override(tmp_path):
    path = tmp_path / "runs.data"
    FRAME.to_csv(path, index=False, sep="\t")
    _check(read_table(path, ["N", "D", "loss"], format="tsv"))
    with pytest.raises(pf.InvalidOptionError, match="cannot tell the format"):
        read_table(path)
    with pytest.raises(pf.InvalidOptionError, match="unknown format 'xlsx'"):
        read_table(path, format="xlsx")


def test_stdin_csv(monkeypatch):
    raw = FRAME.to_csv(index=False).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    t = read_table("-", columns=["N", "D", "loss"])
    assert t.source == "standard input"
    _check(t)


def test_csv_column_pruning_skips_bad_columns(tmp_path):
    # a column that is not asked for is never converted, so its junk cannot fail the read
    path = tmp_path / "runs.csv"
    path.write_text('N,notes,loss\n1e6,"a, b",3.0\n2e6,x,2.9\n')
    t = read_table(path, columns=["N", "loss"])
    assert t.column_names == ["N", "loss"]


# --- Parquet folders, globs and pushdown ---------------------------------------------------------
def test_parquet_folder_hive_partitions_and_pushdown(tmp_path):
    root = tmp_path / "sweep"
    for ds, g in FRAME.groupby("dataset"):
        part = root / f"dataset={ds}"
        part.mkdir(parents=True)
        g.drop(columns="dataset").to_parquet(part / "part-0.parquet", index=False)
    # a corrupt file in a partition the filter excludes: pruned by the partition value, it is
    # never opened, so the read succeeds only if the filter reaches the scan
    bad = root / "dataset=zzz"
    bad.mkdir()
    (bad / "part-0.parquet").write_bytes(b"not a parquet file at all")
    t = read_table(root, columns=["N", "loss"], filters=[("dataset", "in", ["c4", "pile"])])
    assert t.kind == "dataset"
    assert sorted(t.floats("N")) == sorted(FRAME["N"])
    assert t.column_names == ["N", "loss"]
    with pytest.raises(pf.InvalidDataError, match="sweep"):
        read_table(root, columns=["N", "loss"])


def test_parquet_glob_and_row_group_filters(tmp_path):
    for i, (_, g) in enumerate(FRAME.groupby("dataset")):
        pq.write_table(
            pa.Table.from_pandas(g, preserve_index=False),
            tmp_path / f"p{i}.parquet",
            row_group_size=1,
        )
    t = read_table(
        str(tmp_path / "*.parquet"),
        ["N", "loss"],
        filters=[("N", ">=", 2e6), ("dataset", "!=", "c4")],
    )
    assert sorted(t.floats("N")) == [2e6, 8e6]
    one = read_table(tmp_path / "p0.parquet", ["loss"], filters=("N", "<", 2e6))
    assert one.floats("loss").tolist() == [3.1]


# --- in memory --------------------------------------------------------------------------------
def test_pandas_is_not_modified():
    df = FRAME.copy()
    df["dataset"] = df["dataset"].astype("category")
    before = df.copy(deep=True)
    t = read_table(df, ["N", "D", "loss"], optional=["weights"], filters=[("dataset", "==", "c4")])
    assert t.kind == "pandas" and t.flavour == "pandas"
    assert t.floats("N").tolist() == [1e6, 4e6]
    pd.testing.assert_frame_equal(df, before)
    out = t.to_native(pd.DataFrame({"a": [1]}))
    assert isinstance(out, pd.DataFrame)


def test_polars_and_lazy_frames():
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(FRAME)
    for src in (frame, frame.lazy()):
        t = read_table(src, ["N", "D", "loss"])
        assert t.kind == "polars" and t.flavour == "polars"
        _check(t)
    back = t.to_native(pd.DataFrame({"a": [1.0]}))
    assert isinstance(back, pl.DataFrame)


def test_pyarrow_table_and_batch():
    table = pa.Table.from_pandas(FRAME, preserve_index=False)
    for src in (table, table.to_batches()[0]):
        t = read_table(src, ["N", "D", "loss"], filters=[("seed", ">", 0)])
        assert t.flavour == "pyarrow"
        assert t.floats("N").tolist() == [2e6, 4e6, 8e6]
    assert isinstance(t.to_native(pd.DataFrame({"a": [1]})), pa.Table)


def test_dict_of_arrays():
    pl = pytest.importorskip("polars")
    src = {
        "N": np.array([1e6, 2e6, 4e6, 8e6]),
        "D": list(FRAME["D"]),
        "loss": FRAME["loss"],
        "dataset": pl.Series(FRAME["dataset"].tolist()),
        "seed": pa.array([0, 1, 2, 3]),
    }
    t = read_table(src, ["N", "D", "loss"], filters=[("dataset", "==", "pile")])
    assert t.kind == "dict" and t.flavour == "pandas"
    assert t.floats("N").tolist() == [2e6, 8e6]


def test_dict_errors():
    with pytest.raises(pf.InvalidDataError, match="'N' has 2 rows, 'loss' has 3"):
        read_table({"N": [1, 2], "loss": [1, 2, 3]})
    with pytest.raises(pf.InvalidDataError, match="'N'.*one-dimensional"):
        read_table({"N": np.ones((2, 2))})
    with pytest.raises(pf.InvalidDataError, match=r"column 'N'.*mixes number and str.*row 2"):
        read_table({"N": np.array([1.0, 2.0, "x"], dtype=object)})


# --- DuckDB ------------------------------------------------------------------------------------
def test_duckdb_relation_and_sql(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    from powerfit.readers import sql

    FRAME.to_parquet(tmp_path / "a.parquet", index=False)
    rel = sql(f"SELECT * FROM read_parquet('{tmp_path / '*.parquet'}')")
    assert table_columns(rel) == list(FRAME.columns)
    t = read_table(rel, ["N", "D", "loss"], filters=[("dataset", "==", "pile")])
    assert t.kind == "duckdb" and t.flavour == "pandas"
    assert t.floats("N").tolist() == [2e6, 8e6]
    con = duckdb.connect()
    con.execute("CREATE TABLE runs AS SELECT * FROM read_parquet(?)", [str(tmp_path / "a.parquet")])
    _check(read_table(con.table("runs"), ["N", "D", "loss"]))
    with pytest.raises(pf.InvalidDataError, match="SQL query failed"):
        sql("SELECT * FROM no_such_table")


def test_duckdb_filters_reach_the_scan(tmp_path):
    pytest.importorskip("duckdb")
    from powerfit.readers import sql

    for ds, g in FRAME.groupby("dataset"):
        part = tmp_path / f"dataset={ds}"
        part.mkdir()
        g.drop(columns="dataset").to_parquet(part / "f.parquet", index=False)
    bad = tmp_path / "dataset=zzz"
    bad.mkdir()
    (bad / "f.parquet").write_bytes(b"garbage")
    rel = sql(f"SELECT * FROM read_parquet('{tmp_path}/*/*.parquet', hive_partitioning=true)")
    t = read_table(rel, ["N", "loss"], filters=[("dataset", "in", ["c4", "pile"])])
    assert sorted(t.floats("N")) == sorted(FRAME["N"])
    with pytest.raises(pf.InvalidDataError, match="DuckDB"):
        read_table(rel, ["N", "loss"])


# --- errors ------------------------------------------------------------------------------------
def test_missing_column_names_it_and_the_file(tmp_path):
    path = tmp_path / "runs.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(pf.InvalidDataError, match=r"runs.csv has no column 'params'.*'N'"):
        read_table(path, columns=["params", "loss"])
    with pytest.raises(pf.InvalidOptionError, match="filters use column 'split'"):
        read_table(path, ["N"], filters=[("split", "==", "val")])
    with pytest.raises(pf.InvalidOptionError, match="unknown operator '=~'"):
        read_table(path, ["N"], filters=[("N", "=~", 1)])
    with pytest.raises(pf.InvalidOptionError, match="list of values"):
        read_table(path, ["N"], filters=[("dataset", "in", "c4")])


def test_non_numeric_value_names_column_and_row(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,loss\n1e6,3.0\n2e6,n/a?\n4e6,2.8\n")
    t = read_table(path)
    with pytest.raises(
        pf.InvalidDataError,
        match=r"column 'loss' of .*runs.csv has a "
        r"non-numeric value 'n/a\?' at row 1",
    ):
        t.floats("loss")
    path.write_text("N,loss\n1e6,\n2e6,2.9\n")
    assert np.isnan(read_table(path).floats("loss")[0])
    with pytest.raises(pf.InvalidDataError, match="booleans"):
        read_table({"ok": [True, False]}).floats("ok")


def test_unparsable_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "nope.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 garbage")
    with pytest.raises(pf.InvalidDataError, match=r"bad.parquet as PARQUET"):
        read_table(bad)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("N,loss\n1,2\n3,4,5\n")
    with pytest.raises(pf.InvalidDataError, match=r"ragged.csv as CSV"):
        read_table(ragged)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"N": 1}, ')
    with pytest.raises(pf.InvalidDataError, match="broken.json"):
        read_table(broken)
    with pytest.raises(pf.InvalidDataError, match="not list"):
        read_table([1, 2, 3])
