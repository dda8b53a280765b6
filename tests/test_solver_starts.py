"""What the solver reports about its starts and runaway parameters, through the public API:
how many local solves ran and how many reached the best cost, the evaluations the whole fit
spent, the parameters that ran off to the edge of the representable range, and the status
names, all from the core."""

from __future__ import annotations

import numpy as np
import pytest

import powerfit as pf
from powerfit import _core


def _chinchilla(n: int = 80, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(7, 10, n)
    D = 10 ** rng.uniform(9, 12, n)
    y = 1.69 + 406.4 * N**-0.34 + 410.7 * D**-0.28
    return {"N": N, "D": D, "loss": y * np.exp(0.01 * rng.standard_normal(n))}


def _two_basins() -> dict[str, np.ndarray]:
    """A sine whose frequency has many local optima: starts spread around p0 disagree."""
    x = np.linspace(0.0, 10.0, 200)
    return {"x": x, "y": 2.0 * np.sin(3.0 * x) + 0.5}


SINE = pf.Law("a*sin(b*x) + c", variables=["x"], params=["a", "b", "c"], name="sine")


def test_counts_are_consistent_for_the_default_start() -> None:
    res = pf.fit(_chinchilla(), law="chinchilla", warn=False)
    assert res.success
    assert res.n_starts >= 1
    assert 1 <= res.n_best <= res.n_starts
    assert res.starts_agree == (res.n_best == res.n_starts)
    # the whole fit costs at least the solve that gave the estimate
    assert res.nfev_total >= res.nfev >= 1
    assert res.at_limit == ()


def test_a_given_start_is_one_solve_that_agrees_with_itself() -> None:
    res = pf.fit(
        _chinchilla(),
        law="chinchilla",
        p0=[2.0, 300.0, 300.0, 0.3, 0.3],
        starts="given",
        warn=False,
    )
    assert (res.n_starts, res.n_best) == (1, 1)
    assert res.starts_agree
    # re-solving the power sum's constant and amplitudes at the start's exponents is counted
    assert res.nfev_total > res.nfev
    # a law without that structure spends its evaluations on the one solve alone
    sine = pf.fit(_two_basins(), law=SINE, p0=[2.0, 3.0, 0.5], starts="given", warn=False)
    assert (sine.n_starts, sine.n_best) == (1, 1) and sine.nfev_total == sine.nfev


def test_a_given_start_of_a_power_sum_has_its_linear_parameters_resolved() -> None:
    # exponents near the optimum but the constant and amplitudes far off: once those are
    # solved at the given exponents, LM has only the exponents left to find, and it reaches
    # the optimum of the global start in a few iterations
    data = _chinchilla()
    auto = pf.fit(data, law="chinchilla", warn=False)
    p0 = [0.5, 50.0, 5000.0, 0.3, 0.3]
    given = pf.fit(data, law="chinchilla", p0=p0, starts="given", warn=False)
    assert given.success and given.cost == pytest.approx(auto.cost, rel=1e-10)
    assert given.n_iter <= 6
    # a fixed constant stays at its given value
    fixed = pf.fit(data, law="chinchilla", p0=p0, starts="given", fixed={"E": 0.5}, warn=False)
    assert fixed.params["E"] == 0.5 and fixed.success
    # a fixed exponent is projected at its fixed value, whatever the start says of it
    beta = auto.params["beta"]
    for start_beta in (0.3, float("nan")):
        held = pf.fit(data, law="chinchilla", p0=[*p0[:4], start_beta], starts="given",
                      fixed={"beta": beta}, warn=False)  # fmt: skip
        assert held.params["beta"] == beta and held.success and held.n_iter <= 6
    # a start already at the optimum is kept
    best = list(auto.params.values())
    again = pf.fit(data, law="chinchilla", p0=best, starts="given", warn=False)
    assert again.n_iter <= 2 and again.cost == pytest.approx(auto.cost, rel=1e-12)


def test_disagreeing_starts_are_counted_and_shown() -> None:
    res = pf.fit(_two_basins(), law=SINE, p0=[1.0, 1.0, 0.0], warn=False)
    assert res.success
    # the multistart for a law without structure finds the global optimum (b = 3) ...
    assert res.params["b"] == pytest.approx(3.0, rel=1e-6)
    # ... and not every start got there
    assert res.n_starts > 1
    assert res.n_best < res.n_starts
    assert not res.starts_agree
    words = f"{res.n_best} of {res.n_starts} reached the best cost"
    assert words in res.summary()
    assert f"{res.n_best} of {res.n_starts} starts reached the best cost" in repr(res)
    assert f"{res.n_best} of {res.n_starts} starts reached the best cost" in res._repr_html_()


def test_the_multistart_reports_its_cost() -> None:
    """A law without structure searches before it solves: the search is counted."""
    res = pf.fit(_two_basins(), law=SINE, p0=[1.0, 1.0, 0.0], warn=False)
    given = pf.fit(_two_basins(), law=SINE, p0=[1.0, 1.0, 0.0], starts="given", warn=False)
    assert res.nfev_total > res.nfev
    assert res.nfev_total > given.nfev_total
    assert f"({res.nfev_total} in all)" in res.summary()


def test_counts_survive_save_and_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = pf.fit(_two_basins(), law=SINE, p0=[1.0, 1.0, 0.0], warn=False)
    path = tmp_path / "fit.json"
    res.save(path)
    back = pf.load(path)
    assert (back.n_starts, back.n_best, back.nfev_total) == (
        res.n_starts,
        res.n_best,
        res.nfev_total,
    )
    assert back.at_limit == res.at_limit


def test_the_diverged_status_comes_from_the_core() -> None:
    names = {name for _, name, _ in _core.STATUS}
    assert "diverged" in names
    message = {name: msg for _, name, msg in _core.STATUS}["diverged"]
    assert "representable range" in message


def test_a_runaway_parameter_is_not_a_converged_fit() -> None:
    """Losses that do not fall with N or D: the Kaplan law can only fit them by sending its
    scales off towards the edge of the representable range. That is no optimum, and a scale
    left at the edge is named."""
    rng = np.random.default_rng(5)
    n = 60
    data = {
        "N": 10 ** rng.uniform(7, 10, n),
        "D": 10 ** rng.uniform(9, 12, n),
        "loss": 3.0 + 1e-12 * np.arange(n),
    }
    for loss in ("l2", "log"):
        res = pf.fit(data, law="kaplan", loss=loss, warn=False)
        assert not res.success, (res.status, res.params)
        edge = pf.fit(
            data,
            law="kaplan",
            loss=loss,
            p0=[1e300, 0.08, 5e13, 0.1],
            starts="given",
            warn=False,
        )
        assert not edge.success, (edge.status, edge.params)
        assert edge.at_limit == ("N_c",)
        assert "at limit:    N_c" in edge.summary()
        assert "at limit: N_c" in edge._repr_html_()
