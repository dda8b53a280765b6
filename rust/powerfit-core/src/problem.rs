//! A fitting problem: law, borrowed data, target on the loss's scale, weights, loss and
//! the parameter specification (fixed values, bounds, log-parametrisation).

use crate::error::{Error, Result};
use crate::law::{Cols, Law};
use crate::loss::{Loss, Scale};

/// Which parameters are free, their bounds, and which the solver works with in log space.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Natural values of fixed parameters.
    pub fixed: Vec<Option<f64>>,
    /// Natural bounds (use +-inf for none).
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Solve for ln p instead of p (positive amplitudes).
    pub log_param: Vec<bool>,
}

impl ParamSpec {
    /// All free, with the law's default lower bounds and its own positivity.
    pub fn for_law(law: &dyn Law) -> Self {
        let p = law.n_params();
        ParamSpec {
            fixed: vec![None; p],
            lower: law.lower_bounds(),
            upper: vec![f64::INFINITY; p],
            log_param: law.positive(),
        }
    }

    pub fn n_params(&self) -> usize {
        self.fixed.len()
    }

    /// Indices of the free parameters.
    pub fn free(&self) -> Vec<usize> {
        (0..self.fixed.len())
            .filter(|&k| self.fixed[k].is_none())
            .collect()
    }

    pub fn validate(&self, names: &[String]) -> Result<()> {
        let p = names.len();
        if self.fixed.len() != p
            || self.lower.len() != p
            || self.upper.len() != p
            || self.log_param.len() != p
        {
            return Err(Error::InvalidOption(format!(
                "parameter specification has the wrong length (the law has {p} parameters)"
            )));
        }
        for k in 0..p {
            let (lo, hi) = (self.lower[k], self.upper[k]);
            if lo.is_nan() || hi.is_nan() || lo >= hi {
                return Err(Error::InvalidOption(format!(
                    "bounds of parameter '{}' are empty or NaN: [{lo}, {hi}]",
                    names[k]
                )));
            }
            if self.log_param[k] && hi <= 0.0 {
                return Err(Error::InvalidOption(format!(
                    "parameter '{}' is positive by construction but its upper bound is {hi}",
                    names[k]
                )));
            }
            if let Some(v) = self.fixed[k] {
                if !v.is_finite() {
                    return Err(Error::InvalidOption(format!(
                        "fixed value of parameter '{}' is not finite: {v}",
                        names[k]
                    )));
                }
                if self.log_param[k] && v <= 0.0 {
                    return Err(Error::InvalidOption(format!(
                        "parameter '{}' must be positive, fixed at {v}",
                        names[k]
                    )));
                }
            }
        }
        Ok(())
    }

    /// Natural -> internal coordinate of parameter k.
    #[inline]
    pub fn to_internal(&self, k: usize, v: f64) -> f64 {
        if self.log_param[k] {
            v.ln()
        } else {
            v
        }
    }

    #[inline]
    pub fn to_natural(&self, k: usize, t: f64) -> f64 {
        if self.log_param[k] {
            t.exp()
        } else {
            t
        }
    }

    /// Internal bounds of parameter k.
    pub fn internal_bounds(&self, k: usize) -> (f64, f64) {
        if self.log_param[k] {
            let lo = if self.lower[k] > 0.0 {
                self.lower[k].ln()
            } else {
                f64::NEG_INFINITY
            };
            (lo, self.upper[k].ln())
        } else {
            (self.lower[k], self.upper[k])
        }
    }

    /// Clips a natural value into the bounds (and positivity).
    pub fn clip(&self, k: usize, v: f64) -> f64 {
        let mut v = v.clamp(self.lower[k], self.upper[k]);
        if self.log_param[k] && v <= 0.0 {
            v = if self.upper[k].is_finite() {
                self.upper[k] * 1e-12
            } else {
                1e-12
            };
        }
        v
    }
}

/// One fitting problem. Cheap to build (references only), so bootstrap replicates and groups
/// make their own without copying data.
#[derive(Clone, Copy)]
pub struct Problem<'a> {
    pub law: &'a dyn Law,
    pub cols: &'a Cols<'a>,
    /// Observations on the loss's scale (y, or ln y for log losses).
    pub target: &'a [f64],
    pub weights: Option<&'a [f64]>,
    pub loss: Loss,
    pub spec: &'a ParamSpec,
}

impl<'a> Problem<'a> {
    pub fn n(&self) -> usize {
        self.target.len()
    }
}

/// The observations on the scale of `loss`.
pub fn target_for(loss: &Loss, y: &[f64]) -> Vec<f64> {
    match loss.scale {
        Scale::Linear => y.to_vec(),
        Scale::Log => y.iter().map(|v| v.ln()).collect(),
    }
}

/// Checks a variable's values: finite, and positive when the law takes their logarithm; the
/// error names the column and the first bad row.
pub fn check_variable(name: &str, values: &[f64], positive: bool) -> Result<()> {
    match first_bad(values, positive) {
        None => Ok(()),
        Some(row) => {
            let value = values[row];
            Err(Error::InvalidData {
                column: name.to_string(),
                row,
                value,
                reason: if value.is_finite() {
                    "must be positive".into()
                } else {
                    "must be finite".into()
                },
            })
        }
    }
}

/// The first row that is not finite (or not positive, when required). The common case, no
/// such row, is one scan of the values' bits with no branch per value (it vectorises); the
/// search runs only after it fails.
fn first_bad(values: &[f64], positive: bool) -> Option<usize> {
    const EXP: u64 = 0x7ff0_0000_0000_0000;
    // as unsigned bits, the positive finite doubles are exactly 1..EXP (the sign bit, NaN and
    // infinity lie above, +0 below): bits - 1 wraps +0 to the top
    let any = if positive {
        values.iter().fold(0u8, |a, v| {
            a | u8::from(v.to_bits().wrapping_sub(1) >= EXP - 1)
        })
    } else {
        values
            .iter()
            .fold(0u8, |a, v| a | u8::from(v.to_bits() & EXP == EXP))
    };
    if any == 0 {
        return None;
    }
    values
        .iter()
        .position(|&v| !v.is_finite() || (positive && v <= 0.0))
}

/// Refuses a constant observation column: a flat curve cannot determine a law's parameters
/// (bulk fits report the same condition in the group's row).
pub fn check_not_constant(y: &[f64], y_name: &str) -> Result<()> {
    let n = y.len();
    if n > 1 && y.iter().all(|&v| v == y[0]) {
        return Err(Error::InvalidShape(format!(
            "column '{y_name}' is constant (all {n} rows are {}): a flat curve cannot determine \
             the law's parameters",
            y[0]
        )));
    }
    Ok(())
}

/// Checks data for a law: equal lengths, finite values, positive where logs are taken,
/// positive observations for log losses, non-negative finite weights.
/// `x_names` are the columns' names as the user knows them (for messages); observations must
/// be positive for log losses and for laws on positive variables (scaling laws model losses).
pub fn validate_data(
    law: &dyn Law,
    x: &[&[f64]],
    x_names: &[String],
    y: &[f64],
    weights: Option<&[f64]>,
    loss: &Loss,
    y_name: &str,
) -> Result<()> {
    let names = if x_names.len() == law.var_names().len() {
        x_names
    } else {
        law.var_names()
    };
    if x.len() != names.len() {
        return Err(Error::InvalidShape(format!(
            "law '{}' needs {} variable column(s) ({}), got {}",
            law.name(),
            names.len(),
            law.var_names().join(", "),
            x.len()
        )));
    }
    let n = y.len();
    for (c, name) in x.iter().zip(names) {
        if c.len() != n {
            return Err(Error::InvalidShape(format!(
                "column '{name}' has {} rows but '{y_name}' has {n}",
                c.len()
            )));
        }
        check_variable(name, c, law.needs_logs())?;
    }
    let need_positive = loss.scale == Scale::Log || law.needs_logs();
    if let Some(row) = first_bad(y, need_positive) {
        let v = y[row];
        return Err(Error::InvalidData {
            column: y_name.to_string(),
            row,
            value: v,
            reason: if !v.is_finite() {
                "must be finite".into()
            } else if loss.scale == Scale::Log {
                "must be positive for a loss on log residuals".into()
            } else {
                "must be positive (a loss)".into()
            },
        });
    }
    if let Some(w) = weights {
        if w.len() != n {
            return Err(Error::InvalidShape(format!(
                "weights have {} rows but '{y_name}' has {n}",
                w.len()
            )));
        }
        for (row, &v) in w.iter().enumerate() {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidData {
                    column: "weights".into(),
                    row,
                    value: v,
                    reason: "must be finite and non-negative".into(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::first_bad;

    #[test]
    fn first_bad_matches_its_definition_at_the_edges() {
        let edges = [
            1.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::from_bits(1), // the smallest subnormal
            0.0,
            -0.0,
            -1.0,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for positive in [false, true] {
            let bad = |v: f64| !v.is_finite() || (positive && v <= 0.0);
            for (i, &v) in edges.iter().enumerate() {
                // the value alone, and after a run of good values longer than a vector lane
                let mut column = vec![2.0; 11];
                column.push(v);
                column.extend([3.0; 5]);
                let want = bad(v).then_some(11);
                assert_eq!(
                    first_bad(&column, positive),
                    want,
                    "value {i} positive {positive}"
                );
                assert_eq!(first_bad(&[v], positive), bad(v).then_some(0));
            }
        }
        assert_eq!(first_bad(&[], true), None);
    }
}
