"""Type checks of the option values Python handles itself (column names, mappings, flags,
paths, counts and numbers that never reach the core): a value of the wrong kind is an
:class:`~powerfit.InvalidOptionError` naming the option, before any work and never a bare
TypeError. What a value must be beyond its kind (a loss name, a positive tolerance, ...) is
judged by the core."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, overload

import numpy as np

from .errors import InvalidOptionError


def shown(value: Any) -> str:
    """A short description of a value for an error message."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails says nothing useful either
        text = ""
    if text and len(text) <= 60 and "\n" not in text:
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return f"an integer of {len(str(abs(value)))} digits"
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, np.str_))


def is_real(value: Any) -> bool:
    """An int, float or numpy real scalar: not a bool, a string or a complex number."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, numbers.Real)


@overload
def name(value: Any, option: str) -> str: ...
@overload
def name(value: Any, option: str, *, optional: bool) -> str | None: ...


def name(value: Any, option: str, *, optional: bool = False) -> str | None:
    """A name (a string); None only when ``optional``."""
    if value is None and optional:
        return None
    if not _is_text(value):
        raise InvalidOptionError(f"{option} must be a string, got {shown(value)}")
    return str(value)


def names(value: Any, option: str) -> list[str]:
    """Column names: None (none), one name, or a list or tuple of names."""
    if value is None:
        return []
    if _is_text(value):
        return [str(value)]
    items: Any = value
    array = isinstance(value, np.ndarray) and value.ndim == 1
    if array or (type(value).__name__ == "Index" and hasattr(value, "tolist")):
        items = value.tolist()
    if isinstance(items, (list, tuple)) and all(_is_text(v) for v in items):
        return [str(v) for v in items]
    raise InvalidOptionError(
        f"{option} must be a column name or a list of column names, got {shown(value)}"
    )


def mapping(value: Any, option: str) -> dict[str, str]:
    """A mapping of names to names (e.g. ``columns={"N": "params"}``); None is empty."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        _is_text(k) and _is_text(v) for k, v in value.items()
    ):
        raise InvalidOptionError(
            f"{option} must be a dict of names, e.g. {{'N': 'params', 'loss': 'val_loss'}}, "
            f"got {shown(value)}"
        )
    return {str(k): str(v) for k, v in value.items()}


def flag(value: Any, option: str) -> bool:
    """True or False (a bool, a numpy bool, or the integers 0 and 1)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise InvalidOptionError(f"{option} must be True or False, got {shown(value)}")


def optional_flag(value: Any, option: str) -> bool | None:
    """None, True or False."""
    return None if value is None else flag(value, option)


def path(value: Any, option: str) -> Path:
    """A file path: a non-empty string or an ``os.PathLike``."""
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        p = os.fspath(value)
        if isinstance(p, str) and p.strip():
            return Path(p)
    raise InvalidOptionError(f"{option} must be a file path, got {shown(value)}")


def count(value: Any, option: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in ``[minimum, maximum]`` (an int, a numpy integer or an integral
    float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(f"{option} must be a whole number, got {shown(value)}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        f = float(value)
        if not (math.isfinite(f) and f.is_integer()):
            raise InvalidOptionError(f"{option} must be a whole number, got {shown(value)}")
        v = int(f)
    if v < minimum or (maximum is not None and v > maximum):
        upper = f" and at most {maximum:,}" if maximum is not None else ""
        raise InvalidOptionError(f"{option} must be at least {minimum}{upper}, got {v:,}")
    return v


def real(value: Any, option: str, *, positive: bool = False) -> float:
    """A finite real number (positive when asked)."""
    if not is_real(value):
        raise InvalidOptionError(f"{option} must be a number, got {shown(value)}")
    v = float(value)
    if not math.isfinite(v) or (positive and not v > 0):
        what = "positive and finite" if positive else "finite"
        raise InvalidOptionError(f"{option} must be {what}, got {v}")
    return v


def reals(value: Any, option: str) -> np.ndarray:
    """Numbers as a 1-D float64 array: one number, or a flat sequence or array of numbers.
    Their values are checked by whoever takes them."""
    if isinstance(value, np.ndarray):
        if value.ndim <= 1 and value.dtype.kind in "iuf":
            return np.atleast_1d(value.astype(np.float64))
    elif is_real(value):
        return np.array([float(value)])
    elif isinstance(value, (list, tuple)) or type(value).__name__ in ("Series", "Index"):
        items = list(value)
        if all(is_real(v) for v in items):
            return np.asarray([float(v) for v in items], dtype=np.float64)
    raise InvalidOptionError(f"{option} must be a number or a list of numbers, got {shown(value)}")
