//! Kaplan et al. 2020, eq. (1.5): L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D.

use crate::fastmath::exp;
use crate::law::{Cols, Law, Structure};

#[derive(Debug, Clone)]
pub struct Kaplan {
    params: Vec<String>,
    vars: Vec<String>,
}

impl Kaplan {
    pub fn new() -> Self {
        Kaplan {
            params: ["N_c", "alpha_N", "D_c", "alpha_D"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vars: vec!["N".into(), "D".into()],
        }
    }
}

impl Default for Kaplan {
    fn default() -> Self {
        Self::new()
    }
}

impl Law for Kaplan {
    fn name(&self) -> &str {
        "kaplan"
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        let (lnc, an, dc, ad) = (p[0].ln(), p[1], p[2], p[3]);
        let q = an / ad;
        for ((o, &ln_n), &ln_d) in out.iter_mut().zip(x.logx[0]).zip(x.logx[1]) {
            let s = exp(q * (lnc - ln_n)) + dc * exp(-ln_d);
            *o = exp(ad * s.ln());
        }
    }

    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        let (nc, an, dc, ad) = (p[0], p[1], p[2], p[3]);
        let lnc = nc.ln();
        let q = an / ad;
        let (j0, rest) = jac.split_at_mut(n);
        let (j1, rest) = rest.split_at_mut(n);
        let (j2, j3) = rest.split_at_mut(n);
        for i in 0..n {
            let (ln_n, ln_d) = (x.logx[0][i], x.logx[1][i]);
            let lr = lnc - ln_n;
            let u = exp(q * lr);
            let v = exp(-ln_d);
            let s = u + dc * v;
            let ls = s.ln();
            let f = exp(ad * ls);
            out[i] = f;
            // dL/ds = alpha_D * L / s
            let dfs = ad * f / s;
            j0[i] = dfs * u * q / nc;
            j1[i] = dfs * u * lr / ad;
            j2[i] = dfs * v;
            // alpha_D enters through the outer power and through q = alpha_N / alpha_D
            j3[i] = f * ls - dfs * u * lr * an / (ad * ad);
        }
    }

    fn positive(&self) -> Vec<bool> {
        vec![true, false, true, false]
    }

    fn structure(&self) -> Structure {
        Structure::Kaplan
    }
}
