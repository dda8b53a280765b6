"""Bootstrap: agreement with Epoch's published intervals, determinism, methods,
failed replicates, derived quantities and interrupts."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import powerfit as pf
from ctrl_c import assert_interrupted

# Epoch AI (Besiroglu et al. 2024), 4,000 case resamples of the 240-point sweep, Huber loss on
# log residuals with delta = 1e-3 (shared/data/chinchilla/README.md).
EPOCH_SE = {"E": 0.0257, "A": 124.52, "B": 1293.28, "alpha": 0.0154, "beta": 0.0206}
EPOCH_CI = {"E": (1.769, 1.871), "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


@pytest.fixture(scope="module")
def huber_fit() -> pf.FitResult:
    return pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", delta=1e-3)


@pytest.fixture(scope="module")
def huber_boot(huber_fit: pf.FitResult) -> pf.BootstrapResult:
    return huber_fit.bootstrap(n_boot=4000, resample="case", seed=0, progress=False)


def test_matches_epoch_standard_errors(huber_boot: pf.BootstrapResult) -> None:
    # Tolerance: both Epoch's and our SE are Monte-Carlo estimates from 4,000 replicates. For
    # a light-tailed quantity the relative sd of an SE estimate is ~1/sqrt(2B) = 1.1%, so two
    # independent runs differ by ~1.6% (sd); 8% is 5 sd. A and B are heavy-tailed (their
    # replicates are log-normal-like), which inflates that sd several-fold: 15%.
    assert huber_boot.n_failed <= 0.01 * huber_boot.n
    se = huber_boot.se
    for name, want in EPOCH_SE.items():
        tol = 0.15 if name in ("A", "B") else 0.08
        assert se[name] == pytest.approx(want, rel=tol), name


def test_matches_epoch_percentile_intervals(huber_boot: pf.BootstrapResult) -> None:
    # The Monte-Carlo sd of a 2.5% quantile from 4,000 draws is ~0.04 SE (sqrt(p(1-p)/B)/phi);
    # two runs differ by ~0.06 SE, so 0.3 SE is 5 sd (0.005 in alpha, 0.008 in E).
    ci = huber_boot.ci(level=0.95, interval="percentile").set_index("parameter")
    for name, (lo, hi) in EPOCH_CI.items():
        tol = 0.3 * EPOCH_SE[name]
        assert ci.loc[name, "lower"] == pytest.approx(lo, abs=tol), name
        assert ci.loc[name, "upper"] == pytest.approx(hi, abs=tol), name


def test_ci_frame_and_methods(huber_boot: pf.BootstrapResult) -> None:
    for method in ("percentile", "basic", "bca"):
        ci = huber_boot.ci(level=0.9, interval=method)
        assert list(ci.columns) == ["parameter", "estimate", "lower", "upper", "se"]
        assert (ci["lower"] < ci["upper"]).all(), method
        est = ci.set_index("parameter")["estimate"]
        assert est["alpha"] == pytest.approx(huber_boot.result.params["alpha"])
    wide = huber_boot.ci(level=0.99).set_index("parameter")
    narrow = huber_boot.ci(level=0.5).set_index("parameter")
    assert (wide["upper"] - wide["lower"] > narrow["upper"] - narrow["lower"]).all()
    with pytest.raises(pf.InvalidOptionError):
        huber_boot.ci(interval="studentized")
    with pytest.raises(pf.InvalidOptionError):
        huber_boot.ci(level=1.5)


def test_percentile_matches_numpy(huber_boot: pf.BootstrapResult) -> None:
    ci = huber_boot.ci(level=0.9).set_index("parameter")
    good = huber_boot.samples[huber_boot.success]
    for k, name in enumerate(huber_boot.param_names):
        lo, hi = np.quantile(good[:, k], [0.05, 0.95])
        assert ci.loc[name, "lower"] == pytest.approx(lo, rel=1e-12)
        assert ci.loc[name, "upper"] == pytest.approx(hi, rel=1e-12)
    basic = huber_boot.ci(level=0.9, interval="basic").set_index("parameter")
    est = huber_boot.result.params["beta"]
    assert basic.loc["beta", "lower"] == pytest.approx(2 * est - ci.loc["beta", "upper"])


def test_derived_quantities(huber_boot: pf.BootstrapResult) -> None:
    budgets = [1e21, 5.88e23]
    ci = huber_boot.ci(budgets=budgets, functions={"alpha_minus_beta": lambda m: m[:, 3] - m[:, 4]})
    ci = ci.set_index("parameter")
    p = huber_boot.result.params
    a = p["beta"] / (p["alpha"] + p["beta"])
    assert ci.loc["a", "estimate"] == pytest.approx(a, rel=1e-12)
    assert ci.loc["eta", "estimate"] == pytest.approx(
        p["alpha"] * p["beta"] / (p["alpha"] + p["beta"]), rel=1e-12
    )
    # Epoch: a = 0.513 +- 0.020; about 18 tokens per parameter at Chinchilla's budget
    assert ci.loc["a", "estimate"] == pytest.approx(0.513, abs=0.005)
    assert ci.loc["a", "se"] == pytest.approx(0.020, rel=0.2)
    ratio = ci.loc["D_opt/N_opt(C=5.880e23)"]
    assert 14 < ratio["estimate"] < 22
    assert ratio["lower"] < ratio["estimate"] < ratio["upper"]
    good = huber_boot.samples[huber_boot.success]
    want = np.std(good[:, 3] - good[:, 4], ddof=1)
    assert ci.loc["alpha_minus_beta", "se"] == pytest.approx(want, rel=1e-12)
    with pytest.raises(pf.InvalidOptionError):
        pf.fit(pf.datasets.chinchilla(), law="power", x="N").bootstrap(n_boot=10).ci(budgets=[1e21])


def test_summary(huber_boot: pf.BootstrapResult) -> None:
    text = huber_boot.summary()
    assert "4000 replicates" in text and "alpha" in text and "failed" in text


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


SCRIPT = textwrap.dedent(
    """
    import hashlib, sys, numpy as np, powerfit as pf
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss=sys.argv[1])
    b = res.bootstrap(n_boot=300, resample=sys.argv[2], seed=7, cluster="N" if sys.argv[2] == "cluster" else None,
                      progress=False)
    print(hashlib.sha256(np.ascontiguousarray(b.samples).tobytes()).hexdigest())
    """
)


@pytest.mark.parametrize(
    ("loss", "method"), [("huber_log", "case"), ("l2", "residual"), ("l2", "cluster")]
)
def test_bit_identical_across_thread_counts(loss: str, method: str) -> None:
    digests = []
    for threads in ("1", "2", "2"):
        env = dict(os.environ, RAYON_NUM_THREADS=threads)
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, loss, method],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1] == digests[2]


@given(seed=st.integers(0, 2**32), n=st.integers(5, 40))
def test_same_seed_same_result(seed: int, n: int) -> None:
    res = _l2_fit()
    a = res.bootstrap(n_boot=n, seed=seed, progress=False)
    b = res.bootstrap(n_boot=n, seed=seed, progress=False)
    c = res.bootstrap(n_boot=n, seed=seed + 1, progress=False)
    assert _sha(a.samples) == _sha(b.samples)
    assert _sha(a.samples) != _sha(c.samples)
    # replicate i does not depend on how many replicates follow it
    longer = res.bootstrap(n_boot=n + 5, seed=seed, progress=False)
    np.testing.assert_array_equal(longer.samples[:n], a.samples)


_L2 = {}


def _l2_fit() -> pf.FitResult:
    if "fit" not in _L2:
        _L2["fit"] = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="l2")
    return _L2["fit"]


def test_methods_give_plausible_spread() -> None:
    res = _l2_fit()
    se_asym = res.stderr
    for method, kw in [
        ("case", {}),
        ("residual", {}),
        ("parametric", {}),
        ("cluster", {"cluster": "N"}),
    ]:
        b = res.bootstrap(n_boot=400, resample=method, seed=1, progress=False, **kw)
        assert b.n_failed == 0, method
        se = b.se
        # the residual and parametric schemes assume the fitted model, so their SEs should be
        # close to the asymptotic ones; case and cluster resampling also see that the l2 law
        # is misspecified on this sweep and give wider spreads (as Epoch found)
        if method in ("residual", "parametric"):
            assert se["beta"] == pytest.approx(se_asym["beta"], rel=0.3), method
        else:
            assert se["beta"] > se_asym["beta"], method
    with pytest.raises(pf.InvalidOptionError):
        res.bootstrap(n_boot=10, resample="cluster")
    with pytest.raises(pf.InvalidOptionError):
        res.bootstrap(n_boot=10, resample="wild")
    with pytest.raises(pf.InvalidOptionError):
        res.bootstrap(n_boot=0)


def test_cluster_labels_array() -> None:
    res = _l2_fit()
    labels = np.arange(240) % 12
    b = res.bootstrap(n_boot=50, resample="cluster", cluster=labels, seed=3, progress=False)
    assert b.samples.shape == (50, 5)
    with pytest.raises(pf.InvalidOptionError):
        res.bootstrap(n_boot=5, resample="cluster", cluster=labels[:10])


def test_failed_replicates_are_counted_and_excluded() -> None:
    df = pf.datasets.chinchilla()
    full = _l2_fit()
    # from the optimum, 5 iterations let most but not all replicates converge
    res = pf.fit(df, law="chinchilla", loss="l2", p0=list(full.values), starts="given", max_iter=5)
    with pytest.warns(pf.PowerfitWarning, match="did not converge"):
        b = res.bootstrap(n_boot=200, seed=0, progress=False)
    assert 0 < b.n_failed < b.n
    assert set(b.status[~b.success]) == {"max_iterations"}
    ci = b.ci(level=0.9).set_index("parameter")
    good = b.samples[b.success]
    lo = np.quantile(good[:, 4], 0.05)
    assert ci.loc["beta", "lower"] == pytest.approx(lo, rel=1e-12)
    assert "failed (excluded): " + str(b.n_failed) in b.summary()


def test_module_level_bootstrap_fits_first() -> None:
    b = pf.bootstrap(
        pf.datasets.chinchilla(), law="chinchilla", loss="l2", n_boot=20, seed=0, progress=False
    )
    assert isinstance(b, pf.BootstrapResult)
    assert b.result.law == "chinchilla"


def test_progress_callback_runs() -> None:
    pytest.importorskip("tqdm")
    res = _l2_fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = res.bootstrap(n_boot=2000, seed=0, progress=True)
    assert b.n == 2000


def test_ctrl_c_stops_a_bootstrap() -> None:
    assert_interrupted(
        'res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")',
        "res.bootstrap(n_boot=5_000_000, seed=0, progress=False)",
    )
