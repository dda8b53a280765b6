//! powerfit-core: the numerics of powerfit, in pure Rust.
//!
//! Laws (`law`, `laws`), losses (`loss`), the Levenberg-Marquardt solver and global starts
//! (`solver`), single fits (`fit`), bootstrap refits (`bootstrap`) and bulk fits (`groups`).

pub mod analysis;
pub mod bootstrap;
pub mod dd;
pub mod error;
pub mod fastmath;
pub mod fit;
pub mod frontier;
pub mod group_table;
pub mod groups;
pub mod law;
pub mod laws;
pub mod linalg;
pub mod loss;
pub mod model;
pub mod options;
pub mod owned;
pub mod problem;
pub mod registry;
pub mod rng;
pub mod saved;
pub mod solver;
pub mod stats;
pub mod testtime;
pub mod vocab;

pub use error::{Error, Result};
pub use fit::{fit, FitOptions, FitResult, Starts};
pub use law::{Cols, Law, OwnedCols, Structure};
pub use loss::{Loss, Rho, Scale};
pub use model::{LossSpec, Model};
pub use options::{FitSettings, StartSpec};
pub use owned::OwnedProblem;
pub use problem::{target_for, validate_data, ParamSpec, Problem};
pub use solver::{LmOptions, Termination, Workspace};
