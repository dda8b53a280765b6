//! What a frontier analysis is given: its options and the columns of one group.

use crate::error::{Error, Result};

/// What a bootstrap replicate of a frontier analysis resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    /// The runs (rows within each budget for IsoFLOP profiles, whole training curves for the
    /// envelope); every budget's optimum is located again, so per-budget intervals exist.
    Runs,
    /// The budgets with an optimum, each keeping its full-data optimum: a case bootstrap of the
    /// power-law regression through the optima. Thin profiles are never made thinner, so the
    /// exponents' intervals do not inherit the locator's small-sample bias; there are no
    /// per-budget intervals.
    Budgets,
}

impl Resample {
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "runs" => Ok(Resample::Runs),
            "budgets" => Ok(Resample::Budgets),
            _ => Err(Error::InvalidOption(format!(
                "resample must be 'runs' or 'budgets', got '{s}'"
            ))),
        }
    }
}

/// Options shared by the IsoFLOP and envelope analyses.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierOptions {
    /// Neighbours on each side of the lowest point in the local parabola.
    pub half_window: usize,
    /// Bootstrap replicates (0: none).
    pub n_boot: usize,
    pub seed: u64,
    /// Coverage of the percentile intervals.
    pub level: f64,
    /// Budgets at which N*(C) and D*(C) are predicted from the power laws.
    pub budgets: Vec<f64>,
    /// FLOPs per parameter per token, for D* = C / (k N*) when no token counts are given.
    pub flops_per_token: f64,
    pub resample: Resample,
}

impl Default for FrontierOptions {
    fn default() -> Self {
        FrontierOptions {
            half_window: 2,
            n_boot: 1000,
            seed: 0,
            level: 0.95,
            budgets: Vec::new(),
            flops_per_token: 6.0,
            resample: Resample::Runs,
        }
    }
}

impl FrontierOptions {
    pub fn validate(&self) -> Result<()> {
        if self.half_window == 0 {
            return Err(Error::InvalidOption(
                "window must be at least 1 (neighbours on each side of the lowest point)".into(),
            ));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::InvalidOption(format!(
                "level must be in (0, 1), got {}",
                self.level
            )));
        }
        if !(self.flops_per_token > 0.0 && self.flops_per_token.is_finite()) {
            return Err(Error::InvalidOption(format!(
                "flops_per_param_token (k in C = k N D) must be positive and finite, got {}",
                self.flops_per_token
            )));
        }
        for &c in &self.budgets {
            if !(c > 0.0 && c.is_finite()) {
                return Err(Error::InvalidOption(format!(
                    "prediction budgets must be positive and finite, got {c}"
                )));
            }
        }
        Ok(())
    }
}

pub(super) fn check_column(name: &str, v: &[f64], n: usize) -> Result<()> {
    if v.len() != n {
        return Err(Error::InvalidShape(format!(
            "column '{name}' has {} rows, expected {n}",
            v.len()
        )));
    }
    for (row, &x) in v.iter().enumerate() {
        if !(x > 0.0 && x.is_finite()) {
            return Err(Error::InvalidData {
                column: name.to_string(),
                row,
                value: x,
                reason: "must be positive and finite".into(),
            });
        }
    }
    Ok(())
}

/// The columns of one group (natural values): compute, size, loss and optionally tokens.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub compute: &'a [f64],
    pub size: &'a [f64],
    pub loss: &'a [f64],
    pub tokens: Option<&'a [f64]>,
}

impl Columns<'_> {
    pub(super) fn validate(&self) -> Result<usize> {
        let n = self.compute.len();
        check_column("compute", self.compute, n)?;
        check_column("size", self.size, n)?;
        check_column("loss", self.loss, n)?;
        if let Some(t) = self.tokens {
            check_column("tokens", t, n)?;
        }
        Ok(n)
    }
}
