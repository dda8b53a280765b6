"""Bad input raises the documented exception.

Every error is a :class:`powerfit.PowerfitError`, itself a ``ValueError``:

* NaN, inf, zero or negative values in N, D, C or the loss -> ``InvalidDataError`` whose
  message names the column and the first bad row;
* fewer points than free parameters, missing columns, columns of different lengths,
  non-numeric values -> ``InvalidDataError``;
* an unknown law, or ``fixed`` / ``bounds`` / ``p0`` naming a parameter the law does not have
  -> ``InvalidLawError``;
* an unknown loss, or bounds that exclude the start -> ``InvalidOptionError``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import powerfit as pf

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def good_columns(n: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """A valid data set (N, D, C and loss), noise-free Chinchilla losses."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(math.log(1e7), math.log(1e10), n))
    D = np.exp(rng.uniform(math.log(1e9), math.log(1e12), n))
    C = 6.0 * N * D
    p = CHINCHILLA
    loss = p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]
    return {"N": N, "D": D, "C": C, "loss": loss}


def law_for(column: str) -> str:
    """A law that reads `column` (the additive law uses every column it is given)."""
    return "additive" if column == "C" else "chinchilla"


def fit_via(container: str, cols: dict, law: str, **kwargs):
    """Calls pf.fit with the columns passed as a dict, keyword arrays or a pandas frame."""
    kwargs.setdefault("warn", False)
    if container == "dict":
        return pf.fit(dict(cols), law=law, **kwargs)
    if container == "pandas":
        import pandas as pd

        return pf.fit(pd.DataFrame(cols), law=law, **kwargs)
    if container == "kwargs":
        arrays = {k: v for k, v in cols.items() if k != "loss"}
        return pf.fit(law=law, y=cols["loss"], **arrays, **kwargs)
    raise AssertionError(container)


def assert_names(exc: pytest.ExceptionInfo, column: str, row: int) -> None:
    msg = str(exc.value)
    assert re.search(rf"\b{re.escape(column)}\b", msg), f"column {column!r} not named in: {msg}"
    assert re.search(rf"\brow {row}\b", msg), f"row {row} not named in: {msg}"


# --- the exception hierarchy -----------------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [pf.InvalidDataError, pf.InvalidLawError, pf.InvalidOptionError, pf.PowerfitError]
)
def test_errors_are_value_errors(exc):
    assert issubclass(exc, pf.PowerfitError)
    assert issubclass(exc, ValueError)


# --- bad values --------------------------------------------------------------------------------

BAD_VALUES = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "zero": 0.0,
    "negative": -1.5,
}


@pytest.mark.parametrize("container", ["dict", "kwargs", "pandas"])
@pytest.mark.parametrize("row", [0, 5, 11])
@pytest.mark.parametrize("bad", list(BAD_VALUES))
@pytest.mark.parametrize("column", ["N", "D", "C"])
def test_bad_value_in_a_variable(column, bad, row, container):
    cols = good_columns()
    cols[column] = cols[column].copy()
    cols[column][row] = BAD_VALUES[bad]
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via(container, cols, law_for(column))
    assert_names(exc, column, row)


@pytest.mark.parametrize("loss", ["l2", "log", "huber_log"])
@pytest.mark.parametrize("container", ["dict", "kwargs", "pandas"])
@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_loss(bad, container, loss):
    cols = good_columns()
    cols["loss"] = cols["loss"].copy()
    cols["loss"][7] = BAD_VALUES[bad]
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via(container, cols, "chinchilla", loss=loss)
    assert_names(exc, "loss", 7)


@pytest.mark.parametrize("loss", ["l2", "log", "huber_log"])
@pytest.mark.parametrize("bad", ["zero", "negative"])
def test_non_positive_loss(bad, loss):
    """Losses (cross-entropies) are positive; the docs list non-positive values as an error
    for every loss, not only for the losses on log residuals."""
    cols = good_columns()
    cols["loss"] = cols["loss"].copy()
    cols["loss"][4] = BAD_VALUES[bad]
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via("dict", cols, "chinchilla", loss=loss)
    assert_names(exc, "loss", 4)


@pytest.mark.parametrize("column", ["N", "D", "loss"])
def test_first_bad_row_is_named(column):
    cols = good_columns()
    cols[column] = cols[column].copy()
    cols[column][9] = math.nan
    cols[column][3] = -math.inf
    cols[column][6] = math.nan
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(cols)
    assert_names(exc, column, 3)


def test_power_law_names_its_column():
    cols = good_columns()
    D = cols["D"].copy()
    D[2] = 0.0
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(law="power", x="D", D=D, y=cols["loss"])
    assert_names(exc, "D", 2)
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit({"D": D, "loss": cols["loss"]}, law="power", x="D")
    assert_names(exc, "D", 2)


@pytest.mark.parametrize("kind", ["pandas", "polars", "dict"])
@pytest.mark.parametrize("column", ["N", "D", "loss"])
def test_mapped_column_is_named_by_its_data_name(column, kind):
    """With columns={...} the message names the user's column, the one they can look up."""
    cols = good_columns()
    cols[column] = cols[column].copy()
    cols[column][5] = math.nan
    names = {"N": "params", "D": "tokens", "loss": "val"}
    renamed = {names[k]: cols[k] for k in ("N", "D", "loss")}
    if kind == "pandas":
        import pandas as pd

        renamed = pd.DataFrame(renamed)
    elif kind == "polars":
        import polars as pl

        renamed = pl.DataFrame(renamed)
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(renamed, columns=names)
    assert_names(exc, names[column], 5)


# --- shape and content -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "law, n, fixed",
    [
        ("chinchilla", 4, None),  # 5 free parameters
        ("chinchilla", 0, None),
        ("chinchilla", 3, {"E": 1.69}),  # 4 free
        ("power", 2, None),  # 3 free
        ("additive", 6, None),  # 7 free with N, D, C
        ("kaplan", 3, None),  # 4 free
    ],
)
def test_fewer_points_than_free_parameters(law, n, fixed):
    cols = {k: v[:n] for k, v in good_columns().items()}
    extra = {"x": "N"} if law == "power" else {}
    if law in ("chinchilla", "kaplan"):
        cols.pop("C")
    with pytest.raises(pf.InvalidDataError):
        pf.fit(cols, law=law, fixed=fixed, **extra)


def test_as_many_points_as_free_parameters_is_allowed():
    cols = {k: v[:3] for k, v in good_columns().items() if k != "C"}
    res = pf.fit(cols, fixed={"E": 1.69, "beta": 0.28}, warn=False)  # 3 free
    assert res.dof == 0


@pytest.mark.parametrize("law", ["chinchila", "Chinchilla", "powerlaw", "", "hoffmann"])
def test_unknown_law(law):
    with pytest.raises(pf.InvalidLawError, match="law"):
        pf.fit(good_columns(), law=law)


def test_law_must_be_a_name():
    with pytest.raises(pf.InvalidLawError):
        pf.fit(good_columns(), law=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", ["l1", "L2", "huber-log", "mse", ""])
def test_unknown_loss(loss):
    with pytest.raises(pf.InvalidOptionError) as exc:
        pf.fit(good_columns(), loss=loss)
    assert repr(loss) in str(exc.value) or f"'{loss}'" in str(exc.value)


def test_unknown_starts():
    with pytest.raises(pf.InvalidOptionError):
        pf.fit(good_columns(), starts="random")


@pytest.mark.parametrize("missing", ["N", "D"])
def test_missing_variable_column(missing):
    cols = {k: v for k, v in good_columns().items() if k not in (missing, "C")}
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(cols, law="chinchilla")
    assert f"'{missing}'" in str(exc.value)
    arrays = {k: v for k, v in cols.items() if k != "loss"}
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(law="chinchilla", y=cols["loss"], **arrays)
    assert missing in str(exc.value)


def test_missing_loss_column():
    cols = {k: v for k, v in good_columns().items() if k != "loss"}
    with pytest.raises(pf.InvalidDataError, match="loss"):
        pf.fit(cols)
    with pytest.raises(pf.InvalidDataError):
        pf.fit(law="chinchilla", N=cols["N"], D=cols["D"])  # no y


def test_missing_mapped_column_is_named():
    cols = good_columns()
    with pytest.raises(pf.InvalidDataError, match="params"):
        pf.fit(cols, columns={"N": "params"})
    with pytest.raises(pf.InvalidDataError, match="val_loss"):
        pf.fit(cols, columns={"loss": "val_loss"})


@pytest.mark.parametrize("container", ["dict", "kwargs"])
@pytest.mark.parametrize("short", ["N", "D", "loss"])
def test_mismatched_lengths(short, container):
    cols = good_columns()
    cols.pop("C")
    cols[short] = cols[short][:-1]
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via(container, cols, "chinchilla")
    assert "rows" in str(exc.value) or "length" in str(exc.value)


@pytest.mark.parametrize("container", ["dict", "pandas", "kwargs"])
@pytest.mark.parametrize("column", ["N", "D", "loss"])
def test_non_numeric_value_names_the_row(column, container):
    cols = {k: list(v) for k, v in good_columns().items() if k != "C"}
    cols[column][4] = "oops"
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via(container, cols, "chinchilla")
    # passed as y=, the losses are named by that argument
    assert_names(exc, "y" if (column, container) == ("loss", "kwargs") else column, 4)
    assert "oops" in str(exc.value)


def test_missing_value_in_an_object_column():
    cols = {k: list(v) for k, v in good_columns().items() if k != "C"}
    cols["D"][8] = None
    with pytest.raises(pf.InvalidDataError) as exc:
        pf.fit(cols)
    assert_names(exc, "D", 8)


def test_boolean_column():
    cols = good_columns()
    cols["N"] = cols["N"] > 1e8
    with pytest.raises(pf.InvalidDataError, match="N"):
        pf.fit(cols)


def test_two_dimensional_column():
    cols = good_columns()
    cols["N"] = cols["N"].reshape(3, 4)
    with pytest.raises(pf.InvalidDataError, match="N"):
        pf.fit(cols)


def test_unsupported_data_object():
    with pytest.raises(pf.InvalidDataError):
        pf.fit([[1e8, 1e10, 3.0]] * 10)


# --- parameters the law does not have --------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        {"fixed": {"gamma": 0.3}},
        {"fixed": {"L_inf": 1.7}},  # the power law's constant, not Chinchilla's
        {"bounds": {"alpha_N": (0.0, 1.0)}},
        {"bounds": {"e": (0.0, 3.0)}},  # names are case-sensitive
        {"p0": {"E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.3, "beta": 0.3, "C": 1.0}},
    ],
)
def test_option_names_unknown_parameter(option):
    with pytest.raises(pf.InvalidLawError) as exc:
        pf.fit(good_columns(), law="chinchilla", **option)
    (values,) = option.values()
    unknown = next(k for k in values if k not in CHINCHILLA)
    assert f"'{unknown}'" in str(exc.value)


@pytest.mark.parametrize("starts", ["auto", "given"])
@pytest.mark.parametrize("as_sequence", [False, True])
def test_bounds_that_exclude_the_start(starts, as_sequence):
    p0 = dict(CHINCHILLA)  # alpha = 0.34
    start = list(p0.values()) if as_sequence else p0
    with pytest.raises(pf.InvalidOptionError, match="alpha"):
        pf.fit(good_columns(), p0=start, bounds={"alpha": (0.5, 1.0)}, starts=starts)


def test_empty_bounds():
    with pytest.raises(pf.InvalidOptionError, match="beta"):
        pf.fit(good_columns(), bounds={"beta": (0.6, 0.2)})


def test_p0_of_the_wrong_length():
    with pytest.raises(pf.InvalidOptionError):
        pf.fit(good_columns(), p0=[1.7, 400.0, 400.0, 0.3])


# --- property: bad entries anywhere ----------------------------------------------------------

non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
non_positive = st.one_of(st.just(0.0), st.just(-0.0), st.floats(max_value=-1e-300, allow_nan=False))
bad_anything = st.one_of(non_finite, non_positive)


def _is_bad(v: float, positive: bool) -> bool:
    return not math.isfinite(v) or (positive and v <= 0.0)


@given(
    law=st.sampled_from(["chinchilla", "additive", "kaplan", "power"]),
    loss=st.sampled_from(["l2", "log", "huber_log"]),
    container=st.sampled_from(["dict", "kwargs", "pandas"]),
    n=st.integers(8, 60),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_bad_entries_anywhere_raise_invalid_data(law, loss, container, n, seed, data):
    cols = good_columns(n, seed)
    variables = {"chinchilla": ["N", "D"], "kaplan": ["N", "D"], "additive": ["N", "D", "C"]}
    used = variables.get(law, ["N"])
    cols = {k: cols[k].copy() for k in used + ["loss"]}
    # Which entries must be rejected: any non-finite value; a non-positive value in a
    # variable, or in the loss under a loss on log residuals.
    positive = {k: (k != "loss" or loss != "l2") for k in cols}
    n_bad = data.draw(st.integers(1, 6), label="n_bad")
    for _ in range(n_bad):
        col = data.draw(st.sampled_from(sorted(cols)), label="column")
        row = data.draw(st.integers(0, n - 1), label="row")
        value = data.draw(bad_anything if positive[col] else non_finite, label="value")
        cols[col][row] = value
    first_bad = {
        k: next((i for i, v in enumerate(col) if _is_bad(v, positive[k])), None)
        for k, col in cols.items()
    }
    note(f"first bad row per column: {first_bad}")
    extra = {"x": "N"} if law == "power" else {}
    with pytest.raises(pf.InvalidDataError) as exc:
        fit_via(container, cols, law, loss=loss, **extra)
    msg = str(exc.value)
    m = re.search(r"column '([^']+)'.*\brow (\d+)\b", msg)
    assert m, f"message does not name a column and a row: {msg}"
    column, row = m.group(1), int(m.group(2))
    assert column in cols, msg
    assert first_bad[column] is not None, f"column {column!r} has no bad value: {msg}"
    assert row == first_bad[column], f"expected row {first_bad[column]}: {msg}"
