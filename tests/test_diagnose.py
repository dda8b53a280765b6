"""pf.diagnose: the regimes planted in a synthetic sweep (the data-constrained law with
repetition, an over-fitting term and a double-descent bump) are recovered from noisy runs; the
OLMo ladder gets a sensible regime per size; checks, checkpoints, options and bad input."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit.diagnosis import REGIMES, synthetic_sweep
from powerfit.errors import InvalidDataError, InvalidOptionError

OLMO = {"run": ["size", "chinchilla_multiplier"], "columns": {"D": "tokens", "loss": "loss_c4"}}


def _scored(seed: int, noise: float = 0.003) -> tuple[pd.DataFrame, pf.Diagnosis]:
    runs = synthetic_sweep(noise=noise, seed=seed)
    d = pf.diagnose(runs, by="U", n_boot=100, seed=seed)
    cells = d.cells.copy()
    # cells come sorted by (group, N, D); so do the runs once sorted by (U, N, D)
    truth = runs.sort_values(["U", "N", "D"], kind="stable")
    np.testing.assert_array_equal(cells["N"].to_numpy(), truth["N"].to_numpy())
    cells["planted"] = truth["planted"].to_numpy()
    return cells, d


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_regimes_are_recovered(seed: int) -> None:
    cells, _ = _scored(seed)
    scored = cells[cells["planted"] != "ambiguous"]
    planted = set(scored["planted"])
    assert {
        "capacity_limited",
        "under_trained",
        "data_limited",
        "balanced",
        "noise_floor",
    } <= planted
    accuracy = float((scored["planted"] == scored["regime"]).mean())
    # measured over seeds 0-4 at this noise: 0.95-0.97
    assert accuracy >= 0.9, accuracy
    for regime, sub in scored.groupby("planted"):
        recall = float((sub["regime"] == regime).mean())
        assert recall >= 0.6, (regime, recall, len(sub))


def test_overfitting_and_the_double_descent_bump_are_marked() -> None:
    cells, d = _scored(0)
    rep = cells[cells["group"] == 0]  # U = 3e9 sorts first
    assert (d.keys["U"].iloc[0] == 3e9) and np.isinf(d.keys["U"].iloc[1])
    bump = rep[rep["detail"].str.startswith("double-descent bump")]
    # the bump is planted at N = 10^7.5, growing in with the epochs
    assert len(bump) >= 2
    assert np.allclose(bump["N"], 10**7.5)
    assert (bump["epochs"] > 1).all()
    over = rep[rep["detail"].str.contains("over-fitting")]
    assert len(over) >= 10
    assert (over["epochs"] > 1).mean() > 0.9
    # where the validation loss turns up, the train/validation gap is wide
    assert over["gap"].median() > 5 * rep[rep["regime"] == "under_trained"]["gap"].abs().median()
    fresh = cells[cells["group"] == 1]
    assert not fresh["detail"].str.contains("bump|over-fit").any()


def test_checks_and_recommendations_on_the_synthetic_sweep() -> None:
    _, d = _scored(0)
    chk = d.checks.set_index(["group", "check"])
    assert chk.loc[(0, "no repeated data"), "status"] == "warn"
    assert "epochs" in chk.loc[(0, "no repeated data"), "detail"]
    assert (1, "no repeated data") in chk.index
    assert chk.loc[(1, "no repeated data"), "status"] == "ok"
    assert chk.loc[(1, "N spans a decade"), "status"] == "ok"
    assert chk.loc[(1, "capacity slices are single-factor"), "status"] == "warn"
    # the floor of the fresh sweep is found near the law's E = 1.7
    fl = d.floor.set_index("group").loc[1]
    assert fl["E_lower"] <= 1.7 <= fl["E_upper"]
    # the noise estimate is near the planted 0.3%
    assert 0.0015 < d.noise["sigma"].iloc[1] < 0.0045
    rec = d.recommendations
    assert set(rec["regime"]) <= set(REGIMES)
    cap = rec[(rec["group"] == 1) & (rec["regime"] == "capacity_limited")].iloc[0]
    assert cap["g_N"] > cap["g_D"] and "scale the model" in cap["recommendation"]
    text = d.summary()
    assert "largest model, longest run" in text and "[warn]" in text


def test_olmo_ladder_gets_a_sensible_regime_per_size() -> None:
    d = pf.diagnose(pf.datasets.olmo_ladder(), **OLMO)
    assert d.settings["cells"] == "final"
    cells = d.cells
    assert len(cells) == 20 and cells["N"].nunique() == 4
    long = cells[cells["tokens_per_param"] > 150]
    short = cells[cells["tokens_per_param"] < 15]
    # 200 tokens per parameter: more parameters pay more than more tokens
    assert (long["regime"] == "capacity_limited").all()
    assert (long["g_N"] > 2 * long["g_D"]).all()
    # 10 tokens per parameter: never capacity-limited; more tokens pay at least as much
    assert not (short["regime"] == "capacity_limited").any()
    assert (short["g_D"] > short["g_N"]).sum() >= 3
    # near Chinchilla's 20 tokens per parameter, both pay about equally
    mid = cells[(cells["tokens_per_param"] > 15) & (cells["tokens_per_param"] < 50)]
    assert (mid["regime"] == "balanced").mean() >= 0.75
    step = d.next_steps().iloc[0]
    assert step["regime"] == "capacity_limited"
    chk = d.checks.set_index("check")
    assert chk.loc["N spans a decade", "status"] == "warn"
    assert "0.83 decades" in chk.loc["N spans a decade", "detail"]
    assert len(d.learning) == 4 and d.learning["success"].all()


def test_checkpoints_of_single_runs_become_cells() -> None:
    df = pf.datasets.olmo_ladder()
    one = df[df["chinchilla_multiplier"] == 10.0]
    d = pf.diagnose(one, **OLMO)
    assert d.settings["cells"] == "checkpoints"
    per_size = d.cells.groupby("N").size()
    assert (per_size >= 8).all()
    # the last cell of each size is its run's final point
    last = d.cells.sort_values("D").groupby("N").tail(1)
    assert (d.cells.loc[last.index, "source"] == "final").all()
    assert set(d.cells["regime"]) <= set(REGIMES)


def test_given_noise_and_floor_and_determinism() -> None:
    runs = synthetic_sweep(seed=3)
    fresh = runs[np.isinf(runs["U"])].drop(columns=["U"])
    a = pf.diagnose(fresh, noise=0.003, floor=1.7, n_boot=0)
    assert (a.floor["status"] == "given").all() and a.noise["source"].iloc[0] == "given"
    assert (a.cells["regime"] == "noise_floor").sum() >= 5
    b = pf.diagnose(fresh, noise=0.003, floor=1.7, n_boot=0)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    c = pf.diagnose(fresh, n_boot=50, seed=7)
    e = pf.diagnose(fresh, n_boot=50, seed=7)
    pd.testing.assert_frame_equal(c.learning, e.learning)


def test_plot(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("matplotlib")
    d = pf.diagnose(pf.datasets.olmo_ladder(), **OLMO)
    fig = d.plot(path=tmp_path / "d.png")
    assert len(fig.axes) == 3 and (tmp_path / "d.png").stat().st_size > 1000
    with pytest.raises(InvalidOptionError, match="group"):
        d.plot(group=3)


def test_bad_input_is_named() -> None:
    runs = pd.DataFrame({"N": [1e8, 1e8, 2e8], "D": [1e9, 2e9, 1e9], "loss": [3.0, 2.9, 2.8]})
    with pytest.raises(InvalidDataError, match="no column 'tokens'"):
        pf.diagnose(runs, columns={"D": "tokens"})
    bad = runs.assign(loss=[3.0, np.nan, 2.8])
    with pytest.raises(InvalidDataError, match="'loss' has an invalid value nan at row 1"):
        pf.diagnose(bad)
    neg = runs.assign(N=[1e8, -1.0, 2e8])
    with pytest.raises(InvalidDataError, match="row 1"):
        pf.diagnose(neg)
    with pytest.raises(InvalidDataError, match="several model sizes"):
        pf.diagnose(runs.assign(r=[0, 0, 0]), run="r")
    with pytest.raises(InvalidOptionError, match="ratio"):
        pf.diagnose(runs, ratio=0.5)
    with pytest.raises(InvalidOptionError, match="level"):
        pf.diagnose(runs, level=2.0)
    with pytest.raises(InvalidOptionError, match="cells"):
        pf.diagnose(runs, cells="every")
    with pytest.raises(InvalidOptionError, match="unknown key"):
        pf.diagnose(runs, columns={"tokens": "D"})
    with pytest.raises(InvalidOptionError, match="noise"):
        pf.diagnose(runs, noise=-1.0)
    # a tiny sweep still gets an answer, with the noise it had to assume said out loud
    with pytest.warns(pf.PowerfitWarning, match="assuming"):
        d = pf.diagnose(runs, n_boot=0)
    assert d.noise["source"].iloc[0] == "assumed"


def test_command_line(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    from powerfit.cli import main

    src = tmp_path / "olmo.csv"
    pf.datasets.olmo_ladder().to_csv(src, index=False)
    out, fig = tmp_path / "cells.csv", tmp_path / "d.png"
    code = main(
        [
            "diagnose",
            str(src),
            "--run",
            "size",
            "chinchilla_multiplier",
            "--columns",
            "D=tokens",
            "loss=loss_c4",
            "--n-boot",
            "20",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    assert "largest model, longest run" in capsys.readouterr().out
    cells = pd.read_csv(out)
    assert len(cells) == 20 and set(cells["regime"]) <= set(REGIMES)
    assert not fig.exists()
    # bad input: exit 2 with one line naming the problem
    assert main(["diagnose", str(src)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no column 'D'" in err[0]
    assert main(["diagnose", str(src), "--ratio", "-1"]) == 2
    assert main(["diagnose", str(src), "--out", str(tmp_path / "x.txt")]) == 2


def test_readme_examples_run() -> None:
    pytest.importorskip("matplotlib")
    from readme_blocks import run_python

    ns = run_python("Before the fit")
    d = ns["d"]
    assert isinstance(d, pf.Diagnosis)
    assert d.next_steps()["regime"].iloc[0] == "capacity_limited"
