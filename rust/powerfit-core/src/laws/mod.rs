//! Built-in laws, one file per family, and user-written laws (`expr`).
mod expr;
mod kaplan;
mod power_sum;

pub use expr::{ExprLaw, FUNCTIONS};
pub use kaplan::Kaplan;
pub use power_sum::PowerSum;

use crate::error::{Error, Result};
use crate::law::Law;

/// Builds a built-in law by name. `vars` names the columns for `power` (one) and
/// `additive` (a subset of N, D, C); the other laws have fixed variables.
pub fn builtin(name: &str, vars: &[String]) -> Result<Box<dyn Law>> {
    match name {
        "power" => {
            if vars.len() != 1 {
                return Err(Error::InvalidLaw(format!(
                    "law 'power' takes exactly one variable, got {}",
                    vars.len()
                )));
            }
            Ok(Box::new(PowerSum::power(&vars[0])))
        }
        "chinchilla" => Ok(Box::new(PowerSum::chinchilla())),
        "additive" => Ok(Box::new(PowerSum::additive(vars)?)),
        "kaplan" => Ok(Box::new(Kaplan::new())),
        other => Err(Error::InvalidLaw(format!(
            "unknown law '{other}'; built-in laws are power, chinchilla, additive, kaplan"
        ))),
    }
}
