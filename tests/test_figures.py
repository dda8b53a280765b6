"""The figures, checked on their artists after drawing: every curve stays inside its axes,
iso-FLOP curves carry their budgets, legends do not cover data, tick labels are tidy (no
"-0.000", no "3x10^0"), exponents are typeset, the Huber threshold is not drawn on top of the
zero line, and multi-group frontier analyses are faceted."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import powerfit as pf
from powerfit import plot


# --- helpers -----------------------------------------------------------------------------------
def drawn(fig: Figure) -> Figure:
    fig.canvas.draw()
    return fig


def data_axes(fig: Figure) -> list:
    """The axes holding data (not colorbars, not hidden panels)."""
    return [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]


def points_px(ax) -> np.ndarray:
    """Display coordinates of every data marker of the axes (scatter points and marker lines)."""
    out = []
    for c in ax.collections:
        if isinstance(c, PathCollection) and len(c.get_offsets()):
            out.append(ax.transData.transform(np.asarray(c.get_offsets(), dtype=float)))
    for ln in ax.lines:
        if ln.get_marker() not in (None, "None", "", " ") and ln.get_transform() == ax.transData:
            xy = np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float)
            out.append(ax.transData.transform(xy))
    return np.concatenate(out) if out else np.empty((0, 2))


def curves(ax) -> list[Line2D]:
    """Lines drawn in data coordinates with more than one point (fitted curves, profiles)."""
    return [
        ln for ln in ax.lines if ln.get_transform() == ax.transData and np.size(ln.get_xdata()) > 1
    ]


def within_limits(ax) -> None:
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    for ln in curves(ax):
        x = np.asarray(ln.get_xdata(), dtype=float)
        y = np.asarray(ln.get_ydata(), dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        assert (x[ok] >= x0 * (1 - 1e-9)).all() and (x[ok] <= x1 * (1 + 1e-9)).all(), ln
        assert (y[ok] >= y0 * (1 - 1e-9)).all() and (y[ok] <= y1 * (1 + 1e-9)).all(), (
            f"a curve leaves the axes: y in [{y[ok].min():.4g}, {y[ok].max():.4g}], "
            f"limits [{y0:.4g}, {y1:.4g}]"
        )


def legends(fig: Figure) -> list:
    out = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    return out + list(fig.legends)


def legends_clear(fig: Figure) -> None:
    """No legend box contains a data point of any axes."""
    renderer = fig.canvas.get_renderer()
    pts = [points_px(a) for a in data_axes(fig)]
    allpts = np.concatenate(pts) if pts else np.empty((0, 2))
    for leg in legends(fig):
        box = leg.get_window_extent(renderer)
        inside = (
            (allpts[:, 0] > box.x0)
            & (allpts[:, 0] < box.x1)
            & (allpts[:, 1] > box.y0)
            & (allpts[:, 1] < box.y1)
        )
        assert not inside.any(), f"the legend covers {int(inside.sum())} data points"


BAD_TICKS = (
    re.compile(r"^[-\u2212]0(\.0+)?$"),  # -0, -0.000
    re.compile(r"10\^\{0\}|10\^0\b|10⁰"),  # 3x10^0
    re.compile(r"\\times\s*10\^\{\\?-?1\}|10\^\{1\}"),  # 2x10^1 beside plain numbers
)


def tick_texts(fig: Figure) -> list[str]:
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            for t in axis.get_ticklabels(which="both"):
                if t.get_visible() and t.get_text():
                    out.append(t.get_text())
    return out


def tidy_ticks(fig: Figure) -> None:
    for text in tick_texts(fig):
        plain = text.replace("$", "").replace("\\mathdefault{", "").replace("}", "")
        assert not BAD_TICKS[0].match(plain.strip()), f"tick label {text!r}"
        assert not BAD_TICKS[1].search(text), f"tick label {text!r}"


def check(fig: Figure) -> Figure:
    drawn(fig)
    for ax in data_axes(fig):
        within_limits(ax)
    legends_clear(fig)
    tidy_ticks(fig)
    return fig


# --- data --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chin() -> pf.FitResult:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    res.bootstrap(60, seed=0, progress=False)
    return res


@pytest.fixture(scope="module")
def grid() -> pf.FitResult:
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(1e7, 1e9, 6), 4)
    D = np.tile([1e9, 3e9, 1e10, 3e10], 6)
    y = (1.7 + 400 * N**-0.34 + 2000 * D**-0.28) * np.exp(rng.normal(0, 0.005, N.size))
    return pf.fit(pd.DataFrame({"N": N, "D": D, "loss": y}), law="chinchilla")


@pytest.fixture(scope="module")
def iso() -> pf.IsoflopResult:
    return pf.isoflop(
        pf.datasets.porian2024(),
        columns={"C": "flops", "N": "n", "D": "t"},
        by=pf.datasets.PORIAN2024_CONFIG,
        n_boot=30,
        progress=False,
    )


# --- the fit -------------------------------------------------------------------------------------
def test_isoflop_curves_stay_on_the_axes_and_carry_their_budgets(chin):
    fig = check(chin.plot())
    ax = fig.axes[0]
    lines = curves(ax)
    assert len(lines) >= 5
    labels = [t for t in ax.texts if t.get_visible()]
    assert len(labels) == len(lines), "every iso-FLOP curve is labelled with its budget"
    renderer = fig.canvas.get_renderer()
    for t in labels:
        assert re.fullmatch(r"\$(\d(\.\d+)?\{\\times\})?10\^\{\d+\}\$", t.get_text()), t.get_text()
        box = t.get_window_extent(renderer)
        assert ax.bbox.x0 - 1 <= box.x0 and box.x1 <= ax.bbox.x1 + 1
        assert ax.bbox.y0 - 1 <= box.y0 and box.y1 <= ax.bbox.y1 + 1
    # the budgets are in increasing order of loss minimum, down and to the right
    assert len({t.get_text() for t in labels}) == len(labels)


def test_slices_and_one_variable_fits_stay_on_the_axes(grid):
    fig = check(grid.plot())
    ax = fig.axes[0]
    assert len(ax.texts) == len(curves(ax)) == 4  # one label per slice of D
    power = pf.fit(
        {"N": np.geomspace(1e6, 1e10, 30), "loss": 1.5 + 30 * np.geomspace(1e6, 1e10, 30) ** -0.25},
        law="power",
    )
    check(power.plot())
    check(grid.plot(kind="parity"))


def test_legend_sits_outside_the_data(chin):
    fig = drawn(chin.plot())
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert box.y1 <= ax.bbox.y0 + 1  # under the axes


def test_tick_labels_are_tidy_on_a_short_loss_axis(chin):
    fig = drawn(chin.plot())
    ys = [t.get_text() for t in fig.axes[0].yaxis.get_ticklabels() if t.get_text()]
    assert len(ys) >= 3 and all(re.fullmatch(r"\d+(\.\d+)?", y) for y in ys), ys


def test_residuals_do_not_draw_delta_on_the_zero_line(chin):
    fig = check(chin.plot_residuals())
    renderer = fig.canvas.get_renderer()
    for ax in data_axes(fig):
        ys = sorted(
            ax.transData.transform((0, ln.get_ydata()[0]))[1]
            for ln in ax.lines
            if np.ptp(np.asarray(ln.get_ydata(), dtype=float)) == 0
        )
        assert all(b - a >= 4 for a, b in zip(ys, ys[1:])), "horizontal lines drawn on top"
    texts = [t.get_text() for leg in legends(fig) for t in leg.get_texts()]
    assert any("δ = 0.001" in t for t in texts)  # stated, since it is too small to draw
    assert any("down-weighted" in t for t in texts)
    del renderer


def test_residuals_draw_delta_when_it_is_visible():
    rng = np.random.default_rng(3)
    N = np.geomspace(1e7, 1e10, 40)
    y = (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.01, N.size))
    res = pf.fit({"N": N, "loss": y}, law="power", loss="huber_log", delta=0.01)
    fig = check(res.plot_residuals())
    ax = fig.axes[0]
    levels = sorted(float(ln.get_ydata()[0]) for ln in ax.lines)
    assert levels == pytest.approx([-0.01, 0.0, 0.01])


def test_linear_ticks_never_show_minus_zero(grid):
    check(grid.plot_residuals())
    check(grid.plot(kind="parity"))


# --- frontiers -----------------------------------------------------------------------------------
def test_frontier_exponents_are_typeset(chin):
    fig = check(chin.plot_frontier())
    texts = [t.get_text() for leg in legends(fig) for t in leg.get_texts()]
    powers = [t for t in texts if "propto" in t]
    assert len(powers) == 2
    assert all(re.search(r"C\^\{0\.\d{3}\}", t) for t in powers), powers
    assert not any(re.search(r"C\^0\.", t) for t in texts)


def test_isoflop_facets_every_group(iso):
    fig = check(iso.plot())
    panels = data_axes(fig)
    assert len(panels) == iso.n_groups == 15
    titles = [a.get_title() for a in panels]
    assert len(set(titles)) == 15, "each panel names its own group"
    assert all(re.search(r"\$a\$ = \d\.\d{3} \[", t) for t in titles)
    # keys shared by the groups shown are left out of the titles
    pair = check(plot.plot_isoflop(iso, groups=[0, 1]))
    shared = [c for c in iso.by if iso.keys.iloc[0][c] == iso.keys.iloc[1][c]]
    assert shared
    for ax in data_axes(pair):
        assert not any(f"{c}=" in ax.get_title() for c in shared), ax.get_title()


def test_isoflop_group_selection(iso):
    two = check(plot.plot_isoflop(iso, groups=[0, 3]))
    assert len(data_axes(two)) == 2
    first = iso.keys.iloc[0].to_dict()
    by_key = check(plot.plot_isoflop(iso, groups=[{k: first[k] for k in ("hparams", "decay")}]))
    assert len(data_axes(by_key)) >= 1
    one = check(iso.plot(group=3))
    assert len(data_axes(one)) == 2  # profiles and the frontier of one group
    right = one.axes[1]
    texts = [t.get_text() for t in right.get_legend().get_texts()]
    assert any(re.search(r"N_\{\\mathrm\{opt\}\} \\propto C\^\{0\.\d{3}\}", t) for t in texts)
    with pytest.raises(pf.InvalidOptionError, match="no group matches"):
        plot.plot_isoflop(iso, groups=["nope"])
    with pytest.raises(pf.InvalidOptionError, match="group must be"):
        iso.plot(group=99)


def test_envelope_figure():
    env = pf.envelope(
        pf.datasets.olmo_ladder(),
        columns={"loss": "loss_c4", "D": "tokens"},
        run=["size", "chinchilla_multiplier"],
        n_boot=20,
        progress=False,
    )
    fig = check(env.plot())
    texts = [t.get_text() for leg in legends(fig) for t in leg.get_texts()]
    assert not any("-0.000" in t for t in texts)


def test_bootstrap_corner_ticks(chin):
    check(chin.boot.plot())


def test_user_strings_are_not_mathtext():
    """A column or law name with dollar signs is shown as typed, never parsed as mathtext
    (which would render it, or fail on an odd number of them)."""
    rng = np.random.default_rng(0)
    N = np.geomspace(1e7, 1e10, 20)
    df = pd.DataFrame({"$N": N, "loss $x": (1.7 + 40 * N**-0.3) * np.exp(rng.normal(0, 0.01, 20))})
    law = pf.Law("c + a*x^-b", variables="x", p0={"c": 1, "a": 40, "b": 0.3}, name="a $law")
    res = pf.fit(df, law=law, columns={"x": "$N", "loss": "loss $x"})
    fig = check(res.plot())
    ax = fig.axes[0]
    assert "\\$" in ax.get_xlabel() and "\\$" in ax.get_title()
    check(res.plot_residuals())
