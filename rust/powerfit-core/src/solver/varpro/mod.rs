//! Variable projection. For fixed exponents, a power-sum law is linear in its constant and
//! amplitudes: those solve a small weighted non-negative least-squares problem, so a search
//! over the exponents alone maps the whole landscape. Up to three terms, a grid over the
//! exponents (`grid`); more terms, coordinate descent over per-term exponent grids from a
//! low-discrepancy set of cells (`coord`), whose cost grows with the square of the number of
//! terms, not exponentially. The best cells are refined on the projected objective (`refine`)
//! and become starts for Levenberg-Marquardt on the real loss, one per basin. The Kaplan law
//! has its own two-parameter projection (`kaplan`). Every pass over the data works block by
//! block (`tables`), so the start's memory does not grow with the number of rows.

mod coord;
mod grid;
mod kaplan;
pub mod nnls;
mod powersum;
mod refine;
mod tables;

use std::sync::atomic::AtomicBool;

use crate::law::Structure;
use crate::problem::Problem;

/// Most terms a power sum may have for an automatic start (the linear unknowns are the
/// terms' amplitudes and the constant).
pub const MAX_TERMS: usize = nnls::MAX_UNKNOWNS - 1;

/// A candidate start (natural parameters) and its projected SSE.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub params: Vec<f64>,
    pub sse: f64,
}

/// Candidate starts, best first, at most about `keep`, and the passes over the data the
/// search made (in evaluations of one term at every row). Empty for laws without structure,
/// power sums of more than `MAX_TERMS` terms, or when cancelled.
pub fn varpro_starts(
    pb: &Problem,
    keep: usize,
    cancel: Option<&AtomicBool>,
) -> (Vec<Candidate>, usize) {
    match pb.law.structure() {
        Structure::PowerSum { constant, terms } => {
            if terms.len() > MAX_TERMS {
                return (Vec::new(), 0);
            }
            let ps = powersum::PowerSum::new(pb, constant, &terms);
            if terms.len() <= 3 {
                grid::search(&ps, keep, cancel)
            } else {
                coord::search(&ps, keep, cancel)
            }
        }
        Structure::Kaplan => kaplan::kaplan(pb, keep, cancel),
        Structure::General => (Vec::new(), 0),
    }
}

/// A given start of a power sum with its constant and free amplitudes re-solved at the
/// start's exponents (weighted NNLS on the loss's linearised scale), and the passes over the
/// data it made (in evaluations of one term at every row). None for other laws, when a free
/// amplitude would be dropped, or when cancelled.
pub fn project_start(
    pb: &Problem,
    p0: &[f64],
    cancel: Option<&AtomicBool>,
) -> (Option<Vec<f64>>, usize) {
    let Structure::PowerSum { constant, terms } = pb.law.structure() else {
        return (None, 0);
    };
    if terms.len() > MAX_TERMS {
        return (None, 0);
    }
    let ps = powersum::PowerSum::new(pb, constant, &terms);
    let e: Vec<f64> = terms.iter().map(|t| p0[t.1]).collect();
    let mut proj = refine::Projector::single(&ps, cancel);
    let start = proj.at(&e).and_then(|(_, x)| ps.with_linear(p0, &x));
    (start, proj.passes())
}

/// Grid points per exponent dimension of a power sum, by number of free exponents (at most
/// ~500 cells; the best cells are refined afterwards, see `refine`).
pub(crate) fn grid_size(dims: usize) -> usize {
    match dims {
        0 => 1,
        1 => 64,
        2 => 12,
        3 => 8,
        _ => 5,
    }
}

fn linspace(lo: f64, hi: f64, m: usize) -> Vec<f64> {
    if m == 1 {
        return vec![0.5 * (lo + hi)];
    }
    (0..m)
        .map(|i| lo + (hi - lo) * i as f64 / (m - 1) as f64)
        .collect()
}

/// Grid points from lo to hi: geometric when both are positive (scaling exponents are
/// usually 0.05-1, where a geometric grid is dense), linear otherwise.
fn span(lo: f64, hi: f64, m: usize) -> Vec<f64> {
    if m == 1 {
        return vec![0.5 * (lo + hi)];
    }
    if lo > 0.0 {
        let r = (hi / lo).ln();
        (0..m)
            .map(|i| lo * (r * i as f64 / (m - 1) as f64).exp())
            .collect()
    } else {
        linspace(lo, hi, m)
    }
}

/// Exponent grid for parameter k: its fixed value, or a span clipped to its bounds.
pub(crate) fn exponent_grid(pb: &Problem, k: usize, m: usize, lo: f64, hi: f64) -> Vec<f64> {
    if let Some(v) = pb.spec.fixed[k] {
        return vec![v];
    }
    let lo = lo.max(pb.spec.lower[k]);
    let hi = hi.min(pb.spec.upper[k]);
    if !(lo < hi) {
        return vec![pb.spec.clip(k, 0.5 * (lo + hi))];
    }
    span(lo, hi, m)
}

/// Cells to refine, best first: the grid's local minima (no axis neighbour is lower), at most
/// `keep`; when there are fewer than `MIN_CANDIDATES`, the best remaining cells that do not touch
/// a chosen one are added, so a single flat valley still gets a second opinion.
pub(crate) fn local_minima(sse: &[f64], dims: &[usize], keep: usize) -> Vec<usize> {
    const MIN_CANDIDATES: usize = 2;
    let total = sse.len();
    let nd = dims.len().min(8);
    let beaten = lower_neighbour(sse, &dims[..nd]);
    let mut chosen: Vec<usize> = (0..total)
        .filter(|&c| sse[c].is_finite() && !beaten[c])
        .collect();
    let by_sse = |a: &usize, b: &usize| sse[*a].total_cmp(&sse[*b]).then(a.cmp(b));
    chosen.sort_by(by_sse);
    chosen.truncate(keep);
    let want = MIN_CANDIDATES.min(keep);
    if chosen.len() >= want {
        return chosen;
    }
    // the best remaining cells outside the chosen ones' neighbourhoods, one scan each
    let mut blocked = vec![false; total];
    for &c in &chosen {
        block_around(&mut blocked, c, &dims[..nd]);
    }
    while chosen.len() < want {
        // the lowest finite unblocked cell; ties keep the first (a later one must be lower)
        let mut best: Option<usize> = None;
        let mut low = f64::INFINITY;
        for (c, (&v, &b)) in sse.iter().zip(&blocked).enumerate() {
            if !b && v.is_finite() && (best.is_none() || v < low) {
                (best, low) = (Some(c), v);
            }
        }
        match best {
            Some(c) => {
                chosen.push(c);
                block_around(&mut blocked, c, &dims[..nd]);
            }
            None => break,
        }
    }
    chosen
}

/// Marks the cells within one step of cell `c` along every axis (its neighbourhood, itself
/// included).
fn block_around(blocked: &mut [bool], c: usize, dims: &[usize]) {
    let nd = dims.len();
    let mut at = [0usize; 8];
    let mut rem = c;
    for d in (0..nd).rev() {
        at[d] = rem % dims[d];
        rem /= dims[d];
    }
    // odometer over the offsets -1, 0, +1 per axis (as 0, 1, 2)
    let mut off = [0usize; 8];
    loop {
        let mut cell = 0usize;
        let mut inside = true;
        for d in 0..nd {
            let v = (at[d] + off[d]).wrapping_sub(1);
            inside &= v < dims[d];
            cell = cell.wrapping_mul(dims[d]).wrapping_add(v);
        }
        if inside {
            blocked[cell] = true;
        }
        let mut d = nd;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            off[d] += 1;
            if off[d] < 3 {
                break;
            }
            off[d] = 0;
        }
    }
}

/// Per cell of a row-major grid, whether a neighbour along some axis has a lower value
/// (comparisons with NaN are false, as for a missing neighbour). Axis by axis, each pair of
/// neighbours is compared once, in contiguous runs: no coordinates per cell.
fn lower_neighbour(v: &[f64], dims: &[usize]) -> Vec<bool> {
    let mut beaten = vec![false; v.len()];
    let mut stride = v.len();
    for &n in dims {
        if n == 0 {
            break;
        }
        let span = stride;
        stride /= n;
        for (vb, bb) in v.chunks_exact(span).zip(beaten.chunks_exact_mut(span)) {
            // each cell against its neighbour one stride on: both directions, slice by slice
            let (near, far) = (&vb[..span - stride], &vb[stride..]);
            for ((o, &a), &b) in bb[stride..].iter_mut().zip(near).zip(far) {
                *o |= a < b;
            }
            for ((o, &a), &b) in bb[..span - stride].iter_mut().zip(near).zip(far) {
                *o |= b < a;
            }
        }
    }
    beaten
}

/// Whether two refined exponent vectors lie within one grid step of each other in every
/// exponent (LM from both would land in the same basin).
pub(crate) fn near(a: &[f64], b: &[f64], grids: &[Vec<f64>]) -> bool {
    a.iter().zip(b).zip(grids).all(|((&u, &v), g)| {
        if g.len() < 2 {
            return true;
        }
        let step = if g[0] > 0.0 {
            (g[1] / g[0]).ln()
        } else {
            g[1] - g[0]
        };
        let d = if g[0] > 0.0 {
            (u / v).ln().abs()
        } else {
            (u - v).abs()
        };
        d <= step
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, cell by cell: finite, and no axis neighbour strictly lower.
    fn is_local_min(v: &[f64], dims: &[usize], c: usize) -> bool {
        let mut coord = vec![0; dims.len()];
        let mut rem = c;
        for d in (0..dims.len()).rev() {
            coord[d] = rem % dims[d];
            rem /= dims[d];
        }
        let stride = |d: usize| dims[d + 1..].iter().product::<usize>();
        v[c].is_finite()
            && (0..dims.len()).all(|d| {
                let left = coord[d] > 0 && v[c - stride(d)] < v[c];
                let right = coord[d] + 1 < dims[d] && v[c + stride(d)] < v[c];
                !(left || right)
            })
    }

    #[test]
    fn local_minima_are_the_cells_no_axis_neighbour_beats() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for dims in [
            vec![7],
            vec![12, 12],
            vec![3, 1, 5],
            vec![8, 8, 8],
            vec![1, 1],
        ] {
            let total: usize = dims.iter().product();
            for _ in 0..50 {
                // few distinct values, so ties are common; some NaN and infinite cells
                let v: Vec<f64> = (0..total)
                    .map(|_| match next() % 12 {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        r => (r % 5) as f64,
                    })
                    .collect();
                let mut want: Vec<usize> =
                    (0..total).filter(|&c| is_local_min(&v, &dims, c)).collect();
                want.sort_by(|a, b| v[*a].total_cmp(&v[*b]).then(a.cmp(b)));
                let got = local_minima(&v, &dims, usize::MAX);
                assert!(got.len() >= want.len(), "{dims:?}");
                assert_eq!(got[..want.len()], want[..], "{dims:?} {v:?}");
                // fewer than two minima: the best finite cells that touch no chosen one follow
                let mut expect = want.clone();
                while expect.len() < 2 {
                    let touches = |c: usize, o: usize| {
                        let (mut a, mut b) = (c, o);
                        dims.iter().rev().all(|&n| {
                            let ok = (a % n).abs_diff(b % n) <= 1;
                            (a, b) = (a / n, b / n);
                            ok
                        })
                    };
                    let extra = (0..total)
                        .filter(|&c| v[c].is_finite() && !expect.iter().any(|&o| touches(c, o)))
                        .min_by(|a, b| v[*a].total_cmp(&v[*b]).then(a.cmp(b)));
                    match extra {
                        Some(c) => expect.push(c),
                        None => break,
                    }
                }
                if want.len() < 2 {
                    assert_eq!(got, expect, "{dims:?} {v:?}");
                }
                let kept = local_minima(&v, &dims, 1);
                assert!(kept.len() <= 1 && kept[..] == got[..kept.len()]);
            }
        }
        // one bowl: its bottom, then the best cell outside the bottom's 3 x 3 neighbourhood
        let bowl: Vec<f64> = (0..144)
            .map(|c| ((c / 12) as f64 - 3.0).powi(2) + 1.1 * ((c % 12) as f64 - 5.0).powi(2))
            .collect();
        assert_eq!(local_minima(&bowl, &[12, 12], 4), vec![3 * 12 + 5, 12 + 5]);
    }
}
