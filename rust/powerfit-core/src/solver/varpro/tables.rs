//! The weighted rows of a power-sum problem and the inner products of its basis {1, y,
//! x_t^-e for every grid exponent e of every term t}, tabulated once block by block, so that a
//! grid cell (one exponent per term) costs O(k^2) instead of O(k^2 n).

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use crate::fastmath::{dots, dots4, exp_slice, pow_neg_scaled};
use crate::linalg::dot;
use crate::loss::Scale;
use crate::problem::Problem;
use crate::solver::block::{self, BLOCK};

/// How rows are weighted for the linear problem: the loss's weights, and 1/y^2 for log losses
/// so that a residual in y approximates one in log y; a fixed constant is subtracted from y.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub pb: &'a Problem<'a>,
    pub c_fixed: f64,
}

impl Rows<'_> {
    /// sqrt(w) and sqrt(w) (y - c) of `rows`.
    pub fn fill(&self, rows: Range<usize>, sw: &mut [f64], yr: &mut [f64]) {
        let pb = self.pb;
        let t = &pb.target[rows.clone()];
        match pb.loss.scale {
            Scale::Linear => yr.copy_from_slice(t),
            Scale::Log => exp_slice(t, yr),
        }
        for i in 0..t.len() {
            let y = yr[i];
            let w = pb.weights.map_or(1.0, |w| w[rows.start + i]);
            let w = match pb.loss.scale {
                Scale::Linear => w,
                Scale::Log => w / (y * y),
            };
            sw[i] = w.sqrt();
            yr[i] = sw[i] * (y - self.c_fixed);
        }
    }
}

/// Inner products under the weights: `one_one` = 1'W1, `one_y` = 1'W(y-c), `y_y`, and per grid
/// row r = (term t, exponent g): `one_u[r]`, `y_u[r]`, `u_u[r]`, and between rows of different
/// terms `cross`.
pub struct Tables {
    pub dims: Vec<usize>,
    off: Vec<usize>,
    xoff: Vec<usize>,
    pub one_one: f64,
    pub one_y: f64,
    pub y_y: f64,
    pub one_u: Vec<f64>,
    pub y_u: Vec<f64>,
    pub u_u: Vec<f64>,
    cross: Vec<f64>,
}

impl Tables {
    /// Row of (term t, grid exponent g).
    #[inline(always)]
    pub fn row(&self, t: usize, g: usize) -> usize {
        self.off[t] + g
    }

    /// The cross products of terms t < t2, row-major over (g, g2).
    pub fn cross_block(&self, t: usize, t2: usize) -> &[f64] {
        let start = self.xoff[t * self.dims.len() + t2];
        &self.cross[start..start + self.dims[t] * self.dims[t2]]
    }

    /// <u_(t,g), u_(t2,g2)> for t != t2.
    #[inline(always)]
    pub fn cross(&self, t: usize, g: usize, t2: usize, g2: usize) -> f64 {
        let k = self.dims.len();
        if t < t2 {
            self.cross[self.xoff[t * k + t2] + g * self.dims[t2] + g2]
        } else {
            self.cross[self.xoff[t2 * k + t] + g2 * self.dims[t] + g]
        }
    }
}

/// Tabulates the inner products for exponent grids `grids[t]` of terms on columns `logx[t]`.
/// None if cancelled.
pub fn tables(
    rows_of: Rows,
    logx: &[&[f64]],
    grids: &[Vec<f64>],
    cancel: Option<&AtomicBool>,
) -> Option<Tables> {
    let k = grids.len();
    let dims: Vec<usize> = grids.iter().map(|g| g.len()).collect();
    let mut off = vec![0usize; k + 1];
    for t in 0..k {
        off[t + 1] = off[t] + dims[t];
    }
    let nr = off[k];
    let mut xoff = vec![0usize; k * k];
    let mut ncross = 0;
    for t in 0..k {
        for t2 in t + 1..k {
            xoff[t * k + t2] = ncross;
            ncross += dims[t] * dims[t2];
        }
    }
    let n = rows_of.pb.n();
    let stride = 3 + 3 * nr + ncross;
    let bufs = |m: usize| (vec![0.0; m], vec![0.0; m], vec![0.0; m * nr]);
    let mut scratch = bufs(n.min(BLOCK));
    let mut acc = vec![0.0; stride];
    let mut parts = Vec::new();
    let ok = block::sum(
        n,
        &mut acc,
        &mut parts,
        &mut scratch,
        || bufs(BLOCK),
        |(sw, yr, pow), rows, slot| {
            let m = rows.len();
            let (sw, yr) = (&mut sw[..m], &mut yr[..m]);
            rows_of.fill(rows.clone(), sw, yr);
            for t in 0..k {
                let lx = &logx[t][rows.clone()];
                for (g, &e) in grids[t].iter().enumerate() {
                    let r = off[t] + g;
                    pow_neg_scaled(lx, e, sw, &mut pow[r * m..(r + 1) * m]);
                }
            }
            let row = |r: usize| &pow[r * m..(r + 1) * m];
            slot[0] = dot(sw, sw);
            slot[1] = dot(sw, yr);
            slot[2] = dot(yr, yr);
            for r in 0..nr {
                // four sums for the price of one read of the row; the fourth is a spare
                let [s, y, u, _] = dots4(row(r), [sw, yr, row(r), row(r)]);
                [slot[3 + r], slot[3 + nr + r], slot[3 + 2 * nr + r]] = [s, y, u];
            }
            let base = 3 + 3 * nr;
            for t in 0..k {
                for t2 in t + 1..k {
                    let x0 = base + xoff[t * k + t2];
                    let others: Vec<&[f64]> = (0..dims[t2]).map(|g2| row(off[t2] + g2)).collect();
                    for g in 0..dims[t] {
                        let out = &mut slot[x0 + g * dims[t2]..x0 + (g + 1) * dims[t2]];
                        dots(row(off[t] + g), &others, out);
                    }
                }
            }
        },
        cancel,
    );
    if !ok {
        return None;
    }
    Some(Tables {
        one_one: acc[0],
        one_y: acc[1],
        y_y: acc[2],
        one_u: acc[3..3 + nr].to_vec(),
        y_u: acc[3 + nr..3 + 2 * nr].to_vec(),
        u_u: acc[3 + 2 * nr..3 + 3 * nr].to_vec(),
        cross: acc[3 + 3 * nr..].to_vec(),
        dims,
        off,
        xoff,
    })
}
