//! The compute-optimal frontier straight from runs (Hoffmann et al. 2022, Approaches 1 and 2).
//!
//! - IsoFLOP profiles (Approach 2): at each FLOP budget C, log loss against log model size has
//!   a minimum. It is located by a local parabola around the lowest sampled point (a window of
//!   up to `half_window` sampled sizes on *each* side, shrunk to stay symmetric at the ends of the
//!   sampled range); a budget whose lowest point is the smallest or largest sampled size has no
//!   located optimum and is dropped (its status says which edge).
//! - The training-curve envelope (Approach 1): every run's curve is interpolated (linear in
//!   log C, log L) onto a log-spaced grid of budgets; at each grid budget the lowest loss of any
//!   run covering it is the envelope, and the size attaining it (or the vertex of the local
//!   parabola over the sizes' best losses) is N*(C). Budgets where the best size is the
//!   smallest or largest size covering the budget are dropped as above.
//!
//! Both then fit N*(C) = k_N C^a and D*(C) = k_D C^b by least squares in log-log and bootstrap
//! everything: IsoFLOP replicates resample the runs (points) within each budget, envelope
//! replicates resample whole runs. Replicate i of a group with seed s draws from
//! `Rng::stream(s, i)`, so results do not depend on the number of threads. Intervals are
//! percentile intervals over the replicates that produced a fit.

mod envelope;
mod isoflop;
mod options;
mod parabola;
mod regression;
mod replicates;
mod result;
mod table;
#[cfg(test)]
mod tests;

pub use envelope::*;
pub use isoflop::*;
pub use options::*;
pub use parabola::*;
pub use regression::*;
use replicates::*;
pub use result::*;
pub use table::*;
