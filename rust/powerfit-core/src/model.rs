//! A model: a law, the loss it is fitted with and the parameter specification (fixed values,
//! bounds, log-parametrisation), validated once and shared by every fit of it (a single fit,
//! its bootstrap, every group of a bulk fit).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::law::Law;
use crate::loss::Loss;
use crate::options::StartSpec;
use crate::problem::ParamSpec;

/// The loss as the user named it, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LossSpec {
    pub name: String,
    pub delta: f64,
    pub penalty: f64,
}

/// Bounds of one parameter as given: either side may be open (None).
pub type NamedBound = (String, Option<f64>, Option<f64>);

#[derive(Clone)]
pub struct Model {
    pub law: Arc<dyn Law>,
    pub loss: Loss,
    pub loss_spec: LossSpec,
    pub spec: ParamSpec,
}

impl Model {
    /// Validates the loss and the parameter specification against the law.
    pub fn new(
        law: Arc<dyn Law>,
        loss: LossSpec,
        fixed: &[(String, f64)],
        bounds: &[NamedBound],
    ) -> Result<Model> {
        let parsed = Loss::from_name(&loss.name, loss.delta, loss.penalty)?;
        let mut spec = ParamSpec::for_law(law.as_ref());
        for (name, lo, hi) in bounds {
            let k = index_of(law.as_ref(), name, "bounds")?;
            let lo = lo.unwrap_or(f64::NEG_INFINITY);
            let hi = hi.unwrap_or(f64::INFINITY);
            if lo.is_nan() || hi.is_nan() || lo >= hi {
                return Err(Error::InvalidOption(format!(
                    "bounds of '{name}' are empty or NaN: [{lo}, {hi}]"
                )));
            }
            spec.lower[k] = lo;
            spec.upper[k] = hi;
        }
        let defaults = spec.lower.clone();
        for (name, v) in fixed {
            let k = index_of(law.as_ref(), name, "fixed")?;
            // a law's default lower bound gives way to a value the user fixes on purpose;
            // bounds the user gave do not
            let user_bound = bounds.iter().any(|b| b.0 == *name);
            if !user_bound && *v < defaults[k] {
                spec.lower[k] = f64::NEG_INFINITY;
            }
            if !(spec.lower[k]..=spec.upper[k]).contains(v) {
                return Err(Error::InvalidOption(format!(
                    "fixed value of '{name}' ({v}) lies outside its bounds [{}, {}]",
                    spec.lower[k], spec.upper[k]
                )));
            }
            spec.fixed[k] = Some(*v);
        }
        spec.validate(law.param_names())?;
        Ok(Model {
            law,
            loss: parsed,
            loss_spec: loss,
            spec,
        })
    }

    pub fn param_names(&self) -> &[String] {
        self.law.param_names()
    }

    pub fn n_params(&self) -> usize {
        self.law.n_params()
    }

    /// A user start in the law's order (fixed parameters take their fixed values). A start by
    /// name must give every free parameter.
    pub fn start(&self, p0: &StartSpec) -> Result<Vec<f64>> {
        let names = self.param_names();
        let p = names.len();
        match p0 {
            StartSpec::Values(v) => {
                if v.len() != p {
                    return Err(Error::InvalidOption(format!(
                        "p0 has {} values but law '{}' has {p} parameters ({})",
                        v.len(),
                        self.law.name(),
                        names.join(", ")
                    )));
                }
                Ok(v.clone())
            }
            StartSpec::Named(pairs) => {
                let mut out: Vec<Option<f64>> = self.spec.fixed.clone();
                for (name, v) in pairs {
                    out[index_of(self.law.as_ref(), name, "p0")?] = Some(*v);
                }
                let missing: Vec<&str> = (0..p)
                    .filter(|&k| out[k].is_none())
                    .map(|k| names[k].as_str())
                    .collect();
                if !missing.is_empty() {
                    return Err(Error::InvalidOption(format!(
                        "p0 lacks a start for {}",
                        missing.join(", ")
                    )));
                }
                Ok(out.into_iter().map(|v| v.unwrap_or(0.0)).collect())
            }
        }
    }

    /// Parameters with the fixed ones set to their values.
    pub fn with_fixed(&self, p: &[f64]) -> Vec<f64> {
        p.iter()
            .zip(&self.spec.fixed)
            .map(|(v, f)| f.unwrap_or(*v))
            .collect()
    }

    /// Standard errors from a fit's covariance: NaN without one, 0 for fixed parameters.
    pub fn stderr(&self, cov: Option<&[f64]>) -> Vec<f64> {
        let p = self.n_params();
        (0..p)
            .map(|k| match (cov, self.spec.fixed[k]) {
                (_, Some(_)) => 0.0,
                (Some(c), None) if c.len() == p * p => c[k * p + k].max(0.0).sqrt(),
                _ => f64::NAN,
            })
            .collect()
    }

    /// Checks a parameter vector's length (for analyses of given parameters).
    pub fn check_params(&self, p: &[f64], what: &str) -> Result<()> {
        if p.len() != self.n_params() {
            return Err(Error::InvalidOption(format!(
                "{what} has {} values but law '{}' has {} parameters",
                p.len(),
                self.law.name(),
                self.n_params()
            )));
        }
        Ok(())
    }
}

/// The position of parameter `name`, or an error naming the option and the law's parameters.
pub fn index_of(law: &dyn Law, name: &str, what: &str) -> Result<usize> {
    law.param_names()
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| {
            Error::InvalidLaw(format!(
                "{what}: law '{}' has no parameter '{name}'; its parameters are {}",
                law.name(),
                law.param_names().join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::builtin;

    fn chinchilla() -> Arc<dyn Law> {
        Arc::from(builtin("chinchilla", &[]).unwrap())
    }

    fn l2() -> LossSpec {
        LossSpec {
            name: "l2".into(),
            delta: 1e-3,
            penalty: 10.0,
        }
    }

    #[test]
    fn fixed_outside_bounds_is_refused() {
        let e = Model::new(
            chinchilla(),
            l2(),
            &[("alpha".into(), 5.0)],
            &[("alpha".into(), Some(0.0), Some(1.0))],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("fixed value of 'alpha' (5) lies outside"), "{e}");
    }

    #[test]
    fn names_are_checked() {
        let e = Model::new(chinchilla(), l2(), &[("gamma".into(), 1.0)], &[])
            .err()
            .unwrap();
        assert!(matches!(e, Error::InvalidLaw(_)));
        assert!(e
            .to_string()
            .contains("its parameters are E, A, B, alpha, beta"));
        let m = Model::new(chinchilla(), l2(), &[("E".into(), 1.7)], &[]).unwrap();
        let named = StartSpec::Named(vec![
            ("A".into(), 400.0),
            ("B".into(), 400.0),
            ("alpha".into(), 0.3),
        ]);
        let e = m.start(&named).unwrap_err().to_string();
        assert!(e.contains("lacks a start for beta"), "{e}");
        let mut full = named.clone();
        if let StartSpec::Named(v) = &mut full {
            v.push(("beta".into(), 0.3));
        }
        assert_eq!(m.start(&full).unwrap(), vec![1.7, 400.0, 400.0, 0.3, 0.3]);
        assert!(m.start(&StartSpec::Values(vec![1.0])).is_err());
    }
}
