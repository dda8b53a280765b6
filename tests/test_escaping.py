"""Markup injected through every string a user gives (column names, group keys, a law's name, the
input file's name, image names, titles, the report's own file name) comes out as text in every
format powerfit writes: the HTML report (text and attributes), the Markdown report (and the
files it writes beside itself), notebook HTML, figures (no mathtext) and the terminal."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit import _markup, html

pytest.importorskip("matplotlib")

#: Markup that would run or restructure a page if it got through (no "/": it is a file name too).
TAG = "<img src=x onerror=alert(1)>"
#: Breaks out of a double-quoted attribute.
ATTR = '"><b onmouseover="alert(2)'
#: Markdown and mathtext punctuation.
PUNCT = "|*_`$[x](y)"
ESCAPED_TAG = "&lt;img src=x onerror=alert(1)&gt;"


def raw_markup(text: str) -> list[str]:
    return [s for s in (TAG, ATTR, "<b onmouseover", "onerror=alert(1)>") if s in text]


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> tuple[pf.FitResult, Path]:
    folder = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(0)
    N = np.geomspace(1e7, 1e10, 24)
    df = pd.DataFrame(
        {
            TAG + "N": N,
            ATTR + PUNCT: (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.01, N.size)),
        }
    )
    path = folder / f"{TAG}.csv"
    df.to_csv(path, index=False)
    law = pf.Law("c + a*x^-b", variables="x", p0={"c": 1, "a": 40, "b": 0.3}, name=TAG)
    res = pf.fit(path, law=law, loss="huber_log", columns={"x": TAG + "N", "loss": ATTR + PUNCT})
    res.bootstrap(40, seed=0, progress=False)
    return res, path


def test_html_report(evil, tmp_path):
    res, _ = evil
    fig = res.plot()
    images = {TAG: fig, ATTR: fig, "../../outside": fig}
    text = res.report(tmp_path / "r.html", title=TAG + ATTR, images=images).read_text()
    assert raw_markup(text) == []
    assert ESCAPED_TAG in text  # shown, not dropped
    assert "&quot;&gt;&lt;b onmouseover=&quot;alert(2)" in text
    # attributes: every figure id is a safe slug, every alt text escaped
    ids = re.findall(r'<figure id="([^"]*)"', text)
    assert len(ids) == 3 and all(re.fullmatch(r"fig-[A-Za-z0-9_-]+", i) for i in ids)
    assert len(set(ids)) == 3
    alts = re.findall(r'<img alt="([^"]*)"', text)
    assert all("<" not in a and '"' not in a for a in alts)
    assert "<script" not in text.lower()
    # the MathML of the law's formula and the alttext of every formula are escaped
    assert all("<" not in a for a in re.findall(r'alttext="([^"]*)"', text))


def test_markdown_report_and_its_files(evil, tmp_path):
    res, _ = evil
    fig = res.plot()
    images = {TAG: fig, "../../outside": fig, "a/b\\c": fig}
    out = tmp_path / "<b>r.md"
    text = res.report(out, title=TAG, images=images).read_text()
    assert raw_markup(text) == []
    assert ESCAPED_TAG in text
    # the law's name and the columns, in table cells: pipes cannot open a new cell
    assert "\\|\\*\\_\\`$\\[x\\](y)" in text
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 3
    assert all(link.startswith("%3Cb%3Er_files/") for link in links), links
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert len(written) == 3 and all(w.startswith("<b>r_files/") for w in written), written
    assert all(re.fullmatch(r"<b>r_files/[A-Za-z0-9_-]+\.png", w) for w in written)
    embedded = res.report(tmp_path / "e.md", images={TAG: fig}, embed_images=True).read_text()
    assert raw_markup(embedded) == []


def test_notebook_html(evil):
    res, _ = evil
    for out in (res._repr_html_(), res.boot._repr_html_()):
        assert raw_markup(out) == [] and "&lt;img" in out


def test_group_keys(tmp_path):
    rows = []
    for cfg in (TAG, ATTR + PUNCT):
        for c in (1e18, 1e19, 1e20):
            for n in np.geomspace(1e7, 1e9, 7):
                d = c / (6 * n)
                rows.append((cfg, c, n, 1.7 + 400 * n**-0.34 + 2000 * d**-0.28))
    df = pd.DataFrame(rows, columns=["cfg " + TAG, "C", "N", "loss"])
    iso = pf.isoflop(df, by="cfg " + TAG, n_boot=10, progress=False)
    assert raw_markup(iso._repr_html_()) == []
    fig = iso.plot()
    fig.canvas.draw()  # "$" in a key is a dollar sign, not mathtext
    titles = " ".join(a.get_title() for a in fig.axes)
    assert "\\$" in titles
    one = iso.plot(group=1)
    one.canvas.draw()


def test_figures_show_user_strings_literally(evil):
    res, _ = evil
    for fig in (res.plot(), res.plot_residuals(), res.boot.plot()):
        fig.canvas.draw()
    ax = res.plot().axes[0]
    assert "\\$" in ax.get_ylabel() and ax.get_ylabel().count("$") == ax.get_ylabel().count("\\$")


def test_terminal_text_shows_control_characters(tmp_path):
    rng = np.random.default_rng(1)
    N = np.geomspace(1e7, 1e10, 24)
    df = pd.DataFrame(
        {"N": N, "loss\x1b[2J\x07": (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.01, 24))}
    )
    law = pf.Law("c + a*x^-b", variables="x", p0={"c": 1, "a": 40, "b": 0.3}, name="l\x1b[31m")
    res = pf.fit(df, law=law, columns={"x": "N", "loss": "loss\x1b[2J\x07"})
    text = res.summary() + html.format_params(res)
    assert "\x1b" not in text and "\\x1b" in text
    assert _markup.terminal("a\tb\nc\x1bd") == "a\tb\nc\\x1bd"


def test_input_file_name_in_provenance(evil, tmp_path):
    res, path = evil
    prov = res.provenance
    assert prov["source"] == str(path)
    text = res.report(tmp_path / "p.html", plots=False).read_text()
    assert str(path) not in text and ESCAPED_TAG + ".csv" in text


def test_markup_helpers():
    assert _markup.slug("../../x") == "x" and _markup.slug("") == "figure"
    used: set[str] = set()
    assert [_markup.slug("a b", used) for _ in range(3)] == ["a-b", "a-b-2", "a-b-3"]
    assert _markup.code_span("a`b") == "``a`b``"
    assert _markup.plot_text("$5 $x$") == "\\$5 \\$x\\$"
    assert _markup.markdown("a|b\nc") == "a\\|b c"
