//! Functions of replicate matrices that need no law: interval bounds and the closed-form
//! compute-optimal quantities.

use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;

use powerfit_core::{analysis, stats};

use crate::convert::{self, matrix, to_matrix};
use crate::enter::enter;

/// Lower and upper bounds, one entry per quantity.
type Bounds<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Interval bounds for every column of ``samples`` (replicates x quantities) around
/// ``estimate``: ``interval`` percentile, basic or bca (which needs ``jackknife``,
/// leave-one-out values x quantities).
#[pyfunction]
#[pyo3(signature = (samples, estimate, level, interval, jackknife=None))]
pub(crate) fn intervals<'py>(
    py: Python<'py>,
    samples: &Bound<'py, PyArray2<f64>>,
    estimate: &Bound<'py, PyAny>,
    level: &Bound<'py, PyAny>,
    interval: &Bound<'py, PyAny>,
    jackknife: Option<&Bound<'py, PyArray2<f64>>>,
) -> PyResult<Bounds<'py>> {
    let (s, q) = matrix(samples);
    let est = convert::floats(estimate, "estimate")?;
    let level = convert::float(level, "level")?;
    let method = convert::name(interval, "interval")?;
    let jk = jackknife.map(|j| matrix(j).0);
    let (lo, hi) = enter(py, s.len() as f64 * 20.0, None, |_| {
        let m = stats::IntervalMethod::from_name(&method)?;
        stats::intervals(&s, q, &est, jk.as_deref(), level, m)
    })?;
    Ok((PyArray1::from_vec(py, lo), PyArray1::from_vec(py, hi)))
}

/// Closed-form compute-optimal quantities (a, b, eta, G, then N_opt, D_opt, D_opt/N_opt, L_opt
/// per budget)
/// for every row of ``params`` given the positions of E, A, B, alpha, beta in a row; returns
/// (names, matrix).
#[pyfunction]
pub(crate) fn derived<'py>(
    py: Python<'py>,
    params: &Bound<'py, PyArray2<f64>>,
    idx: [usize; 5],
    budgets: &Bound<'py, PyAny>,
    k: &Bound<'py, PyAny>,
) -> PyResult<(Vec<String>, Bound<'py, PyArray2<f64>>)> {
    let (flat, p) = matrix(params);
    let budgets = convert::floats(budgets, "compute budgets")?;
    let k = convert::float(k, "flops_per_param_token")?;
    let rows = flat.len() / p.max(1);
    let out = enter(py, flat.len() as f64, None, |_| {
        analysis::derived(&flat, p, idx, &budgets, k)
    })?;
    let names = analysis::derived_names(&budgets);
    let q = names.len();
    Ok((names, to_matrix(py, out, rows, q)?))
}
