//! Problem -> FitResult: global start, local refinement, covariance and statistics.

use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::law::Structure;
use crate::linalg::{spd_inverse, sym_eigen};
use crate::loss::Scale;
use crate::problem::Problem;
use crate::solver::lm::{lm, LmOptions, LmOutcome, Termination, Workspace};
use crate::solver::starts::hoffmann_grid;
use crate::solver::varpro::varpro_starts;

/// How to choose starting points.
#[derive(Debug, Clone, PartialEq)]
pub enum Starts {
    /// Variable projection over an exponent grid (laws with structure), plus `p0` if given.
    Auto,
    /// Only the given start.
    Given(Vec<f64>),
    /// Hoffmann et al.'s 4,500-start grid, every start refined by LM, the best kept.
    Grid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    pub lm: LmOptions,
    pub starts: Starts,
    /// A user start added to the automatic candidates (natural values).
    pub p0: Option<Vec<f64>>,
    /// How many grid minima LM refines.
    pub n_refine: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            lm: LmOptions::default(),
            starts: Starts::Auto,
            p0: None,
            n_refine: 4,
        }
    }
}

/// Everything a fit reports. Covariance is over all parameters (natural units; fixed rows and
/// columns are zero); `cov_note` says how it was estimated, or why it is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    pub params: Vec<f64>,
    pub cost: f64,
    pub n_iter: usize,
    pub nfev: usize,
    pub termination: Termination,
    pub n_points: usize,
    pub n_free: usize,
    pub n_starts: usize,
    pub cov: Option<Vec<f64>>,
    pub cov_note: String,
    /// Condition number of J^T J scaled to unit diagonal (identifiability), and the
    /// eigenvector of its smallest eigenvalue over the free parameters.
    pub condition: f64,
    pub weak_direction: Vec<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    /// Per variable: (min, max, number of distinct values), for the data diagnostics.
    pub var_stats: Vec<(f64, f64, usize)>,
}

impl FitResult {
    pub fn dof(&self) -> isize {
        self.n_points as isize - self.n_free as isize
    }
}

fn natural_y(pb: &Problem) -> Vec<f64> {
    match pb.loss.scale {
        Scale::Linear => pb.target.to_vec(),
        Scale::Log => pb.target.iter().map(|t| t.exp()).collect(),
    }
}

fn check_start(pb: &Problem, p0: &[f64]) -> Result<()> {
    let names = pb.law.param_names();
    if p0.len() != names.len() {
        return Err(Error::InvalidOption(format!(
            "start has {} values but law '{}' has {} parameters",
            p0.len(),
            pb.law.name(),
            names.len()
        )));
    }
    for k in 0..names.len() {
        if pb.spec.fixed[k].is_some() {
            continue;
        }
        let v = p0[k];
        if !v.is_finite() {
            return Err(Error::InvalidOption(format!(
                "start of parameter '{}' is not finite: {v}",
                names[k]
            )));
        }
        if v < pb.spec.lower[k] || v > pb.spec.upper[k] {
            return Err(Error::InvalidOption(format!(
                "start of parameter '{}' ({v}) lies outside its bounds [{}, {}]",
                names[k], pb.spec.lower[k], pb.spec.upper[k]
            )));
        }
        if pb.spec.log_param[k] && v <= 0.0 {
            return Err(Error::InvalidOption(format!(
                "parameter '{}' is positive by construction; its start {v} is not",
                names[k]
            )));
        }
    }
    Ok(())
}

/// Better of two outcomes: successes first, then lower cost, then earlier (deterministic).
fn better(a: &LmOutcome, b: &LmOutcome) -> bool {
    match (a.termination.is_success(), b.termination.is_success()) {
        (true, false) => true,
        (false, true) => false,
        _ => a.cost < b.cost,
    }
}

/// Runs the local solver from every start and keeps the best.
fn best_of(
    pb: &Problem,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    parallel: bool,
    cancel: Option<&AtomicBool>,
) -> Option<LmOutcome> {
    let outs: Vec<LmOutcome> = if parallel {
        starts
            .par_iter()
            .map_init(Workspace::new, |ws, s| lm(pb, s, opts, ws, cancel))
            .collect()
    } else {
        let mut ws = Workspace::new();
        starts
            .iter()
            .map(|s| lm(pb, s, opts, &mut ws, cancel))
            .collect()
    };
    let mut best: Option<LmOutcome> = None;
    for o in outs {
        if best.as_ref().is_none_or(|b| better(&o, b)) {
            best = Some(o);
        }
    }
    best
}

/// Fits one problem. Errors only for bad options; failure to converge is in the result.
pub fn fit(pb: &Problem, opts: &FitOptions, cancel: Option<&AtomicBool>) -> Result<FitResult> {
    pb.spec.validate(pb.law.param_names())?;
    let n_free = pb.spec.free().len();
    let n_points = pb
        .weights
        .map_or(pb.n(), |w| w.iter().filter(|&&v| v > 0.0).count());
    if n_points < n_free {
        return Err(Error::InvalidShape(format!(
            "{n_points} data points cannot determine {n_free} free parameters"
        )));
    }
    if let Some(p0) = &opts.p0 {
        check_start(pb, p0)?;
    }
    let starts: Vec<Vec<f64>> = match &opts.starts {
        Starts::Given(p0) => {
            check_start(pb, p0)?;
            vec![p0.clone()]
        }
        Starts::Grid => hoffmann_grid(pb)?,
        Starts::Auto => {
            let y = natural_y(pb);
            let mut s: Vec<Vec<f64>> = varpro_starts(pb, &y, opts.n_refine)
                .into_iter()
                .map(|c| c.params)
                .collect();
            if let Some(p0) = &opts.p0 {
                s.push(p0.clone());
            }
            if s.is_empty() || !matches!(pb.law.structure(), Structure::PowerSum { .. }) {
                s.extend(data_starts(pb, &y));
            }
            if s.is_empty() {
                match pb.law.default_start() {
                    Some(d) => s.push(d),
                    None => {
                        return Err(Error::InvalidOption(format!(
                            "law '{}' has no automatic start: give p0",
                            pb.law.name()
                        )))
                    }
                }
            }
            s
        }
    };
    let parallel = starts.len() > 64;
    let best = best_of(pb, &starts, &opts.lm, parallel, cancel)
        .ok_or_else(|| Error::InvalidOption("no starting point".into()))?;
    Ok(finish(pb, best, n_points, n_free, starts.len()))
}

/// The law's data-driven starts, clipped into the bounds, fixed parameters at their values.
fn data_starts(pb: &Problem, y: &[f64]) -> Vec<Vec<f64>> {
    let mut out = pb.law.data_starts(pb.cols, y);
    for s in out.iter_mut() {
        for (k, v) in s.iter_mut().enumerate() {
            *v = match pb.spec.fixed[k] {
                Some(f) => f,
                None => pb.spec.clip(k, *v),
            };
        }
    }
    out.retain(|s| s.iter().all(|v| v.is_finite()));
    out
}

/// Statistics at the optimum.
pub(crate) fn finish(
    pb: &Problem,
    best: LmOutcome,
    n_points: usize,
    n_free: usize,
    n_starts: usize,
) -> FitResult {
    let mut best = best;
    if let Some(c) = exact_cost(pb, &best.params, best.cost) {
        best.cost = c;
    }
    let (cov, cov_note, condition, weak_direction) = covariance(pb, &best.params, n_points);
    let (aic, bic) = if pb.loss.is_least_squares() && n_points > 0 && best.cost > 0.0 {
        let n = n_points as f64;
        let rss = 2.0 * best.cost;
        let k = n_free as f64;
        let ll = n * (rss / n).ln();
        (Some(ll + 2.0 * k), Some(ll + k * n.ln()))
    } else {
        (None, None)
    };
    FitResult {
        params: best.params,
        cost: best.cost,
        n_iter: best.n_iter,
        nfev: best.nfev,
        termination: best.termination,
        n_points,
        n_free,
        n_starts,
        cov,
        cov_note,
        condition,
        weak_direction,
        aic,
        bic,
        var_stats: pb.cols.x.iter().map(|c| var_stats(c)).collect(),
    }
}

/// The least-squares cost recomputed with the law and residuals in double-double, when the
/// residuals are so small against the data (|r| < 1e-6 |y|) that double precision leaves only
/// a few correct digits in them (each carries an error of a few ulps of f). None when that is
/// not the case, for non-l2 losses, or for laws without a double-double evaluation.
fn exact_cost(pb: &Problem, p: &[f64], cost: f64) -> Option<f64> {
    use crate::dd::Dd;
    if !(pb.loss.is_least_squares() && pb.loss.scale == crate::loss::Scale::Linear) {
        return None;
    }
    let w = |i: usize| pb.weights.map_or(1.0, |w| w[i]);
    let yy: f64 = (0..pb.n())
        .map(|i| w(i) * pb.target[i] * pb.target[i])
        .sum();
    if !(cost.is_finite() && 2.0 * cost < 1e-12 * yy) {
        return None;
    }
    let n = pb.n();
    let (mut hi, mut lo) = (vec![0.0; n], vec![0.0; n]);
    if !pb.law.eval_dd(pb.cols, p, &mut hi, &mut lo) {
        return None;
    }
    let mut sum = Dd::ZERO;
    for i in 0..n {
        let r = Dd::new(pb.target[i])
            - Dd {
                hi: hi[i],
                lo: lo[i],
            };
        sum = sum + Dd::new(w(i)) * r * r;
    }
    let c = 0.5 * sum.to_f64();
    c.is_finite().then_some(c)
}

/// (min, max, distinct count capped at `DISTINCT_CAP`) of a column: the diagnostics only ask
/// whether a variable has fewer distinct values than the parameters it drives.
fn var_stats(c: &[f64]) -> (f64, f64, usize) {
    const DISTINCT_CAP: usize = 16;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut seen = [0.0f64; DISTINCT_CAP];
    let mut k = 0;
    for &v in c {
        lo = lo.min(v);
        hi = hi.max(v);
        if k < DISTINCT_CAP && !seen[..k].contains(&v) {
            seen[k] = v;
            k += 1;
        }
    }
    (lo, hi, k)
}

/// Covariance of the estimate. Least squares: s^2 (J^T W J)^-1 with s^2 = RSS/dof (weights as
/// relative precisions, as curve_fit without absolute_sigma). Huber and asymmetric losses: the
/// M-estimator sandwich A^-1 B A^-1 n/(n-p), A = sum w psi'(r) J J^T, B = sum w^2 psi(r)^2 J J^T.
fn covariance(
    pb: &Problem,
    params: &[f64],
    n_points: usize,
) -> (Option<Vec<f64>>, String, f64, Vec<f64>) {
    let n = pb.n();
    let p = params.len();
    let free = pb.spec.free();
    let pf = free.len();
    let mut f = vec![0.0; n];
    let mut jac = vec![0.0; n * p];
    pb.law
        .eval_jac_fit(pb.cols, pb.target, pb.loss.scale, params, &mut f, &mut jac);
    // residual-space Jacobian columns, pre-scaled for the two quadratic forms:
    // A = sum w psi' J J^T (sa = sqrt(w psi')), B = sum w^2 psi^2 J J^T (sb = w |psi|)
    let mut ja = vec![0.0; n * pf];
    let mut jb = vec![0.0; n * pf];
    let mut sa = vec![0.0; n];
    let mut sb = vec![0.0; n];
    let mut d = vec![0.0; n];
    for i in 0..n {
        let w = pb.weights.map_or(1.0, |w| w[i]);
        let (e, di) = match pb.loss.scale {
            Scale::Linear => (f[i] - pb.target[i], 1.0),
            Scale::Log => (f[i].ln() - pb.target[i], 1.0 / f[i]),
        };
        let (psi, dpsi) = pb.loss.psi(e);
        sa[i] = (w * dpsi).sqrt();
        sb[i] = w * psi.abs();
        d[i] = di;
    }
    for (jf, &k) in free.iter().enumerate() {
        let chain = if pb.spec.log_param[k] { params[k] } else { 1.0 };
        for i in 0..n {
            let v = jac[k * n + i] * d[i] * chain;
            ja[jf * n + i] = v * sa[i];
            jb[jf * n + i] = v * sb[i];
        }
    }
    let mut a = vec![0.0; pf * pf];
    let mut b = vec![0.0; pf * pf];
    for x in 0..pf {
        for y in 0..=x {
            let va = crate::linalg::dot(&ja[x * n..(x + 1) * n], &ja[y * n..(y + 1) * n]);
            let vb = crate::linalg::dot(&jb[x * n..(x + 1) * n], &jb[y * n..(y + 1) * n]);
            a[x * pf + y] = va;
            a[y * pf + x] = va;
            b[x * pf + y] = vb;
            b[y * pf + x] = vb;
        }
    }
    if a.iter().any(|v| !v.is_finite()) {
        return (
            None,
            "no covariance: the Jacobian is not finite at the optimum".into(),
            f64::INFINITY,
            vec![0.0; pf],
        );
    }
    // identifiability: the spectrum of the correlation-scaled information matrix
    if pf == 0 {
        return (
            Some(vec![0.0; p * p]),
            "all parameters are fixed".into(),
            1.0,
            Vec::new(),
        );
    }
    let (condition, weak) = {
        let s: Vec<f64> = (0..pf).map(|x| a[x * pf + x].sqrt()).collect();
        if s.iter().any(|v| !(*v > 0.0)) {
            (f64::INFINITY, vec![0.0; pf])
        } else {
            let sc: Vec<f64> = (0..pf * pf)
                .map(|k| a[k] / (s[k / pf] * s[k % pf]))
                .collect();
            let (vals, vecs) = sym_eigen(&sc, pf);
            let cond = if vals[0] > 0.0 {
                vals[pf - 1] / vals[0]
            } else {
                f64::INFINITY
            };
            (cond, (0..pf).map(|x| vecs[x * pf]).collect())
        }
    };
    let dof = n_points as f64 - pf as f64;
    if dof <= 0.0 {
        return (
            None,
            "no covariance: no degrees of freedom left".into(),
            condition,
            weak,
        );
    }
    let Some(ainv) = spd_inverse(&a, pf) else {
        let why = if pb.loss.is_least_squares() {
            "no covariance: J^T J is singular (parameters not identifiable from these data)"
        } else {
            "no covariance: the sandwich estimate's bread matrix is singular (too few points \
             inside the robust loss's quadratic region); use the bootstrap"
        };
        return (None, why.into(), condition, weak);
    };
    let (cint, note) = if pb.loss.is_least_squares() {
        let rss: f64 = 2.0
            * (0..n)
                .map(|i| {
                    let w = pb.weights.map_or(1.0, |w| w[i]);
                    let e = match pb.loss.scale {
                        Scale::Linear => f[i] - pb.target[i],
                        Scale::Log => f[i].ln() - pb.target[i],
                    };
                    0.5 * w * e * e
                })
                .sum::<f64>();
        let s2 = rss / dof;
        (
            ainv.iter().map(|v| v * s2).collect::<Vec<f64>>(),
            "asymptotic: s^2 (J^T W J)^-1".to_string(),
        )
    } else {
        let mut tmp = vec![0.0; pf * pf];
        let mut out = vec![0.0; pf * pf];
        for x in 0..pf {
            for y in 0..pf {
                tmp[x * pf + y] = (0..pf).map(|z| ainv[x * pf + z] * b[z * pf + y]).sum();
            }
        }
        let corr = n_points as f64 / dof;
        for x in 0..pf {
            for y in 0..pf {
                out[x * pf + y] = corr
                    * (0..pf)
                        .map(|z| tmp[x * pf + z] * ainv[z * pf + y])
                        .sum::<f64>();
            }
        }
        (out, "sandwich (robust M-estimator) A^-1 B A^-1".to_string())
    };
    let mut cov = vec![0.0; p * p];
    for (x, &kx) in free.iter().enumerate() {
        for (y, &ky) in free.iter().enumerate() {
            let cx = if pb.spec.log_param[kx] {
                params[kx]
            } else {
                1.0
            };
            let cy = if pb.spec.log_param[ky] {
                params[ky]
            } else {
                1.0
            };
            // symmetrise: the sandwich product is symmetric only up to rounding
            let v = 0.5 * (cint[x * pf + y] + cint[y * pf + x]);
            cov[kx * p + ky] = v * cx * cy;
        }
    }
    (Some(cov), note, condition, weak)
}
