//! Global start for power sums of four or more terms, where a full grid (m^k cells) is out of
//! reach: coordinate descent over the cells of per-term exponent grids. From each of a
//! low-discrepancy set of cells, every exponent in turn is scanned over its whole grid with the
//! others held (each trial an NNLS solve from the tabulated inner products, no pass over the
//! data), until a sweep changes nothing. The distinct end cells, best first, are refined and
//! become starts. The data are read once, for the tables (k^2 m^2 / 2 inner products); the
//! descent costs about `inits` x sweeps x k m small solves, polynomial in the number of terms.

use std::sync::atomic::AtomicBool;

use super::grid::finish;
use super::nnls::{Sol, MAX_UNKNOWNS};
use super::powersum::PowerSum;

use super::tables::tables;
use super::Candidate;
use crate::solver::block;
use crate::solver::multistart::rd_alpha;

/// Grid points per exponent.
const M: usize = 24;
/// Sweeps at most per descent (each visits every exponent).
const SWEEPS: usize = 16;

/// Starting cells of the descent for k terms.
fn inits(k: usize) -> usize {
    8 + 4 * k
}

pub fn search(ps: &PowerSum, keep: usize, cancel: Option<&AtomicBool>) -> (Vec<Candidate>, usize) {
    let k = ps.k();
    let grids = ps.grids(M);
    let Some(tab) = tables(ps.rows(), &ps.logx(), &grids, cancel) else {
        return (Vec::new(), 0);
    };
    let table_fev = grids.iter().map(|g| g.len()).sum::<usize>();
    let dims = tab.dims.clone();
    let alpha = rd_alpha(k);
    let mut found: Vec<(f64, Vec<usize>, Sol)> = Vec::new();
    for i in 0..inits(k) {
        if block::stopped(cancel) {
            return (Vec::new(), table_fev);
        }
        let mut sel: Vec<usize> = (0..k)
            .map(|t| {
                let u = (0.5 + i as f64 * alpha[t]).fract();
                ((u * dims[t] as f64) as usize).min(dims[t] - 1)
            })
            .collect();
        let mut x = [0.0; MAX_UNKNOWNS];
        let mut best = ps.cell(&tab, &sel, &mut x);
        for _ in 0..SWEEPS {
            let mut moved = false;
            for t in 0..k {
                let mut pick = sel[t];
                for g in 0..dims[t] {
                    if g == pick {
                        continue;
                    }
                    sel[t] = g;
                    let mut xt = [0.0; MAX_UNKNOWNS];
                    let s = ps.cell(&tab, &sel, &mut xt);
                    if s < best {
                        best = s;
                        pick = g;
                        x = xt;
                        moved = true;
                    }
                }
                sel[t] = pick;
            }
            if !moved {
                break;
            }
        }
        if best.is_finite() && !found.iter().any(|f| f.1 == sel) {
            found.push((best, sel, x));
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found.truncate(keep.max(1));
    let cells = found
        .into_iter()
        .map(|(s, sel, x)| ((0..k).map(|t| grids[t][sel[t]]).collect(), x, s))
        .collect();
    let (out, passes) = finish(ps, &grids, cells, cancel);
    (out, table_fev + passes)
}
