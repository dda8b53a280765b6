"""Rich display of results in notebooks, and their text forms.

Functions here render a result from its public attributes only, as compact HTML (for
``_repr_html_``) or text (for ``__repr__``): :func:`fit_html` / :func:`fit_text`,
:func:`bootstrap_html` / :func:`bootstrap_text`, :func:`frontier_html` / :func:`frontier_text`
(isoflop and envelope results), :func:`comparison_html` / :func:`comparison_text`, and
:func:`table_html` / :func:`table_text` for tables of per-group results. Every string that comes
from the user (column and group names, law and parameter names, messages, warnings) is escaped.

:func:`enable_notebook_display` is called once when powerfit is imported. In a Jupyter kernel it
registers display formatters with IPython: matplotlib Figures as PNG, and powerfit's results as
HTML. Why formatters rather than pyplot: powerfit draws on the Agg canvas without pyplot (no
global state; safe in threads and servers), and Jupyter shows a Figure inline only when a
formatter for it is registered, which matplotlib's inline backend does only once pyplot is
imported. Registering the same kind of formatter from the kernel makes ``res.plot()`` display
inline by default; outside a kernel (scripts, the command line, terminal IPython) nothing is
registered and nothing is shown. A formatter the user already set up (``%matplotlib inline``,
``%config InlineBackend.figure_formats``) takes precedence.
"""

from __future__ import annotations

import html
import io
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._progress import in_kernel

#: Rows of a table shown before the middle is elided.
MAX_ROWS = 20
#: Suffixes pairing interval bounds and standard errors with their estimate column.
_LOWER, _UPPER, _SE = ("_lower", "_upper", "_stderr")

_STYLE = (
    "<style>"
    ".powerfit-display table{border-collapse:collapse;margin:0.3em 0}"
    ".powerfit-display th,.powerfit-display td{padding:0.15em 0.6em;text-align:right}"
    ".powerfit-display td{white-space:nowrap}"
    ".powerfit-display .t{text-align:left;white-space:normal}"
    ".powerfit-display caption{text-align:left;font-weight:bold;padding-bottom:0.2em}"
    ".powerfit-display .ok{color:#1a7f37}.powerfit-display .bad{color:#cf222e}"
    ".powerfit-display .note{color:#57606a;font-size:90%}"
    "</style>"
)


# --- formatting ------------------------------------------------------------------------------
def esc(value: Any) -> str:
    """``value`` as text, escaped for HTML (quotes included)."""
    return html.escape(str(value), quote=True)


def num(value: Any, digits: int = 5) -> str:
    """A number with ``digits`` significant digits, without an exponent between 1e-3 and 1e5;
    "–" for missing or NaN values."""
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    if v == 0.0:
        return "0"
    text = f"{v:.{digits}g}"
    if "e" in text and 1e-3 <= abs(v) < 1e5:
        places = digits - 1 - math.floor(math.log10(abs(v)))
        text = f"{round(v, places):.{max(places, 0)}f}"
    return text


def _interval(lo: Any, hi: Any) -> str:
    if lo is None or hi is None:
        return "–"
    if math.isnan(float(lo)) and math.isnan(float(hi)):
        return "–"
    return f"[{num(lo, 4)}, {num(hi, 4)}]"


def _z(level: float) -> float:
    return statistics.NormalDist().inv_cdf(0.5 + level / 2.0)


def _rows_html(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    caption: str = "",
    text: Sequence[bool] | None = None,
) -> str:
    """An HTML table from already-escaped cells; columns flagged in ``text`` (default: the
    first) are left-aligned and may wrap, the others are numbers, right-aligned."""
    flags = list(text) if text is not None else [i == 0 for i in range(len(header))]
    cls = [' class="t"' if f else "" for f in flags]
    cap = f"<caption>{caption}</caption>" if caption else ""
    head = "".join(f"<th{k}>{h}</th>" for h, k in zip(header, cls))
    body = "".join(
        "<tr>" + "".join(f"<td{k}>{c}</td>" for c, k in zip(r, cls)) + "</tr>" for r in rows
    )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _wrap(*parts: str) -> str:
    return f'<div class="powerfit-display">{_STYLE}{"".join(parts)}</div>'


def _status_html(success: bool, status: str, message: str) -> str:
    mark = '<span class="ok">✓</span>' if success else '<span class="bad">✗</span>'
    return f'{mark} <code>{esc(status)}</code> <span class="note">{esc(message)}</span>'


def _warnings_html(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return f'<div class="bad">⚠ {len(warnings)} warning(s):</div><ul>{items}</ul>'


def _columns_text(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """Rows of text cells in aligned columns (first left-aligned, the rest right-aligned)."""
    widths = [
        max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
        for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = "  ".join(f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:]))
        return (indent + first + "  " + rest).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


# --- laws ----------------------------------------------------------------------------------
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ"}
_ADDITIVE_TERMS = {"N": ("A", "alpha"), "D": ("B", "beta"), "C": ("E", "gamma")}


def formula_html(law: str, variables: Sequence[str]) -> str:
    """The formula of a built-in law in HTML, or "" for other laws."""
    v = [esc(x) for x in variables]
    if law == "power" and v:
        return f"L = L<sub>∞</sub> + A·{v[0]}<sup>−α</sup>"
    if law == "chinchilla":
        return "L = E + A·N<sup>−α</sup> + B·D<sup>−β</sup>"
    if law == "kaplan":
        return (
            "L = ((N<sub>c</sub>/N)<sup>α<sub>N</sub>/α<sub>D</sub></sup> + "
            "D<sub>c</sub>/D)<sup>α<sub>D</sub></sup>"
        )
    if law == "additive":
        terms = [
            f"{_ADDITIVE_TERMS[x][0]}·{x}<sup>−{_GREEK[_ADDITIVE_TERMS[x][1]]}</sup>"
            for x in variables
            if x in _ADDITIVE_TERMS
        ]
        return "L = L<sub>∞</sub> + " + " + ".join(terms) if terms else ""
    return ""


# --- FitResult -----------------------------------------------------------------------------
def _loss_label(res: Any) -> str:
    loss = str(res.loss)
    if "huber" in loss:
        return f"{loss} (δ={res.delta:g})"
    if "asymmetric" in loss:
        return f"{loss} (overestimate penalty {res.overestimate_penalty:g})"
    return loss


def _fit_rows(res: Any, boot: Any, level: float) -> tuple[str, list[list[str]]]:
    """(interval heading, rows of parameter, estimate, std err, interval) as plain text."""
    se = res.stderr
    fixed = res.fixed
    bounds: dict[str, tuple[float, float]] = {}
    z = _z(level)
    if boot is not None:
        ci = boot.ci(level=level)
        for p, lo, hi in zip(ci["parameter"], ci["lower"], ci["upper"]):
            bounds[str(p)] = (float(lo), float(hi))
        heading = f"{level:.0%} bootstrap interval ({boot.n} × {boot.resample})"
    else:
        heading = f"{level:.0%} interval (normal)"
    rows = []
    for name, v in res.params.items():
        if name in fixed:
            rows.append([name, num(v), "fixed", "–"])
            continue
        s = se.get(name, math.nan)
        if boot is not None:
            lo, hi = bounds.get(name, (math.nan, math.nan))
        else:
            lo, hi = v - z * s, v + z * s
        rows.append([name, num(v), num(s, 3), _interval(lo, hi)])
    return heading, rows


def fit_html(res: Any, boot: Any = None, level: float = 0.95) -> str:
    """A :class:`~powerfit.FitResult` as compact HTML: the law, a parameter table with
    standard errors and intervals (bootstrap percentile intervals when ``boot`` is given,
    normal ones otherwise), the solver's status, the statistics and the warnings."""
    heading, rows = _fit_rows(res, boot, level)
    formula = formula_html(str(res.law), list(res.variables))
    caption = f"powerfit fit: {esc(res.law)}" + (f" &nbsp; {formula}" if formula else "")
    table = _rows_html(
        ["parameter", "estimate", "std err", esc(heading)],
        [[esc(c) for c in r] for r in rows],
        caption,
    )
    stats = (
        f"loss <code>{esc(_loss_label(res))}</code> · {res.n_points} points · dof {res.dof}"
        f" · cost {num(res.cost)}"
    )
    if res.aic is not None:
        stats += f" · AIC {num(res.aic, 6)} · BIC {num(res.bic, 6)}"
    disagree = _starts_disagree(res)
    if disagree:
        stats += f" · {esc(disagree)}"
    if res.at_limit:
        stats += f" · at limit: {esc(', '.join(res.at_limit))}"
    status = _status_html(bool(res.success), str(res.status), str(res.message))
    return _wrap(
        table,
        f"<div>{status}</div>",
        f'<div class="note">{stats}</div>',
        _warnings_html(list(res.warnings)),
    )


def _starts_disagree(res: Any) -> str:
    """ "k of n starts reached the best cost" when the local solves found different optima,
    else ""."""
    if res.n_best == res.n_starts:
        return ""
    return f"{res.n_best} of {res.n_starts} starts reached the best cost"


def fit_text(res: Any) -> str:
    """A :class:`~powerfit.FitResult` as a few lines of text: law, loss, status, then each
    parameter with its standard error, then the number of warnings."""
    _, rows = _fit_rows(res, None, 0.95)
    ok = "success" if res.success else "FAILED"
    head = (
        f"<FitResult {res.law}, loss={_loss_label(res)}, {res.n_points} points: "
        f"{res.status} ({ok})>"
    )
    disagree = _starts_disagree(res)
    if disagree:
        head += f"\n  {disagree}"
    body = _columns_text(["parameter", "estimate", "std err", "95% interval (normal)"], rows)
    warnings = list(res.warnings)
    tail = f"  {len(warnings)} warning(s): see .warnings" if warnings else "  no warnings"
    return f"{head}\n{body}\n{tail}"


# --- BootstrapResult ---------------------------------------------------------------------------
def _boot_rows(boot: Any, level: float, interval: str) -> list[list[str]]:
    ci = boot.ci(level=level, interval=interval)
    return [
        [str(p), num(e), num(s, 3), _interval(lo, hi)]
        for p, e, s, lo, hi in zip(
            ci["parameter"], ci["estimate"], ci["se"], ci["lower"], ci["upper"]
        )
    ]


def _boot_header(boot: Any) -> str:
    res = boot.result
    return (
        f"bootstrap of the {res.law} fit: {boot.n} replicates ({boot.resample}, seed "
        f"{boot.seed}); {boot.n - boot.n_failed} converged, {boot.n_failed} failed "
        f"(excluded)"
    )


def bootstrap_html(boot: Any, level: float = 0.95, interval: str = "percentile") -> str:
    """A :class:`~powerfit.BootstrapResult` as HTML: the run, and the intervals of the
    parameters and derived quantities."""
    rows = _boot_rows(boot, level, interval)
    table = _rows_html(
        ["quantity", "estimate", "bootstrap se", esc(f"{level:.0%} {interval} interval")],
        [[esc(c) for c in r] for r in rows],
        esc(_boot_header(boot)),
    )
    fail = ""
    if boot.n_failed:
        fail = f'<div class="bad">{boot.n_failed} of {boot.n} replicates did not converge</div>'
    return _wrap(table, fail)


def bootstrap_text(boot: Any) -> str:
    """A :class:`~powerfit.BootstrapResult` as text: the run and 95% percentile intervals."""
    rows = _boot_rows(boot, 0.95, "percentile")
    body = _columns_text(["quantity", "estimate", "se", "95% percentile interval"], rows)
    return f"<{_boot_header(boot)}>\n{body}"


# --- tables of per-group results ------------------------------------------------------------------
def _as_pandas(frame: Any) -> Any:
    import pandas as pd

    if isinstance(frame, pd.DataFrame):
        return frame
    to_pandas = getattr(frame, "to_pandas", None)
    if to_pandas is None:
        raise TypeError(f"cannot display a {type(frame).__name__} as a table")
    return to_pandas()


def _merged_columns(columns: Sequence[str]) -> list[tuple[str, str, str | None, str | None]]:
    """Display columns as (title, estimate column, lower-or-stderr column, upper column):
    ``x`` with ``x_lower``/``x_upper`` becomes one interval column, ``x`` with ``x_stderr``
    one ``± se`` column."""
    present = set(columns)
    out: list[tuple[str, str, str | None, str | None]] = []
    used: set[str] = set()
    for c in columns:
        if c in used:
            continue
        lo, hi, se = c + _LOWER, c + _UPPER, c + _SE
        if lo in present and hi in present:
            out.append((c, c, lo, hi))
            used.update((lo, hi))
        elif se in present:
            out.append((c, c, se, None))
            used.add(se)
        else:
            out.append((c, c, None, None))
    return [o for o in out if o[1] not in used or o[2] is not None]


def _cell(row: Any, est: str, lo: str | None, hi: str | None) -> str:
    v = row[est]
    if lo is not None and hi is not None:
        return f"{num(v, 4)} {_interval(row[lo], row[hi])}"
    if lo is not None:
        return f"{num(v, 4)} ± {num(row[lo], 2)}"
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        return num(v, 4)
    return str(v)


def _table_cells(frame: Any, max_rows: int) -> tuple[list[str], list[list[str]], list[bool], int]:
    """(titles, cell rows, which columns hold text, rows elided) of a table, long tables cut
    in the middle."""
    df = _as_pandas(frame)
    named = df.set_axis([str(c) for c in df.columns], axis=1)
    cols = _merged_columns(list(named.columns))
    n = len(named)
    if n > max_rows:
        half = max_rows // 2
        pick = list(range(half)) + list(range(n - half, n))
    else:
        pick = list(range(n))
    rows = []
    for i in pick:
        row = named.iloc[i]
        rows.append([_cell(row, est, lo, hi) for _, est, lo, hi in cols])
    if n > max_rows:
        rows.insert(max_rows // 2, ["…"] * len(cols))
    text = [lo is None and not pd_numeric(named[est]) for _, est, lo, _ in cols]
    return [c[0] for c in cols], rows, text, max(n - max_rows, 0)


def pd_numeric(col: Any) -> bool:
    """Whether a pandas column holds numbers (booleans count as text)."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def table_html(frame: Any, caption: str = "", max_rows: int = MAX_ROWS) -> str:
    """A table of per-group results (pandas, polars or pyarrow) as compact HTML: estimate
    columns merged with their ``_lower``/``_upper`` bounds or ``_stderr``, and the middle of
    long tables elided."""
    titles, rows, text, elided = _table_cells(frame, max_rows)
    note = f'<div class="note">{elided} more rows not shown</div>' if elided else ""
    return (
        _rows_html(
            [esc(t) for t in titles], [[esc(c) for c in r] for r in rows], esc(caption), text
        )
        + note
    )


def table_text(frame: Any, max_rows: int = MAX_ROWS) -> str:
    """The text form of :func:`table_html`."""
    titles, rows, _, elided = _table_cells(frame, max_rows)
    note = f"\n  ({elided} more rows not shown)" if elided else ""
    return _columns_text(titles, rows) + note


def groups_summary(frame: Any) -> str:
    """One line about a table of per-group fits: groups, how many converged, statuses."""
    df = _as_pandas(frame)
    n = len(df)
    if "status" not in df.columns:
        return f"{n} groups"
    counts = df["status"].astype(str).value_counts()
    ok = int(df["success"].astype(bool).sum()) if "success" in df.columns else None
    parts = ", ".join(f"{k} ×{v}" for k, v in counts.items())
    conv = f"{ok} succeeded, {n - ok} did not; " if ok is not None else ""
    return f"{n} groups: {conv}{parts}"


def groups_html(frame: Any, max_rows: int = MAX_ROWS) -> str:
    """A table of per-group fits (:func:`powerfit.fit_groups`) as HTML: a status summary and
    the groups' estimates with standard errors (long messages left out)."""
    df = _as_pandas(frame)
    shown = df.drop(columns=[c for c in ("message",) if c in df.columns])
    return _wrap(table_html(shown, groups_summary(df), max_rows))


def groups_text(frame: Any, max_rows: int = MAX_ROWS) -> str:
    """The text form of :func:`groups_html`."""
    df = _as_pandas(frame)
    shown = df.drop(columns=[c for c in ("message",) if c in df.columns])
    return groups_summary(df) + "\n" + table_text(shown, max_rows)


# --- isoflop / envelope / comparison -----------------------------------------------------------
_FRONTIER_COLUMNS = (
    "a",
    "a_lower",
    "a_upper",
    "b",
    "b_lower",
    "b_upper",
    "k_N",
    "k_D",
    "r2_N",
    "r2_D",
    "n_used",
    "n_budgets",
)


def _frontier_parts(result: Any) -> tuple[str, Any, Any]:
    """(caption, table of exponents per group, table of predictions or None)."""
    kind = type(result).__name__
    boot = (
        f"{result.n_boot} bootstrap replicates, {result.level:.0%} intervals"
        if result.n_boot
        else "no bootstrap"
    )
    caption = f"{kind}: {result.n_groups} group(s); {boot}"
    table = result.table
    keep = [c for c in table.columns if c in result.by or c in _FRONTIER_COLUMNS]
    pred = result.predictions
    by = list(result.by)
    return (caption, _one_key(table[keep], by), (_one_key(pred, by) if len(pred) else None))


def _one_key(frame: Any, by: list[str]) -> Any:
    """More than two key columns become one ``group`` column (values joined by " · "), so
    that a table of many configurations stays narrow."""
    if len(by) <= 2:
        return frame
    keys = frame[by].astype(str).agg(" · ".join, axis=1)
    rest = frame.drop(columns=by)
    rest.insert(0, "group (" + ", ".join(by) + ")", keys)
    return rest


def frontier_html(result: Any, max_rows: int = MAX_ROWS) -> str:
    """An :class:`~powerfit.IsoflopResult` or :class:`~powerfit.EnvelopeResult` as HTML: the
    exponents a and b of N*(C) = k_N·C^a and D*(C) = k_D·C^b per group with intervals, the
    budgets used, and the predictions at the budgets asked for."""
    caption, table, pred = _frontier_parts(result)
    parts = [table_html(table, caption, max_rows)]
    if pred is not None:
        parts.append(table_html(pred, "predictions", max_rows))
    return _wrap(*parts)


def frontier_text(result: Any, max_rows: int = MAX_ROWS) -> str:
    """The text form of :func:`frontier_html`."""
    caption, table, pred = _frontier_parts(result)
    out = [f"<{caption}>", table_text(table, max_rows)]
    if pred is not None:
        out += ["  predictions:", table_text(pred, max_rows)]
    return "\n".join(out)


def comparison_html(cmp: Any, max_rows: int = MAX_ROWS) -> str:
    """An :class:`~powerfit.ApproachComparison` as HTML: per approach and budget the exponents
    and the compute-optimal N and D with intervals, and the notes on each approach."""
    notes = "".join(f"<li>{esc(n)}</li>" for n in cmp.notes)
    caption = "The compute-optimal frontier by three approaches"
    return _wrap(
        table_html(cmp.table, caption, max_rows), f'<ul class="note">{notes}</ul>' if notes else ""
    )


def comparison_text(cmp: Any, max_rows: int = MAX_ROWS) -> str:
    """The text form of :func:`comparison_html`."""
    return "<ApproachComparison>\n" + table_text(cmp.table, max_rows)


# --- notebook formatters -----------------------------------------------------------------------
def figure_png(fig: Any) -> bytes:
    """A matplotlib Figure as PNG bytes, as Jupyter displays it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


#: Image formats a Figure formatter may already be set up for (``%matplotlib inline``,
#: ``InlineBackend.figure_formats``).
_IMAGE_MIMES = ("image/png", "image/svg+xml", "image/jpeg", "application/pdf")


def _html_printers() -> list[tuple[Any, Callable[[Any], str]]]:
    pf = sys.modules["powerfit"]
    return [
        (pf.FitResult, fit_html),
        (pf.BootstrapResult, bootstrap_html),
        (pf.IsoflopResult, frontier_html),
        (pf.EnvelopeResult, frontier_html),
        (pf.ApproachComparison, comparison_html),
    ]


def _has_printer(formatter: Any, module: str, name: str) -> bool:
    if (module, name) in formatter.deferred_printers:
        return True
    return any(
        getattr(t, "__module__", None) == module and getattr(t, "__name__", None) == name
        for t in formatter.type_printers
    )


def enable_notebook_display() -> bool:
    """In a Jupyter kernel, register IPython display formatters: matplotlib Figures as PNG
    (unless a Figure formatter is already set up) and powerfit's results as HTML. Does nothing
    elsewhere. Returns whether it registered."""
    if not in_kernel():
        return False
    shell = sys.modules["IPython"].get_ipython()
    formatters = shell.display_formatter.formatters
    if not any(
        _has_printer(formatters[m], "matplotlib.figure", "Figure")
        for m in _IMAGE_MIMES
        if m in formatters
    ):
        formatters["image/png"].for_type_by_name("matplotlib.figure", "Figure", figure_png)
    html_formatter = formatters["text/html"]
    for cls, fn in _html_printers():
        if not hasattr(cls, "_repr_html_"):
            html_formatter.for_type(cls, fn)
    return True
