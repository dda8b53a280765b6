"""Learning-rate schedules as a column, and the law that carries them: values at known points,
bad input named, and a curve whose tail drops with the decay forecast from its early part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit.errors import InvalidDataError, InvalidOptionError


def test_cosine_linear_and_wsd_at_known_points() -> None:
    t = np.array([0.0, 5.0, 10.0, 55.0, 100.0])
    np.testing.assert_allclose(
        pf.schedules.cosine(t, 100, warmup=10, final=0.1), [0.0, 0.5, 1.0, 0.55, 0.1]
    )
    np.testing.assert_allclose(
        pf.schedules.linear(t, 100, warmup=10, final=0.0), [0.0, 0.5, 1.0, 0.5, 0.0]
    )
    np.testing.assert_allclose(
        pf.schedules.wsd(t, 100, warmup=10, decay=0.2, final=0.0), [0.0, 0.5, 1.0, 1.0, 0.0]
    )
    np.testing.assert_allclose(pf.schedules.wsd([90.0], 100, decay=0.2), [0.5])
    np.testing.assert_allclose(pf.schedules.cosine([0.0, 50.0], 100), [1.0, 0.55])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: pf.schedules.cosine([1.0], 0), InvalidOptionError, "total"),
        (lambda: pf.schedules.cosine([1.0], 10, warmup=10), InvalidOptionError, "warmup"),
        (lambda: pf.schedules.cosine([1.0], 10, final=2), InvalidOptionError, "final"),
        (lambda: pf.schedules.cosine([1.0, 11.0], 10), InvalidDataError, "row 1"),
        (lambda: pf.schedules.linear([np.nan], 10), InvalidDataError, "row 0"),
        (lambda: pf.schedules.cosine(["a"], 10), pf.PowerfitError, "t"),
        (lambda: pf.schedules.wsd([1.0], 10, warmup=5, decay=0.9), InvalidOptionError, "decay"),
        (lambda: pf.schedules.cosine([1.0], "10"), InvalidOptionError, "total"),
        (lambda: pf.schedules.schedule_law("D", "D"), InvalidOptionError, "different"),
        (lambda: pf.schedules.schedule_law("D x"), InvalidOptionError, "identifier"),
    ],
)
def test_bad_input_names_the_problem(call: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def curve() -> pd.DataFrame:
    """A run under a cosine schedule: loss = 2 + 40 D^-0.3 + 0.25 lr, D up to 1e9 tokens."""
    d = np.linspace(2e7, 1e9, 80)
    lr = pf.schedules.cosine(d, 1e9, warmup=1e7, final=0.1)
    return pd.DataFrame({"D": d, "lr": lr, "loss": 2.0 + 40.0 * d**-0.3 + 0.25 * lr})


def test_the_schedule_law_recovers_its_parameters() -> None:
    df = curve()
    law = pf.schedules.schedule_law("D")
    assert law.params == ("L_inf", "A", "alpha", "F")
    base = pf.fit(df, law="power", x="D", loss="log", warn=False)
    res = pf.fit(df, law=law, p0={**base.params, "F": 0.0}, loss="log", warn=False)
    assert res.success
    truth = {"L_inf": 2.0, "A": 40.0, "alpha": 0.3, "F": 0.25}
    for k, v in truth.items():
        assert res.params[k] == pytest.approx(v, rel=1e-6)


def test_the_early_part_forecasts_the_decayed_tail() -> None:
    df = curve()
    early, tail = df[df["D"] <= 2.5e8], df[df["D"] > 2.5e8]
    base = pf.fit(early, law="power", x="D", loss="log", warn=False)
    res = pf.fit(
        early,
        law=pf.schedules.schedule_law("D"),
        p0={**base.params, "F": 0.0},
        loss="log",
        warn=False,
    )
    obs = tail["loss"].to_numpy()
    with_lr = res.predict(D=tail["D"].to_numpy(), lr=tail["lr"].to_numpy(), warn=False)
    without = base.predict(x=tail["D"].to_numpy(), warn=False)
    np.testing.assert_allclose(with_lr, obs, rtol=1e-6)
    # a law of tokens alone misses the drop the decay brings
    assert np.max(np.abs(without / obs - 1)) > 0.01
