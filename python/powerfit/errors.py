"""Exceptions and warnings raised by powerfit.

Every error is a :class:`PowerfitError`, itself a :class:`ValueError`, so callers that already
catch ``ValueError`` keep working.
"""

from __future__ import annotations

from ._core import InvalidDataError, InvalidLawError, InvalidOptionError, PowerfitError


class PowerfitWarning(UserWarning):
    """The data cannot fully support the fit (short range, unidentifiable parameters, ...)."""


class PowerfitDeprecationWarning(FutureWarning):
    """An old option name or attribute that still works for one release; the message names its
    replacement. A FutureWarning, not a DeprecationWarning, so that Python shows it by default
    wherever the call is written (scripts, notebooks and the user's own modules alike)."""


__all__ = [
    "PowerfitError",
    "InvalidDataError",
    "InvalidLawError",
    "InvalidOptionError",
    "PowerfitWarning",
    "PowerfitDeprecationWarning",
]
