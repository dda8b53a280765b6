//! Levenberg-Marquardt with Moré's column scaling and Nielsen's damping update, on the
//! internal (log-parametrised, free-only) coordinates. Robust losses enter by IRLS row
//! weights (Triggs correction with rho'' <= 0), so every step is a Gauss-Newton step.
//!
//! The data are visited in blocks of rows (`block`): one pass evaluates the law and its
//! Jacobian on a block and adds the block's cost, gradient and J^T J to its own slot, so the
//! solver holds no per-row state, its memory does not grow with the number of rows, and its
//! result does not depend on the number of threads. Buffers live in a reusable `Workspace`: no
//! allocation per iteration.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use crate::fastmath::{ln_slice, normal_eq, NORMAL_EQ_MAX};
use crate::law::Cols;
use crate::linalg::{by_order, cholesky, cholesky_solve, dot, Dim, Dyn, Fixed};
use crate::loss::{Rho, Scale};
use crate::problem::Problem;
use crate::solver::block::{self, tri, BLOCK};
use crate::solver::fused::{self, Plan};

/// Why the solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Termination {
    /// Relative reduction of the cost (actual and predicted) below `ftol`.
    ConvergedCost,
    /// Relative step below `xtol`.
    ConvergedStep,
    /// Gradient orthogonal to the residual (cosine below `gtol`).
    ConvergedGradient,
    /// The data are fitted exactly (to rounding).
    ZeroResidual,
    /// No step reduces the cost any more although the model predicts it should: the cost is
    /// at its floor within rounding.
    NoFurtherReduction,
    MaxIterations,
    /// The law, its Jacobian or the loss is NaN or infinite (at the start, or at a point the
    /// solver reached).
    NonFinite,
    /// Interrupted by the caller (Ctrl-C).
    Interrupted,
    /// A parameter ran off to the edge of the representable range (see `runaway`): the data
    /// do not determine it, so the point where the solver stopped is not an optimum.
    Diverged,
}

impl Termination {
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Termination::ConvergedCost
                | Termination::ConvergedStep
                | Termination::ConvergedGradient
                | Termination::ZeroResidual
                | Termination::NoFurtherReduction
        )
    }

    /// snake_case name for Python.
    pub fn name(&self) -> &'static str {
        match self {
            Termination::ConvergedCost => "converged_cost",
            Termination::ConvergedStep => "converged_step",
            Termination::ConvergedGradient => "converged_gradient",
            Termination::ZeroResidual => "zero_residual",
            Termination::NoFurtherReduction => "no_further_reduction",
            Termination::MaxIterations => "max_iterations",
            Termination::NonFinite => "non_finite",
            Termination::Interrupted => "interrupted",
            Termination::Diverged => "diverged",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Termination::ConvergedCost => {
                "converged: the relative reduction of the cost is below ftol"
            }
            Termination::ConvergedStep => "converged: the relative step is below xtol",
            Termination::ConvergedGradient => {
                "converged: the gradient is orthogonal to the residuals within gtol"
            }
            Termination::ZeroResidual => "converged: the law fits the data exactly",
            Termination::NoFurtherReduction => {
                "converged: no step reduces the cost further (the cost is at its rounding floor)"
            }
            Termination::MaxIterations => "stopped: the maximum number of iterations was reached",
            Termination::NonFinite => {
                "failed: the law, its derivatives or the loss are not finite (at the starting \
                 point or where the parameters went)"
            }
            Termination::Interrupted => "stopped: interrupted",
            Termination::Diverged => {
                "failed: a parameter ran off to the edge of the representable range (the data \
                 do not determine it)"
            }
        }
    }

    pub fn code(&self) -> u8 {
        *self as u8
    }

    pub fn from_code(c: u8) -> Option<Termination> {
        use Termination::*;
        [
            ConvergedCost,
            ConvergedStep,
            ConvergedGradient,
            ZeroResidual,
            NoFurtherReduction,
            MaxIterations,
            NonFinite,
            Interrupted,
            Diverged,
        ]
        .get(c as usize)
        .copied()
    }
}

/// Stopping rules. All are relative, so rescaling y (and the amplitudes with it) or the
/// weights does not move the stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmOptions {
    pub ftol: f64,
    pub xtol: f64,
    pub gtol: f64,
    pub max_iter: usize,
}

impl Default for LmOptions {
    fn default() -> Self {
        LmOptions {
            ftol: 1e-10,
            xtol: 1e-10,
            gtol: 1e-10,
            max_iter: 200,
        }
    }
}

/// The result of one local solve, in natural parameters (fixed ones included).
#[derive(Debug, Clone, PartialEq)]
pub struct LmOutcome {
    pub params: Vec<f64>,
    pub cost: f64,
    pub n_iter: usize,
    pub nfev: usize,
    pub termination: Termination,
    /// For least-squares losses, the last pass's sums at `params`: sum w e^2, then J^T W J
    /// over the free parameters (packed, internal coordinates), for the covariance.
    pub information: Option<Vec<f64>>,
}

/// A positive (log-parametrised) parameter is kept within e^+-LOG_LIMIT (about 1e+-300), so
/// it stays finite; one that reaches the limit has run away.
pub const LOG_LIMIT: f64 = 690.0;

/// A parameter on the natural scale beyond this magnitude has run away.
pub const VALUE_LIMIT: f64 = 1e300;

/// Free parameters that ran off to the edge of the representable range: a log-parametrised
/// one at e^+-LOG_LIMIT (within rounding), any other beyond +-VALUE_LIMIT or not finite.
pub fn runaway(pb: &Problem, params: &[f64]) -> Vec<usize> {
    (0..params.len())
        .filter(|&k| is_runaway(pb, params, k))
        .collect()
}

fn is_runaway(pb: &Problem, params: &[f64], k: usize) -> bool {
    let v = params[k];
    if pb.spec.fixed[k].is_some() {
        return false;
    }
    if !v.is_finite() {
        return true;
    }
    if pb.spec.log_param[k] {
        // |ln v| >= LOG_LIMIT (1 - 1e-9), without the logarithm
        const HI: f64 = 4.604_603_227_605_764e299; // e^(690 (1 - 1e-9))
        v > 0.0 && (v >= HI || v <= 1.0 / HI)
    } else {
        v.abs() >= VALUE_LIMIT
    }
}

fn any_runaway(pb: &Problem, params: &[f64]) -> bool {
    (0..params.len()).any(|k| is_runaway(pb, params, k))
}

/// Per-block buffers of one thread.
#[derive(Debug, Default, Clone)]
pub(crate) struct BlockBufs {
    f: Vec<f64>,
    jac: Vec<f64>,
    e: Vec<f64>,
    row: Vec<f64>,
    r: Vec<f64>,
    gw: Vec<f64>,
}

impl BlockBufs {
    fn prepare(&mut self, rows: usize, p: usize) {
        for v in [
            &mut self.f,
            &mut self.e,
            &mut self.row,
            &mut self.r,
            &mut self.gw,
        ] {
            if v.len() < rows {
                v.resize(rows, 0.0);
            }
        }
        if self.jac.len() < rows * p {
            self.jac.resize(rows * p, 0.0);
        }
    }
}

/// Buffers for one thread's solves, grown on demand and reused.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    bufs: BlockBufs,
    parts: Vec<f64>,
    /// Sums of a pass at the current point and at the trial point (`Sums` layout).
    acc: Vec<f64>,
    acc_t: Vec<f64>,
    p: Vec<f64>,
    p_t: Vec<f64>,
    theta: Vec<f64>,
    theta_t: Vec<f64>,
    step: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    diag: Vec<f64>,
    mag: Vec<f64>,
    chain: Vec<f64>,
    chain_t: Vec<f64>,
    h: Vec<f64>,
    a: Vec<f64>,
    free: Vec<usize>,
    /// The fused pass for power sums, when it applies to the current problem.
    plan: Option<Plan>,
}

thread_local! {
    /// Each thread's workspace for `with_workspace` (many small fits in a row reuse it).
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::new(Workspace::new());
}

/// Runs `f` with this thread's reusable workspace (a fresh one if it is in use).
pub fn with_workspace<T>(f: impl FnOnce(&mut Workspace) -> T) -> T {
    WORKSPACE.with(|w| match w.try_borrow_mut() {
        Ok(mut ws) => f(&mut ws),
        Err(_) => f(&mut Workspace::new()),
    })
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, n: usize, p: usize, pf: usize) {
        fn size(v: &mut Vec<f64>, len: usize) {
            if v.len() != len {
                v.resize(len, 0.0);
            }
        }
        self.bufs.prepare(n.min(BLOCK), p);
        size(&mut self.acc, Sums::len(pf));
        size(&mut self.acc_t, Sums::len(pf));
        size(&mut self.p, p);
        size(&mut self.p_t, p);
        for v in [
            &mut self.theta,
            &mut self.theta_t,
            &mut self.step,
            &mut self.lo,
            &mut self.hi,
            &mut self.diag,
            &mut self.mag,
            &mut self.chain,
            &mut self.chain_t,
        ] {
            size(v, pf);
        }
        size(&mut self.h, pf * pf);
        size(&mut self.a, pf * pf);
    }
}

/// Layout of a pass's sums: cost, sum w e^2 (robust losses), |r|^2 of the curvature-scaled
/// residuals (robust losses), the gradient, then J^T J as a packed lower triangle.
struct Sums;

impl Sums {
    const COST: usize = 0;
    const RSS: usize = 1;
    const RR: usize = 2;
    const G: usize = 3;
    fn len(pf: usize) -> usize {
        Self::G + pf + pf * (pf + 1) / 2
    }
    fn h(pf: usize) -> usize {
        Self::G + pf
    }
}

/// One block's cost, gradient and J^T J over the free parameters (internal coordinates: the
/// chain factor of a log-parametrised parameter is its natural value) into `out`.
#[inline(always)]
fn block_sums(
    pb: &Problem,
    p: &[f64],
    free: &[usize],
    chain: &[f64],
    bb: &mut BlockBufs,
    cols: &Cols,
    rows: Range<usize>,
    out: &mut [f64],
) {
    let m = rows.len();
    let np = p.len();
    let pf = free.len();
    let loss = pb.loss;
    let f = &mut bb.f[..m];
    let jac = &mut bb.jac[..m * np];
    let t = &pb.target[rows.clone()];
    pb.law.eval_jac_fit(cols, t, loss.scale, p, f, jac);
    let w = pb.weights.map(|w| &w[rows.clone()]);
    let e = &mut bb.e[..m];
    match loss.scale {
        Scale::Linear => {
            for ((ei, fi), ti) in e.iter_mut().zip(f.iter()).zip(t) {
                *ei = fi - ti;
            }
        }
        Scale::Log => {
            ln_slice(f, e);
            for (ei, ti) in e.iter_mut().zip(t) {
                *ei -= ti;
            }
        }
    }
    // The normal equations are J^T diag(hw) J and J^T gw: hw is each row's curvature weight
    // (w d^2 for least squares, d = d(scale)/df; times the IRLS weight for robust losses) and
    // gw its gradient weight (w psi(e) d). `unit`: both are plain (hw = 1, gw = e).
    let gw = &mut bb.gw[..m];
    let hwb = &mut bb.row[..m];
    let r = &mut bb.r[..m];
    let (cost, unit, hw): (f64, bool, &[f64]) = match (loss.rho, loss.scale, w) {
        (Rho::Squared, Scale::Linear, None) => (0.5 * dot(e, e), true, &[]),
        (Rho::Squared, Scale::Linear, Some(w)) => {
            for ((g, &wi), &ei) in gw.iter_mut().zip(w).zip(e.iter()) {
                *g = wi * ei;
            }
            (0.5 * dot(gw, e), false, w)
        }
        (Rho::Squared, Scale::Log, w) => {
            let rows = r.iter_mut().zip(gw.iter_mut()).zip(hwb.iter_mut());
            for (i, ((ri, gi), hi)) in rows.enumerate() {
                let wi = w.map_or(1.0, |w| w[i]);
                let d = 1.0 / f[i];
                *ri = wi * e[i];
                *gi = *ri * d;
                *hi = wi * d * d;
            }
            (0.5 * dot(r, e), false, hwb)
        }
        _ => {
            let (mut cost, mut rss, mut rr) = (0.0, 0.0, 0.0);
            for i in 0..m {
                let wi = w.map_or(1.0, |w| w[i]);
                let ei = e[i];
                let d = match loss.scale {
                    Scale::Linear => 1.0,
                    Scale::Log => 1.0 / f[i],
                };
                let h = wi * loss.hess_weight(ei);
                hwb[i] = h * d * d;
                gw[i] = wi * loss.psi(ei).0 * d;
                if wi != 0.0 {
                    cost += wi * loss.rho(ei);
                    rss += wi * ei * ei;
                    rr += h * ei * ei;
                }
            }
            out[Sums::RSS] = rss;
            out[Sums::RR] = rr;
            (cost, false, hwb)
        }
    };
    out[Sums::COST] = if cost.is_nan() { f64::INFINITY } else { cost };
    let hoff = Sums::h(pf);
    let mut cols: [&[f64]; NORMAL_EQ_MAX] = [&[]; NORMAL_EQ_MAX];
    let gv: &[f64] = if unit { e } else { gw };
    let hv: &[f64] = if unit { &[] } else { hw };
    let chunk = pf.min(NORMAL_EQ_MAX);
    if pf <= NORMAL_EQ_MAX {
        for (a, &k) in free.iter().enumerate() {
            cols[a] = &jac[k * m..(k + 1) * m];
        }
        let (g, h) = out[Sums::G..].split_at_mut(pf);
        normal_eq(&cols[..chunk], hv, gv, h, g);
    } else {
        let all: Vec<&[f64]> = free.iter().map(|&k| &jac[k * m..(k + 1) * m]).collect();
        let (g, h) = out[Sums::G..].split_at_mut(pf);
        normal_eq(&all, hv, gv, h, g);
    }
    // internal coordinates: the chain factors of log-parametrised parameters
    for a in 0..pf {
        out[Sums::G + a] *= chain[a];
        for b in 0..=a {
            out[hoff + tri(a, b)] *= chain[a] * chain[b];
        }
    }
}

/// One pass over the data at natural parameters `p`: the sums into `acc`. False if cancelled.
#[inline(always)]
fn pass(
    pb: &Problem,
    p: &[f64],
    free: &[usize],
    chain: &[f64],
    plan: Option<&Plan>,
    bufs: &mut BlockBufs,
    parts: &mut Vec<f64>,
    acc: &mut [f64],
    cancel: Option<&AtomicBool>,
) -> bool {
    let n = pb.n();
    if let Some(plan) = plan {
        if n <= BLOCK {
            fused::sums(plan, pb, p, chain, 0..n, acc);
            return true;
        }
        let mut unit = ();
        return block::sum(
            n,
            acc,
            parts,
            &mut unit,
            || (),
            |_, rows, slot| fused::sums(plan, pb, p, chain, rows, slot),
            cancel,
        );
    }
    if n <= BLOCK {
        block_sums(pb, p, free, chain, bufs, pb.cols, 0..n, acc);
        return true;
    }
    let np = p.len();
    let mut scratch = (std::mem::take(bufs), block::empty_view());
    let ok = block::sum(
        n,
        acc,
        parts,
        &mut scratch,
        || {
            let mut b = BlockBufs::default();
            b.prepare(BLOCK, np);
            (b, block::empty_view())
        },
        |(bb, cb), rows, slot| {
            block::view(pb.cols, rows.clone(), cb);
            block_sums(pb, p, free, chain, bb, cb, rows, slot);
        },
        cancel,
    );
    *bufs = scratch.0;
    ok
}

/// Scale of the observations for the exact-fit test: sum w t^2 on the linear scale (the
/// rounding of a residual is a few ulps of the observation, whatever its units), and sum
/// w max(|t|, 1)^2 on the log scale (a log residual's rounding is a few ulps of 1 or of t).
pub(crate) fn target_scale(pb: &Problem) -> f64 {
    let t = pb.target;
    match (pb.loss.scale, pb.weights) {
        (Scale::Linear, None) => dot(t, t),
        (Scale::Linear, Some(w)) => t.iter().zip(w).map(|(&v, &wi)| wi * v * v).sum(),
        (Scale::Log, None) => t.iter().map(|&v| v.abs().max(1.0).powi(2)).sum(),
        (Scale::Log, Some(w)) => t
            .iter()
            .zip(w)
            .map(|(&v, &wi)| wi * v.abs().max(1.0).powi(2))
            .sum(),
    }
}

#[inline(always)]
fn fill_natural(pb: &Problem, free: &[usize], theta: &[f64], p: &mut [f64], chain: &mut [f64]) {
    for (k, slot) in p.iter_mut().enumerate() {
        if let Some(v) = pb.spec.fixed[k] {
            *slot = v;
        }
    }
    for (jf, &k) in free.iter().enumerate() {
        // exp(ln(bound)) may round past the bound: report values inside it
        p[k] = pb
            .spec
            .to_natural(k, theta[jf])
            .clamp(pb.spec.lower[k], pb.spec.upper[k]);
        chain[jf] = if pb.spec.log_param[k] { p[k] } else { 1.0 };
    }
}

/// Levenberg-Marquardt from `start` (natural values; fixed entries are ignored).
pub fn lm(
    pb: &Problem,
    start: &[f64],
    opts: &LmOptions,
    ws: &mut Workspace,
    cancel: Option<&AtomicBool>,
) -> LmOutcome {
    #[cfg(target_arch = "x86_64")]
    if crate::fastmath::simd_enabled() {
        // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
        #[allow(unsafe_code)]
        return unsafe { lm_avx2(pb, start, opts, ws, cancel) };
    }
    lm_impl(pb, start, opts, ws, cancel)
}

/// The solver compiled for AVX2+FMA, so its per-point loops use 4-lane vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn lm_avx2(
    pb: &Problem,
    start: &[f64],
    opts: &LmOptions,
    ws: &mut Workspace,
    cancel: Option<&AtomicBool>,
) -> LmOutcome {
    lm_impl(pb, start, opts, ws, cancel)
}

#[inline(always)]
fn lm_impl(
    pb: &Problem,
    start: &[f64],
    opts: &LmOptions,
    ws: &mut Workspace,
    cancel: Option<&AtomicBool>,
) -> LmOutcome {
    let n = pb.n();
    let p = pb.spec.n_params();
    ws.free.clear();
    ws.free
        .extend((0..p).filter(|&k| pb.spec.fixed[k].is_none()));
    let pf = ws.free.len();
    ws.prepare(n, p, pf);
    let free = std::mem::take(&mut ws.free);

    for jf in 0..pf {
        let k = free[jf];
        let (mut lo, mut hi) = pb.spec.internal_bounds(k);
        if pb.spec.log_param[k] {
            lo = lo.max(-LOG_LIMIT);
            hi = hi.min(LOG_LIMIT);
        }
        ws.lo[jf] = lo;
        ws.hi[jf] = hi.max(lo);
        ws.theta[jf] = pb.spec.to_internal(k, start[k]).clamp(lo, ws.hi[jf]);
        // what a relative step is relative to: a log-parametrised parameter's step is
        // already relative (a change of its logarithm), so it counts with magnitude 1
        ws.mag[jf] = if pb.spec.log_param[k] { 1.0 } else { f64::NAN };
    }
    fill_natural(pb, &free, &ws.theta, &mut ws.p, &mut ws.chain);
    ws.plan = Plan::new(pb);
    let out = by_order!(pf, lm_loop(pb, opts, ws, &free, cancel));
    ws.free = free;
    out
}

/// The iterations, at a compile-time number of free parameters when it is small (`dim`): the
/// small dense loops then unroll and index without checks; the arithmetic is the same.
#[inline(always)]
fn lm_loop<D: Dim>(
    dim: D,
    pb: &Problem,
    opts: &LmOptions,
    ws: &mut Workspace,
    free: &[usize],
    cancel: Option<&AtomicBool>,
) -> LmOutcome {
    let pf = dim.p();
    let hoff = Sums::h(pf);
    let least_squares = matches!(pb.loss.rho, Rho::Squared);
    let finish = |ws: &Workspace, cost: f64, n_iter, nfev, termination: Termination| {
        let termination = if termination.is_success() && any_runaway(pb, &ws.p) {
            Termination::Diverged
        } else {
            termination
        };
        let information = (least_squares && cost.is_finite()).then(|| {
            let mut v = Vec::with_capacity(1 + ws.acc.len() - hoff);
            v.push(2.0 * cost);
            v.extend_from_slice(&ws.acc[hoff..]);
            v
        });
        LmOutcome {
            params: ws.p.clone(),
            cost,
            n_iter,
            nfev,
            termination,
            information,
        }
    };
    // a stopped caller's remaining starts (a grid has many) each end here, without a pass
    if block::stopped(cancel) {
        return finish(ws, f64::NAN, 0, 0, Termination::Interrupted);
    }
    if !pass(
        pb,
        &ws.p,
        free,
        &ws.chain,
        ws.plan.as_ref(),
        &mut ws.bufs,
        &mut ws.parts,
        &mut ws.acc,
        cancel,
    ) {
        return finish(ws, f64::NAN, 0, 1, Termination::Interrupted);
    }
    let mut nfev = 1;
    let mut cost = ws.acc[Sums::COST];
    if !cost.is_finite() {
        return finish(ws, cost, 0, nfev, Termination::NonFinite);
    }
    if pf == 0 {
        return finish(ws, cost, 0, nfev, Termination::ConvergedGradient);
    }
    let robust = !matches!(pb.loss.rho, Rho::Squared);
    let tscale = target_scale(pb);

    let mut lambda = 0.0;
    let mut nu = 2.0;
    let mut n_iter = 0;
    ws.diag.fill(0.0);

    loop {
        // exact fit: the residuals themselves (not the loss, which a tiny Huber delta makes
        // tiny) are at the rounding of the observations
        let rss = if robust {
            ws.acc[Sums::RSS]
        } else {
            2.0 * cost
        };
        if rss <= 1e-30 * tscale {
            return finish(ws, cost, n_iter, nfev, Termination::ZeroResidual);
        }
        if block::stopped(cancel) {
            return finish(ws, cost, n_iter, nfev, Termination::Interrupted);
        }
        let rnorm = if robust { ws.acc[Sums::RR] } else { rss }.sqrt();
        let packed = &ws.acc[hoff..hoff + pf * (pf + 1) / 2];
        let h = &mut ws.h[..pf * pf];
        for a in 0..pf {
            for b in 0..=a {
                let v = packed[tri(a, b)];
                h[a * pf + b] = v;
                h[b * pf + a] = v;
            }
        }
        let g = &ws.acc[Sums::G..Sums::G + pf];
        // a non-finite Jacobian shows up in H and g
        if (0..pf).any(|a| !h[a * pf + a].is_finite() || !g[a].is_finite()) {
            return finish(ws, cost, n_iter, nfev, Termination::NonFinite);
        }
        // projected gradient cosine; a component pushing into an active bound does not count
        let (theta, lo, hi) = (&ws.theta[..pf], &ws.lo[..pf], &ws.hi[..pf]);
        let diag = &mut ws.diag[..pf];
        let mut gmax: f64 = 0.0;
        for a in 0..pf {
            let at_lo = theta[a] <= lo[a] && g[a] > 0.0;
            let at_hi = theta[a] >= hi[a] && g[a] < 0.0;
            let hn = h[a * pf + a].sqrt();
            if !(at_lo || at_hi) && hn > 0.0 {
                gmax = gmax.max(g[a].abs() / (hn * rnorm.max(f64::MIN_POSITIVE)));
            }
            diag[a] = diag[a].max(hn);
            if diag[a] == 0.0 {
                diag[a] = 1.0;
            }
        }
        if gmax <= opts.gtol {
            return finish(ws, cost, n_iter, nfev, Termination::ConvergedGradient);
        }
        if n_iter >= opts.max_iter {
            return finish(ws, cost, n_iter, nfev, Termination::MaxIterations);
        }
        n_iter += 1;
        if lambda == 0.0 {
            lambda = 1e-6;
        }
        // inner loop: raise the damping until a step reduces the cost
        loop {
            let g = &ws.acc[Sums::G..Sums::G + pf];
            let h = &ws.h[..pf * pf];
            let am = &mut ws.a[..pf * pf];
            let (theta, lo, hi) = (&ws.theta[..pf], &ws.lo[..pf], &ws.hi[..pf]);
            let (diag, step) = (&ws.diag[..pf], &mut ws.step[..pf]);
            am.copy_from_slice(h);
            for a in 0..pf {
                am[a * pf + a] += lambda * diag[a] * diag[a];
                step[a] = -g[a];
            }
            // active set: a parameter on a bound whose descent direction leaves the box is
            // held there for this step (its row and column become the identity)
            for a in 0..pf {
                let at_lo = theta[a] <= lo[a] && g[a] > 0.0;
                let at_hi = theta[a] >= hi[a] && g[a] < 0.0;
                if at_lo || at_hi {
                    for b in 0..pf {
                        am[a * pf + b] = 0.0;
                        am[b * pf + a] = 0.0;
                    }
                    am[a * pf + a] = 1.0;
                    step[a] = 0.0;
                }
            }
            let ok = cholesky(am, pf);
            let mut pred = 0.0;
            if ok {
                cholesky_solve(am, pf, step);
                let theta_t = &mut ws.theta_t[..pf];
                for a in 0..pf {
                    theta_t[a] = (theta[a] + step[a]).clamp(lo[a], hi[a]);
                    step[a] = theta_t[a] - theta[a];
                }
                // predicted reduction of the Gauss-Newton model along the (projected) step
                let mut quad = 0.0;
                for a in 0..pf {
                    let mut hs = 0.0;
                    for b in 0..pf {
                        hs += h[a * pf + b] * step[b];
                    }
                    quad += step[a] * hs;
                    pred -= g[a] * step[a];
                }
                pred -= 0.5 * quad;
            }
            if !ok || !(pred > 0.0) {
                if ok && pred.abs() <= 4.0 * f64::EPSILON * cost {
                    return finish(ws, cost, n_iter, nfev, Termination::NoFurtherReduction);
                }
                lambda *= nu;
                nu *= 2.0;
                if lambda > 1e30 {
                    return finish(ws, cost, n_iter, nfev, Termination::NoFurtherReduction);
                }
                continue;
            }
            ws.p_t.copy_from_slice(&ws.p);
            fill_natural(pb, free, &ws.theta_t, &mut ws.p_t, &mut ws.chain_t);
            let done = pass(
                pb,
                &ws.p_t,
                free,
                &ws.chain_t,
                ws.plan.as_ref(),
                &mut ws.bufs,
                &mut ws.parts,
                &mut ws.acc_t,
                cancel,
            );
            if !done {
                return finish(ws, cost, n_iter, nfev, Termination::Interrupted);
            }
            nfev += 1;
            let cost_t = ws.acc_t[Sums::COST];
            let actual = cost - cost_t;
            let rho = actual / pred;
            // relative step (Moré's scaled norms); a log-parametrised parameter counts with
            // magnitude 1, so the test does not depend on the units of the amplitudes
            let mut snorm = 0.0;
            let mut xnorm = 0.0;
            let (mags, theta) = (&ws.mag[..pf], &ws.theta[..pf]);
            let (diag, step) = (&ws.diag[..pf], &ws.step[..pf]);
            for a in 0..pf {
                let mag = if mags[a].is_nan() {
                    theta[a].abs()
                } else {
                    mags[a]
                };
                snorm += (diag[a] * step[a]).powi(2);
                xnorm += (diag[a] * mag).powi(2);
            }
            let (snorm, xnorm) = (snorm.sqrt(), xnorm.sqrt());
            if cost_t.is_finite() && rho > 1e-4 {
                std::mem::swap(&mut ws.theta, &mut ws.theta_t);
                std::mem::swap(&mut ws.p, &mut ws.p_t);
                std::mem::swap(&mut ws.chain, &mut ws.chain_t);
                std::mem::swap(&mut ws.acc, &mut ws.acc_t);
                let old = cost;
                cost = cost_t;
                lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 10.0);
                nu = 2.0;
                if actual <= opts.ftol * old && pred <= opts.ftol * old && rho <= 2.0 {
                    return finish(ws, cost, n_iter, nfev, Termination::ConvergedCost);
                }
                if snorm <= opts.xtol * xnorm {
                    return finish(ws, cost, n_iter, nfev, Termination::ConvergedStep);
                }
                break;
            }
            // rejected: a tiny rejected step means we are at the floor
            if snorm <= opts.xtol * xnorm {
                return finish(ws, cost, n_iter, nfev, Termination::ConvergedStep);
            }
            if pred <= 4.0 * f64::EPSILON * cost {
                return finish(ws, cost, n_iter, nfev, Termination::NoFurtherReduction);
            }
            lambda *= nu;
            nu *= 2.0;
            if lambda > 1e30 {
                return finish(ws, cost, n_iter, nfev, Termination::NoFurtherReduction);
            }
        }
    }
}

/// The law's cost at natural parameters `p`, by the same block pass as the solver (without
/// the Jacobian's products). For ranking starts. NaN becomes +inf.
pub fn cost_at(pb: &Problem, p: &[f64], ws: &mut Workspace) -> f64 {
    let n = pb.n();
    let np = p.len();
    ws.bufs.prepare(n.min(BLOCK), np);
    let kernel = |bb: &mut BlockBufs, cols: &Cols, rows: Range<usize>, out: &mut [f64]| {
        let m = rows.len();
        let f = &mut bb.f[..m];
        let t = &pb.target[rows.clone()];
        if pb.law.is_implicit() {
            // the fit's residuals are the equation's, at the observations
            pb.law
                .eval_jac_fit(cols, t, pb.loss.scale, p, f, &mut bb.jac[..m * np]);
        } else {
            pb.law.eval(cols, p, f);
        }
        let e = &mut bb.e[..m];
        match pb.loss.scale {
            Scale::Linear => e.copy_from_slice(f),
            Scale::Log => ln_slice(f, e),
        }
        let mut c = 0.0;
        for i in 0..m {
            let r = e[i] - t[i];
            let wi = pb.weights.map_or(1.0, |w| w[rows.start + i]);
            if wi != 0.0 {
                c += wi * pb.loss.rho(r);
            }
        }
        out[0] = c;
    };
    let mut out = [0.0];
    if n <= BLOCK {
        kernel(&mut ws.bufs, pb.cols, 0..n, &mut out);
    } else {
        let mut scratch = (std::mem::take(&mut ws.bufs), block::empty_view());
        block::sum(
            n,
            &mut out,
            &mut ws.parts,
            &mut scratch,
            || {
                let mut b = BlockBufs::default();
                b.prepare(BLOCK, np);
                (b, block::empty_view())
            },
            |(bb, cb), rows, slot| {
                block::view(pb.cols, rows.clone(), cb);
                kernel(bb, cb, rows, slot);
            },
            None,
        );
        ws.bufs = scratch.0;
    }
    if out[0].is_nan() {
        f64::INFINITY
    } else {
        out[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::OwnedCols;
    use crate::loss::Loss;
    use crate::problem::ParamSpec;

    /// The fused power-sum pass and the general pass through the `Law` trait agree, for every
    /// loss it takes, with and without weights, on full and partial vector steps.
    #[test]
    fn fused_pass_matches_the_general_pass() {
        let law = crate::laws::builtin("chinchilla", &[]).expect("a built-in law");
        for n in [1, 3, 38, 240] {
            let mut s = 11u64;
            let mut u = || {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64
            };
            let nn: Vec<f64> = (0..n).map(|_| 10f64.powf(7.0 + 3.0 * u())).collect();
            let dd: Vec<f64> = (0..n).map(|_| 10f64.powf(9.0 + 3.0 * u())).collect();
            let y: Vec<f64> = (0..n)
                .map(|i| {
                    1.8 + 480.0 * nn[i].powf(-0.35)
                        + 2100.0 * dd[i].powf(-0.37)
                        + 0.05 * (u() - 0.5)
                })
                .collect();
            let w: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
            let cols = OwnedCols::new(vec![nn, dd], true);
            let view = cols.view();
            let spec = ParamSpec::for_law(law.as_ref());
            for loss in [
                Loss::L2,
                Loss::LOG,
                Loss::huber_log(1e-2),
                Loss::from_name("huber", 1e-2, 1.0).expect("a loss"),
            ] {
                let target = crate::problem::target_for(&loss, &y);
                for weights in [None, Some(w.as_slice())] {
                    let pb = Problem {
                        law: law.as_ref(),
                        cols: &view,
                        target: &target,
                        weights,
                        loss,
                        spec: &spec,
                    };
                    let Some(plan) = Plan::new(&pb) else {
                        // only a CPU without AVX2 has no fused pass to compare
                        assert!(!crate::fastmath::simd_enabled());
                        return;
                    };
                    let p = [1.7, 500.0, 2000.0, 0.34, 0.38];
                    let free: Vec<usize> = (0..5).collect();
                    let chain = [1.0, 500.0, 2000.0, 1.0, 1.0];
                    let len = Sums::len(5);
                    let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
                    fused::sums(&plan, &pb, &p, &chain, 0..n, &mut a);
                    let mut bufs = BlockBufs::default();
                    bufs.prepare(n, 5);
                    block_sums(&pb, &p, &free, &chain, &mut bufs, pb.cols, 0..n, &mut b);
                    let robust = !matches!(loss.rho, Rho::Squared);
                    for j in 0..len {
                        if !robust && (j == Sums::RSS || j == Sums::RR) {
                            continue; // the general pass leaves these for least squares
                        }
                        let scale = a[j].abs().max(b[j].abs()).max(1e-300);
                        assert!(
                            (a[j] - b[j]).abs() <= 1e-11 * scale && a[j].is_finite(),
                            "n {n} {loss:?} weighted {}: sum {j}: {} vs {}",
                            weights.is_some(),
                            a[j],
                            b[j]
                        );
                    }
                }
            }
        }
    }
}
