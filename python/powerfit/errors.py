"""Exceptions and warnings raised by powerfit.

Every error is a :class:`PowerfitError`, itself a :class:`ValueError`, so callers that already
catch ``ValueError`` keep working.
"""

from __future__ import annotations

from ._core import InvalidDataError, InvalidLawError, InvalidOptionError, PowerfitError


class PowerfitWarning(UserWarning):
    """The data cannot fully support the fit (short range, unidentifiable parameters, ...)."""


__all__ = [
    "PowerfitError",
    "InvalidDataError",
    "InvalidLawError",
    "InvalidOptionError",
    "PowerfitWarning",
]
