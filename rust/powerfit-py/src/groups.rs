//! Bulk fits: every group of a table fitted with one model and one set of options, in one
//! call. The core groups the rows by a counting sort and returns the results as columns.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use powerfit_core::group_table::GroupTable;
use powerfit_core::groups::{self as core_groups, GroupBootstrap, GroupData, GroupSettings};
use powerfit_core::options::{count, level as check_level, seed as check_seed};
use powerfit_core::vocab::{one_of, GROUP_BOOTSTRAP_METHODS};
use powerfit_core::{Error, Termination};

use crate::convert::{self, column, to_matrix};
use crate::enter::enter;
use crate::model::PyModel;
use crate::options::PyFitOptions;

/// One row per group, as columns.
#[pyclass(name = "GroupFits", module = "powerfit._core", frozen)]
pub(crate) struct PyGroupFits {
    inner: GroupTable,
    boot: bool,
}

#[pymethods]
impl PyGroupFits {
    #[getter]
    fn n_groups(&self) -> usize {
        self.inner.n_groups
    }

    /// Estimates, (groups, parameters).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let t = &self.inner;
        to_matrix(py, t.params.clone(), t.n_groups, t.n_params)
    }

    /// Standard errors, (groups, parameters).
    #[getter]
    fn stderr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let t = &self.inner;
        to_matrix(py, t.stderr.clone(), t.n_groups, t.n_params)
    }

    /// Percentile bounds, (groups, parameters); None without a bootstrap.
    #[getter]
    fn lower<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        self.bound(py, true)
    }

    #[getter]
    fn upper<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        self.bound(py, false)
    }

    #[getter]
    fn cost<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.cost)
    }

    /// Status codes (see ``status_names``).
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        PyArray1::from_slice(py, &self.inner.status)
    }

    #[getter]
    fn success<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        PyArray1::from_slice(py, &self.inner.success)
    }

    #[getter]
    fn n_iter<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_slice(py, &self.inner.n_iter)
    }

    #[getter]
    fn n_points<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_slice(py, &self.inner.n_points)
    }

    #[getter]
    fn condition<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.condition)
    }

    /// Groups whose message differs from their status's message.
    #[getter]
    fn message_index<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_slice(py, &self.inner.message_index)
    }

    #[getter]
    fn message_text(&self) -> Vec<String> {
        self.inner.message_text.clone()
    }

    /// Converged bootstrap replicates per group; None without a bootstrap.
    #[getter]
    fn n_boot_ok<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        self.boot
            .then(|| PyArray1::from_slice(py, &self.inner.n_boot_ok))
    }

    /// Each group's bootstrap seed; None without a bootstrap.
    #[getter]
    fn boot_seed<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<u64>>> {
        self.boot
            .then(|| PyArray1::from_slice(py, &self.inner.boot_seed))
    }
}

impl PyGroupFits {
    fn bound<'py>(
        &self,
        py: Python<'py>,
        lower: bool,
    ) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        let t = &self.inner;
        if !self.boot {
            return Ok(None);
        }
        let v = if lower { &t.lower } else { &t.upper };
        to_matrix(py, v.clone(), t.n_groups, t.n_params).map(Some)
    }
}

/// Fits every group (see ``powerfit.fit_groups``): ``columns``, ``y`` and ``weights`` hold the
/// table's rows in any order; ``codes[i]`` is row i's group in ``0..n_groups``. With
/// ``n_boot > 0`` every converged group is bootstrapped (``resample`` case or
/// residual), each from a seed derived from ``seed`` and its entry of ``ids``.
#[pyfunction]
#[pyo3(signature = (model, columns, y, codes, n_groups, *, options, labels=None, y_name=None, weights=None, rows=None, n_boot=None, resample=None, seed=None, level=None, ids=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_groups(
    py: Python<'_>,
    model: &PyModel,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    y: PyReadonlyArray1<'_, f64>,
    codes: PyReadonlyArray1<'_, i64>,
    n_groups: usize,
    options: &PyFitOptions,
    labels: Option<Vec<String>>,
    y_name: Option<String>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    rows: Option<PyReadonlyArray1<'_, i64>>,
    n_boot: Option<&Bound<'_, PyAny>>,
    resample: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    level: Option<&Bound<'_, PyAny>>,
    ids: Option<PyReadonlyArray1<'_, u64>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyGroupFits> {
    let m = model.inner.clone();
    let settings = options.inner.clone();
    let n_boot = n_boot.map(|o| convert::int(o, "n_boot")).transpose()?;
    let method = resample
        .map(|o| convert::name(o, "resample"))
        .transpose()?
        .unwrap_or_else(|| "case".into());
    let seed = seed
        .map(|o| convert::int(o, "seed"))
        .transpose()?
        .unwrap_or(0);
    let level = level
        .map(|o| convert::float(o, "level"))
        .transpose()?
        .unwrap_or(0.95);
    let x: Vec<Vec<f64>> = columns.iter().map(column).collect();
    let y = column(&y);
    let w = weights.as_ref().map(column);
    let codes = codes.as_array().to_vec();
    let rows = rows.map(|r| r.as_array().to_vec());
    let ids = ids.map(|a| a.as_array().to_vec());
    let labels = labels.unwrap_or_else(|| m.law.var_names().to_vec());
    let y_name = y_name.unwrap_or_else(|| "loss".into());
    let work = y.len() as f64 * 200.0 * (1 + n_boot.unwrap_or(0).max(0)) as f64;
    let boot = n_boot.is_some();
    let table = enter(py, work, progress.as_ref(), move |ctl| {
        let p0 = settings.p0.as_ref().map(|s| m.start(s)).transpose()?;
        let opts = settings.resolve(p0);
        let boot = match n_boot {
            Some(n) => Some(GroupBootstrap {
                n: count("n_boot", n, 1)?,
                method: group_method(&method)?,
                seed: check_seed(seed)?,
                level: check_level(level)?,
                ids: ids.as_deref(),
            }),
            None => {
                check_seed(seed)?;
                None
            }
        };
        let set = GroupSettings {
            law: m.law.as_ref(),
            loss: m.loss,
            spec: &m.spec,
            opts: &opts,
            bootstrap: boot.as_ref(),
        };
        let (order, offsets) = core_groups::group_index(&codes, n_groups)?;
        let data = GroupData {
            x: x.iter().map(|c| c.as_slice()).collect(),
            x_names: labels,
            y: &y,
            y_name,
            weights: w.as_deref(),
            offsets: &offsets,
            order: order.as_deref(),
            rows: rows.as_deref(),
        };
        let fits = core_groups::fit_groups(&data, &set, Some(&ctl.cancel), Some(&ctl.done))?;
        Ok(GroupTable::new(fits, m.n_params(), boot.is_some()))
    })?;
    Ok(PyGroupFits { inner: table, boot })
}

fn group_method(name: &str) -> powerfit_core::Result<powerfit_core::bootstrap::Method> {
    use powerfit_core::bootstrap::Method;
    match name {
        "case" => Ok(Method::Case),
        "residual" => Ok(Method::Residual),
        other => Err(Error::InvalidOption(format!(
            "unknown resampling scheme '{other}' (resample=) for fit_groups: use {}",
            one_of(GROUP_BOOTSTRAP_METHODS)
        ))),
    }
}

/// The seed ``fit_groups`` gives the bootstrap of the group with id ``id`` (run seed
/// ``seed``), to rerun one group's bootstrap with ``powerfit.bootstrap``.
#[pyfunction]
pub(crate) fn group_seed(seed: u64, id: u64) -> u64 {
    core_groups::group_seed(seed, id)
}

/// Status names by code, for group tables (the solver's terminations and ``invalid_data``).
pub(crate) fn status_names() -> Vec<(u8, &'static str, &'static str)> {
    let mut v: Vec<(u8, &'static str, &'static str)> = (0u8..=255)
        .map_while(Termination::from_code)
        .map(|t| (t.code(), t.name(), t.message()))
        .collect();
    v.push((
        core_groups::GroupStatus::INVALID_DATA_CODE,
        core_groups::GroupStatus::InvalidData.name(),
        "the group's data cannot be fitted",
    ));
    v
}
