//! `Problem`: a model and the data it is fitted to, validated and owned by the core. Its
//! methods are the numerical work of a single data set: fit, bootstrap, jackknife, residuals.

use std::sync::Arc;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use powerfit_core::options::{self, bootstrap_method, count};
use powerfit_core::OwnedProblem;

use crate::convert::{self, column};
use crate::enter::{enter, LONG_WORK};
use crate::model::PyModel;
use crate::options::PyFitOptions;
use crate::results::{PyFit, PyReplicates};

/// A model with its data: ``Problem(model, columns, y, *, labels=None, y_name="loss",
/// weights=None)``, one float64 array per variable of the model's law. The data are checked
/// (lengths, finite and positive values, weights, a non-constant loss) and copied once.
#[pyclass(name = "Problem", module = "powerfit._core", frozen)]
pub(crate) struct PyProblem {
    inner: Arc<OwnedProblem>,
    model: Py<PyModel>,
}

#[pymethods]
impl PyProblem {
    #[new]
    #[pyo3(signature = (model, columns, y, *, labels=None, y_name=None, weights=None))]
    fn new(
        py: Python<'_>,
        model: Bound<'_, PyModel>,
        columns: Vec<PyReadonlyArray1<'_, f64>>,
        y: PyReadonlyArray1<'_, f64>,
        labels: Option<Vec<String>>,
        y_name: Option<String>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<Self> {
        let m = model.get().inner.clone();
        let cols: Vec<Vec<f64>> = columns.iter().map(column).collect();
        let y = column(&y);
        let w = weights.as_ref().map(column);
        let n = y.len() as f64;
        let owned = enter(py, n, None, move |_| {
            OwnedProblem::new(
                m,
                cols,
                labels.unwrap_or_default(),
                y,
                y_name.unwrap_or_else(|| "loss".into()),
                w,
            )
        })?;
        Ok(PyProblem {
            inner: Arc::new(owned),
            model: model.unbind(),
        })
    }

    /// The model.
    #[getter]
    fn model(&self, py: Python<'_>) -> Py<PyModel> {
        self.model.clone_ref(py)
    }

    /// The law's variables as the user's columns are named.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.inner.labels.clone()
    }

    /// The observed-loss column's name.
    #[getter]
    fn y_name(&self) -> String {
        self.inner.y_name.clone()
    }

    #[getter]
    fn n_rows(&self) -> usize {
        self.inner.n_rows()
    }

    /// The variables' columns (copies), in the law's order.
    #[getter]
    fn columns<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray1<f64>>> {
        self.inner
            .columns()
            .iter()
            .map(|c| PyArray1::from_slice(py, c))
            .collect()
    }

    /// The observed losses (a copy).
    #[getter]
    fn y<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.y())
    }

    /// The weights (a copy), or None.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.inner.weights().map(|w| PyArray1::from_slice(py, w))
    }

    /// Fits the problem; ``p0`` (a dict or sequence) replaces the options' start.
    #[pyo3(signature = (options=None, *, p0=None))]
    fn fit(
        &self,
        py: Python<'_>,
        options: Option<&PyFitOptions>,
        p0: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyFit> {
        let settings = options.map(|o| o.inner.clone()).unwrap_or_default();
        let start = convert::start(p0)?;
        let work = self.inner.work(&settings);
        let pb = self.inner.clone();
        let s = settings.clone();
        let r = enter(py, work, None, move |ctl| {
            pb.fit(&s, start.as_ref(), Some(&ctl.cancel))
        })?;
        Ok(PyFit {
            inner: r,
            model: self.inner.model.clone(),
            settings,
        })
    }

    /// ``n_boot`` bootstrap refits from ``fit``'s estimate with its options. ``resample`` is
    /// case, cluster (``labels``: a cluster id per row), residual or parametric (``sigma``: the
    /// noise scale on the loss's scale; default: estimated from the fit's residuals).
    #[pyo3(signature = (fit, *, n_boot=None, resample=None, seed=None, labels=None, sigma=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn bootstrap(
        &self,
        py: Python<'_>,
        fit: &PyFit,
        n_boot: Option<&Bound<'_, PyAny>>,
        resample: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        labels: Option<Vec<usize>>,
        sigma: Option<&Bound<'_, PyAny>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyReplicates> {
        let n = match n_boot {
            Some(o) => convert::int(o, "n_boot")?,
            None => 1000,
        };
        let method = match resample {
            Some(o) => convert::name(o, "resample")?,
            None => "case".into(),
        };
        let seed_v = match seed {
            Some(o) => convert::int(o, "seed")?,
            None => 0,
        };
        let sigma = sigma
            .filter(|o| !o.is_none())
            .map(|o| convert::float(o, "sigma"))
            .transpose()?;
        let pb = self.inner.clone();
        let estimate = fit.inner.params.clone();
        let dof = fit.inner.n_points.saturating_sub(fit.inner.n_free);
        let lm = fit.settings.lm;
        let work = self.inner.n_rows() as f64 * n.max(0) as f64 * 10.0;
        let r = enter(
            py,
            work.max(LONG_WORK + 1.0),
            progress.as_ref(),
            move |ctl| {
                let n = count("n_boot", n, 1)?;
                let seed = options::seed(seed_v)?;
                let sigma = match (method.as_str(), sigma) {
                    ("parametric", None) => pb.noise_scale(&estimate, dof)?,
                    (_, s) => s.unwrap_or(0.0),
                };
                let m = bootstrap_method(&method, labels, sigma)?;
                pb.bootstrap(
                    &estimate,
                    &m,
                    n,
                    seed,
                    &lm,
                    Some(&ctl.cancel),
                    Some(&ctl.done),
                )
            },
        )?;
        Ok(PyReplicates { inner: r })
    }

    /// Leave-one-out refits (leave-one-cluster-out with ``labels``) from ``fit``'s estimate.
    #[pyo3(signature = (fit, *, labels=None))]
    fn jackknife(
        &self,
        py: Python<'_>,
        fit: &PyFit,
        labels: Option<Vec<usize>>,
    ) -> PyResult<PyReplicates> {
        let pb = self.inner.clone();
        let estimate = fit.inner.params.clone();
        let lm = fit.settings.lm;
        let work = (self.inner.n_rows() as f64).powi(2) * 10.0;
        let r = enter(py, work, None, move |ctl| {
            pb.jackknife(&estimate, labels.as_deref(), &lm, Some(&ctl.cancel))
        })?;
        Ok(PyReplicates { inner: r })
    }

    /// Residuals at ``params`` on the loss's scale (prediction minus observation).
    fn residuals<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = convert::floats(params, "params")?;
        let pb = self.inner.clone();
        let r = enter(py, pb.n_rows() as f64, None, move |_| pb.residuals(&p))?;
        Ok(PyArray1::from_vec(py, r))
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.Problem {} on {} rows, loss={}>",
            self.inner.model.law.name(),
            self.inner.n_rows(),
            self.inner.model.loss_spec.name
        )
    }
}
