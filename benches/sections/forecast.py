"""Forecast benchmarks, used by bench.py's section ``forecast``: held-out error of every law and
of the law chosen by rollout validation on the real curves the project ships, coverage of the
95% forecast intervals on held-out runs, and the time of M4 fits and predictions against a
Python loop of scipy fits with a scipy root finder. Every number comes from the run."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.optimize as so

import powerfit as pf
from harness import HERE
from powerfit.forecast.compare import TIE_Z

ONE_VAR_LAWS = pf.forecast.SINGLE_VARIABLE_CANDIDATES
ND_LAWS = pf.forecast.ND_CANDIDATES


class Curve:
    """One forecasting task: a training table, a held-out table, the law family's arguments."""

    def __init__(self, name: str, train: pd.DataFrame, test: pd.DataFrame, kw: dict[str, Any]):
        self.name, self.train, self.test, self.kw = name, train, test, kw


def olmo_curves() -> list[Curve]:
    """OLMo ladder training curves (C4 loss against tokens), 20 runs: the first 5% of tokens
    dropped (warm-up), fitted up to 25% of the run's tokens, the rest held out (0.6 decades);
    column ``lr``: the learning-rate multiplier of the run's schedule."""
    df = pf.datasets.olmo_ladder()
    out = []
    for (size, mult), run in df.groupby(["size", "chinchilla_multiplier"], sort=True):
        whole = pd.DataFrame(
            {"D": run["tokens"].to_numpy(float), "loss": run["loss_c4"].to_numpy(float)}
        )
        top = whole["D"].max()
        # the run's schedule (the ladder's config: cosine to 10% of the peak after a warm-up
        # of N tokens, rounded to whole steps), for the law that carries it
        per_step = float((run["tokens"] / run["step"]).iloc[-1])
        warm = round(float(run["N"].iloc[0]) / per_step) * per_step
        whole["lr"] = pf.schedules.cosine(whole["D"], top, warmup=warm, final=0.1)
        g = whole[whole["D"] >= 0.05 * top]
        cut = 0.25 * top
        out.append(Curve(f"{size} x{mult:g}", g[g["D"] <= cut], g[g["D"] > cut], {"x": "D"}))
    return out


def gadre_groups() -> list[Curve]:
    """Gadre et al. 2024: per (dataset, eval_set), runs with N < 1e9 fitted, N >= 1e9 held out."""
    path = os.path.join(HERE, "..", "tests", "data", "gadre2024", "gadre2024_losses_long.csv")
    table = pd.read_csv(path)
    out = []
    for (ds, ev), grp in table.groupby(["dataset", "eval_set"], sort=True):
        g = pd.DataFrame(
            {
                "N": grp["params"].to_numpy(float),
                "D": grp["train_tokens"].to_numpy(float),
                "loss": grp["loss"].to_numpy(float),
            }
        )
        out.append(Curve(f"{ds}/{ev}", g[g["N"] < 1e9], g[g["N"] >= 1e9], {}))
    return out


def chinchilla_sweep() -> list[Curve]:
    """The Chinchilla sweep (240 runs): N <= 2e9 fitted, the larger models held out."""
    df = pf.datasets.chinchilla()[["N", "D", "loss"]]
    return [Curve("chinchilla", df[df["N"] <= 2e9], df[df["N"] > 2e9], {})]


def _heldout_rmse(fitted: pf.FitResult, test: pd.DataFrame) -> float:
    pred = fitted.predict(warn=False, **{v: test[v].to_numpy(float) for v in fitted.variables})
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.log(pred) - np.log(test["loss"].to_numpy(float))
    return float(np.sqrt(np.mean(e**2))) if np.isfinite(e).all() else float("inf")


def _fit(curve: Curve, law: Any, **kw: Any) -> pf.FitResult | None:
    try:
        return pf.fit(curve.train, law=law, warn=False, **curve.kw, **kw)
    except pf.PowerfitError:
        return None


class Coverage(NamedTuple):
    """One curve's 95% forecast intervals on its held-out runs."""

    inside: int  # held-out runs inside their interval
    scored: int  # held-out runs scored
    widths: list[float]  # the intervals' log half-widths (upper side)
    method: str  # the rollout's error model
    past_inside: int  # of the runs past the rollout's farthest forecast: inside
    past: int  # and scored


def _covered(fitted: pf.FitResult, curve: Curve, by: str) -> Coverage:
    """The 95% forecast intervals of the fit at the curve's held-out runs, scored."""
    roll = pf.rollout(curve.train, law=fitted.law, by=by, **curve.kw)
    boot = fitted.bootstrap(n_boot=200, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pf.PowerfitWarning)
        band = pf.forecast_interval(
            fitted,
            roll,
            boot,
            **{v: curve.test[v].to_numpy(float) for v in fitted.variables},
        )
    obs = curve.test["loss"].to_numpy(float)
    inside = (band["lower"].to_numpy() <= obs) & (obs <= band["upper"].to_numpy())
    width = np.log(band["upper"] / band["prediction"]).tolist()
    past = ~band["within_rollout"].to_numpy()
    return Coverage(
        int(inside.sum()),
        int(obs.size),
        width,
        roll.error_scale_method(0.95),
        int(inside[past].sum()),
        int(past.sum()),
    )


def _dataset(
    name: str,
    curves: list[Curve],
    laws: tuple[str, ...],
    by: str,
    default: str,
    splits: int | None,
) -> tuple[list[str], dict[str, float]]:
    """Held-out log RMSE per law, of the selected law and of the default fit; coverage. Returns
    the report's lines and the median held-out log RMSE of every row."""
    errs: dict[str, list[float]] = {law: [] for law in (*laws, "auto", f"{default} (defaults)")}
    chosen: list[str] = []
    ties: list[bool] = []
    repeats: list[str] = []  # "law = the higher-ranked law whose forecasts it repeated"
    cov_in = cov_n = past_in = past_n = 0
    widths: list[float] = []
    methods: list[str] = []
    for c in curves:
        for law in laws:
            f = _fit(c, law, loss="log")
            errs[law].append(_heldout_rmse(f, c.test) if f is not None else float("inf"))
        d = _fit(c, default)
        errs[f"{default} (defaults)"].append(_heldout_rmse(d, c.test) if d else float("inf"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pf.PowerfitWarning)
            sel = pf.select_law(c.train, laws=list(laws), by=by, splits=splits, **c.kw)
        law, ev = sel
        chosen.append(str(law))
        same = ev[ev["same_as"].notna()]
        repeats += [f"{r.law} = {r.same_as}" for r in same.itertuples()]
        # the runner-up (the best other law with forecasts of its own) within one standard
        # error of the winner: the data could not choose
        runner_up = sel.comparison.runner_up
        ties.append(runner_up is not None and not float(runner_up["z_vs_best"]) >= TIE_Z)
        f = _fit(c, law, loss="log")
        errs["auto"].append(_heldout_rmse(f, c.test) if f is not None else float("inf"))
        if f is not None:  # an unconverged fit still forecasts (its `success` is reported)
            cv = _covered(f, c, by)
            cov_in, cov_n = cov_in + cv.inside, cov_n + cv.scored
            past_in, past_n = past_in + cv.past_inside, past_n + cv.past
            widths += cv.widths
            methods.append(cv.method)
    med = {k: float(np.median(v)) for k, v in errs.items()}
    best_single = min(med[law] for law in laws)
    family = _family_law(curves, laws, by, splits)
    lines = [
        (
            f"- **{name}**: {len(curves)} curves/groups, fitted with loss='log' (the defaults row: "
            f"law '{default}' with pf.fit's defaults, l2 loss); held-out RMSE of log-loss, median "
            f"over the curves. `auto` = the law pf.select_law picked by rollout validation on the "
            f"training part only ({'every split' if splits is None else f'last {splits} splits'}), "
            "refitted on it."
        ),
        "",
        "| law | median held-out log RMSE | mean | worst |",
        "|---|---|---|---|",
    ]
    for k, v in errs.items():
        a = np.asarray(v)
        fin = a[np.isfinite(a)]
        worst = f"{fin.max():.4f}" if fin.size else "-"
        nonfin = f" ({(~np.isfinite(a)).sum()} failed)" if (~np.isfinite(a)).any() else ""
        lines.append(
            f"| {k} | {med[k]:.4f} | {fin.mean() if fin.size else float('nan'):.4f}{nonfin} | "
            f"{worst} |"
        )
    picks = pd.Series(chosen).value_counts()
    lines += [
        "",
        (
            f"- chosen: {', '.join(f'{k} {v}' for k, v in picks.items())}. auto / best single law "
            f"(medians): {med['auto'] / best_single:.3f}; auto / defaults: "
            f"{med['auto'] / med[f'{default} (defaults)']:.3f}. The runner-up (the best law "
            f"whose forecasts differ from the pick's) was within one paired standard error of it "
            f"(`z_vs_best` < 1, a warning) on {sum(ties)} of "
            f"{len(ties)}; auto / best single law (medians) on those: "
            f"{_ratio_on(errs, ties, laws)}, on the others: "
            f"{_ratio_on(errs, [not t for t in ties], laws)}. Laws whose held-out forecasts "
            f"repeated a higher-ranked law's (`same_as`; they reduce to it on those data): "
            f"{_counts(repeats)}."
        ),
        (
            f"- One law for the family (pf.select_laws over all {len(curves)} training parts, "
            f"the law with the smallest median held-out error): {family}; its median held-out "
            f"log RMSE / the best single law's: {med[family] / best_single:.3f}."
        ),
        (
            f"- 95% forecast intervals (pf.forecast_interval: 200-replicate case bootstrap + the "
            f"errors of a rollout over every split of the training part) of the chosen law: "
            f"{cov_in} of {cov_n} held-out runs inside ({cov_in / max(cov_n, 1):.1%}); of them, "
            f"{past_n} lie past the rollout's farthest forecast (`within_rollout` False), "
            f"{past_in} of those inside; "
            f"median log half-width {np.median(widths) if widths else float('nan'):.4f}; "
            f"error model per curve: "
            f"{', '.join(f'{k} {v}' for k, v in pd.Series(methods).value_counts().items())}."
        ),
        "",
    ]
    return lines, med


def schedule_lines(curves: list[Curve], laws: tuple[str, ...], med: dict[str, float]) -> list[str]:
    """Held-out error of pf.schedules.schedule_law (a power law plus a term in the learning-rate
    multiplier) on the curves, against the medians ``med`` of the single-variable laws fitted
    the same way (by :func:`_dataset`)."""
    law = pf.schedules.schedule_law("D")
    errs: dict[str, list[float]] = {"schedule_power": []}
    for c in curves:
        base = _fit(c, "power", loss="log")
        start = {**base.params, "F": 0.0} if base is not None else None
        f = pf.fit(c.train, law=law, p0=start, loss="log", warn=False) if start else None
        errs["schedule_power"].append(_heldout_rmse(f, c.test) if f is not None else float("inf"))
    med = {**med, "schedule_power": float(np.median(errs["schedule_power"]))}
    best = min(laws, key=lambda k: med[k])
    return [
        (
            f"- With the learning-rate schedule (column `lr` from each run's config: cosine to 10% "
            f"of the peak after a warm-up of N tokens): pf.schedules.schedule_law, "
            f"`L_inf + A*D^-alpha + F*lr` started from the power fit with F = 0, median held-out "
            f"log RMSE {med['schedule_power']:.4f} (mean {np.mean(errs['schedule_power']):.4f}, "
            f"worst {np.max(errs['schedule_power']):.4f}); / the best single law of tokens alone "
            f"({best}, {med[best]:.4f}): {med['schedule_power'] / med[best]:.3f}; / power: "
            f"{med['schedule_power'] / med['power']:.3f}. It needs the schedule, so it is not "
            f"among select_law's candidates above."
        ),
        "",
    ]


def _stacked(curves: list[Curve]) -> pd.DataFrame:
    """The curves' training parts in one table, keyed by ``curve``."""
    return pd.concat([c.train.assign(curve=c.name) for c in curves], ignore_index=True)


def _family_law(curves: list[Curve], laws: tuple[str, ...], by: str, splits: int | None) -> str:
    """The law pf.select_laws ranks first over all the curves' training parts."""
    sel = pf.select_laws(
        _stacked(curves), "curve", laws=list(laws), by=by, splits=splits, fit=False, **curves[0].kw
    )
    return str(sel.best)


def bulk_timing(
    sets: list[tuple[str, list[Curve], tuple[str, ...], str]], repeats: int, loop_max: int = 200
) -> tuple[list[dict[str, Any]], list[str]]:
    """pf.select_laws on every curve of a dataset in one call, against a Python loop of
    pf.compare_laws per curve (over the first ``loop_max`` curves, its time scaled to all):
    time, and how many choices and scores agree."""
    rows, lines = [], []
    for name, curves, laws, by in sets:
        sub = curves[:loop_max]
        scale = len(curves) / len(sub)
        table = _stacked(curves)
        kw = curves[0].kw

        def bulk() -> pf.GroupSelection:
            return pf.select_laws(table, "curve", laws=list(laws), by=by, fit=False, **kw)

        def loop() -> dict[str, Any]:
            return {
                c.name: pf.compare_laws(c.train, laws=list(laws), by=by, warn=False, **kw)
                for c in sub
            }

        t_bulk = t_loop = float("inf")
        for _ in range(repeats):  # alternating, best of each
            t_bulk = min(t_bulk, _timed(bulk, 1))
            t_loop = min(t_loop, _timed(loop, 1))
        sel, ref = bulk(), loop()
        same = worst = 0.0
        for row in sel.table.itertuples(index=False):
            if row.curve not in ref:
                continue
            cmp = ref[row.curve]
            same += row.law == cmp.best
            tab = cmp.table.set_index("law")["heldout_log_rmse"]
            for law in laws:
                a, b = getattr(row, f"{law}_log_rmse"), tab[law]
                if np.isfinite(a) or np.isfinite(b):
                    worst = max(worst, abs(a - b) / abs(b))
        rows.append(
            {
                "benchmark": f"law selection by rollout, {name}: {len(curves)} curves x "
                f"{len(laws)} laws, one call",
                "powerfit": t_bulk,
                "peer": "Python loop of pf.compare_laws per curve"
                + (f" (SCALED from {len(sub)} curves)" if scale > 1 else ""),
                "peer_time": t_loop * scale,
                "target": "-",
                "notes": f"same choice on {int(same)} of {len(sub)} curves compared; largest "
                f"relative difference of a held-out score {worst:.1e}",
            }
        )
    lines.append(
        f"- Bulk selection: pf.select_laws (one bulk fit and one native forecast call per law "
        f"for all curves and splits; fit=False) against a loop of pf.compare_laws (one rollout "
        f"per curve and law, splits fitted one by one); best of {repeats} alternating runs."
    )
    return rows, lines


def _counts(items: list[str]) -> str:
    """'a 3, b 1' for the items' counts; 'none' when there are none."""
    if not items:
        return "none"
    return ", ".join(f"{k} on {v}" for k, v in pd.Series(items).value_counts().items())


def _ratio_on(errs: dict[str, list[float]], mask: list[bool], laws: tuple[str, ...]) -> str:
    """auto / the best single law, medians over the curves of the mask."""
    if not any(mask):
        return "-"
    sel = np.asarray(mask)
    auto = float(np.median(np.asarray(errs["auto"])[sel]))
    best = min(float(np.median(np.asarray(errs[law])[sel])) for law in laws)
    return f"{auto / best:.3f}"


# --- M4 timing against scipy -----------------------------------------------------------------
def _m4_scipy(x: np.ndarray, y: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, float]:
    """M4 by scipy: least_squares on the log equation (analytic Jacobian, the authors' style
    start), predictions by brentq per point. Returns predictions and the cost reached."""
    lx = np.log(x)

    def resid(p: np.ndarray) -> np.ndarray:
        e, lb, c, a, e0 = p
        return np.log(y - e) - a * np.log(e0 - y) - lb + c * lx

    def jac(p: np.ndarray) -> np.ndarray:
        e, _lb, _c, a, e0 = p
        return np.column_stack([-1 / (y - e), -np.ones_like(y), lx, -np.log(e0 - y), -a / (e0 - y)])

    p0 = np.array([0.5 * y.min(), np.log(y.max()), 0.3, 0.5, 1.5 * y.max()])
    lo = [0.0, -np.inf, 0.0, 0.0, y.max() * (1 + 1e-9)]
    hi = [y.min() * (1 - 1e-9), np.inf, np.inf, np.inf, np.inf]
    r = so.least_squares(
        resid,
        p0,
        jac=jac,
        bounds=(lo, hi),
        method="trf",
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
    )
    e, lb, c, a, e0 = r.x
    out = np.empty(xs.size)
    for i, xi in enumerate(xs):
        ln_f = lb - c * np.log(xi)
        out[i] = so.brentq(
            lambda L, ln_f=ln_f: np.log(L - e) - a * np.log(e0 - L) - ln_f,
            e + 1e-12 * (e0 - e),
            e0 - 1e-12 * (e0 - e),
            xtol=1e-14,
        )
    return out, float(r.cost)


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def m4_timing(curves: list[Curve], repeats: int) -> tuple[dict[str, Any], list[str]]:
    """pf.fit(law='m4', loss='log') + predict at the held-out points for every OLMo curve,
    against the scipy loop; costs compared on the same objective (half the sum of squared log
    residuals of the equation)."""
    data = [
        (
            c.train["D"].to_numpy(float),
            c.train["loss"].to_numpy(float),
            c.test["D"].to_numpy(float),
        )
        for c in curves
    ]

    def ours() -> list[float]:
        costs = []
        for x, y, xs in data:
            f = pf.fit(law="m4", x=x, y=y, loss="log", warn=False)
            f.predict(x=xs)
            costs.append(f.cost)
        return costs

    def peer() -> list[float]:
        return [_m4_scipy(x, y, xs)[1] for x, y, xs in data]

    t_ours = t_peer = float("inf")
    for _ in range(repeats):  # alternating, best of each
        t_ours = min(t_ours, _timed(ours, 1))
        t_peer = min(t_peer, _timed(peer, 1))
    c_ours, c_peer = np.array(ours()), np.array(peer())
    n_pts = sum(xs.size for _, _, xs in data)
    row = {
        "benchmark": f"M4 fit + {n_pts} predictions, {len(data)} OLMo curves",
        "powerfit": t_ours / len(data),
        "peer": "scipy least_squares + brentq (Python loop)",
        "peer_time": t_peer / len(data),
        "target": "faster than the scipy loop",
        "notes": f"cost: powerfit lower or equal on {(c_ours <= c_peer * (1 + 1e-9)).sum()} of "
        f"{len(data)} curves",
    }
    lines = [
        (
            f"- M4 timing: per curve, pf.fit(law='m4', loss='log') with its default starts and "
            f"predictions at the held-out points, against scipy least_squares (trf, analytic "
            f"Jacobian, one start) and brentq per point; best of {repeats} alternating runs over "
            f"the {len(data)} curves. Median cost ratio powerfit/scipy "
            f"{np.median(c_ours / c_peer):.4f}."
        ),
    ]
    return row, lines


def forecast_section(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Held-out error per law and of the selected law, forecast-interval coverage, M4 timing."""
    splits = None  # every split of the training part
    olmo = olmo_curves()
    lines: list[str] = []
    for name, curves, laws, by, default in (
        ("OLMo ladder curves (C4 loss vs tokens)", olmo, ONE_VAR_LAWS, "D", "power"),
        (
            "Gadre et al. 2024 sweep (24 groups)",
            gadre_groups(),
            ND_LAWS,
            "N",
            "chinchilla",
        ),
        (
            "Chinchilla sweep (Epoch's extraction)",
            chinchilla_sweep(),
            ND_LAWS,
            "N",
            "chinchilla",
        ),
    ):
        more, med = _dataset(name, curves, laws, by, default, splits)
        lines += more
        if curves is olmo:
            lines += schedule_lines(olmo, laws, med)
    row, more = m4_timing(olmo, 2 if ctx.quick else 5)
    lines += more
    bulk_rows, more = bulk_timing(
        [
            ("OLMo curves", olmo, ONE_VAR_LAWS, "D"),
            ("Gadre groups", gadre_groups(), ND_LAWS, "N"),
            ("synthetic curves", synthetic_curves(2000), ("power", "m1"), "D"),
        ],
        1 if ctx.quick else 2,
    )
    lines += more
    return [row, *bulk_rows], lines


def synthetic_curves(n: int, seed: int = 0) -> list[Curve]:
    """``n`` learning curves of 16 points each, power laws and bending (M3-like) ones with
    multiplicative noise: a sweep database's worth of small curves."""
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e9, 16)
    out = []
    for i in range(n):
        if i % 2:
            y = 2.0 + 60.0 * x ** -rng.uniform(0.2, 0.4)
        else:
            y = 1.5 * (1e6 / x + rng.uniform(0.02, 0.1)) ** 0.3 + 1.0
        y = y * np.exp(rng.normal(0.0, 0.003, x.size))
        frame = pd.DataFrame({"D": x, "loss": y})
        out.append(Curve(f"s{i:04d}", frame, frame.iloc[:0], {"x": "D"}))
    return out
