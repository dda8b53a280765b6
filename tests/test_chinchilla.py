"""Acceptance: the bundled Chinchilla sweep reproduces Epoch AI's Huber fit."""

import pytest

import powerfit as pf

# Epoch 2024's plain Huber grid fit on the 240 kept points (shared/data/chinchilla/README.md).
EPOCH = {"E": 1.8172, "A": 477.84, "B": 2143.86, "alpha": 0.3473, "beta": 0.3672}
# Best objective of the 4,500-start grid, published to six significant figures (1.01827e-3).
EPOCH_COST = 1.018275e-3


def test_dataset_is_bundled():
    df = pf.datasets.chinchilla()
    assert len(df) == 240
    assert len(pf.datasets.chinchilla(include_excluded=True)) == 245
    assert {"N", "D", "C", "loss"} <= set(df.columns)


@pytest.mark.parametrize("starts", ["auto", "grid"])
def test_reproduces_epoch(starts):
    res = pf.fit(
        pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", delta=1e-3, starts=starts
    )
    assert res.success, res.message
    assert res.cost < EPOCH_COST
    for name, want in EPOCH.items():
        assert res.params[name] == pytest.approx(want, rel=5e-3), name
    if starts == "grid":
        assert res.n_starts == 4500


def test_summary_reports_everything():
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    text = res.summary()
    for token in ["chinchilla", "huber_log", "alpha", "beta", "status", "cost", "sandwich"]:
        assert token in text
    assert res.covariance is not None and res.covariance.shape == (5, 5)
    assert res.aic is None  # not defined for a Huber loss
    l2 = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="l2")
    assert l2.aic is not None and l2.bic is not None and l2.bic > l2.aic
    assert l2.dof == 235


def test_predict_matches_law():
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    p = res.params
    N, D = 7e10, 1.4e12
    want = p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]
    assert res.predict(N=[N], D=[D])[0] == pytest.approx(want, rel=1e-13)
