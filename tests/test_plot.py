"""Plots and reports.

Each plotting method returns a matplotlib Figure (Agg canvas, no pyplot); the tests write PNGs
and check that they are non-empty images of the expected pixel size, and that the HTML report
holds the tables and the embedded images.
"""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import powerfit as pf
from powerfit import plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == PNG_MAGIC, "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_png(path: Path, size: tuple[int, int]) -> None:
    data = path.read_bytes()
    assert len(data) > 5_000, "suspiciously small image"
    assert png_size(data) == size


def grid_data(seed: int = 0) -> pd.DataFrame:
    """Six model sizes x four token counts (a sweep where D takes a few values)."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e7, 1e9, 6), 4)
    D = np.tile([1e9, 3e9, 1e10, 3e10], 6)
    y = (1.7 + 400 * N**-0.34 + 2000 * D**-0.28) * np.exp(rng.normal(0, 0.005, N.size))
    return pd.DataFrame({"N": N, "D": D, "C": 6 * N * D, "loss": y})


@pytest.fixture(scope="module")
def chin() -> pf.FitResult:
    return pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")


@pytest.fixture(scope="module")
def chin_boot() -> pf.FitResult:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    res.bootstrap(n_boot=80, seed=0, progress=False)
    return res


def _bands(fig: Figure) -> int:
    return sum(isinstance(c, PolyCollection) for ax in fig.axes for c in ax.collections)


# --- the fit -----------------------------------------------------------------------------------
def test_plot_fit_writes_png_of_the_requested_size(chin, tmp_path):
    fig = chin.plot(figsize=(6, 4), dpi=100)
    assert isinstance(fig, Figure)
    assert _bands(fig) == 0  # no bootstrap, no band
    fig.savefig(tmp_path / "fit.png")
    check_png(tmp_path / "fit.png", (600, 400))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_plot_fit_draws_the_bootstrap_band(chin_boot, tmp_path):
    fig = chin_boot.plot(path=tmp_path / "band.png")
    assert _bands(fig) >= 3  # one band per iso-FLOP curve
    check_png(tmp_path / "band.png", (700, 500))
    assert _bands(plot.plot_fit(chin_boot, band=False)) == 0


def test_plot_fit_kinds(tmp_path):
    res = pf.fit(grid_data()[["N", "D", "loss"]], law="chinchilla", warn=False)
    res.bootstrap(n_boot=30, progress=False)
    slices = res.plot()  # D takes four values: one curve per D
    lines = [ln for ln in slices.axes[0].get_lines() if len(ln.get_xdata()) > 10]
    assert len(lines) == 4
    iso = res.plot(kind="isoflop", budgets=[1e17, 1e18])
    assert len([ln for ln in iso.axes[0].get_lines() if len(ln.get_xdata()) > 10]) == 2
    parity = res.plot(kind="parity", path=tmp_path / "parity.svg")
    assert parity.axes[0].get_xlabel().startswith("predicted")
    assert (tmp_path / "parity.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(pf.InvalidOptionError):
        res.plot(kind="nope")


def test_plot_fit_one_and_three_variables(tmp_path):
    df = grid_data()
    rng = np.random.default_rng(1)
    N = np.geomspace(1e7, 1e10, 20)
    y = (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.002, N.size))
    power = pf.fit({"N": N, "loss": y}, law="power")
    power.bootstrap(n_boot=30, progress=False)
    fig = power.plot(figsize=(5, 4), dpi=80, path=tmp_path / "power.png")
    assert _bands(fig) == 1
    check_png(tmp_path / "power.png", (400, 320))
    additive = pf.fit(df, law="additive", warn=False)  # N, D and C: observed against predicted
    fig = additive.plot(path=tmp_path / "additive.png")
    assert fig.axes[0].get_ylabel().startswith("observed")
    with pytest.raises(pf.InvalidOptionError, match="iso-FLOP"):
        pf.fit(df[["N", "C", "loss"]], law="additive", warn=False).plot(kind="isoflop")


def test_plot_fit_into_given_axes(chin):
    fig = plot.figure((8, 3), 100)
    left, right = fig.subplots(1, 2)
    out = chin.plot(ax=right, title="mine")
    assert out is fig and right.get_title() == "mine" and not left.has_data()


def test_plotting_leaves_pyplot_and_the_backend_alone():
    code = (
        "import sys, matplotlib; matplotlib.use('svg'); import powerfit as pf; "
        "res = pf.fit(pf.datasets.chinchilla(), law='chinchilla'); "
        "res.plot(); res.plot_residuals(); res.plot_frontier(); "
        "print('matplotlib.pyplot' in sys.modules, matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "svg"]


# --- residuals, bootstrap, frontier ----------------------------------------------------------
def test_plot_residuals(chin, tmp_path):
    fig = chin.plot_residuals(figsize=(9, 3), dpi=100)
    assert len(fig.axes) == 3  # N, D and the histogram
    fig.savefig(tmp_path / "res.png")
    check_png(tmp_path / "res.png", (900, 300))


def test_bootstrap_plot_is_a_corner_plot(chin_boot, tmp_path):
    boot = chin_boot.boot
    fig = boot.plot(figsize=(7, 7), dpi=90)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5 * 6 // 2  # 5 histograms and 10 pairs
    fig.savefig(tmp_path / "boot.png")
    check_png(tmp_path / "boot.png", (630, 630))
    two = boot.plot(params=["alpha", "beta"])
    assert len([ax for ax in two.axes if ax.get_visible()]) == 3
    with pytest.raises(pf.InvalidOptionError, match="no parameter"):
        boot.plot(params=["gamma"])


def test_bootstrap_plot_skips_fixed_parameters():
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", fixed={"E": 1.8})
    boot = res.bootstrap(n_boot=30, progress=False)
    assert len([ax for ax in boot.plot().axes if ax.get_visible()]) == 4 * 5 // 2


def test_plot_frontier(chin, chin_boot, tmp_path):
    fig = chin.plot_frontier(1e19, 1e25, figsize=(8, 3), dpi=100)
    assert len(fig.axes) == 2 and _bands(fig) == 0
    fig.savefig(tmp_path / "frontier.png")
    check_png(tmp_path / "frontier.png", (800, 300))
    fig = chin_boot.plot_frontier()
    assert _bands(fig) == 3  # N*, D* and D*/N*
    (nline, dline) = [ln for ln in fig.axes[0].get_lines()][:2]
    # N* and D* grow with compute
    assert np.all(np.diff(nline.get_ydata()) > 0) and np.all(np.diff(dline.get_ydata()) > 0)
    # the curve is the closed form N* = G (C/6)^a
    p = chin.params
    a = p["beta"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    c = nline.get_xdata()
    np.testing.assert_allclose(nline.get_ydata(), G * (c / 6) ** a, rtol=1e-9)
    with pytest.raises(pf.InvalidOptionError):
        chin.plot_frontier(1e25, 1e19)
    power = pf.fit(grid_data()[["N", "loss"]], law="power", warn=False)
    with pytest.raises(pf.PowerfitError, match="N and D"):
        power.plot_frontier(1e19, 1e25)


# --- reports -------------------------------------------------------------------------------------
def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


@pytest.fixture(scope="module")
def images(chin_boot) -> dict[str, bytes]:
    """The report's figures of the bootstrapped Chinchilla fit, drawn once for these tests."""
    from powerfit.html import figures

    return figures(chin_boot)


def test_report_figures(images):
    assert list(images) == ["fit", "residuals", "bootstrap", "frontier"]
    for png in images.values():
        w, h = png_size(png)
        assert w > 300 and h > 200 and len(png) > 5_000


def test_html_report_holds_the_tables_and_images(chin_boot, images, tmp_path):
    path = chin_boot.report(tmp_path / "report.html", budgets=[1e21, 1e23], images=images)
    assert path == tmp_path / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # one parameter table (the text summary, which repeated it, is gone)
    assert "<table" in text and '<th scope="col">estimate</th>' in text
    assert text.count("CI (bootstrap)") == 1 and text.count('class="params"') == 1
    for name in chin_boot.param_names:
        assert f"<td>{name}</td>" in text
    assert f"<td>{chin_boot.params['alpha']:.6g}</td>" in text
    assert "<math" in text and "Provenance" in text
    # the compute-optimal table at the budgets asked for
    assert "Compute-optimal" in text and "<td>1e21</td>" in text and "<td>1e23</td>" in text
    # self-contained: the four images embedded, nothing fetched
    assert _images(text) == list(images.values())
    assert 'src="http' not in text and "<script" not in text


def test_report_draws_its_own_figures(tmp_path):
    rng = np.random.default_rng(1)
    N = np.geomspace(1e7, 1e10, 20)
    y = (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.002, N.size))
    res = pf.fit({"N": N, "loss": y}, law="power")
    text = res.report(tmp_path / "power.html").read_text()
    assert len(_images(text)) == 2  # fit and residuals; no frontier for one variable
    assert "Compute-optimal" not in text
    for img in _images(text):
        w, h = png_size(img)
        assert w > 300 and h > 200


def test_html_report_without_bootstrap(chin, tmp_path):
    text = chin.report(tmp_path / "r.html", plots=False).read_text()
    assert "CI (bootstrap)" not in text and "<td>E</td>" in text
    assert _images(text) == []


def test_markdown_report(chin_boot, images, tmp_path):
    path = chin_boot.report(tmp_path / "report.md", images=images)
    text = path.read_text()
    assert "| parameter | estimate |" in text and "| alpha |" in text
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [f"report_files/{name}.png" for name in images]
    for link, png in zip(links, images.values()):
        assert (tmp_path / link).read_bytes() == png
    embedded = chin_boot.report(tmp_path / "embedded.md", embed_images=True, images=images)
    assert embedded.read_text().count("](data:image/png;base64,") == 4
    assert not (tmp_path / "embedded_files").exists()


def test_report_rejects_unknown_formats(chin, tmp_path):
    with pytest.raises(pf.InvalidOptionError, match="html or .md"):
        chin.report(tmp_path / "report.pdf")
    with pytest.raises(FileNotFoundError):
        chin.report(tmp_path / "missing" / "report.html")


def test_missing_matplotlib_gives_a_clear_error(chin, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"powerfit\[plot\]"):
        chin.plot()


def test_written_law_over_non_positive_x(tmp_path):
    if not hasattr(pf, "Law"):
        pytest.skip("written laws are not in this build")
    law = pf.Law("c + a*exp(-b*x)", variables="x", p0={"c": 1, "a": 1, "b": 0.1})
    x = np.linspace(0, 30, 40)
    y = 1 + 2 * np.exp(-0.2 * x) + np.random.default_rng(0).normal(0, 0.01, 40)
    res = pf.fit({"x": x, "loss": y}, law=law)
    fig = res.plot(path=tmp_path / "law.png")
    assert fig.axes[0].get_xscale() == "linear"  # x starts at 0
    check_png(tmp_path / "law.png", (700, 500))
    assert res.plot_residuals().axes[0].get_xscale() == "linear"
