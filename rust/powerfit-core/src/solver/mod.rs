//! Solvers: Levenberg-Marquardt (local), variable projection and grids (global starts).
pub mod lm;
pub mod starts;
pub mod varpro;

pub use lm::{lm, LmOptions, LmOutcome, Termination, Workspace};
