"""The peers' problems, written the way a scipy user would: residuals, Jacobians, costs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as ss

# --------------------------------------------------------------------------------------------


class ChinchillaL2:
    """Residuals (model - y) and their analytic Jacobian in natural parameters
    p = [E, A, B, alpha, beta], for scipy."""

    def __init__(self, N: np.ndarray, D: np.ndarray, y: np.ndarray) -> None:
        self.N, self.D, self.y = N, D, y
        self.lN, self.lD = np.log(N), np.log(D)

    def residuals(self, p: np.ndarray) -> np.ndarray:
        E, A, B, a, b = p
        return E + A * np.exp(-a * self.lN) + B * np.exp(-b * self.lD) - self.y

    def jacobian(self, p: np.ndarray) -> np.ndarray:
        _, A, B, a, b = p
        tn = np.exp(-a * self.lN)
        td = np.exp(-b * self.lD)
        J = np.empty((self.y.size, 5))
        J[:, 0] = 1.0
        J[:, 1] = tn
        J[:, 2] = td
        J[:, 3] = -A * tn * self.lN
        J[:, 4] = -B * td * self.lD
        return J

    # curve_fit signatures: f(x, *p); x is unused (the data live on the object)
    def model(self, _x: Any, E: float, A: float, B: float, a: float, b: float) -> np.ndarray:
        return E + A * np.exp(-a * self.lN) + B * np.exp(-b * self.lD)

    def model_jac(self, _x: Any, *p: float) -> np.ndarray:
        return self.jacobian(np.asarray(p))

    def cost(self, p: np.ndarray) -> float:
        r = self.residuals(np.asarray(p, dtype=float))
        return 0.5 * float(r @ r)


class EpochHuber:
    """The Epoch/Hoffmann estimator's objective over theta = [a, b, e, alpha, beta]:
    sum_i huber_delta(LSE(a - alpha log N, b - beta log D, e) - log y_i), with
    A = e^a, B = e^b, E = e^e."""

    def __init__(self, N: np.ndarray, D: np.ndarray, y: np.ndarray, delta: float) -> None:
        self.lN, self.lD, self.ly = np.log(N), np.log(D), np.log(y)
        self.delta = delta

    def objective(self, th: np.ndarray) -> float:
        a, b, e, alpha, beta = th
        terms = np.stack([a - alpha * self.lN, b - beta * self.lD, np.full_like(self.lN, e)])
        r = ss.logsumexp(terms, axis=0) - self.ly
        return float(ss.huber(self.delta, r).sum())

    def objective_and_grad(self, th: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, e, alpha, beta = th
        t1 = a - alpha * self.lN
        t2 = b - beta * self.lD
        m = np.maximum(np.maximum(t1, t2), e)
        w1, w2, w3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
        s = w1 + w2 + w3
        r = m + np.log(s) - self.ly
        d = self.delta
        f = float(ss.huber(d, r).sum())
        psi = np.clip(r, -d, d) / s  # huber'(r), times 1/s to turn w_k into softmax weights
        g1, g2 = psi @ w1, psi @ w2
        grad = np.array([g1, g2, psi @ w3, -(psi * w1) @ self.lN, -(psi * w2) @ self.lD])
        return f, grad

    @staticmethod
    def grid() -> np.ndarray:
        """Hoffmann et al.'s 4,500 starts as rows [a, b, e, alpha, beta]."""
        ab = np.arange(0.0, 25.0 + 1e-9, 5.0)
        ee = np.arange(-1.0, 1.0 + 1e-9, 0.5)
        ex = np.arange(0.0, 2.0 + 1e-9, 0.5)
        g = np.array(
            [[a, b, e, al, be] for a in ab for b in ab for e in ee for al in ex for be in ex]
        )
        assert g.shape == (4500, 5)
        return g

    @staticmethod
    def to_natural(th: np.ndarray) -> dict[str, float]:
        a, b, e, alpha, beta = th
        return {
            "E": math.exp(e),
            "A": math.exp(a),
            "B": math.exp(b),
            "alpha": float(alpha),
            "beta": float(beta),
        }

    @staticmethod
    def from_natural(p: dict[str, float]) -> np.ndarray:
        return np.array(
            [math.log(p["A"]), math.log(p["B"]), math.log(p["E"]), p["alpha"], p["beta"]]
        )


def fmt_params(p: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in p.items())


# --------------------------------------------------------------------------------------------
