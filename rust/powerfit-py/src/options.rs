//! `FitOptions`: how to fit (start strategy, start, tolerances, iteration limit), validated by
//! the core when built, shared by single fits, their bootstrap and bulk fits.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use powerfit_core::{FitSettings, StartSpec};

use crate::convert;
use crate::errors::to_py;

/// Fit options: ``FitOptions(starts="auto", p0=None, ftol=1e-10, xtol=1e-10, gtol=1e-10,
/// max_iter=200)``. ``p0`` is a dict by parameter name or a sequence in the law's order; it is
/// checked against the law when a problem is fitted.
#[pyclass(name = "FitOptions", module = "powerfit._core", frozen)]
pub(crate) struct PyFitOptions {
    pub(crate) inner: FitSettings,
}

#[pymethods]
impl PyFitOptions {
    #[new]
    #[pyo3(signature = (starts=None, p0=None, ftol=None, xtol=None, gtol=None, max_iter=None))]
    fn new(
        starts: Option<&Bound<'_, PyAny>>,
        p0: Option<&Bound<'_, PyAny>>,
        ftol: Option<&Bound<'_, PyAny>>,
        xtol: Option<&Bound<'_, PyAny>>,
        gtol: Option<&Bound<'_, PyAny>>,
        max_iter: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let d = FitSettings::default();
        let starts = match starts {
            Some(o) => convert::name(o, "starts")?,
            None => "auto".into(),
        };
        let tol = |o: Option<&Bound<'_, PyAny>>, name: &str, v: f64| match o {
            Some(o) => convert::float(o, name),
            None => Ok(v),
        };
        let max_iter = match max_iter {
            Some(o) => convert::int(o, "max_iter")?,
            None => d.lm.max_iter as i128,
        };
        let inner = FitSettings::new(
            &starts,
            convert::start(p0)?,
            tol(ftol, "ftol", d.lm.ftol)?,
            tol(xtol, "xtol", d.lm.xtol)?,
            tol(gtol, "gtol", d.lm.gtol)?,
            max_iter,
        )
        .map_err(to_py)?;
        Ok(PyFitOptions { inner })
    }

    /// ``"auto"``, ``"grid"`` or ``"given"``.
    #[getter]
    fn starts(&self) -> &'static str {
        self.inner.starts_name()
    }

    /// The start as given (a dict or a list), or None.
    #[getter]
    fn p0<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match &self.inner.p0 {
            None => None,
            Some(StartSpec::Values(v)) => Some(PyList::new(py, v)?.into_any()),
            Some(StartSpec::Named(pairs)) => {
                let d = PyDict::new(py);
                for (k, v) in pairs {
                    d.set_item(k, v)?;
                }
                Some(d.into_any())
            }
        })
    }

    #[getter]
    fn ftol(&self) -> f64 {
        self.inner.lm.ftol
    }

    #[getter]
    fn xtol(&self) -> f64 {
        self.inner.lm.xtol
    }

    #[getter]
    fn gtol(&self) -> f64 {
        self.inner.lm.gtol
    }

    #[getter]
    fn max_iter(&self) -> usize {
        self.inner.lm.max_iter
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.FitOptions starts={} ftol={:e} xtol={:e} gtol={:e} max_iter={}>",
            self.inner.starts_name(),
            self.inner.lm.ftol,
            self.inner.lm.xtol,
            self.inner.lm.gtol,
            self.inner.lm.max_iter
        )
    }
}
