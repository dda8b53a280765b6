"""Saving and loading fits, reading and writing tables, atomic writes.

* ``res.save(path)`` / ``pf.load(path)``: the loaded result predicts, reports and bootstraps like
  the original, and carries the bootstrap replicates when there were any;
* saved fits are strict JSON (no NaN/Infinity tokens);
* every writer is atomic: a failure part-way leaves neither a partial file nor a temporary
  file, and an existing destination intact.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit import io as pio
from powerfit import saved


def _strict(text: str) -> object:
    """json.loads that refuses the non-standard NaN/Infinity tokens."""

    def bad(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=bad)


def _grid_data(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e7, 1e9, 6), 4)
    D = np.tile([1e9, 3e9, 1e10, 3e10], 6)
    y = (1.7 + 400 * N**-0.34 + 2000 * D**-0.28) * np.exp(rng.normal(0, 0.005, N.size))
    return pd.DataFrame({"params": N, "tokens": D, "val_loss": y, "w": rng.uniform(0.5, 2, N.size)})


@pytest.fixture(scope="module")
def chin() -> pf.FitResult:
    return pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", delta=1e-3)


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- round trips --------------------------------------------------------------------------------
def test_round_trip_predicts_and_reports_like_the_original(chin, tmp_path):
    path = chin.save(tmp_path / "fit.json")
    assert path == tmp_path / "fit.json"
    res = pf.load(path)
    assert isinstance(res, pf.FitResult)
    assert res.law == chin.law and res.variables == chin.variables
    assert res.param_names == chin.param_names
    assert res.params == chin.params
    assert res.stderr == chin.stderr
    np.testing.assert_array_equal(res.covariance, chin.covariance)
    assert res.summary() == chin.summary()
    assert res.warnings == chin.warnings
    assert (res.status, res.success, res.cost, res.n_iter) == (
        chin.status,
        chin.success,
        chin.cost,
        chin.n_iter,
    )
    N, D = np.geomspace(1e8, 1e11, 7), np.geomspace(1e9, 1e12, 7)
    np.testing.assert_array_equal(res.predict(N=N, D=D), chin.predict(N=N, D=D))
    np.testing.assert_array_equal(res.residuals(), chin.residuals())
    assert (res.loss, res.delta) == ("huber_log", 1e-3)
    pd.testing.assert_frame_equal(res.to_frame(), chin.to_frame())


def test_loaded_fit_bootstraps_like_the_original(chin, tmp_path):
    res = pf.load(chin.save(tmp_path / "fit.json", bootstrap=False))
    a = chin.bootstrap(n_boot=40, seed=3, progress=False)
    b = res.bootstrap(n_boot=40, seed=3, progress=False)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_bootstrap_replicates_are_saved_and_loaded(tmp_path):
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    boot = res.bootstrap(n_boot=60, seed=1, progress=False)
    path = res.save(tmp_path / "fit.json")
    loaded = pf.load(path)
    lb = loaded.boot
    assert lb is not None and lb.result is loaded
    np.testing.assert_array_equal(lb.samples, boot.samples)
    np.testing.assert_array_equal(lb.success, boot.success)
    np.testing.assert_array_equal(lb.status, boot.status)
    assert (lb.resample, lb.seed, lb.n) == ("case", 1, 60)
    pd.testing.assert_frame_equal(lb.ci(budgets=[1e22]), boot.ci(budgets=[1e22]))
    assert pio.load_bootstrap(path).n == 60
    # without the replicates
    slim = pf.load(res.save(tmp_path / "slim.json", bootstrap=False))
    assert slim.boot is None
    with pytest.raises(pf.InvalidDataError, match="no bootstrap"):
        pio.load_bootstrap(tmp_path / "slim.json")


def test_round_trip_keeps_columns_weights_fixed_and_bounds(tmp_path):
    df = _grid_data()
    res = pf.fit(
        df,
        law="chinchilla",
        columns={"N": "params", "D": "tokens", "loss": "val_loss"},
        weights="w",
        fixed={"E": 1.7},
        bounds={"alpha": (0.0, 2.0), "beta": (None, 1.0)},
        warn=False,
    )
    loaded = pf.load(res.save(tmp_path / "fit.json"))
    assert loaded.fixed == {"E": 1.7}
    assert loaded.bounds["alpha"] == (0.0, 2.0)
    assert loaded.bounds["beta"] == (-math.inf, 1.0)
    assert loaded.columns == ("params", "tokens") and loaded.y_name == "val_loss"
    np.testing.assert_array_equal(loaded.weights, res.weights)
    assert loaded.summary() == res.summary()
    assert loaded.params == res.params
    # strict JSON: infinite bounds are stored as strings
    _strict((tmp_path / "fit.json").read_text())


@pytest.mark.parametrize("law, kw", [("power", {"x": "N"}), ("additive", {}), ("kaplan", {})])
def test_round_trip_other_laws(law, kw, tmp_path):
    df = _grid_data().rename(columns={"params": "N", "tokens": "D", "val_loss": "loss"})
    res = pf.fit(df[["N", "D", "loss"]], law=law, warn=False, **kw)
    loaded = pf.load(res.save(tmp_path / f"{law}.json"))
    assert loaded.variables == res.variables
    assert loaded.params == res.params or all(
        (math.isnan(a) and math.isnan(b)) or a == b
        for a, b in zip(loaded.params.values(), res.params.values())
    )
    assert loaded.summary() == res.summary()


def test_to_dict_is_json_safe(chin):
    doc = chin.to_dict()
    text = json.dumps(doc, allow_nan=False)
    again = pio.from_dict(_strict(text))  # type: ignore[arg-type]
    assert again.params == chin.params


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        pf.load(tmp_path / "missing.json")
    (tmp_path / "a.json").write_text('{"hello": 1}')
    with pytest.raises(pf.InvalidDataError, match="not a saved powerfit fit"):
        pf.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("N,D,loss\n1,2,3\n")
    with pytest.raises(pf.InvalidDataError):
        pf.load(tmp_path / "b.json")


def test_load_rejects_future_and_corrupt_documents(chin, tmp_path):
    doc = chin.to_dict()
    doc["format_version"] = 99
    (tmp_path / "future.json").write_text(json.dumps(doc))
    with pytest.raises(pf.InvalidDataError, match="upgrade"):
        pf.load(tmp_path / "future.json")
    doc = chin.to_dict()
    del doc["data"]
    (tmp_path / "corrupt.json").write_text(json.dumps(doc))
    with pytest.raises(pf.InvalidDataError, match="corrupt"):
        pf.load(tmp_path / "corrupt.json")


def test_save_refuses_table_extensions(chin, tmp_path):
    with pytest.raises(pf.InvalidOptionError, match="JSON"):
        chin.save(tmp_path / "fit.csv")
    assert not (tmp_path / "fit.csv").exists()


def test_load_is_exported():
    assert "load" in pf.__all__ and pf.load is pio.load


# --- atomic writes -----------------------------------------------------------------------------
def test_failed_write_leaves_no_partial_file(chin, tmp_path, monkeypatch):
    target = tmp_path / "fit.json"

    def broken(doc):
        raise RuntimeError("disk full")

    # the document fails to serialise: nothing at all is written
    monkeypatch.setattr(saved, "dumps", broken)
    with pytest.raises(RuntimeError):
        chin.save(target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_write_mid_stream_keeps_the_old_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old contents\n")
    df = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(RuntimeError), pio.atomic_write(target, "w") as fh:
        fh.write("half of a new ")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old contents\n"
    assert _no_temp_files(tmp_path)
    pio.write_table(df, target)
    assert pd.read_csv(target)["a"].tolist() == [1.0, 2.0]
    assert _no_temp_files(tmp_path)


def test_write_into_a_missing_folder_fails_cleanly(chin, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        chin.save(tmp_path / "nope" / "fit.json")
    with pytest.raises(IsADirectoryError):
        pio.write_text(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def test_written_files_have_normal_permissions(chin, tmp_path):
    path = chin.save(tmp_path / "fit.json")
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


# --- tables ------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["csv", "tsv", "parquet", "json"])
def test_table_round_trip(ext, tmp_path):
    df = pd.DataFrame(
        {"N": [1e9, 2e9], "D": [1e10, 2e10], "loss": [2.5, math.nan], "name": ["a", "b"]}
    )
    path = pio.write_table(df, tmp_path / f"t.{ext}")
    back = pio.read_table(path)
    assert list(back.columns) == ["N", "D", "loss", "name"]
    np.testing.assert_allclose(back["N"], df["N"])
    assert math.isnan(back["loss"].iloc[1])
    if ext == "json":
        _strict(path.read_text())


def test_read_table_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        pio.read_table(tmp_path / "missing.csv")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(pf.InvalidOptionError, match="extension"):
        pio.read_table(tmp_path / "data.xlsx")
    (tmp_path / "bad.csv").write_text("N,D,loss\n1,2,3\n1,2,3,4,5\n")
    with pytest.raises(pf.InvalidDataError, match="cannot read"):
        pio.read_table(tmp_path / "bad.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(pf.InvalidDataError):
        pio.read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("N,D,loss\n")
    with pytest.raises(pf.InvalidDataError, match="no data rows"):
        pio.read_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(pf.InvalidDataError, match="PARQUET"):
        pio.read_table(tmp_path / "bad.parquet")


def test_write_table_unknown_extension(tmp_path):
    with pytest.raises(pf.InvalidOptionError):
        pio.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_round_trip_of_a_written_law(tmp_path):
    if not hasattr(pf, "Law"):
        pytest.skip("written laws are not in this build")
    law = pf.Law(
        "E + A*N^-alpha + B*D^-beta", variables=["N", "D"], name="mine", bounds={"alpha": (0, 2)}
    )
    res = pf.fit(pf.datasets.chinchilla(), law=law, loss="huber_log")
    res.bootstrap(n_boot=30, seed=2, progress=False)
    path = res.save(tmp_path / "law.json")
    doc = _strict(path.read_text())
    assert doc["expression"]["expr"] == "E + A*N^-alpha + B*D^-beta"  # type: ignore[index]
    loaded = pf.load(path)
    assert loaded.params == res.params and loaded.summary() == res.summary()
    N, D = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    np.testing.assert_array_equal(loaded.predict(N=N, D=D), res.predict(N=N, D=D))
    pd.testing.assert_frame_equal(loaded.boot.ci(), res.boot.ci())
    again = loaded.bootstrap(n_boot=30, seed=2, progress=False)
    np.testing.assert_array_equal(again.samples, res.boot.samples)
