"""Written laws from hostile text: ``pf.Law(text)`` and a fit with it either work or raise a
PowerfitError, never a crash, a hang or a bare exception.

The strings are drawn by hypothesis from the law language's own tokens (names, numbers,
operators, functions, parentheses), with deep nesting, huge and tiny literals and stray
characters mixed in, and run in a child interpreter (``fuzz_child``) so that a crash (stack
overflow, abort) fails the test naming the text. Derandomized in the default ``fast`` profile;
``HYPOTHESIS_PROFILE=thorough`` draws fresh examples.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_child import Child

SETUP = """
X = np.geomspace(1e6, 1e10, 25)
Y = 2 + 30 * X ** -0.3

def TRY(text):
    law = pf.Law(text, variables=["N"])
    try:
        return pf.fit({"N": X, "loss": Y}, law=law, warn=False, max_iter=50).success
    except pf.PowerfitError:
        return "refused at fit"
"""

TOKENS = [
    "N", "E", "A", "alpha", "beta", "x1", "_p", "1", "0", "2.5", "1e308", "1e-320", "-",
    "+", "*", "/", "^", "**", "(", ")", ",", "exp(", "log(", "sqrt(", "max(", "min(", "abs(",
    "tanh(", " ", "nan", "inf", "1e999", "é", "'", ";", "[", "]", "__import__(", "!", ".",
]  # fmt: skip


@st.composite
def law_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["tokens", "nested", "chars"]))
    if kind == "tokens":
        return "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30)))
    if kind == "nested":
        depth = draw(st.integers(150, 5000))
        opener = draw(st.sampled_from(["(", "exp(", "-", "N^"]))
        closer = ")" if opener.endswith("(") else ""
        return f"E + {opener * depth}A*N{closer * depth}"
    return draw(st.text(min_size=1, max_size=40))


@pytest.fixture(scope="module")
def child() -> Iterator[Child]:
    with Child(SETUP) as c:
        yield c


@given(text=law_text())
def test_a_written_law_from_any_text_works_or_is_refused(child: Child, text: str) -> None:
    out = child.run(f"TRY({text!r})", timeout=120)
    assert out.clean, f"pf.Law({text!r}): {out}"


def test_the_nesting_limit_is_stated_and_does_not_crash(child: Child) -> None:
    out = child.run("TRY('E + ' + '(' * 100000 + 'A*N' + ')' * 100000)")
    assert out.kind == "error" and out.powerfit, out
    assert "at most 200" in out.message, out.message
