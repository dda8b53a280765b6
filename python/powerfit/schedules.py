"""Learning-rate schedules as a column, so that a law of a training curve can carry the schedule.

A checkpoint in the middle of a run is not the end of a shorter run: its loss still carries the
noise of the learning rate at that point, and the tail of a curve drops as the rate decays. A law
of tokens alone fitted to the early part of a curve cannot know when the decay comes. With the
schedule known (it is in every training config), the multiplier ``lr(t) / peak`` is a column like
any other, and :func:`schedule_law` adds a term for it:

>>> import powerfit as pf
>>> curve["lr"] = pf.schedules.cosine(curve["D"], total=2.6e10, warmup=1.9e8, final=0.1)
>>> base = pf.fit(curve, law="power", x="D", loss="log")
>>> res = pf.fit(curve, law=pf.schedules.schedule_law("D"), p0={**base.params, "F": 0.0},
...              loss="log")
>>> res.predict(D=[2.6e10], lr=[0.1])      # the loss at the end of the run

The schedules take the position ``t`` in the run in any unit (steps or tokens) and return the
multiplier at each point: a linear warm-up from 0 over ``warmup``, then the schedule's decay to
``final`` (a fraction of the peak) at ``total``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._data import as_float_array
from .errors import InvalidDataError, InvalidOptionError
from .expr import Law


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidOptionError(f"{name} must be a number, got {value!r}")
    return float(value)


def _checked(t: Any, total: Any, warmup: Any, final: Any) -> tuple[np.ndarray, float, float, float]:
    """The positions as floats and the schedule's numbers, checked: 0 <= warmup < total,
    0 <= final <= 1, positions in [0, total]."""
    x = as_float_array(t, "t")
    total_f, warm_f, final_f = (
        _number(total, "total"),
        _number(warmup, "warmup"),
        _number(final, "final"),
    )
    if not (np.isfinite(total_f) and total_f > 0):
        raise InvalidOptionError(f"total must be a positive number, got {total!r}")
    if not (0 <= warm_f < total_f):
        raise InvalidOptionError(f"warmup must be in [0, total), got {warmup!r}")
    if not (0 <= final_f <= 1):
        raise InvalidOptionError(f"final must be a fraction of the peak in [0, 1], got {final!r}")
    bad = ~(np.isfinite(x) & (x >= 0) & (x <= total_f * (1 + 1e-9)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidDataError(
            f"t has the value {x[row]} at row {row}: positions must lie in [0, total={total_f:g}]"
        )
    return x, total_f, warm_f, final_f


def _warm(x: np.ndarray, warmup: float, after: np.ndarray) -> np.ndarray:
    """The linear warm-up before ``warmup``, the decay ``after`` it."""
    if warmup == 0:
        return after
    return np.where(x < warmup, x / warmup, after)


def cosine(t: Any, total: float, *, warmup: float = 0.0, final: float = 0.1) -> np.ndarray:
    """Cosine decay from the peak after the warm-up to ``final`` x peak at ``total``.

    Args:
        t: positions in the run (steps or tokens), in [0, total].
        total: the run's length, in the unit of ``t``.
        warmup: length of the linear warm-up from 0.
        final: the multiplier at the end (a fraction of the peak).

    Returns:
        lr(t) / peak at every position.
    """
    x, total, warmup, final = _checked(t, total, warmup, final)
    phase = np.clip((x - warmup) / (total - warmup), 0.0, 1.0)
    return _warm(x, warmup, final + (1.0 - final) * 0.5 * (1.0 + np.cos(np.pi * phase)))


def linear(t: Any, total: float, *, warmup: float = 0.0, final: float = 0.0) -> np.ndarray:
    """Linear decay from the peak after the warm-up to ``final`` x peak at ``total`` (arguments
    as :func:`cosine`)."""
    x, total, warmup, final = _checked(t, total, warmup, final)
    phase = np.clip((x - warmup) / (total - warmup), 0.0, 1.0)
    return _warm(x, warmup, 1.0 - (1.0 - final) * phase)


def wsd(
    t: Any, total: float, *, warmup: float = 0.0, decay: float = 0.1, final: float = 0.0
) -> np.ndarray:
    """Warm-up, stable, decay: the peak until the last ``decay`` fraction of the run, then a
    linear decay to ``final`` x peak at ``total`` (other arguments as :func:`cosine`)."""
    x, total, warmup, final = _checked(t, total, warmup, final)
    d = _number(decay, "decay")
    if not (0 < d <= 1) or total * (1 - d) < warmup:
        raise InvalidOptionError(
            f"decay must be a fraction in (0, 1] that leaves the warm-up whole, got {decay!r}"
        )
    start = total * (1.0 - d)
    phase = np.clip((x - start) / (total - start), 0.0, 1.0)
    return _warm(x, warmup, 1.0 - (1.0 - final) * phase)


def schedule_law(variable: str = "D", column: str = "lr") -> Law:
    """``L_inf + A*t^-alpha + F*lr``: a power law in the position ``t`` (tokens or steps) plus a
    term in the learning-rate multiplier (the loss sits higher while the rate is high, and
    drops as it decays, so ``F >= 0`` by default). Start it from a power fit's parameters and
    ``F = 0``, as in the module's example.

    Args:
        variable: the column of positions (the law's power-law variable).
        column: the column of learning-rate multipliers (:func:`cosine`, :func:`linear`,
            :func:`wsd`).
    """
    for name, value in (("variable", variable), ("column", column)):
        if not isinstance(value, str) or not value.isidentifier():
            raise InvalidOptionError(f"{name} must be a column name (an identifier), got {value!r}")
    if variable == column:
        raise InvalidOptionError("variable and column must be different columns")
    return Law(
        f"L_inf + A*{variable}^-alpha + F*{column}",
        [variable, column],
        positive=["A"],
        linear=["L_inf", "F"],
        bounds={"L_inf": (0.0, None), "F": (0.0, None)},
        name="schedule_power",
    )
