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
logarithm. Every law has a hand-written analytic Jacobian in the Rust core, which also decides
which columns a law reads (``powerfit._core.law_variables``).
"""

from __future__ import annotations

from . import _core

#: Names of the built-in laws (defined by the core).
BUILTIN: tuple[str, ...] = tuple(_core.LAWS)

#: Formulas for reports; ``{x}`` is the variable of one-variable laws, ``{vars}`` the list.
FORMULAS = {
    "power": "L = L_inf + A*{x}^-alpha",
    "chinchilla": "L = E + A*N^-alpha + B*D^-beta",
    "additive": "L = L_inf + sum of amplitude*x^-exponent over {vars}",
    "kaplan": "L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
    "m1": "L = beta*{x}^-c",
    "m2": "L = eps_inf + beta*{x}^-c",
    "m3": "L = beta*({x}^-1 + gamma)^c",
    "m4": "(L - eps_inf)/(eps_0 - L)^alpha = beta*{x}^-c",
    "bnsl": "L = a + b*{x}^-c0*(1 + ({x}/d1)^(1/f1))^(-c1*f1)",
    "bnsl2": "L = a + b*{x}^-c0*prod_i (1 + ({x}/d_i)^(1/f_i))^(-c_i*f_i), i = 1, 2",
    "data_constrained": "L = E + A*N'^-alpha + B*D'^-beta (N', D': repetition-discounted)",
}


def formula(name: str, variables: tuple[str, ...] | list[str]) -> str:
    """The formula of built-in law ``name`` over ``variables`` (empty for unknown names)."""
    vs = list(variables)
    return FORMULAS.get(name, "").format(x=vs[0] if vs else "x", vars=", ".join(vs))


__all__ = ["BUILTIN", "FORMULAS", "formula"]
