//! The global start for laws without a structure the core knows (written laws that are not
//! power sums): a low-discrepancy design around the user's start, variable projection where
//! the law allows it, coordinate scans of the best design points, and Levenberg-Marquardt from
//! the best of them, with the ones that fall behind dropped early.
//!
//! 1. Parameters that enter the law linearly are found numerically: their Jacobian column does
//!    not change when they (all together) move. For any values of the others, they solve a
//!    linear least-squares problem, so the search only spans the nonlinear parameters.
//! 2. The design is the center (the user's `p0`, else the law's default start, else the middle
//!    of finite bounds) and an R_d low-discrepancy sequence (Roberts' generalised golden ratio)
//!    mapped to `SPREAD_DECADES` decades either side of the center on a log scale (uniform or
//!    log-uniform inside finite bounds). Each point gets its linear parameters by weighted
//!    least squares, then its cost on the real loss.
//! 3. The `SCANNED` best distinct design points are improved by coordinate scans: each
//!    nonlinear parameter in turn runs over `SCAN_POINTS` values across the design's range,
//!    then halving steps around the best, the others held (a narrow valley in one parameter,
//!    such as a period or a peak's location, is found this way where a sparse design in many
//!    dimensions misses it).
//! 4. LM runs from `p0` and from the scanned points and the next best design points (at most
//!    `LM_STARTS`, a tenth of a decade apart in some nonlinear parameter) for `STAGE_ITER`
//!    iterations. The runs that converged and the `SURVIVORS` best of those still running
//!    that are not already worse than a converged one go on to a full solve; the others are
//!    dominated and dropped. Of the full solves that reach the best cost, the one nearest
//!    `p0` gives the estimate (see `fit::solve_starts`).
//!
//! Everything is a deterministic function of the problem: the design, ties broken by index.

use std::sync::atomic::AtomicBool;

use crate::error::{Error, Result};
use crate::law::Cols;
use crate::linalg::{cholesky, cholesky_solve, dot};
use crate::loss::Scale;
use crate::problem::Problem;
use crate::solver::block::{self, tri, BLOCK};
use crate::solver::lm::{cost_at, lm, LmOptions, Workspace};

/// Half-width of the design around the center, in decades.
pub const SPREAD_DECADES: f64 = 3.0;
/// Design points LM starts from (besides `p0`).
pub const LM_STARTS: usize = 8;
/// Design points improved by coordinate scans.
pub const SCANNED: usize = 3;
/// Values per scan of one parameter across the design's range, and sweeps at most.
pub const SCAN_POINTS: usize = 96;
const SCAN_SWEEPS: usize = 4;
/// Halvings of the scan's step around the best value.
const SCAN_HALVINGS: usize = 5;
/// Iterations every start gets before the dominated ones are dropped.
pub const STAGE_ITER: usize = 20;
/// Unfinished starts that go on after the first stage.
pub const SURVIVORS: usize = 3;

/// Default design size for `d` nonlinear parameters.
pub fn default_design(d: usize) -> usize {
    if d == 0 {
        1
    } else {
        (64 * d).clamp(64, 512)
    }
}

/// Starting points for the full local solves, and the law evaluations the search spent.
/// `center` is the design's center (None: the middle of the bounds), `p0` the user's start
/// (always solved from), `design` the number of design points (0: `default_design`).
pub fn starts(
    pb: &Problem,
    center: Option<&[f64]>,
    p0: Option<&[f64]>,
    design: usize,
    lm_opts: &LmOptions,
    cancel: Option<&AtomicBool>,
) -> Result<(Vec<Vec<f64>>, usize)> {
    let free = pb.spec.free();
    let center: Vec<f64> = match center {
        Some(c) => c
            .iter()
            .enumerate()
            .map(|(k, &v)| pb.spec.fixed[k].unwrap_or_else(|| pb.spec.clip(k, v)))
            .collect(),
        None => bounded_center(pb, &free)?,
    };
    let mut fev = 0;
    let linear = linear_mask(pb, &center, &free, &mut fev);
    let lin: Vec<usize> = free.iter().copied().filter(|&k| linear[k]).collect();
    let mut s = Search {
        pb,
        nonlin: free.iter().copied().filter(|&k| !linear[k]).collect(),
        proj: Projection::new(pb, lin),
        c0: center,
        ws: Workspace::new(),
        fev,
        cancel,
    };
    let m = if design > 0 {
        design
    } else {
        default_design(s.nonlin.len())
    };
    let ranked = s.design(m);
    let picks = s.pick(ranked);
    let out = s.stage(p0, picks, lm_opts);
    Ok((out, s.fev))
}

/// State of one multistart search.
struct Search<'a> {
    pb: &'a Problem<'a>,
    c0: Vec<f64>,
    nonlin: Vec<usize>,
    proj: Projection<'a>,
    ws: Workspace,
    fev: usize,
    cancel: Option<&'a AtomicBool>,
}

impl Search<'_> {
    /// Projects the linear parameters of `q` and returns its cost (inf if it fails).
    fn evaluate(&mut self, q: &mut [f64]) -> f64 {
        if !self.proj.lin.is_empty() {
            self.fev += 1;
            if !self.proj.solve(q) {
                return f64::INFINITY;
            }
        }
        self.fev += 1;
        cost_at(self.pb, q, &mut self.ws)
    }

    /// The design's points with finite cost, best first (ties in design order).
    fn design(&mut self, m: usize) -> Vec<(f64, Vec<f64>)> {
        let alpha = rd_alpha(self.nonlin.len());
        let mut out: Vec<(f64, Vec<f64>)> = Vec::with_capacity(m.min(1 << 16));
        for i in 0..m {
            if block::stopped(self.cancel) {
                break;
            }
            let mut q = self.c0.clone();
            if i > 0 {
                for (j, &k) in self.nonlin.iter().enumerate() {
                    let u = (0.5 + i as f64 * alpha[j]).fract();
                    q[k] = place(self.pb, k, self.c0[k], u);
                }
            }
            let c = self.evaluate(&mut q);
            if c.is_finite() {
                out.push((c, q));
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// The best distinct design points, the first `SCANNED` of them improved by scans.
    fn pick(&mut self, ranked: Vec<(f64, Vec<f64>)>) -> Vec<Vec<f64>> {
        let mut chosen: Vec<Vec<f64>> = Vec::new();
        for (c, mut q) in ranked {
            if chosen.len() >= LM_STARTS {
                break;
            }
            if !chosen.iter().all(|o| distinct(o, &q, &self.nonlin)) {
                continue;
            }
            if chosen.len() < SCANNED {
                self.scan(&mut q, c);
                if !chosen.iter().all(|o| distinct(o, &q, &self.nonlin)) {
                    continue;
                }
            }
            chosen.push(q);
        }
        chosen
    }

    /// Coordinate scans of the nonlinear parameters from `q` (cost `cost`); updates `q`.
    fn scan(&mut self, q: &mut [f64], cost: f64) -> f64 {
        let mut best = cost;
        let mut trial = q.to_vec();
        let nonlin = self.nonlin.clone();
        for _ in 0..SCAN_SWEEPS {
            let mut moved = false;
            for &k in &nonlin {
                let width = 1.0 / SCAN_POINTS as f64;
                let mut tries: Vec<f64> = (0..SCAN_POINTS)
                    .map(|j| place(self.pb, k, self.c0[k], (j as f64 + 0.5) * width))
                    .collect();
                for level in 0..=SCAN_HALVINGS {
                    if level > 0 {
                        let u = unplace(self.pb, k, self.c0[k], q[k]);
                        let h = width * 0.5f64.powi(level as i32);
                        tries = vec![
                            place(self.pb, k, self.c0[k], u - h),
                            place(self.pb, k, self.c0[k], u + h),
                        ];
                    }
                    for &v in &tries {
                        if block::stopped(self.cancel) {
                            return best;
                        }
                        if v == q[k] || !v.is_finite() {
                            continue;
                        }
                        trial.copy_from_slice(q);
                        trial[k] = v;
                        let c = self.evaluate(&mut trial);
                        if c < best {
                            best = c;
                            q.copy_from_slice(&trial);
                            moved = true;
                        }
                    }
                }
            }
            if !moved {
                break;
            }
        }
        best
    }

    /// Short solves from `p0` and the picks; the starts of the full solves.
    fn stage(
        &mut self,
        p0: Option<&[f64]>,
        picks: Vec<Vec<f64>>,
        lm_opts: &LmOptions,
    ) -> Vec<Vec<f64>> {
        let stage = LmOptions {
            max_iter: STAGE_ITER.min(lm_opts.max_iter),
            ..*lm_opts
        };
        let mut done: Vec<Vec<f64>> = Vec::new();
        let mut running: Vec<(f64, Vec<f64>)> = Vec::new();
        let mut starts: Vec<Vec<f64>> = p0.map(|p| vec![p.to_vec()]).unwrap_or_default();
        if picks.is_empty() && starts.is_empty() {
            starts.push(self.c0.clone());
        }
        starts.extend(picks.iter().cloned());
        let mut best_done = f64::INFINITY;
        for s in &starts {
            let o = lm(self.pb, s, &stage, &mut self.ws, self.cancel);
            self.fev += o.nfev;
            if o.termination.is_success() {
                best_done = best_done.min(o.cost);
                done.push(o.params);
            } else if o.cost.is_finite() {
                running.push((o.cost, o.params));
            }
        }
        // a run still going that is already worse than one that converged is dominated
        running.retain(|r| r.0 < best_done);
        running.sort_by(|a, b| a.0.total_cmp(&b.0));
        running.truncate(SURVIVORS);
        done.extend(running.into_iter().map(|r| r.1));
        if done.is_empty() {
            // every start failed at once: the full solve from the first reports why
            done.push(starts.swap_remove(0));
        }
        done
    }
}

/// The middle of each free parameter's finite bounds (geometric when they span decades).
fn bounded_center(pb: &Problem, free: &[usize]) -> Result<Vec<f64>> {
    let p = pb.spec.n_params();
    let mut c: Vec<f64> = (0..p).map(|k| pb.spec.fixed[k].unwrap_or(0.0)).collect();
    for &k in free {
        let (lo, hi) = (pb.spec.lower[k], pb.spec.upper[k]);
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(Error::InvalidOption(format!(
                "law '{}' has no automatic start: give p0 (the center of the multistart \
                 search) or finite bounds for every free parameter ('{}' has none)",
                pb.law.name(),
                pb.law.param_names()[k]
            )));
        }
        c[k] = place(pb, k, 0.5 * (lo + hi), 0.5);
    }
    Ok(c)
}

/// The design's value of parameter k at u in [0, 1) around `center`.
fn place(pb: &Problem, k: usize, center: f64, u: f64) -> f64 {
    let (lo, hi) = (pb.spec.lower[k], pb.spec.upper[k]);
    let v = if lo.is_finite() && hi.is_finite() {
        if lo > 0.0 && hi / lo > 100.0 {
            (lo.ln() + u * (hi / lo).ln()).exp()
        } else {
            lo + u * (hi - lo)
        }
    } else if center != 0.0 {
        center * 10f64.powf(SPREAD_DECADES * (2.0 * u - 1.0))
    } else {
        2.0 * u - 1.0
    };
    pb.spec.clip(k, v)
}

/// The inverse of `place`: where value `v` of parameter k sits in the design's [0, 1) (outside
/// it for values beyond the design's range).
fn unplace(pb: &Problem, k: usize, center: f64, v: f64) -> f64 {
    let (lo, hi) = (pb.spec.lower[k], pb.spec.upper[k]);
    if lo.is_finite() && hi.is_finite() {
        if lo > 0.0 && hi / lo > 100.0 {
            (v / lo).ln() / (hi / lo).ln()
        } else {
            (v - lo) / (hi - lo)
        }
    } else if center != 0.0 && v / center > 0.0 {
        ((v / center).log10() / SPREAD_DECADES + 1.0) / 2.0
    } else if center != 0.0 {
        0.0
    } else {
        (v + 1.0) / 2.0
    }
}

/// Roberts' R_d increments: powers of 1/phi_d, phi_d the root of x^(d+1) = x + 1.
pub(crate) fn rd_alpha(d: usize) -> Vec<f64> {
    let mut phi = 2.0f64;
    for _ in 0..64 {
        phi = (1.0 + phi).powf(1.0 / (d as f64 + 1.0));
    }
    (1..=d)
        .map(|j| (1.0 / phi.powi(j as i32)).fract())
        .collect()
}

/// Whether two points differ by a tenth of a decade (or 10% of the larger magnitude, for
/// values of different signs) in some nonlinear parameter.
fn distinct(a: &[f64], b: &[f64], nonlin: &[usize]) -> bool {
    if nonlin.is_empty() {
        return false;
    }
    nonlin.iter().any(|&k| {
        let (x, y) = (a[k], b[k]);
        if x > 0.0 && y > 0.0 || x < 0.0 && y < 0.0 {
            (x / y).ln().abs() > 0.1 * std::f64::consts::LN_10
        } else {
            (x - y).abs() > 0.1 * x.abs().max(y.abs())
        }
    })
}

/// Parameters that enter linearly: free, unbounded, not log-parametrised, with a Jacobian
/// column that is not zero and does not change when all of them move together. Checked on
/// every row, block by block.
fn linear_mask(pb: &Problem, c0: &[f64], free: &[usize], fev: &mut usize) -> Vec<bool> {
    let p = c0.len();
    let mut mask = vec![false; p];
    let cand: Vec<usize> = free
        .iter()
        .copied()
        .filter(|&k| {
            !pb.spec.log_param[k]
                && pb.spec.lower[k] == f64::NEG_INFINITY
                && pb.spec.upper[k] == f64::INFINITY
        })
        .collect();
    if cand.is_empty() {
        return mask;
    }
    let mut c1 = c0.to_vec();
    for &k in &cand {
        c1[k] += if c0[k] != 0.0 { 0.5 * c0[k] } else { 1.0 };
    }
    // per candidate: max |J1 - J0| and max |J0| over the rows
    let nc = cand.len();
    let n = pb.n();
    let mut parts = Vec::new();
    let bufs = || {
        (
            vec![0.0; BLOCK.min(n.max(1)) * (2 * p + 1)],
            block::empty_view(),
        )
    };
    let mut scratch = bufs();
    let mut worst = vec![0.0f64; 2 * nc];
    block::run(
        n,
        &mut worst,
        &mut parts,
        &mut scratch,
        bufs,
        |(buf, cb), rows, slot| {
            let m = rows.len();
            block::view(pb.cols, rows.clone(), cb);
            let (f, rest) = buf.split_at_mut(m);
            let (j0, rest) = rest.split_at_mut(m * p);
            let j1 = &mut rest[..m * p];
            let t = &pb.target[rows.clone()];
            pb.law.eval_jac_fit(cb, t, pb.loss.scale, c0, f, j0);
            pb.law.eval_jac_fit(cb, t, pb.loss.scale, &c1, f, j1);
            for (a, &k) in cand.iter().enumerate() {
                let (x0, x1) = (&j0[k * m..(k + 1) * m], &j1[k * m..(k + 1) * m]);
                let mut d: f64 = 0.0;
                let mut s: f64 = 0.0;
                for i in 0..m {
                    // NaN wins both maxima: the column is then not linear
                    d = nan_max(d, (x1[i] - x0[i]).abs());
                    s = nan_max(s, x0[i].abs());
                }
                slot[2 * a] = d;
                slot[2 * a + 1] = s;
            }
        },
        |acc, slot| {
            for (a, v) in acc.iter_mut().zip(slot) {
                *a = nan_max(*a, *v);
            }
        },
        None,
    );
    *fev += 2;
    for (a, &k) in cand.iter().enumerate() {
        let (d, s) = (worst[2 * a], worst[2 * a + 1]);
        mask[k] = s > 0.0 && s.is_finite() && d <= 1e-9 * s;
    }
    mask
}

/// max(a, b), NaN if either is.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Weighted least squares for the linear parameters at given nonlinear ones.
struct Projection<'a> {
    pb: &'a Problem<'a>,
    lin: Vec<usize>,
    parts: Vec<f64>,
}

impl<'a> Projection<'a> {
    fn new(pb: &'a Problem<'a>, lin: Vec<usize>) -> Self {
        Projection {
            pb,
            lin,
            parts: Vec::new(),
        }
    }

    /// Replaces the linear parameters of `q` by their least-squares values (on the natural
    /// scale of y, weighted by 1/y^2 for log losses). False if the system is singular or
    /// not finite.
    fn solve(&mut self, q: &mut [f64]) -> bool {
        let (pb, lin) = (self.pb, self.lin.as_slice());
        let l = lin.len();
        let p = q.len();
        let n = pb.n();
        let stride = l + l * (l + 1) / 2;
        let qv: &[f64] = q;
        let bufs = || {
            (
                vec![0.0; BLOCK.min(n.max(1)) * (p + 2)],
                block::empty_view(),
            )
        };
        let mut scratch = bufs();
        let kernel =
            |buf: &mut Vec<f64>, cb: &Cols, rows: std::ops::Range<usize>, slot: &mut [f64]| {
                let m = rows.len();
                let (f, rest) = buf.split_at_mut(m);
                let (jac, rest) = rest.split_at_mut(m * p);
                let resp = &mut rest[..m];
                let t = &pb.target[rows.clone()];
                pb.law.eval_jac_fit(cb, t, pb.loss.scale, qv, f, jac);
                // response: y minus the law without its linear part, times sqrt(weight)
                match pb.loss.scale {
                    Scale::Linear => resp.copy_from_slice(t),
                    Scale::Log => crate::fastmath::exp_slice(t, resp),
                }
                for i in 0..m {
                    let mut phi0 = f[i];
                    for &k in lin {
                        phi0 -= qv[k] * jac[k * m + i];
                    }
                    let w = pb.weights.map_or(1.0, |w| w[rows.start + i]);
                    let w = match pb.loss.scale {
                        Scale::Linear => w,
                        Scale::Log => w / (resp[i] * resp[i]),
                    };
                    let sw = w.sqrt();
                    resp[i] = sw * (resp[i] - phi0);
                    f[i] = sw;
                }
                for &k in lin {
                    for (v, s) in jac[k * m..(k + 1) * m].iter_mut().zip(f.iter()) {
                        *v *= s;
                    }
                }
                for (a, &ka) in lin.iter().enumerate() {
                    let ca = &jac[ka * m..(ka + 1) * m];
                    slot[a] = dot(ca, resp);
                    for (b, &kb) in lin[..=a].iter().enumerate() {
                        slot[l + tri(a, b)] = dot(ca, &jac[kb * m..(kb + 1) * m]);
                    }
                }
            };
        let mut s = vec![0.0; stride];
        block::sum(
            n,
            &mut s,
            &mut self.parts,
            &mut scratch,
            bufs,
            |(buf, cb), rows, slot| {
                block::view(pb.cols, rows.clone(), cb);
                kernel(buf, cb, rows, slot);
            },
            None,
        );
        let mut g = vec![0.0; l * l];
        for a in 0..l {
            for b in 0..=a {
                let v = s[l + tri(a, b)];
                g[a * l + b] = v;
                g[b * l + a] = v;
            }
            // a light ridge keeps nearly collinear columns solvable
            g[a * l + a] *= 1.0 + 1e-12;
        }
        let mut x = s[..l].to_vec();
        if !cholesky(&mut g, l) {
            return false;
        }
        cholesky_solve(&g, l, &mut x);
        if x.iter().any(|v| !v.is_finite()) {
            return false;
        }
        for (a, &k) in lin.iter().enumerate() {
            q[k] = x[a];
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rd_sequence_fills_the_cube() {
        let a = rd_alpha(2);
        let mut cells = [[0usize; 4]; 4];
        for i in 1..=160 {
            let u = (0.5 + i as f64 * a[0]).fract();
            let v = (0.5 + i as f64 * a[1]).fract();
            cells[(u * 4.0) as usize][(v * 4.0) as usize] += 1;
        }
        for row in cells {
            for c in row {
                assert!((7..=13).contains(&c), "{cells:?}");
            }
        }
    }

    #[test]
    fn distinct_points() {
        assert!(!distinct(&[1.0, 5.0], &[1.1, 5.0], &[0]));
        assert!(distinct(&[1.0, 5.0], &[2.0, 5.0], &[0]));
        assert!(distinct(&[1.0], &[-1.0], &[0]));
        assert!(!distinct(&[1.0], &[9.0], &[]));
    }
}
