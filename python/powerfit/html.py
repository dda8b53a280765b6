"""Shareable reports of a fit (HTML or Markdown) and the tables they hold.

:func:`report` writes one file to send to a team: the fit's settings and statistics, the
parameter table (with bootstrap intervals when the fit has a bootstrap run), the compute-optimal
allocation for laws of N and D, the diagnostics, and the figures of :mod:`powerfit.plot`. An HTML
report is self-contained (figures embedded as base64 PNG); a Markdown report links figures
written beside it (``<name>_files/``), or embeds them with ``embed_images=True``.

The table helpers (:func:`param_table`, :func:`optimal_table`, :func:`format_optimal`) are also
what the command line prints.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import io as _io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core
from .analysis import optimal_table, supports_optimal
from .diagnostics import fit_warnings
from .errors import InvalidOptionError
from .report import summary_text

if TYPE_CHECKING:  # pragma: no cover
    from .record import FitRecord as FitResult

#: Default budgets of the compute-optimal table in reports: Chinchilla-era round numbers and the
#: Gopher/Chinchilla budget (5.76e23 FLOPs).
DEFAULT_BUDGETS = (1e21, 1e22, 1e23, 5.76e23, 1e24, 1e25)


# --- tables ----------------------------------------------------------------------------------
def param_table(res: FitResult, level: float = 0.95) -> pd.DataFrame:
    """Parameters: estimate, standard error, relative error, normal-approximation interval,
    and the bootstrap percentile interval when the fit has a bootstrap run."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    se = res.stderr
    rows = []
    for name, v in res.params.items():
        s = se[name]
        fixed = name in res.fixed
        rows.append(
            {
                "parameter": name,
                "estimate": v,
                "stderr": math.nan if fixed else s,
                "rel_err": abs(s / v) if (not fixed and v != 0 and math.isfinite(s)) else math.nan,
                "lower": math.nan if fixed else v - z * s,
                "upper": math.nan if fixed else v + z * s,
                "fixed": fixed,
            }
        )
    df = pd.DataFrame(rows)
    boot = getattr(res, "_boot", None)
    if boot is not None and (boot.n - boot.n_failed) >= 2:
        ci = boot.ci(level=level).set_index("parameter")
        df["boot_lower"] = [ci["lower"].get(n, math.nan) for n in df["parameter"]]
        df["boot_upper"] = [ci["upper"].get(n, math.nan) for n in df["parameter"]]
    return df


def human(v: float, digits: int = 3) -> str:
    """A count with a thousands suffix: 2.79B, 31.0B, 560B, 1.31T."""
    if v is None or not math.isfinite(v):
        return "-"
    a = abs(v)
    for div, suf in ((1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            if a >= 1e18:
                return f"{v:.{digits}g}"
            return f"{v / div:#.{digits}g}".rstrip(".") + suf
    return f"{v:#.{digits}g}".rstrip(".")


def _interval(lo: Any, hi: Any, fmt: Any) -> str:
    return f"[{fmt(lo)}, {fmt(hi)}]"


def sci(v: float) -> str:
    """A compute budget in short scientific notation: 1e21, 5.76e23."""
    if not math.isfinite(v) or v <= 0:
        return f"{v:g}"
    m, e = f"{v:.3e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def text_table(head: list[str], rows: list[list[str]], gap: int = 3) -> str:
    """A plain text table: right-aligned columns (the first left-aligned) under a rule."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return (" " * gap).join(out).rstrip()

    rule = (" " * gap).join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in rows)])


def format_optimal(
    res: FitResult, budgets: Sequence[float], k: float = 6.0, level: float = 0.95
) -> str:
    """:func:`optimal_table` as a text table for the terminal."""
    head, rows = _optimal_rows(res, budgets, k, level)
    note = f"compute-optimal allocation, C = {k:g}·N·D"
    boot = res.boot
    if boot is not None and (boot.n - boot.n_failed) >= 2:
        note += f"; [{level:.0%} bootstrap percentile intervals]"
    return note + "\n" + text_table(head, rows)


def format_params(res: FitResult, level: float = 0.95) -> str:
    """:func:`param_table` as a text table for the terminal."""
    head, rows = _param_rows(res, level)
    return text_table(head, rows)


# --- the report ------------------------------------------------------------------------------
def _png(fig: Any, dpi: float = 100) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


#: The report's figures: name -> caption.
FIGURE_CAPTIONS = {
    "fit": "Data and fitted law",
    "residuals": "Residuals",
    "bootstrap": "Bootstrap distributions of the parameters",
    "frontier": "Compute-optimal frontier",
}


def figures(res: FitResult, k: float = 6.0, level: float = 0.95) -> dict[str, bytes]:
    """PNG images of every figure that applies to the fit, by name (``fit``, ``residuals``,
    and ``bootstrap`` and ``frontier`` when there are a bootstrap run and N and D terms)."""
    from . import plot

    out = {
        "fit": _png(plot.plot_fit(res, k=k, level=level)),
        "residuals": _png(plot.plot_residuals(res)),
    }
    boot = res.boot
    if boot is not None and (boot.n - boot.n_failed) >= 2:
        out["bootstrap"] = _png(plot.plot_bootstrap(boot, level=level))
    if supports_optimal(res):
        out["frontier"] = _png(plot.plot_frontier(res, k=k, level=level))
    return out


def _captioned(res: FitResult, figs: Mapping[str, Any]) -> list[tuple[str, str, bytes]]:
    out = []
    for name, img in figs.items():
        png = img if isinstance(img, bytes) else _png(img)
        caption = FIGURE_CAPTIONS.get(name, name)
        if name == "fit" and res.boot is not None:
            caption += " with the bootstrap band"
        out.append((name, caption, png))
    return out


def _settings(res: FitResult) -> list[tuple[str, str]]:
    formula = res.formula
    loss = res.loss + (f" (delta={res.delta:g})" if "huber" in res.loss else "")
    cols = ", ".join(f"{v} = {c}" if v != c else v for v, c in zip(res.variables, res.columns))
    rows = [
        ("law", f"{res.law}: {formula}" if formula else res.law),
        ("variables (columns)", f"{cols}; loss = {res.y_name}"),
        ("loss", loss),
        ("points", f"{res.n_points} (dof {res.dof})"),
        ("status", f"{res.status}: {res.message}"),
        ("cost", f"{res.cost:.8g}"),
        ("iterations", f"{res.n_iter} ({res.nfev} evaluations, {res.n_starts} starts)"),
        ("covariance", res.cov_note),
    ]
    if res.aic is not None:
        rows.append(("AIC / BIC", f"{res.aic:.6g} / {res.bic:.6g}"))
    if res.fixed:
        rows.append(("fixed", ", ".join(f"{k}={v:g}" for k, v in res.fixed.items())))
    boot = res.boot
    if boot is not None:
        rows.append(
            (
                "bootstrap",
                f"{boot.n} replicates ({boot.method}, seed {boot.seed}); "
                f"{boot.n_failed} failed and excluded",
            )
        )
    return rows


def _fmt_cell(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else ""
    if isinstance(v, (float, np.floating)):
        return "-" if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def _param_rows(res: FitResult, level: float) -> tuple[list[str], list[list[str]]]:
    df = param_table(res, level)
    head = ["parameter", "estimate", "std err", "rel err", f"{level:.0%} CI (normal)"]
    has_boot = "boot_lower" in df.columns
    if has_boot:
        head.append(f"{level:.0%} CI (bootstrap)")
    rows = []
    for r in df.itertuples(index=False):
        if r.fixed:
            row = [str(r.parameter), _fmt_cell(r.estimate), "(fixed)", "", ""]
            if has_boot:
                row.append("")
        else:
            rel = float(r.rel_err)  # type: ignore[arg-type]
            row = [
                str(r.parameter),
                _fmt_cell(r.estimate),
                _fmt_cell(r.stderr),
                "-" if not math.isfinite(rel) else f"{rel:.2%}",
                _interval(r.lower, r.upper, lambda v: f"{v:.5g}"),
            ]
            if has_boot:
                row.append(_interval(r.boot_lower, r.boot_upper, lambda v: f"{v:.5g}"))
        rows.append(row)
    return head, rows


def _optimal_rows(
    res: FitResult, budgets: Sequence[float], k: float, level: float
) -> tuple[list[str], list[list[str]]]:
    df = optimal_table(res, budgets, k, level)
    has = "N_opt_lower" in df.columns
    head = ["C (FLOPs)", "N* (params)", "D* (tokens)", "D*/N*", "L*"]
    rows = []
    for _, r in df.iterrows():
        cells = [sci(r["C"])]
        for key, fmt in (
            ("N_opt", human),
            ("D_opt", human),
            ("tokens_per_param", lambda v: f"{v:.1f}"),
            ("L_opt", lambda v: f"{v:.3f}"),
        ):
            cell = fmt(r[key])
            if has:
                cell += " " + _interval(r[f"{key}_lower"], r[f"{key}_upper"], fmt)
            cells.append(cell)
        rows.append(cells)
    return head, rows


def _html_table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    e = _html.escape
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = [
        "| " + " | ".join(esc(h) for h in head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .7em;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
table.kv td{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}
.warn{color:#8a4b00}
"""


def report(
    res: FitResult,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    budgets: Sequence[float] | None = DEFAULT_BUDGETS,
    k: float = 6.0,
    level: float = 0.95,
    plots: bool = True,
    embed_images: bool | None = None,
    images: Mapping[str, Any] | None = None,
) -> Path:
    """Write a report of the fit: HTML (``.html``/``.htm``) or Markdown (``.md``).

    Args:
        res: the fit; its bootstrap run, if any, adds intervals, the bootstrap figure and bands.
        path: the report's file; the format comes from the extension.
        title: the report's heading.
        budgets: compute budgets of the compute-optimal table (laws of N and D; None for none).
        k: FLOPs per parameter per token (C = k N D).
        level: coverage of the intervals and bands.
        plots: include the figures (needs matplotlib).
        embed_images: Markdown only: embed figures as data URIs instead of writing PNG files
            to ``<name>_files/`` beside the report. HTML always embeds them.
        images: figures to include instead of drawing them: name -> PNG bytes or a matplotlib
            Figure (e.g. from :func:`figures`, to reuse images already drawn).

    Returns:
        The path written.
    """
    from ._files import check_writable, write_bytes, write_text

    p = check_writable(path)
    fmt = p.suffix.lower()
    if fmt not in (".html", ".htm", ".md", ".markdown"):
        raise InvalidOptionError(f"cannot tell the report format from '{p.name}': use .html or .md")
    markdown = fmt in (".md", ".markdown")
    if not 0.0 < level < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    __version__ = _core.__version__

    title = title or f"powerfit report: {res.law} fit"
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    meta = f"powerfit {__version__}, {stamp}"
    settings = _settings(res)
    phead, prows = _param_rows(res, level)
    opt = _optimal_rows(res, list(budgets), k, level) if budgets and supports_optimal(res) else None
    warns = fit_warnings(res)
    if images is not None:
        figs = _captioned(res, images)
    else:
        figs = _captioned(res, figures(res, k, level)) if plots else []

    if markdown:
        embed = bool(embed_images)
        parts = [
            f"# {title}",
            "",
            f"_{meta}_",
            "",
            "## Fit",
            "",
            _md_table(["", ""], [[a, b] for a, b in settings]),
            "",
            "## Parameters",
            "",
            _md_table(phead, prows),
            "",
        ]
        if opt is not None:
            parts += [f"## Compute-optimal allocation (C = {k:g}·N·D)", "", _md_table(*opt), ""]
        parts += ["## Diagnostics", ""]
        parts += [f"- {w}" for w in warns] if warns else ["No warnings."]
        parts.append("")
        if figs:
            parts += ["## Figures", ""]
            folder = p.with_name(p.stem + "_files")
            if not embed:
                folder.mkdir(exist_ok=True)
            for stem, caption, png in figs:
                if embed:
                    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                else:
                    write_bytes(folder / f"{stem}.png", png)
                    src = f"{folder.name}/{stem}.png"
                parts += [f"![{caption}]({src})", "", f"_{caption}_", ""]
        parts += ["## Summary", "", "```", summary_text(res), "```", ""]
        return write_text(p, "\n".join(parts))

    e = _html.escape
    body = [
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{e(meta)}</p>',
        "<h2>Fit</h2>",
        _html_table(["", ""], [[a, b] for a, b in settings], "kv").replace(
            "<thead><tr><th></th><th></th></tr></thead>", ""
        ),
        "<h2>Parameters</h2>",
        _html_table(phead, prows, "params"),
    ]
    if opt is not None:
        body += [
            f"<h2>Compute-optimal allocation (C = {k:g}·N·D)</h2>",
            _html_table(*opt, "optimal"),
        ]
    body.append("<h2>Diagnostics</h2>")
    if warns:
        body.append("<ul>" + "".join(f'<li class="warn">{e(w)}</li>' for w in warns) + "</ul>")
    else:
        body.append("<p>No warnings.</p>")
    if figs:
        body.append("<h2>Figures</h2>")
        for stem, caption, png in figs:
            b64 = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure id="{stem}"><img alt="{e(caption)}" '
                f'src="data:image/png;base64,{b64}"><figcaption>{e(caption)}</figcaption>'
                f"</figure>"
            )
    body += ["<h2>Summary</h2>", f"<pre>{e(summary_text(res))}</pre>"]
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    return write_text(p, doc)
