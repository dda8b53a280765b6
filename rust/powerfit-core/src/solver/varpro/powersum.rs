//! The power-sum problem as variable projection sees it: a constant and terms A_t x_t^-e_t,
//! their fixed and free parts, and the linear unknowns (constant, amplitudes) of a cell of
//! exponents.

use super::exponent_grid;
use super::nnls::{nnls, Sol, MAX_UNKNOWNS};
use super::tables::{Rows, Tables};
use crate::problem::Problem;

/// Exponent range of the grids.
pub const EXP_LO: f64 = 0.02;
pub const EXP_HI: f64 = 2.5;

/// A power sum c + sum_t A_t x_t^-e_t with its fixed and free parts.
pub struct PowerSum<'a> {
    pub pb: &'a Problem<'a>,
    pub constant: Option<usize>,
    /// (amplitude index, exponent index, variable index) per term
    pub terms: Vec<(usize, usize, usize)>,
    pub const_free: bool,
    /// Losses measured as positive numbers level off at a non-negative floor. Without that
    /// constraint the search happily trades the constant against a slow term (a small
    /// exponent is nearly a constant) and starts LM in a long, nearly flat valley. LM itself
    /// may still move the constant below zero.
    pub const_nonneg: bool,
    pub fixed_amp: Vec<Option<f64>>,
    /// The fixed constant (0 when free or absent), subtracted from y.
    pub c_fixed: f64,
}

impl<'a> PowerSum<'a> {
    pub fn new(
        pb: &'a Problem<'a>,
        constant: Option<usize>,
        terms: &[(usize, usize, usize)],
    ) -> Self {
        let const_free = constant.is_some_and(|c| pb.spec.fixed[c].is_none());
        let positive = match pb.loss.scale {
            crate::loss::Scale::Log => true,
            crate::loss::Scale::Linear => pb.target.iter().all(|&v| v > 0.0),
        };
        PowerSum {
            pb,
            constant,
            terms: terms.to_vec(),
            const_free,
            const_nonneg: const_free && positive,
            fixed_amp: terms.iter().map(|t| pb.spec.fixed[t.0]).collect(),
            c_fixed: constant.and_then(|c| pb.spec.fixed[c]).unwrap_or(0.0),
        }
    }

    pub fn k(&self) -> usize {
        self.terms.len()
    }

    pub fn rows(&self) -> Rows<'a> {
        Rows {
            pb: self.pb,
            c_fixed: self.c_fixed,
        }
    }

    pub fn logx(&self) -> Vec<&'a [f64]> {
        self.terms.iter().map(|t| self.pb.cols.logx[t.2]).collect()
    }

    /// Exponent grids of `m` points per free exponent.
    pub fn grids(&self, m: usize) -> Vec<Vec<f64>> {
        self.terms
            .iter()
            .map(|t| exponent_grid(self.pb, t.1, m, EXP_LO, EXP_HI))
            .collect()
    }

    /// The NNLS system of the linear unknowns (the constant if free, then the free
    /// amplitudes) at grid selection `sel`, solved; the solution goes to `x`.
    pub fn cell(&self, tab: &Tables, sel: &[usize], x: &mut Sol) -> f64 {
        #[derive(Clone, Copy)]
        enum B {
            One,
            Y,
            U(usize),
        }
        let k = self.k();
        let ip = |a: B, b: B| -> f64 {
            match (a, b) {
                (B::One, B::One) => tab.one_one,
                (B::One, B::Y) | (B::Y, B::One) => tab.one_y,
                (B::Y, B::Y) => tab.y_y,
                (B::One, B::U(t)) | (B::U(t), B::One) => tab.one_u[tab.row(t, sel[t])],
                (B::Y, B::U(t)) | (B::U(t), B::Y) => tab.y_u[tab.row(t, sel[t])],
                (B::U(t), B::U(t2)) => {
                    if t == t2 {
                        tab.u_u[tab.row(t, sel[t])]
                    } else {
                        tab.cross(t, sel[t], t2, sel[t2])
                    }
                }
            }
        };
        // the response: y minus the terms of fixed amplitudes
        let mut resp = [(0.0, B::One); MAX_UNKNOWNS + 1];
        resp[0] = (1.0, B::Y);
        let mut nr = 1;
        for t in 0..k {
            if let Some(a) = self.fixed_amp[t] {
                resp[nr] = (-a, B::U(t));
                nr += 1;
            }
        }
        let resp = &resp[..nr];
        let mut basis = [B::One; MAX_UNKNOWNS];
        let mut nonneg = [false; MAX_UNKNOWNS];
        let mut mm = 0;
        if self.const_free {
            basis[0] = B::One;
            nonneg[0] = self.const_nonneg;
            mm = 1;
        }
        for t in 0..k {
            if self.fixed_amp[t].is_none() {
                basis[mm] = B::U(t);
                nonneg[mm] = true;
                mm += 1;
            }
        }
        let mut g = [0.0f64; MAX_UNKNOWNS * MAX_UNKNOWNS];
        let mut b = [0.0f64; MAX_UNKNOWNS];
        let mut yy = 0.0;
        for &(ca, ba) in resp {
            for &(cb, bb) in resp {
                yy += ca * cb * ip(ba, bb);
            }
        }
        for a in 0..mm {
            b[a] = resp.iter().map(|&(c, bb)| c * ip(basis[a], bb)).sum();
            for bb in 0..=a {
                let v = ip(basis[a], basis[bb]);
                g[a * mm + bb] = v;
                g[bb * mm + a] = v;
            }
        }
        *x = [0.0; MAX_UNKNOWNS];
        if mm == 0 {
            yy
        } else {
            nnls(&g[..mm * mm], &b[..mm], yy, mm, &nonneg[..mm], x)
        }
    }

    /// `base` with the free constant and amplitudes replaced by the linear unknowns `x`
    /// (clipped to their bounds); None when a free amplitude is not positive (its term
    /// dropped: LM cannot regrow it from a tiny amplitude, so the start keeps the base's).
    pub fn with_linear(&self, base: &[f64], x: &Sol) -> Option<Vec<f64>> {
        let pb = self.pb;
        let mut params = base.to_vec();
        let mut j = 0;
        if let (Some(c), true) = (self.constant, self.const_free) {
            params[c] = x[0];
            j = 1;
        }
        for (t, &(ia, _, _)) in self.terms.iter().enumerate() {
            if self.fixed_amp[t].is_none() {
                if !(x[j] > 0.0) {
                    return None;
                }
                params[ia] = x[j];
                j += 1;
            }
        }
        for (q, v) in params.iter_mut().enumerate() {
            *v = pb.spec.clip(q, *v);
        }
        Some(params)
    }

    /// Mean of y (natural scale) and of each term's log x.
    pub fn means(&self) -> (f64, Vec<f64>) {
        let pb = self.pb;
        let n = pb.n().max(1) as f64;
        let ysum: f64 = match pb.loss.scale {
            crate::loss::Scale::Linear => pb.target.iter().sum(),
            crate::loss::Scale::Log => pb.target.iter().map(|t| t.exp()).sum(),
        };
        let lmean = self
            .logx()
            .iter()
            .map(|l| l.iter().sum::<f64>() / n)
            .collect();
        (ysum / n, lmean)
    }
}
