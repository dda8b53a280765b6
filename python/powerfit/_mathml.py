"""Formulas as MathML, for reports that render them without a script.

:func:`to_mathml` parses a law as written for powerfit (numbers, names, ``+ - * / ^ **``, unary
minus, parentheses, function calls, one ``=`` for an implicit law; primes on names as in
``D'``) and writes presentation MathML: exponents raised, quotients stacked, ``alpha`` as α,
``L_inf`` as L with a subscript ∞. Every text node is escaped; a formula it cannot parse comes
back as escaped text in ``<mtext>``, so a report never fails on a formula and never passes markup
through.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: Names drawn as Greek letters.
GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Sigma": "Σ",
}  # fmt: skip
#: Subscripts drawn as symbols.
SUBSCRIPTS = {"inf": "∞"}
#: Functions and how they are named in print.
FUNCTIONS = {"log": "ln", "log10": "log₁₀", "exp": "exp", "sin": "sin", "cos": "cos",
             "tan": "tan", "atan": "arctan", "tanh": "tanh", "min": "min", "max": "max",
             "pow": "pow", "sqrt": "sqrt", "abs": "abs"}  # fmt: skip

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*'*)"
    r"|(?P<op>\*\*|[-+*/^(),=·]))"
)

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


@dataclass
class Node:
    kind: str  # num, name, neg, add, sub, mul, div, pow, call, group, eq
    text: str = ""
    args: tuple[Node, ...] = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"cannot read {text[pos:]!r}")
            kind = m.lastgroup or "op"
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise ValueError("unexpected end")
        tok = self.tokens[self.i]
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        left = self.sum()
        if self.peek() == "=":
            self.take()
            left = Node("eq", args=(left, self.sum()))
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return left

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            node = Node("add" if op == "+" else "sub", args=(node, self.product()))
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/", "·"):
            op = self.take()[1]
            node = Node("div" if op == "/" else "mul", args=(node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("neg", args=(self.unary(),))
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek() in ("^", "**"):
            self.take()
            return Node("pow", args=(base, self.unary()))
        return base

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Node("num", text)
        if kind == "name":
            if self.peek() == "(":
                self.take()
                args = [self.sum()]
                while self.peek() == ",":
                    self.take()
                    args.append(self.sum())
                self.take(")")
                return Node("call", text, tuple(args))
            return Node("name", text)
        if text == "(":
            inner = self.sum()
            self.take(")")
            return Node("group", args=(inner,))
        raise ValueError(f"unexpected {text!r}")


def parse(text: str) -> Node:
    """The formula's tree; ValueError when it is not a formula."""
    return _Parser(text).parse()


def _e(s: str) -> str:
    return html.escape(s, quote=True)


def _mi(name: str) -> str:
    return f"<mi>{_e(GREEK.get(name, name))}</mi>"


def _name(text: str) -> str:
    primes = len(text) - len(text.rstrip("'"))
    core = text.rstrip("'")
    head, sep, sub = core.partition("_")
    if not head:  # a leading underscore: no subscript
        head, sep, sub = core, "", ""
    base = _mi(head)
    if primes:
        base = f"<msup>{base}<mo>{'′' * primes}</mo></msup>"
    if not sep or not sub:
        return base
    if sub in SUBSCRIPTS:
        s = f"<mi>{SUBSCRIPTS[sub]}</mi>"
    elif sub.isdigit():
        s = f"<mn>{_e(sub)}</mn>"
    elif sub in GREEK or len(sub) == 1:
        s = _mi(sub)
    else:
        s = f'<mi mathvariant="normal">{_e(sub.replace("_", ","))}</mi>'
    return f"<msub>{base}{s}</msub>"


def _number(text: str) -> str:
    m = re.fullmatch(r"([^eE]+)[eE]([+-]?\d+)", text)
    if not m:
        return f"<mn>{_e(text)}</mn>"
    mant, exp = m.group(1), int(m.group(2))
    ten = (
        f"<msup><mn>10</mn><mn>{exp}</mn></msup>"
        if exp >= 0
        else (f"<msup><mn>10</mn><mrow><mo>−</mo><mn>{-exp}</mn></mrow></msup>")
    )
    return f"<mrow><mn>{_e(mant)}</mn><mo>×</mo>{ten}</mrow>"


def _paren(inner: str) -> str:
    return f'<mrow><mo stretchy="false">(</mo>{inner}<mo stretchy="false">)</mo></mrow>'


_TIGHT = {"num", "name", "call", "group", "pow"}


def _render(n: Node) -> str:
    k = n.kind
    if k == "num":
        return _number(n.text)
    if k == "name":
        return _name(n.text)
    if k == "group":
        return _paren(_render(n.args[0]))
    if k == "neg":
        a = n.args[0]
        inner = _render(a) if a.kind in _TIGHT or a.kind in ("mul", "div") else _paren(_render(a))
        return f"<mrow><mo>−</mo>{inner}</mrow>"
    if k in ("add", "sub"):
        a, b = n.args
        rb = _paren(_render(b)) if (k == "sub" and b.kind in ("add", "sub")) else _render(b)
        return f"<mrow>{_render(a)}<mo>{'+' if k == 'add' else '−'}</mo>{rb}</mrow>"
    if k == "mul":
        a, b = n.args
        parts = [_paren(_render(x)) if x.kind in ("add", "sub") else _render(x) for x in (a, b)]
        dot = "⋅" if b.kind in ("num", "neg") or (a.kind == "num" and b.kind == "num") else "\u2062"
        return f"<mrow>{parts[0]}<mo>{dot}</mo>{parts[1]}</mrow>"
    if k == "div":
        a, b = n.args
        return f"<mfrac>{_render(_ungroup(a))}{_render(_ungroup(b))}</mfrac>"
    if k == "pow":
        a, b = n.args
        base = _render(a) if a.kind in ("num", "name", "call", "group") else _paren(_render(a))
        return f"<msup>{base}{_render(_ungroup(b))}</msup>"
    if k == "call":
        args = [_render(x) for x in n.args]
        if n.text == "sqrt" and len(args) == 1:
            return f"<msqrt>{args[0]}</msqrt>"
        if n.text == "abs" and len(args) == 1:
            return f"<mrow><mo>|</mo>{args[0]}<mo>|</mo></mrow>"
        if n.text == "pow" and len(args) == 2:
            return _render(Node("pow", args=(_group(n.args[0]), n.args[1])))
        if n.text == "exp" and len(args) == 1:
            return f"<msup><mi>e</mi>{args[0]}</msup>"
        name = FUNCTIONS.get(n.text, n.text)
        inner = "<mo>,</mo>".join(args)
        return f"<mrow><mi>{_e(name)}</mi><mo>\u2061</mo>{_paren(inner)}</mrow>"
    if k == "eq":
        a, b = n.args
        return f"<mrow>{_render(a)}<mo>=</mo>{_render(b)}</mrow>"
    raise ValueError(k)  # pragma: no cover


def _ungroup(n: Node) -> Node:
    """Parentheses a stacked fraction or a raised exponent makes redundant."""
    return n.args[0] if n.kind == "group" else n


def _group(n: Node) -> Node:
    return n if n.kind in ("num", "name", "group", "call") else Node("group", args=(n,))


def to_mathml(text: str, display: str = "block") -> str:
    """``text`` as a ``<math>`` element (``display`` ``"block"`` or ``"inline"``), with the
    plain text as its ``alttext``; unparseable text comes back as escaped ``<mtext>``."""
    try:
        body = _render(parse(text))
    except (ValueError, RecursionError):
        body = f"<mtext>{_e(text)}</mtext>"
    disp = "block" if display == "block" else "inline"
    return (
        f'<math xmlns="{MATHML_NS}" display="{disp}" alttext="{_e(text)}">'
        f'<semantics>{body}<annotation encoding="text/plain">{_e(text)}</annotation>'
        f"</semantics></math>"
    )


__all__ = ["parse", "to_mathml"]
