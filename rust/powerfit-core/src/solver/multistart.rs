//! The global start for laws without a structure the core knows (written laws that are not
//! power sums): a low-discrepancy design around the user's start, variable projection where
//! the law allows it, and Levenberg-Marquardt from the best design points, with the ones that
//! fall behind dropped early.
//!
//! 1. Parameters that enter the law linearly are found numerically: their Jacobian column does
//!    not change when they (all together) move. For any values of the others, they solve a
//!    linear least-squares problem, so the design only spans the nonlinear parameters.
//! 2. The design is the center (the user's `p0`, else the law's default start, else the middle
//!    of finite bounds) and an R_d low-discrepancy sequence (Roberts' generalised golden ratio)
//!    mapped to `SPREAD_DECADES` decades either side of the center on a log scale (uniform or
//!    log-uniform inside finite bounds). Each point gets its linear parameters by weighted
//!    least squares, then its cost on the real loss.
//! 3. LM runs from `p0` and from the best `LM_STARTS` design points that are distinct (a tenth
//!    of a decade apart in some nonlinear parameter) for `STAGE_ITER` iterations. Runs that
//!    converged, and the `SURVIVORS` best of those still running, go on to a full solve; the
//!    others are dominated and dropped.
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
/// Iterations every start gets before the dominated ones are dropped.
pub const STAGE_ITER: usize = 20;
/// Unfinished starts that go on after the first stage.
pub const SURVIVORS: usize = 3;

/// Default design size for `d` nonlinear parameters.
pub fn default_design(d: usize) -> usize {
    if d == 0 {
        1
    } else {
        (128 * d).clamp(128, 1024)
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
    let p = pb.spec.n_params();
    let free = pb.spec.free();
    let center = match center {
        Some(c) => c
            .iter()
            .enumerate()
            .map(|(k, &v)| pb.spec.clip(k, v))
            .collect(),
        None => bounded_center(pb, &free)?,
    };
    let mut c0 = center.clone();
    for (k, v) in c0.iter_mut().enumerate() {
        if let Some(f) = pb.spec.fixed[k] {
            *v = f;
        }
    }
    let mut ws = Workspace::new();
    let mut fev = 0;
    let linear = linear_mask(pb, &c0, &free, &mut fev);
    let nonlin: Vec<usize> = free.iter().copied().filter(|&k| !linear[k]).collect();
    let lin: Vec<usize> = free.iter().copied().filter(|&k| linear[k]).collect();
    let m = if design > 0 {
        design
    } else {
        default_design(nonlin.len())
    };
    let alpha = rd_alpha(nonlin.len());
    let mut design: Vec<(f64, Vec<f64>)> = Vec::with_capacity(m.min(1 << 16));
    let mut proj = Projection::new(pb, &lin);
    for i in 0..m {
        if block::stopped(cancel) {
            break;
        }
        let mut q = c0.clone();
        if i > 0 {
            for (j, &k) in nonlin.iter().enumerate() {
                let u = (0.5 + i as f64 * alpha[j]).fract();
                q[k] = place(pb, k, c0[k], u);
            }
        }
        if !lin.is_empty() {
            fev += 1;
            if !proj.solve(&mut q) {
                continue;
            }
        }
        fev += 1;
        let c = cost_at(pb, &q, &mut ws);
        if c.is_finite() {
            design.push((c, q));
        }
    }
    // stable sort: ties keep design order
    design.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut chosen: Vec<Vec<f64>> = Vec::new();
    for (_, q) in &design {
        if chosen.len() >= LM_STARTS {
            break;
        }
        if chosen.iter().all(|o| distinct(o, q, &nonlin)) {
            chosen.push(q.clone());
        }
    }
    let mut first: Vec<Vec<f64>> = Vec::new();
    if let Some(p0) = p0 {
        first.push(p0.to_vec());
    } else if chosen.is_empty() {
        first.push(c0.clone());
    }
    first.extend(chosen);
    // stage one: a short solve from every start, then drop the dominated ones
    let stage = LmOptions {
        max_iter: STAGE_ITER.min(lm_opts.max_iter),
        ..*lm_opts
    };
    let mut done: Vec<Vec<f64>> = Vec::new();
    let mut running: Vec<(f64, Vec<f64>)> = Vec::new();
    for s in &first {
        let o = lm(pb, s, &stage, &mut ws, cancel);
        fev += o.nfev;
        if o.termination.is_success() {
            done.push(o.params);
        } else if o.cost.is_finite() {
            running.push((o.cost, o.params));
        }
    }
    running.sort_by(|a, b| a.0.total_cmp(&b.0));
    running.truncate(SURVIVORS);
    done.extend(running.into_iter().map(|r| r.1));
    if done.is_empty() {
        // every start failed at once: let the caller's solve report why, from p0 or the center
        done.push(first.swap_remove(0));
    }
    debug_assert!(done.iter().all(|d| d.len() == p));
    Ok((done, fev))
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

/// Roberts' R_d increments: powers of 1/phi_d, phi_d the root of x^(d+1) = x + 1.
fn rd_alpha(d: usize) -> Vec<f64> {
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
    block::run(
        n,
        2 * nc,
        &mut parts,
        &mut scratch,
        bufs,
        |(buf, cb), rows, slot| {
            let m = rows.len();
            block::view(pb.cols, rows, cb);
            let (f, rest) = buf.split_at_mut(m);
            let (j0, rest) = rest.split_at_mut(m * p);
            let j1 = &mut rest[..m * p];
            pb.law.eval_jac(cb, c0, f, j0);
            pb.law.eval_jac(cb, &c1, f, j1);
            for (a, &k) in cand.iter().enumerate() {
                let (x0, x1) = (&j0[k * m..(k + 1) * m], &j1[k * m..(k + 1) * m]);
                let mut d: f64 = 0.0;
                let mut s: f64 = 0.0;
                for i in 0..m {
                    // NaN makes the column non-linear (the comparison below fails)
                    d = if (x1[i] - x0[i]).abs() <= d {
                        d
                    } else {
                        (x1[i] - x0[i]).abs()
                    };
                    s = if x0[i].abs() <= s { s } else { x0[i].abs() };
                }
                slot[2 * a] = d;
                slot[2 * a + 1] = s;
            }
        },
        None,
    );
    *fev += 2;
    let mut worst = vec![0.0f64; 2 * nc];
    for slot in parts.chunks_exact(2 * nc) {
        for (w, v) in worst.iter_mut().zip(slot) {
            *w = if *v <= *w { *w } else { *v };
        }
    }
    for (a, &k) in cand.iter().enumerate() {
        let (d, s) = (worst[2 * a], worst[2 * a + 1]);
        mask[k] = s > 0.0 && s.is_finite() && d <= 1e-9 * s;
    }
    mask
}

/// Weighted least squares for the linear parameters at given nonlinear ones.
struct Projection<'a> {
    pb: &'a Problem<'a>,
    lin: &'a [usize],
    parts: Vec<f64>,
}

impl<'a> Projection<'a> {
    fn new(pb: &'a Problem<'a>, lin: &'a [usize]) -> Self {
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
        let (pb, lin) = (self.pb, self.lin);
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
                pb.law.eval_jac(cb, qv, f, jac);
                // response: y minus the law without its linear part, times sqrt(weight)
                let t = &pb.target[rows.clone()];
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
        block::run(
            n,
            stride,
            &mut self.parts,
            &mut scratch,
            bufs,
            |(buf, cb), rows, slot| {
                block::view(pb.cols, rows.clone(), cb);
                kernel(buf, cb, rows, slot);
            },
            None,
        );
        let mut s = vec![0.0; stride];
        block::reduce(&self.parts, stride, &mut s);
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
