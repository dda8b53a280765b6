"""A compute budget in FLOPs, accelerator-hours or money, and plans reported in all three.

``Budget`` is what compute-optimal and inference-optimal calls accept: :func:`budget_flops`
turns a budget (or plain FLOPs) into FLOPs, and :func:`plan` adds accelerator-hours, wall-clock
hours and money to any table of FLOPs. :func:`compute_optimal` and :func:`inference_optimal`
do both around a fitted law.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import analysis
from .._deprecate import renamed
from ..errors import InvalidOptionError
from .accelerators import Accelerator, peak_flops
from .accelerators import accelerator as lookup
from .units import SECONDS_PER_HOUR

if TYPE_CHECKING:  # pragma: no cover
    from ..record import FitRecord


def _opt_positive(name: str, v: Any, upper: float | None = None) -> float | None:
    if v is None:
        return None
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float, np.integer, np.floating))
        or not (math.isfinite(v) and v > 0)
    ):
        raise InvalidOptionError(f"Budget: {name} must be a positive number, got {v!r}")
    if upper is not None and v > upper:
        raise InvalidOptionError(f"Budget: {name} must be at most {upper}, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Budget:
    """A compute budget, given one of four ways:

    - ``Budget(flops=1e24)``;
    - ``Budget(gpus=1024, hours=720, accelerator="H100-SXM", mfu=0.4)``: a cluster for a time;
    - ``Budget(accelerator_hours=7e5, accelerator="H100-SXM", mfu=0.4)``;
    - ``Budget(money=2e6, price_per_hour=2.5, accelerator="H100-SXM", mfu=0.4)``.

    With the hardware (``accelerator``, ``mfu``, ``precision`` or ``peak_tflops``) every budget
    converts to FLOPs, accelerator-hours and, with ``price_per_hour``, money; ``gpus`` also
    gives wall-clock hours. A FLOPs-only budget reports hours and money as NaN.
    """

    flops: float | None = None
    gpus: float | None = None
    hours: float | None = None
    accelerator_hours: float | None = None
    money: float | None = None
    accelerator: str | Accelerator | None = None
    mfu: float | None = None
    precision: str = "bf16"
    peak_tflops: float | None = None
    price_per_hour: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "flops",
            "gpus",
            "hours",
            "accelerator_hours",
            "money",
            "price_per_hour",
            "peak_tflops",
        ):
            object.__setattr__(self, name, _opt_positive(name, getattr(self, name)))
        object.__setattr__(self, "mfu", _opt_positive("mfu", self.mfu, upper=1.0))
        if self.accelerator is not None:
            object.__setattr__(self, "accelerator", lookup(self.accelerator))
        if self.hours is not None and self.gpus is None:
            raise InvalidOptionError("Budget: hours needs gpus (or give accelerator_hours)")
        ways = {
            "flops": self.flops is not None,
            "gpus and hours": self.gpus is not None and self.hours is not None,
            "accelerator_hours": self.accelerator_hours is not None,
            "money": self.money is not None,
        }
        given = [k for k, v in ways.items() if v]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise InvalidOptionError(
                f"Budget needs exactly one of: flops, gpus with hours, accelerator_hours, or "
                f"money (got {what})"
            )
        if self.money is not None and self.price_per_hour is None:
            raise InvalidOptionError("Budget(money=...) needs price_per_hour")
        if self.flops is None and not self.has_hardware:
            raise InvalidOptionError(
                "Budget in hours or money needs the hardware: accelerator (or peak_tflops) and mfu"
            )
        if self.has_hardware:
            peak_flops(self.accelerator, self.precision, self.peak_tflops)  # validates

    @property
    def has_hardware(self) -> bool:
        """Whether FLOPs convert to hours (an accelerator or peak, and an MFU)."""
        return self.mfu is not None and (
            self.accelerator is not None or self.peak_tflops is not None
        )

    @property
    def achieved_flops_per_hour(self) -> float:
        """FLOPs one accelerator delivers per hour at the budget's MFU (NaN without
        hardware)."""
        if not self.has_hardware:
            return math.nan
        assert self.mfu is not None
        return (
            peak_flops(self.accelerator, self.precision, self.peak_tflops)
            * self.mfu
            * SECONDS_PER_HOUR
        )

    @property
    def total_flops(self) -> float:
        """The budget in FLOPs."""
        if self.flops is not None:
            return self.flops
        return self.total_accelerator_hours * self.achieved_flops_per_hour

    @property
    def total_accelerator_hours(self) -> float:
        """The budget in accelerator-hours (NaN for a FLOPs budget without hardware)."""
        if self.accelerator_hours is not None:
            return self.accelerator_hours
        if self.gpus is not None and self.hours is not None:
            return self.gpus * self.hours
        if self.money is not None and self.price_per_hour is not None:
            return self.money / self.price_per_hour
        assert self.flops is not None
        return self.flops / self.achieved_flops_per_hour

    @property
    def total_cost(self) -> float:
        """The budget in money (NaN without price_per_hour)."""
        if self.money is not None:
            return self.money
        if self.price_per_hour is None:
            return math.nan
        return self.total_accelerator_hours * self.price_per_hour

    @property
    def wall_hours(self) -> float:
        """Wall-clock hours on ``gpus`` accelerators (NaN without gpus)."""
        if self.gpus is None:
            return math.nan
        return self.total_accelerator_hours / self.gpus

    def to_series(self) -> pd.Series:
        """The budget in every unit, with the hardware."""
        acc = self.accelerator
        return pd.Series(
            {
                "flops": self.total_flops,
                "accelerator_hours": self.total_accelerator_hours,
                "wall_hours": self.wall_hours,
                "cost": self.total_cost,
                "accelerator": acc.name if isinstance(acc, Accelerator) else None,
                "precision": self.precision,
                "mfu": self.mfu,
                "gpus": self.gpus,
                "price_per_hour": self.price_per_hour,
            }
        )

    def summary(self) -> str:
        """One line in every unit."""
        s = self.to_series()
        parts = [f"{s['flops']:.3g} FLOPs"]
        if math.isfinite(s["accelerator_hours"]):
            parts.append(f"{s['accelerator_hours']:.4g} accelerator-hours")
        if math.isfinite(s["wall_hours"]):
            parts.append(f"{s['wall_hours']:.4g} h on {s['gpus']:.0f} accelerators")
        if math.isfinite(s["cost"]):
            parts.append(f"cost {s['cost']:.4g}")
        hw = ""
        if self.has_hardware:
            name = s["accelerator"] or f"{self.peak_tflops:g} TFLOP/s peak"
            hw = f" ({name}, {self.precision}, MFU {self.mfu:.0%})"
        return ", ".join(parts) + hw


def budget_flops(budget: Any) -> list[float]:
    """Compute budgets in FLOPs from a :class:`Budget`, a number, or a sequence of either.

    This is the hook for compute-optimal calls: ``C = budget_flops(C_or_budget)``.
    """
    items = budget if isinstance(budget, (list, tuple, np.ndarray, pd.Series)) else [budget]
    out = []
    for b in items:
        if isinstance(b, Budget):
            out.append(b.total_flops)
            continue
        if (
            isinstance(b, bool)
            or not isinstance(b, (int, float, np.integer, np.floating))
            or not (math.isfinite(b) and b > 0)
        ):
            raise InvalidOptionError(f"a budget must be positive FLOPs or a Budget, got {b!r}")
        out.append(float(b))
    if not out:
        raise InvalidOptionError("no budget given")
    return out


def plan(
    table: pd.DataFrame, hardware: Budget, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """`table` with every FLOPs column also in accelerator-hours (``<col>_accelerator_hours``),
    wall-clock hours on the budget's accelerators (``<col>_wall_hours``, with ``gpus``), money
    (``<col>_cost``, with ``price_per_hour``) and as a share of the budget
    (``<col>_share_of_budget``).

    Args:
        table: any DataFrame with FLOPs columns.
        hardware: the :class:`Budget` whose accelerator, MFU and price convert the FLOPs.
        columns: the FLOPs columns (default: ``C`` if present, else every column whose name
            ends in ``flops``).
    """
    if not isinstance(hardware, Budget):
        raise InvalidOptionError(f"hardware must be a powerfit.Budget, got {hardware!r}")
    if columns is None:
        columns = (
            ["C"]
            if "C" in table.columns
            else [c for c in table.columns if str(c).lower().endswith("flops")]
        )
    out = table.copy()
    rate = hardware.achieved_flops_per_hour
    for col in columns:
        if col not in table.columns:
            raise InvalidOptionError(f"no column '{col}' in the table to convert")
        f = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        hours = f / rate
        out[f"{col}_accelerator_hours"] = hours
        if hardware.gpus is not None:
            out[f"{col}_wall_hours"] = hours / hardware.gpus
        if hardware.price_per_hour is not None:
            out[f"{col}_cost"] = hours * hardware.price_per_hour
        out[f"{col}_share_of_budget"] = f / hardware.total_flops
    return out


@renamed({"k": "flops_per_param_token"})
def compute_optimal(
    res: FitRecord,
    budget: Any,
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    *,
    warn: bool = True,
) -> pd.DataFrame:
    """``res.compute_optimal`` at the budget(s) in FLOPs, with the plan in accelerator-hours
    and money when the budget carries hardware (see :func:`plan`); ``flops_per_param_token``
    is k in C = k N D."""
    flops = budget_flops(budget)
    table = analysis.compute_optimal(
        res, flops, flops_per_param_token=flops_per_param_token, level=level, warn=warn
    )
    hw = _hardware(budget)
    if hw is None or not hw.has_hardware:
        return table
    out = plan(table, hw, columns=["C"])
    return out.drop(columns=["C_share_of_budget"]) if len(flops) > 1 else out


@renamed({"k": "flops_per_param_token"})
def inference_optimal(
    res: FitRecord,
    target_loss: float,
    inference_tokens: float,
    budget: Budget | None = None,
    flops_per_param_token: float = 6.0,
) -> pd.Series:
    """``res.inference_optimal`` with its training, inference and total FLOPs also in
    accelerator-hours and money, and ``fits_budget`` when `budget` has a size."""
    s = analysis.inference_optimal(
        res, target_loss, inference_tokens, flops_per_param_token=flops_per_param_token
    ).to_series()
    if budget is None:
        return s
    cols = ["train_flops", "inference_flops", "total_flops", "chinchilla_total_flops"]
    frame = plan(s.to_frame().T, budget, columns=cols) if budget.has_hardware else s.to_frame().T
    out = frame.iloc[0].astype(object)
    out["budget_flops"] = budget.total_flops
    out["fits_budget"] = bool(s["total_flops"] <= budget.total_flops)
    return out


def holds_budget(budget: Any) -> bool:
    """Whether ``budget`` is, or holds, a :class:`Budget` (rather than only FLOPs)."""
    return _hardware(budget) is not None


def _hardware(budget: Any) -> Budget | None:
    items = budget if isinstance(budget, (list, tuple)) else [budget]
    found = [b for b in items if isinstance(b, Budget)]
    return found[0] if found else None
