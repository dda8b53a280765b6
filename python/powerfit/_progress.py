"""Progress bars for long native runs: the core reports a count of finished items through a
callback, which this turns into tqdm updates."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Progress:
    """A tqdm bar over ``total`` items, shown when ``enabled`` is True or, when it is None,
    when stderr is a terminal (and tqdm is installed). ``callback`` is what the native run
    polls with the number of items done, or None when there is no bar."""

    def __init__(self, total: int, enabled: bool | None, desc: str, unit: str) -> None:
        self._bar: Any = None
        self._done = 0
        if enabled is False or total == 0 or (enabled is None and not sys.stderr.isatty()):
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit=unit, desc=desc, leave=False)

    @property
    def callback(self) -> Callable[[int], None] | None:
        """The function to pass to the native call, or None."""
        return self._tick if self._bar is not None else None

    def _tick(self, done: int) -> None:
        if done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
