//! Python values into the core's plain types. Only conversion happens here: what a value must
//! be (its range, its consistency with the law) is judged by the core. A value of the wrong
//! Python type is an `InvalidOptionError` naming the option, never a bare TypeError.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyMapping, PyString};

use powerfit_core::StartSpec;

use crate::errors::{option_error, InvalidDataError};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

fn shown(obj: &Bound<'_, PyAny>) -> String {
    let r = obj
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| type_name(obj));
    if r.chars().count() <= 60 {
        return r;
    }
    if obj.is_instance_of::<PyInt>() {
        let digits = r.trim_start_matches('-').len();
        return format!("an integer of {digits} digits");
    }
    let t = type_name(obj);
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// A real number (int, float or numpy scalar; not a bool, a string or a complex number).
pub(crate) fn float(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyString>() {
        return Err(option_error(format!(
            "{name} must be a number, got {}",
            shown(obj)
        )));
    }
    obj.extract::<f64>()
        .map_err(|_| option_error(format!("{name} must be a number, got {}", shown(obj))))
}

/// A whole number of any size (int or numpy integer, or a float with an integral value).
pub(crate) fn int(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<i128> {
    let bad = || option_error(format!("{name} must be a whole number, got {}", shown(obj)));
    if obj.is_instance_of::<PyBool>() {
        return Err(bad());
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj.extract()?;
        if v.is_finite() && v.fract() == 0.0 && v.abs() < 1.7e38 {
            return Ok(v as i128);
        }
        return Err(bad());
    }
    match obj.extract::<i128>() {
        Ok(v) => Ok(v),
        Err(_) if obj.call_method0("__index__").is_ok() => Err(option_error(format!(
            "{name} is out of range: {}",
            shown(obj)
        ))),
        Err(_) => Err(bad()),
    }
}

/// A name (str).
pub(crate) fn name(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    obj.cast::<PyString>()
        .map(|s| s.to_string())
        .map_err(|_| option_error(format!("{what} must be a string, got {}", shown(obj))))
}

/// `{name: number}` (fixed values).
pub(crate) fn named_values(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Vec<(String, f64)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let map = obj.cast::<PyMapping>().map_err(|_| {
        option_error(format!(
            "{what} must be a dict of parameter name -> value, got {}",
            shown(obj)
        ))
    })?;
    let mut out = Vec::new();
    for item in map.items()?.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key = name(&k, &format!("a key of {what}"))?;
        let val = float(&v, &format!("{what}['{key}']"))?;
        out.push((key, val));
    }
    Ok(out)
}

/// `{name: (lower, upper)}` with None for an open side.
pub(crate) fn named_bounds(
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<powerfit_core::model::NamedBound>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let map = obj.cast::<PyMapping>().map_err(|_| {
        option_error(format!(
            "bounds must be a dict of parameter name -> (lower, upper), got {}",
            shown(obj)
        ))
    })?;
    let mut out = Vec::new();
    for item in map.items()?.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key = name(&k, "a key of bounds")?;
        let pair_error = || {
            option_error(format!(
                "bounds of '{key}' must be a (lower, upper) pair, got {}",
                shown(&v)
            ))
        };
        if v.is_instance_of::<PyString>() {
            return Err(pair_error());
        }
        let items: Vec<Bound<'_, PyAny>> = v.extract().map_err(|_| pair_error())?;
        if items.len() != 2 {
            return Err(pair_error());
        }
        let side = |o: &Bound<'_, PyAny>, which: &str| -> PyResult<Option<f64>> {
            if o.is_none() {
                Ok(None)
            } else {
                float(o, &format!("the {which} bound of '{key}'")).map(Some)
            }
        };
        out.push((
            key.clone(),
            side(&items[0], "lower")?,
            side(&items[1], "upper")?,
        ));
    }
    Ok(out)
}

/// A start: a dict by parameter name, a sequence in the law's order, or None.
pub(crate) fn start(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<StartSpec>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.cast::<PyMapping>().is_ok() {
        return Ok(Some(StartSpec::Named(named_values(Some(obj), "p0")?)));
    }
    let bad = || {
        option_error(format!(
            "p0 must be a dict or a sequence of numbers, got {}",
            shown(obj)
        ))
    };
    if obj.is_instance_of::<PyString>() {
        return Err(bad());
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| bad())?
        .collect::<PyResult<_>>()
        .map_err(|_| bad())?;
    let values = items
        .iter()
        .map(|v| float(v, "p0"))
        .collect::<PyResult<Vec<f64>>>()?;
    Ok(Some(StartSpec::Values(values)))
}

/// A list of numbers (budgets, parameter values).
pub(crate) fn floats(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(a.as_array().to_vec());
    }
    let bad = || option_error(format!("{what} must be numbers, got {}", shown(obj)));
    if obj.is_instance_of::<PyString>() {
        return Err(bad());
    }
    if let Ok(v) = float(obj, what) {
        return Ok(vec![v]);
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| bad())?
        .collect::<PyResult<_>>()
        .map_err(|_| bad())?;
    items.iter().map(|v| float(v, what)).collect()
}

/// A float64 column as an owned vector.
pub(crate) fn column(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    match a.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => a.as_array().to_vec(),
    }
}

/// A row-major float64 matrix: its values and its number of columns.
pub(crate) fn matrix(a: &Bound<'_, PyArray2<f64>>) -> (Vec<f64>, usize) {
    let ro = a.readonly();
    let cols = ro.shape()[1];
    let v = match ro.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => ro.as_array().iter().copied().collect(),
    };
    (v, cols)
}

/// A row-major vector handed to Python as a (rows, cols) array.
pub(crate) fn to_matrix<'py>(
    py: Python<'py>,
    v: Vec<f64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    PyArray1::from_vec(py, v)
        .reshape([rows, cols])
        .map_err(|e| InvalidDataError::new_err(e.to_string()))
}
