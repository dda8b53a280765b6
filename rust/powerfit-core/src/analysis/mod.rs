//! Turning fitted parameters into decisions: compute-optimal allocation (closed form for
//! E + A N^-alpha + B D^-beta, numeric for any law on N and D), inference-aware sizing,
//! elasticities, and the law evaluated for many parameter vectors at once.

pub mod closed_form;
pub mod many;
pub mod numeric;

pub use closed_form::{derived, derived_names, NdLaw};
pub use many::{
    check_points, evaluate_many, evaluate_segments, inference_optimal, numeric_optimal_many,
};
pub use numeric::{elasticities, golden_min, inference_optimum, numeric_optimum, PointLaw};
