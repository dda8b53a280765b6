//! Built-in laws, one file per family, and user-written laws (`expr`).
mod bnsl;
mod data_constrained;
mod expr;
mod kaplan;
mod m4;
mod power_sum;
mod revisiting;
pub mod roots;
mod starts;

pub use bnsl::Bnsl;
pub use data_constrained::DataConstrained;
pub use expr::{ExprLaw, FUNCTIONS};
pub use kaplan::Kaplan;
pub use m4::M4;
pub use power_sum::PowerSum;
pub use revisiting::Revisiting;

use crate::error::{Error, Result};
use crate::law::Law;

/// The one variable of a single-variable law.
fn one_var<'a>(name: &str, vars: &'a [String]) -> Result<&'a str> {
    match vars {
        [v] => Ok(v),
        _ => Err(Error::InvalidLaw(format!(
            "law '{name}' takes exactly one variable, got {}",
            vars.len()
        ))),
    }
}

/// Builds a built-in law by name. `vars` names the columns for the single-variable laws
/// (`power`, `m1`..`m4`, `bnsl`, `bnsl2`: one) and `additive` (a subset of N, D, C); the
/// other laws have fixed variables.
pub fn builtin(name: &str, vars: &[String]) -> Result<Box<dyn Law>> {
    match name {
        "power" => Ok(Box::new(PowerSum::power(one_var(name, vars)?))),
        "m1" => Ok(Box::new(Revisiting::m1(one_var(name, vars)?))),
        "m2" => Ok(Box::new(Revisiting::m2(one_var(name, vars)?))),
        "m3" => Ok(Box::new(Revisiting::m3(one_var(name, vars)?))),
        "m4" => Ok(Box::new(M4::new(one_var(name, vars)?))),
        "bnsl" => Ok(Box::new(Bnsl::new(one_var(name, vars)?, 1))),
        "bnsl2" => Ok(Box::new(Bnsl::new(one_var(name, vars)?, 2))),
        "data_constrained" => Ok(Box::new(DataConstrained::new())),
        "chinchilla" => Ok(Box::new(PowerSum::chinchilla())),
        "additive" => Ok(Box::new(PowerSum::additive(vars)?)),
        "kaplan" => Ok(Box::new(Kaplan::new())),
        other => Err(Error::InvalidLaw(format!(
            "unknown law '{other}'; built-in laws are {}",
            crate::vocab::LAWS.join(", ")
        ))),
    }
}
