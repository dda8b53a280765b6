//! Frozen results of the core with typed getters: a fit (`Fit`) and a set of refits
//! (`Replicates`), both rebuildable from a saved file after the core has checked them.

use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use powerfit_core::bootstrap::BootResult;
use powerfit_core::{saved, FitResult, FitSettings, Model, Termination};

use crate::convert::{self, to_matrix};
use crate::errors::{to_py, InvalidDataError};
use crate::model::PyModel;
use crate::options::PyFitOptions;

/// One fit: estimates, covariance, why the solver stopped, statistics.
#[pyclass(name = "Fit", module = "powerfit._core", frozen)]
pub(crate) struct PyFit {
    pub(crate) inner: FitResult,
    pub(crate) model: Arc<Model>,
    pub(crate) settings: FitSettings,
}

fn opt_matrix<'py>(
    py: Python<'py>,
    v: &Option<Vec<f64>>,
    p: usize,
) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
    v.as_ref()
        .map(|c| to_matrix(py, c.clone(), p, p))
        .transpose()
}

#[pymethods]
impl PyFit {
    /// Estimates in the law's parameter order (natural units).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.params)
    }

    /// Standard errors (NaN without a covariance, 0 for fixed parameters).
    #[getter]
    fn stderr<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.model.stderr(self.inner.cov.as_deref()))
    }

    /// Covariance (p x p, natural units), or None (see ``cov_note``).
    #[getter]
    fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        opt_matrix(py, &self.inner.cov, self.inner.params.len())
    }

    #[getter]
    fn cov_note(&self) -> String {
        self.inner.cov_note.clone()
    }

    #[getter]
    fn cost(&self) -> f64 {
        self.inner.cost
    }

    #[getter]
    fn n_iter(&self) -> usize {
        self.inner.n_iter
    }

    #[getter]
    fn nfev(&self) -> usize {
        self.inner.nfev
    }

    #[getter]
    fn status(&self) -> &'static str {
        self.inner.termination.name()
    }

    #[getter]
    fn message(&self) -> &'static str {
        self.inner.termination.message()
    }

    #[getter]
    fn success(&self) -> bool {
        self.inner.termination.is_success()
    }

    #[getter]
    fn n_points(&self) -> usize {
        self.inner.n_points
    }

    #[getter]
    fn n_free(&self) -> usize {
        self.inner.n_free
    }

    /// Local solves run, one per starting point.
    #[getter]
    fn n_starts(&self) -> usize {
        self.inner.n_starts
    }

    /// How many local solves reached the best cost (within 1e-8 relative).
    #[getter]
    fn n_best(&self) -> usize {
        self.inner.n_best
    }

    /// Law evaluations over the data by the whole fit: start search and every local solve.
    #[getter]
    fn nfev_total(&self) -> usize {
        self.inner.nfev_total
    }

    /// Indices of the parameters that ran off to the edge of the representable range.
    #[getter]
    fn at_limit(&self) -> Vec<usize> {
        self.inner.at_limit.clone()
    }

    #[getter]
    fn condition(&self) -> f64 {
        self.inner.condition
    }

    #[getter]
    fn weak_direction(&self) -> Vec<f64> {
        self.inner.weak_direction.clone()
    }

    #[getter]
    fn aic(&self) -> Option<f64> {
        self.inner.aic
    }

    #[getter]
    fn bic(&self) -> Option<f64> {
        self.inner.bic
    }

    /// Per variable: (min, max, distinct values up to 16).
    #[getter]
    fn var_stats(&self) -> Vec<(f64, f64, usize)> {
        self.inner.var_stats.clone()
    }

    /// The options the fit was made with.
    #[getter]
    fn options(&self) -> PyFitOptions {
        PyFitOptions {
            inner: self.settings.clone(),
        }
    }

    /// Everything ``restore`` needs, as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let d = PyDict::new(py);
        d.set_item("params", r.params.clone())?;
        d.set_item("cost", r.cost)?;
        d.set_item("n_iter", r.n_iter)?;
        d.set_item("nfev", r.nfev)?;
        d.set_item("status", r.termination.name())?;
        d.set_item("n_points", r.n_points)?;
        d.set_item("n_free", r.n_free)?;
        d.set_item("n_starts", r.n_starts)?;
        d.set_item("n_best", r.n_best)?;
        d.set_item("nfev_total", r.nfev_total)?;
        d.set_item("at_limit", r.at_limit.clone())?;
        d.set_item("covariance", r.cov.clone())?;
        d.set_item("cov_note", r.cov_note.clone())?;
        d.set_item("condition", r.condition)?;
        d.set_item("weak_direction", r.weak_direction.clone())?;
        d.set_item("aic", r.aic)?;
        d.set_item("bic", r.bic)?;
        d.set_item("var_stats", r.var_stats.clone())?;
        Ok(d)
    }

    /// A fit read back from a file (``to_dict``'s output), checked against its model.
    #[staticmethod]
    fn restore(model: &PyModel, options: &PyFitOptions, d: &Bound<'_, PyDict>) -> PyResult<PyFit> {
        let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            d.get_item(k)?.ok_or_else(|| {
                InvalidDataError::new_err(format!("saved fit is corrupt: '{k}' is missing"))
            })
        };
        fn bad(k: &str) -> impl Fn(PyErr) -> PyErr + '_ {
            move |_| {
                InvalidDataError::new_err(format!("saved fit is corrupt: '{k}' has the wrong type"))
            }
        }
        let field = |k: &'static str| -> PyResult<f64> {
            let v = get(k)?;
            if v.is_none() {
                return Ok(f64::NAN);
            }
            convert::float(&v, k).map_err(bad(k))
        };
        let count = |k: &'static str| -> PyResult<usize> { get(k)?.extract().map_err(bad(k)) };
        let opt = |k: &'static str| -> PyResult<Option<f64>> {
            let v = get(k)?;
            if v.is_none() {
                Ok(None)
            } else {
                convert::float(&v, k).map(Some).map_err(bad(k))
            }
        };
        // files written before these counts existed: every start agreed, no search cost known
        let count_or = |k: &'static str, default: usize| -> PyResult<usize> {
            match d.get_item(k)? {
                Some(v) => v.extract().map_err(bad(k)),
                None => Ok(default),
            }
        };
        let n_starts = count("n_starts")?;
        let nfev = count("nfev")?;
        let at_limit: Vec<usize> = match d.get_item("at_limit")? {
            Some(v) => v.extract().map_err(bad("at_limit"))?,
            None => Vec::new(),
        };
        let status: String = get("status")?.extract().map_err(bad("status"))?;
        let cov = get("covariance")?;
        let r = FitResult {
            params: get("params")?.extract().map_err(bad("params"))?,
            cost: field("cost")?,
            n_iter: count("n_iter")?,
            nfev,
            termination: saved::termination(&status).map_err(to_py)?,
            n_points: count("n_points")?,
            n_free: count("n_free")?,
            n_starts,
            n_best: count_or("n_best", n_starts)?,
            nfev_total: count_or("nfev_total", nfev)?,
            at_limit,
            cov: if cov.is_none() {
                None
            } else {
                Some(cov.extract().map_err(bad("covariance"))?)
            },
            cov_note: get("cov_note")?.extract().map_err(bad("cov_note"))?,
            condition: field("condition")?,
            weak_direction: get("weak_direction")?
                .extract()
                .map_err(bad("weak_direction"))?,
            aic: opt("aic")?,
            bic: opt("bic")?,
            var_stats: get("var_stats")?.extract().map_err(bad("var_stats"))?,
        };
        saved::check_fit(&model.inner, &r).map_err(to_py)?;
        Ok(PyFit {
            inner: r,
            model: model.inner.clone(),
            settings: options.inner.clone(),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.Fit {}: cost {:.6e}, {}>",
            self.model.law.name(),
            self.inner.cost,
            self.inner.termination.name()
        )
    }
}

/// Refits of resampled data (bootstrap) or of leave-one-out data (jackknife).
#[pyclass(name = "Replicates", module = "powerfit._core", frozen)]
pub(crate) struct PyReplicates {
    pub(crate) inner: BootResult,
}

#[pymethods]
impl PyReplicates {
    /// Replicate estimates, (n, p).
    #[getter]
    fn samples<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let n = self.inner.status.len();
        to_matrix(py, self.inner.samples.clone(), n, self.inner.n_params)
    }

    /// Whether each refit converged.
    #[getter]
    fn success<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        PyArray1::from_vec(
            py,
            self.inner.status.iter().map(|t| t.is_success()).collect(),
        )
    }

    /// Why each refit stopped (names).
    #[getter]
    fn status(&self) -> Vec<&'static str> {
        self.inner.status.iter().map(|t| t.name()).collect()
    }

    #[getter]
    fn cost<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.cost)
    }

    #[getter]
    fn n_iter<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_slice(py, &self.inner.n_iter)
    }

    /// Number of replicates.
    fn __len__(&self) -> usize {
        self.inner.status.len()
    }

    /// Replicates read back from a file, checked against their model.
    #[staticmethod]
    fn restore(
        model: &PyModel,
        samples: &Bound<'_, PyArray2<f64>>,
        status: Vec<String>,
        cost: Vec<f64>,
        n_iter: Vec<u32>,
    ) -> PyResult<PyReplicates> {
        let shape = samples.shape().to_vec();
        let (values, _) = convert::matrix(samples);
        let status: Vec<Termination> = status
            .iter()
            .map(|s| saved::termination(s))
            .collect::<powerfit_core::Result<_>>()
            .map_err(to_py)?;
        let b = BootResult {
            samples: values,
            status,
            cost,
            n_iter,
            n_params: shape[1],
        };
        saved::check_replicates(&model.inner, &b).map_err(to_py)?;
        Ok(PyReplicates { inner: b })
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.Replicates {} x {}, {} converged>",
            self.inner.status.len(),
            self.inner.n_params,
            self.inner.n_success()
        )
    }
}
