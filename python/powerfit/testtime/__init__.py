"""Test-time compute scaling: quality against the number of attempts at a fixed model.

- :func:`pass_at_k`: the unbiased pass@k of Chen et al. 2021 with standard errors;
- :func:`fit_coverage`: the Beta distribution of single-attempt success rates (Schaeffer et
  al. 2025) and the power law -ln pass@k = a k^-b (Brown et al. 2024), with bootstrap
  intervals over problems;
- :func:`sampling_tradeoff`, :func:`sampling_cost`: a smaller model sampled k times against a
  larger one, at a fixed inference budget or for a target coverage with training included;
- :func:`simulate`: Beta-distributed success rates with binomial attempts, for checks.

>>> import powerfit as pf
>>> runs = pf.testtime.simulate(problems=500, samples=100, alpha=0.3, beta=3.0, seed=0)
>>> cov = pf.fit_coverage(runs, n_boot=200, seed=0)
>>> cov.params()                                                   # doctest: +SKIP
"""

from __future__ import annotations

from .coverage import CoverageResult, fit_coverage, simulate
from .estimator import pass_at_k, pass_at_k_problems
from .tradeoff import sampling_cost, sampling_tradeoff

__all__ = [
    "CoverageResult",
    "fit_coverage",
    "pass_at_k",
    "pass_at_k_problems",
    "sampling_cost",
    "sampling_tradeoff",
    "simulate",
]
