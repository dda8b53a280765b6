"""Built-in scaling laws and their formulas.

========== ============================================================ =====================
name       formula                                                      parameters
========== ============================================================ =====================
power      L = L_inf + A x^-alpha (x is any one column: N, D or C)      L_inf, A, alpha
chinchilla L = E + A N^-alpha + B D^-beta (Hoffmann et al. 2022)        E, A, B, alpha, beta
additive   L = L_inf + A N^-alpha + B D^-beta + E C^-gamma over the      L_inf, A, B, E,
           subset of N, D, C that the data have                         alpha, beta, gamma
kaplan     L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D (Kaplan 2020) N_c, alpha_N, D_c,
                                                                        alpha_D
m1         L = beta x^-c (Alabdulmohsin et al. 2022)                    beta, c
m2         L = eps_inf + beta x^-c                                      eps_inf, beta, c
m3         L = beta (x^-1 + gamma)^c                                    beta, gamma, c
m4         (L - eps_inf)/(eps_0 - L)^alpha = beta x^-c (implicit)       eps_inf, beta, c,
                                                                        alpha, eps_0
bnsl       L = a + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1) (Caballero       a, b, c0, c1, d1, f1
           et al. 2022); bnsl2 with a second break                      (+ c2, d2, f2)
data_const L = E + A N'^-alpha + B D'^-beta, N', D' discounted for       E, A, B, alpha, beta,
rained     repetition (Muennighoff et al. 2023; columns N, D, U)        R_N, R_D
========== ============================================================ =====================

Irreducible terms (L_inf, E, eps_inf, a) are non-negative by default; lift the bound with
``bounds={"L_inf": (None, None)}``.

Amplitudes (A, B, E of the additive law, N_c, D_c) are positive: the solver works with their
logarithm. Every law has a hand-written analytic Jacobian in the Rust core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import _core
from .errors import InvalidLawError

if TYPE_CHECKING:  # pragma: no cover
    from .expr import Law

BUILTIN = (
    "power",
    "chinchilla",
    "additive",
    "kaplan",
    "m1",
    "m2",
    "m3",
    "m4",
    "bnsl",
    "bnsl2",
    "data_constrained",
)

#: Laws over one column (x="N", "D", "C", ...).
SINGLE_VARIABLE = ("power", "m1", "m2", "m3", "m4", "bnsl", "bnsl2")


@dataclass(frozen=True)
class LawSpec:
    """A built-in law bound to its variables."""

    name: str
    vars: tuple[str, ...]
    params: tuple[str, ...]
    positive: tuple[bool, ...]
    #: default lower bound per parameter (irreducible terms of positive losses are >= 0)
    lower: tuple[float, ...] = ()

    @property
    def arg(self) -> Any:
        """The law as the native functions take it: its name."""
        return self.name

    @property
    def formula(self) -> str | None:
        """The written law's formula (None for built-in laws)."""
        return None

    @property
    def positive_vars(self) -> bool:
        """Whether the variables must be positive."""
        return True


@dataclass(frozen=True)
class CustomLawSpec(LawSpec):
    """A written law (:class:`powerfit.Law`) bound to its variables."""

    law: Any = None

    @property
    def arg(self) -> Any:
        return self.law._native

    @property
    def formula(self) -> str | None:
        expr = str(self.law.expr)
        return expr if "=" in expr else f"L = {expr}"

    @property
    def positive_vars(self) -> bool:
        return bool(self.law.positive_variables)


def law_spec(name: str | Law, vars: tuple[str, ...]) -> LawSpec:
    """The law `name` (a built-in law's name or a :class:`powerfit.Law`) over variables `vars`
    (validated by the core; a written law has its own variables)."""
    from .expr import Law

    if isinstance(name, Law):
        info = _core.law_info(name._native, list(name.variables))
        return CustomLawSpec(
            name.name,
            name.variables,
            name.params,
            tuple(name._native.positive),
            tuple(float(v) for v in info["lower"]),
            law=name,
        )
    return _builtin_spec(name, tuple(vars))


@lru_cache(maxsize=256)
def _builtin_spec(name: str, vars: tuple[str, ...]) -> LawSpec:
    info = _core.law_info(name, list(vars))
    return LawSpec(
        name,
        tuple(info["vars"]),
        tuple(info["params"]),
        tuple(info["positive"]),
        tuple(float(v) for v in info["lower"]),
    )


def default_vars(
    name: str | Law, available: list[str] | None, x: str | None = None
) -> tuple[str, ...]:
    """The variables a law uses, given the columns (or keyword arrays) available."""
    if not isinstance(name, str):
        return tuple(name.variables)  # a powerfit.Law names its own
    if name in SINGLE_VARIABLE:
        if x is not None:
            return (x,)
        cands = [v for v in ("N", "D", "C", "x") if available is None or v in available]
        if len(cands) != 1:
            raise InvalidLawError(
                f"law '{name}' needs to know which column is x: pass x='N' (or 'D', 'C', ...)"
            )
        return (cands[0],)
    if name in ("chinchilla", "kaplan"):
        return ("N", "D")
    if name == "data_constrained":
        return ("N", "D", "U")
    if name == "additive":
        have = [v for v in ("N", "D", "C") if available is None or v in available]
        if not have:
            raise InvalidLawError("law 'additive' needs at least one of the columns N, D, C")
        return tuple(have)
    raise InvalidLawError(
        f"unknown law '{name}'; built-in laws are {', '.join(BUILTIN)}"
    )
