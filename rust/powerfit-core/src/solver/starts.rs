//! Hoffmann et al.'s multi-start grid, for parity with the published estimator: the constant's
//! log in {-1, -0.5, ..., 1}, each amplitude's log in {0, 5, ..., 25}, each exponent in
//! {0, 0.5, ..., 2}. For the Chinchilla law that is 5 x 6^2 x 5^2 = 4,500 starts.

use crate::error::{Error, Result};
use crate::law::Structure;
use crate::problem::Problem;

pub fn hoffmann_grid(pb: &Problem) -> Result<Vec<Vec<f64>>> {
    let Structure::PowerSum { constant, terms } = pb.law.structure() else {
        return Err(Error::InvalidOption(format!(
            "starts='grid' is defined for power-sum laws (power, chinchilla, additive), not '{}'",
            pb.law.name()
        )));
    };
    let p = pb.spec.n_params();
    // one axis per free parameter: (index, natural values)
    let mut axes: Vec<(usize, Vec<f64>)> = Vec::new();
    let lin = |lo: f64, step: f64, m: usize| (0..m).map(move |i| lo + step * i as f64);
    if let Some(c) = constant {
        axes.push((c, lin(-1.0, 0.5, 5).map(f64::exp).collect()));
    }
    for &(ia, _, _) in &terms {
        axes.push((ia, lin(0.0, 5.0, 6).map(f64::exp).collect()));
    }
    for &(_, ie, _) in &terms {
        axes.push((ie, lin(0.0, 0.5, 5).collect()));
    }
    axes.retain(|(k, _)| pb.spec.fixed[*k].is_none());
    let total: usize = axes.iter().map(|a| a.1.len()).product();
    let mut out = Vec::with_capacity(total);
    for cell in 0..total {
        let mut v: Vec<f64> = (0..p).map(|k| pb.spec.fixed[k].unwrap_or(0.0)).collect();
        let mut rem = cell;
        for (k, vals) in axes.iter().rev() {
            v[*k] = pb.spec.clip(*k, vals[rem % vals.len()]);
            rem /= vals.len();
        }
        out.push(v);
    }
    Ok(out)
}
