//! Solvers: Levenberg-Marquardt (local), variable projection and grids (global starts), the
//! multistart for laws without structure, and the block passes and memory checks they share.
pub mod block;
pub mod covariance;
mod fused;
pub mod lm;
pub mod memory;
pub mod multistart;
pub mod starts;
pub mod varpro;

pub use lm::{lm, LmOptions, LmOutcome, Termination, Workspace};
