"""The unbiased pass@k estimator (Chen et al. 2021) with its standard errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _check, _core
from ..errors import InvalidOptionError
from ._input import Problems, problems

#: Largest k: attempts are counted in doubles, exact up to 2^53.
MAX_K = 2**53


def default_ks(max_k: int) -> list[int]:
    """Powers of two up to `max_k`, and `max_k` itself."""
    ks = [1 << i for i in range(64) if (1 << i) <= max_k]
    if ks[-1] != max_k:
        ks.append(int(max_k))
    return ks


def check_ks(k: Any, max_k: int) -> list[int]:
    """k values as a list of whole numbers >= 1 (default: :func:`default_ks`)."""
    if k is None:
        return default_ks(max_k)
    arr = _check.reals(k, "k")
    if arr.size == 0:
        raise InvalidOptionError(f"k must be a whole number or a list of them, got {k!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)) or np.any(arr < 1):
        raise InvalidOptionError(f"k must be whole numbers >= 1, got {_check.shown(k)}")
    if np.any(arr > MAX_K):
        raise InvalidOptionError(f"k must be at most 2^53, got {_check.shown(k)}")
    return [int(v) for v in arr]


def _key_columns(p: Problems, group: np.ndarray) -> dict[str, Any]:
    return {name: p.keys[name].to_numpy()[group] for name in p.by}


def pass_at_k(
    data: Any = None,
    k: int | Sequence[int] | None = None,
    *,
    n: Any = None,
    c: Any = None,
    samples: str = "n",
    successes: str = "c",
    problem: str = "problem",
    correct: str = "correct",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """pass@k over problems with the unbiased estimator of Chen et al. 2021, and its standard
    errors.

    For a problem with n samples of which c succeed, pass@k = 1 - C(n-c, k)/C(n, k), computed
    in Rust as a sum of logarithms of the shorter product form, so small values keep their
    digits. The table's pass@k is the mean over problems.

    Args:
        data: one row per problem (columns ``samples`` and ``successes``) or one row per attempt
            (columns ``problem`` and ``correct``, True/False or 0/1); a DataFrame (pandas or
            polars), pyarrow Table, dict or file path. Or pass arrays ``n=`` and ``c=``.
        k: the k values (whole numbers, at most every problem's number of samples); default
            powers of two up to the fewest samples of any problem.
        samples, successes, problem, correct: column names.
        by: group columns (e.g. ``"model"``): one curve per group.

    Returns:
        A DataFrame with the group keys, ``k``, ``pass_at_k``, ``se_samples`` (standard error
        from the finite samples of each problem, the problems held fixed: unbiased when
        2k <= n for every problem, else the plug-in at p = c/n, as ``variance`` says),
        ``se_problems`` (standard error treating the problems as drawn from a population: the
        standard deviation of the per-problem estimates over sqrt(#problems)) and
        ``n_problems``.

    Raises:
        InvalidDataError: missing columns, counts that are not whole numbers, more successes
            than samples (naming the row).
        InvalidOptionError: k < 1 or k above a problem's number of samples (naming it).
    """
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
    ks = check_ks(k, int(p.n.min()))
    raw = _core.pass_at_k(p.n, p.c, ks, [int(o) for o in p.offsets])
    group = np.asarray(raw["group"])
    sizes = np.diff(p.offsets)[group]
    return pd.DataFrame(
        {
            **_key_columns(p, group),
            "k": np.asarray(raw["k"], dtype=np.int64),
            "pass_at_k": raw["estimate"],
            "se_samples": np.sqrt(raw["var_samples"]),
            "se_problems": np.sqrt(raw["var_problems"]),
            "n_problems": sizes,
            "variance": np.where(raw["unbiased"], "unbiased", "plug-in"),
        }
    )


def pass_at_k_problems(
    data: Any = None,
    k: int | Sequence[int] | None = None,
    *,
    n: Any = None,
    c: Any = None,
    samples: str = "n",
    successes: str = "c",
) -> pd.DataFrame:
    """Per-problem unbiased pass@k: one row per problem (in input order), one column
    ``pass@k`` per k. Arguments as :func:`pass_at_k` (per-problem rows only)."""
    p = problems(data, n=n, c=c, samples=samples, successes=successes)
    ks = check_ks(k, int(p.n.min()))
    m = _core.pass_at_k_problems(p.n, p.c, ks)
    return pd.DataFrame(m, columns=[f"pass@{v}" for v in ks])
