"""Corrupted saved fits: every one is an InvalidDataError at load time, or loads into a fit that
works (summary, predict, round trip, bootstrap intervals), never a later failure, a bare
RecursionError/ValueError/KeyError or a crash.

Two saved documents (a built-in law with a bootstrap, a written law with weights) are corrupted
field by field (deleted, set to None, a string, "NaN", huge and negative numbers, booleans,
containers, three values for five parameters, a list one too short or long, nesting far past
any parser's stack) and as text (truncated, junk appended, non-JSON constants). Each file is
loaded in a child interpreter (``fuzz_child``), so a crash fails the test naming the file. The
enumerated corruptions run in every profile; the hypothesis test stacks random corruptions
(derandomized in the default ``fast`` profile, fresh draws with ``HYPOTHESIS_PROFILE=thorough``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import powerfit as pf
from fuzz_child import Child

#: Runs in the child: load, then use the fit the way a user would. A refusal at load is an
#: InvalidDataError; anything else raised at load, or raised after a successful load, is a
#: failure the parent reports.
CHECK = """
def CHECK(path):
    try:
        r = pf.load(path)
    except pf.InvalidDataError:
        return "refused"
    stage = "summary"
    try:
        r.summary()
        repr(r)
        stage = "predict"
        r.predict(**{v: [1e9, 2e9] for v in r.variables})
        stage = "round trip"
        pf.FitResult.from_dict(r.to_dict())
        if r.boot is not None:
            stage = "bootstrap intervals"
            r.boot.ci()
    except Exception as exc:
        raise RuntimeError(f"loaded, then {stage} failed: {type(exc).__name__}: {exc}") from exc
    if {"N", "D"} <= set(r.variables):
        try:
            r.compute_optimal([1e21])
        except pf.PowerfitError:
            pass
    return "loaded"
"""

#: Values written in place of a field.
REPLACEMENTS: dict[str, Any] = {
    "None": None,
    "string": "x",
    "NaN string": "NaN",
    "huge": 1e308,
    "huge int": 10**400,
    "negative": -1,
    "zero": 0,
    "true": True,
    "empty list": [],
    "empty dict": {},
    "three numbers": [1.0, 2.0, 3.0],
    "nested": [[1.0, [2.0]], {"a": None}],
}

#: Nesting depth of the "deep" corruption: far past Python's recursion limit.
DEEP = 100_000


def _documents() -> dict[str, dict[str, Any]]:
    df = pf.datasets.chinchilla().iloc[::4].reset_index(drop=True)
    res = pf.fit(df, law="chinchilla", warn=False)
    res.bootstrap(n_boot=6, seed=0)
    x = np.geomspace(1e6, 1e9, 12)
    law = pf.Law("E + A*N^-alpha", variables=["N"])
    written = pf.fit(
        {"N": x, "loss": 2 + 30 * x**-0.3}, law=law, weights=np.linspace(1, 2, 12), warn=False
    )
    return {"chinchilla": res.to_dict(), "written": written.to_dict()}


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field and the first and last element of every list."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list) and doc:
        for i in sorted({0, len(doc) - 1}):
            yield (*prefix, i)
            yield from _paths(doc[i], (*prefix, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    out = json.loads(json.dumps(doc))
    parent = out
    for p in path[:-1]:
        parent = parent[p]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _corrupted(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(description, file text) for every enumerated corruption of ``doc``."""
    text = json.dumps(doc)
    for path in _paths(doc):
        where = "/".join(map(str, path))
        if isinstance(path[-1], str):
            yield f"{where} deleted", json.dumps(_set(doc, path, None, delete=True))
        for name, value in REPLACEMENTS.items():
            yield f"{where} = {name}", json.dumps(_set(doc, path, value))
        node: Any = doc
        for p in path:
            node = node[p]
        if isinstance(node, list) and node:
            yield f"{where} one short", json.dumps(_set(doc, path, node[:-1]))
            yield f"{where} one long", json.dumps(_set(doc, path, [*node, node[-1]]))
        yield f"{where} nested {DEEP} deep", _with_raw(doc, path, "[" * DEEP + "]" * DEEP)
    for frac in (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        yield f"truncated at {frac:.0%}", text[: int(len(text) * frac)]
    yield "junk appended", text + "}{"
    yield "not JSON", "\x00\xff binary"
    yield "NaN constants", text.replace("0.0", "NaN", 3)
    yield "Infinity constants", text.replace("1.0", "Infinity", 3)
    yield "a list", "[" + text + "]"
    yield "a number", "1e999"


def _with_raw(doc: dict[str, Any], path: tuple[Any, ...], raw: str) -> str:
    """The document's text with the field at ``path`` replaced by the raw JSON ``raw``."""
    marker = "__POWERFIT_FUZZ_MARKER__"
    return json.dumps(_set(doc, path, marker)).replace(f'"{marker}"', raw, 1)


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return _documents()


@pytest.fixture(scope="module")
def child() -> Iterator[Child]:
    with Child(CHECK) as c:
        yield c


def _check(child: Child, folder: Path, name: str, text: str) -> str | None:
    """None when the file is refused with InvalidDataError or loads into a working fit; else
    what went wrong."""
    path = folder / "case.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    out = child.run(f"CHECK({os.fspath(path)!r})")
    if out.kind == "ok":
        return None
    return f"{name}: {out}"


@pytest.mark.parametrize("which", ["chinchilla", "written"])
def test_every_corrupted_file_is_refused_at_load_or_works(
    child: Child, documents: dict[str, dict[str, Any]], tmp_path: Path, which: str
) -> None:
    failures = []
    tried = 0
    for name, text in _corrupted(documents[which]):
        tried += 1
        problem = _check(child, tmp_path, name, text)
        if problem:
            failures.append(problem)
    assert tried > 500
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} of {tried} failed)"


def test_the_intact_documents_load(
    child: Child, documents: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name, doc in documents.items():
        (tmp_path / "ok.json").write_text(json.dumps(doc))
        out = child.run(f"CHECK({os.fspath(tmp_path / 'ok.json')!r})")
        assert out.kind == "ok" and out.value == "'loaded'", (name, out)


@st.composite
def _stacked(draw: st.DrawFn, doc: dict[str, Any]) -> tuple[str, str]:
    paths = list(_paths(doc))
    out, names = doc, []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        name = draw(st.sampled_from(sorted(REPLACEMENTS)))
        try:
            out = _set(out, path, REPLACEMENTS[name])
        except (KeyError, IndexError, TypeError):  # an earlier corruption removed the path
            continue
        names.append(f"{'/'.join(map(str, path))} = {name}")
    return "; ".join(names), json.dumps(out)


@pytest.fixture(scope="module")
def stacked_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stacked")


_DOC = _documents()["chinchilla"]


@given(case=_stacked(_DOC))
def test_stacked_corruptions_are_refused_at_load_or_work(
    child: Child, stacked_folder: Path, case: tuple[str, str]
) -> None:
    problem = _check(child, stacked_folder, *case)
    assert problem is None, problem
