"""FLOPs, accelerator-hours and money, and model FLOPs utilisation (MFU) from logged
throughput. All functions take scalars or arrays (returned as floats or arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _check
from ..errors import InvalidOptionError
from .accelerators import Accelerator, peak_flops

SECONDS_PER_HOUR = 3600.0


def _positive(name: str, v: Any, upper: float | None = None) -> np.ndarray:
    if isinstance(v, np.ndarray) and v.dtype.kind in "iuf":
        a = v.astype(float)
    elif _check.is_real(v):
        a = np.asarray(float(v))
    else:
        a = _check.reals(v, name)
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InvalidOptionError(f"{name} must be positive and finite, got {v!r}")
    if upper is not None and np.any(a > upper):
        raise InvalidOptionError(f"{name} must be at most {upper}, got {v!r}")
    return a


def _out(a: np.ndarray) -> Any:
    return float(a) if a.ndim == 0 else a


def _rate(
    accelerator: str | Accelerator | None, mfu: Any, precision: str, peak_tflops: float | None
) -> np.ndarray:
    """Achieved FLOP/s of one accelerator: peak x MFU."""
    return peak_flops(accelerator, precision, peak_tflops) * _positive("mfu", mfu, upper=1.0)


def accelerator_hours(
    flops: Any,
    accelerator: str | Accelerator | None = None,
    *,
    mfu: Any,
    precision: str = "bf16",
    peak_tflops: float | None = None,
) -> Any:
    """Accelerator-hours to run `flops` at model FLOPs utilisation `mfu` (0 < mfu <= 1) of the
    accelerator's dense peak at `precision` (or `peak_tflops`, in TFLOP/s)."""
    f = _positive("flops", flops)
    return _out(f / (_rate(accelerator, mfu, precision, peak_tflops) * SECONDS_PER_HOUR))


def flops_from_hours(
    hours: Any,
    accelerator: str | Accelerator | None = None,
    *,
    mfu: Any,
    precision: str = "bf16",
    peak_tflops: float | None = None,
) -> Any:
    """FLOPs that `hours` accelerator-hours deliver at `mfu` (the inverse of
    :func:`accelerator_hours`)."""
    h = _positive("hours", hours)
    return _out(h * _rate(accelerator, mfu, precision, peak_tflops) * SECONDS_PER_HOUR)


def cost(
    flops: Any,
    price_per_hour: Any,
    accelerator: str | Accelerator | None = None,
    *,
    mfu: Any,
    precision: str = "bf16",
    peak_tflops: float | None = None,
) -> Any:
    """Money for `flops`: accelerator-hours times `price_per_hour` (per accelerator-hour, in
    your currency)."""
    price = _positive("price_per_hour", price_per_hour)
    hours = accelerator_hours(
        flops, accelerator, mfu=mfu, precision=precision, peak_tflops=peak_tflops
    )
    return _out(np.asarray(hours) * price)


def mfu(
    tokens_per_second: Any,
    flops_per_token: Any,
    n_accelerators: Any = 1,
    accelerator: str | Accelerator | None = None,
    *,
    precision: str = "bf16",
    peak_tflops: float | None = None,
) -> Any:
    """Model FLOPs utilisation from a logged throughput: tokens/s x FLOPs per token over the
    peak of all `n_accelerators` (Chowdhery et al. 2022). Use the FLOPs per token of the
    convention you report against (``flops_per_token(...)["palm"]`` is PaLM's; 6N is the
    common shortcut). A value above 1 means the FLOPs per token or the throughput is wrong,
    and is returned as is so that you see it."""
    tps = _positive("tokens_per_second", tokens_per_second)
    fpt = _positive("flops_per_token", flops_per_token)
    n = _positive("n_accelerators", n_accelerators)
    return _out(tps * fpt / (n * peak_flops(accelerator, precision, peak_tflops)))


def tokens_per_second(
    mfu_: Any,
    flops_per_token: Any,
    n_accelerators: Any = 1,
    accelerator: str | Accelerator | None = None,
    *,
    precision: str = "bf16",
    peak_tflops: float | None = None,
) -> Any:
    """The throughput an MFU implies (the inverse of :func:`mfu`)."""
    fpt = _positive("flops_per_token", flops_per_token)
    n = _positive("n_accelerators", n_accelerators)
    return _out(_rate(accelerator, mfu_, precision, peak_tflops) * n / fpt)
