//! Test-time compute scaling: quality against the number of attempts at a fixed model.
//!
//! - `estimator`: the unbiased pass@k of Chen et al. 2021 and its variance, over problems;
//! - `beta`: the Beta distribution of single-attempt success rates fitted by maximum
//!   likelihood (Schaeffer et al. 2025), the pass@k curve it implies and its inverse;
//! - `power`: the power law -ln pass@k = a k^-b (Brown et al. 2024's exp(a k^b));
//! - `coverage`: both fits with bootstrap intervals over problems, for many models at once;
//! - `simulate`: Beta-distributed success rates with binomial attempts, for checks;
//! - `special`: log-gamma and its derivatives.

pub mod beta;
pub mod coverage;
pub mod estimator;
pub mod power;
pub mod simulate;
pub mod special;

pub use beta::{BetaFit, BetaStatus};
pub use coverage::{fit_groups, CoverageFit, CoverageOptions, PARAM_COLUMNS};
pub use estimator::{pass_at_k, PassAtK, Samples};
pub use power::PowerFit;
