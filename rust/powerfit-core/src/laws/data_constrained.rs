//! The data-constrained law of Muennighoff et al. 2023 ("Scaling data-constrained language
//! models"): repeated tokens and parameters in excess of what the unique data support are
//! worth less than fresh ones, decaying with constants R_D* and R_N*:
//!
//! ```text
//! L   = E + A N'^-alpha + B D'^-beta
//! D'  = U_D (1 + R_D* (1 - exp(-R_D / R_D*))),   U_D = min(U, D),  R_D = D / U_D - 1
//! N'  = U_N (1 + R_N* (1 - exp(-R_N / R_N*))),   U_N = min(N_opt(U_D), N),  R_N = N / U_N - 1
//! ```
//!
//! with N_opt(D) = G (D G)^(beta/alpha), G = (alpha A / (beta B))^(1/(alpha + beta)), the
//! compute-optimal model size for D tokens under the same law (Hoffmann et al.'s allocation).
//! Variables N (parameters), D (tokens seen), U (unique tokens); parameters [E, A, B, alpha,
//! beta, R_N, R_D]. Without repetition (D <= U, N <= N_opt(U)) it is Hoffmann et al.'s law.

use super::starts::{best, lstsq};
use crate::law::{Cols, Law};

#[derive(Debug, Clone)]
pub struct DataConstrained {
    params: Vec<String>,
    vars: Vec<String>,
}

impl DataConstrained {
    pub fn new() -> Self {
        DataConstrained {
            params: ["E", "A", "B", "alpha", "beta", "R_N", "R_D"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vars: ["N", "D", "U"].iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Default for DataConstrained {
    fn default() -> Self {
        Self::new()
    }
}

/// u (1 + r* (1 - e^(-R/r*))) with R = total/u - 1, and its derivatives with respect to u
/// (total fixed) and to r*.
#[inline]
fn effective(u: f64, total: f64, rstar: f64) -> (f64, f64, f64) {
    let r = total / u - 1.0;
    let e = (-r / rstar).exp();
    let v = u * (1.0 + rstar * (1.0 - e));
    let d_u = 1.0 + rstar * (1.0 - e) - e * total / u;
    let d_r = u * ((1.0 - e) - e * r / rstar);
    (v, d_u, d_r)
}

/// Everything one point needs: the law's value and its gradient (natural parameters).
#[inline]
fn point(p: &[f64], ln_n: f64, ln_d: f64, ln_u: f64, grad: Option<&mut [f64; 7]>) -> f64 {
    let (e, a, b, al, be, rn, rd) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
    let (n, d) = (ln_n.exp(), ln_d.exp());
    let ln_ud = ln_u.min(ln_d);
    let ud = ln_ud.exp();
    let (dp, _, dp_r) = effective(ud, d, rd);
    // ln N_opt(U_D) = (ln(alpha A) - ln(beta B) + beta ln U_D) / alpha
    let ln_opt = ((al * a).ln() - (be * b).ln() + be * ln_ud) / al;
    let capped = ln_opt < ln_n;
    let un = if capped { ln_opt.exp() } else { n };
    let (np, np_u, np_r) = effective(un, n, rn);
    let tn = a * np.powf(-al);
    let td = b * dp.powf(-be);
    if let Some(g) = grad {
        let dl_dnp = -al * tn / np;
        let dl_ddp = -be * td / dp;
        // through U_N = N_opt(U_D) when it binds: dU_N = U_N d ln N_opt
        let via = |dln_opt: f64| {
            if capped {
                dl_dnp * np_u * un * dln_opt
            } else {
                0.0
            }
        };
        g[0] = 1.0;
        g[1] = tn / a + via(1.0 / (al * a));
        g[2] = td / b + via(-1.0 / (al * b));
        g[3] = -tn * np.ln() + via((1.0 / al - ln_opt) / al);
        g[4] = -td * dp.ln() + via((-1.0 / be + ln_ud) / al);
        g[5] = dl_dnp * np_r;
        g[6] = dl_ddp * dp_r;
    }
    e + tn + td
}

impl Law for DataConstrained {
    fn name(&self) -> &str {
        "data_constrained"
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = point(p, x.logx[0][i], x.logx[1][i], x.logx[2][i], None);
        }
    }

    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        let mut g = [0.0; 7];
        for (i, o) in out.iter_mut().enumerate() {
            *o = point(p, x.logx[0][i], x.logx[1][i], x.logx[2][i], Some(&mut g));
            for (k, gk) in g.iter().enumerate() {
                jac[k * n + i] = *gk;
            }
        }
    }

    fn positive(&self) -> Vec<bool> {
        vec![false, true, true, false, false, true, true]
    }

    fn lower_bounds(&self) -> Vec<f64> {
        let mut v = vec![f64::NEG_INFINITY; 7];
        v[0] = 0.0; // the irreducible loss
        v[3] = 0.0; // N_opt needs alpha > 0 and beta > 0 (log-parametrised amplitudes aside)
        v[4] = 0.0;
        v
    }

    fn data_starts(&self, x: &Cols, y: &[f64]) -> Vec<Vec<f64>> {
        if y.is_empty() {
            return Vec::new();
        }
        // for fixed exponents and repetition constants (and U_N = N), L is linear in
        // (E, A, B): a grid over the rest and a regression at each
        let n = y.len();
        let mut cands = Vec::new();
        for al in [0.2, 0.35, 0.5] {
            for be in [0.2, 0.35, 0.5] {
                for rd in [5.0, 15.0, 50.0] {
                    let rn = 5.0;
                    let tn: Vec<f64> = (0..n).map(|i| (-al * x.logx[0][i]).exp()).collect();
                    let td: Vec<f64> = (0..n)
                        .map(|i| {
                            let ud = x.logx[2][i].min(x.logx[1][i]).exp();
                            let (dp, _, _) = effective(ud, x.logx[1][i].exp(), rd);
                            dp.powf(-be)
                        })
                        .collect();
                    if let Some((c, rss)) = lstsq(&[vec![1.0; n], tn, td], y) {
                        if c[1] > 0.0 && c[2] > 0.0 {
                            cands.push((rss, vec![c[0].max(0.0), c[1], c[2], al, be, rn, rd]));
                        }
                    }
                }
            }
        }
        best(cands, 6)
    }
}
