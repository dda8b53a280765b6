"""Ctrl-C in a child interpreter: the behaviour tests of every long native call share this.

The child prints ``ready`` just before the long call, inside the ``try`` that catches
KeyboardInterrupt, so a signal that lands before the native code starts is caught the same way.
After the interrupt the child fits a small problem to show the interpreter is still usable.

Latency is measured by ``make bench`` on an idle machine; the bound here only has to tell
"stopped" from "ran to the end" on a machine whose cores are busy with other work.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

#: Seconds between SIGINT and the child's report: generous, for a loaded machine.
STOP_BOUND = 30.0

_TEMPLATE = """
import sys
import powerfit as pf
{setup}
try:
    print("ready", flush=True)
    {call}
except KeyboardInterrupt:
    print("interrupted", flush=True)
    after = pf.fit(law="power", x=[1.0, 10.0, 100.0, 1000.0], y=[3.0, 2.0, 1.6, 1.4], warn=False)
    print("usable" if after.success else "broken", flush=True)
    sys.exit(0)
print("finished", flush=True)
"""


def interrupt_child(setup: str, call: str, *, delay: float = 1.0) -> tuple[list[str], float]:
    """Runs ``setup`` then ``call`` in a child, sends SIGINT ``delay`` s after it is ready, and
    returns the lines it printed and the seconds from the signal to its exit."""
    script = _TEMPLATE.format(setup=textwrap.dedent(setup), call=call)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first == "ready", first
        time.sleep(delay)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=STOP_BOUND + 60)
        elapsed = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    return out.split(), elapsed


def assert_interrupted(setup: str, call: str, *, delay: float = 1.0) -> None:
    """The call stops on Ctrl-C with KeyboardInterrupt and leaves a usable interpreter."""
    lines, elapsed = interrupt_child(setup, call, delay=delay)
    assert lines[:2] == ["interrupted", "usable"], lines
    assert elapsed < STOP_BOUND, f"the child took {elapsed:.1f} s to stop"
