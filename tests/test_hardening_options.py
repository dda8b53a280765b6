"""Every bad argument is a PowerfitError naming the option, never a raw TypeError, a crash or a
hang.

Each public function (``hostile.TARGETS``) is called with each of its arguments replaced in turn
by each hostile value (``hostile.VALUES``: None, strings, NaN, infinities, negative and huge
numbers, booleans, containers, callables, complex numbers, objects, arrays). The calls run in a
child interpreter (``fuzz_child``), so a crash fails the test naming the call. Every call must
return or raise a :class:`powerfit.PowerfitError`; an :class:`~powerfit.InvalidOptionError`
must name the option it refuses.

The default (``fast``) profile tries a representative subset of the values on every argument;
``HYPOTHESIS_PROFILE=thorough`` tries all of them. The hypothesis fuzz of option values is in
``test_fuzz_options.py``.
"""

from __future__ import annotations

import os

import pytest

import hostile
from fuzz_child import Child

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"

#: The values tried in the default profile: one of each kind.
FAST_VALUES = (
    "None", "str", "nan", "inf", "-1", "2**64", "2**1000", "1e30", "True", "list",
    "nested list", "dict", "callable", "complex", "object", "2-d array", "string array",
)  # fmt: skip

#: InvalidOptionErrors whose message may name what to change by another word than the
#: option's name: (target, argument) -> that word.
NAMED_OTHERWISE = {
    ("compare_approaches", "budgets"): "budget",
    ("compare_laws", "laws"): "law",
    ("select_law", "laws"): "law",
    ("inference_optimal", "target_loss"): "loss",
    ("fit_groups", "bootstrap"): "bootstrap",
    ("diagnose", "n_boot"): "bootstrap",
    ("rollout", "x"): "by",
    ("flops_per_token", "shape"): "field",
    ("read_runs", "config"): "format",
}


def _values() -> dict[str, str]:
    if THOROUGH:
        return hostile.VALUES
    return {k: hostile.VALUES[k] for k in FAST_VALUES}


@pytest.fixture(scope="module")
def child() -> Child:
    with Child(hostile.SETUP) as c:
        yield c


@pytest.mark.parametrize("target", hostile.TARGETS, ids=lambda t: t.name)
def test_every_bad_argument_is_a_powerfit_error_naming_the_option(
    child: Child, target: hostile.Target
) -> None:
    failures = []
    # a string where a path is taken names a file that does not exist: FileNotFoundError, as
    # for open()
    for arg in target.attack:
        for vname, value in _values().items():
            out = child.run(target.code(arg, value))
            where = f"{target.code(arg, value)}"
            missing_file = out.exc_type == "FileNotFoundError" and "str" in vname
            if not (out.clean or missing_file):
                failures.append(f"{where}: {out}")
            elif out.kind == "error" and out.exc_type == "InvalidOptionError":
                words = [arg, NAMED_OTHERWISE.get((target.name, arg), arg)]
                if not any(hostile.message_names(w, out.message) for w in words):
                    failures.append(f"{where}: the message does not name '{arg}': {out}")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"


def test_a_crash_in_the_child_is_reported_not_swallowed() -> None:
    with Child("") as c:
        out = c.run("import os, signal; os.kill(os.getpid(), signal.SIGABRT)")
        assert out.kind == "crash" and "SIGABRT" in out.message, out
        assert c.run("1 + 1").value == "2"  # a fresh child took over
