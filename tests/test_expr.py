"""User-written laws, :class:`powerfit.Law`.

* Hypothesis: random expression trees over the whole grammar, printed with the fewest
  parentheses the precedence rules allow, evaluate to what a reference evaluator written here
  (numpy scalars over the tree, with the documented semantics) computes, within a first-order
  rounding-error bound that the evaluator carries along; their exact derivatives match
  finite differences wherever the law is smooth enough for finite differences to be trusted.
* Hypothesis: random strings either compile or raise ``InvalidLawError``; nothing else escapes
  and the process survives (deep nesting included).
* The Python API: validation, defaults, immutability, pickling.
* Fitting: every feature works with a written law (losses, fixed, bounds, starts, bootstrap,
  summary, predict), a written Chinchilla law reproduces the built-in one, a law that is NaN at
  the start is rejected with a message, and the README examples run.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import powerfit as pf
from powerfit import _core

EPS = 2.220446049250313e-16

# ------------------------------------------------------------------------------------------
# Expression trees, their printing and a reference evaluator
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    v: float


@dataclass(frozen=True)
class Name:
    name: str  # "x", "y" are variables; anything else a parameter


@dataclass(frozen=True)
class Neg:
    a: Any


@dataclass(frozen=True)
class Bin:
    op: str  # + - * /
    a: Any
    b: Any


@dataclass(frozen=True)
class Pow:
    a: Any
    b: Any
    style: str  # "^", "**" or "pow"


@dataclass(frozen=True)
class Call:
    f: str
    args: tuple


Tree = Num | Name | Neg | Bin | Pow | Call
VARS = ("x", "y")
PARAMS = ("a", "b", "c")
UNARY = ("exp", "log", "log10", "sqrt", "abs", "sin", "cos", "tan", "atan", "tanh")
BINARY = ("min", "max")

# precedence: sum 1, product 2, unary minus 3, power 4, atom 5
PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def prec(t: Tree) -> int:
    if isinstance(t, Bin):
        return PREC[t.op]
    if isinstance(t, Neg):
        return 3
    if isinstance(t, Pow) and t.style != "pow":
        return 4
    return 5


def show(t: Tree, spaces: bool = True) -> str:
    """The tree with the fewest parentheses the grammar needs."""

    def wrap(c: Tree, need: int) -> str:
        s = show(c, spaces)
        return s if prec(c) >= need else f"({s})"

    sp = " " if spaces else ""
    if isinstance(t, Num):
        return repr(t.v) if not float(t.v).is_integer() else str(int(t.v))
    if isinstance(t, Name):
        return t.name
    if isinstance(t, Neg):
        return "-" + wrap(t.a, 3)
    if isinstance(t, Bin):
        p = PREC[t.op]
        return f"{wrap(t.a, p)}{sp}{t.op}{sp}{wrap(t.b, p + 1)}"
    if isinstance(t, Pow):
        if t.style == "pow":
            return f"pow({show(t.a, spaces)},{sp}{show(t.b, spaces)})"
        return f"{wrap(t.a, 5)}{t.style}{wrap(t.b, 3)}"
    if isinstance(t, Call):
        return f"{t.f}(" + f",{sp}".join(show(a, spaces) for a in t.args) + ")"
    raise TypeError(t)


def names(t: Tree) -> list[str]:
    """Names in order of first appearance (left to right, as the parser reads them)."""
    out: list[str] = []

    def walk(t: Tree) -> None:
        if isinstance(t, Name):
            if t.name not in out:
                out.append(t.name)
        elif isinstance(t, Neg):
            walk(t.a)
        elif isinstance(t, (Bin, Pow)):
            walk(t.a)
            walk(t.b)
        elif isinstance(t, Call):
            for a in t.args:
                walk(a)

    walk(t)
    return out


def is_const(t: Tree) -> bool:
    return not names(t)


f64 = np.float64


def _div(x: float, y: float) -> float:
    """x / y for error bounds: infinite (or NaN) instead of ZeroDivisionError."""
    with np.errstate(all="ignore"):
        return float(f64(x) / f64(y))


def ref(t: Tree, env: dict[str, float]) -> tuple[float, float]:
    """(value, first-order bound on the rounding error of computing it in double precision).

    Semantics as documented: ``a^n`` with a constant integer exponent (|n| <= 1024) is the exact
    integer power, 0.5 is sqrt, any other power exp(b log a); min/max propagate NaN."""
    u = EPS
    with np.errstate(all="ignore"):
        if isinstance(t, Num):
            return float(t.v), 0.0
        if isinstance(t, Name):
            return float(env[t.name]), 0.0
        if isinstance(t, Neg):
            a, ea = ref(t.a, env)
            return -a, ea
        if isinstance(t, Bin):
            a, ea = ref(t.a, env)
            b, eb = ref(t.b, env)
            A, B = f64(a), f64(b)
            if t.op == "+":
                v = float(A + B)
                return v, ea + eb + u * abs(v)
            if t.op == "-":
                v = float(A - B)
                return v, ea + eb + u * abs(v)
            if t.op == "*":
                v = float(A * B)
                return v, abs(b) * ea + abs(a) * eb + u * abs(v)
            v = float(A / B)
            return v, _div(ea, abs(b)) + _div(abs(v), abs(b)) * eb + u * abs(v)
        if isinstance(t, Pow):
            a, ea = ref(t.a, env)
            if is_const(t.b):
                c, _ = ref(t.b, {})
                if math.isfinite(c) and c == math.trunc(c) and abs(c) <= 1024:
                    n = int(c)
                    if n == 0:
                        return 1.0, 0.0
                    v = float(f64(a) ** n)
                    d = abs(n * float(f64(a) ** (n - 1)))
                    return v, d * ea + (abs(n) + 1) * u * abs(v)
                if c == 0.5:
                    v = float(np.sqrt(f64(a)))
                    return v, _div(ea, 2 * abs(v)) + u * abs(v)
            b, eb = ref(t.b, env)
            la = float(np.log(f64(a)))
            v = float(np.exp(f64(b) * f64(la)))
            # d/da = b v / a, d/db = v log a; the exponent b log a carries ~|b log a| u
            err = (
                abs(_div(b * v, a)) * ea + abs(v * la) * eb + abs(v) * u * (4 + 2 * abs(b * la))
                if a != 0
                else math.inf
            )
            return v, err
        if isinstance(t, Call):
            vals = [ref(x, env) for x in t.args]
            a, ea = vals[0]
            A = f64(a)
            if t.f == "min" or t.f == "max":
                b, eb = vals[1]
                if math.isnan(a) or math.isnan(b):
                    return math.nan, 0.0
                v = min(a, b) if t.f == "min" else max(a, b)
                return v, max(ea, eb)
            table = {
                "exp": (np.exp, lambda v: abs(v)),
                "log": (np.log, lambda v: _div(1, abs(a))),
                "log10": (np.log10, lambda v: _div(1, abs(a) * math.log(10))),
                "sqrt": (np.sqrt, lambda v: _div(1, 2 * abs(v))),
                "abs": (np.abs, lambda v: 1.0),
                "sin": (np.sin, lambda v: abs(math.cos(a))),
                "cos": (np.cos, lambda v: abs(math.sin(a))),
                "tan": (np.tan, lambda v: 1 + v * v),
                "atan": (np.arctan, lambda v: 1 / (1 + a * a)),
                "tanh": (np.tanh, lambda v: 1 - v * v),
            }
            fn, deriv = table[t.f]
            v = float(fn(A))
            if not math.isfinite(v) or not math.isfinite(a):
                return v, 0.0
            # libm's sin/cos/tan/exp of a large argument: a few ulps of the argument
            return v, deriv(v) * (ea + 4 * u * abs(a)) + 4 * u * abs(v)
    raise TypeError(t)


# ------------------------------------------------------------------------------------------
# Strategies
# ------------------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(0, 4).map(lambda i: Num(float(i))),
    st.sampled_from([0.5, 1.5, 0.25, 2.5, 1e-3, 3e2]).map(Num),
    st.floats(0.01, 10.0, allow_nan=False).map(lambda v: Num(float(f"{v:.6g}"))),
)
leaves = st.one_of(numbers, st.sampled_from(VARS + PARAMS).map(Name))


def extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    exponents = st.one_of(
        children,
        st.integers(-3, 3).map(lambda i: Num(float(i)) if i >= 0 else Neg(Num(float(-i)))),
        st.sampled_from([Num(0.5), Neg(Num(0.5)), Num(1.5)]),
    )
    return st.one_of(
        children.map(Neg),
        st.builds(Bin, st.sampled_from("+-*/"), children, children),
        st.builds(Pow, children, exponents, st.sampled_from(["^", "**", "pow"])),
        st.builds(Call, st.sampled_from(UNARY), children.map(lambda c: (c,))),
        st.builds(Call, st.sampled_from(BINARY), st.tuples(children, children)),
    )


trees = st.recursive(leaves, extend, max_leaves=10)
values = st.floats(-3.0, 3.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


def law_for(t: Tree) -> tuple[Tree, pf.Law | None, list[str], list[str]]:
    """A law from the tree (plus a term so that it has a variable and a parameter), or None
    when compilation legitimately refuses it (a name that constant folding removes, x^0)."""
    ns = names(t)
    if not any(n in VARS for n in ns) or not any(n in PARAMS for n in ns):
        t = Bin("+", t, Bin("*", Name("q"), Name("x")))
        ns = names(t)
    variables = [n for n in ns if n in VARS]
    try:
        law = pf.Law(show(t), variables=variables)
    except pf.InvalidLawError as e:
        assert "does not depend on" in str(e), str(e)
        return t, None, variables, []
    params = list(law.params)
    assert params == [n for n in ns if n not in VARS]
    return t, law, variables, params


# ------------------------------------------------------------------------------------------
# Random trees: values and derivatives
# ------------------------------------------------------------------------------------------


@given(
    trees,
    st.lists(st.tuples(values, values), min_size=1, max_size=6),
    st.lists(values, min_size=4, max_size=4),
    st.booleans(),
)
def test_random_trees_match_the_reference_evaluator(t, points, pvals, spaces):
    t, law, variables, params = law_for(t)
    if law is None:
        return
    # spacing does not matter
    assert pf.Law(show(t, spaces), variables=variables).params == law.params
    p = dict(zip(params, pvals))
    cols = {v: np.array([pt[VARS.index(v)] for pt in points]) for v in variables}
    note(f"law {show(t)!r}, params {p}, points {cols}")
    vals, jac = law.jacobian(p, **cols)
    assert vals.shape == (len(points),) and jac.shape == (len(points), len(params))
    for i in range(len(points)):
        env = {**p, **{v: float(cols[v][i]) for v in variables}}
        want, err = ref(t, env)
        if not math.isfinite(want) or abs(want) > 1e200 or not math.isfinite(err):
            continue
        if err > 1e-6 * max(abs(want), 1e-300) and err > 1e-12:
            continue  # ill-conditioned here: rounding alone moves the value
        tol = 64 * err + 1e-300
        assert abs(vals[i] - want) <= tol, (show(t), env, vals[i], want, err)
        # derivatives against central differences of the reference evaluator
        for k, name in enumerate(params):
            g = jac[i, k]
            fds = []
            for h in (1e-5 * max(1.0, abs(p[name])), 2.5e-6 * max(1.0, abs(p[name]))):
                up, _ = ref(t, {**env, name: env[name] + h})
                dn, _ = ref(t, {**env, name: env[name] - h})
                fds.append((up - dn) / (2 * h))
            noise = 100 * (err + EPS * abs(want)) / 2.5e-6
            if not all(math.isfinite(v) for v in fds):
                continue
            if abs(fds[0] - fds[1]) > 1e-3 * max(abs(fds[1]), 1e-8) + noise:
                continue  # not smooth enough at this scale for finite differences
            assert math.isfinite(g), (show(t), env, name, g, fds)
            assert abs(g - fds[1]) <= 1e-4 * max(abs(fds[1]), abs(g)) + noise + 1e-9, (
                show(t),
                env,
                name,
                g,
                fds,
            )


@given(trees)
def test_printing_round_trips_through_the_parser(t):
    """Fully parenthesised and minimally parenthesised text compile to the same law."""
    t, law, variables, params = law_for(t)
    if law is None:
        return

    def full(t: Tree) -> str:
        if isinstance(t, (Num, Name)):
            return show(t)
        if isinstance(t, Neg):
            return f"(-{full(t.a)})"
        if isinstance(t, Bin):
            return f"({full(t.a)} {t.op} {full(t.b)})"
        if isinstance(t, Pow):
            return f"({full(t.a)}^{full(t.b)})"
        return f"{t.f}(" + ", ".join(full(a) for a in t.args) + ")"

    other = pf.Law(full(t), variables=variables)
    assert other.params == law.params
    rng = np.random.default_rng(0)
    cols = {v: rng.uniform(0.5, 2.0, 5) for v in variables}
    p = dict(zip(params, rng.uniform(0.5, 1.5, len(params))))
    a, b = law.evaluate(p, **cols), other.evaluate(p, **cols)
    assert np.array_equal(a, b, equal_nan=True)


# ------------------------------------------------------------------------------------------
# Random strings: compile or InvalidLawError, never anything else
# ------------------------------------------------------------------------------------------

GRAMMAR_CHARS = list("xyab01234.56789eE+-*/^(),  ") + ["**", "exp(", "log(", "pow(", "pi", "min("]


@given(
    st.one_of(
        st.lists(st.sampled_from(GRAMMAR_CHARS), max_size=30).map("".join),
        st.text(max_size=30),
        st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
    ),
    st.sampled_from([["x"], ["x", "y"]]),
)
@settings(max_examples=300)
def test_random_strings_compile_or_raise_invalid_law(s, variables):
    try:
        law = pf.Law(s, variables=variables)
    except pf.InvalidLawError as e:
        msg = str(e)
        assert msg and "internal error" not in msg
        return
    # it compiled: it evaluates without crashing
    x = np.linspace(0.5, 2.0, 3)
    p = dict.fromkeys(law.params, 1.0)
    law.evaluate(p, **dict.fromkeys(variables, x))


def test_deep_nesting_and_long_inputs_do_not_crash():
    for s in [
        "(" * 100_000 + "a*x" + ")" * 100_000,
        "-" * 100_000 + "a*x",
        "a*x" + "^x" * 100_000,
        "exp(" * 10_000 + "a*x" + ")" * 10_000,
        "a*" + "(" * 100_000,
    ]:
        with pytest.raises(pf.InvalidLawError, match="nested too deeply"):
            pf.Law(s, variables=["x"])
    law = pf.Law("a*(" + " + ".join(["x"] * 50_000) + ")", variables=["x"])
    assert law.evaluate({"a": 2.0}, x=[1.0])[0] == 100_000.0


def test_error_messages_show_the_column_and_a_caret():
    with pytest.raises(pf.InvalidLawError) as info:
        pf.Law("E + A*N^-alpha)", variables=["N"])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("unexpected ')'") and "column 15" in lines[0]
    assert lines[1] == "  E + A*N^-alpha)"
    assert lines[2] == "  " + " " * 14 + "^"
    for expr, words in [
        ("E + A*N^^alpha", "unexpected '^' at column 9"),
        ("E + A*foo(N)", "unknown function 'foo'"),
        ("E + A*N", None),
    ]:
        if words is None:
            pf.Law(expr, variables=["N"])
            continue
        with pytest.raises(pf.InvalidLawError, match=words.replace("(", r"\(").replace("^", r"\^")):
            pf.Law(expr, variables=["N"])


# ------------------------------------------------------------------------------------------
# The Python API
# ------------------------------------------------------------------------------------------


def test_law_attributes_and_parameter_order():
    law = pf.Law("E + A*N^-alpha + B*D^-beta", variables=["N", "D"])
    assert law.params == ("E", "A", "alpha", "B", "beta")
    assert law.variables == ("N", "D")
    assert law.expr == "E + A*N^-alpha + B*D^-beta"
    assert law.structure == "power_sum" and law.positive_variables
    assert law.p0 is None and law.bounds == {} and law.positive == ()
    law = pf.Law(
        "E + A*N^-alpha + B*D^-beta",
        ["N", "D"],
        params=["E", "A", "B", "alpha", "beta"],
        bounds={"alpha": (0, 2), "beta": (0, None)},
        p0={"E": 2, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3},
        positive=["A", "B"],
        linear=["E", "A", "B"],
        name="mine",
    )
    assert law.params == ("E", "A", "B", "alpha", "beta")
    assert law.p0 == {"E": 2.0, "A": 400.0, "B": 400.0, "alpha": 0.3, "beta": 0.3}
    assert law.bounds == {"alpha": (0.0, 2.0), "beta": (0.0, math.inf)}
    assert law.positive == ("A", "B") and law.linear == ("E", "A", "B")
    assert str(law) == "mine" and "mine" in repr(law)
    with pytest.raises(AttributeError):
        law.expr = "x"  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(law))
    assert (again.expr, again.params, again.p0, again.bounds, again.positive, again.name) == (
        law.expr,
        law.params,
        law.p0,
        law.bounds,
        law.positive,
        law.name,
    )
    general = pf.Law("a + b*exp(-c*t)", "t")
    assert general.variables == ("t",) and general.structure == "general"
    assert not general.positive_variables
    assert isinstance(_core.Law("a*x", ["x"]), _core.Law)


@pytest.mark.parametrize(
    "kwargs,exc,words",
    [
        (dict(expr=3), pf.InvalidLawError, "must be a string"),
        (dict(variables=3), pf.InvalidLawError, "list of names"),
        (dict(variables=["x", 1]), pf.InvalidLawError, "names"),
        (dict(variables=["x", "z"]), pf.InvalidLawError, "variable 'z' is not in the law"),
        (dict(params=["a", "b", "k"]), pf.InvalidLawError, "parameter 'k' is not in the law"),
        (dict(params=["a"]), pf.InvalidLawError, "unknown name 'b'"),
        (dict(p0={"a": 1}), pf.InvalidOptionError, "p0 lacks a start for b"),
        (dict(p0={"a": 1, "b": 2, "z": 3}), pf.InvalidLawError, "'z' is not a parameter"),
        (dict(p0=[1.0]), pf.InvalidOptionError, "p0 has 1 values"),
        (dict(p0="ab"), pf.InvalidOptionError, "dict or a sequence"),
        (dict(p0=[1.0, math.nan]), pf.InvalidOptionError, "not finite"),
        (dict(bounds={"z": (0, 1)}), pf.InvalidLawError, "'z' is not a parameter"),
        (dict(bounds={"a": (1, 0)}), pf.InvalidOptionError, "empty"),
        (dict(bounds={"a": 1}), pf.InvalidOptionError, "pair"),
        (dict(bounds={"a": (0, 1)}, p0=[2.0, 1.0]), pf.InvalidOptionError, "outside its bounds"),
        (dict(positive=["z"]), pf.InvalidLawError, "'z' is not a parameter"),
        (dict(positive=["a"], p0=[-1.0, 1.0]), pf.InvalidOptionError, "declared positive"),
        (dict(linear=["b"]), pf.InvalidLawError, "not linear in 'b'"),
        (dict(name="chinchilla"), pf.InvalidLawError, "built-in"),
        (dict(variables=["exp"]), pf.InvalidLawError, "reserved"),
    ],
)
def test_law_validation(kwargs, exc, words):
    args = dict(expr="a*exp(-b*x)", variables=["x"])
    args.update(kwargs)
    with pytest.raises(exc, match=words.replace("(", r"\(")):
        pf.Law(args.pop("expr"), **args)


def test_evaluate_and_jacobian():
    law = pf.Law("a*x^2 + b*sin(x)", "x", p0=[2.0, 3.0])
    x = np.array([-1.0, 0.5, 2.0])
    v, j = law.jacobian(x=x)
    np.testing.assert_allclose(v, 2 * x**2 + 3 * np.sin(x), rtol=1e-15)
    np.testing.assert_allclose(j, np.column_stack([x**2, np.sin(x)]), rtol=1e-15)
    np.testing.assert_array_equal(law.evaluate({"a": 2, "b": 3}, {"x": x}), v)
    with pytest.raises(pf.InvalidDataError, match="pass x="):
        law.evaluate()


# ------------------------------------------------------------------------------------------
# Fitting with written laws
# ------------------------------------------------------------------------------------------


def decay(seed: int = 0, n: int = 60, noise: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(-1.0, 6.0, n))
    y = 1.5 + 4.0 * np.exp(-0.7 * t) + noise * rng.standard_normal(n)
    return {"t": t, "y": y}


DECAY = pf.Law("a + b*exp(-c*t)", "t", p0={"a": 1.0, "b": 1.0, "c": 0.3})


def test_fit_recovers_a_general_law_with_negative_variables():
    data = decay()
    res = pf.fit(data, law=DECAY)
    assert res.success and res.law == "custom" and res.variables == ("t",)
    assert res.params == pytest.approx({"a": 1.5, "b": 4.0, "c": 0.7}, rel=1e-8)
    # keyword arrays: x= is the law's one variable
    res2 = pf.fit(law=DECAY, x=data["t"], y=data["y"])
    assert res2.params == pytest.approx(res.params, rel=1e-12)
    # predictions accept any finite values for a general law
    np.testing.assert_allclose(
        res.predict(t=[-2.0, 0.0]), 1.5 + 4.0 * np.exp(-0.7 * np.array([-2.0, 0.0])), rtol=1e-8
    )
    with pytest.raises(pf.InvalidDataError, match="must be finite"):
        res.predict(t=[np.nan])
    assert "L = a + b*exp(-c*t)" in res.summary()


def test_fit_options_work_with_written_laws():
    data = decay(noise=0.01)
    fixed = pf.fit(data, law=DECAY, fixed={"a": 1.5})
    assert fixed.params["a"] == 1.5 and fixed.stderr["a"] == 0.0
    bounded = pf.fit(data, law=DECAY, bounds={"c": (0.0, 0.5)}, warn=False)
    assert bounded.params["c"] == pytest.approx(0.5)
    assert any("upper bound" in w for w in bounded.warnings)
    for loss in ["l2", "log", "huber", "huber_log", "asymmetric"]:
        r = pf.fit(data, law=DECAY, loss=loss)
        assert r.success, (loss, r.message)
        assert r.params["c"] == pytest.approx(0.7, rel=0.05), loss
    given = pf.fit(data, law=DECAY, starts="given", p0=[1.4, 3.9, 0.6])
    assert given.params == pytest.approx(pf.fit(data, law=DECAY).params, rel=1e-6)
    with pytest.raises(pf.InvalidOptionError, match="grid"):
        pf.fit(data, law=DECAY, starts="grid")


def test_law_defaults_and_their_overrides():
    data = decay(noise=0.01)
    law = pf.Law("a + b*exp(-c*t)", "t", p0=[1.0, 1.0, 0.3], bounds={"c": (0.0, 0.5)})
    assert pf.fit(data, law=law, warn=False).params["c"] == pytest.approx(0.5)
    # fit's bounds override the law's per parameter; a dict p0 overrides per parameter
    r = pf.fit(data, law=law, bounds={"c": (0.0, None)}, p0={"c": 0.5})
    assert r.params["c"] == pytest.approx(0.7, rel=0.05)
    no_p0 = pf.Law("a + b*exp(-c*t)", "t")
    with pytest.raises(pf.InvalidOptionError, match="give p0"):
        pf.fit(data, law=no_p0)
    assert pf.fit(data, law=no_p0, p0=[1.0, 1.0, 0.3]).success


def test_a_law_that_is_not_finite_at_the_start_is_rejected():
    data = decay()
    law = pf.Law("a*log(t - b)", "t", p0={"a": 1.0, "b": 0.0})
    with pytest.raises(
        pf.InvalidLawError, match=r"not usable at the starting point: at row 0 \(t=-0\.9"
    ):
        pf.fit(data, law=law)
    # the Jacobian counts too: sqrt(t - b) at t = b is finite, its derivative is not
    law = pf.Law("a*sqrt(t - b)", "t", p0={"a": 1.0, "b": float(data["t"][0])})
    with pytest.raises(pf.InvalidLawError, match="derivative"):
        pf.fit(data, law=law)
    # under a loss on log residuals the law must be positive
    neg = pf.Law("a - b*exp(-c*t)", "t", p0=[1.0, 4.0, 0.7])
    with pytest.raises(pf.InvalidLawError, match="must be positive"):
        pf.fit(decay(), law=neg, loss="log")
    # a fixed value takes part in the check
    with pytest.raises(pf.InvalidLawError, match="not usable"):
        pf.fit(data, law=pf.Law("a*log(t - b)", "t", p0=[1.0, -5.0]), fixed={"b": 0.0})


def test_bootstrap_with_a_written_law():
    data = decay(noise=0.02)
    res = pf.fit(data, law=DECAY)
    boot = res.bootstrap(n_boot=200, seed=1)
    assert boot.success.mean() > 0.95
    ci = boot.ci()
    assert list(ci["parameter"]) == ["a", "b", "c"]
    row = ci.set_index("parameter").loc["c"]
    assert row["lower"] < 0.7 < row["upper"]
    again = res.bootstrap(n_boot=200, seed=1)
    np.testing.assert_array_equal(again.samples, boot.samples)


CHIN = "E + A*N^-alpha + B*D^-beta"
ORDER = ["E", "A", "B", "alpha", "beta"]


@pytest.mark.parametrize("loss", ["l2", "huber_log"])
def test_chinchilla_written_as_an_expression_matches_the_builtin(loss):
    df = pf.datasets.chinchilla()
    law = pf.Law(CHIN, ["N", "D"], params=ORDER, positive=["A", "B"])
    a = pf.fit(df, law=law, loss=loss)
    b = pf.fit(df, law="chinchilla", loss=loss)
    assert a.success and a.n_starts == b.n_starts
    assert a.params == pytest.approx(b.params, rel=1e-6)
    assert a.cost == pytest.approx(b.cost, rel=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-4)
    ba, bb = a.bootstrap(n_boot=100, seed=3), b.bootstrap(n_boot=100, seed=3)
    np.testing.assert_allclose(ba.samples, bb.samples, rtol=1e-5)
    g = pf.fit(df, law=law, loss=loss, starts="grid")
    assert g.n_starts == 4500 and g.cost == pytest.approx(a.cost, rel=1e-6)
    with pytest.raises(pf.InvalidDataError, match="must be positive"):
        a.predict(N=[-1.0], D=[1e9])


# ------------------------------------------------------------------------------------------
# README examples (kept in sync with the README by hand)
# ------------------------------------------------------------------------------------------


def test_readme_data_constrained_law():
    """Muennighoff et al. 2023: tokens repeated for several epochs are worth less; the
    effective data D' = U + U R_D (1 - exp(-(D/U - 1)/R_D)) saturate at U (1 + R_D)."""
    law = pf.Law(
        "E + A/N^alpha + B/(U + U*R_D*(1 - exp(-(D/U - 1)/R_D)))^beta",
        variables=["N", "D", "U"],
        p0={"E": 2, "A": 400, "alpha": 0.3, "B": 1000, "R_D": 5, "beta": 0.3},
        positive=["A", "B", "R_D"],
    )
    rng = np.random.default_rng(0)
    N, U = 10 ** rng.uniform(8, 10, 120), 10 ** rng.uniform(9, 10.5, 120)
    D = U * rng.uniform(1, 40, 120)
    truth = {"E": 1.87, "A": 521, "alpha": 0.35, "B": 1488, "R_D": 15.4, "beta": 0.35}
    loss = law.evaluate(truth, N=N, D=D, U=U) * (1 + 0.002 * rng.standard_normal(120))

    res = pf.fit({"N": N, "D": D, "U": U, "loss": loss}, law=law, loss="log")
    assert res.success and "L = E + A/N^alpha" in res.summary()
    ci = res.bootstrap(n_boot=1000, seed=0).ci().set_index("parameter")
    assert ci.loc["R_D", "lower"] < 15.4 < ci.loc["R_D", "upper"]
    # noise-free data: exact recovery
    exact = pf.fit({"N": N, "D": D, "U": U, "loss": law.evaluate(truth, N=N, D=D, U=U)}, law=law)
    assert exact.params == pytest.approx(truth, rel=1e-6)


def test_readme_broken_power_law():
    """Caballero et al. 2022: a smoothly broken power law with one break."""
    bnsl = pf.Law(
        "a + b*x^-c0 * (1 + (x/d1)^(1/f1))^(-c1*f1)",
        variables="x",
        p0={"a": 0.3, "b": 2, "c0": 0.2, "d1": 3e4, "f1": 0.5, "c1": 0.3},
        positive=["b", "d1", "f1"],
    )
    truth = {"a": 0.5, "b": 3, "c0": 0.1, "d1": 1e5, "f1": 0.3, "c1": 0.4}
    rng = np.random.default_rng(0)
    x = np.logspace(2, 8, 80)
    y = bnsl.evaluate(truth, x=x)
    noisy = y * (1 + 0.002 * rng.standard_normal(x.size))

    res = pf.fit(law=bnsl, x=x, y=noisy, loss="log")
    assert res.success
    for name, v in truth.items():
        assert abs(res.params[name] - v) < 4 * res.stderr[name], name
    boot = res.bootstrap(n_boot=1000, seed=0)
    assert boot.success.all() and len(boot.ci()) == 6
    exact = pf.fit(law=bnsl, x=x, y=y)
    assert exact.params == pytest.approx(truth, rel=1e-5)
    want = 0.5 + 3 * 1e10**-0.1 * (1 + 1e5 ** (1 / 0.3)) ** (-0.12)
    assert exact.predict(x=[1e10])[0] == pytest.approx(want, rel=1e-6)
