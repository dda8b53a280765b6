"""A synthetic sweep with known regimes, for checking :func:`powerfit.diagnose`.

Two sweeps over the same grid of model sizes N (1e6 to 1e10) and tokens D (1e7 to 1e12):

- ``U = inf`` (fresh data): L = E + A / N^alpha + B / D^beta. Small models trained long are
  capacity-limited, large models trained briefly under-trained, the diagonal balanced, and the
  largest models trained longest sit at the noise floor;
- ``U = 3e9`` unique tokens, repeated: the data-constrained law of Muennighoff et al. 2023
  (effective data D' and parameters N' saturate, R_D = R_N = 5), plus an over-fitting term that
  grows with epochs and with N/U (the validation loss turns up and the train/validation gap
  widens) and a double-descent bump at N = 10^7.5 that grows in with the epochs.

Each cell carries the regime its noise-free law puts it in (``planted``): the marginal returns
of doubling N and doubling D from the law's derivatives, the distance to the true floor, and
whether the validation loss rises with N or D, classified by the rules of
:func:`powerfit.diagnose` at the default thresholds. A cell whose label changes when any
threshold is scaled by 1.5 or 1/1.5 is ``ambiguous`` and should not be scored. Validation
losses get multiplicative noise of relative size ``noise``; training losses are the law minus
the over-fitting benefit, with the same noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidOptionError

#: The law's parameters.
E, A, ALPHA, B, BETA = 1.7, 150.0, 0.5, 1000.0, 0.5
R_D = R_N = 5.0
U_REPEATED = 3e9
#: Over-fitting: rho (N/U)^kappa ln(D/U)^2 for D > U; bump: height h at 10^8.5, width w decades.
RHO, KAPPA = 0.01, 0.6
BUMP_N, BUMP_W, BUMP_H = 10**7.5, 0.2, 0.06
#: A cell is ambiguous when scaling any threshold by this factor (or its inverse) relabels it.
MARGIN = 1.5


def _effective(x: np.ndarray, unique: np.ndarray, r: float) -> np.ndarray:
    """Muennighoff et al.'s effective amount: x below `unique`, then diminishing returns."""
    over = np.maximum(x / unique - 1.0, 0.0)
    out: np.ndarray = np.minimum(x, unique) + unique * r * (1.0 - np.exp(-over / r))
    return out


def law(N: np.ndarray, D: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(validation loss, training loss) of the noise-free law."""
    N, D, U = (np.asarray(v, dtype=float) for v in (N, D, U))
    finite = np.isfinite(U)
    u = np.where(finite, U, 1.0)
    d_eff = np.where(finite, _effective(D, u, R_D), D)
    n_opt = u / 20.0  # the compute-optimal size for U tokens (20 tokens per parameter)
    n_eff = np.where(finite, _effective(N, n_opt, R_N), N)
    base = E + A / n_eff**ALPHA + B / d_eff**BETA
    epochs_log = np.where(finite, np.log(np.maximum(D / u, 1.0)), 0.0)
    over = RHO * (N / np.where(finite, u, np.inf)) ** KAPPA * epochs_log**2
    # the bump grows in with the epochs: 1 - exp(-(epochs - 1) / 10)
    ramp = np.where(finite, -np.expm1(-np.maximum(D / u - 1.0, 0.0) / 10.0), 0.0)
    bump = ramp * BUMP_H * np.exp(-0.5 * (np.log10(N / BUMP_N) / BUMP_W) ** 2)
    return base + over + bump, base - 0.5 * over


def _log_slopes(N: np.ndarray, D: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """-d ln L / d log2 N and -d ln L / d log2 D of the validation loss (central differences
    in log space with a small step: the law's derivatives)."""
    h = 1e-4

    def val(n: np.ndarray, d: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.log(law(n, d, U)[0])
        return out

    gn = -(val(N * 2**h, D) - val(N * 2**-h, D)) / (2 * h)
    gd = -(val(N, D * 2**h) - val(N, D * 2**-h)) / (2 * h)
    return gn, gd


def _classify(
    gn: np.ndarray,
    gd: np.ndarray,
    reducible: np.ndarray,
    rising: np.ndarray,
    epochs: np.ndarray,
    noise: float,
    min_gain: float,
    ratio: float,
) -> np.ndarray:
    """The regime rules of powerfit.diagnose applied to exact quantities."""
    floor = reducible <= 2.0 * noise
    helps_n, helps_d = gn > min_gain, gd > min_gain
    q = gd / np.where(gn > 0, gn, np.nan)
    repeated = epochs > 1.0
    out = np.full(gn.shape, "undetermined", dtype=object)
    both = helps_n & helps_d
    out[both & (q > ratio)] = "under_trained"
    out[both & (q < 1.0 / ratio)] = "capacity_limited"
    out[both & (q >= 1.0 / ratio) & (q <= ratio)] = "balanced"
    out[helps_n & ~helps_d] = "capacity_limited"
    out[~helps_n & helps_d] = "under_trained"
    out[~helps_n & ~helps_d & repeated] = "data_limited"
    out[(out == "under_trained") & repeated] = "data_limited"
    out[floor & ~helps_n & ~helps_d] = "noise_floor"
    out[rising] = "data_limited"
    return out


def synthetic_sweep(
    noise: float = 0.003, seed: int = 0, min_gain: float = 0.0025, ratio: float = 2.0
) -> pd.DataFrame:
    """The sweep described in the module docstring.

    Args:
        noise: relative noise of the losses (standard deviation of ln L).
        seed: the numpy seed of the noise.
        min_gain, ratio: the thresholds the planted labels use (those of ``pf.diagnose``).

    Returns:
        Columns ``N``, ``D``, ``U`` (inf for fresh data), ``epochs``, ``loss`` (validation),
        ``train_loss``, ``planted`` (the regime of the noise-free law, or ``ambiguous``).
    """
    if not (noise > 0 and np.isfinite(noise)):
        raise InvalidOptionError(f"noise must be positive, got {noise!r}")
    n_grid = 10.0 ** np.arange(6.0, 10.01, 0.5)
    d_grid = 10.0 ** np.arange(7.0, 12.01, 0.5)
    N, D = (a.ravel() for a in np.meshgrid(n_grid, d_grid, indexing="ij"))
    N, D = np.concatenate([N, N]), np.concatenate([D, D])
    U = np.concatenate([np.full(N.size // 2, np.inf), np.full(N.size // 2, U_REPEATED)])
    val, train = law(N, D, U)
    gn, gd = _log_slopes(N, D, U)
    epochs = np.where(np.isfinite(U), D / np.where(np.isfinite(U), U, 1.0), D / 1e30)
    reducible = np.log(val) - np.log(E)
    rising = (gd < -min_gain) | (gn < -min_gain)
    labels = _classify(gn, gd, reducible, rising, epochs, noise, min_gain, ratio)
    for f in (1.0 / MARGIN, MARGIN):
        for alt in (
            _classify(gn, gd, reducible, rising, epochs, noise * f, min_gain, ratio),
            _classify(gn, gd, reducible, rising, epochs, noise, min_gain * f, ratio),
            _classify(gn, gd, reducible, rising, epochs, noise, min_gain, ratio * f),
        ):
            labels = np.where(alt == labels, labels, "ambiguous")
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "N": N,
            "D": D,
            "U": U,
            "epochs": np.where(np.isfinite(U), epochs, np.nan),
            "loss": val * np.exp(rng.normal(0.0, noise, N.size)),
            "train_loss": train * np.exp(rng.normal(0.0, noise, N.size)),
            "planted": labels,
        }
    )
