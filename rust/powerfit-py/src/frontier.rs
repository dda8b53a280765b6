//! IsoFLOP profiles and training-curve envelopes (issue 8).

use pyo3::prelude::*;

pub(crate) fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
