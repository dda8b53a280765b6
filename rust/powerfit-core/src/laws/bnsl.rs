//! The smoothly broken power law of Caballero et al. 2022 ("Broken neural scaling laws") with
//! one or two breaks:
//!
//! ```text
//! L = a + b x^-c0 prod_i (1 + (x/d_i)^(1/f_i))^(-c_i f_i)
//! ```
//!
//! The slope on log-log axes is -c0 before the first break (at x ~ d_1, sharpness f_1) and
//! -(c0 + c1 + ...) after the later ones. Parameters [a, b, c0, c1, d1, f1] (`bnsl`) and
//! [a, b, c0, c1, d1, f1, c2, d2, f2] (`bnsl2`); b, d_i, f_i are positive. The product is
//! evaluated in log space with a stable softplus, so predictions stay finite far beyond the
//! data (the law there is a power law of slope -(c0 + sum c_i)).

use super::starts::{best, lstsq, range};
use crate::fastmath::exp;
use crate::law::{Cols, Law};

#[derive(Debug, Clone)]
pub struct Bnsl {
    breaks: usize,
    params: Vec<String>,
    vars: Vec<String>,
}

/// ln(1 + e^z) without overflow.
#[inline]
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// 1 / (1 + e^-z) without overflow.
#[inline]
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Bnsl {
    /// The law with `breaks` (1 or 2) breaks over the column `var`.
    pub fn new(var: &str, breaks: usize) -> Self {
        let mut params: Vec<String> = ["a", "b", "c0"].iter().map(|s| s.to_string()).collect();
        for i in 1..=breaks {
            params.extend([format!("c{i}"), format!("d{i}"), format!("f{i}")]);
        }
        Bnsl {
            breaks,
            params,
            vars: vec![var.to_string()],
        }
    }

    /// ln(L - a) at ln x = `lx`, and per break (softplus, sigmoid, z) for the Jacobian.
    #[inline]
    fn log_excess(&self, p: &[f64], lx: f64, parts: &mut [(f64, f64, f64); 2]) -> f64 {
        let mut v = p[1].ln() - p[2] * lx;
        for (i, part) in parts.iter_mut().enumerate().take(self.breaks) {
            let (c, d, f) = (p[3 + 3 * i], p[4 + 3 * i], p[5 + 3 * i]);
            let z = (lx - d.ln()) / f;
            let s = softplus(z);
            v -= c * f * s;
            *part = (s, sigmoid(z), z);
        }
        v
    }
}

impl Law for Bnsl {
    fn name(&self) -> &str {
        if self.breaks == 1 {
            "bnsl"
        } else {
            "bnsl2"
        }
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        let mut parts = [(0.0, 0.0, 0.0); 2];
        for (o, &lx) in out.iter_mut().zip(x.logx[0]) {
            *o = p[0] + exp(self.log_excess(p, lx, &mut parts));
        }
    }

    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        let mut parts = [(0.0, 0.0, 0.0); 2];
        for (i, &lx) in x.logx[0].iter().enumerate() {
            let t = exp(self.log_excess(p, lx, &mut parts));
            out[i] = p[0] + t;
            jac[i] = 1.0;
            jac[n + i] = t / p[1];
            jac[2 * n + i] = -t * lx;
            for (j, &(s, sg, z)) in parts.iter().enumerate().take(self.breaks) {
                let (c, d, f) = (p[3 + 3 * j], p[4 + 3 * j], p[5 + 3 * j]);
                let k = 3 + 3 * j;
                jac[k * n + i] = -t * f * s;
                jac[(k + 1) * n + i] = t * c * sg / d;
                jac[(k + 2) * n + i] = t * c * (sg * z - s);
            }
        }
    }

    fn positive(&self) -> Vec<bool> {
        let mut v = vec![false, true, false];
        for _ in 0..self.breaks {
            v.extend([false, true, true]);
        }
        v
    }

    fn lower_bounds(&self) -> Vec<f64> {
        let mut v = vec![f64::NEG_INFINITY; self.params.len()];
        v[0] = 0.0; // the irreducible loss
        v
    }

    fn data_starts(&self, x: &Cols, y: &[f64]) -> Vec<Vec<f64>> {
        if y.is_empty() {
            return Vec::new();
        }
        // for fixed a, breaks d_i and sharpness f, ln(L - a) = ln b - c0 ln x - sum c_i f s_i
        // is linear in (ln b, c0, c_i): a small grid over the rest, a regression at each
        let lx = x.logx[0];
        let (lo, hi) = range(lx);
        let (ymin, _) = range(y);
        let at: Vec<f64> = [0.2, 0.4, 0.6, 0.8]
            .iter()
            .map(|q| lo + q * (hi - lo))
            .collect();
        let mut sites: Vec<Vec<f64>> = Vec::new();
        if self.breaks == 1 {
            sites.extend(at.iter().map(|&d| vec![d]));
        } else {
            for i in 0..at.len() {
                for j in i + 1..at.len() {
                    sites.push(vec![at[i], at[j]]);
                }
            }
        }
        let width = (hi - lo).max(1e-3);
        let mut cands = Vec::new();
        for q in [0.0, 0.5, 0.9] {
            let a = q * ymin;
            let lw: Vec<f64> = y.iter().map(|v| (v - a).ln()).collect();
            for ld in &sites {
                for fs in [0.05, 0.2, 0.5] {
                    let f = fs * width;
                    let mut cols = vec![vec![1.0; y.len()], lx.iter().map(|v| -v).collect()];
                    for &l in ld {
                        cols.push(lx.iter().map(|v| -f * softplus((v - l) / f)).collect());
                    }
                    if let Some((c, rss)) = lstsq(&cols, &lw) {
                        let mut p = vec![a, c[0].exp(), c[1]];
                        for (i, &l) in ld.iter().enumerate() {
                            p.extend([c[2 + i], l.exp(), f]);
                        }
                        cands.push((rss, p));
                    }
                }
            }
        }
        best(cands, 6)
    }
}
