"""Progress bars for long native runs: the core reports a count of finished items through a
callback, which this turns into a bar.

Where the bar goes:

- in a Jupyter kernel with ipywidgets installed: tqdm's widget bar (``tqdm.notebook``);
- in a terminal, or a kernel without ipywidgets: tqdm's text bar on stderr;
- without tqdm: a one-line text counter on stderr, rewritten in place.

The choice is made here rather than by ``tqdm.auto``, which warns ("IProgress not found") in a
kernel without ipywidgets; no path here emits a warning. By default (``enabled=None``) a bar is
shown when stderr is a terminal or the code runs in a Jupyter kernel, and never in scripts
whose output is redirected, in tests or in the command line's piped output; tqdm's
``TQDM_DISABLE=1`` turns the default off.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ._check import optional_flag

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

#: Seconds between two redraws of the plain text counter.
_TEXT_INTERVAL = 0.2


def in_kernel() -> bool:
    """Whether the code runs in a Jupyter kernel that shows rich output (notebook, JupyterLab,
    VS Code, Colab), not in a terminal IPython, a qtconsole or Spyder."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "kernel"):
        return False
    name = type(shell).__name__.lower()
    if "qt" in name or "spyder" in name:
        return False
    return not any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class _TextBar:
    """A counter on one line of a stream, for when tqdm is not installed."""

    def __init__(self, total: int, desc: str, unit: str, stream: TextIO) -> None:
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.n = 0
        self._last = 0.0
        self._width = 0

    def update(self, k: int) -> None:
        self.n += k
        now = time.monotonic()
        if now - self._last >= _TEXT_INTERVAL or self.n >= self.total:
            self._last = now
            self._draw(
                f"{self.desc}: {self.n}/{self.total} {self.unit} "
                f"({100.0 * self.n / self.total:.0f}%)"
            )

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def make_bar(total: int, desc: str, unit: str) -> Any:
    """A bar object with ``update(k)`` and ``close()``, the best this environment can show."""
    stream = sys.stderr
    if not _has("tqdm"):
        return _TextBar(total, desc, unit, stream)
    from tqdm.std import TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        if in_kernel() and _has("ipywidgets"):
            try:
                from tqdm.notebook import tqdm as notebook_bar

                return notebook_bar(total=total, desc=desc, unit=unit, leave=False)
            except ImportError:  # widgets too old for tqdm: fall back to text
                pass
        from tqdm.std import tqdm as text_bar

        return text_bar(
            total=total, desc=desc, unit=unit, leave=False, file=stream, dynamic_ncols=True
        )


class Progress:
    """A progress bar over ``total`` items, as a context manager.

    Shown when ``enabled`` is True or, when it is None, when stderr is a terminal or the code
    runs in a Jupyter kernel; never when ``enabled`` is False or there is nothing to do.
    ``callback`` is what the native run polls with the number of items done, or None when
    there is no bar. The bar exists only inside the ``with`` block, so it is always closed,
    even when the run fails.
    """

    def __init__(self, total: int, enabled: bool | None, desc: str, unit: str) -> None:
        enabled = optional_flag(enabled, "progress")
        self._bar: Any = None
        self._done = 0
        self._args = (int(total), desc, unit)
        self._show = (
            enabled is not False
            and total > 0
            and (
                enabled is True or not (_env_disabled() or not (_isatty(sys.stderr) or in_kernel()))
            )
        )

    @property
    def callback(self) -> Callable[[int], None] | None:
        """The function to pass to the native call, or None."""
        return self._tick if self._show else None

    def _tick(self, done: int) -> None:
        if self._bar is not None and done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def __enter__(self) -> Self:
        if self._show:
            self._bar = make_bar(*self._args)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _env_disabled() -> bool:
    """tqdm's own switch, ``TQDM_DISABLE=1``, turns the default bars off."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
