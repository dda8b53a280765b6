"""Exceptions and warnings raised by powerfit.

Every error is a :class:`PowerfitError`, itself a :class:`ValueError`, so callers that already
catch ``ValueError`` keep working.
"""

from __future__ import annotations

import inspect
import os
import warnings

from ._core import InvalidDataError, InvalidLawError, InvalidOptionError, PowerfitError


class PowerfitWarning(UserWarning):
    """The data cannot fully support the fit (short range, unidentifiable parameters, ...)."""


class PowerfitDeprecationWarning(FutureWarning):
    """An old option name or attribute that still works for one release; the message names its
    replacement. A FutureWarning, not a DeprecationWarning, so that Python shows it by default
    wherever the call is written (scripts, notebooks and the user's own modules alike)."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = PowerfitWarning) -> None:
    """Issue a warning attributed to the first caller outside powerfit, however deep inside
    the package (wrappers, facades, helpers) it is raised, so the filter and the line shown
    are the user's."""
    here = inspect.currentframe()
    level, frame = 2, here.f_back if here is not None else None
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


__all__ = [
    "PowerfitError",
    "InvalidDataError",
    "InvalidLawError",
    "InvalidOptionError",
    "PowerfitWarning",
    "PowerfitDeprecationWarning",
]
