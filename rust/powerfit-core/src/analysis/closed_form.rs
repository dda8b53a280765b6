//! Closed-form compute-optimal allocation for laws L = E + A N^-alpha + B D^-beta under
//! C = k N D (Hoffmann et al. 2022, Approach 3):
//!   N*(C) = G (C/k)^a, D*(C) = G^-1 (C/k)^b, a = beta/(alpha+beta), b = alpha/(alpha+beta),
//!   G = (alpha A / (beta B))^(1/(alpha+beta)), and L*(C) - E falls as C^-eta with
//!   eta = alpha beta / (alpha + beta).

use crate::error::{Error, Result};

/// The five numbers the allocation depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NdLaw {
    pub e: f64,
    pub a: f64,
    pub b: f64,
    pub alpha: f64,
    pub beta: f64,
}

impl NdLaw {
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.e + self.a * n.powf(-self.alpha) + self.b * d.powf(-self.beta)
    }

    /// a = beta / (alpha + beta): N* grows as C^a.
    pub fn exponent_n(&self) -> f64 {
        self.beta / (self.alpha + self.beta)
    }

    /// b = alpha / (alpha + beta): D* grows as C^b.
    pub fn exponent_d(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// eta = alpha beta / (alpha + beta): the envelope exponent of L*(C) - E.
    pub fn eta(&self) -> f64 {
        self.alpha * self.beta / (self.alpha + self.beta)
    }

    /// G = (alpha A / (beta B))^(1/(alpha+beta)).
    pub fn g(&self) -> f64 {
        (self.alpha * self.a / (self.beta * self.b)).powf(1.0 / (self.alpha + self.beta))
    }

    /// (N*, D*, L*) at budget c with C = k N D.
    pub fn optimum(&self, c: f64, k: f64) -> (f64, f64, f64) {
        let g = self.g();
        let base = c / k;
        let n = g * base.powf(self.exponent_n());
        let d = base.powf(self.exponent_d()) / g;
        (n, d, self.loss(n, d))
    }
}

/// Names of the derived quantities for `budgets`, in the order `derived` fills them.
pub fn derived_names(budgets: &[f64]) -> Vec<String> {
    let mut names: Vec<String> = ["a", "b", "eta", "G"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in budgets {
        names.push(format!("N_opt(C={c:.3e})"));
        names.push(format!("D_opt(C={c:.3e})"));
        names.push(format!("D_opt/N_opt(C={c:.3e})"));
        names.push(format!("L_opt(C={c:.3e})"));
    }
    names
}

/// Derived quantities for every row of `params` (row-major, `p` columns), where
/// `idx` = positions of (E, A, B, alpha, beta) in a row. Rows with NaN give NaN.
pub fn derived(
    params: &[f64],
    p: usize,
    idx: [usize; 5],
    budgets: &[f64],
    k: f64,
) -> Result<Vec<f64>> {
    if p == 0 || !params.len().is_multiple_of(p) || idx.iter().any(|&i| i >= p) {
        return Err(Error::InvalidShape(
            "parameter matrix has the wrong shape".into(),
        ));
    }
    if !(k > 0.0 && k.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "flops_per_param_token (k in C = k N D) must be positive, got {k}"
        )));
    }
    if let Some(c) = budgets.iter().find(|c| !(**c > 0.0 && c.is_finite())) {
        return Err(Error::InvalidOption(format!(
            "compute budgets must be positive, got {c}"
        )));
    }
    let q = 4 + 4 * budgets.len();
    let rows = params.len() / p;
    let mut out = Vec::with_capacity(rows * q);
    for r in params.chunks_exact(p) {
        let law = NdLaw {
            e: r[idx[0]],
            a: r[idx[1]],
            b: r[idx[2]],
            alpha: r[idx[3]],
            beta: r[idx[4]],
        };
        out.extend([law.exponent_n(), law.exponent_d(), law.eta(), law.g()]);
        for &c in budgets {
            let (n, d, l) = law.optimum(c, k);
            out.extend([n, d, d / n, l]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: NdLaw = NdLaw {
        e: 1.8169,
        a: 482.01,
        b: 2085.43,
        alpha: 0.3478,
        beta: 0.3658,
    };

    #[test]
    fn chinchilla_budget_matches_published_ratios() {
        let c = 5.88e23;
        let (n, d, _) = EPOCH.optimum(c, 6.0);
        assert!((EPOCH.exponent_n() - 0.513).abs() < 0.001);
        assert!((d / n - 18.0).abs() < 1.5, "{}", d / n);
        let hoff = NdLaw {
            e: 1.69,
            a: 406.4,
            b: 410.7,
            alpha: 0.34,
            beta: 0.28,
        };
        let (n, d, _) = hoff.optimum(c, 6.0);
        assert!((d / n - 93.0).abs() < 5.0, "{}", d / n);
    }

    #[test]
    fn closed_form_is_the_numeric_minimum() {
        // minimise L(N, C/(kN)) over log N by golden-section search
        let (c, k) = (1e22, 6.0);
        let f = |ln: f64| {
            let n = ln.exp();
            EPOCH.loss(n, c / (k * n))
        };
        let (mut lo, mut hi) = (10f64.ln(), 1e15f64.ln());
        let gr = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..200 {
            let m1 = hi - gr * (hi - lo);
            let m2 = lo + gr * (hi - lo);
            if f(m1) < f(m2) {
                hi = m2;
            } else {
                lo = m1;
            }
        }
        let n_num = (0.5 * (lo + hi)).exp();
        let (n, d, l) = EPOCH.optimum(c, k);
        assert!((n / n_num - 1.0).abs() < 1e-6, "{n} vs {n_num}");
        assert!((k * n * d / c - 1.0).abs() < 1e-12);
        assert!((l - f(n_num.ln())).abs() < 1e-12);
    }
}
