//! IsoFLOP profiles and training-curve envelopes: wrappers of `powerfit_core::frontier`. Rows
//! come sorted by group with offsets; results come back as one dict of arrays per group.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use powerfit_core::frontier::{
    self as core_frontier, BudgetStatus, Columns, EnvelopeEstimator, Frontier, FrontierOptions,
    Resample, Runs, SAMPLE_COLUMNS,
};

use crate::enter::enter;
use crate::errors::{to_py, InvalidDataError};

/// A contiguous f64 view of a numpy array, or a clear error naming it.
fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    a.as_slice().map_err(|_| {
        InvalidDataError::new_err(format!(
            "column '{name}' must be a contiguous float64 array"
        ))
    })
}

fn offsets_of(offsets: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    offsets
        .as_slice()
        .map_err(|_| InvalidDataError::new_err("offsets must be a contiguous int64 array"))?
        .iter()
        .map(|&o| usize::try_from(o))
        .collect::<Result<_, _>>()
        .map_err(|_| InvalidDataError::new_err("offsets must be non-negative"))
}

fn u64_slice<'a>(a: &'a PyReadonlyArray1<'_, u64>, name: &str) -> PyResult<&'a [u64]> {
    a.as_slice()
        .map_err(|_| InvalidDataError::new_err(format!("{name} must be a contiguous uint64 array")))
}

fn frontier_dict<'py>(py: Python<'py>, f: &Frontier) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let o = &f.optima;
    let col = |g: &dyn Fn(&core_frontier::BudgetOptimum) -> f64| -> Vec<f64> {
        o.iter().map(g).collect()
    };
    d.set_item("C", PyArray1::from_vec(py, col(&|b| b.c)))?;
    d.set_item(
        "n_points",
        PyArray1::from_vec(py, o.iter().map(|b| b.n_points as i64).collect::<Vec<_>>()),
    )?;
    d.set_item(
        "n_sizes",
        PyArray1::from_vec(py, o.iter().map(|b| b.n_sizes as i64).collect::<Vec<_>>()),
    )?;
    d.set_item(
        "status",
        PyArray1::from_vec(py, o.iter().map(|b| b.status.code()).collect::<Vec<_>>()),
    )?;
    d.set_item("N_opt", PyArray1::from_vec(py, col(&|b| b.n_opt)))?;
    d.set_item("D_opt", PyArray1::from_vec(py, col(&|b| b.d_opt)))?;
    d.set_item("L_opt", PyArray1::from_vec(py, col(&|b| b.l_opt)))?;
    d.set_item("L_env", PyArray1::from_vec(py, col(&|b| b.l_env)))?;
    d.set_item(
        "best_run",
        PyArray1::from_vec(
            py,
            o.iter()
                .map(|b| b.best_run.map_or(-1, |r| r as i64))
                .collect::<Vec<_>>(),
        ),
    )?;
    d.set_item("N_opt_lower", PyArray1::from_vec(py, col(&|b| b.n_lower)))?;
    d.set_item("N_opt_upper", PyArray1::from_vec(py, col(&|b| b.n_upper)))?;
    d.set_item("D_opt_lower", PyArray1::from_vec(py, col(&|b| b.d_lower)))?;
    d.set_item("D_opt_upper", PyArray1::from_vec(py, col(&|b| b.d_upper)))?;
    d.set_item(
        "budget_n_boot_ok",
        PyArray1::from_vec(py, o.iter().map(|b| b.n_boot_ok as i64).collect::<Vec<_>>()),
    )?;
    d.set_item("a", f.n_fit.exponent)?;
    d.set_item("log_k_N", f.n_fit.log_coef)?;
    d.set_item("r2_N", f.n_fit.r2)?;
    d.set_item("b", f.d_fit.exponent)?;
    d.set_item("log_k_D", f.d_fit.log_coef)?;
    d.set_item("r2_D", f.d_fit.r2)?;
    d.set_item("n_used", f.n_fit.n)?;
    d.set_item("a_lower", f.a_bounds.0)?;
    d.set_item("a_upper", f.a_bounds.1)?;
    d.set_item("b_lower", f.b_bounds.0)?;
    d.set_item("b_upper", f.b_bounds.1)?;
    let p = &f.predictions;
    let pcol =
        |g: &dyn Fn(&core_frontier::Prediction) -> f64| -> Vec<f64> { p.iter().map(g).collect() };
    let pred = PyDict::new(py);
    pred.set_item("C", PyArray1::from_vec(py, pcol(&|q| q.c)))?;
    pred.set_item("N_opt", PyArray1::from_vec(py, pcol(&|q| q.n_opt)))?;
    pred.set_item("N_opt_lower", PyArray1::from_vec(py, pcol(&|q| q.n_lower)))?;
    pred.set_item("N_opt_upper", PyArray1::from_vec(py, pcol(&|q| q.n_upper)))?;
    pred.set_item("D_opt", PyArray1::from_vec(py, pcol(&|q| q.d_opt)))?;
    pred.set_item("D_opt_lower", PyArray1::from_vec(py, pcol(&|q| q.d_lower)))?;
    pred.set_item("D_opt_upper", PyArray1::from_vec(py, pcol(&|q| q.d_upper)))?;
    d.set_item("predictions", pred)?;
    let reps = f.samples.len() / SAMPLE_COLUMNS.len();
    d.set_item(
        "samples",
        PyArray1::from_slice(py, &f.samples).reshape([reps, SAMPLE_COLUMNS.len()])?,
    )?;
    d.set_item("n_boot_ok", f.n_boot_ok)?;
    d.set_item("seed", f.seed)?;
    Ok(d)
}

fn options(
    half_window: usize,
    n_boot: usize,
    seed: u64,
    level: f64,
    budgets: Vec<f64>,
    flops_per_token: f64,
    resample: &str,
) -> PyResult<FrontierOptions> {
    let o = FrontierOptions {
        half_window,
        n_boot,
        seed,
        level,
        budgets,
        flops_per_token,
        resample: Resample::from_name(resample).map_err(to_py)?,
    };
    o.validate().map_err(to_py)?;
    Ok(o)
}

/// Columns of one call, borrowed from the numpy arrays.
fn columns<'a>(
    compute: &'a PyReadonlyArray1<'_, f64>,
    size: &'a PyReadonlyArray1<'_, f64>,
    loss: &'a PyReadonlyArray1<'_, f64>,
    tokens: Option<&'a PyReadonlyArray1<'_, f64>>,
) -> PyResult<Columns<'a>> {
    Ok(Columns {
        compute: slice(compute, "compute")?,
        size: slice(size, "size")?,
        loss: slice(loss, "loss")?,
        tokens: match tokens {
            Some(t) => Some(slice(t, "tokens")?),
            None => None,
        },
    })
}

fn to_list<'py>(py: Python<'py>, fs: &[Frontier]) -> PyResult<Bound<'py, PyList>> {
    let l = PyList::empty(py);
    for f in fs {
        l.append(frontier_dict(py, f)?)?;
    }
    Ok(l)
}

/// IsoFLOP analysis of every group (see `powerfit.isoflop`): group g is rows
/// `offsets[g]..offsets[g+1]`; `ids` seeds each group's replicates (default: its position).
/// Returns one dict per group.
#[pyfunction]
#[pyo3(signature = (compute, size, loss, tokens, offsets, ids, budget_rtol, half_window, n_boot, seed, level, budgets, flops_per_token, progress=None, resample="runs"))]
#[allow(clippy::too_many_arguments)]
fn isoflop<'py>(
    py: Python<'py>,
    compute: PyReadonlyArray1<'py, f64>,
    size: PyReadonlyArray1<'py, f64>,
    loss: PyReadonlyArray1<'py, f64>,
    tokens: Option<PyReadonlyArray1<'py, f64>>,
    offsets: PyReadonlyArray1<'py, i64>,
    ids: Option<PyReadonlyArray1<'py, u64>>,
    budget_rtol: f64,
    half_window: usize,
    n_boot: usize,
    seed: u64,
    level: f64,
    budgets: Vec<f64>,
    flops_per_token: f64,
    progress: Option<Py<PyAny>>,
    resample: &str,
) -> PyResult<Bound<'py, PyList>> {
    let cols = columns(&compute, &size, &loss, tokens.as_ref())?;
    let off = offsets_of(&offsets)?;
    let id = match &ids {
        Some(a) => Some(u64_slice(a, "ids")?),
        None => None,
    };
    let opts = options(
        half_window,
        n_boot,
        seed,
        level,
        budgets,
        flops_per_token,
        resample,
    )?;
    let work = cols.compute.len() as f64 * (1 + opts.n_boot) as f64 * 50.0;
    let out = enter(py, work, progress.as_ref(), |ctl| {
        core_frontier::isoflop_groups(
            &cols,
            &off,
            id,
            budget_rtol,
            &opts,
            Some(&ctl.cancel),
            Some(&ctl.done),
        )
    })?;
    to_list(py, &out)
}

/// Training-curve envelope of every group (see `powerfit.envelope`): `run` labels each row's
/// run; `grid` (empty: `n_grid` log-spaced budgets per group) the budgets; `estimator` argmin
/// or parabola. Returns one dict per group.
#[pyfunction]
#[pyo3(signature = (run, compute, size, loss, tokens, offsets, ids, grid, n_grid, estimator, half_window, n_boot, seed, level, budgets, flops_per_token, progress=None, resample="runs"))]
#[allow(clippy::too_many_arguments)]
fn envelope<'py>(
    py: Python<'py>,
    run: PyReadonlyArray1<'py, u64>,
    compute: PyReadonlyArray1<'py, f64>,
    size: PyReadonlyArray1<'py, f64>,
    loss: PyReadonlyArray1<'py, f64>,
    tokens: Option<PyReadonlyArray1<'py, f64>>,
    offsets: PyReadonlyArray1<'py, i64>,
    ids: Option<PyReadonlyArray1<'py, u64>>,
    grid: Vec<f64>,
    n_grid: usize,
    estimator: &str,
    half_window: usize,
    n_boot: usize,
    seed: u64,
    level: f64,
    budgets: Vec<f64>,
    flops_per_token: f64,
    progress: Option<Py<PyAny>>,
    resample: &str,
) -> PyResult<Bound<'py, PyList>> {
    let cols = columns(&compute, &size, &loss, tokens.as_ref())?;
    let runs = u64_slice(&run, "run")?;
    let off = offsets_of(&offsets)?;
    let id = match &ids {
        Some(a) => Some(u64_slice(a, "ids")?),
        None => None,
    };
    let est = EnvelopeEstimator::from_name(estimator).map_err(to_py)?;
    let opts = options(
        half_window,
        n_boot,
        seed,
        level,
        budgets,
        flops_per_token,
        resample,
    )?;
    let work = cols.compute.len() as f64 * (1 + opts.n_boot) as f64 * 50.0;
    let out = enter(py, work, progress.as_ref(), |ctl| {
        core_frontier::envelope_groups(
            runs,
            &cols,
            &off,
            id,
            &grid,
            n_grid,
            est,
            &opts,
            Some(&ctl.cancel),
            Some(&ctl.done),
        )
    })?;
    to_list(py, &out)
}

/// IsoFLOP profiles cut from training curves: each run covering a budget gives one row with
/// its loss (and tokens) interpolated in log-log. Returns a dict of arrays C, N, loss, tokens
/// (NaN without tokens) and run (the run's index in order of first appearance).
#[pyfunction]
#[pyo3(signature = (run, compute, size, loss, tokens, budgets))]
fn slice_runs<'py>(
    py: Python<'py>,
    run: PyReadonlyArray1<'py, u64>,
    compute: PyReadonlyArray1<'py, f64>,
    size: PyReadonlyArray1<'py, f64>,
    loss: PyReadonlyArray1<'py, f64>,
    tokens: Option<PyReadonlyArray1<'py, f64>>,
    budgets: Vec<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = columns(&compute, &size, &loss, tokens.as_ref())?;
    let runs = u64_slice(&run, "run")?;
    let (c, n, l, t, r) = enter(py, cols.compute.len() as f64, None, |_| {
        let rs = Runs::new(runs, &cols)?;
        core_frontier::slice_runs(&rs, &budgets)
    })?;
    let d = PyDict::new(py);
    d.set_item("C", PyArray1::from_vec(py, c))?;
    d.set_item("N", PyArray1::from_vec(py, n))?;
    d.set_item("loss", PyArray1::from_vec(py, l))?;
    d.set_item("tokens", PyArray1::from_vec(py, t))?;
    d.set_item(
        "run",
        PyArray1::from_vec(py, r.into_iter().map(|v| v as i64).collect::<Vec<_>>()),
    )?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(isoflop, m)?)?;
    m.add_function(wrap_pyfunction!(envelope, m)?)?;
    m.add_function(wrap_pyfunction!(slice_runs, m)?)?;
    let names: Vec<&str> = BudgetStatus::ALL.iter().map(|s| s.name()).collect();
    m.add("BUDGET_STATUS_NAMES", names)?;
    m.add("FRONTIER_SAMPLE_COLUMNS", SAMPLE_COLUMNS.to_vec())?;
    Ok(())
}
