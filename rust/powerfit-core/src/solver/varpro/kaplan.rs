//! The Kaplan law's start: L^(1/alpha_D) = a N^-p + b/D with p = alpha_N/alpha_D, a = N_c^p,
//! b = D_c, so for fixed (alpha_D, alpha_N) the rest is a two-unknown NNLS on the transformed
//! data, scored on the loss's own scale. The search keeps a few transformed columns per row;
//! above `SEARCH_ROWS` rows it runs on an evenly strided subset of that many rows (a start
//! only: LM then fits every row), so its memory and time do not grow with the data.

use std::sync::atomic::AtomicBool;

use super::nnls::small_nnls;
use super::refine::{refine, Reduced};
use super::{exponent_grid, local_minima, Candidate};
use crate::law::Cols;
use crate::loss::Scale;
use crate::problem::Problem;

/// Rows the search looks at, at most.
const SEARCH_ROWS: usize = 1 << 14;

/// Starts for the Kaplan law, best first, and the passes over the data spent.
pub fn kaplan(pb: &Problem, keep: usize, cancel: Option<&AtomicBool>) -> (Vec<Candidate>, usize) {
    if crate::solver::block::stopped(cancel) {
        return (Vec::new(), 0);
    }
    let n = pb.n();
    let natural = |t: f64| match pb.loss.scale {
        Scale::Linear => t,
        Scale::Log => t.exp(),
    };
    // grid cells (16 x 16) each cost a pass over the rows searched
    let cost = |rows: usize| 256 * rows / n.max(1);
    if n <= SEARCH_ROWS {
        let y: Vec<f64> = pb.target.iter().map(|&t| natural(t)).collect();
        return (search(pb, &y, keep), cost(n));
    }
    let pick: Vec<usize> = (0..SEARCH_ROWS).map(|i| i * n / SEARCH_ROWS).collect();
    let take = |c: &[f64]| -> Vec<f64> {
        if c.is_empty() {
            Vec::new()
        } else {
            pick.iter().map(|&i| c[i]).collect()
        }
    };
    let x: Vec<Vec<f64>> = pb.cols.x.iter().map(|c| take(c)).collect();
    let logx: Vec<Vec<f64>> = pb.cols.logx.iter().map(|c| take(c)).collect();
    let target = take(pb.target);
    let weights = pb.weights.map(take);
    let cols = Cols {
        x: x.iter().map(|c| c.as_slice()).collect(),
        logx: logx.iter().map(|c| c.as_slice()).collect(),
    };
    let sub = Problem {
        cols: &cols,
        target: &target,
        weights: weights.as_deref(),
        ..*pb
    };
    let y: Vec<f64> = target.iter().map(|&t| natural(t)).collect();
    (search(&sub, &y, keep), cost(SEARCH_ROWS))
}

/// Kaplan: L^(1/alpha_D) = a N^-p + b/D with p = alpha_N/alpha_D, a = N_c^p, b = D_c, so for
/// fixed (p, alpha_D) the rest is a two-unknown NNLS on the transformed data.
fn search(pb: &Problem, y: &[f64], keep: usize) -> Vec<Candidate> {
    let n = y.len();
    // The grid runs over the two exponents themselves, not over (alpha_D, p): when one term
    // dominates, the valley of good fits follows alpha_N, so it runs along an axis here and
    // each cell's alpha_N is one of the grid's, instead of cutting diagonally across cells
    // whose products p * alpha_D miss it. Finer than the power sums' 2-D grid: ordinary cells
    // are not refined here (each starts LM as it is, beside its refinement).
    let m = 16;
    let qs = exponent_grid(pb, 3, m, 0.02, 1.5);
    let ans = exponent_grid(pb, 1, m, 0.02, 1.5);
    let mut ev = KaplanEval {
        y,
        wbase: y
            .iter()
            .enumerate()
            .map(|(i, &yi)| {
                let w = pb.weights.map_or(1.0, |w| w[i]);
                match pb.loss.scale {
                    Scale::Linear => w,
                    Scale::Log => w / (yi * yi),
                }
            })
            .collect(),
        weights: pb.weights,
        logn: pb.cols.logx[0],
        dinv: pb.cols.logx[1].iter().map(|l| (-l).exp()).collect(),
        log_scale: pb.loss.scale == Scale::Log,
        q: f64::NAN,
        p: f64::NAN,
        z: vec![0.0; n],
        w: vec![0.0; n],
        u: vec![0.0; n],
    };
    let dims = [qs.len(), ans.len()];
    let mut score = vec![f64::INFINITY; dims[0] * dims[1]];
    let mut sols = vec![[0.0f64; 2]; dims[0] * dims[1]];
    for (iq, &q) in qs.iter().enumerate() {
        for (ia, &an) in ans.iter().enumerate() {
            if let Some((sse, x)) = ev.try_axis(&[q, an], 1, an) {
                let cell = iq * dims[1] + ia;
                score[cell] = sse;
                sols[cell] = x;
            }
        }
    }
    let grids = [qs, ans];
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: Vec<Vec<f64>> = Vec::new();
    let to_params = |e: [f64; 2], x: [f64; 2]| {
        let [q, an] = e;
        let p = an / q;
        let a = if x[0] > 0.0 { x[0] } else { 1e-12 };
        let b = if x[1] > 0.0 { x[1] } else { 1e-12 };
        let mut params = vec![a.powf(1.0 / p), an, b, q];
        for (k, v) in params.iter_mut().enumerate() {
            *v = pb.spec.fixed[k].unwrap_or(pb.spec.clip(k, *v));
        }
        params
    };
    // Both the cell and its refinement start LM: Kaplan's landscape has nearby basins, and
    // either one alone was seen to lead LM into the wrong one (a refined cell can trade the D
    // term away; a coarse cell can sit too far off a steep alpha_N).
    for cell in local_minima(&score, &dims, keep) {
        let e0 = [grids[0][cell / dims[1]], grids[1][cell % dims[1]]];
        let x0 = sols[cell];
        let (mut e, mut x) = (e0, x0);
        let sse = refine(&mut ev, &grids, &mut e, &mut x, score[cell]);
        // a cell that drops the N term is a dead end for LM: only its refinement is kept
        let mut tries = if x0[0] > 0.0 {
            vec![(e0, x0, score[cell]), (e, x, sse)]
        } else {
            vec![(e, x, sse)]
        };
        // When the D term dominates, alpha_N is barely determined and the refinement can
        // settle in the wrong valley along it: the local minima of the profile over alpha_N
        // at the refined alpha_D start LM too.
        let profile: Vec<Option<(f64, [f64; 2])>> =
            grids[1].iter().map(|&an| ev.try_axis(&e, 1, an)).collect();
        let s = |j: usize| profile[j].map_or(f64::INFINITY, |p| p.0);
        for j in 0..profile.len() {
            let left = j == 0 || s(j - 1) >= s(j);
            let right = j + 1 == profile.len() || s(j + 1) >= s(j);
            if let (true, true, Some((sj, xj))) = (left, right, profile[j]) {
                if xj[0] > 0.0 {
                    tries.push(([e[0], grids[1][j]], xj, sj));
                }
            }
        }
        for (e, x, sse) in tries {
            if seen.iter().any(|o| o.as_slice() == e.as_slice()) {
                continue;
            }
            seen.push(e.to_vec());
            out.push(Candidate {
                params: to_params(e, x),
                sse,
            });
        }
    }
    out.sort_by(|a, b| a.sse.total_cmp(&b.sse));
    out
}

/// Kaplan's reduced objective at (q, alpha_N), q = alpha_D and p = alpha_N / q: NNLS for (a, b)
/// in z = y^(1/q) = a N^-p + b / D, scored on the loss's own scale.
struct KaplanEval<'a> {
    y: &'a [f64],
    wbase: Vec<f64>,
    weights: Option<&'a [f64]>,
    logn: &'a [f64],
    dinv: Vec<f64>,
    log_scale: bool,
    /// the q and p that z, w and u were computed for
    q: f64,
    p: f64,
    z: Vec<f64>,
    w: Vec<f64>,
    u: Vec<f64>,
}

impl KaplanEval<'_> {
    fn set_q(&mut self, q: f64) {
        if self.q == q {
            return;
        }
        for i in 0..self.y.len() {
            self.z[i] = self.y[i].powf(1.0 / q);
            // first-order map of a residual in z back to the loss's scale
            let dy = q * self.y[i] / self.z[i];
            self.w[i] = self.wbase[i] * dy * dy;
        }
        self.q = q;
    }

    fn set_p(&mut self, p: f64) {
        if self.p != p {
            crate::fastmath::pow_neg(self.logn, p, &mut self.u);
            self.p = p;
        }
    }

    /// Score and (a, b) at the current q with N^-p given in `u`.
    fn score(&self, u: &[f64]) -> Option<(f64, [f64; 2])> {
        let (z, w, dinv) = (&self.z, &self.w, &self.dinv);
        let (mut g00, mut g01, mut g11, mut b0, mut b1, mut yy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..z.len() {
            let wi = w[i];
            g00 += wi * u[i] * u[i];
            g01 += wi * u[i] * dinv[i];
            g11 += wi * dinv[i] * dinv[i];
            b0 += wi * u[i] * z[i];
            b1 += wi * dinv[i] * z[i];
            yy += wi * z[i] * z[i];
        }
        let mut x = [0.0; 2];
        let s = small_nnls(
            &[g00, g01, g01, g11],
            &[b0, b1],
            yy,
            2,
            &[true, true],
            &mut x,
        );
        if !s.is_finite() {
            return None;
        }
        // the linearised weights favour some q; score cells on the loss's own scale
        let q = self.q;
        let mut sse = 0.0;
        for i in 0..z.len() {
            let inner = x[0] * u[i] + x[1] * dinv[i];
            let r = if self.log_scale {
                q * inner.ln() - self.y[i].ln()
            } else {
                inner.powf(q) - self.y[i]
            };
            sse += self.weights.map_or(1.0, |w| w[i]) * r * r;
        }
        sse.is_finite().then_some((sse, x))
    }
}

impl Reduced for KaplanEval<'_> {
    type Sol = [f64; 2];

    fn prepare(&mut self, e: &[f64]) {
        self.set_q(e[0]);
        self.set_p(e[1] / e[0]);
    }

    fn try_axis(&mut self, e: &[f64], t: usize, v: f64) -> Option<(f64, [f64; 2])> {
        let (q, an) = if t == 0 { (v, e[1]) } else { (e[0], v) };
        self.set_q(q);
        self.set_p(an / q);
        let u = std::mem::take(&mut self.u);
        let out = self.score(&u);
        self.u = u;
        out
    }

    fn accept(&mut self, _t: usize, _v: f64) {}

    fn dropped(&self, x: &[f64; 2], t: usize) -> bool {
        t == 1 && x[0] <= 0.0 // alpha_N only acts through the N term's amplitude a
    }

    /// When one term dominates, the other's exponent is barely determined at the grid's
    /// alpha_D (the transform y^(1/alpha_D) amplifies a small error in alpha_D): rescan
    /// alpha_N once the refinement has moved alpha_D, and refine further.
    fn rescan(&self, t: usize) -> bool {
        t == 1
    }

    fn levels(&self) -> usize {
        6
    }
}
