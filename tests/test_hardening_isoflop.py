"""An IsoFLOP or envelope estimate outside its own bootstrap interval is never shown silently:
a PowerfitWarning and the summary name the budgets that drive it and what to try instead.

Reproducer: Porian et al.'s owt2 / base / short warm-up / chinchilla decay configuration, where
resampling the runs within each budget drops the smallest budgets' optima in about 40% of the
replicates and biases a downwards (a = 0.5648, percentile interval (0.5319, 0.5635)).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import powerfit as pf

COLUMNS = {"C": "flops", "N": "n", "D": "t"}
CONFIG = ["source_file", "dataset", "hparams", "warmup", "decay", "param_count", "val"]


@pytest.fixture(scope="module")
def owt2_chinchilla() -> pd.DataFrame:
    d = pf.datasets.porian2024()
    sel = (d.dataset == "owt2") & (d.hparams == "base") & (d.warmup == "short")
    return d[sel & (d.decay == "chinchilla")]


def test_an_estimate_outside_its_interval_is_warned_naming_the_budgets(
    owt2_chinchilla: pd.DataFrame,
) -> None:
    with pytest.warns(pf.PowerfitWarning, match="outside its own 95% interval") as rec:
        res = pf.isoflop(owt2_chinchilla, columns=COLUMNS, progress=False)
    t = res.table.iloc[0]
    assert not t["a_lower"] <= t["a"] <= t["a_upper"]  # the reproducer still reproduces
    text = str(rec[0].message)
    assert "C = 1.25e+16" in text and "resample='budgets'" in text, text
    assert "outside its own 95% interval" in res.summary()
    assert res.outside_notes() and "C = 1.25e+16" in res.outside_notes()[0]


def test_resampling_whole_budgets_gives_an_interval_around_the_estimate(
    owt2_chinchilla: pd.DataFrame,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", pf.PowerfitWarning)
        res = pf.isoflop(owt2_chinchilla, columns=COLUMNS, resample="budgets", progress=False)
    t = res.table.iloc[0]
    assert t["a_lower"] <= t["a"] <= t["a_upper"]
    assert res.outside_notes() == [] and "!" not in res.summary()


def test_no_row_outside_its_interval_is_silent(porian_points: pd.DataFrame) -> None:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = pf.isoflop(porian_points, columns=COLUMNS, by=CONFIG, n_boot=300, progress=False)
    table = res.table
    outside = ~(
        table["a"].between(table["a_lower"], table["a_upper"])
        & table["b"].between(table["b_lower"], table["b_upper"])
    )
    warned = [str(w.message) for w in rec if issubclass(w.category, pf.PowerfitWarning)]
    notes = res.outside_notes()
    assert len(notes) == int(outside.sum()) >= 1
    assert all(any(n in w for w in warned) for n in notes)
