//! M4 of Alabdulmohsin, Neyshabur and Zhai 2022, an implicit law:
//!
//! ```text
//! (L - eps_inf) / (eps_0 - L)^alpha = beta x^-c,      eps_inf < L < eps_0
//! ```
//!
//! The loss falls from eps_0 (random guessing) to eps_inf along a curve that is a power law
//! near eps_inf and bends towards eps_0 for small x. Parameters [eps_inf, beta, c, alpha,
//! eps_0] (fix eps_0 for error rates, e.g. 1). The fit minimises the loss's rho of the log
//! residual of the equation at the observed L (the paper's squared log error of its eq. 4):
//! `ln(L - eps_inf) - alpha ln(eps_0 - L) - ln beta + c ln x`, whatever the loss's scale.
//! Predictions solve the equation for L per point (its left side increases with L, so the root
//! in (eps_inf, eps_0) is unique) by Newton's method safeguarded by bisection.

use super::roots::newton_bracketed;
use super::starts::{best, lstsq, range};
use crate::law::{implicit_pseudo_values, Cols, Law};
use crate::loss::Scale;

#[derive(Debug, Clone)]
pub struct M4 {
    params: Vec<String>,
    vars: Vec<String>,
}

impl M4 {
    /// M4 over the column `var`.
    pub fn new(var: &str) -> Self {
        M4 {
            params: ["eps_inf", "beta", "c", "alpha", "eps_0"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vars: vec![var.to_string()],
        }
    }

    /// The loss at one point with ln x = `lx`: the root of the equation in (eps_inf, eps_0).
    pub fn solve(p: &[f64], lx: f64) -> f64 {
        let (e_inf, beta, c, alpha, e0) = (p[0], p[1], p[2], p[3], p[4]);
        let ln_f = beta.ln() - c * lx;
        if alpha == 0.0 {
            return e_inf + ln_f.exp();
        }
        let b = e0 - e_inf;
        if !(b > 0.0) || !(alpha > 0.0) || !ln_f.is_finite() {
            return f64::NAN;
        }
        // in w = L - eps_inf: ln w - alpha ln(b - w) = ln f, increasing in w on (0, b)
        let h = |w: f64| {
            (
                w.ln() - alpha * (b - w).ln() - ln_f,
                1.0 / w + alpha / (b - w),
            )
        };
        // the root when w << b, clipped into the bracket
        let guess = (ln_f + alpha * b.ln()).exp().min(0.5 * b);
        let w = newton_bracketed(h, 0.0, b, guess, 1e-15);
        e_inf + w
    }
}

impl Law for M4 {
    fn name(&self) -> &str {
        "m4"
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        for (o, &lx) in out.iter_mut().zip(x.logx[0]) {
            *o = Self::solve(p, lx);
        }
    }

    /// Predictions and their derivatives by implicit differentiation: dL/dp = -h_p / h_L.
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        let (e_inf, beta, alpha, e0) = (p[0], p[1], p[3], p[4]);
        for (i, &lx) in x.logx[0].iter().enumerate() {
            let l = Self::solve(p, lx);
            out[i] = l;
            let (w, v) = (l - e_inf, e0 - l);
            let h_l = 1.0 / w + alpha / v;
            let h_p = [-1.0 / w, -1.0 / beta, lx, -v.ln(), -alpha / v];
            for (k, hk) in h_p.iter().enumerate() {
                // at alpha = 0, L does not depend on eps_0 (and v may be negative)
                jac[k * n + i] = if alpha == 0.0 && k >= 3 {
                    if k == 3 {
                        w * v.ln()
                    } else {
                        0.0
                    }
                } else {
                    -hk / h_l
                };
            }
        }
    }

    fn positive(&self) -> Vec<bool> {
        vec![false, true, false, false, false]
    }

    fn lower_bounds(&self) -> Vec<f64> {
        // eps_inf: an irreducible loss; c and alpha >= 0 keep the law decreasing (the paper's
        // non-negative regression)
        vec![0.0, f64::NEG_INFINITY, 0.0, 0.0, f64::NEG_INFINITY]
    }

    fn is_implicit(&self) -> bool {
        true
    }

    fn eval_jac_fit(
        &self,
        x: &Cols,
        target: &[f64],
        scale: Scale,
        p: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
    ) {
        let n = out.len();
        let (e_inf, beta, c, alpha, e0) = (p[0], p[1], p[2], p[3], p[4]);
        let lb = beta.ln();
        for (i, &lx) in x.logx[0].iter().enumerate() {
            let y = match scale {
                Scale::Linear => target[i],
                Scale::Log => target[i].exp(),
            };
            let (w, v) = (y - e_inf, e0 - y);
            let lv = v.ln();
            out[i] = w.ln() - alpha * lv - lb + c * lx;
            jac[i] = -1.0 / w;
            jac[n + i] = -1.0 / beta;
            jac[2 * n + i] = lx;
            jac[3 * n + i] = -lv;
            jac[4 * n + i] = -alpha / v;
        }
        implicit_pseudo_values(target, scale, out, jac);
    }

    fn data_starts(&self, x: &Cols, y: &[f64]) -> Vec<Vec<f64>> {
        if y.is_empty() {
            return Vec::new();
        }
        // for fixed (eps_inf, eps_0) the log equation is linear in (ln beta, c, alpha):
        // a grid over the two and a regression at each (the authors' alternation, one sweep)
        let (ymin, ymax) = range(y);
        let lx = x.logx[0];
        let ones = vec![1.0; y.len()];
        let neg_lx: Vec<f64> = lx.iter().map(|v| -v).collect();
        let mut e0s: Vec<f64> = [0.01, 0.1, 0.5, 2.0]
            .iter()
            .map(|d| ymax * (1.0 + d))
            .collect();
        if ymax < 1.0 {
            e0s.push(1.0); // error rates: random guessing at 1
        }
        let mut cands = Vec::new();
        for q in [0.0, 0.5, 0.8, 0.9, 0.95, 0.99] {
            let e_inf = q * ymin;
            let lw: Vec<f64> = y.iter().map(|v| (v - e_inf).ln()).collect();
            for &e0 in &e0s {
                let lv: Vec<f64> = y.iter().map(|v| (e0 - v).ln()).collect();
                let full = lstsq(&[ones.clone(), neg_lx.clone(), lv], &lw);
                let cand = match full {
                    Some((c, rss)) if c[1] >= 0.0 && c[2] >= 0.0 => Some((rss, c)),
                    _ => lstsq(&[ones.clone(), neg_lx.clone()], &lw)
                        .filter(|(c, _)| c[1] >= 0.0)
                        .map(|(c, rss)| (rss, vec![c[0], c[1], 0.0])),
                };
                if let Some((rss, c)) = cand {
                    cands.push((rss, vec![e_inf, c[0].exp(), c[1], c[2], e0]));
                }
            }
        }
        best(cands, 6)
    }
}
