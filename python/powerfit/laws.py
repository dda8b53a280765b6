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
========== ============================================================ =====================

Amplitudes (A, B, E of the additive law, N_c, D_c) are positive: the solver works with their
logarithm. Every law has a hand-written analytic Jacobian in the Rust core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import _core
from .errors import InvalidLawError

BUILTIN = ("power", "chinchilla", "additive", "kaplan")


@dataclass(frozen=True)
class LawSpec:
    """A built-in law bound to its variables."""

    name: str
    vars: tuple[str, ...]
    params: tuple[str, ...]
    positive: tuple[bool, ...]


@lru_cache(maxsize=256)
def law_spec(name: str, vars: tuple[str, ...]) -> LawSpec:
    """The law `name` over variables `vars` (validated by the core)."""
    info = _core.law_info(name, list(vars))
    return LawSpec(name, tuple(info["vars"]), tuple(info["params"]), tuple(info["positive"]))


def default_vars(name: str, available: list[str] | None, x: str | None = None) -> tuple[str, ...]:
    """The variables a law uses, given the columns (or keyword arrays) available."""
    if name == "power":
        if x is not None:
            return (x,)
        cands = [v for v in ("N", "D", "C", "x") if available is None or v in available]
        if len(cands) != 1:
            raise InvalidLawError(
                "law 'power' needs to know which column is x: pass x='N' (or 'D', 'C', ...)"
            )
        return (cands[0],)
    if name in ("chinchilla", "kaplan"):
        return ("N", "D")
    if name == "additive":
        have = [v for v in ("N", "D", "C") if available is None or v in available]
        if not have:
            raise InvalidLawError("law 'additive' needs at least one of the columns N, D, C")
        return tuple(have)
    raise InvalidLawError(
        f"unknown law '{name}'; built-in laws are {', '.join(BUILTIN)}"
    )
