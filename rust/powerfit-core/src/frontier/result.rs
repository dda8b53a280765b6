//! What a frontier analysis returns: per-budget optima, the fitted frontier, predictions.

use super::*;

/// One budget's optimum (natural units) with bootstrap bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetOptimum {
    pub c: f64,
    /// Rows (IsoFLOP) or covering runs (envelope) at this budget, and distinct sizes.
    pub n_points: usize,
    pub n_sizes: usize,
    pub status: BudgetStatus,
    pub n_opt: f64,
    pub d_opt: f64,
    pub l_opt: f64,
    /// Envelope only: the lowest loss of any run at this budget and the run attaining it.
    pub l_env: f64,
    pub best_run: Option<usize>,
    /// Percentile bounds of N* and D* over the replicates in which this budget had an
    /// optimum, and how many did.
    pub n_lower: f64,
    pub n_upper: f64,
    pub d_lower: f64,
    pub d_upper: f64,
    pub n_boot_ok: usize,
}

/// N*(C), D*(C) from the power laws at one prediction budget, with bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub c: f64,
    pub n_opt: f64,
    pub n_lower: f64,
    pub n_upper: f64,
    pub d_opt: f64,
    pub d_lower: f64,
    pub d_upper: f64,
}

/// The outcome of one group's analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    pub optima: Vec<BudgetOptimum>,
    /// log N* on log C, and log D* on log C, over the budgets with status `Ok`.
    pub n_fit: PowerFit,
    pub d_fit: PowerFit,
    /// Percentile bounds of a and b.
    pub a_bounds: (f64, f64),
    pub b_bounds: (f64, f64),
    pub predictions: Vec<Prediction>,
    /// Replicates, row-major n_boot x 4: a, log k_N, b, log k_D (NaN where a replicate had
    /// fewer than two budgets with an optimum).
    pub samples: Vec<f64>,
    pub n_boot_ok: usize,
    /// The seed this group's replicates drew from.
    pub seed: u64,
}

/// Columns of `Frontier::samples`.
pub const SAMPLE_COLUMNS: [&str; 4] = ["a", "log_k_N", "b", "log_k_D"];
