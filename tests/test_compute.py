"""pf.compute: FLOP counts checked by hand for published shapes, conversions between FLOPs,
accelerator-hours and money, MFU against a published figure, sweep checks with planted
mis-logged runs, and budgets for compute-optimal plans."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit import compute
from powerfit.errors import InvalidDataError, InvalidOptionError, PowerfitWarning

CHINCHILLA_70B = {"n_layers": 80, "d_model": 8192, "n_heads": 64, "vocab": 32000, "n_ctx": 2048}


# --- FLOPs per token --------------------------------------------------------------------------
def test_chinchilla_70b_shape_counted_by_hand() -> None:
    # Hoffmann et al. 2022, Table 4: 80 layers, d_model 8192, 64 heads of 128, d_ff = 4 d_model;
    # vocabulary 32,000 and sequence length 2,048 (their Section 4 / Appendix F).
    f = compute.flops_per_token(**CHINCHILLA_70B)
    a = f.architecture
    # per layer: attention 4 d^2 = 268,435,456, feed-forward 2 d (4d) = 536,870,912
    assert a.params_nonembedding == 80 * (268_435_456 + 536_870_912) == 64_424_509_440
    assert a.params_embedding == 2 * 32_000 * 8_192 == 524_288_000
    assert f["6N"] == 6 * 64_424_509_440 == 386_547_056_640
    # Kaplan: 6N + 6 n_layer n_ctx d_attn = 6N + 6 * 80 * 2048 * 8192
    assert f["kaplan"] == 386_547_056_640 + 8_053_063_680
    # + 3 (4 d + 2 d V): Kaplan's embedding and de-embedding rows
    assert f["kaplan_embedding"] == 394_600_120_320 + 3 * (32_768 + 524_288_000)
    # PaLM: 6 N_total + 12 L H Q T = 6 * 64,948,797,440 + 12 * 80 * 64 * 128 * 2048
    assert f["palm"] == 389_692_784_640 + 16_106_127_360
    # Hoffmann, per token forward: embedding 2 V d = 524,288,000 and logits the same; per
    # layer QKV 2 d (3 d) = 402,653,184, scores 2 T d + 3 h T + 2 T d = 67,502,080, output
    # projection 2 d^2 = 134,217,728, dense 2 (2 d 4d) = 1,073,741,824
    per_layer = 402_653_184 + 67_502_080 + 134_217_728 + 1_073_741_824
    assert f["hoffmann"] == 3 * (2 * 524_288_000 + 80 * per_layer) == 405_893_283_840
    # how far apart: the full count is 5.0% above 6N for this shape
    assert f.spread == pytest.approx(405_893_283_840 / 386_547_056_640)
    assert 1.04 < f.spread < 1.06
    tab = f.to_frame()
    assert list(tab["method"]) == list(compute.METHODS)
    assert tab.loc[tab.method == "6N", "ratio_to_6N"].item() == 1.0
    assert "factor 1.050" in f.summary()


def test_palm_540b_shape_and_its_published_mfu() -> None:
    # Chowdhery et al. 2022: 118 layers, d_model 18432, 48 heads of 256, multi-query attention,
    # SwiGLU with d_ff = 4 d_model, shared 256k embeddings: 540.35B parameters; 238.3K tokens/s
    # on 6144 TPU v4 chips is 46.2% MFU by their 6N + 12 L H Q T count.
    arch = compute.Architecture(
        n_layers=118,
        d_model=18432,
        n_heads=48,
        d_head=256,
        n_kv_heads=1,
        d_ff=4 * 18432,
        gated=True,
        vocab=256_000,
        n_ctx=2048,
        tied_embeddings=True,
    )
    assert arch.params_total == 540_354_281_472
    fpt = compute.flops_per_token(arch)["palm"]
    assert fpt == 6 * 540_354_281_472 + 12 * 118 * 48 * 256 * 2048
    assert compute.mfu(238.3e3, fpt, 6144, "TPU-v4") == pytest.approx(0.462, abs=5e-4)
    # the inverse
    assert compute.tokens_per_second(0.462, fpt, 6144, "TPU-v4") == pytest.approx(238.3e3, rel=2e-3)


def test_gated_gqa_and_positions_change_the_counts_as_stated() -> None:
    base = compute.Architecture(n_layers=2, d_model=64, n_heads=4, vocab=100, n_ctx=16)
    gqa = compute.Architecture(n_layers=2, d_model=64, n_heads=4, n_kv_heads=1, vocab=100, n_ctx=16)
    # K and V shrink from 4 heads to 1: 2 * 64 * (64 - 16) fewer per layer
    assert base.attention_params - gqa.attention_params == 2 * 64 * 48
    gated = compute.Architecture(
        n_layers=2, d_model=64, n_heads=4, vocab=100, n_ctx=16, gated=True, d_ff=128
    )
    assert gated.ffn_params == 3 * 64 * 128
    pos = compute.Architecture(
        n_layers=2,
        d_model=64,
        n_heads=4,
        vocab=100,
        n_ctx=16,
        learned_positions=True,
        tied_embeddings=True,
    )
    assert pos.params_embedding == 100 * 64 + 16 * 64


@pytest.mark.parametrize(
    "bad",
    [
        {"n_layers": 0},
        {"d_model": 10.5},
        {"n_heads": 3},
        {"n_kv_heads": 8},
        {"vocab": -1},
        {"d_ff": True},
    ],
)
def test_bad_shapes_are_refused_clearly(bad: dict[str, object]) -> None:
    shape: dict[str, object] = {
        "n_layers": 2,
        "d_model": 64,
        "n_heads": 4,
        "vocab": 100,
        "n_ctx": 16,
    }
    shape.update(bad)
    with pytest.raises(InvalidOptionError):
        compute.flops_per_token(**shape)


# --- conversions --------------------------------------------------------------------------------
def test_known_conversions_and_round_trips() -> None:
    # one H100-SXM hour at 50% MFU in bf16: 989.4e12 * 0.5 * 3600 FLOPs
    assert compute.flops_from_hours(1.0, "H100-SXM", mfu=0.5) == pytest.approx(1.78092e18)
    # GPT-3: 6 * 175e9 * 300e9 = 3.15e23 FLOPs; on A100s at 312 TFLOP/s and 30% MFU
    flops = 6 * 175e9 * 300e9
    hours = compute.accelerator_hours(flops, "A100-SXM", mfu=0.3)
    assert hours == pytest.approx(3.15e23 / (312e12 * 0.3 * 3600))
    assert compute.cost(flops, 2.0, "A100-SXM", mfu=0.3) == pytest.approx(2.0 * hours)
    h = np.array([1.0, 10.0, 1e5])
    back = compute.accelerator_hours(
        compute.flops_from_hours(h, "MI300X", mfu=0.35), "MI300X", mfu=0.35
    )
    np.testing.assert_allclose(back, h, rtol=1e-14)
    # fp8 doubles the H100's peak; an override wins over the table
    assert compute.peak_flops("h100_sxm", "fp8") == pytest.approx(
        2 * compute.peak_flops("H100-SXM", "bf16"), rel=1e-3
    )
    assert compute.peak_flops("H100-SXM", peak_tflops=500) == 500e12
    mine = compute.Accelerator("my-chip", {"bf16": 100.0}, source="lab measurement")
    assert compute.accelerator_hours(3.6e17, mine, mfu=1.0) == pytest.approx(1.0)


def test_accelerator_table_has_sources_and_refuses_unknowns() -> None:
    tab = compute.table()
    assert set(tab["accelerator"]) >= {"A100-SXM", "H100-SXM", "TPU-v4", "MI300X"}
    assert tab["source"].str.len().min() > 10
    assert tab.loc[tab.accelerator == "A100-SXM", "bf16"].item() == 312.0
    with pytest.raises(InvalidOptionError, match="unknown accelerator 'H900'"):
        compute.peak_flops("H900")
    with pytest.raises(InvalidOptionError, match="no fp8 peak"):
        compute.peak_flops("A100-SXM", "fp8")
    with pytest.raises(InvalidOptionError, match="unknown precision"):
        compute.peak_flops("A100-SXM", "fp4")
    with pytest.raises(InvalidOptionError):
        compute.Accelerator("x", {"bf16": -1.0})
    with pytest.raises(InvalidOptionError, match="mfu"):
        compute.accelerator_hours(1e20, "A100-SXM", mfu=1.5)


# --- budgets --------------------------------------------------------------------------------------
def test_budget_in_every_unit() -> None:
    b = pf.Budget(gpus=1024, hours=720, accelerator="H100-SXM", mfu=0.4, price_per_hour=2.5)
    rate = 989.4e12 * 0.4 * 3600
    assert b.total_accelerator_hours == 1024 * 720
    assert b.total_flops == pytest.approx(1024 * 720 * rate)
    assert b.total_cost == pytest.approx(1024 * 720 * 2.5)
    assert b.wall_hours == pytest.approx(720)
    # the same budget given as money and as accelerator-hours
    m = pf.Budget(money=1024 * 720 * 2.5, price_per_hour=2.5, accelerator="H100-SXM", mfu=0.4)
    h = pf.Budget(accelerator_hours=1024 * 720, accelerator="H100-SXM", mfu=0.4)
    assert m.total_flops == pytest.approx(b.total_flops)
    assert h.total_flops == pytest.approx(b.total_flops)
    f = pf.Budget(flops=1e24)
    assert math.isnan(f.total_accelerator_hours) and math.isnan(f.total_cost)
    assert compute.budget_flops([f, 2e23]) == [1e24, 2e23]
    assert "accelerator-hours" in b.summary() and "cost" in b.summary()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "exactly one"),
        ({"flops": 1e24, "money": 5.0, "price_per_hour": 1.0}, "exactly one"),
        ({"money": 1e6, "accelerator": "H100-SXM", "mfu": 0.4}, "price_per_hour"),
        ({"gpus": 8, "hours": 10}, "hardware"),
        ({"hours": 10, "accelerator": "H100-SXM", "mfu": 0.4}, "hours needs gpus"),
        ({"flops": -1.0}, "positive"),
        ({"flops": 1e24, "mfu": 2.0, "accelerator": "H100-SXM"}, "at most 1"),
        ({"gpus": 8, "hours": 10, "accelerator": "nope", "mfu": 0.4}, "unknown accelerator"),
    ],
)
def test_bad_budgets_are_refused_clearly(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        pf.Budget(**kwargs)  # type: ignore[arg-type]


def test_compute_optimal_plan_from_a_budget() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    b = pf.Budget(gpus=1024, hours=720, accelerator="A100-SXM", mfu=0.4, price_per_hour=2.0)
    tab = compute.compute_optimal(res, b)
    assert tab["C"].item() == pytest.approx(b.total_flops)
    direct = res.compute_optimal(budgets=[b.total_flops])
    assert tab["N_opt"].item() == direct["N_opt"].item()
    assert tab["C_accelerator_hours"].item() == pytest.approx(1024 * 720)
    assert tab["C_wall_hours"].item() == pytest.approx(720)
    assert tab["C_cost"].item() == pytest.approx(1024 * 720 * 2.0)
    assert tab["C_share_of_budget"].item() == pytest.approx(1.0)
    # several budgets: no single share
    two = compute.compute_optimal(res, [b, 1e22])
    assert len(two) == 2 and "C_share_of_budget" not in two
    s = compute.inference_optimal(res, 2.0, 1e13, budget=b)
    assert s["total_flops_accelerator_hours"] == pytest.approx(
        s["total_flops"] / (312e12 * 0.4 * 3600)
    )
    assert s["fits_budget"] == (s["total_flops"] <= b.total_flops)


# --- sweep checks ------------------------------------------------------------------------------
def _sweep(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e8, 1e10, 6), 5)
    D = N * rng.uniform(5, 100, N.size)
    # k drifts smoothly with size (an attention term), as a real count does
    k = 6.0 * (1.0 + 0.1 * (1e8 / N) ** 0.3)
    return pd.DataFrame({"params": N, "tokens": D, "flops": k * N * D})


def test_sweep_check_finds_planted_mislogged_runs() -> None:
    df = _sweep()
    df.loc[4, "flops"] /= 3.0  # forward-pass FLOPs
    df.loc[11, "flops"] /= 8.64e19  # PF-days
    df.loc[17, "flops"] *= 2.0  # counted twice
    df.loc[23, "tokens"] = np.nan  # missing
    with pytest.warns(PowerfitWarning, match="4 run"):
        out = compute.check_sweep(df, columns={"C": "flops", "N": "params", "D": "tokens"})
    assert sorted(np.flatnonzero(out["flagged"])) == [4, 11, 17, 23]
    assert len(out) == len(df)  # nothing dropped
    assert "forward-pass" in out.loc[4, "reason"]
    assert "PF-days" in out.loc[11, "reason"]
    assert "twice" in out.loc[17, "reason"]
    assert out.loc[23, "reason"].startswith("invalid: tokens")
    assert out.loc[17, "ratio"] == pytest.approx(2.0, rel=0.08)
    # the smooth drift of k with size is not flagged
    clean = compute.check_sweep(
        _sweep(1), columns={"C": "flops", "N": "params", "D": "tokens"}, warn=False
    )
    assert not clean["flagged"].any()
    assert (clean["note"] == "").all()


def test_sweep_check_notes_a_sweep_wide_unit_error_and_groups() -> None:
    df = _sweep()
    df["flops"] /= 8.64e19
    df["sweep"] = np.repeat(["a", "b"], 15)
    df.loc[df.sweep == "b", "flops"] *= 8.64e19
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compute.check_sweep(
            df, columns={"C": "flops", "N": "params", "D": "tokens"}, by="sweep"
        )
    assert not out["flagged"].any()  # each sweep is consistent with itself
    assert out.loc[out.sweep == "a", "note"].str.contains("PF-days").all()
    assert (out.loc[out.sweep == "b", "note"] == "").all()
    assert any("PF-days" in str(w.message) for w in caught)


def test_sweep_check_refuses_what_it_cannot_judge() -> None:
    with pytest.raises(InvalidDataError, match="no column 'C'"):
        compute.check_sweep(pd.DataFrame({"N": [1.0], "D": [1.0]}))
    with pytest.raises(InvalidDataError, match="three valid runs"):
        compute.check_sweep(pd.DataFrame({"N": [1.0, 2.0], "D": [1.0, 1.0], "C": [6.0, 12.0]}))
    with pytest.raises(InvalidOptionError):
        compute.check_sweep(
            _sweep(), columns={"C": "flops", "N": "params", "D": "tokens"}, tolerance=-1
        )


def test_command_line(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import pathlib

    from powerfit.cli import main

    tmp = pathlib.Path(str(tmp_path))
    assert (
        main(
            [
                "compute",
                "flops",
                "--layers",
                "80",
                "--d-model",
                "8192",
                "--heads",
                "64",
                "--vocab",
                "32000",
                "--ctx",
                "2048",
                "--out",
                str(tmp / "f.csv"),
                "-q",
            ]
        )
        == 0
    )
    assert "factor 1.050" in capsys.readouterr().out
    assert pd.read_csv(tmp / "f.csv")["flops_per_token"].iloc[-1] == 405_893_283_840
    assert (
        main(
            [
                "compute",
                "convert",
                "--gpus",
                "1024",
                "--hours",
                "720",
                "--accelerator",
                "H100-SXM",
                "--mfu",
                "0.4",
                "--price",
                "2.5",
            ]
        )
        == 0
    )
    assert "7.373e+05 accelerator-hours" in capsys.readouterr().out
    assert (
        main(
            [
                "compute",
                "mfu",
                "--tokens-per-second",
                "238.3e3",
                "--flops-per-token",
                "3.2777e12",
                "--accelerators",
                "6144",
                "--accelerator",
                "TPU-v4",
            ]
        )
        == 0
    )
    assert "MFU 46.2" in capsys.readouterr().out
    df = _sweep()
    df.loc[4, "flops"] /= 3.0
    df.to_csv(tmp / "s.csv", index=False)
    assert (
        main(
            [
                "compute",
                "check",
                str(tmp / "s.csv"),
                "--columns",
                "C=flops",
                "N=params",
                "D=tokens",
                "--out",
                str(tmp / "c.csv"),
                "-q",
            ]
        )
        == 0
    )
    assert "1 flagged" in capsys.readouterr().out
    assert pd.read_csv(tmp / "c.csv")["flagged"].sum() == 1
    for bad in (
        ["compute"],
        ["compute", "convert", "--flops", "1e24", "--mfu", "2"],
        ["compute", "convert", "--money", "5", "--accelerator", "H100-SXM", "--mfu", "0.4"],
        [
            "compute",
            "mfu",
            "--tokens-per-second",
            "1",
            "--flops-per-token",
            "1",
            "--accelerator",
            "H900",
        ],
    ):
        assert main(bad) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("powerfit: error:"), err


def test_readme_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    from powerfit.cli import main
    from readme_blocks import command_lines, run_python

    ns = run_python("Compute you can trust")
    b = ns["b"]
    assert isinstance(b, pf.Budget)
    assert b.total_flops == pytest.approx(1024 * 720 * 989.4e12 * 0.4 * 3600)
    lines = command_lines("Compute you can trust", "powerfit compute")
    assert len(lines) == 4
    for argv in lines:
        assert main(argv) == 0, argv
    assert "MFU 46.2" in capsys.readouterr().out


def test_fit_results_take_a_budget_in_hardware() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    b = pf.Budget(gpus=1024, hours=720, accelerator="H100-SXM", mfu=0.4)
    flops = pf.compute.budget_flops(b)[0]
    by_budget = res.compute_optimal(b, warn=False)
    by_flops = res.compute_optimal([flops], warn=False)
    assert by_budget["N_opt"].iloc[0] == pytest.approx(by_flops["N_opt"].iloc[0], rel=1e-12)
    assert by_budget["C_accelerator_hours"].iloc[0] == pytest.approx(1024 * 720)
    sizing = res.inference_optimal(2.0, 1e13, budget=b)
    assert bool(sizing["fits_budget"]) == (sizing["total_flops"] <= flops)
    with pytest.raises(pf.InvalidOptionError, match="pass only budgets="):
        res.compute_optimal([1e21], budget=b)
