//! The pyo3 binding of powerfit-core: conversions, one doorway (`enter`) for GIL release,
//! Ctrl-C and errors, and native classes around the core's types. No numerics here.
//!
//! A call flows: Python converts user data to arrays and builds a `Model` (law, loss, parameter
//! specification) and a `Problem` (the model and its data), both validated by the core once;
//! `Problem.fit` returns a frozen `Fit`; `Problem.bootstrap(fit)` reuses the problem's data.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use powerfit_core::vocab;

mod convert;
mod enter;
mod errors;
mod frontier;
mod groups;
mod law;
mod model;
mod options;
mod passk;
mod problem;
mod results;
mod stats;

/// Variables of built-in law ``law`` given the law variables the data provide.
#[pyfunction]
#[pyo3(signature = (law, available, x=None))]
fn law_variables(law: &str, available: Vec<String>, x: Option<&str>) -> PyResult<Vec<String>> {
    powerfit_core::registry::law_variables(law, &available, x).map_err(errors::to_py)
}

fn defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let fit = powerfit_core::FitSettings::default();
    let d = PyDict::new(py);
    d.set_item("loss", "l2")?;
    d.set_item("delta", 1e-3)?;
    d.set_item("overestimate_penalty", 10.0)?;
    d.set_item("starts", fit.starts_name())?;
    d.set_item("ftol", fit.lm.ftol)?;
    d.set_item("xtol", fit.lm.xtol)?;
    d.set_item("gtol", fit.lm.gtol)?;
    d.set_item("max_iter", fit.lm.max_iter)?;
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    errors::register(m)?;
    m.add_class::<law::PyLaw>()?;
    m.add_class::<model::PyModel>()?;
    m.add_class::<options::PyFitOptions>()?;
    m.add_class::<problem::PyProblem>()?;
    m.add_class::<results::PyFit>()?;
    m.add_class::<results::PyReplicates>()?;
    m.add_class::<groups::PyGroupFits>()?;
    m.add_function(wrap_pyfunction!(law_variables, m)?)?;
    m.add_function(wrap_pyfunction!(stats::intervals, m)?)?;
    m.add_function(wrap_pyfunction!(stats::derived, m)?)?;
    m.add_function(wrap_pyfunction!(groups::fit_groups, m)?)?;
    m.add_function(wrap_pyfunction!(groups::group_seed, m)?)?;
    frontier::register(m)?;
    m.add("LAWS", vocab::LAWS.to_vec())?;
    m.add("LOSSES", vocab::LOSSES.to_vec())?;
    m.add("STARTS", vocab::STARTS.to_vec())?;
    m.add("BOOTSTRAP_METHODS", vocab::BOOTSTRAP_METHODS.to_vec())?;
    m.add(
        "GROUP_BOOTSTRAP_METHODS",
        vocab::GROUP_BOOTSTRAP_METHODS.to_vec(),
    )?;
    m.add("INTERVAL_METHODS", vocab::INTERVAL_METHODS.to_vec())?;
    m.add("ISOFLOP_RESAMPLING", vocab::ISOFLOP_RESAMPLING.to_vec())?;
    m.add("ENVELOPE_ESTIMATORS", vocab::ENVELOPE_ESTIMATORS.to_vec())?;
    m.add("STATUS", groups::status_names())?;
    m.add("DEFAULTS", defaults(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    passk::register(m)?;
    Ok(())
}
