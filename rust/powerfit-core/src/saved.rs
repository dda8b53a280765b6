//! Results read back from a file, checked against their model before anyone uses them: a saved
//! fit must have one value per parameter, a p x p covariance, a known status and sane counts.

use crate::bootstrap::BootResult;
use crate::error::{Error, Result};
use crate::fit::FitResult;
use crate::model::Model;
use crate::solver::Termination;

/// The termination named `name` (as `Termination::name` writes it).
pub fn termination(name: &str) -> Result<Termination> {
    (0u8..=255)
        .map_while(Termination::from_code)
        .find(|t| t.name() == name)
        .ok_or_else(|| corrupt(format!("unknown status '{name}'")))
}

fn corrupt(msg: String) -> Error {
    Error::InvalidShape(format!("saved fit is corrupt: {msg}"))
}

/// Checks a fit read from a file against the model it claims to be a fit of.
pub fn check_fit(model: &Model, r: &FitResult) -> Result<()> {
    let p = model.n_params();
    if r.params.len() != p {
        return Err(corrupt(format!(
            "{} parameter values for law '{}' with {p} parameters",
            r.params.len(),
            model.law.name()
        )));
    }
    if let Some(c) = &r.cov {
        if c.len() != p * p {
            return Err(corrupt(format!(
                "the covariance has {} entries, expected {p} x {p}",
                c.len()
            )));
        }
    }
    if r.n_free > p {
        return Err(corrupt(format!("{} free parameters of {p}", r.n_free)));
    }
    if r.var_stats.len() != model.law.var_names().len() {
        return Err(corrupt(format!(
            "statistics for {} variables, the law has {}",
            r.var_stats.len(),
            model.law.var_names().len()
        )));
    }
    if r.n_best > r.n_starts {
        return Err(corrupt(format!(
            "{} starts reached the best cost of {} starts",
            r.n_best, r.n_starts
        )));
    }
    if let Some(&k) = r.at_limit.iter().find(|&&k| k >= p) {
        return Err(corrupt(format!(
            "parameter {k} at its limit, the law has {p} parameters"
        )));
    }
    if r.weak_direction.len() > p {
        return Err(corrupt(
            "the weak direction is longer than the parameters".into(),
        ));
    }
    Ok(())
}

/// Checks bootstrap replicates read from a file: `n x p` samples, one status, cost and
/// iteration count per replicate.
pub fn check_replicates(model: &Model, b: &BootResult) -> Result<()> {
    let n = b.status.len();
    let p = model.n_params();
    if b.n_params != p || b.samples.len() != n * p {
        return Err(corrupt(format!(
            "{} bootstrap values for {n} replicates of {p} parameters",
            b.samples.len()
        )));
    }
    if b.cost.len() != n || b.n_iter.len() != n {
        return Err(corrupt(format!(
            "bootstrap costs or iteration counts for {} and {} replicates, expected {n}",
            b.cost.len(),
            b.n_iter.len()
        )));
    }
    Ok(())
}
