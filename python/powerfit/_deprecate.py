"""Old option names that keep working for one release.

:func:`renamed` wraps a public function so that a call with an old keyword (``n=``) runs as the
new one (``n_boot=``) after a :class:`~powerfit.errors.PowerfitDeprecationWarning` that names the
replacement. A target written ``"columns:loss"`` moves the value into the ``columns`` mapping
under the key ``loss`` (the old per-column arguments such as ``size="params"``). Positional
arguments beyond the new signature's positional parameters are named by ``positional`` (the old
order) and handled the same way, so old positional calls keep working too. Signatures, help and
type checkers see only the new names (``inspect.signature`` follows ``__wrapped__``).

:class:`renamed_attribute` does the same for a renamed attribute.

The table of every old name and its replacement is docs/glossary.md; tests hold the two to each
other through :data:`REGISTRY`.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from .errors import InvalidOptionError, PowerfitDeprecationWarning

#: The release that removes the old names.
REMOVED_IN = "0.3"

#: Every renamed option: "function" -> {old name: new name or "mapping:key"}.
REGISTRY: dict[str, dict[str, str]] = {}

P = ParamSpec("P")
R = TypeVar("R")

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def warn(message: str, stacklevel: int = 2) -> None:
    """Emit a deprecation warning; ``stacklevel`` as for :func:`warnings.warn`, counted from
    the function that calls this one (2: that function's caller)."""
    warnings.warn(
        f"{message} (the old name is removed in powerfit {REMOVED_IN})",
        PowerfitDeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def _hint(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float, bool)) else "..."


def renamed(
    renames: Mapping[str, str], *, positional: Sequence[str] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: accept the old keyword names in ``renames`` (old -> new, or old ->
    ``"mapping:key"``) and the old positional slots ``positional``, warning once per old name.

    Passing an old name together with its new one is an :class:`InvalidOptionError`.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        slots = [n for n, p in sig.parameters.items() if p.kind in _POSITIONAL]
        where = func.__qualname__
        REGISTRY[f"{func.__module__}.{where}"] = dict(renames)

        def conflict(old: str, new: str) -> InvalidOptionError:
            return InvalidOptionError(
                f"{where}() got both {new}= and its old name {old}=; pass only {new}="
            )

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > len(slots) and positional:
                extra = args[len(slots) :]
                if len(extra) > len(positional):
                    raise InvalidOptionError(
                        f"{where}() takes at most {len(slots) + len(positional)} positional "
                        f"arguments, got {len(args)}"
                    )
                args = args[: len(slots)]
                for name, value in zip(positional, extra):
                    if name in kwargs:
                        raise InvalidOptionError(f"{where}() got two values for {name}=")
                    kwargs[name] = value
                    if name not in renames:
                        warn(f"{where}(): pass {name}= by keyword, not by position", 2)
            for old in [k for k in kwargs if k in renames]:
                value = kwargs.pop(old)
                new, _, key = renames[old].partition(":")
                if key:
                    mapping = dict(kwargs.get(new) or {})
                    if key in mapping:
                        raise conflict(old, f"{new}={{{key!r}: ...}}")
                    mapping[key] = value
                    kwargs[new] = mapping
                    use = f"{new}={{{key!r}: {_hint(value)}}}"
                else:
                    if new in kwargs or (new in slots and slots.index(new) < len(args)):
                        raise conflict(old, new)
                    kwargs[new] = value
                    use = f"{new}={_hint(value)}"
                warn(f"{where}(): {old}= is deprecated; use {use}", 2)
            return func(*args, **kwargs)

        return wrapper

    return decorate


class renamed_attribute:
    """A read-only attribute kept under its old name: reading it warns and returns the new
    attribute's value."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.old = ""
        self.owner = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.old, self.owner = name, owner.__name__
        REGISTRY.setdefault(f"{owner.__module__}.{owner.__name__}", {})[f".{name}"] = f".{self.new}"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        warn(f"{self.owner}.{self.old} is deprecated; use .{self.new}", 2)
        return getattr(obj, self.new)


__all__ = ["REGISTRY", "REMOVED_IN", "renamed", "renamed_attribute", "warn"]
