//! Refinement of grid cells on the projected objective. Refining the best cells on this
//! reduced functional matters when the grid is coarse next to a narrow valley: a cell a
//! half-step off the true exponents can prefer to drop a term altogether, and LM cannot regrow
//! a term from an amplitude of zero.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use super::nnls::{nnls, Sol, MAX_UNKNOWNS};
use super::powersum::PowerSum;
use super::tables::Rows;
use crate::fastmath::{dots, pow_neg_scaled};
use crate::linalg::dot;
use crate::solver::block::{self, tri, BLOCK};

/// Halvings of the grid step when a cell is refined.
const REFINE_LEVELS: usize = 3;

/// Rows up to which the projector keeps each term's weighted powers (a few columns of this
/// length); above it every evaluation recomputes them block by block.
const CACHE_ROWS: usize = 1 << 14;

/// Unknowns of the usual power sums (a constant and up to three terms).
const SMALL: usize = 4;

/// Length of [y'y, b, G packed] for `m` unknowns.
const fn packed(m: usize) -> usize {
    1 + m + m * (m + 1) / 2
}

/// A reduced (variable-projection) objective over exponents, for `refine`.
pub trait Reduced {
    /// The linear part of the solution at a point.
    type Sol: Copy;
    /// Called once with the cell's exponents before any trial.
    fn prepare(&mut self, e: &[f64]);
    /// The objective and solution with exponent `t` moved to `v` (the others as in `e`).
    fn try_axis(&mut self, e: &[f64], t: usize, v: f64) -> Option<(f64, Self::Sol)>;
    /// The last trial (of exponent t at v) becomes the current point.
    fn accept(&mut self, t: usize, v: f64);
    /// Whether exponent `t` has no effect at this solution (its term dropped).
    fn dropped(&self, x: &Self::Sol, t: usize) -> bool;
    /// Whether exponent `t` is rescanned over its whole grid at the first level, whatever
    /// the solution (for an exponent the objective barely determines).
    fn rescan(&self, _t: usize) -> bool {
        false
    }
    /// Halvings of the grid step.
    fn levels(&self) -> usize {
        REFINE_LEVELS
    }
}

/// Coordinate refinement of a grid cell on the reduced objective: each free exponent tries
/// half a grid step either side, then a quarter, ...; an exponent whose term is dropped (so
/// the objective does not depend on it) is rescanned over its whole grid instead, since the
/// other exponents have moved. The reduced objective re-solves the linear unknowns at every
/// trial, so this is cheap and cannot fall into the trap that stops LM: a coarse cell a
/// half-step off the true exponents may prefer to drop a term altogether, and LM cannot regrow
/// a term from an amplitude of zero. Updates `e` and `x`; returns the objective.
pub fn refine<R: Reduced>(
    r: &mut R,
    grids: &[Vec<f64>],
    e: &mut [f64],
    x: &mut R::Sol,
    start: f64,
) -> f64 {
    r.prepare(e);
    let mut best = start;
    let mut trials: Vec<f64> = Vec::with_capacity(64);
    for level in 0..r.levels() {
        for t in 0..e.len() {
            let g = &grids[t];
            if g.len() < 2 {
                continue; // a fixed exponent
            }
            let (lo, hi) = (g[0], g[g.len() - 1]);
            trials.clear();
            if r.dropped(x, t) || (level == 0 && r.rescan(t)) {
                trials.extend(g.iter().copied());
            } else {
                let half = 0.5f64.powi(level as i32 + 1);
                if lo > 0.0 {
                    let f = ((g[1] / g[0]).ln() * half).exp();
                    trials.extend([e[t] / f, e[t] * f]);
                } else {
                    let h = (g[1] - g[0]) * half;
                    trials.extend([e[t] - h, e[t] + h]);
                }
            }
            for &v in &trials {
                if !(v >= lo && v <= hi) || v == e[t] {
                    continue;
                }
                if let Some((s, xt)) = r.try_axis(e, t, v) {
                    if s < best {
                        best = s;
                        e[t] = v;
                        *x = xt;
                        r.accept(t, v);
                    }
                }
            }
        }
    }
    best
}

/// The projected power-sum problem (constant and amplitudes by NNLS) at arbitrary exponents.
/// Up to `CACHE_ROWS` rows it keeps each term's weighted powers at the current exponents, so a
/// trial recomputes one term; above, a trial is one block pass computing every term.
pub struct Projector<'a> {
    ps: &'a PowerSum<'a>,
    rows: Rows<'a>,
    logx: Vec<&'a [f64]>,
    cancel: Option<&'a AtomicBool>,
    /// current exponents and, while a trial is pending, the trial's term and exponent
    e: Vec<f64>,
    trial: Option<(usize, f64)>,
    cache: Option<Cache>,
    parts: Vec<f64>,
    passes: usize,
}

/// Whole columns for small problems: sqrt weights, weighted response, powers per term, the
/// trial term's powers and scratch.
struct Cache {
    sw: Vec<f64>,
    yr: Vec<f64>,
    u: Vec<Vec<f64>>,
    trial: Vec<f64>,
    resp: Vec<f64>,
    /// [y'y, b, G packed] at the current exponents and at the pending trial, when every
    /// amplitude is free (then a trial changes one row and column of G and one entry of b)
    cur: Option<Vec<f64>>,
    pend: Vec<f64>,
}

impl<'a> Projector<'a> {
    pub fn new(ps: &'a PowerSum<'a>, cancel: Option<&'a AtomicBool>) -> Self {
        Self::build(ps, cancel, ps.pb.n() <= CACHE_ROWS)
    }

    /// A projector for one evaluation: every trial is a block pass, nothing is cached.
    pub fn single(ps: &'a PowerSum<'a>, cancel: Option<&'a AtomicBool>) -> Self {
        Self::build(ps, cancel, false)
    }

    fn build(ps: &'a PowerSum<'a>, cancel: Option<&'a AtomicBool>, cached: bool) -> Self {
        let n = ps.pb.n();
        let k = ps.k();
        let rows = ps.rows();
        let cache = cached.then(|| {
            let (mut sw, mut yr) = (vec![0.0; n], vec![0.0; n]);
            rows.fill(0..n, &mut sw, &mut yr);
            Cache {
                sw,
                yr,
                u: vec![vec![0.0; n]; k],
                trial: vec![0.0; n],
                resp: vec![0.0; n],
                cur: None,
                pend: Vec::new(),
            }
        });
        Projector {
            ps,
            rows,
            logx: ps.logx(),
            cancel,
            e: vec![f64::NAN; k],
            trial: None,
            cache,
            parts: Vec::new(),
            passes: 0,
        }
    }

    /// Passes over the data so far, in evaluations of one term at every row.
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// The basis (sqrt-weight column if the constant is free, then the free amplitudes'
    /// columns) and which unknowns are non-negative.
    fn layout(&self) -> (usize, [bool; MAX_UNKNOWNS]) {
        let mut nonneg = [false; MAX_UNKNOWNS];
        nonneg[0] = self.ps.const_nonneg;
        let mut mm = usize::from(self.ps.const_free);
        for a in &self.ps.fixed_amp {
            if a.is_none() {
                nonneg[mm] = true;
                mm += 1;
            }
        }
        (mm, nonneg)
    }

    /// [y'y, b (mm), G packed] of one stretch of rows, given its sqrt weights, weighted
    /// response and the terms' weighted powers.
    fn gram(
        ps: &PowerSum,
        sw: &[f64],
        yr: &[f64],
        cols: &[&[f64]],
        resp: &mut [f64],
        out: &mut [f64],
    ) {
        let mm = usize::from(ps.const_free) + ps.fixed_amp.iter().filter(|a| a.is_none()).count();
        resp.copy_from_slice(yr);
        let mut basis: [&[f64]; MAX_UNKNOWNS] = [sw; MAX_UNKNOWNS];
        let mut j = usize::from(ps.const_free);
        for (t, c) in cols.iter().enumerate() {
            match ps.fixed_amp[t] {
                Some(a) => resp.iter_mut().zip(c.iter()).for_each(|(r, v)| *r -= a * v),
                None => {
                    basis[j] = c;
                    j += 1;
                }
            }
        }
        out[0] = dot(resp, resp);
        for a in 0..mm {
            out[1 + a] = dot(basis[a], resp);
            for c in 0..=a {
                out[1 + mm + tri(a, c)] = dot(basis[a], basis[c]);
            }
        }
    }

    /// The objective at the current exponents with the pending trial applied.
    fn eval(&mut self) -> Option<(f64, Sol)> {
        // the sums and the Gram matrix live on the stack, sized for the common few unknowns:
        // zeroing arrays sized for the most unknowns cost more than a small system's solve
        if self.layout().0 <= SMALL {
            self.eval_sized::<{ packed(SMALL) }, { SMALL * SMALL }>()
        } else {
            self.eval_sized::<{ packed(MAX_UNKNOWNS) }, { MAX_UNKNOWNS * MAX_UNKNOWNS }>()
        }
    }

    /// `eval` with room for `S` packed sums and a Gram matrix of `G` entries.
    fn eval_sized<const S: usize, const G: usize>(&mut self) -> Option<(f64, Sol)> {
        let ps = self.ps;
        let k = ps.k();
        let (mm, nonneg) = self.layout();
        let stride = packed(mm);
        let mut s = [0.0f64; S];
        let s = &mut s[..stride];
        let trial = self.trial;
        if let Some(c) = &mut self.cache {
            let Cache {
                sw,
                yr,
                u,
                trial: tr,
                resp,
                cur,
                pend,
            } = c;
            let incremental = ps.fixed_amp.iter().all(|a| a.is_none());
            if incremental && cur.is_none() {
                let cols: [&[f64]; MAX_UNKNOWNS] =
                    std::array::from_fn(|t| if t < k { &u[t][..] } else { &[][..] });
                Self::gram(ps, sw, yr, &cols[..k], resp, s);
                *cur = Some(s.to_vec());
            }
            match (incremental, cur.as_deref(), trial) {
                (true, Some(base), Some((t, _))) => {
                    // the trial column replaces term t's in the basis
                    s.copy_from_slice(base);
                    let cf = usize::from(ps.const_free);
                    let j = cf + t;
                    // the trial column against the response and every basis column
                    let mut with: [&[f64]; MAX_UNKNOWNS + 1] = [yr; MAX_UNKNOWNS + 1];
                    for (col, w) in with[1..=mm].iter_mut().enumerate() {
                        *w = if col == j {
                            tr
                        } else if col < cf {
                            sw
                        } else {
                            &u[col - cf]
                        };
                    }
                    let mut v = [0.0; MAX_UNKNOWNS + 1];
                    dots(tr, &with[..=mm], &mut v[..=mm]);
                    s[1 + j] = v[0];
                    for col in 0..mm {
                        s[1 + mm + tri(j.max(col), j.min(col))] = v[1 + col];
                    }
                    pend.clear();
                    pend.extend_from_slice(s);
                }
                (true, Some(base), None) => s.copy_from_slice(base),
                _ => {
                    let mut cols: [&[f64]; MAX_UNKNOWNS] = [&[]; MAX_UNKNOWNS];
                    for t in 0..k {
                        cols[t] = match trial {
                            Some((tt, _)) if tt == t => tr,
                            _ => &u[t],
                        };
                    }
                    Self::gram(ps, sw, yr, &cols[..k], resp, s);
                }
            }
        } else {
            let e: Vec<f64> = (0..k)
                .map(|t| match trial {
                    Some((tt, v)) if tt == t => v,
                    _ => self.e[t],
                })
                .collect();
            self.passes += k;
            let (rows, logx, n) = (self.rows, &self.logx, ps.pb.n());
            let bufs = || (vec![0.0; (k + 3) * BLOCK.min(n.max(1))], Vec::new());
            let mut scratch = bufs();
            let ok = block::sum(
                n,
                s,
                &mut self.parts,
                &mut scratch,
                bufs,
                |(buf, _): &mut (Vec<f64>, Vec<f64>), r: Range<usize>, slot| {
                    let m = r.len();
                    let (sw, rest) = buf.split_at_mut(m);
                    let (yr, rest) = rest.split_at_mut(m);
                    let (resp, rest) = rest.split_at_mut(m);
                    rows.fill(r.clone(), sw, yr);
                    for t in 0..k {
                        pow_neg_scaled(
                            &logx[t][r.clone()],
                            e[t],
                            sw,
                            &mut rest[t * m..(t + 1) * m],
                        );
                    }
                    let cols: Vec<&[f64]> = (0..k).map(|t| &rest[t * m..(t + 1) * m]).collect();
                    Self::gram(ps, sw, yr, &cols, resp, slot);
                },
                self.cancel,
            );
            if !ok {
                return None;
            }
        }
        let yy = s[0];
        let mut x = [0.0f64; MAX_UNKNOWNS];
        if mm == 0 {
            return yy.is_finite().then_some((yy, x));
        }
        let mut g = [0.0f64; G];
        for a in 0..mm {
            for c in 0..=a {
                let v = s[1 + mm + tri(a, c)];
                g[a * mm + c] = v;
                g[c * mm + a] = v;
            }
        }
        let sse = nnls(&g[..mm * mm], &s[1..1 + mm], yy, mm, &nonneg[..mm], &mut x);
        sse.is_finite().then_some((sse, x))
    }
}

impl Projector<'_> {
    /// The projected objective and the linear unknowns at exponents `e`.
    pub fn at(&mut self, e: &[f64]) -> Option<(f64, Sol)> {
        self.prepare(e);
        self.eval()
    }
}

impl Reduced for Projector<'_> {
    type Sol = Sol;

    fn prepare(&mut self, e: &[f64]) {
        for (t, &v) in e.iter().enumerate() {
            if self.e[t] != v {
                if let Some(c) = &mut self.cache {
                    pow_neg_scaled(self.logx[t], v, &c.sw, &mut c.u[t]);
                    c.cur = None;
                    self.passes += 1;
                }
                self.e[t] = v;
            }
        }
        self.trial = None;
    }

    fn try_axis(&mut self, _e: &[f64], t: usize, v: f64) -> Option<(f64, Sol)> {
        if let Some(c) = &mut self.cache {
            pow_neg_scaled(self.logx[t], v, &c.sw, &mut c.trial);
            self.passes += 1;
        }
        self.trial = Some((t, v));
        self.eval()
    }

    fn accept(&mut self, t: usize, v: f64) {
        if let Some(c) = &mut self.cache {
            std::mem::swap(&mut c.u[t], &mut c.trial);
            if let Some(cur) = &mut c.cur {
                cur.copy_from_slice(&c.pend);
            }
        }
        self.e[t] = v;
        self.trial = None;
    }

    fn dropped(&self, x: &Sol, t: usize) -> bool {
        let fixed = &self.ps.fixed_amp;
        if fixed[t].is_some() {
            return false;
        }
        let slot = usize::from(self.ps.const_free) + (0..t).filter(|&s| fixed[s].is_none()).count();
        x[slot] <= 0.0
    }
}
