//! The one error type of the core. Errors are for bad input and bad options only:
//! a fit that fails to converge is data in its result, never an error.

use thiserror::Error;

/// What went wrong, with enough context for the Python layer to name the culprit.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A data value is NaN, infinite or out of the law's domain.
    #[error("column '{column}' has an invalid value {value} at row {row}: {reason}")]
    InvalidData {
        column: String,
        row: usize,
        value: f64,
        reason: String,
    },
    /// Columns of different lengths, too few points, and similar shape problems.
    #[error("{0}")]
    InvalidShape(String),
    /// Unknown law, bad law text, parameters the law does not have.
    #[error("{0}")]
    InvalidLaw(String),
    /// Bad options: bounds that exclude the start, unknown loss, delta <= 0, ...
    #[error("{0}")]
    InvalidOption(String),
}

pub type Result<T> = std::result::Result<T, Error>;
