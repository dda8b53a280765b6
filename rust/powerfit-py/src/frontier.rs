//! IsoFLOP profiles and training-curve envelopes: `powerfit_core::frontier` over groups of
//! rows (sorted by group, with offsets), results as columns.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use powerfit_core::frontier::{
    self as core_frontier, BudgetStatus, Column, Columnar, Columns, EnvelopeEstimator,
    FrontierOptions, FrontierTable, Resample, Runs, SAMPLE_COLUMNS,
};
use powerfit_core::options::{count, seed as check_seed};
use powerfit_core::Error;

use crate::convert::{self, column};
use crate::enter::enter;

/// Results of a frontier analysis over groups, as columns.
#[pyclass(name = "FrontierTable", module = "powerfit._core", frozen)]
pub(crate) struct PyFrontierTable {
    inner: FrontierTable,
}

fn to_dict<'py>(py: Python<'py>, cols: &Columnar) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, col) in cols {
        match col {
            Column::F64(v) => d.set_item(name, PyArray1::from_slice(py, v))?,
            Column::I64(v) => d.set_item(name, PyArray1::from_slice(py, v))?,
            Column::U64(v) => d.set_item(name, PyArray1::from_slice(py, v))?,
        }
    }
    Ok(d)
}

#[pymethods]
impl PyFrontierTable {
    /// One row per group: exponents with bounds, log coefficients, R², budget counts, seed.
    #[getter]
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.inner.groups)
    }

    /// One row per (group, budget): the optimum, its bounds and status.
    #[getter]
    fn optima<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.inner.optima)
    }

    /// One row per (group, prediction budget).
    #[getter]
    fn predictions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.inner.predictions)
    }

    /// One row per (group, replicate): a, log k_N, b, log k_D.
    #[getter]
    fn samples<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.inner.samples)
    }
}

/// The analysis options shared by IsoFLOP profiles and envelopes, as the user gave them.
#[derive(FromPyObject)]
pub(crate) struct Options<'py> {
    window: Bound<'py, PyAny>,
    n_boot: Bound<'py, PyAny>,
    seed: Bound<'py, PyAny>,
    level: Bound<'py, PyAny>,
    budgets: Bound<'py, PyAny>,
    flops_per_token: Bound<'py, PyAny>,
    resample: Bound<'py, PyAny>,
}

impl Options<'_> {
    /// Converted, then checked by the core.
    fn parse(&self) -> PyResult<FrontierOptions> {
        let window = convert::int(&self.window, "window")?;
        let n_boot = convert::int(&self.n_boot, "n_boot")?;
        let seed = convert::int(&self.seed, "seed")?;
        let level = convert::float(&self.level, "level")?;
        let budgets = convert::floats(&self.budgets, "budgets")?;
        let k = convert::float(&self.flops_per_token, "flops_per_param_token")?;
        let resample = convert::name(&self.resample, "resample")?;
        (|| -> powerfit_core::Result<FrontierOptions> {
            let o = FrontierOptions {
                half_window: count("window", window, 1)?,
                n_boot: count("n_boot", n_boot, 0)?,
                seed: check_seed(seed)?,
                level,
                budgets,
                flops_per_token: k,
                resample: Resample::from_name(&resample)?,
            };
            o.validate()?;
            Ok(o)
        })()
        .map_err(crate::errors::to_py)
    }
}

fn offsets_of(offsets: &PyReadonlyArray1<'_, i64>) -> powerfit_core::Result<Vec<usize>> {
    offsets
        .as_array()
        .iter()
        .map(|&o| usize::try_from(o))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::InvalidShape("group offsets must be non-negative".into()))
}

/// The columns of one call, owned.
struct Owned {
    compute: Vec<f64>,
    size: Vec<f64>,
    loss: Vec<f64>,
    tokens: Option<Vec<f64>>,
}

impl Owned {
    fn new(
        compute: &PyReadonlyArray1<'_, f64>,
        size: &PyReadonlyArray1<'_, f64>,
        loss: &PyReadonlyArray1<'_, f64>,
        tokens: Option<&PyReadonlyArray1<'_, f64>>,
    ) -> Owned {
        Owned {
            compute: column(compute),
            size: column(size),
            loss: column(loss),
            tokens: tokens.map(column),
        }
    }

    fn view(&self) -> Columns<'_> {
        Columns {
            compute: &self.compute,
            size: &self.size,
            loss: &self.loss,
            tokens: self.tokens.as_deref(),
        }
    }
}

/// What both analyses take: the options, the columns, the group offsets and ids, and the work
/// they amount to (for `enter`).
struct Prepared {
    opts: FrontierOptions,
    cols: Owned,
    offsets: Vec<usize>,
    ids: Option<Vec<u64>>,
    work: f64,
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    options: &Options<'_>,
    compute: &PyReadonlyArray1<'_, f64>,
    size: &PyReadonlyArray1<'_, f64>,
    loss: &PyReadonlyArray1<'_, f64>,
    tokens: Option<&PyReadonlyArray1<'_, f64>>,
    offsets: &PyReadonlyArray1<'_, i64>,
    ids: Option<PyReadonlyArray1<'_, u64>>,
) -> PyResult<Prepared> {
    let opts = options.parse()?;
    let cols = Owned::new(compute, size, loss, tokens);
    let work = cols.compute.len() as f64 * (1 + opts.n_boot) as f64 * 50.0;
    Ok(Prepared {
        offsets: offsets_of(offsets).map_err(crate::errors::to_py)?,
        ids: ids.map(|a| a.as_array().to_vec()),
        opts,
        cols,
        work,
    })
}

/// IsoFLOP analysis of every group (see ``powerfit.isoflop``): group g is rows
/// ``offsets[g]..offsets[g+1]``; ``ids`` seed each group's replicates (default: its position).
#[pyfunction]
#[pyo3(signature = (compute, size, loss, tokens, offsets, *, options, budget_rtol, ids=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn isoflop(
    py: Python<'_>,
    compute: PyReadonlyArray1<'_, f64>,
    size: PyReadonlyArray1<'_, f64>,
    loss: PyReadonlyArray1<'_, f64>,
    tokens: Option<PyReadonlyArray1<'_, f64>>,
    offsets: PyReadonlyArray1<'_, i64>,
    options: Options<'_>,
    budget_rtol: &Bound<'_, PyAny>,
    ids: Option<PyReadonlyArray1<'_, u64>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyFrontierTable> {
    let rtol = convert::float(budget_rtol, "budget_rtol")?;
    let p = prepare(
        &options,
        &compute,
        &size,
        &loss,
        tokens.as_ref(),
        &offsets,
        ids,
    )?;
    let out = enter(py, p.work, progress.as_ref(), |ctl| {
        let fs = core_frontier::isoflop_groups(
            &p.cols.view(),
            &p.offsets,
            p.ids.as_deref(),
            rtol,
            &p.opts,
            Some(&ctl.cancel),
            Some(&ctl.done),
        )?;
        Ok(FrontierTable::new(&fs))
    })?;
    Ok(PyFrontierTable { inner: out })
}

/// Training-curve envelope of every group (see ``powerfit.envelope``): ``run`` labels each
/// row's run; ``grid`` (empty: ``n_grid`` log-spaced budgets per group) the budgets;
/// ``estimator`` argmin or parabola.
#[pyfunction]
#[pyo3(signature = (run, compute, size, loss, tokens, offsets, *, options, grid, n_grid, estimator, ids=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn envelope(
    py: Python<'_>,
    run: PyReadonlyArray1<'_, u64>,
    compute: PyReadonlyArray1<'_, f64>,
    size: PyReadonlyArray1<'_, f64>,
    loss: PyReadonlyArray1<'_, f64>,
    tokens: Option<PyReadonlyArray1<'_, f64>>,
    offsets: PyReadonlyArray1<'_, i64>,
    options: Options<'_>,
    grid: &Bound<'_, PyAny>,
    n_grid: &Bound<'_, PyAny>,
    estimator: &Bound<'_, PyAny>,
    ids: Option<PyReadonlyArray1<'_, u64>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyFrontierTable> {
    let grid = convert::floats(grid, "grid")?;
    let n_grid = convert::int(n_grid, "n_grid")?;
    let estimator = convert::name(estimator, "estimator")?;
    let runs = run.as_array().to_vec();
    let p = prepare(
        &options,
        &compute,
        &size,
        &loss,
        tokens.as_ref(),
        &offsets,
        ids,
    )?;
    let out = enter(py, p.work, progress.as_ref(), |ctl| {
        let est = EnvelopeEstimator::from_name(&estimator)?;
        let n_grid = count("n_grid", n_grid, 0)?;
        let fs = core_frontier::envelope_groups(
            &runs,
            &p.cols.view(),
            &p.offsets,
            p.ids.as_deref(),
            &grid,
            n_grid,
            est,
            &p.opts,
            Some(&ctl.cancel),
            Some(&ctl.done),
        )?;
        Ok(FrontierTable::new(&fs))
    })?;
    Ok(PyFrontierTable { inner: out })
}

/// IsoFLOP profiles cut from training curves: each run covering a budget gives one row with
/// its loss (and tokens) interpolated in log-log. Returns columns C, N, loss, tokens (NaN
/// without tokens) and run (the run's index in order of first appearance).
#[pyfunction]
#[pyo3(signature = (run, compute, size, loss, tokens, budgets))]
fn slice_runs<'py>(
    py: Python<'py>,
    run: PyReadonlyArray1<'py, u64>,
    compute: PyReadonlyArray1<'py, f64>,
    size: PyReadonlyArray1<'py, f64>,
    loss: PyReadonlyArray1<'py, f64>,
    tokens: Option<PyReadonlyArray1<'py, f64>>,
    budgets: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let budgets = convert::floats(budgets, "budgets")?;
    let cols = Owned::new(&compute, &size, &loss, tokens.as_ref());
    let runs = run.as_array().to_vec();
    let (c, n, l, t, r) = enter(py, cols.compute.len() as f64, None, |_| {
        let rs = Runs::new(&runs, &cols.view())?;
        core_frontier::slice_runs(&rs, &budgets)
    })?;
    let d = PyDict::new(py);
    d.set_item("C", PyArray1::from_vec(py, c))?;
    d.set_item("N", PyArray1::from_vec(py, n))?;
    d.set_item("loss", PyArray1::from_vec(py, l))?;
    d.set_item("tokens", PyArray1::from_vec(py, t))?;
    let run_index: Vec<i64> = r.into_iter().map(|v| v as i64).collect();
    d.set_item("run", PyArray1::from_vec(py, run_index))?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFrontierTable>()?;
    m.add_function(wrap_pyfunction!(isoflop, m)?)?;
    m.add_function(wrap_pyfunction!(envelope, m)?)?;
    m.add_function(wrap_pyfunction!(slice_runs, m)?)?;
    let names: Vec<&str> = BudgetStatus::ALL.iter().map(|s| s.name()).collect();
    m.add("BUDGET_STATUS_NAMES", names)?;
    m.add("FRONTIER_SAMPLE_COLUMNS", SAMPLE_COLUMNS.to_vec())?;
    Ok(())
}
