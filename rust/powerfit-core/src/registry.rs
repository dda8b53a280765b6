//! Which columns a built-in law reads, given the columns the data have: the one place that
//! decides it, for single fits, bulk fits, the CLI and saved fits alike.

use crate::error::{Error, Result};
use crate::law::Law;
use crate::laws::builtin;
use crate::vocab::LAWS;

/// The laws over one column (any one: `x=` says which).
pub const ONE_VARIABLE: &[&str] = &["power", "m1", "m2", "m3", "m4", "bnsl", "bnsl2"];
/// Candidate columns of a one-variable law when the user does not say which is x.
const X_CANDIDATES: &[&str] = &["N", "D", "C", "x"];
/// The variables of the additive law, in order.
const ADDITIVE: &[&str] = &["N", "D", "C"];

/// The variables of built-in law `name` given the `available` columns (law-variable names the
/// data provide, after any column mapping) and, for `power`, the user's choice of x.
pub fn law_variables(name: &str, available: &[String], x: Option<&str>) -> Result<Vec<String>> {
    let have = |v: &str| available.iter().any(|a| a == v);
    match name {
        _ if ONE_VARIABLE.contains(&name) => {
            if let Some(x) = x {
                return Ok(vec![x.to_string()]);
            }
            let cands: Vec<&str> = X_CANDIDATES.iter().copied().filter(|v| have(v)).collect();
            match cands.as_slice() {
                [one] => Ok(vec![one.to_string()]),
                _ => Err(Error::InvalidLaw(format!(
                    "law '{name}' needs to know which column is x: pass x='N' (or 'D', 'C', ...)"
                ))),
            }
        }
        "chinchilla" | "kaplan" => Ok(vec!["N".into(), "D".into()]),
        "data_constrained" => Ok(vec!["N".into(), "D".into(), "U".into()]),
        "additive" => {
            let vars: Vec<String> = ADDITIVE
                .iter()
                .filter(|v| have(v))
                .map(|v| v.to_string())
                .collect();
            if vars.is_empty() {
                return Err(Error::InvalidLaw(
                    "law 'additive' needs at least one of the columns N, D, C".into(),
                ));
            }
            Ok(vars)
        }
        other => Err(unknown(other)),
    }
}

/// The built-in law `name` over the variables chosen by `law_variables`.
pub fn resolve(name: &str, available: &[String], x: Option<&str>) -> Result<Box<dyn Law>> {
    builtin(name, &law_variables(name, available, x)?)
}

fn unknown(name: &str) -> Error {
    Error::InvalidLaw(format!(
        "unknown law '{name}'; built-in laws are {}",
        LAWS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn variables_follow_the_data() {
        assert_eq!(law_variables("power", &s(&["D"]), None).unwrap(), s(&["D"]));
        assert!(law_variables("power", &s(&["N", "D"]), None).is_err());
        assert_eq!(
            law_variables("power", &s(&["N", "D"]), Some("D")).unwrap(),
            s(&["D"])
        );
        assert_eq!(
            law_variables("additive", &s(&["C", "N"]), None).unwrap(),
            s(&["N", "C"])
        );
        assert!(law_variables("additive", &s(&["x"]), None).is_err());
        let e = law_variables("chinchila", &[], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("built-in laws are power, chinchilla"), "{e}");
        assert_eq!(resolve("kaplan", &[], None).unwrap().n_params(), 4);
        for name in ONE_VARIABLE {
            assert_eq!(law_variables(name, &s(&["D"]), None).unwrap(), s(&["D"]));
            assert_eq!(
                resolve(name, &s(&["D"]), None).unwrap().var_names(),
                s(&["D"])
            );
        }
        assert_eq!(
            law_variables("data_constrained", &[], None).unwrap(),
            s(&["N", "D", "U"])
        );
    }
}
