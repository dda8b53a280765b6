//! Python's exceptions for the core's errors, mapped in one place.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use powerfit_core::Error;

create_exception!(
    _core,
    PowerfitError,
    PyValueError,
    "Base class of powerfit's errors."
);
create_exception!(
    _core,
    InvalidDataError,
    PowerfitError,
    "Bad data: NaN, inf, non-positive or mismatched columns."
);
create_exception!(
    _core,
    InvalidLawError,
    PowerfitError,
    "Unknown law, bad law text, or parameters the law lacks."
);
create_exception!(
    _core,
    InvalidOptionError,
    PowerfitError,
    "Bad options: loss, bounds, starts, tolerances."
);

/// A core error as a Python exception.
pub(crate) fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::InvalidData { .. } | Error::InvalidShape(_) => InvalidDataError::new_err(msg),
        Error::InvalidLaw(_) => InvalidLawError::new_err(msg),
        _ => InvalidOptionError::new_err(msg),
    }
}

/// A bad option value, named.
pub(crate) fn option_error(msg: impl Into<String>) -> PyErr {
    InvalidOptionError::new_err(msg.into())
}

/// Runs core work, turning a panic (a bug, never expected) into a Python exception instead of
/// letting it unwind into the interpreter.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        let what = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PowerfitError::new_err(format!(
            "internal error in powerfit's core (please report it): {what}"
        ))
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PowerfitError", py.get_type::<PowerfitError>())?;
    m.add("InvalidDataError", py.get_type::<InvalidDataError>())?;
    m.add("InvalidLawError", py.get_type::<InvalidLawError>())?;
    m.add("InvalidOptionError", py.get_type::<InvalidOptionError>())?;
    Ok(())
}
