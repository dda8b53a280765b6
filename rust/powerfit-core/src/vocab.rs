//! The words users type, defined once. The binding exports these lists to Python, the CLI builds
//! its choices from them and a test holds the stubs' `Literal` types to them; each parser in the
//! core accepts exactly these names (checked by the tests below).

/// Built-in laws, by name.
pub const LAWS: &[&str] = &[
    "power",
    "chinchilla",
    "additive",
    "kaplan",
    "m1",
    "m2",
    "m3",
    "m4",
    "bnsl",
    "bnsl2",
    "data_constrained",
];
/// Objectives (`loss=`).
pub const LOSSES: &[&str] = &[
    "l2",
    "log",
    "huber",
    "huber_log",
    "asymmetric",
    "asymmetric_log",
];
/// Start strategies (`starts=`).
pub const STARTS: &[&str] = &["auto", "grid", "given"];
/// Resampling schemes of a single fit's bootstrap.
pub const BOOTSTRAP_METHODS: &[&str] = &["case", "cluster", "residual", "parametric"];
/// Resampling schemes available per group in bulk fits.
pub const GROUP_BOOTSTRAP_METHODS: &[&str] = &["case", "residual"];
/// Bootstrap interval types.
pub const INTERVAL_METHODS: &[&str] = &["percentile", "basic", "bca"];
/// What the IsoFLOP bootstrap resamples.
pub const ISOFLOP_RESAMPLING: &[&str] = &["runs", "budgets"];
/// How the training-curve envelope places a budget's optimum.
pub const ENVELOPE_ESTIMATORS: &[&str] = &["argmin", "parabola"];

/// `a, b or c` for messages.
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use crate::stats::IntervalMethod;

    #[test]
    fn every_name_parses() {
        for name in LOSSES {
            assert!(Loss::from_name(name, 1e-3, 10.0).is_ok(), "{name}");
        }
        assert!(Loss::from_name("l1", 1e-3, 10.0).is_err());
        for name in INTERVAL_METHODS {
            assert!(IntervalMethod::from_name(name).is_ok(), "{name}");
        }
        for name in STARTS {
            let p0 = Some(crate::options::StartSpec::Values(vec![1.0]));
            assert!(crate::options::parse_starts(name, p0).is_ok(), "{name}");
        }
        for name in BOOTSTRAP_METHODS {
            assert!(crate::options::bootstrap_method(name, Some(vec![0]), 0.1).is_ok());
        }
        for name in LAWS {
            let vars = crate::registry::law_variables(name, &["N".into(), "D".into()], Some("N"));
            assert!(vars.is_ok(), "{name}");
        }
        for name in ISOFLOP_RESAMPLING {
            assert!(crate::frontier::Resample::from_name(name).is_ok(), "{name}");
        }
        for name in ENVELOPE_ESTIMATORS {
            assert!(
                crate::frontier::EnvelopeEstimator::from_name(name).is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
