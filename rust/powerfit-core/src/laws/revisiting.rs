//! The explicit estimators of Alabdulmohsin, Neyshabur and Zhai 2022 ("Revisiting neural
//! scaling laws in language and vision"), with exponents written positive (the paper writes
//! x^c with c < 0):
//!
//! * `m1`: L = beta x^-c
//! * `m2`: L = eps_inf + beta x^-c
//! * `m3`: L = beta (x^-1 + gamma)^c, gamma >= 0 (its limit beta gamma^c plays eps_inf's part)
//!
//! Their implicit estimator M4 is in `m4.rs`.

use super::starts::{best, lstsq};
use crate::fastmath::exp;
use crate::law::{Cols, Law, Structure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    M1,
    M2,
    M3,
}

/// One of M1, M2, M3 over one variable.
#[derive(Debug, Clone)]
pub struct Revisiting {
    kind: Kind,
    params: Vec<String>,
    vars: Vec<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Revisiting {
    /// M1: L = beta x^-c; parameters [beta, c].
    pub fn m1(var: &str) -> Self {
        Revisiting {
            kind: Kind::M1,
            params: strings(&["beta", "c"]),
            vars: vec![var.to_string()],
        }
    }

    /// M2: L = eps_inf + beta x^-c; parameters [eps_inf, beta, c].
    pub fn m2(var: &str) -> Self {
        Revisiting {
            kind: Kind::M2,
            params: strings(&["eps_inf", "beta", "c"]),
            vars: vec![var.to_string()],
        }
    }

    /// M3: L = beta (x^-1 + gamma)^c; parameters [beta, gamma, c].
    pub fn m3(var: &str) -> Self {
        Revisiting {
            kind: Kind::M3,
            params: strings(&["beta", "gamma", "c"]),
            vars: vec![var.to_string()],
        }
    }
}

impl Law for Revisiting {
    fn name(&self) -> &str {
        match self.kind {
            Kind::M1 => "m1",
            Kind::M2 => "m2",
            Kind::M3 => "m3",
        }
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        let lx = x.logx[0];
        match self.kind {
            Kind::M1 => {
                for (o, &l) in out.iter_mut().zip(lx) {
                    *o = p[0] * exp(-p[1] * l);
                }
            }
            Kind::M2 => {
                for (o, &l) in out.iter_mut().zip(lx) {
                    *o = p[0] + p[1] * exp(-p[2] * l);
                }
            }
            Kind::M3 => {
                for (o, &l) in out.iter_mut().zip(lx) {
                    let u = exp(-l) + p[1];
                    *o = p[0] * exp(p[2] * u.ln());
                }
            }
        }
    }

    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let lx = x.logx[0];
        let n = out.len();
        let (j0, rest) = jac.split_at_mut(n);
        let (j1, j2) = rest.split_at_mut(n);
        match self.kind {
            Kind::M1 => {
                for i in 0..n {
                    let t = exp(-p[1] * lx[i]);
                    out[i] = p[0] * t;
                    j0[i] = t;
                    j1[i] = -out[i] * lx[i];
                }
            }
            Kind::M2 => {
                for i in 0..n {
                    let t = exp(-p[2] * lx[i]);
                    out[i] = p[0] + p[1] * t;
                    j0[i] = 1.0;
                    j1[i] = t;
                    j2[i] = -p[1] * t * lx[i];
                }
            }
            Kind::M3 => {
                for i in 0..n {
                    let u = exp(-lx[i]) + p[1];
                    let lu = u.ln();
                    let t = exp(p[2] * lu);
                    out[i] = p[0] * t;
                    j0[i] = t;
                    j1[i] = p[0] * p[2] * t / u;
                    j2[i] = out[i] * lu;
                }
            }
        }
    }

    fn positive(&self) -> Vec<bool> {
        match self.kind {
            Kind::M1 => vec![true, false],
            Kind::M2 => vec![false, true, false],
            Kind::M3 => vec![true, false, false],
        }
    }

    fn structure(&self) -> Structure {
        match self.kind {
            Kind::M1 => Structure::PowerSum {
                constant: None,
                terms: vec![(0, 1, 0)],
            },
            Kind::M2 => Structure::PowerSum {
                constant: Some(0),
                terms: vec![(1, 2, 0)],
            },
            Kind::M3 => Structure::General,
        }
    }

    fn lower_bounds(&self) -> Vec<f64> {
        match self.kind {
            Kind::M1 => vec![f64::NEG_INFINITY; 2],
            // the irreducible loss of a positive loss
            Kind::M2 => vec![0.0, f64::NEG_INFINITY, f64::NEG_INFINITY],
            // (x^-1 + gamma) must stay positive at every x
            Kind::M3 => vec![f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY],
        }
    }

    fn data_starts(&self, x: &Cols, y: &[f64]) -> Vec<Vec<f64>> {
        if self.kind != Kind::M3 || y.is_empty() {
            return Vec::new();
        }
        // for fixed gamma, ln L = ln beta + c ln(x^-1 + gamma) is a line: a grid over gamma
        // around the data's 1/x and a regression for (ln beta, c) at each
        let (lo, hi) = super::starts::range(x.logx[0]);
        let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
        let mut gammas = vec![0.0];
        for k in -3..=3 {
            gammas.push(10f64.powi(k) * (-hi).exp());
        }
        gammas.push((-lo).exp());
        let mut cands = Vec::new();
        for g in gammas {
            let lu: Vec<f64> = x.logx[0].iter().map(|&l| ((-l).exp() + g).ln()).collect();
            if let Some((c, rss)) = lstsq(&[vec![1.0; y.len()], lu], &ly) {
                if c[1] > 0.0 {
                    cands.push((rss, vec![c[0].exp(), g, c[1]]));
                }
            }
        }
        best(cands, 4)
    }
}
