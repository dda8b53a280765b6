"""Shareable reports of a fit (HTML or Markdown) and the tables they hold.

:func:`report` writes one file to send to a team: where the fit came from (input file and its
SHA-256, the call or command, powerfit version, dates, the interval method and replicate count),
the law as a formula (MathML, rendered by the browser without a script), the fit's settings and
statistics, one parameter table (with bootstrap intervals when the fit has a bootstrap run), the
compute-optimal allocation for laws of N and D, the diagnostics, and the figures of
:mod:`powerfit.plot` at 150 dpi (or SVG). An HTML report is self-contained (figures embedded);
a Markdown report links figures written beside it (``<name>_files/``), or embeds them with
``embed_images=True``. Every string that comes from the user (titles, column and law names,
file and image names, warnings quoting them) is escaped for the format it lands in.

The table helpers (:func:`param_table`, :func:`format_optimal`, :func:`format_params`) are also
what the command line prints.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io as _io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _core
from ._deprecate import renamed
from ._markup import code_span, html_text, markdown, slug, terminal, url_path
from ._mathml import to_mathml
from .analysis import nd_index, optimal_table, supports_optimal
from .diagnostics import fit_warnings
from .errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from .record import FitRecord as FitResult

#: Chinchilla's own budget, 70B parameters on 1.4T tokens at C = 6 N D: 5.88e23 FLOPs (the
#: budget the README and the demo quote).
CHINCHILLA_BUDGET = 6 * 70e9 * 1.4e12
#: Default budgets of the compute-optimal table in reports.
DEFAULT_BUDGETS = (1e21, 1e22, 1e23, CHINCHILLA_BUDGET, 1e24, 1e25)
#: Resolution of the figures in reports.
REPORT_DPI = 150
FIGURE_FORMATS = ("png", "svg")


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
    boot = res.boot
    if _usable(boot):
        ci = boot.ci(level=level).set_index("parameter")
        df["boot_lower"] = [ci["lower"].get(n, math.nan) for n in df["parameter"]]
        df["boot_upper"] = [ci["upper"].get(n, math.nan) for n in df["parameter"]]
    return df


def _usable(boot: Any) -> bool:
    return boot is not None and (boot.n - boot.n_failed) >= 2


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
    """A compute budget in short scientific notation: 1e21, 5.88e23."""
    if not math.isfinite(v) or v <= 0:
        return f"{v:g}"
    m, e = f"{v:.3e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def text_table(head: list[str], rows: list[list[str]], gap: int = 3) -> str:
    """A plain text table: right-aligned columns (the first left-aligned) under a rule.
    Control characters in cells are shown escaped, never sent to the terminal."""
    head = [terminal(h) for h in head]
    rows = [[terminal(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return (" " * gap).join(out).rstrip()

    rule = (" " * gap).join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in rows)])


@renamed({"k": "flops_per_param_token"})
def format_optimal(
    res: FitResult,
    budgets: Sequence[float],
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
) -> str:
    """The compute-optimal table as text for the terminal."""
    head, rows = _optimal_rows(res, budgets, flops_per_param_token, level)
    note = f"compute-optimal allocation, C = {flops_per_param_token:g}·N·D"
    if _usable(res.boot):
        note += f"; [{level:.0%} bootstrap percentile intervals]"
    return note + "\n" + text_table(head, rows)


def format_params(res: FitResult, level: float = 0.95) -> str:
    """:func:`param_table` as a text table for the terminal."""
    head, rows = _param_rows(res, level)
    return text_table(head, rows)


def _fmt_cell(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return "-" if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def _param_rows(res: FitResult, level: float) -> tuple[list[str], list[list[str]]]:
    df = param_table(res, level)
    head = ["parameter", "estimate", "std err", "rel err", f"{level:.0%} CI (normal)"]
    has_boot = "boot_lower" in df.columns
    if has_boot:
        head.append(f"{level:.0%} CI (bootstrap)")
    rows = []
    for r in df.to_dict("records"):
        if r["fixed"]:
            row = [str(r["parameter"]), _fmt_cell(float(r["estimate"])), "(fixed)", "", ""]
            if has_boot:
                row.append("")
        else:
            rel = float(r["rel_err"])
            row = [
                str(r["parameter"]),
                _fmt_cell(float(r["estimate"])),
                _fmt_cell(float(r["stderr"])),
                "-" if not math.isfinite(rel) else f"{rel:.2%}",
                _interval(r["lower"], r["upper"], lambda v: f"{v:.5g}"),
            ]
            if has_boot:
                row.append(_interval(r["boot_lower"], r["boot_upper"], lambda v: f"{v:.5g}"))
        rows.append(row)
    return head, rows


def _optimal_rows(
    res: FitResult, budgets: Sequence[float], k: float, level: float
) -> tuple[list[str], list[list[str]]]:
    df = optimal_table(res, budgets, k, level)
    has = "N_opt_lower" in df.columns
    head = ["C (FLOPs)", "N_opt (params)", "D_opt (tokens)", "D_opt/N_opt", "L_opt"]
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


# --- figures ---------------------------------------------------------------------------------
def _image(fig: Any, fmt: str = "png", dpi: float = REPORT_DPI) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


#: The report's figures: name -> caption.
FIGURE_CAPTIONS = {
    "fit": "Data and fitted law",
    "residuals": "Residuals",
    "bootstrap": "Bootstrap distributions of the parameters",
    "frontier": "Compute-optimal frontier",
}


@renamed({"k": "flops_per_param_token"})
def figures(
    res: FitResult,
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    *,
    fmt: str = "png",
    dpi: float = REPORT_DPI,
) -> dict[str, bytes]:
    """Images (PNG at ``dpi``, or SVG) of every figure that applies to the fit, by name
    (``fit``, ``residuals``, and ``bootstrap`` and ``frontier`` when there are a bootstrap run
    and N and D terms)."""
    from . import plot

    if fmt not in FIGURE_FORMATS:
        raise InvalidOptionError(f"figure format must be png or svg, got {fmt!r}")
    k = flops_per_param_token
    out = {
        "fit": _image(plot.plot_fit(res, flops_per_param_token=k, level=level), fmt, dpi),
        "residuals": _image(plot.plot_residuals(res), fmt, dpi),
    }
    if _usable(res.boot):
        out["bootstrap"] = _image(plot.plot_bootstrap(res.boot, level=level), fmt, dpi)
    if supports_optimal(res):
        fig = plot.plot_frontier(res, flops_per_param_token=k, level=level)
        out["frontier"] = _image(fig, fmt, dpi)
    return out


def _mime(data: bytes) -> str:
    head = data[:256].lstrip()
    return "image/svg+xml" if head.startswith((b"<?xml", b"<svg")) else "image/png"


def _captioned(
    res: FitResult, figs: Mapping[Any, Any], fmt: str, dpi: float
) -> list[tuple[str, str, bytes]]:
    """(file stem, caption, image bytes) per figure; stems are safe and unique whatever the
    names given."""
    out: list[tuple[str, str, bytes]] = []
    used: set[str] = set()
    for name, img in figs.items():
        data = img if isinstance(img, bytes) else _image(img, fmt, dpi)
        caption = FIGURE_CAPTIONS.get(name, str(name))
        if name == "fit" and res.boot is not None:
            caption += " with the bootstrap band"
        out.append((slug(name, used), caption, data))
    return out


# --- what goes in a report -------------------------------------------------------------------
#: Formulas of the built-in laws, in the notation of written laws (parsed into MathML).
_LAW_TEXT = {
    "power": "L = L_inf + A*{x}^-alpha",
    "chinchilla": "L = E + A*N^-alpha + B*D^-beta",
    "kaplan": "L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
    "m1": "L = beta*{x}^-c",
    "m2": "L = eps_inf + beta*{x}^-c",
    "m3": "L = beta*({x}^-1 + gamma)^c",
    "m4": "(L - eps_inf)/(eps_0 - L)^alpha = beta*{x}^-c",
    "bnsl": "L = a + b*{x}^-c0*(1 + ({x}/d1)^(1/f1))^(-c1*f1)",
    "bnsl2": "L = a + b*{x}^-c0*(1 + ({x}/d1)^(1/f1))^(-c1*f1)*(1 + ({x}/d2)^(1/f2))^(-c2*f2)",
    "data_constrained": "L = E + A*N'^-alpha + B*D'^-beta",
}
_ADDITIVE = {"N": "A*N^-alpha", "D": "B*D^-beta", "C": "E*C^-gamma"}

#: The closed-form compute-optimal allocation, for the report.
OPTIMAL_FORMULAS = (
    "N_opt = G*(C/k)^a",
    "D_opt = G^-1*(C/k)^b",
    "a = beta/(alpha + beta)",
    "b = alpha/(alpha + beta)",
    "G = ((alpha*A)/(beta*B))^(1/(alpha + beta))",
)


def law_text(res: FitResult) -> str:
    """The fit's law as a formula in the notation of written laws."""
    if res.written_law is not None:
        return res.formula
    vs = list(res.variables)
    if res.law == "additive":
        return "L = L_inf + " + " + ".join(_ADDITIVE[v] for v in vs if v in _ADDITIVE)
    text = _LAW_TEXT.get(res.law)
    return text.format(x=vs[0] if vs else "x") if text else res.formula


def _interval_note(res: FitResult, level: float) -> str:
    boot = res.boot
    if _usable(boot):
        return (
            f"{level:.0%} bootstrap percentile intervals from {boot.n} {boot.resample} "
            f"replicates (seed {boot.seed}; {boot.n_failed} failed and excluded)"
        )
    return f"{level:.0%} normal-approximation intervals from the covariance (no bootstrap)"


def provenance_rows(
    res: FitResult, level: float, extra: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Where the fit came from, as (field, value) rows: ``extra`` (e.g. the command line that
    made the report) overrides the fit's own record."""
    prov = dict(getattr(res, "provenance", None) or {})
    prov.update(extra or {})
    boot = res.boot
    rows = [
        ("input", prov.get("source", "unknown")),
        ("input SHA-256", prov.get("sha256", "-")),
        ("data SHA-256", prov.get("data sha256", "-")),
        ("call", prov.get("call", "-")),
    ]
    if boot is not None:
        rows.append(
            (
                "bootstrap",
                f"res.bootstrap(n_boot={boot.n}, resample={boot.resample!r}, seed={boot.seed})",
            )
        )
    rows += [
        ("intervals", _interval_note(res, level)),
        ("powerfit", str(prov.get("powerfit", _core.__version__))),
        ("fitted", prov.get("created", "-")),
        ("report written", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    return rows


def _settings(res: FitResult) -> list[tuple[str, str]]:
    loss = res.loss + (f" (delta={res.delta:g})" if "huber" in res.loss else "")
    if "asymmetric" in res.loss:
        loss += f" (overestimate_penalty={res.overestimate_penalty:g})"
    cols = ", ".join(f"{v} = {c}" if v != c else v for v, c in zip(res.variables, res.columns))
    rows = [
        ("law", res.law),
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
    return rows


# --- rendering -------------------------------------------------------------------------------
def _html_table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    e = html_text
    th = "".join(f'<th scope="col">{e(h)}</th>' for h in head) if any(head) else ""
    thead = f"<thead><tr>{th}</tr></thead>" if th else ""
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{e(cls)}"' if cls else ""
    return f'<div class="scroll"><table{attr}>{thead}<tbody>{body}</tbody></table></div>'


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(markdown(h) for h in head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    lines += ["| " + " | ".join(markdown(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em;overflow-wrap:anywhere}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666;font-size:.9em}
.scroll{max-width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .7em;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
table.kv td{text-align:left;white-space:normal;overflow-wrap:anywhere}
table.kv td:first-child{white-space:nowrap;color:#555}
.formula{overflow-x:auto;font-size:1.1em;margin:.6em 0}
math{font-family:"STIX Two Math","Cambria Math","Latin Modern Math",serif}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
ul.warn li{color:#8a4b00;overflow-wrap:anywhere}
@media (max-width:600px){body{margin:1em auto;padding:0 .5em}
table{font-size:.82em}th,td{padding:.25em .4em}}
"""


def _report_parts(
    res: FitResult,
    budgets: Sequence[float] | None,
    k: float,
    level: float,
    extra: Mapping[str, str] | None,
) -> dict[str, Any]:
    opt = None
    if budgets and supports_optimal(res):
        opt = _optimal_rows(res, list(budgets), k, level)
    return {
        "provenance": provenance_rows(res, level, extra),
        "law": law_text(res),
        "settings": _settings(res),
        "params": _param_rows(res, level),
        "optimal": opt,
        "closed_form": nd_index(res) is not None,
        "warnings": fit_warnings(res),
    }


def _markdown(
    parts: dict[str, Any],
    title: str,
    figs: list[tuple[str, str, bytes]],
    p: Path,
    k: float,
    embed: bool,
) -> str:
    from ._files import write_bytes

    out = [f"# {markdown(title)}", "", "## Provenance", ""]
    out += [_md_table(["", ""], [list(r) for r in parts["provenance"]]), ""]
    out += ["## Law", "", code_span(parts["law"]), ""]
    out += [_md_table(["", ""], [list(r) for r in parts["settings"]]), ""]
    out += ["## Parameters", "", _md_table(*parts["params"]), ""]
    if parts["optimal"] is not None:
        out += [f"## Compute-optimal allocation (C = {k:g}·N·D)", ""]
        if parts["closed_form"]:
            out += ["; ".join(code_span(f) for f in OPTIMAL_FORMULAS), ""]
        out += [_md_table(*parts["optimal"]), ""]
    out += ["## Diagnostics", ""]
    out += [f"- {markdown(w)}" for w in parts["warnings"]] or ["No warnings."]
    out.append("")
    if figs:
        out += ["## Figures", ""]
        folder = p.with_name(p.stem + "_files")
        if not embed:
            folder.mkdir(exist_ok=True)
        for stem, caption, data in figs:
            ext = "svg" if _mime(data) == "image/svg+xml" else "png"
            if embed:
                src = f"data:{_mime(data)};base64," + base64.b64encode(data).decode("ascii")
            else:
                write_bytes(folder / f"{stem}.{ext}", data)
                src = url_path(f"{folder.name}/{stem}.{ext}")
            out += [f"![{markdown(caption)}]({src})", "", f"_{markdown(caption)}_", ""]
    return "\n".join(out)


def _html(parts: dict[str, Any], title: str, figs: list[tuple[str, str, bytes]], k: float) -> str:
    e = html_text
    kv = [list(r) for r in parts["provenance"]]
    body = [
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">powerfit {e(_core.__version__)}</p>',
        "<h2>Provenance</h2>",
        _html_table(["", ""], kv, "kv"),
        "<h2>Law</h2>",
        f'<div class="formula">{to_mathml(parts["law"])}</div>',
        _html_table(["", ""], [list(r) for r in parts["settings"]], "kv"),
        "<h2>Parameters</h2>",
        _html_table(parts["params"][0], parts["params"][1], "params"),
    ]
    if parts["optimal"] is not None:
        body.append(f"<h2>Compute-optimal allocation (C = {e(f'{k:g}')}·N·D)</h2>")
        if parts["closed_form"]:
            body.append(
                '<div class="formula">'
                + "".join(to_mathml(f, "inline") + " " for f in OPTIMAL_FORMULAS)
                + "</div>"
            )
        body.append(_html_table(parts["optimal"][0], parts["optimal"][1], "optimal"))
    body.append("<h2>Diagnostics</h2>")
    if parts["warnings"]:
        items = "".join(f"<li>{e(w)}</li>" for w in parts["warnings"])
        body.append(f'<ul class="warn">{items}</ul>')
    else:
        body.append("<p>No warnings.</p>")
    if figs:
        body.append("<h2>Figures</h2>")
        for stem, caption, data in figs:
            b64 = base64.b64encode(data).decode("ascii")
            body.append(
                f'<figure id="fig-{e(stem)}"><img alt="{e(caption)}" '
                f'src="data:{_mime(data)};base64,{b64}"><figcaption>{e(caption)}</figcaption>'
                "</figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


@renamed({"k": "flops_per_param_token"})
def report(
    res: FitResult,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    budgets: Sequence[float] | None = DEFAULT_BUDGETS,
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    plots: bool = True,
    embed_images: bool | None = None,
    images: Mapping[str, Any] | None = None,
    figure_format: str = "png",
    dpi: float = REPORT_DPI,
    provenance: Mapping[str, str] | None = None,
) -> Path:
    """Write a report of the fit: HTML (``.html``/``.htm``) or Markdown (``.md``).

    Args:
        res: the fit; its bootstrap run, if any, adds intervals, the bootstrap figure and bands.
        path: the report's file; the format comes from the extension.
        title: the report's heading.
        budgets: compute budgets of the compute-optimal table (laws of N and D; None for none).
            The default includes Chinchilla's 5.88e23 FLOPs.
        flops_per_param_token: k in C = k N D (formerly ``k``).
        level: coverage of the intervals and bands.
        plots: include the figures (needs matplotlib).
        embed_images: Markdown only: embed figures as data URIs instead of writing them to
            ``<name>_files/`` beside the report. HTML always embeds them.
        images: figures to include instead of drawing them: name -> PNG or SVG bytes or a
            matplotlib Figure (e.g. from :func:`figures`, to reuse images already drawn).
        figure_format: ``"png"`` (at ``dpi``) or ``"svg"`` for the figures drawn here.
        dpi: resolution of PNG figures (150 by default).
        provenance: fields that override the fit's own record (:attr:`FitResult.provenance`):
            ``source``, ``sha256``, ``call``, ... (the command line passes the command).

    Returns:
        The path written.
    """
    from ._files import check_writable, write_text

    p = check_writable(path)
    fmt = p.suffix.lower()
    if fmt not in (".html", ".htm", ".md", ".markdown"):
        raise InvalidOptionError(f"cannot tell the report format from '{p.name}': use .html or .md")
    if not 0.0 < level < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    if figure_format not in FIGURE_FORMATS:
        raise InvalidOptionError(f"figure_format must be png or svg, got {figure_format!r}")
    k = flops_per_param_token
    parts = _report_parts(res, budgets, k, level, provenance)
    if images is not None:
        figs = _captioned(res, images, figure_format, dpi)
    elif plots:
        drawn = figures(res, k, level, fmt=figure_format, dpi=dpi)
        figs = _captioned(res, drawn, figure_format, dpi)
    else:
        figs = []
    title = title or f"powerfit report: {res.law} fit"
    if fmt in (".md", ".markdown"):
        return write_text(p, _markdown(parts, title, figs, p, k, bool(embed_images)))
    return write_text(p, _html(parts, title, figs, k))
