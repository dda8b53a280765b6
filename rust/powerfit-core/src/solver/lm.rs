//! Levenberg-Marquardt with Moré's column scaling and Nielsen's damping update, on the
//! internal (log-parametrised, free-only) coordinates. Robust losses enter by IRLS row
//! weights (Triggs correction with rho'' <= 0), so every step is a Gauss-Newton step.
//! All buffers live in a reusable `Workspace`: no allocation per iteration.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::linalg::{cholesky, cholesky_solve, dot};
use crate::loss::{Rho, Scale};
use crate::problem::Problem;

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
    /// The law or the loss is NaN or infinite at the start.
    NonFinite,
    /// Interrupted by the caller (Ctrl-C).
    Interrupted,
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
                "failed: the law or the loss is not finite at the starting point"
            }
            Termination::Interrupted => "stopped: interrupted",
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
        ]
        .get(c as usize)
        .copied()
    }
}

/// Stopping rules. All are relative, so rescaling y or the weights does not move the stop.
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
}

/// Buffers for one thread's solves, grown on demand and reused.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    f: Vec<f64>,
    jac: Vec<f64>,
    f_t: Vec<f64>,
    jac_t: Vec<f64>,
    row: Vec<f64>,
    e: Vec<f64>,
    e_t: Vec<f64>,
    gw: Vec<f64>,
    sw: Vec<f64>,
    tmp: Vec<f64>,
    pub(crate) jr: Vec<f64>,
    pub(crate) r: Vec<f64>,
    p: Vec<f64>,
    p_t: Vec<f64>,
    theta: Vec<f64>,
    theta_t: Vec<f64>,
    step: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    diag: Vec<f64>,
    h: Vec<f64>,
    a: Vec<f64>,
    g: Vec<f64>,
    free: Vec<usize>,
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
        size(&mut self.f, n);
        size(&mut self.f_t, n);
        size(&mut self.jac, n * p);
        size(&mut self.jac_t, n * p);
        size(&mut self.row, n);
        size(&mut self.e, n);
        size(&mut self.e_t, n);
        size(&mut self.gw, n);
        size(&mut self.sw, n);
        size(&mut self.tmp, n);
        size(&mut self.jr, n * pf);
        size(&mut self.r, n);
        size(&mut self.p, p);
        size(&mut self.p_t, p);
        for v in [
            &mut self.theta,
            &mut self.theta_t,
            &mut self.step,
            &mut self.lo,
            &mut self.hi,
            &mut self.diag,
            &mut self.g,
        ] {
            size(v, pf);
        }
        size(&mut self.h, pf * pf);
        size(&mut self.a, pf * pf);
    }
}

/// Residuals e = scale(f) - target into `e`, and the cost sum w rho(e). `sw` holds sqrt(w)
/// for weighted least squares; `tmp` is scratch of the same length.
#[inline(always)]
pub(crate) fn residuals(
    pb: &Problem,
    sw: &[f64],
    f: &[f64],
    e: &mut [f64],
    tmp: &mut [f64],
) -> f64 {
    match pb.loss.scale {
        Scale::Linear => e.copy_from_slice(f),
        Scale::Log => crate::fastmath::ln_slice(f, e),
    }
    for (ei, ti) in e.iter_mut().zip(pb.target) {
        *ei -= ti;
    }
    let c = match (pb.loss.rho, pb.weights) {
        (Rho::Squared, None) => 0.5 * dot(e, e),
        (Rho::Squared, Some(_)) => {
            for ((t, &ei), &s) in tmp.iter_mut().zip(e.iter()).zip(sw) {
                *t = s * ei;
            }
            0.5 * dot(tmp, tmp)
        }
        (_, None) => e.iter().map(|&r| pb.loss.rho(r)).sum(),
        (_, Some(w)) => e
            .iter()
            .zip(w)
            .map(|(&r, &wi)| if wi == 0.0 { 0.0 } else { wi * pb.loss.rho(r) })
            .sum(),
    };
    if c.is_nan() {
        f64::INFINITY
    } else {
        c
    }
}

/// Fills `ws.r` (residuals scaled by the square root of the curvature weights) and `ws.jr`
/// (the correspondingly scaled residual-space Jacobian over the free parameters, chain rule
/// through log-parametrisation included) from `ws.e`, `ws.f`, `ws.jac`; for robust losses also
/// `ws.gw`, the per-point gradient weights w psi(e) d(scale)/df.
#[inline(always)]
pub(crate) fn linearise(pb: &Problem, ws: &mut Workspace) {
    let loss = pb.loss;
    let squared = matches!(loss.rho, Rho::Squared);
    if squared {
        // least squares: rows scale by sqrt(w) (precomputed) and d(scale)/df
        match (loss.scale, pb.weights.is_some()) {
            (Scale::Linear, false) => {
                ws.r.copy_from_slice(&ws.e);
                ws.row.fill(1.0);
            }
            (Scale::Linear, true) => {
                for ((r, m), (&e, &s)) in
                    ws.r.iter_mut()
                        .zip(ws.row.iter_mut())
                        .zip(ws.e.iter().zip(&ws.sw))
                {
                    *r = s * e;
                    *m = s;
                }
            }
            (Scale::Log, false) => {
                ws.r.copy_from_slice(&ws.e);
                for (m, f) in ws.row.iter_mut().zip(&ws.f) {
                    *m = 1.0 / f;
                }
            }
            (Scale::Log, true) => {
                for ((r, m), ((&e, &s), &f)) in
                    ws.r.iter_mut()
                        .zip(ws.row.iter_mut())
                        .zip(ws.e.iter().zip(&ws.sw).zip(&ws.f))
                {
                    *r = s * e;
                    *m = s / f;
                }
            }
        }
    } else {
        for i in 0..ws.e.len() {
            let e = ws.e[i];
            let d = match loss.scale {
                Scale::Linear => 1.0,
                Scale::Log => 1.0 / ws.f[i],
            };
            let w = pb.weights.map_or(1.0, |w| w[i]);
            let s = (w * loss.hess_weight(e)).sqrt();
            ws.r[i] = s * e;
            ws.row[i] = s * d;
            ws.gw[i] = w * loss.psi(e).0 * d;
        }
    }
    let n = ws.e.len();
    let unit_rows = squared && loss.scale == Scale::Linear && pb.weights.is_none();
    for (jf, &k) in ws.free.iter().enumerate() {
        let chain = if pb.spec.log_param[k] { ws.p[k] } else { 1.0 };
        let src = &ws.jac[k * n..(k + 1) * n];
        let dst = &mut ws.jr[jf * n..(jf + 1) * n];
        if unit_rows {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s * chain;
            }
        } else {
            for ((d, &s), &m) in dst.iter_mut().zip(src).zip(&ws.row) {
                *d = s * m * chain;
            }
        }
    }
}

#[inline(always)]
fn fill_natural(pb: &Problem, free: &[usize], theta: &[f64], p: &mut [f64]) {
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

    for jf in 0..pf {
        let k = ws.free[jf];
        let (lo, hi) = pb.spec.internal_bounds(k);
        ws.lo[jf] = lo;
        ws.hi[jf] = hi;
        ws.theta[jf] = pb.spec.to_internal(k, start[k]).clamp(lo, hi);
    }
    let free = std::mem::take(&mut ws.free);
    fill_natural(pb, &free, &ws.theta, &mut ws.p);
    ws.free = free;

    let finish = |ws: &Workspace, cost, n_iter, nfev, termination| LmOutcome {
        params: ws.p.clone(),
        cost,
        n_iter,
        nfev,
        termination,
    };

    pb.law.eval_jac_fit(
        pb.cols,
        pb.target,
        pb.loss.scale,
        &ws.p,
        &mut ws.f,
        &mut ws.jac,
    );
    let mut nfev = 1;
    if let Some(w) = pb.weights {
        for (s, &wi) in ws.sw.iter_mut().zip(w) {
            *s = wi.sqrt();
        }
    }
    let mut cost = residuals(pb, &ws.sw, &ws.f, &mut ws.e, &mut ws.tmp);
    if !cost.is_finite() {
        return finish(ws, cost, 0, nfev, Termination::NonFinite);
    }
    if pf == 0 {
        return finish(ws, cost, 0, nfev, Termination::ConvergedGradient);
    }
    // scale of the target: for the zero-residual test
    let tscale: f64 = pb
        .target
        .iter()
        .enumerate()
        .map(|(i, t)| pb.weights.map_or(1.0, |w| w[i]) * t.abs().max(1.0).powi(2))
        .sum();

    let mut lambda = 0.0;
    let mut nu = 2.0;
    let mut n_iter = 0;
    ws.diag.fill(0.0);

    loop {
        if cost <= 1e-30 * tscale {
            return finish(ws, cost, n_iter, nfev, Termination::ZeroResidual);
        }
        if let Some(c) = cancel {
            if c.load(Ordering::Relaxed) {
                return finish(ws, cost, n_iter, nfev, Termination::Interrupted);
            }
        }
        linearise(pb, ws);
        // normal equations H = J^T J, g = J^T r
        let rnorm = dot(&ws.r, &ws.r).sqrt();
        // robust losses: the gradient comes from psi, not from the curvature-scaled rows
        let exact_gradient = !matches!(pb.loss.rho, Rho::Squared);
        for a in 0..pf {
            let ja = &ws.jr[a * n..(a + 1) * n];
            ws.g[a] = if exact_gradient {
                // robust or weighted: g = sum w psi(e) de/dtheta, independent of the Hessian model
                let k = ws.free[a];
                let chain = if pb.spec.log_param[k] { ws.p[k] } else { 1.0 };
                chain * dot(&ws.jac[k * n..(k + 1) * n], &ws.gw)
            } else {
                dot(ja, &ws.r)
            };
            for b in 0..=a {
                let v = dot(ja, &ws.jr[b * n..(b + 1) * n]);
                ws.h[a * pf + b] = v;
                ws.h[b * pf + a] = v;
            }
        }
        // projected gradient cosine; a component pushing into an active bound does not count
        let mut gmax: f64 = 0.0;
        for a in 0..pf {
            let at_lo = ws.theta[a] <= ws.lo[a] && ws.g[a] > 0.0;
            let at_hi = ws.theta[a] >= ws.hi[a] && ws.g[a] < 0.0;
            let hn = ws.h[a * pf + a].sqrt();
            if !(at_lo || at_hi) && hn > 0.0 {
                gmax = gmax.max(ws.g[a].abs() / (hn * rnorm.max(f64::MIN_POSITIVE)));
            }
            ws.diag[a] = ws.diag[a].max(hn);
            if ws.diag[a] == 0.0 {
                ws.diag[a] = 1.0;
            }
        }
        // a non-finite Jacobian shows up in H and g (computed anyway)
        if (0..pf).any(|a| !ws.h[a * pf + a].is_finite() || !ws.g[a].is_finite()) {
            return finish(ws, cost, n_iter, nfev, Termination::NonFinite);
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
            ws.a.copy_from_slice(&ws.h);
            for a in 0..pf {
                ws.a[a * pf + a] += lambda * ws.diag[a] * ws.diag[a];
                ws.step[a] = -ws.g[a];
            }
            // active set: a parameter on a bound whose descent direction leaves the box is
            // held there for this step (its row and column become the identity)
            for a in 0..pf {
                let at_lo = ws.theta[a] <= ws.lo[a] && ws.g[a] > 0.0;
                let at_hi = ws.theta[a] >= ws.hi[a] && ws.g[a] < 0.0;
                if at_lo || at_hi {
                    for b in 0..pf {
                        ws.a[a * pf + b] = 0.0;
                        ws.a[b * pf + a] = 0.0;
                    }
                    ws.a[a * pf + a] = 1.0;
                    ws.step[a] = 0.0;
                }
            }
            let ok = cholesky(&mut ws.a, pf);
            let mut pred = 0.0;
            if ok {
                cholesky_solve(&ws.a, pf, &mut ws.step);
                for a in 0..pf {
                    ws.theta_t[a] = (ws.theta[a] + ws.step[a]).clamp(ws.lo[a], ws.hi[a]);
                    ws.step[a] = ws.theta_t[a] - ws.theta[a];
                }
                // predicted reduction of the Gauss-Newton model along the (projected) step
                let mut quad = 0.0;
                for a in 0..pf {
                    let mut hs = 0.0;
                    for b in 0..pf {
                        hs += ws.h[a * pf + b] * ws.step[b];
                    }
                    quad += ws.step[a] * hs;
                    pred -= ws.g[a] * ws.step[a];
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
            let free = std::mem::take(&mut ws.free);
            ws.p_t.copy_from_slice(&ws.p);
            fill_natural(pb, &free, &ws.theta_t, &mut ws.p_t);
            ws.free = free;
            pb.law.eval_jac_fit(
                pb.cols,
                pb.target,
                pb.loss.scale,
                &ws.p_t,
                &mut ws.f_t,
                &mut ws.jac_t,
            );
            nfev += 1;
            let cost_t = residuals(pb, &ws.sw, &ws.f_t, &mut ws.e_t, &mut ws.tmp);
            let actual = cost - cost_t;
            let rho = actual / pred;
            let mut snorm = 0.0;
            let mut xnorm = 0.0;
            for a in 0..pf {
                snorm += (ws.diag[a] * ws.step[a]).powi(2);
                xnorm += (ws.diag[a] * ws.theta[a]).powi(2);
            }
            let (snorm, xnorm) = (snorm.sqrt(), xnorm.sqrt());
            if cost_t.is_finite() && rho > 1e-4 {
                std::mem::swap(&mut ws.theta, &mut ws.theta_t);
                std::mem::swap(&mut ws.p, &mut ws.p_t);
                std::mem::swap(&mut ws.f, &mut ws.f_t);
                std::mem::swap(&mut ws.jac, &mut ws.jac_t);
                std::mem::swap(&mut ws.e, &mut ws.e_t);
                let old = cost;
                cost = cost_t;
                lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 10.0);
                nu = 2.0;
                if actual <= opts.ftol * old && pred <= opts.ftol * old && rho <= 2.0 {
                    return finish(ws, cost, n_iter, nfev, Termination::ConvergedCost);
                }
                if snorm <= opts.xtol * (xnorm + opts.xtol) {
                    return finish(ws, cost, n_iter, nfev, Termination::ConvergedStep);
                }
                break;
            }
            // rejected: a tiny rejected step means we are at the floor
            if snorm <= opts.xtol * (xnorm + opts.xtol) {
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
