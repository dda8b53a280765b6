"""The same inputs everywhere: every entry point takes what the one reader reads."""

from __future__ import annotations

import pytest

import powerfit as pf

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")


def _write(df, path):
    ext = path.suffix
    if ext == ".csv":
        df.to_csv(path, index=False)
    elif ext == ".parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    elif ext == ".jsonl":
        # JSON keeps 15 significant digits (pandas' most), so JSON results agree to ~1e-6
        df.to_json(path, orient="records", lines=True, double_precision=15)
    elif ext == ".feather":
        feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), path)
    return path


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".jsonl", ".feather"])
def test_fit_reads_files(tmp_path, ext):
    df = pf.datasets.chinchilla()
    ref = pf.fit(df, law="chinchilla", loss="l2", warn=False)
    res = pf.fit(_write(df, tmp_path / f"sweep{ext}"), law="chinchilla", loss="l2", warn=False)
    assert res.params == pytest.approx(ref.params, rel=1e-6 if ext == ".jsonl" else 1e-9)


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".jsonl", ".feather"])
def test_fit_groups_reads_files(tmp_path, ext):
    df = pf.datasets.chinchilla()
    df["half"] = (df["N"] > df["N"].median()).astype(int)
    ref = pf.fit_groups(df, by="half", law="chinchilla")
    out = pf.fit_groups(_write(df, tmp_path / f"sweep{ext}"), by="half", law="chinchilla")
    tol = 1e-6 if ext == ".jsonl" else 1e-9
    assert out["alpha"].to_numpy() == pytest.approx(ref["alpha"].to_numpy(), rel=tol)


def test_frontier_and_cli_read_the_same_formats(tmp_path):
    pts = pf.datasets.porian2024()
    one = pts[pts["dataset"] == pts["dataset"].iloc[0]]
    path = _write(one, tmp_path / "iso.jsonl")
    by = ["dataset", "hparams", "warmup", "decay", "param_count", "val"]
    a = pf.isoflop(one, columns={"C": "flops", "N": "n", "D": "t"}, by=by, n_boot=0)
    b = pf.isoflop(path, columns={"C": "flops", "N": "n", "D": "t"}, by=by, n_boot=0)
    assert b.table["a"].to_numpy() == pytest.approx(a.table["a"].to_numpy(), rel=1e-6)


def test_an_unreadable_source_names_itself(tmp_path):
    bad = tmp_path / "sweep.xlsx"
    bad.write_bytes(b"PK")
    with pytest.raises(pf.InvalidDataError, match="sweep.xlsx"):
        pf.fit(bad, law="chinchilla")
    with pytest.raises(FileNotFoundError):
        pf.fit(tmp_path / "missing.parquet", law="chinchilla")
