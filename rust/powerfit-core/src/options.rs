//! Options as users give them, turned into the solver's types with every range checked. The
//! binding passes what the user typed (names, numbers of any size); this is where it is judged.

use crate::bootstrap::Method;
use crate::error::{Error, Result};
use crate::fit::{FitOptions, Starts};
use crate::solver::LmOptions;
use crate::vocab::{one_of, BOOTSTRAP_METHODS, STARTS};

/// Iterations of one local solve above which a request is refused: LM converges in tens of
/// iterations, so more than this means a mistake (and would make a fit look hung).
pub const MAX_ITER_LIMIT: i128 = 1_000_000;

/// A starting point as the user gave it: by parameter name or in the law's order.
#[derive(Debug, Clone, PartialEq)]
pub enum StartSpec {
    Named(Vec<(String, f64)>),
    Values(Vec<f64>),
}

/// The start strategy; `p0` is resolved against the law by `Model::start`.
pub fn parse_starts(name: &str, p0: Option<StartSpec>) -> Result<(Starts, Option<StartSpec>)> {
    match (name, p0) {
        ("auto", p0) => Ok((Starts::Auto, p0)),
        ("grid", p0) => Ok((Starts::Grid, p0)),
        ("given", Some(p0)) => Ok((Starts::Given(Vec::new()), Some(p0))),
        ("given", None) => Err(Error::InvalidOption(
            "starts='given' needs p0 (a starting value for every parameter)".into(),
        )),
        (other, _) => Err(Error::InvalidOption(format!(
            "unknown starts '{other}': use {}",
            one_of(STARTS)
        ))),
    }
}

/// A relative tolerance: finite and non-negative.
pub fn tolerance(name: &str, v: f64) -> Result<f64> {
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(Error::InvalidOption(format!(
            "{name} must be a finite non-negative number, got {v}"
        )))
    }
}

/// The local solver's options.
pub fn lm_options(ftol: f64, xtol: f64, gtol: f64, max_iter: i128) -> Result<LmOptions> {
    if !(1..=MAX_ITER_LIMIT).contains(&max_iter) {
        return Err(Error::InvalidOption(format!(
            "max_iter must be a whole number from 1 to {MAX_ITER_LIMIT}, got {max_iter}"
        )));
    }
    Ok(LmOptions {
        ftol: tolerance("ftol", ftol)?,
        xtol: tolerance("xtol", xtol)?,
        gtol: tolerance("gtol", gtol)?,
        max_iter: max_iter as usize,
    })
}

/// Fit options with the start left unresolved (the law's parameter names are needed for it).
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    pub starts: Starts,
    pub p0: Option<StartSpec>,
    pub lm: LmOptions,
}

impl FitSettings {
    pub fn new(
        starts: &str,
        p0: Option<StartSpec>,
        ftol: f64,
        xtol: f64,
        gtol: f64,
        max_iter: i128,
    ) -> Result<Self> {
        let (starts, p0) = parse_starts(starts, p0)?;
        Ok(FitSettings {
            starts,
            p0,
            lm: lm_options(ftol, xtol, gtol, max_iter)?,
        })
    }

    /// The start strategy's name.
    pub fn starts_name(&self) -> &'static str {
        match self.starts {
            Starts::Auto => "auto",
            Starts::Grid => "grid",
            Starts::Given(_) => "given",
        }
    }

    /// The solver's options, given the resolved start (natural values, one per parameter).
    pub fn resolve(&self, p0: Option<Vec<f64>>) -> FitOptions {
        let starts = match (&self.starts, &p0) {
            (Starts::Given(_), Some(p)) => Starts::Given(p.clone()),
            (s, _) => s.clone(),
        };
        let extra = if matches!(starts, Starts::Auto) {
            p0
        } else {
            None
        };
        FitOptions {
            lm: self.lm,
            starts,
            p0: extra,
            ..FitOptions::default()
        }
    }
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            starts: Starts::Auto,
            p0: None,
            lm: LmOptions::default(),
        }
    }
}

/// A count given by the user (replicates, groups' replicates): at least `min`.
pub fn count(name: &str, v: i128, min: i128) -> Result<usize> {
    if v < min {
        return Err(Error::InvalidOption(format!(
            "{name} must be a whole number of at least {min}, got {v}"
        )));
    }
    usize::try_from(v)
        .map_err(|_| Error::InvalidOption(format!("{name}={v} is too large for this machine")))
}

/// A seed: any integer in [0, 2^64).
pub fn seed(v: i128) -> Result<u64> {
    u64::try_from(v).map_err(|_| {
        Error::InvalidOption(format!(
            "seed must be a whole number from 0 to 2^64 - 1, got {v}"
        ))
    })
}

/// A coverage level in (0, 1).
pub fn level(v: f64) -> Result<f64> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(Error::InvalidOption(format!(
            "level must be in (0, 1), got {v}"
        )))
    }
}

/// A resampling scheme. `labels` are cluster ids per row (the cluster method); `sigma` the
/// noise scale of the parametric method (computed from the fit when not given).
pub fn bootstrap_method(name: &str, labels: Option<Vec<usize>>, sigma: f64) -> Result<Method> {
    match name {
        "case" => Ok(Method::Case),
        "cluster" => Ok(Method::Cluster {
            labels: labels.ok_or_else(|| {
                Error::InvalidOption(
                    "resample='cluster' needs cluster= (a variable name or labels, one per row)"
                        .into(),
                )
            })?,
        }),
        "residual" => Ok(Method::Residual),
        "parametric" => {
            if !(sigma >= 0.0 && sigma.is_finite()) {
                return Err(Error::InvalidOption(format!(
                    "the parametric bootstrap's noise scale must be finite and >= 0, got {sigma}"
                )));
            }
            Ok(Method::Parametric { sigma })
        }
        other => Err(Error::InvalidOption(format!(
            "unknown resampling scheme '{other}' (resample=): use {}",
            one_of(BOOTSTRAP_METHODS)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert!(lm_options(1e-10, 1e-10, 1e-10, 0).is_err());
        assert!(lm_options(1e-10, 1e-10, 1e-10, -1).is_err());
        assert!(lm_options(f64::NAN, 1e-10, 1e-10, 10).is_err());
        assert!(lm_options(1e-10, 1e-10, 1e-10, 10).is_ok());
        assert!(seed(1 << 64).is_err());
        assert_eq!(seed((1 << 64) - 1).unwrap(), u64::MAX);
        assert!(seed(-1).is_err());
        assert!(count("n", 0, 1).is_err());
        assert!(level(1.0).is_err() && level(f64::NAN).is_err());
        let e = parse_starts("best", None).unwrap_err().to_string();
        assert!(e.contains("auto, grid or given"), "{e}");
    }
}
