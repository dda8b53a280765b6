//! User-written laws compiled in the core (issue 6): the `Law` Python class.

use std::sync::Arc;

use pyo3::prelude::*;

use powerfit_core::Law;

/// A compiled law, usable wherever a built-in law's name is.
#[pyclass(name = "Law", module = "powerfit._core", frozen)]
pub(crate) struct PyLaw {
    pub(crate) inner: Arc<dyn Law>,
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLaw>()?;
    Ok(())
}
