//! Laws across the doorway: a built-in law's name or a user-written law compiled in the core
//! (the `Law` class).

use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use powerfit_core::analysis::check_points;
use powerfit_core::laws::ExprLaw;
use powerfit_core::{Error, Law, OwnedCols, Structure};

use crate::convert::{column, to_matrix};
use crate::enter::enter;
use crate::errors::{guard, to_py};

/// Values (n,) and Jacobian (p, n): one row per parameter.
type ValuesJac<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>);

/// A compiled law, usable wherever a built-in law's name is.
///
/// ``Law(expr, variables, params=None, positive=None, p0=None, linear=None, name=None)``
/// parses ``expr`` in Rust (no Python eval), with ``variables`` the data columns it reads;
/// every other name is a parameter, in the order ``params`` gives or of first appearance.
/// ``positive`` names parameters the solver works with in log space, ``p0`` is the default
/// start (one value per parameter), ``linear`` names parameters that enter linearly (checked).
/// Errors raise ``InvalidLawError`` (with a caret under the offending character) or
/// ``InvalidOptionError``. ``powerfit.Law`` is the friendlier face of this class.
#[pyclass(name = "Law", module = "powerfit._core", frozen)]
pub(crate) struct PyLaw {
    pub(crate) inner: Arc<dyn Law>,
    law: Arc<ExprLaw>,
}

#[pymethods]
impl PyLaw {
    #[new]
    #[pyo3(signature = (expr, variables, params=None, positive=None, p0=None, linear=None, name=None))]
    fn new(
        expr: &str,
        variables: Vec<String>,
        params: Option<Vec<String>>,
        positive: Option<Vec<String>>,
        p0: Option<Vec<f64>>,
        linear: Option<Vec<String>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let build = || -> powerfit_core::Result<ExprLaw> {
            let mut law = ExprLaw::compile(expr, &variables, params.as_deref())?;
            if let Some(pos) = &positive {
                law = law.with_positive(pos)?;
            }
            if let Some(lin) = &linear {
                law = law.with_linear(lin)?;
            }
            if let Some(p0) = &p0 {
                law = law.with_p0(p0.clone())?;
            }
            if let Some(n) = &name {
                law = law.with_name(n)?;
            }
            Ok(law)
        };
        let law = Arc::new(guard(build)?.map_err(to_py)?);
        Ok(PyLaw {
            inner: law.clone(),
            law,
        })
    }

    /// The law's text as given.
    #[getter]
    fn expr(&self) -> String {
        self.law.source().to_string()
    }

    /// The law's name (for reports).
    #[getter]
    fn name(&self) -> String {
        self.law.name().to_string()
    }

    /// Data columns the law reads, in order.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.law.var_names().to_vec()
    }

    /// Parameter names in the law's order.
    #[getter]
    fn params(&self) -> Vec<String> {
        self.law.param_names().to_vec()
    }

    /// Per parameter: whether the solver works with its logarithm.
    #[getter]
    fn positive(&self) -> Vec<bool> {
        self.law.positive()
    }

    /// Per parameter: whether it was declared linear.
    #[getter]
    fn linear(&self) -> Vec<bool> {
        self.law.linear().to_vec()
    }

    /// The default start, one value per parameter, or None.
    #[getter]
    fn p0(&self) -> Option<Vec<f64>> {
        self.law.p0().map(|p| p.to_vec())
    }

    /// Whether the data must be positive: true for power sums c + sum A x^-e, which read only
    /// log x (and then get the variable-projection global start, like the built-in laws).
    #[getter]
    fn positive_variables(&self) -> bool {
        self.law.needs_logs()
    }

    /// "power_sum" (global starts available) or "general" (local fits from p0).
    #[getter]
    fn structure(&self) -> &'static str {
        match self.law.structure() {
            Structure::PowerSum { .. } => "power_sum",
            _ => "general",
        }
    }

    /// Values (n,) and Jacobian (p, n) at the points `x` (one array per variable).
    fn eval_jac<'py>(
        &self,
        py: Python<'py>,
        x: Vec<PyReadonlyArray1<'py, f64>>,
        params: Vec<f64>,
    ) -> PyResult<ValuesJac<'py>> {
        let law: Arc<dyn Law> = self.inner.clone();
        let cols: Vec<Vec<f64>> = x.iter().map(column).collect();
        let n = cols.first().map_or(0, |c| c.len());
        let np = law.n_params();
        let (f, jac) = enter(py, 0.0, None, |_| {
            if params.len() != np {
                return Err(Error::InvalidOption(format!(
                    "the law has {np} parameters ({}), got {} values",
                    law.param_names().join(", "),
                    params.len()
                )));
            }
            let views: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
            check_points(law.as_ref(), &views, &[])?;
            let owned = OwnedCols::new(cols, law.needs_logs());
            let mut f = vec![0.0; n];
            let mut jac = vec![0.0; n * np];
            law.eval_jac(&owned.view(), &params, &mut f, &mut jac);
            Ok((f, jac))
        })?;
        Ok((PyArray1::from_vec(py, f), to_matrix(py, jac, np, n)?))
    }

    fn __repr__(&self) -> String {
        format!(
            "<powerfit._core.Law {:?}: {} over {}; parameters {}>",
            self.law.name(),
            self.law.source(),
            self.law.var_names().join(", "),
            self.law.param_names().join(", ")
        )
    }
}

/// A law as Python passes it: a built-in law's name, or a compiled `powerfit._core.Law`.
#[derive(FromPyObject)]
pub(crate) enum LawArg<'py> {
    Name(String),
    Compiled(PyRef<'py, PyLaw>),
}

/// The law to fit: a built-in law resolved against the data's columns, or a compiled law.
pub(crate) fn resolve(
    law: &LawArg<'_>,
    available: &[String],
    x: Option<&str>,
) -> PyResult<Arc<dyn Law>> {
    match law {
        LawArg::Name(name) => powerfit_core::registry::resolve(name, available, x)
            .map(Arc::from)
            .map_err(to_py),
        LawArg::Compiled(l) => Ok(l.inner.clone()),
    }
}
