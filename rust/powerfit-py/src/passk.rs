//! Test-time scaling (pass@k, coverage fits, simulation): conversions around
//! `powerfit_core::testtime`. Long calls release the GIL and poll Ctrl-C.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use powerfit_core::testtime::{
    self as tt, beta as beta_law, coverage, estimator, simulate, BetaStatus, CoverageOptions,
    Samples,
};

use powerfit_core::options;

use crate::convert;
use crate::enter::enter;
use crate::errors::{to_py, InvalidDataError};

/// A non-negative int64 column as u64, or an error naming the first negative row.
fn counts(a: &PyReadonlyArray1<'_, i64>, name: &str) -> PyResult<Vec<u64>> {
    let s = a.as_slice().map_err(|_| {
        InvalidDataError::new_err(format!("column '{name}' must be a contiguous int64 array"))
    })?;
    s.iter()
        .enumerate()
        .map(|(i, &v)| {
            u64::try_from(v).map_err(|_| {
                InvalidDataError::new_err(format!(
                    "column '{name}' has a negative count {v} at row {i}"
                ))
            })
        })
        .collect()
}

fn floats<'a>(a: &'a PyReadonlyArray1<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    a.as_slice().map_err(|_| {
        InvalidDataError::new_err(format!("'{name}' must be a contiguous float64 array"))
    })
}

fn matrix<'py>(py: Python<'py>, v: Vec<f64>, cols: usize) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let rows = v.len().checked_div(cols).unwrap_or(0);
    PyArray1::from_vec(py, v).reshape([rows, cols])
}

/// pass@k over the problems of each group at each k (group g is problems
/// `offsets[g]..offsets[g+1]`): dict of group-major arrays group, k, estimate, var_samples,
/// var_problems, unbiased.
#[pyfunction]
fn pass_at_k<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, i64>,
    c: PyReadonlyArray1<'py, i64>,
    ks: Vec<u64>,
    offsets: Vec<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let (n, c) = (counts(&n, "samples")?, counts(&c, "successes")?);
    let s = Samples::new(&n, &c).map_err(to_py)?;
    let r = enter(py, 0.0, None, |_| {
        estimator::pass_at_k_groups(&s, &offsets, &ks)
    })?;
    let group: Vec<i64> = (0..r.len())
        .flat_map(|g| std::iter::repeat_n(g as i64, ks.len()))
        .collect();
    let flat: Vec<&tt::PassAtK> = r.iter().flatten().collect();
    let d = PyDict::new(py);
    d.set_item("group", PyArray1::from_vec(py, group))?;
    d.set_item(
        "k",
        PyArray1::from_vec(py, flat.iter().map(|x| x.k).collect()),
    )?;
    let col = |f: &dyn Fn(&tt::PassAtK) -> f64| -> Vec<f64> { flat.iter().map(|x| f(x)).collect() };
    d.set_item("estimate", PyArray1::from_vec(py, col(&|x| x.estimate)))?;
    d.set_item(
        "var_samples",
        PyArray1::from_vec(py, col(&|x| x.var_samples)),
    )?;
    d.set_item(
        "var_problems",
        PyArray1::from_vec(py, col(&|x| x.var_problems)),
    )?;
    d.set_item(
        "unbiased",
        PyArray1::from_vec(py, flat.iter().map(|x| x.unbiased).collect()),
    )?;
    Ok(d)
}

/// Per-problem pass@k estimates: (problems x ks).
#[pyfunction]
fn pass_at_k_problems<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, i64>,
    c: PyReadonlyArray1<'py, i64>,
    ks: Vec<u64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (n, c) = (counts(&n, "samples")?, counts(&c, "successes")?);
    let s = Samples::new(&n, &c).map_err(to_py)?;
    let m = enter(py, 0.0, None, |_| estimator::per_problem_matrix(&s, &ks))?;
    matrix(py, m, ks.len())
}

fn fit_dict<'py>(py: Python<'py>, f: &tt::CoverageFit, kp: usize) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let kf = f.fit_ks.len();
    d.set_item("n_problems", f.n_problems)?;
    d.set_item("fit_ks", PyArray1::from_vec(py, f.fit_ks.clone()))?;
    let cv = &f.curve;
    d.set_item(
        "curve",
        PyArray1::from_vec(py, cv.iter().map(|x| x.estimate).collect()),
    )?;
    d.set_item(
        "curve_var_samples",
        PyArray1::from_vec(py, cv.iter().map(|x| x.var_samples).collect()),
    )?;
    d.set_item(
        "curve_var_problems",
        PyArray1::from_vec(py, cv.iter().map(|x| x.var_problems).collect()),
    )?;
    d.set_item("params", PyArray1::from_vec(py, f.params.clone()))?;
    d.set_item("beta_status", f.beta.status.name())?;
    d.set_item("beta_loglik", f.beta.loglik)?;
    d.set_item("beta_n_iter", f.beta.n_iter)?;
    d.set_item("beta_cov_log", f.beta.cov_log.to_vec())?;
    d.set_item("power_r2", f.power.r2)?;
    d.set_item("power_n_used", f.power.n_used)?;
    d.set_item(
        "predict_beta",
        PyArray1::from_vec(py, f.predict_beta.clone()),
    )?;
    d.set_item(
        "predict_power",
        PyArray1::from_vec(py, f.predict_power.clone()),
    )?;
    d.set_item("boot_params", matrix(py, f.boot_params.clone(), 6)?)?;
    d.set_item("boot_beta", matrix(py, f.boot_beta.clone(), kp)?)?;
    d.set_item("boot_power", matrix(py, f.boot_power.clone(), kp)?)?;
    d.set_item("boot_curve", matrix(py, f.boot_curve.clone(), kf)?)?;
    d.set_item("n_boot_ok", f.n_boot_ok)?;
    d.set_item("seed", f.seed)?;
    Ok(d)
}

/// Coverage fits (Beta distribution and power law) with bootstrap replicates for every group:
/// group g is problems `offsets[g]..offsets[g+1]`. Returns one dict per group.
#[pyfunction]
#[pyo3(signature = (n, c, offsets, fit_ks, predict_ks, n_boot, seed, progress=None))]
#[allow(clippy::too_many_arguments)]
fn coverage_fit<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, i64>,
    c: PyReadonlyArray1<'py, i64>,
    offsets: Vec<usize>,
    fit_ks: Vec<u64>,
    predict_ks: Vec<f64>,
    n_boot: &Bound<'py, PyAny>,
    seed: &Bound<'py, PyAny>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let n_boot = options::count("n_boot", convert::int(n_boot, "n_boot")?, 0).map_err(to_py)?;
    let seed = options::seed(convert::int(seed, "seed")?).map_err(to_py)?;
    let (n, c) = (counts(&n, "samples")?, counts(&c, "successes")?);
    let s = Samples::new(&n, &c).map_err(to_py)?;
    let opts = CoverageOptions {
        fit_ks,
        predict_ks,
        n_boot,
        seed,
    };
    let work = n.len() as f64 * (1 + opts.n_boot) as f64 * 20.0;
    let out = enter(py, work, progress.as_ref(), |ctl| {
        coverage::fit_groups(&s, &offsets, &opts, Some(&ctl.cancel), Some(&ctl.done))
    })?;
    let l = PyList::empty(py);
    for f in &out {
        l.append(fit_dict(py, f, opts.predict_ks.len())?)?;
    }
    Ok(l)
}

/// Expected pass@k of Beta laws (one row per law) at each k.
#[pyfunction]
fn beta_pass_at_k<'py>(
    py: Python<'py>,
    alpha: PyReadonlyArray1<'py, f64>,
    beta: PyReadonlyArray1<'py, f64>,
    ks: Vec<f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (a, b) = (floats(&alpha, "alpha")?, floats(&beta, "beta")?);
    let m = beta_law::pass_at_k_matrix(a, b, &ks).map_err(to_py)?;
    matrix(py, m, ks.len())
}

/// The k at which Beta laws (one row per law) reach each target pass@k.
#[pyfunction]
fn beta_k_for<'py>(
    py: Python<'py>,
    alpha: PyReadonlyArray1<'py, f64>,
    beta: PyReadonlyArray1<'py, f64>,
    targets: Vec<f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (a, b) = (floats(&alpha, "alpha")?, floats(&beta, "beta")?);
    let m = beta_law::k_for_matrix(a, b, &targets).map_err(to_py)?;
    matrix(py, m, targets.len())
}

/// Simulated attempts: success probabilities `p` ~ Beta(alpha, beta), successes `c` ~
/// Binomial(samples, p).
#[pyfunction]
fn simulate_passk<'py>(
    py: Python<'py>,
    problems: usize,
    samples: u64,
    alpha: f64,
    beta: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let (p, c) = enter(py, 0.0, None, |_| {
        simulate::simulate(problems, samples, alpha, beta, seed)
    })?;
    let c: Vec<i64> = c.into_iter().map(|v| v as i64).collect();
    let d = PyDict::new(py);
    d.set_item("p", PyArray1::from_vec(py, p))?;
    d.set_item("c", PyArray1::from_vec(py, c))?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pass_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(pass_at_k_problems, m)?)?;
    m.add_function(wrap_pyfunction!(coverage_fit, m)?)?;
    m.add_function(wrap_pyfunction!(beta_pass_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(beta_k_for, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_passk, m)?)?;
    m.add("PASSK_PARAM_COLUMNS", coverage::PARAM_COLUMNS.to_vec())?;
    let names: Vec<&str> = BetaStatus::ALL.iter().map(|s| s.name()).collect();
    m.add("BETA_STATUS_NAMES", names)?;
    Ok(())
}
