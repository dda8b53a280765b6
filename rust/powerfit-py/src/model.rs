//! `Model`: a law with its loss and parameter specification, validated once in the core; the
//! analyses that need only the law and parameter values are its methods.

use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use powerfit_core::analysis;
use powerfit_core::{LossSpec, Model, OwnedCols};

use crate::convert::{self, column, matrix, to_matrix};
use crate::enter::enter;
use crate::law::{resolve, LawArg};

/// A float64 matrix handed to Python.
type Matrix<'py> = Bound<'py, PyArray2<f64>>;

/// Three (rows, budgets) matrices: N*, D*, L*.
type Optima<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
);

/// A law, its loss and its parameter specification, checked by the core.
///
/// ``Model(law, available=(), x=None, *, loss="l2", delta=1e-3, overestimate_penalty=10.0,
/// fixed=None, bounds=None)``: ``law`` is a built-in law's name (its variables chosen from the
/// ``available`` law variables the data provide, and ``x`` for one-variable laws) or a compiled
/// ``Law``.
#[pyclass(name = "Model", module = "powerfit._core", frozen)]
pub(crate) struct PyModel {
    pub(crate) inner: Arc<Model>,
    /// The compiled law object when the law is a written one (for reports and saving).
    written: Option<Py<PyAny>>,
}

#[pymethods]
impl PyModel {
    #[new]
    #[pyo3(signature = (law, available=Vec::new(), x=None, *, loss=None, delta=None, overestimate_penalty=None, fixed=None, bounds=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        law: &Bound<'_, PyAny>,
        available: Vec<String>,
        x: Option<String>,
        loss: Option<&Bound<'_, PyAny>>,
        delta: Option<&Bound<'_, PyAny>>,
        overestimate_penalty: Option<&Bound<'_, PyAny>>,
        fixed: Option<&Bound<'_, PyAny>>,
        bounds: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let arg: LawArg<'_> = law.extract().map_err(|_| {
            crate::errors::InvalidLawError::new_err(format!(
                "law must be a law name or a powerfit.Law, got {}",
                law.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        let written = matches!(arg, LawArg::Compiled(_)).then(|| law.clone().unbind());
        let l = resolve(&arg, &available, x.as_deref())?;
        let spec = LossSpec {
            name: match loss {
                Some(o) if !o.is_none() => convert::name(o, "loss")?,
                _ => "l2".into(),
            },
            delta: opt_float(delta, "delta", 1e-3)?,
            penalty: opt_float(overestimate_penalty, "overestimate_penalty", 10.0)?,
        };
        let fixed = convert::named_values(fixed, "fixed")?;
        let bounds = convert::named_bounds(bounds)?;
        let model = py
            .detach(|| Model::new(l, spec, &fixed, &bounds))
            .map_err(crate::errors::to_py)?;
        Ok(PyModel {
            inner: Arc::new(model),
            written,
        })
    }

    /// The law's name.
    #[getter]
    fn law_name(&self) -> String {
        self.inner.law.name().to_string()
    }

    /// The compiled ``Law`` of a written law, or None for a built-in law.
    #[getter]
    fn written_law(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.written.as_ref().map(|w| w.clone_ref(py))
    }

    /// The law's variables (data columns), in order.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.inner.law.var_names().to_vec()
    }

    /// Parameter names in the law's order.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner.param_names().to_vec()
    }

    /// Per parameter: whether the solver works with its logarithm (positive by construction).
    #[getter]
    fn positive(&self) -> Vec<bool> {
        self.inner.spec.log_param.clone()
    }

    /// Whether the law's variables must be positive (it takes their logarithms).
    #[getter]
    fn positive_variables(&self) -> bool {
        self.inner.law.needs_logs()
    }

    /// Fixed values per parameter (None when free).
    #[getter]
    fn fixed(&self) -> Vec<Option<f64>> {
        self.inner.spec.fixed.clone()
    }

    /// Lower bounds per parameter (-inf when open).
    #[getter]
    fn lower(&self) -> Vec<f64> {
        self.inner.spec.lower.clone()
    }

    /// Upper bounds per parameter (inf when open).
    #[getter]
    fn upper(&self) -> Vec<f64> {
        self.inner.spec.upper.clone()
    }

    /// The loss's name.
    #[getter]
    fn loss(&self) -> String {
        self.inner.loss_spec.name.clone()
    }

    /// The Huber threshold.
    #[getter]
    fn delta(&self) -> f64 {
        self.inner.loss_spec.delta
    }

    /// The weight of over-predictions in the asymmetric losses.
    #[getter]
    fn overestimate_penalty(&self) -> f64 {
        self.inner.loss_spec.penalty
    }

    /// Whether residuals are taken on log L.
    #[getter]
    fn log_scale(&self) -> bool {
        self.inner.loss.scale == powerfit_core::Scale::Log
    }

    /// The law at points (one array per variable) for one parameter vector; ``labels`` name
    /// the columns in messages.
    #[pyo3(signature = (params, columns, labels=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyAny>,
        columns: Vec<PyReadonlyArray1<'py, f64>>,
        labels: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = convert::floats(params, "params")?;
        let cols: Vec<Vec<f64>> = columns.iter().map(column).collect();
        let labels = labels.unwrap_or_default();
        let m = self.inner.clone();
        let n = cols.first().map_or(0, |c| c.len());
        let out = enter(py, n as f64, None, |_| {
            m.check_params(&p, "params")?;
            let views: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
            analysis::check_points(m.law.as_ref(), &views, &labels)?;
            let owned = OwnedCols::new(cols, m.law.needs_logs());
            analysis::evaluate_many(m.law.as_ref(), &owned.view(), &p)
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// The law at points for every row of `params` (replicates x parameters): a (rows, points)
    /// matrix.
    fn predict_many<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyArray2<f64>>,
        columns: Vec<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (p, _) = matrix(params);
        let cols: Vec<Vec<f64>> = columns.iter().map(column).collect();
        let m = self.inner.clone();
        let n = cols.first().map_or(0, |c| c.len());
        let rows = p.len() / self.inner.n_params().max(1);
        let out = enter(py, (n * rows) as f64, None, |_| {
            let views: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
            analysis::check_points(m.law.as_ref(), &views, &[])?;
            let owned = OwnedCols::new(cols, m.law.needs_logs());
            analysis::evaluate_many(m.law.as_ref(), &owned.view(), &p)
        })?;
        to_matrix(py, out, rows, n)
    }

    /// The law at points where the points `offsets[s]..offsets[s + 1]` take parameter row `s`
    /// of `params` (one row per segment): one value per point.
    fn predict_segments<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyArray2<f64>>,
        offsets: Vec<usize>,
        columns: Vec<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (p, _) = matrix(params);
        let cols: Vec<Vec<f64>> = columns.iter().map(column).collect();
        let m = self.inner.clone();
        let n = cols.first().map_or(0, |c| c.len());
        let out = enter(py, n as f64, None, |_| {
            let views: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
            analysis::check_points(m.law.as_ref(), &views, &[])?;
            let owned = OwnedCols::new(cols, m.law.needs_logs());
            analysis::evaluate_segments(m.law.as_ref(), &owned.view(), &p, &offsets)
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// Numeric compute-optimal (N*, D*, L*) for every row of `params` at every budget, with
    /// C = k N D: three (rows, budgets) matrices.
    fn numeric_optimal<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyArray2<f64>>,
        budgets: &Bound<'py, PyAny>,
        k: &Bound<'py, PyAny>,
    ) -> PyResult<Optima<'py>> {
        let (p, _) = matrix(params);
        let budgets = convert::floats(budgets, "compute budgets")?;
        let k = convert::float(k, "flops_per_param_token")?;
        let m = self.inner.clone();
        let rows = p.len() / self.inner.n_params().max(1);
        let nb = budgets.len();
        let [n, d, l] = enter(py, (rows * nb * 400) as f64, None, |_| {
            analysis::numeric_optimal_many(m.law.as_ref(), &p, &budgets, k)
        })?;
        Ok((
            to_matrix(py, n, rows, nb)?,
            to_matrix(py, d, rows, nb)?,
            to_matrix(py, l, rows, nb)?,
        ))
    }

    /// Inference-aware sizing: (N, D, training FLOPs, inference FLOPs) reaching `target`.
    fn inference_optimal(
        &self,
        py: Python<'_>,
        params: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
        tokens: &Bound<'_, PyAny>,
        k: &Bound<'_, PyAny>,
    ) -> PyResult<(f64, f64, f64, f64)> {
        let p = convert::floats(params, "params")?;
        let target = convert::float(target, "target_loss")?;
        let tokens = convert::float(tokens, "inference_tokens")?;
        let k = convert::float(k, "flops_per_param_token")?;
        let m = self.inner.clone();
        enter(py, 0.0, None, |_| {
            analysis::inference_optimal(m.law.as_ref(), &p, target, tokens, k)
        })
    }

    /// Elasticities d log(L - c)/d log x and derivatives dL/dx at points (rows x variables);
    /// `constant` is the index of the law's constant c, or None.
    #[pyo3(signature = (params, points, constant=None))]
    fn elasticities<'py>(
        &self,
        py: Python<'py>,
        params: &Bound<'py, PyAny>,
        points: &Bound<'py, PyArray2<f64>>,
        constant: Option<usize>,
    ) -> PyResult<(Matrix<'py>, Matrix<'py>)> {
        let p = convert::floats(params, "params")?;
        let (x, nv) = matrix(points);
        let rows = x.len() / nv.max(1);
        let m = self.inner.clone();
        let (el, der) = enter(py, 0.0, None, |_| {
            analysis::elasticities(m.law.as_ref(), &p, constant, &x)
        })?;
        Ok((to_matrix(py, el, rows, nv)?, to_matrix(py, der, rows, nv)?))
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.Model {} over {}, loss={}>",
            self.inner.law.name(),
            self.inner.law.var_names().join(", "),
            self.inner.loss_spec.name
        )
    }
}

fn opt_float(obj: Option<&Bound<'_, PyAny>>, name: &str, default: f64) -> PyResult<f64> {
    match obj {
        Some(o) if !o.is_none() => convert::float(o, name),
        Some(o) => Err(crate::errors::option_error(format!(
            "{name} must be a number, got {}",
            o.repr()?
        ))),
        None => Ok(default),
    }
}
