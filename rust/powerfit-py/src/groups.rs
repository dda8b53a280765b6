//! Bulk fits of many groups in one call (issue 5): `fit_groups`, over the table's columns and a
//! group code per row. The rows are grouped by a counting sort in the core (no sorted copy of
//! the table is made); the GIL is released for the whole run (Ctrl-C and a progress callback
//! are polled); results come back as numpy arrays, one row per group.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use powerfit_core::bootstrap::Method;
use powerfit_core::groups::{self as core_groups, GroupBootstrap, GroupData, GroupSettings};
use powerfit_core::{Loss, ParamSpec, Termination};

use crate::{build_law, fit_options, interruptible_with, slice, to_py, LawArg};
use crate::{InvalidDataError, InvalidOptionError};

/// Fits every group; see `powerfit.fit_groups`. `x`, `y` and `weights` hold the table's rows
/// in any order; `groups[i]` is row i's group in `0..n_groups` (each group's rows are fitted in
/// table order). `rows` (optional) labels the rows in messages (default: their positions).
/// `n_boot > 0` bootstraps every converged group (`boot_method` case or residual) with the seed
/// derived from `seed` and the group's entry of `ids` (default: its position), and returns
/// percentile bounds at `level`.
#[pyfunction]
#[pyo3(signature = (law, vars, x_names, x, y, y_name, weights, groups, n_groups, rows, loss, delta, penalty, fixed, lower, upper, starts, p0, ftol, xtol, gtol, max_iter, n_boot=0, boot_method="case", seed=0, level=0.95, ids=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn fit_groups<'py>(
    py: Python<'py>,
    law: LawArg<'py>,
    vars: Vec<String>,
    x_names: Vec<String>,
    x: Vec<PyReadonlyArray1<'py, f64>>,
    y: PyReadonlyArray1<'py, f64>,
    y_name: &str,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    groups: PyReadonlyArray1<'py, i64>,
    n_groups: usize,
    rows: Option<PyReadonlyArray1<'py, i64>>,
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
    n_boot: usize,
    boot_method: &str,
    seed: u64,
    level: f64,
    ids: Option<PyReadonlyArray1<'py, u64>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let l = build_law(&law, &vars)?;
    let loss = Loss::from_name(loss, delta, penalty).map_err(to_py)?;
    let p = l.n_params();
    if fixed.len() != p || lower.len() != p || upper.len() != p {
        return Err(InvalidOptionError::new_err(format!(
            "fixed/lower/upper must have {p} entries"
        )));
    }
    let mut spec = ParamSpec::for_law(l.as_ref());
    spec.fixed = fixed;
    spec.lower = lower;
    spec.upper = upper;
    let opts = fit_options(starts, p0, ftol, xtol, gtol, max_iter)?;
    let names = l.var_names().to_vec();
    let labels = if x_names.len() == names.len() {
        x_names
    } else {
        names
    };
    let xs: Vec<&[f64]> = x
        .iter()
        .zip(labels.iter().chain(std::iter::repeat(&String::new())))
        .map(|(a, n)| slice(a, n))
        .collect::<PyResult<_>>()?;
    let ys = slice(&y, y_name)?;
    let ws = match &weights {
        Some(w) => Some(slice(w, "weights")?),
        None => None,
    };
    let codes = groups
        .as_slice()
        .map_err(|_| InvalidDataError::new_err("groups must be a contiguous int64 array"))?;
    if codes.len() != ys.len() {
        return Err(InvalidDataError::new_err(format!(
            "groups has {} entries for {} rows",
            codes.len(),
            ys.len()
        )));
    }
    let row_labels = match &rows {
        Some(r) => Some(
            r.as_slice()
                .map_err(|_| InvalidDataError::new_err("rows must be a contiguous int64 array"))?,
        ),
        None => None,
    };
    let id_slice = match &ids {
        Some(a) => Some(
            a.as_slice()
                .map_err(|_| InvalidDataError::new_err("ids must be a contiguous uint64 array"))?,
        ),
        None => None,
    };
    let method = match boot_method {
        "case" => Method::Case,
        "residual" => Method::Residual,
        other => {
            return Err(InvalidOptionError::new_err(format!(
                "unknown bootstrap method '{other}' for fit_groups: use 'case' or 'residual'"
            )))
        }
    };
    let boot = (n_boot > 0).then_some(GroupBootstrap {
        n: n_boot,
        method,
        seed,
        level,
        ids: id_slice,
    });
    let set = GroupSettings {
        law: l.as_ref(),
        loss,
        spec: &spec,
        opts: &opts,
        bootstrap: boot.as_ref(),
    };
    let cancel = AtomicBool::new(false);
    let counter = AtomicUsize::new(0);
    let work = || -> powerfit_core::Result<Vec<core_groups::GroupFit>> {
        let (order, offsets) = core_groups::group_index(codes, n_groups)?;
        let data = GroupData {
            x: xs,
            x_names: labels,
            y: ys,
            y_name: y_name.to_string(),
            weights: ws,
            offsets: &offsets,
            order: order.as_deref(),
            rows: row_labels,
        };
        core_groups::fit_groups(&data, &set, Some(&cancel), Some(&counter))
    };
    let out = interruptible_with(py, &cancel, work, progress.as_ref(), |_| {
        counter.load(Ordering::Relaxed)
    })?
    .map_err(to_py)?;

    // columnar results
    let g = out.len();
    let mut params = Vec::with_capacity(g * p);
    let mut stderr = Vec::with_capacity(g * p);
    let mut cost = Vec::with_capacity(g);
    let mut status = Vec::with_capacity(g);
    let mut success = Vec::with_capacity(g);
    let mut n_iter = Vec::with_capacity(g);
    let mut n_points = Vec::with_capacity(g);
    let mut condition = Vec::with_capacity(g);
    let mut msg_index: Vec<i64> = Vec::new();
    let mut msg_text: Vec<String> = Vec::new();
    let (mut lo, mut hi, mut n_ok, mut seeds) = (vec![], vec![], vec![], vec![]);
    for (k, r) in out.into_iter().enumerate() {
        params.extend_from_slice(&r.params);
        stderr.extend_from_slice(&r.stderr);
        cost.push(r.cost);
        status.push(r.status.code());
        success.push(r.status.is_success());
        n_iter.push(r.n_iter as i64);
        n_points.push(r.n_points as i64);
        condition.push(r.condition);
        if boot.is_some() {
            lo.extend_from_slice(&r.lower);
            hi.extend_from_slice(&r.upper);
            n_ok.push(r.n_boot_ok as i64);
            seeds.push(r.boot_seed);
        }
        if let Some(m) = r.message {
            msg_index.push(k as i64);
            msg_text.push(m);
        }
    }
    let d = PyDict::new(py);
    d.set_item("params", PyArray1::from_vec(py, params).reshape([g, p])?)?;
    d.set_item("stderr", PyArray1::from_vec(py, stderr).reshape([g, p])?)?;
    d.set_item("cost", PyArray1::from_vec(py, cost))?;
    d.set_item("status", PyArray1::from_vec(py, status))?;
    d.set_item("success", PyArray1::from_vec(py, success))?;
    d.set_item("n_iter", PyArray1::from_vec(py, n_iter))?;
    d.set_item("n_points", PyArray1::from_vec(py, n_points))?;
    d.set_item("condition", PyArray1::from_vec(py, condition))?;
    d.set_item("message_index", PyArray1::from_vec(py, msg_index))?;
    d.set_item("message_text", msg_text)?;
    d.set_item("param_names", l.param_names().to_vec())?;
    if boot.is_some() {
        d.set_item("lower", PyArray1::from_vec(py, lo).reshape([g, p])?)?;
        d.set_item("upper", PyArray1::from_vec(py, hi).reshape([g, p])?)?;
        d.set_item("n_boot_ok", PyArray1::from_vec(py, n_ok))?;
        d.set_item("boot_seed", PyArray1::from_vec(py, seeds))?;
    }
    Ok(d)
}

/// The seed `fit_groups` gives the bootstrap of the group with id `id` (run seed `seed`), to
/// rerun one group's bootstrap with `powerfit.bootstrap`.
#[pyfunction]
fn group_seed(seed: u64, id: u64) -> u64 {
    core_groups::group_seed(seed, id)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_groups, m)?)?;
    m.add_function(wrap_pyfunction!(group_seed, m)?)?;
    let messages: Vec<&str> = (0u8..=255)
        .map_while(Termination::from_code)
        .map(|t| t.message())
        .collect();
    m.add("TERMINATION_MESSAGES", messages)?;
    m.add(
        "GROUP_INVALID_DATA",
        core_groups::GroupStatus::INVALID_DATA_CODE,
    )?;
    Ok(())
}
