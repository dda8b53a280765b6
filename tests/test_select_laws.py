"""Bulk law selection (pf.select_laws): each group's choice and scores equal compare_laws on the
group alone; bad groups are reported in their rows; sizes are bounded; forecasts per segment."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from ctrl_c import assert_interrupted
from powerfit import _core
from powerfit.errors import InvalidDataError, InvalidOptionError
from powerfit.forecast import bulk

HERE = os.path.dirname(__file__)
GADRE = os.path.join(HERE, "data", "gadre2024", "gadre2024_losses_long.csv")
CURVE_LAWS = ["power", "m1", "m3"]


def curves(n_curves: int = 6, seed: int = 3) -> pd.DataFrame:
    """Learning curves of two shapes: a plain power law, and one that bends over (m3-like)."""
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e9, 14)
    parts = []
    for i in range(n_curves):
        if i % 2:
            y = 2.0 + 60.0 * x ** -(0.25 + 0.02 * i)
        else:
            y = 1.5 * (x**-1 * 1e6 + 0.05 + 0.01 * i) ** 0.3 + 1.0
        y = y * np.exp(rng.normal(0.0, 0.003, x.size))
        parts.append(pd.DataFrame({"curve": f"c{i}", "seed": i % 3, "D": x, "loss": y}))
    return pd.concat(parts, ignore_index=True)


def assert_same_as_compare_laws(
    sel: pf.GroupSelection,
    frame: pd.DataFrame,
    keys: list[str],
    laws: list[str],
    by: str,
    **kw: object,
) -> None:
    for row in sel.table.itertuples(index=False):
        mask = np.ones(len(frame), dtype=bool)
        for k in keys:
            mask &= (frame[k] == getattr(row, k)).to_numpy()
        cmp = pf.compare_laws(frame[mask], laws=laws, by=by, warn=False, **kw)
        table = cmp.table.set_index("law")
        assert row.law == cmp.best
        for law in laws:
            np.testing.assert_allclose(
                getattr(row, f"{law}_log_rmse"), table.loc[law, "heldout_log_rmse"], rtol=1e-9
            )
        ru = cmp.runner_up
        if ru is None:
            assert pd.isna(row.runner_up)
        else:
            assert row.runner_up == ru["law"]
            np.testing.assert_allclose(row.z_vs_runner_up, ru["z_vs_best"], rtol=1e-9)
            assert row.tie == (not float(ru["z_vs_best"]) >= 1.0)
        assert row.n_splits == len(cmp.rollouts[str(cmp.best)].splits)


def test_each_group_chooses_as_compare_laws_does_on_it_alone() -> None:
    df = curves()
    sel = pf.select_laws(df, ["curve"], laws=CURVE_LAWS, by="D", x="D")
    assert list(sel.table["curve"]) == sorted(df["curve"].unique())
    assert (sel.table["status"] == "ok").all()
    assert_same_as_compare_laws(sel, df, ["curve"], CURVE_LAWS, "D", x="D")


def test_real_sweep_groups_with_two_keys_and_the_last_splits() -> None:
    table = pd.read_csv(GADRE).rename(columns={"params": "N", "train_tokens": "D"})
    table = table[table["N"] < 1e9]
    keys = ["dataset", "eval_set"]
    sel = pf.select_laws(table, keys, laws=["chinchilla", "kaplan"], by="N", splits=1)
    assert len(sel.table) == table.groupby(keys).ngroups
    assert_same_as_compare_laws(sel, table, keys, ["chinchilla", "kaplan"], "N", splits=1)


def test_pooled_ranking_and_the_chosen_laws_fits() -> None:
    df = curves()
    sel = pf.select_laws(df, "curve", laws=CURVE_LAWS, by="D", x="D")
    pooled = sel.pooled
    assert list(pooled.columns) == ["law", "median_log_rmse", "mean_log_rmse", "wins", "mean_rank"]
    assert pooled["wins"].sum() == len(sel.table)
    assert pooled["median_log_rmse"].is_monotonic_increasing
    errs = sel.table[[f"{law}_log_rmse" for law in CURVE_LAWS]].median()
    assert sel.best == CURVE_LAWS[int(np.argmin(errs.to_numpy()))]
    for law, fits in sel.fits.items():
        chosen = sel.table.loc[sel.table["law"] == law, "curve"]
        assert list(fits["curve"]) == list(chosen)
        for row in fits.itertuples(index=False):
            one = pf.fit(df[df["curve"] == row.curve], law=law, x="D", loss="log", warn=False)
            assert row.cost == one.cost
    assert "best for the family" in sel.summary()
    assert pf.select_laws(df, "curve", laws=CURVE_LAWS, by="D", x="D", fit=False).fits == {}


def test_a_bad_group_is_reported_in_its_row() -> None:
    df = curves()
    df.loc[df.index[(df["curve"] == "c2").to_numpy()][3], "loss"] = -1.0
    df.loc[(df["curve"] == "c4").to_numpy(), "D"] = np.repeat([1e6, 2e6], 7)
    sel = pf.select_laws(df, "curve", laws=CURVE_LAWS, by="D", x="D")
    rows = sel.table.set_index("curve")
    assert rows.loc["c2", "status"] == "invalid_data"
    assert "column 'loss'" in rows.loc["c2", "message"]
    assert f"row {df.index[(df['curve'] == 'c2').to_numpy()][3]}" in rows.loc["c2", "message"]
    assert rows.loc["c4", "status"] == "no_split"
    assert pd.isna(rows.loc["c2", "law"]) and pd.isna(rows.loc["c4", "law"])
    good = df[~df["curve"].isin(["c2", "c4"])]
    assert_same_as_compare_laws(
        pf.select_laws(good, "curve", laws=CURVE_LAWS, by="D", x="D"),
        good,
        ["curve"],
        CURVE_LAWS,
        "D",
        x="D",
    )
    others = rows.drop(index=["c2", "c4"])
    assert (others["status"] == "ok").all() and others["law"].notna().all()


def test_split_tables_are_bounded_before_they_are_gathered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "MAX_SPLIT_ROWS", 100)
    with pytest.raises(InvalidOptionError, match="limit 100"):
        pf.select_laws(curves(), "curve", laws=["power"], by="D", x="D")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"groups": "nope"}, InvalidDataError, "key column"),
        ({"groups": []}, InvalidOptionError, "groups"),
        ({"laws": "power"}, InvalidOptionError, "non-empty list"),
        ({"laws": ["power", "power"]}, InvalidOptionError, "named twice"),
        ({"min_train": 0}, InvalidOptionError, "min_train"),
        ({"splits": 0}, InvalidOptionError, "splits"),
        ({"rtol": 1.5}, InvalidOptionError, "rtol"),
        ({"by": "missing"}, InvalidDataError, "missing"),
        ({"fit": "yes"}, pf.PowerfitError, "fit"),
    ],
)
def test_bad_options_name_the_problem(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    args: dict[str, object] = {"groups": "curve", "laws": ["power"], "by": "D", "x": "D"}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        pf.select_laws(curves(2), **args)  # type: ignore[arg-type]


def test_forecasts_per_segment_equal_per_group_predictions() -> None:
    model = _core.Model("power", ["x"], "x")
    x = np.geomspace(1.0, 1e4, 10)
    params = np.array([[1.0, 2.0, 0.5], [0.5, 3.0, 0.25], [9.0, 9.0, 9.0]])
    out = model.predict_segments(params, [0, 4, 4, 10], [x])
    np.testing.assert_array_equal(out[:4], model.predict(params[0], [x[:4]]))
    np.testing.assert_array_equal(out[4:], model.predict(params[2], [x[4:]]))
    for offsets in ([0, 4, 9], [1, 4, 10], [0, 5, 4, 10], [0, 10]):
        with pytest.raises(pf.PowerfitError, match="offsets|segments"):
            model.predict_segments(params, offsets, [x])


def test_fit_groups_auto_fits_each_groups_chosen_law() -> None:
    df = curves()
    df.loc[0, "loss"] = np.nan
    opts = {"laws": CURVE_LAWS, "by": "D"}
    out = pf.fit_groups(df, "curve", law="auto", selection=opts, x="D", n_boot=40, seed=7)
    sel = pf.select_laws(df, "curve", laws=CURVE_LAWS, by="D", x="D", fit=False)
    assert list(out["curve"]) == list(sel.table["curve"])
    assert list(out["law"].astype(object).where(out["law"].notna(), None)) == list(
        sel.table["law"].astype(object).where(sel.table["law"].notna(), None)
    )
    first = out.iloc[0]
    assert first["status"] == "invalid_data" and "column 'loss'" in first["message"]
    assert pd.isna(first["cost"])
    for law in CURVE_LAWS:
        mine = out[out["law"] == law]
        if mine.empty:
            continue
        rows = df[df["curve"].isin(mine["curve"])]
        ref = pf.fit_groups(rows, "curve", law, x="D", loss="log", n_boot=40, seed=7)
        np.testing.assert_array_equal(mine["cost"].to_numpy(float), ref["cost"].to_numpy(float))
        # the seed that reproduces a group's replicates stays an exact integer
        assert [int(v) for v in mine["bootstrap_seed"]] == [int(v) for v in ref["bootstrap_seed"]]
    assert out["bootstrap_seed"].dtype == "UInt64"


def test_fit_groups_auto_output_flavour_and_options() -> None:
    pl = pytest.importorskip("polars")
    df = curves(4)
    opts = {"laws": ["power", "m1"], "by": "D", "validate": "last"}
    out = pf.fit_groups(pl.from_pandas(df), "curve", law="auto", selection=opts, x="D")
    assert isinstance(out, pl.DataFrame) and out.height == 4
    assert (out["n_splits"] == 1).all()
    with pytest.raises(InvalidOptionError, match="selection= takes"):
        pf.fit_groups(df, "curve", law="auto", selection={"nope": 1}, x="D")
    with pytest.raises(InvalidOptionError, match="output"):
        pf.fit_groups(df, "curve", law="auto", selection=opts, x="D", output="excel")
    with pytest.raises(InvalidOptionError, match="validate"):
        pf.fit_groups(df, "curve", law="auto", selection={**opts, "validate": "x"}, x="D")


def test_options_for_the_final_fits_only_are_named() -> None:
    with pytest.raises(InvalidOptionError, match="fit_options"):
        pf.select_laws(curves(2), "curve", laws=["power"], by="D", x="D", n_boot=10)
    with pytest.raises(InvalidOptionError, match="output"):
        pf.select_laws(curves(2), "curve", laws=["power"], by="D", x="D", output="polars")
    with pytest.raises(pf.PowerfitError, match="progress"):
        pf.select_laws(curves(2), "curve", laws=["power"], by="D", x="D", progress="yes")
    with pytest.raises(InvalidOptionError, match="fit_options must be"):
        pf.select_laws(curves(2), "curve", laws=["power"], by="D", x="D", fit_options=[1])


def test_a_written_law_is_a_candidate_like_a_built_in_one() -> None:
    df = curves(4)
    mine = pf.Law("c + a*D^-b", "D", positive=["a"], name="mine")
    sel = pf.select_laws(df, "curve", laws=["m3", mine], by="D", x="D")
    assert set(sel.table.columns) >= {"m3_log_rmse", "mine_log_rmse"}
    for row in sel.table.itertuples(index=False):
        one = df[df["curve"] == row.curve]
        cmp = pf.compare_laws(one, laws=["m3", mine], by="D", x="D", warn=False)
        table = cmp.table.set_index("law")["heldout_log_rmse"]
        np.testing.assert_allclose(row.mine_log_rmse, table["mine"], rtol=1e-9)
        best = cmp.best
        assert row.law == (best if isinstance(best, str) else best.name)


def test_a_parquet_file_is_read_for_its_needed_columns(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    df = curves(4).assign(notes="unused")
    path = str(tmp_path / "curves.parquet")
    df.to_parquet(path)
    from_file = pf.select_laws(path, "curve", laws=["power", "m1"], by="D", x="D")
    in_memory = pf.select_laws(df, "curve", laws=["power", "m1"], by="D", x="D")
    pd.testing.assert_frame_equal(from_file.table, in_memory.table)
    out = pf.fit_groups(path, "curve", law="auto", selection={"laws": ["power"], "by": "D"}, x="D")
    assert isinstance(out, pd.DataFrame) and len(out) == 4


def test_only_columns_a_candidate_takes_logs_of_must_be_positive() -> None:
    d = np.geomspace(1.0, 100.0, 12)
    z = np.linspace(-3.0, 3.0, 12)
    df = pd.DataFrame({"g": 1, "D": d, "z": z, "loss": 2.0 + np.exp(0.1 * z) + 1.0 / d})
    law = pf.Law("a + b*exp(c*z) + e/D", ["D", "z"], p0={"a": 2, "b": 1, "c": 0.1, "e": 1})
    sel = pf.select_laws(df, "g", laws=[law, "power"], by="D", x="D")
    assert sel.table["status"].tolist() == ["ok"]
    df.loc[4, "z"] = np.inf
    bad = pf.select_laws(df, "g", laws=[law, "power"], by="D", x="D").table
    assert bad["status"].tolist() == ["invalid_data"]
    assert "column 'z'" in bad["message"].iloc[0] and "must be finite" in bad["message"].iloc[0]
    df["loss"] = "text"
    with pytest.raises(InvalidDataError, match="column 'loss'"):
        pf.select_laws(df, "g", laws=["power"], by="D", x="D")


def test_ctrl_c_stops_a_long_selection() -> None:
    setup = """
    import numpy as np, pandas as pd
    rng = np.random.default_rng(0)
    x = np.geomspace(1e6, 1e9, 30)
    n = 20_000
    y = (2.0 + 60.0 * x[None, :] ** -rng.uniform(0.2, 0.4, (n, 1))).ravel()
    df = pd.DataFrame({"run": np.repeat(np.arange(n), x.size), "D": np.tile(x, n), "loss": y})
    """
    # m3's start search over 20,000 curves x 27 splits runs for minutes
    assert_interrupted(
        setup, 'pf.select_laws(df, "run", laws=["m3", "power"], by="D", x="D", progress=False)'
    )
