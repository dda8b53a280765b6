//! Hoffmann et al.'s multi-start grid, for parity with the published estimator: the constant's
//! log in {-1, -0.5, ..., 1}, each amplitude's log in {0, 5, ..., 25}, each exponent in
//! {0, 0.5, ..., 2}. For the Chinchilla law that is 5 x 6^2 x 5^2 = 4,500 starts; a power sum
//! of k terms has 5 x 30^k, so the count is computed with checked arithmetic and bounded, and
//! the starts are generated one at a time from their index, never stored.

use crate::error::{Error, Result};
use crate::law::Structure;
use crate::problem::Problem;

/// Most starts a grid may have: a million local fits take minutes even on many cores, and
/// `starts="auto"` finds the same basin in a fraction of a millisecond.
pub const MAX_GRID_STARTS: usize = 1_000_000;

/// The grid: one axis of natural values per free parameter.
pub struct Grid {
    axes: Vec<(usize, Vec<f64>)>,
    fixed: Vec<Option<f64>>,
    count: usize,
}

impl Grid {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Start number `cell` (natural values; the last axis varies fastest).
    pub fn start(&self, pb: &Problem, cell: usize) -> Vec<f64> {
        let mut v: Vec<f64> = self.fixed.iter().map(|f| f.unwrap_or(0.0)).collect();
        let mut rem = cell;
        for (k, vals) in self.axes.iter().rev() {
            v[*k] = pb.spec.clip(*k, vals[rem % vals.len()]);
            rem /= vals.len();
        }
        v
    }
}

pub fn hoffmann_grid(pb: &Problem) -> Result<Grid> {
    let Structure::PowerSum { constant, terms } = pb.law.structure() else {
        return Err(Error::InvalidOption(format!(
            "starts='grid' is defined for power-sum laws (power, chinchilla, additive), not '{}'",
            pb.law.name()
        )));
    };
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
    let sizes: Vec<String> = axes.iter().map(|a| a.1.len().to_string()).collect();
    let count = axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.1.len()))
        .filter(|&c| c <= MAX_GRID_STARTS);
    let Some(count) = count else {
        let exact: f64 = axes.iter().map(|a| a.1.len() as f64).product();
        return Err(Error::InvalidOption(format!(
            "starts='grid' on law '{}' means {} = {exact:.3e} local fits; the limit is \
             {MAX_GRID_STARTS}: use starts='auto' (a global start by variable projection) or \
             fix some parameters",
            pb.law.name(),
            sizes.join(" x "),
        )));
    };
    Ok(Grid {
        axes,
        fixed: pb.spec.fixed.clone(),
        count,
    })
}
