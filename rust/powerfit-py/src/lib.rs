//! Thin pyo3 binding of powerfit-core: array conversion, GIL release, interrupts and error
//! mapping. No numerics here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::AtomicUsize;

use powerfit_core as core;

mod expr;
mod frontier;
mod groups;
use powerfit_core::{Error, FitOptions, Law, LmOptions, Loss, OwnedCols, ParamSpec, Starts};

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

/// The one place core errors become Python exceptions.
pub(crate) fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::InvalidData { .. } | Error::InvalidShape(_) => InvalidDataError::new_err(msg),
        Error::InvalidLaw(_) => InvalidLawError::new_err(msg),
        _ => InvalidOptionError::new_err(msg),
    }
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

/// A contiguous f64 view of a numpy array, or a clear error naming it.
pub(crate) fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    a.as_slice().map_err(|_| {
        InvalidDataError::new_err(format!(
            "column '{name}' must be a contiguous float64 array (got shape {:?})",
            a.shape()
        ))
    })
}

/// Runs `work` without the GIL on a helper thread while this thread polls for Ctrl-C every
/// 50 ms; on an interrupt it raises the cancel flag, waits for the work to wind down and
/// raises KeyboardInterrupt.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    interruptible_with(py, cancel, work, None, |_| 0)
}

/// `interruptible` that also reports `counter` to a Python callable on every poll (progress).
pub(crate) fn interruptible_with<T: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    work: impl FnOnce() -> T + Send,
    callback: Option<&Py<PyAny>>,
    mut done: impl FnMut(&Py<PyAny>) -> usize + Send,
) -> PyResult<T> {
    let mut interrupted = false;
    let mut cb_error: Option<PyErr> = None;
    let out = py.detach(|| {
        std::thread::scope(|s| {
            let h = s.spawn(|| guard(work));
            while !h.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
                Python::attach(|py| {
                    if !interrupted && py.check_signals().is_err() {
                        interrupted = true;
                        cancel.store(true, Ordering::Relaxed);
                    }
                    if let (Some(cb), None) = (callback, &cb_error) {
                        let k = done(cb);
                        if let Err(e) = cb.call1(py, (k,)) {
                            cb_error = Some(e);
                        }
                    }
                });
            }
            h.join()
        })
    });
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("interrupted"));
    }
    if let Some(e) = cb_error {
        return Err(e);
    }
    out.map_err(|_| PowerfitError::new_err("internal error: a worker thread panicked"))?
}

/// A law as Python passes it: a built-in law's name, or a compiled `powerfit._core.Law`.
#[derive(FromPyObject)]
pub(crate) enum LawArg<'py> {
    Name(String),
    Compiled(PyRef<'py, expr::PyLaw>),
}

impl LawArg<'_> {
    fn label(&self) -> String {
        match self {
            LawArg::Name(n) => n.clone(),
            LawArg::Compiled(l) => l.inner.name().to_string(),
        }
    }
}

pub(crate) fn build_law(law: &LawArg<'_>, vars: &[String]) -> PyResult<Arc<dyn Law>> {
    match law {
        LawArg::Name(name) => core::laws::builtin(name, vars)
            .map(Arc::from)
            .map_err(to_py),
        LawArg::Compiled(l) => Ok(l.inner.clone()),
    }
}

/// Law metadata: parameter names, variable names, positivity, default lower bounds.
#[pyfunction]
fn law_info(py: Python<'_>, law: LawArg<'_>, vars: Vec<String>) -> PyResult<Py<PyDict>> {
    let l = build_law(&law, &vars)?;
    let d = PyDict::new(py);
    d.set_item("params", l.param_names().to_vec())?;
    d.set_item("vars", l.var_names().to_vec())?;
    d.set_item("positive", l.positive())?;
    d.set_item("lower", l.lower_bounds())?;
    Ok(d.unbind())
}

/// Evaluates a law at points.
#[pyfunction]
fn evaluate<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    x: Vec<PyReadonlyArray1<'py, f64>>,
    params: Vec<f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let l = build_law(&law, &vars)?;
    if params.len() != l.n_params() {
        return Err(InvalidOptionError::new_err(format!(
            "law '{}' has {} parameters, got {}",
            law.label(),
            l.n_params(),
            params.len()
        )));
    }
    let names = l.var_names().to_vec();
    if x.len() != names.len() {
        return Err(InvalidDataError::new_err(format!(
            "law '{}' needs columns {}",
            law.label(),
            names.join(", ")
        )));
    }
    let cols: Vec<Vec<f64>> = x
        .iter()
        .zip(&names)
        .map(|(a, n)| slice(a, n).map(|s| s.to_vec()))
        .collect::<PyResult<_>>()?;
    let n = cols.first().map_or(0, |c| c.len());
    let owned = OwnedCols::new(cols, l.needs_logs());
    let mut out = vec![0.0; n];
    py.detach(|| guard(|| l.eval(&owned.view(), &params, &mut out)))?;
    Ok(PyArray1::from_vec(py, out))
}

/// Parsed options shared by fit and bootstrap.
pub(crate) struct Setup {
    pub(crate) law: Arc<dyn Law>,
    pub(crate) cols: OwnedCols,
    pub(crate) target: Vec<f64>,
    pub(crate) weights: Option<Vec<f64>>,
    pub(crate) loss: Loss,
    pub(crate) spec: ParamSpec,
}

impl Setup {
    /// The problem over these data (`view` borrows `self.cols`).
    pub(crate) fn problem<'a>(&'a self, view: &'a core::Cols<'a>) -> core::Problem<'a> {
        core::Problem {
            law: self.law.as_ref(),
            cols: view,
            target: &self.target,
            weights: self.weights.as_deref(),
            loss: self.loss,
            spec: &self.spec,
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn setup(
    law: &LawArg<'_>,
    vars: &[String],
    x_names: &[String],
    x: &[PyReadonlyArray1<'_, f64>],
    y: &PyReadonlyArray1<'_, f64>,
    y_name: &str,
    weights: Option<&PyReadonlyArray1<'_, f64>>,
    loss: &str,
    delta: f64,
    penalty: f64,
    fixed: Vec<Option<f64>>,
    lower: Vec<f64>,
    upper: Vec<f64>,
) -> PyResult<Setup> {
    let l = build_law(law, vars)?;
    let loss = Loss::from_name(loss, delta, penalty).map_err(to_py)?;
    let names = l.var_names().to_vec();
    let labels = if x_names.len() == names.len() {
        x_names
    } else {
        &names[..]
    };
    let xs: Vec<&[f64]> = x
        .iter()
        .zip(labels.iter().chain(std::iter::repeat(&String::new())))
        .map(|(a, n)| slice(a, n))
        .collect::<PyResult<_>>()?;
    let ys = slice(y, y_name)?;
    let ws = match weights {
        Some(w) => Some(slice(w, "weights")?),
        None => None,
    };
    core::validate_data(l.as_ref(), &xs, labels, ys, ws, &loss, y_name).map_err(to_py)?;
    let mut spec = ParamSpec::for_law(l.as_ref());
    let p = l.n_params();
    if fixed.len() != p || lower.len() != p || upper.len() != p {
        return Err(InvalidOptionError::new_err(format!(
            "fixed/lower/upper must have {p} entries"
        )));
    }
    spec.fixed = fixed;
    spec.lower = lower;
    spec.upper = upper;
    spec.validate(l.param_names()).map_err(to_py)?;
    let cols = OwnedCols::new(xs.iter().map(|s| s.to_vec()).collect(), l.needs_logs());
    let target = core::target_for(&loss, ys);
    Ok(Setup {
        law: l,
        cols,
        target,
        weights: ws.map(|w| w.to_vec()),
        loss,
        spec,
    })
}

pub(crate) fn fit_options(
    starts: &str,
    p0: Option<Vec<f64>>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_iter: usize,
) -> PyResult<FitOptions> {
    for (name, v) in [("ftol", ftol), ("xtol", xtol), ("gtol", gtol)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(InvalidOptionError::new_err(format!(
                "{name} must be a finite non-negative number, got {v}"
            )));
        }
    }
    let starts = match (starts, &p0) {
        ("auto", _) => Starts::Auto,
        ("grid", _) => Starts::Grid,
        ("given", Some(p)) => Starts::Given(p.clone()),
        ("given", None) => {
            return Err(InvalidOptionError::new_err(
                "starts='given' needs p0 (a starting value for every parameter)",
            ))
        }
        (other, _) => {
            return Err(InvalidOptionError::new_err(format!(
                "unknown starts '{other}': use 'auto', 'grid' or 'given'"
            )))
        }
    };
    Ok(FitOptions {
        lm: LmOptions {
            ftol,
            xtol,
            gtol,
            max_iter,
        },
        p0: if matches!(starts, Starts::Auto) {
            p0
        } else {
            None
        },
        starts,
        n_refine: 4,
    })
}

pub(crate) fn result_dict<'py>(
    py: Python<'py>,
    r: &core::FitResult,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let p = r.params.len();
    d.set_item("params", PyArray1::from_slice(py, &r.params))?;
    d.set_item("cost", r.cost)?;
    d.set_item("n_iter", r.n_iter)?;
    d.set_item("nfev", r.nfev)?;
    d.set_item("status", r.termination.name())?;
    d.set_item("message", r.termination.message())?;
    d.set_item("success", r.termination.is_success())?;
    d.set_item("n_points", r.n_points)?;
    d.set_item("n_free", r.n_free)?;
    d.set_item("n_starts", r.n_starts)?;
    match &r.cov {
        Some(c) => d.set_item("covariance", PyArray1::from_slice(py, c).reshape([p, p])?)?,
        None => d.set_item("covariance", py.None())?,
    }
    d.set_item("cov_note", &r.cov_note)?;
    d.set_item("condition", r.condition)?;
    d.set_item("weak_direction", r.weak_direction.clone())?;
    d.set_item("aic", r.aic)?;
    d.set_item("bic", r.bic)?;
    d.set_item("var_stats", r.var_stats.clone())?;
    Ok(d)
}

/// Fits one data set. See `powerfit.fit` for the meaning of the arguments.
#[pyfunction]
#[pyo3(signature = (law, vars, x_names, x, y, y_name, weights, loss, delta, penalty, fixed, lower, upper, starts, p0, ftol, xtol, gtol, max_iter))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    x_names: Vec<String>,
    x: Vec<PyReadonlyArray1<'py, f64>>,
    y: PyReadonlyArray1<'py, f64>,
    y_name: &str,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    loss: &str,
    delta: f64,
    penalty: f64,
    fixed: Vec<Option<f64>>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    starts: &str,
    p0: Option<Vec<f64>>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_iter: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let s = setup(
        &law,
        &vars,
        &x_names,
        &x,
        &y,
        y_name,
        weights.as_ref(),
        loss,
        delta,
        penalty,
        fixed,
        lower,
        upper,
    )?;
    let opts = fit_options(starts, p0, ftol, xtol, gtol, max_iter)?;
    let view = s.cols.view();
    let pb = s.problem(&view);
    let r = if matches!(opts.starts, Starts::Grid) {
        let cancel = AtomicBool::new(false);
        interruptible(py, &cancel, || core::fit(&pb, &opts, Some(&cancel)))?
    } else {
        py.detach(|| guard(|| core::fit(&pb, &opts, None)))?
    }
    .map_err(to_py)?;
    result_dict(py, &r)
}

fn boot_dict<'py>(
    py: Python<'py>,
    r: &core::bootstrap::BootResult,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let n = r.status.len();
    let samples = PyArray1::from_slice(py, &r.samples).reshape([n, r.n_params])?;
    d.set_item("samples", samples)?;
    let codes: Vec<u8> = r.status.iter().map(|t| t.code()).collect();
    d.set_item("status", PyArray1::from_vec(py, codes))?;
    let ok: Vec<bool> = r.status.iter().map(|t| t.is_success()).collect();
    d.set_item("success", PyArray1::from_vec(py, ok))?;
    d.set_item("cost", PyArray1::from_slice(py, &r.cost))?;
    d.set_item("n_iter", PyArray1::from_slice(py, &r.n_iter))?;
    Ok(d)
}

/// Bootstrap refits (see `powerfit.bootstrap`). `method` is case, cluster, residual or
/// parametric; `labels` gives cluster ids (0..k) for the cluster method; `sigma` the noise
/// scale for the parametric one. `jackknife=True` instead runs leave-one-(cluster-)out refits.
#[pyfunction]
#[pyo3(signature = (law, vars, x_names, x, y, y_name, weights, loss, delta, penalty, fixed, lower, upper, estimate, method, n, seed, labels, sigma, ftol, xtol, gtol, max_iter, jackknife=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn bootstrap<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    x_names: Vec<String>,
    x: Vec<PyReadonlyArray1<'py, f64>>,
    y: PyReadonlyArray1<'py, f64>,
    y_name: &str,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    loss: &str,
    delta: f64,
    penalty: f64,
    fixed: Vec<Option<f64>>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    estimate: Vec<f64>,
    method: &str,
    n: usize,
    seed: u64,
    labels: Option<Vec<usize>>,
    sigma: f64,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_iter: usize,
    jackknife: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    use core::bootstrap::Method;
    let s = setup(
        &law,
        &vars,
        &x_names,
        &x,
        &y,
        y_name,
        weights.as_ref(),
        loss,
        delta,
        penalty,
        fixed,
        lower,
        upper,
    )?;
    let lm = fit_options("auto", None, ftol, xtol, gtol, max_iter)?.lm;
    let m = match method {
        "case" => Method::Case,
        "cluster" => Method::Cluster {
            labels: labels.clone().ok_or_else(|| {
                InvalidOptionError::new_err("the cluster bootstrap needs cluster labels")
            })?,
        },
        "residual" => Method::Residual,
        "parametric" => Method::Parametric { sigma },
        other => {
            return Err(InvalidOptionError::new_err(format!(
                "unknown bootstrap method '{other}': use case, cluster, residual or parametric"
            )))
        }
    };
    let view = s.cols.view();
    let pb = s.problem(&view);
    let cancel = AtomicBool::new(false);
    let counter = AtomicUsize::new(0);
    let r = interruptible_with(
        py,
        &cancel,
        || {
            if jackknife {
                core::bootstrap::jackknife(&pb, &estimate, labels.as_deref(), &lm, Some(&cancel))
            } else {
                core::bootstrap::bootstrap(
                    &pb,
                    &estimate,
                    &m,
                    n,
                    seed,
                    &lm,
                    Some(&cancel),
                    Some(&counter),
                )
            }
        },
        progress.as_ref(),
        |_| counter.load(Ordering::Relaxed),
    )?
    .map_err(to_py)?;
    boot_dict(py, &r)
}

/// Lower and upper bounds, one entry per quantity.
type Bounds<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Interval bounds per column of `samples` (replicates x quantities): percentile, basic or
/// bca (which needs `jackknife`, leave-one-out values x quantities).
#[pyfunction]
#[pyo3(signature = (samples, estimate, level, method, jackknife=None))]
fn intervals<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray2<'py, f64>,
    estimate: Vec<f64>,
    level: f64,
    method: &str,
    jackknife: Option<PyReadonlyArray2<'py, f64>>,
) -> PyResult<Bounds<'py>> {
    let m = core::stats::IntervalMethod::from_name(method).map_err(to_py)?;
    let s = samples.as_array();
    let q = s.ncols();
    if estimate.len() != q {
        return Err(InvalidOptionError::new_err(format!(
            "estimate has {} values for {q} columns",
            estimate.len()
        )));
    }
    let jk = jackknife.as_ref().map(|j| j.as_array());
    if let Some(j) = &jk {
        if j.ncols() != q {
            return Err(InvalidOptionError::new_err(
                "jackknife has the wrong number of columns",
            ));
        }
    }
    let mut lo = vec![f64::NAN; q];
    let mut hi = vec![f64::NAN; q];
    for c in 0..q {
        let col: Vec<f64> = s.column(c).iter().copied().collect();
        let jcol: Option<Vec<f64>> = jk.as_ref().map(|j| j.column(c).iter().copied().collect());
        let (l, h) =
            core::stats::interval(&col, estimate[c], jcol.as_deref(), level, m).map_err(to_py)?;
        lo[c] = l;
        hi[c] = h;
    }
    Ok((PyArray1::from_vec(py, lo), PyArray1::from_vec(py, hi)))
}

/// Compute-optimal quantities for every row of `params` (replicates x law parameters), given
/// the positions of E, A, B, alpha, beta in a row; returns (names, matrix).
#[pyfunction]
fn derived<'py>(
    py: Python<'py>,
    params: PyReadonlyArray2<'py, f64>,
    idx: [usize; 5],
    budgets: Vec<f64>,
    k: f64,
) -> PyResult<(Vec<String>, Bound<'py, PyArray2<f64>>)> {
    let a = params.as_array();
    let (rows, p) = (a.nrows(), a.ncols());
    let flat: Vec<f64> = a.iter().copied().collect();
    let out = py
        .detach(|| guard(|| core::analysis::derived(&flat, p, idx, &budgets, k)))?
        .map_err(to_py)?;
    let names = core::analysis::derived_names(&budgets);
    let q = names.len();
    Ok((names, PyArray1::from_vec(py, out).reshape([rows, q])?))
}

/// A float64 matrix handed to Python.
type Matrix<'py> = Bound<'py, PyArray2<f64>>;

/// Numeric compute-optimal allocation for any law on N and D (rows of `params` x budgets):
/// returns (N*, D*, L*) matrices.
#[pyfunction]
fn numeric_optimal<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    params: PyReadonlyArray2<'py, f64>,
    budgets: Vec<f64>,
    k: f64,
) -> PyResult<(Matrix<'py>, Matrix<'py>, Matrix<'py>)> {
    use rayon::prelude::*;
    let l = build_law(&law, &vars)?;
    let a = params.as_array();
    let rows: Vec<Vec<f64>> = a.rows().into_iter().map(|r| r.to_vec()).collect();
    if let Some(c) = budgets.iter().find(|c| !(**c > 0.0 && c.is_finite())) {
        return Err(InvalidOptionError::new_err(format!(
            "compute budgets must be positive, got {c}"
        )));
    }
    if !(k > 0.0 && k.is_finite()) {
        return Err(InvalidOptionError::new_err(format!(
            "k must be positive, got {k}"
        )));
    }
    for r in &rows {
        core::analysis::PointLaw::new(l.as_ref(), r, k).map_err(to_py)?;
    }
    let out: Vec<Vec<(f64, f64, f64)>> = py.detach(|| {
        guard(|| {
            rows.par_iter()
                .map(|r| {
                    let pl =
                        core::analysis::PointLaw::new(l.as_ref(), r, k).expect("checked above");
                    budgets
                        .iter()
                        .map(|&c| core::analysis::numeric_optimum(&pl, c, k))
                        .collect()
                })
                .collect()
        })
    })?;
    let nb = budgets.len();
    let flat =
        |f: fn(&(f64, f64, f64)) -> f64| -> Vec<f64> { out.iter().flatten().map(f).collect() };
    let shape = [rows.len(), nb];
    Ok((
        PyArray1::from_vec(py, flat(|t| t.0)).reshape(shape)?,
        PyArray1::from_vec(py, flat(|t| t.1)).reshape(shape)?,
        PyArray1::from_vec(py, flat(|t| t.2)).reshape(shape)?,
    ))
}

/// Inference-aware sizing: (N, D, training FLOPs, inference FLOPs) reaching `target`, or None.
#[pyfunction]
fn inference_optimal(
    law: LawArg<'_>,
    vars: Vec<String>,
    params: Vec<f64>,
    target: f64,
    tokens_inf: f64,
    k: f64,
) -> PyResult<Option<(f64, f64, f64, f64)>> {
    let l = build_law(&law, &vars)?;
    let pl = core::analysis::PointLaw::new(l.as_ref(), &params, k).map_err(to_py)?;
    if !(tokens_inf >= 0.0 && tokens_inf.is_finite()) {
        return Err(InvalidOptionError::new_err(format!(
            "inference tokens must be finite and non-negative, got {tokens_inf}"
        )));
    }
    guard(|| core::analysis::inference_optimum(&pl, target, tokens_inf, k))
}

/// Elasticities d log(L - c)/d log x and derivatives dL/dx at points (rows x variables).
#[pyfunction]
#[pyo3(signature = (law, vars, params, points, constant=None))]
fn elasticities<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    params: Vec<f64>,
    points: PyReadonlyArray2<'py, f64>,
    constant: Option<usize>,
) -> PyResult<(Matrix<'py>, Matrix<'py>)> {
    let l = build_law(&law, &vars)?;
    let a = points.as_array();
    let shape = [a.nrows(), a.ncols()];
    let flat: Vec<f64> = a.iter().copied().collect();
    let (el, der) = guard(|| core::analysis::elasticities(l.as_ref(), &params, constant, &flat))?
        .map_err(to_py)?;
    Ok((
        PyArray1::from_vec(py, el).reshape(shape)?,
        PyArray1::from_vec(py, der).reshape(shape)?,
    ))
}

/// The law for every row of `params` at the same points: a (rows x points) matrix.
#[pyfunction]
fn evaluate_many<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    x: Vec<PyReadonlyArray1<'py, f64>>,
    params: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    use rayon::prelude::*;
    let l = build_law(&law, &vars)?;
    let names = l.var_names().to_vec();
    if x.len() != names.len() {
        return Err(InvalidDataError::new_err(format!(
            "law needs columns {}",
            names.join(", ")
        )));
    }
    let cols: Vec<Vec<f64>> = x
        .iter()
        .zip(&names)
        .map(|(a, n)| slice(a, n).map(|s| s.to_vec()))
        .collect::<PyResult<_>>()?;
    let m = cols.first().map_or(0, |c| c.len());
    let a = params.as_array();
    if a.ncols() != l.n_params() {
        return Err(InvalidOptionError::new_err(
            "params have the wrong number of columns",
        ));
    }
    let rows: Vec<Vec<f64>> = a.rows().into_iter().map(|r| r.to_vec()).collect();
    let owned = OwnedCols::new(cols, l.needs_logs());
    let out: Vec<f64> = py.detach(|| {
        guard(|| {
            let view = owned.view();
            rows.par_iter()
                .flat_map_iter(|r| {
                    let mut o = vec![0.0; m];
                    l.eval(&view, r, &mut o);
                    o
                })
                .collect()
        })
    })?;
    PyArray1::from_vec(py, out).reshape([rows.len(), m])
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PowerfitError", py.get_type::<PowerfitError>())?;
    m.add("InvalidDataError", py.get_type::<InvalidDataError>())?;
    m.add("InvalidLawError", py.get_type::<InvalidLawError>())?;
    m.add("InvalidOptionError", py.get_type::<InvalidOptionError>())?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(law_info, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap, m)?)?;
    m.add_function(wrap_pyfunction!(intervals, m)?)?;
    m.add_function(wrap_pyfunction!(derived, m)?)?;
    m.add_function(wrap_pyfunction!(numeric_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(inference_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(elasticities, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_many, m)?)?;
    let names: Vec<&str> = (0u8..=255)
        .map_while(core::Termination::from_code)
        .map(|t| t.name())
        .collect();
    m.add("TERMINATION_NAMES", names)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    expr::register(m)?;
    groups::register(m)?;
    frontier::register(m)?;
    Ok(())
}
