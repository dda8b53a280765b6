"""Run powerfit calls in a child interpreter, so that a crash (an abort, a segfault, memory
exhausted) or a hang is a test failure naming the call instead of a dead test run.

The parent (:class:`Child`) keeps one child alive and sends it cases: a snippet of Python
source written by the tests (never user input) evaluated in a namespace that holds ``pf``,
``np``, ``pd`` and the fixtures the tests set up once per child. The child answers each case
with one JSON line: the value's repr when the call returned, else the exception's type, whether
it is a :class:`powerfit.PowerfitError` and its message. When the child dies or takes longer
than the case's timeout, the parent reports ``crash`` (with the signal and the end of the
child's stderr) or ``hang``, and starts a fresh child for the next case.

The child's address space is capped (``resource.setrlimit``), so an allocation far beyond what
the machine can give fails inside the child instead of swapping the machine to a halt.

Run directly (``python tests/fuzz_child.py``), this file is the child.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

#: Address-space cap of the child (bytes): far above what any case here needs (the interpreter
#: with numpy, pandas and the thread pool maps well under 2 GB), far below what a runaway
#: allocation asks for.
MEMORY_CAP = int(os.environ.get("POWERFIT_FUZZ_MEMORY_CAP", 6 * 2**30))

#: Seconds a case may take: generous, for a machine whose cores are busy.
CASE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Outcome:
    """What a case did: ``ok`` (returned; ``value`` is its repr), ``error`` (raised
    ``exc_type``; ``powerfit`` when it is a PowerfitError), ``crash`` or ``hang``."""

    kind: str
    exc_type: str = ""
    powerfit: bool = False
    message: str = ""
    value: str = ""
    bases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        """Returned, or raised a PowerfitError."""
        return self.kind == "ok" or (self.kind == "error" and self.powerfit)

    def __str__(self) -> str:
        if self.kind == "ok":
            return f"returned {self.value[:200]}"
        if self.kind == "error":
            return f"{self.exc_type}: {self.message}"
        return f"{self.kind}: {self.message}"


class Child:
    """A child interpreter that runs cases; restarted after a crash or a hang."""

    def __init__(self, setup: str = "", *, memory_cap: int = MEMORY_CAP) -> None:
        self.setup = setup
        self.memory_cap = memory_cap
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: tempfile.TemporaryDirectory[str] | None = None
        self.stderr_file: Any = None
        self.buffer = b""

    # --- process management ---------------------------------------------------------------
    def _start(self) -> None:
        # lives as long as the child (closed in close())
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
        # the cases run in a scratch folder: a call given a file name writes nothing here
        self.workdir = tempfile.TemporaryDirectory(prefix="powerfit-fuzz-")
        env = dict(os.environ, POWERFIT_FUZZ_MEMORY_CAP=str(self.memory_cap))
        env.setdefault("RAYON_NUM_THREADS", "2")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=env,
            cwd=self.workdir.name,
        )
        self.buffer = b""
        ready = self._send({"setup": self.setup}, CASE_TIMEOUT)
        if ready.kind != "ok":
            raise RuntimeError(f"the fuzz child did not start: {ready}")

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                if f is not None:
                    f.close()
            self.proc = None
        if self.stderr_file is not None:
            self.stderr_file.close()
            self.stderr_file = None
        if self.workdir is not None:
            self.workdir.cleanup()
            self.workdir = None

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stderr_tail(self) -> str:
        if self.stderr_file is None:
            return ""
        self.stderr_file.seek(0)
        text = self.stderr_file.read().decode("utf-8", "replace")
        return " | ".join(text.strip().splitlines()[-3:])

    def _readline(self, timeout: float) -> bytes | None:
        """One line from the child; b"" when the child closed its output (it died), None
        after ``timeout`` seconds without a line."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def _send(self, msg: dict[str, Any], timeout: float) -> Outcome:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._readline(timeout)
        if not line:
            hung = line is None
            if hung:
                self.proc.kill()
            code = self.proc.wait()
            tail = self._stderr_tail()
            self.close()
            if hung:
                return Outcome("hang", message=f"no answer within {timeout:.0f} s; {tail}")
            sig = -code if code < 0 else 0
            what = signal.Signals(sig).name if sig else f"exit code {code}"
            return Outcome("crash", message=f"{what}; {tail}")
        d = json.loads(line)
        return Outcome(
            d["kind"],
            d.get("type", ""),
            d.get("powerfit", False),
            d.get("message", ""),
            d.get("value", ""),
            tuple(d.get("bases", ())),
        )

    # --- the API --------------------------------------------------------------------------
    def run(self, code: str, *, timeout: float = CASE_TIMEOUT) -> Outcome:
        """Runs ``code`` (statements; the value of a last expression is reported) in the
        child."""
        if self.proc is None:
            self._start()
        return self._send({"code": code}, timeout)


# --- the child side ----------------------------------------------------------------------------
def _answer(out: Any, d: dict[str, Any]) -> None:
    out.write(json.dumps(d) + "\n")
    out.flush()


def _serve() -> None:  # pragma: no cover - runs in the child
    import ast
    import resource
    import warnings

    cap = int(os.environ.get("POWERFIT_FUZZ_MEMORY_CAP", MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    warnings.simplefilter("ignore")
    # answers go to the real stdout; anything the calls print goes to stderr
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    import numpy as np
    import pandas as pd

    import powerfit as pf

    ns: dict[str, Any] = {"pf": pf, "np": np, "pd": pd}
    for line in sys.stdin:
        msg = json.loads(line)
        if "setup" in msg:
            exec(msg["setup"], ns)
            _answer(out, {"kind": "ok"})
            continue
        tree = ast.parse(msg["code"])
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        try:
            exec(compile(tree, "<case>", "exec"), ns)
            value = None
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<case>", "eval"), ns)
            try:
                shown = repr(value)
            except Exception as exc:  # a result whose repr fails is a failure of the call
                raise RuntimeError(f"repr() of the result failed: {exc!r}") from exc
            _answer(out, {"kind": "ok", "value": shown[:500]})
        except BaseException as exc:  # everything is reported to the parent
            _answer(
                out,
                {
                    "kind": "error",
                    "type": type(exc).__name__,
                    "powerfit": isinstance(exc, pf.PowerfitError),
                    "message": " ".join(str(exc).split())[:1000],
                    "bases": [c.__name__ for c in type(exc).__mro__],
                },
            )


if __name__ == "__main__":  # pragma: no cover
    _serve()
