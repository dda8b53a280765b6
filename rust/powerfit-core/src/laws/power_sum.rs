//! c + sum_t A_t x_t^(-e_t): the single-factor slice (`power`), Hoffmann et al.'s `chinchilla`
//! and the `additive` multi-term law are all this one family.

use crate::error::{Error, Result};
use crate::fastmath::{add_term, add_term_jac};
use crate::law::{Cols, Law, Structure};

#[derive(Debug, Clone)]
pub struct PowerSum {
    name: String,
    params: Vec<String>,
    vars: Vec<String>,
    /// Index of the constant term in the parameter vector.
    constant: usize,
    /// (amplitude index, exponent index) per term; term t uses variable t.
    terms: Vec<(usize, usize)>,
}

impl PowerSum {
    fn build(name: &str, constant: &str, terms: &[(&str, &str, &str)]) -> Self {
        let k = terms.len();
        let mut params = vec![constant.to_string()];
        params.extend(terms.iter().map(|t| t.1.to_string()));
        params.extend(terms.iter().map(|t| t.2.to_string()));
        PowerSum {
            name: name.to_string(),
            params,
            vars: terms.iter().map(|t| t.0.to_string()).collect(),
            constant: 0,
            terms: (0..k).map(|t| (1 + t, 1 + k + t)).collect(),
        }
    }

    /// L = L_inf + A x^-alpha on one column `var`.
    pub fn power(var: &str) -> Self {
        Self::build("power", "L_inf", &[(var, "A", "alpha")])
    }

    /// L = E + A N^-alpha + B D^-beta; parameters [E, A, B, alpha, beta].
    pub fn chinchilla() -> Self {
        Self::build(
            "chinchilla",
            "E",
            &[("N", "A", "alpha"), ("D", "B", "beta")],
        )
    }

    /// L = L_inf + A N^-alpha + B D^-beta + E C^-gamma over the given subset of N, D, C.
    pub fn additive(vars: &[String]) -> Result<Self> {
        let all = [("N", "A", "alpha"), ("D", "B", "beta"), ("C", "E", "gamma")];
        for v in vars {
            if !all.iter().any(|t| t.0 == v) {
                return Err(Error::InvalidLaw(format!(
                    "law 'additive' takes variables among N, D, C; got '{v}'"
                )));
            }
        }
        let chosen: Vec<_> = all
            .iter()
            .filter(|t| vars.iter().any(|v| v == t.0))
            .copied()
            .collect();
        if chosen.is_empty() || chosen.len() != vars.len() {
            return Err(Error::InvalidLaw(
                "law 'additive' needs one to three distinct variables among N, D, C".into(),
            ));
        }
        Ok(Self::build("additive", "L_inf", &chosen))
    }
}

impl Law for PowerSum {
    fn name(&self) -> &str {
        &self.name
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }

    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        out.fill(p[self.constant]);
        for (t, &(ia, ie)) in self.terms.iter().enumerate() {
            add_term(x.logx[t], p[ia], p[ie], out);
        }
    }

    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        out.fill(p[self.constant]);
        jac[self.constant * n..(self.constant + 1) * n].fill(1.0);
        for (t, &(ia, ie)) in self.terms.iter().enumerate() {
            let (a, e) = (p[ia], p[ie]);
            // amplitude and exponent columns are disjoint slices of `jac`
            let (ja, je) = if ia < ie {
                let (lo, hi) = jac.split_at_mut(ie * n);
                (&mut lo[ia * n..(ia + 1) * n], &mut hi[..n])
            } else {
                let (lo, hi) = jac.split_at_mut(ia * n);
                (&mut hi[..n], &mut lo[ie * n..(ie + 1) * n])
            };
            add_term_jac(x.logx[t], a, e, out, ja, je);
        }
    }

    fn positive(&self) -> Vec<bool> {
        let mut pos = vec![false; self.params.len()];
        for &(ia, _) in &self.terms {
            pos[ia] = true;
        }
        pos
    }

    fn structure(&self) -> Structure {
        Structure::PowerSum {
            constant: Some(self.constant),
            terms: self
                .terms
                .iter()
                .enumerate()
                .map(|(t, &(a, e))| (a, e, t))
                .collect(),
        }
    }
}
