//! User-written laws compiled in the core (issue 6): the `Law` Python class.

use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use powerfit_core::laws::ExprLaw;
use powerfit_core::{Law, OwnedCols, Structure};

use crate::{guard, slice, to_py, InvalidDataError, InvalidOptionError};

/// Values (n,) and Jacobian (n, p).
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

    /// Values (n,) and Jacobian (n, p) at the points `x` (one array per variable).
    fn eval_jac<'py>(
        &self,
        py: Python<'py>,
        x: Vec<PyReadonlyArray1<'py, f64>>,
        params: Vec<f64>,
    ) -> PyResult<ValuesJac<'py>> {
        let law = self.law.as_ref();
        let np = law.n_params();
        if params.len() != np {
            return Err(InvalidOptionError::new_err(format!(
                "the law has {np} parameters ({}), got {} values",
                law.param_names().join(", "),
                params.len()
            )));
        }
        let names = law.var_names();
        if x.len() != names.len() {
            return Err(InvalidDataError::new_err(format!(
                "the law reads {} column(s) ({}), got {}",
                names.len(),
                names.join(", "),
                x.len()
            )));
        }
        let cols: Vec<Vec<f64>> = x
            .iter()
            .zip(names)
            .map(|(a, n)| slice(a, n).map(|s| s.to_vec()))
            .collect::<PyResult<_>>()?;
        let n = cols[0].len();
        if let Some((c, name)) = cols.iter().zip(names).find(|(c, _)| c.len() != n) {
            return Err(InvalidDataError::new_err(format!(
                "column '{name}' has {} rows, '{}' has {n}",
                c.len(),
                names[0]
            )));
        }
        let owned = OwnedCols::new(cols, law.needs_logs());
        let mut f = vec![0.0; n];
        let mut jac = vec![0.0; n * np];
        py.detach(|| guard(|| law.eval_jac(&owned.view(), &params, &mut f, &mut jac)))?;
        // column-major (one block per parameter) -> row-major (n, p)
        let mut rows = vec![0.0; n * np];
        for k in 0..np {
            for i in 0..n {
                rows[i * np + k] = jac[k * n + i];
            }
        }
        Ok((
            PyArray1::from_vec(py, f),
            PyArray1::from_vec(py, rows).reshape([n, np])?,
        ))
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

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLaw>()?;
    Ok(())
}
