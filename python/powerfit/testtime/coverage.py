"""Coverage against the number of attempts: fits of the Beta distribution of single-attempt
success rates (Schaeffer et al. 2025) and of the power law -ln pass@k = a k^-b (Brown et al.
2024), with bootstrap intervals over problems, computed in Rust for every group at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _check, _core
from ..errors import InvalidDataError, InvalidOptionError
from ._input import Problems, group_values, problems
from .estimator import check_ks

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: The parameters of both laws: the Beta shapes, the power law they imply at large k
#: (-ln pass@k ~ a_beta k^-b_beta, b_beta = alpha), and the power law fitted to the curve.
PARAMS = tuple(_core.PASSK_PARAM_COLUMNS)
LAWS = ("beta", "power")


def _level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise InvalidOptionError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def _quantiles(reps: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds over axis 1 (replicates), NaN where fewer than two are finite."""
    q = (1.0 - level) / 2.0
    finite = np.isfinite(reps).sum(axis=1)
    if reps.shape[1] == 0:
        nan = np.full((reps.shape[0],) + reps.shape[2:], np.nan)
        return nan, nan.copy()
    safe = np.where(np.isfinite(reps), reps, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as meant
        lo, hi = np.nanquantile(safe, [q, 1.0 - q], axis=1)
    lo[finite < 2] = np.nan
    hi[finite < 2] = np.nan
    return lo, hi


class CoverageResult:
    """The outcome of :func:`fit_coverage`: per group (model), the empirical pass@k curve, the
    Beta fit of success rates, the power law on -ln pass@k, and bootstrap replicates over
    problems. Read-only.

    Attributes:
        groups: one row per group: keys, ``n_problems``, ``min_samples``, ``beta_status``,
            ``n_boot_ok`` (replicates whose Beta fit converged), ``bootstrap_seed`` and ``N``
            (model size, when given).
        labels: a readable label per group.
        n_boot, seed, level: the bootstrap settings.
    """

    def __init__(
        self,
        raw: list[dict[str, Any]],
        p: Problems,
        *,
        n_boot: int,
        seed: int,
        level: float,
        sizes: np.ndarray | None,
    ) -> None:
        self._raw = raw
        self._p = p
        self.n_boot = n_boot
        self.seed = seed
        self.level = level
        self.labels = p.labels()
        g = p.keys.copy()
        g["n_problems"] = [r["n_problems"] for r in raw]
        g["min_samples"] = [int(p.n[a:b].min()) for a, b in zip(p.offsets[:-1], p.offsets[1:])]
        g["beta_status"] = [r["beta_status"] for r in raw]
        g["n_boot_ok"] = [r["n_boot_ok"] for r in raw]
        g["bootstrap_seed"] = [r["seed"] for r in raw]
        if sizes is not None:
            g["N"] = sizes
        self.groups = g
        self._params = np.array([r["params"] for r in raw], dtype=float)  # (G, 6)
        # replicates (G, R, 6); R is the same for every group
        self._boot = np.stack([np.asarray(r["boot_params"], dtype=float) for r in raw])

    # --- parameters ----------------------------------------------------------------------
    @property
    def by(self) -> tuple[str, ...]:
        """The group columns."""
        return self._p.by

    def _keys(self, repeat: int) -> dict[str, np.ndarray]:
        return {k: np.repeat(self._p.keys[k].to_numpy(), repeat) for k in self._p.by}

    def params(self, level: float | None = None) -> pd.DataFrame:
        """Parameters per group with percentile intervals over the bootstrap replicates:
        ``alpha``, ``beta`` (the Beta distribution of success rates), ``a_beta``, ``b_beta``
        (the power law -ln pass@k ~ a k^-b it implies at large k; b = alpha) and ``a_power``,
        ``b_power`` (the power law fitted to the empirical curve)."""
        lv = self.level if level is None else _level(level)
        G, P = self._params.shape
        lo, hi = _quantiles(self._boot, lv)
        se = np.full((G, P), np.nan)
        if self._boot.shape[1] > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                se = np.nanstd(
                    np.where(np.isfinite(self._boot), self._boot, np.nan), axis=1, ddof=1
                )
        return pd.DataFrame(
            {
                **self._keys(P),
                "parameter": np.tile(np.array(PARAMS), G),
                "estimate": self._params.ravel(),
                "lower": lo.ravel(),
                "upper": hi.ravel(),
                "se": se.ravel(),
            }
        )

    # --- curves ----------------------------------------------------------------------------
    def curve(self, level: float | None = None) -> pd.DataFrame:
        """The empirical pass@k of each group at its fit grid, with standard errors,
        bootstrap intervals, and both fitted laws at the same k."""
        lv = self.level if level is None else _level(level)
        raw = self._raw
        sizes = [len(r["fit_ks"]) for r in raw]
        group = np.repeat(np.arange(len(raw)), sizes)
        ks = np.concatenate([np.asarray(r["fit_ks"], dtype=float) for r in raw])
        # every group's replicate curves side by side: one quantile pass over all of them
        reps = np.concatenate([np.asarray(r["boot_curve"], dtype=float) for r in raw], axis=1)
        lo, hi = _quantiles(reps.T[:, :, None], lv)
        union, inv = np.unique(ks, return_inverse=True)
        beta_law = self._beta_curve(self._params, union)[group, inv]
        power_law = self._power_curve(self._params, union)[group, inv]
        return pd.DataFrame(
            {
                **{k: self._p.keys[k].to_numpy()[group] for k in self._p.by},
                "k": ks.astype(np.int64),
                "pass_at_k": np.concatenate([r["curve"] for r in raw]),
                "se_samples": np.sqrt(np.concatenate([r["curve_var_samples"] for r in raw])),
                "se_problems": np.sqrt(np.concatenate([r["curve_var_problems"] for r in raw])),
                "lower": lo[:, 0],
                "upper": hi[:, 0],
                "beta_law": beta_law,
                "power_law": power_law,
            }
        )

    @staticmethod
    def _beta_curve(par: np.ndarray, ks: np.ndarray) -> np.ndarray:
        """pass@k of the Beta laws in rows of `par` (any leading shape) at ks."""
        flat = par.reshape(-1, par.shape[-1])
        m = _core.beta_pass_at_k(
            np.ascontiguousarray(flat[:, 0]),
            np.ascontiguousarray(flat[:, 1]),
            [float(k) for k in ks],
        )
        return np.asarray(m).reshape(par.shape[:-1] + (len(ks),))

    @staticmethod
    def _power_curve(par: np.ndarray, ks: np.ndarray) -> np.ndarray:
        a, b = par[..., 4:5], par[..., 5:6]
        with np.errstate(all="ignore"):
            out: np.ndarray = np.exp(-a * np.power(ks, -b))
        return out

    def predict(
        self, k: float | Sequence[float], law: str = "beta", level: float | None = None
    ) -> pd.DataFrame:
        """pass@k predicted by a law (``"beta"``, ``"power"`` or ``"both"``) at any k > 0,
        with percentile intervals over the bootstrap replicates. ``extrapolated`` marks k
        beyond the group's fewest samples per problem."""
        lv = self.level if level is None else _level(level)
        ks = _check.reals(k, "k")
        law = _check.name(law, "law")
        if ks.ndim != 1 or ks.size == 0 or not np.all(np.isfinite(ks)) or np.any(ks <= 0):
            raise InvalidOptionError(f"k must be positive and finite, got {k!r}")
        laws = LAWS if law == "both" else (law,)
        if any(x not in LAWS for x in laws):
            raise InvalidOptionError(f"law must be 'beta', 'power' or 'both', got {law!r}")
        G, K = len(self._raw), ks.size
        frames = []
        for name in laws:
            fn: Callable[[np.ndarray, np.ndarray], np.ndarray] = (
                self._beta_curve if name == "beta" else self._power_curve
            )
            est = fn(self._params, ks)  # (G, K)
            lo, hi = _quantiles(fn(self._boot, ks), lv)
            frames.append(
                pd.DataFrame(
                    {
                        **self._keys(K),
                        "law": name,
                        "k": np.tile(ks, G),
                        "pass_at_k": est.ravel(),
                        "lower": lo.ravel(),
                        "upper": hi.ravel(),
                        "extrapolated": (
                            ks[None, :] > self.groups["min_samples"].to_numpy()[:, None]
                        ).ravel(),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def evaluate(
        self, k: Any, law: str = "beta", level: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """pass@k of each group at its own k values: `k` is an array (groups x m) of positive
        k (NaN allowed: NaN out). Returns (estimate, lower, upper), each groups x m."""
        lv = self.level if level is None else _level(level)
        try:
            kk = np.asarray(k, dtype=float)
        except (TypeError, ValueError):
            raise InvalidOptionError(
                f"k must be a matrix of numbers, got {_check.shown(k)}"
            ) from None
        law = _check.name(law, "law")
        G = len(self._raw)
        if kk.ndim != 2 or kk.shape[0] != G:
            raise InvalidOptionError(f"k must have one row per group ({G}), got shape {kk.shape}")
        if law not in LAWS:
            raise InvalidOptionError(f"law must be 'beta' or 'power', got {law!r}")
        ok = np.isfinite(kk) & (kk > 0)
        union, inv = np.unique(np.where(ok, kk, 1.0), return_inverse=True)
        inv = inv.reshape(kk.shape)
        fn = self._beta_curve if law == "beta" else self._power_curve
        rows = np.arange(G)[:, None]
        est = fn(self._params, union)[rows, inv]  # (G, m)
        reps = fn(self._boot, union)  # (G, R, U)
        lo, hi = _quantiles(
            reps[rows[:, :, None], np.arange(reps.shape[1])[None, :, None], inv[:, None, :]], lv
        )
        for a in (est, lo, hi):
            a[~ok] = np.nan
        return est, lo, hi

    def k_for(
        self, target: float | Sequence[float], law: str = "beta", level: float | None = None
    ) -> pd.DataFrame:
        """The number of attempts at which a law reaches each target pass@k (in (0, 1)),
        with percentile intervals; inf when the law never gets there."""
        lv = self.level if level is None else _level(level)
        t = _check.reals(target, "target")
        law = _check.name(law, "law")
        if t.ndim != 1 or t.size == 0 or np.any(~(t > 0)) or np.any(~(t < 1)):
            raise InvalidOptionError(f"target pass@k must be in (0, 1), got {target!r}")
        if law not in LAWS:
            raise InvalidOptionError(f"law must be 'beta' or 'power', got {law!r}")
        G, T = len(self._raw), t.size
        est = self._k_for(self._params, t, law)
        lo, hi = _quantiles(self._k_for(self._boot, t, law), lv)
        return pd.DataFrame(
            {
                **self._keys(T),
                "law": law,
                "target": np.tile(t, G),
                "k": est.ravel(),
                "lower": lo.ravel(),
                "upper": hi.ravel(),
            }
        )

    @staticmethod
    def _k_for(par: np.ndarray, t: np.ndarray, law: str) -> np.ndarray:
        if law == "beta":
            flat = par.reshape(-1, par.shape[-1])
            m = _core.beta_k_for(
                np.ascontiguousarray(flat[:, 0]),
                np.ascontiguousarray(flat[:, 1]),
                [float(v) for v in t],
            )
            return np.asarray(m).reshape(par.shape[:-1] + (t.size,))
        a, b = par[..., 4:5], par[..., 5:6]
        with np.errstate(all="ignore"):
            k = np.power(a / -np.log(t), 1.0 / b)
        return np.where(b > 0, k, np.inf)

    # --- reports ---------------------------------------------------------------------------
    def summary(self) -> str:
        """A text report: per group, the Beta fit and both power laws with intervals."""
        tab = self.params()
        lines = [
            (
                f"coverage fits: {len(self._raw)} group(s), {self.n_boot} bootstrap "
                f"replicates over problems, {self.level:.0%} percentile intervals"
            )
        ]
        for g, label in enumerate(self.labels):
            row = self.groups.iloc[g]
            sub = tab.iloc[g * len(PARAMS) : (g + 1) * len(PARAMS)].set_index("parameter")

            def fmt(name: str, sub: pd.DataFrame = sub) -> str:
                r = sub.loc[name]
                return f"{r.estimate:.4g} [{r.lower:.4g}, {r.upper:.4g}]"

            lines.append(
                f"\n{label}: {row.n_problems} problems, at least {row.min_samples} "
                f"samples each; Beta fit {row.beta_status}, {row.n_boot_ok} of "
                f"{self.n_boot} replicates converged"
            )
            lines.append(f"  success rates ~ Beta(alpha={fmt('alpha')}, beta={fmt('beta')})")
            lines.append(f"  implied at large k: -ln pass@k ~ {fmt('a_beta')} * k^-{fmt('b_beta')}")
            lines.append(
                f"  power law fitted to the curve: -ln pass@k = {fmt('a_power')} * "
                f"k^-{fmt('b_power')} (r2 {self._raw[g]['power_r2']:.4f})"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<CoverageResult: {len(self._raw)} group(s), {self.n_boot} replicates, "
            f"alpha = {', '.join(f'{a:.3g}' for a in self._params[:, 0])}>"
        )

    def plot(self, **kwargs: Any) -> Figure:
        """Coverage curves with both laws; see :func:`powerfit.testtime.plot_coverage`."""
        from ..plot.testtime import plot_coverage

        return plot_coverage(self, **kwargs)


def fit_coverage(
    data: Any = None,
    *,
    n: Any = None,
    c: Any = None,
    samples: str = "n",
    successes: str = "c",
    problem: str = "problem",
    correct: str = "correct",
    by: str | Sequence[str] | None = None,
    size: str | None = None,
    k: Sequence[int] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    progress: bool | None = None,
) -> CoverageResult:
    """Fit how coverage (pass@k) grows with the number of attempts k, per group.

    Two laws, each with percentile intervals from a bootstrap over problems (replicate i of a
    group resamples its problems from a stream fixed by the seed and the group's position, so
    results do not depend on the number of threads):

    - the distribution of single-attempt success rates, p ~ Beta(alpha, beta), fitted by
      maximum likelihood to every problem's (samples, successes) counts (a beta-binomial
      likelihood, exact for finite samples). It implies pass@k = 1 - B(alpha, beta + k) /
      B(alpha, beta) at every k and, at large k, -ln pass@k ~ a k^-alpha with
      a = Gamma(alpha + beta) / Gamma(beta): the power-law exponent is the left-tail shape
      alpha. This is Schaeffer et al. 2025's distributional estimator, which needs far fewer
      samples than fitting the curve;
    - the power law -ln pass@k = a k^-b (Brown et al. 2024's coverage = exp(a' k^b') with
      a' = -a, b' = -b), fitted by least squares to ln(-ln pass@k) against ln k over the
      empirical curve at the grid ``k``.

    Args:
        data, n, c, samples, successes, problem, correct, by: the results, as for
            :func:`pass_at_k`.
        size: a column holding each group's model size N (constant within a group), kept for
            :func:`sampling_tradeoff` and :func:`sampling_cost`.
        k: the grid of the empirical curve (default: up to 24 log-spaced whole numbers from 1
            to the group's fewest samples).
        n_boot: bootstrap replicates per group (0: none; intervals are then NaN).
        seed: the run's seed.
        level: default coverage of the intervals.
        progress: show a progress bar (default: when standard error is a terminal).

    Returns:
        A :class:`CoverageResult`.

    Raises:
        InvalidDataError: bad counts (naming column and row), a size that varies in a group.
        InvalidOptionError: bad k, n_boot, seed or level.
    """
    lv = _level(level)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InvalidOptionError(f"n_boot must be a whole number >= 0, got {n_boot!r}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidOptionError(f"seed must be a whole number in [0, 2^64), got {seed!r}")
    p = problems(
        data,
        n=n,
        c=c,
        samples=samples,
        successes=successes,
        problem=problem,
        correct=correct,
        by=by,
    )
    ks = [] if k is None else check_ks(k, int(p.n.min()))
    sizes = None
    if size is not None:
        if data is None:
            raise InvalidDataError("size= names a column: pass data=...")
        sizes = group_values(data, p.by, _check.name(size, "size"), p.keys)
    from .._progress import Progress

    total = int(n_boot) * p.n_groups
    with Progress(total, progress, "bootstrap", "replicate") as bar:
        raw = _core.coverage_fit(
            p.n, p.c, [int(o) for o in p.offsets], ks, [], int(n_boot), int(seed), bar.callback
        )
    return CoverageResult(raw, p, n_boot=int(n_boot), seed=int(seed), level=lv, sizes=sizes)


def simulate(problems: int, samples: int, alpha: float, beta: float, seed: int = 0) -> pd.DataFrame:
    """Simulated repeated sampling with a known answer: problem i's success probability
    ``p`` ~ Beta(alpha, beta), then ``c`` successes in ``n`` = `samples` attempts (drawn in
    Rust, one random stream per problem). Columns ``problem``, ``p``, ``n``, ``c``."""
    for name, v in (("problems", problems), ("samples", samples)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidOptionError(f"{name} must be a whole number >= 1, got {v!r}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidOptionError(f"seed must be a whole number in [0, 2^64), got {seed!r}")
    raw = _core.simulate_passk(int(problems), int(samples), float(alpha), float(beta), int(seed))
    return pd.DataFrame(
        {
            "problem": np.arange(problems),
            "p": raw["p"],
            "n": np.full(problems, samples, dtype=np.int64),
            "c": raw["c"],
        }
    )
