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
            let ps = grid::PowerSum::new(pb, constant, &terms);
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
    let mut strides = [1usize; 8];
    for d in (0..nd.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * dims[d + 1];
    }
    // odometer over the cells' coordinates (no table, no division per cell)
    let step = |cur: &mut [usize; 8]| {
        let mut d = nd;
        while d > 0 {
            d -= 1;
            cur[d] += 1;
            if cur[d] < dims[d] {
                break;
            }
            cur[d] = 0;
        }
    };
    let mut chosen: Vec<usize> = Vec::new();
    let mut cur = [0usize; 8];
    for c in 0..total {
        if c > 0 {
            step(&mut cur);
        }
        let v = sse[c];
        let is_min = v.is_finite()
            && (0..nd).all(|d| {
                let left = cur[d] > 0 && sse[c - strides[d]] < v;
                let right = cur[d] + 1 < dims[d] && sse[c + strides[d]] < v;
                !(left || right)
            });
        if is_min {
            chosen.push(c);
        }
    }
    let by_sse = |a: &usize, b: &usize| sse[*a].total_cmp(&sse[*b]).then(a.cmp(b));
    chosen.sort_by(by_sse);
    chosen.truncate(keep);
    let want = MIN_CANDIDATES.min(keep);
    let coords = |c: usize| {
        let mut out = [0usize; 8];
        let mut rem = c;
        for d in (0..nd).rev() {
            out[d] = rem % dims[d];
            rem /= dims[d];
        }
        out
    };
    // a scan per extra candidate (want is tiny), rather than sorting the whole grid
    while chosen.len() < want {
        let taken: Vec<[usize; 8]> = chosen.iter().map(|&c| coords(c)).collect();
        let mut best: Option<usize> = None;
        let mut cur = [0usize; 8];
        for c in 0..total {
            if c > 0 {
                step(&mut cur);
            }
            if !sse[c].is_finite() || best.is_some_and(|b| by_sse(&c, &b).is_ge()) {
                continue;
            }
            if taken
                .iter()
                .any(|o| (0..nd).all(|d| o[d].abs_diff(cur[d]) <= 1))
            {
                continue;
            }
            best = Some(c);
        }
        match best {
            Some(c) => chosen.push(c),
            None => break,
        }
    }
    chosen
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
