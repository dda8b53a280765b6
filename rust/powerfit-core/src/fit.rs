//! Problem -> FitResult: global start, local refinement, covariance and statistics.

use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::law::Structure;
use crate::loss::Scale;
use crate::problem::Problem;
use crate::solver::block::{self, BLOCK};
use crate::solver::covariance::{covariance, covariance_from_pass, Weak};
use crate::solver::lm::{
    cost_at, lm, runaway, target_scale, with_workspace, LmOptions, LmOutcome, Termination,
    Workspace,
};
use crate::solver::multistart;
use crate::solver::starts::hoffmann_grid;
use crate::solver::varpro::{project_start, varpro_starts};

/// How to choose starting points.
#[derive(Debug, Clone, PartialEq)]
pub enum Starts {
    /// A global start: variable projection over an exponent grid for power sums and the
    /// Kaplan law, a multistart design around `p0` for laws without that structure; plus
    /// `p0` itself if given.
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
    /// Design points of the multistart for laws without structure (0: chosen from the number
    /// of parameters that do not enter linearly; see `solver::multistart`).
    pub multistart: usize,
    /// Whether the result carries the weakly identified direction (bulk fits skip it).
    pub weak: Weak,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            lm: LmOptions::default(),
            starts: Starts::Auto,
            p0: None,
            n_refine: 4,
            multistart: 0,
            weak: Weak::Direction,
        }
    }
}

/// Everything a fit reports. Covariance is over all parameters (natural units; fixed rows and
/// columns are zero); `cov_note` says how it was estimated, or why it is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    pub params: Vec<f64>,
    pub cost: f64,
    /// Iterations and evaluations of the local solve that gave the estimate.
    pub n_iter: usize,
    pub nfev: usize,
    pub termination: Termination,
    pub n_points: usize,
    pub n_free: usize,
    /// Local solves run (one per start), and how many of them reached the best cost (within
    /// 1e-8 relative, among successful solves when there is one): `n_best < n_starts` says
    /// the starts found different optima, `n_best == 1` with many starts that the best was
    /// found once.
    pub n_starts: usize,
    pub n_best: usize,
    /// Evaluations of the law over the data by the whole fit: start search (grid cells are
    /// counted in evaluation-equivalents) and every local solve. The cost of the global start.
    pub nfev_total: usize,
    /// Free parameters that ran off to the edge of the representable range (then
    /// `termination` is `Diverged`).
    pub at_limit: Vec<usize>,
    pub cov: Option<Vec<f64>>,
    pub cov_note: String,
    /// Condition number of J^T J scaled to unit diagonal (identifiability), and the
    /// eigenvector of its smallest eigenvalue over the free parameters (empty when the
    /// options did not ask for it).
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

/// Better of two outcomes: successes first, then lower cost (ties keep the earlier start).
fn better(a_ok: bool, a_cost: f64, b_ok: bool, b_cost: f64) -> bool {
    match (a_ok, b_ok) {
        (true, false) => true,
        (false, true) => false,
        _ => a_cost < b_cost,
    }
}

/// The outcome of a set of local solves.
pub(crate) struct Solved {
    pub best: LmOutcome,
    pub n_starts: usize,
    pub n_best: usize,
    pub nfev: usize,
}

/// Solves kept whole below this count; above it only (success, cost, evaluations) are kept
/// and the best start is solved again (deterministically the same) for its parameters.
const KEEP_ALL: usize = 64;

/// Squared distance between two parameter vectors over the free parameters: in decades where
/// both have the same sign, else a large constant per parameter.
fn distance(pb: &Problem, a: &[f64], b: &[f64]) -> f64 {
    (0..a.len())
        .filter(|&k| pb.spec.fixed[k].is_none())
        .map(|k| {
            let (x, y) = (a[k], b[k]);
            if x == y {
                0.0
            } else if x * y > 0.0 {
                (x / y).log10().powi(2)
            } else {
                100.0
            }
        })
        .sum()
}

/// Runs LM from starts `0..count` (`start(i)` gives start i) and keeps the best (see the
/// choice among equally good ones below, `anchor` being the user's start); in parallel above
/// `KEEP_ALL` starts. None when there are no starts.
pub(crate) fn solve_starts<F>(
    pb: &Problem,
    count: usize,
    start: F,
    anchor: Option<&[f64]>,
    opts: &LmOptions,
    cancel: Option<&AtomicBool>,
) -> Option<Solved>
where
    F: Fn(usize) -> Vec<f64> + Sync,
{
    if count == 0 {
        return None;
    }
    let lite: Vec<(bool, f64, usize)>;
    let mut kept: Vec<LmOutcome> = Vec::new();
    if count <= KEEP_ALL {
        kept = with_workspace(|ws| {
            (0..count)
                .map(|i| lm(pb, &start(i), opts, ws, cancel))
                .collect()
        });
        lite = kept
            .iter()
            .map(|o| (o.termination.is_success(), o.cost, o.nfev))
            .collect();
    } else {
        lite = (0..count)
            .into_par_iter()
            .map_init(Workspace::new, |ws, i| {
                let o = lm(pb, &start(i), opts, ws, cancel);
                (o.termination.is_success(), o.cost, o.nfev)
            })
            .collect();
    }
    let mut bi = 0;
    for (i, l) in lite.iter().enumerate() {
        if better(l.0, l.1, lite[bi].0, lite[bi].1) {
            bi = i;
        }
    }
    let (ok, best_cost, _) = lite[bi];
    let tol = 1e-8 * best_cost.abs() + 1e-26 * target_scale(pb);
    let reached = |l: &(bool, f64, usize)| l.0 == ok && (l.1 - best_cost).abs() <= tol;
    let n_best = lite.iter().filter(|l| reached(l)).count();
    // Of the starts that reached the best cost (the same optimum), the one nearest the user's
    // start gives the estimate: when the law has symmetries (terms that can swap places) that
    // is the labelling the user wrote; without a start, the earliest.
    let bi = match anchor {
        Some(a) if !kept.is_empty() => (0..count)
            .filter(|&i| reached(&lite[i]))
            .min_by(|&i, &j| {
                distance(pb, &kept[i].params, a)
                    .total_cmp(&distance(pb, &kept[j].params, a))
                    .then(i.cmp(&j))
            })
            .unwrap_or(bi),
        _ => lite.iter().position(reached).unwrap_or(bi),
    };
    let mut nfev: usize = lite.iter().map(|l| l.2).sum();
    let best = if kept.is_empty() {
        let o = with_workspace(|ws| lm(pb, &start(bi), opts, ws, cancel));
        nfev += o.nfev;
        o
    } else {
        kept.swap_remove(bi)
    };
    Some(Solved {
        best,
        n_starts: count,
        n_best,
        nfev,
    })
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
    let (solved, search_fev) = match &opts.starts {
        Starts::Given(p0) => {
            check_start(pb, p0)?;
            let (start, fev) = projected_start(pb, p0, cancel);
            (
                solve_starts(pb, 1, |_| start.clone(), None, &opts.lm, cancel),
                fev,
            )
        }
        Starts::Grid => {
            let grid = hoffmann_grid(pb)?;
            (
                solve_starts(
                    pb,
                    grid.len(),
                    |i| grid.start(pb, i),
                    None,
                    &opts.lm,
                    cancel,
                ),
                0,
            )
        }
        Starts::Auto => {
            let (starts, fev) = auto_starts(pb, opts, cancel)?;
            (
                solve_starts(
                    pb,
                    starts.len(),
                    |i| starts[i].clone(),
                    opts.p0.as_deref(),
                    &opts.lm,
                    cancel,
                ),
                fev,
            )
        }
    };
    let mut solved = solved.ok_or_else(|| Error::InvalidOption("no starting point".into()))?;
    solved.nfev += search_fev;
    if block::stopped(cancel) {
        solved.best.termination = Termination::Interrupted;
    }
    Ok(finish(pb, solved, n_points, n_free, opts.weak))
}

/// The given start, or, for a power sum, the same exponents with the constant and amplitudes
/// re-solved when that lowers the loss: LM then has only the exponents left to find (about
/// half the iterations from a start shared by many groups). The same point when the start is
/// already optimal in them. Returns the start and the evaluations spent.
fn projected_start(pb: &Problem, p0: &[f64], cancel: Option<&AtomicBool>) -> (Vec<f64>, usize) {
    // a fixed parameter's start value is not checked (it may be anything): use the fixed one
    let base: Vec<f64> = p0
        .iter()
        .zip(&pb.spec.fixed)
        .map(|(&v, f)| f.unwrap_or(v))
        .collect();
    let (projected, passes) = project_start(pb, &base, cancel);
    let Some(p) = projected else {
        return (p0.to_vec(), passes);
    };
    let better = with_workspace(|ws| cost_at(pb, &p, ws) < cost_at(pb, &base, ws));
    (if better { p } else { p0.to_vec() }, passes + 2)
}

/// The automatic starts and the evaluations their search cost.
fn auto_starts(
    pb: &Problem,
    opts: &FitOptions,
    cancel: Option<&AtomicBool>,
) -> Result<(Vec<Vec<f64>>, usize)> {
    let structure = pb.law.structure();
    // an implicit law's fit residual is its equation's, which degenerate parameters can make
    // small without fitting the losses: a search over it finds those, so it starts locally
    if matches!(structure, Structure::General) && !pb.law.is_implicit() {
        let known = data_starts(pb);
        let center = opts
            .p0
            .clone()
            .or_else(|| pb.law.default_start())
            .or_else(|| known.first().cloned());
        let (mut s, fev) = multistart::starts(
            pb,
            center.as_deref(),
            opts.p0.as_deref(),
            opts.multistart,
            &opts.lm,
            cancel,
        )?;
        // the law's own starts are solved beside the design's
        s.extend(known);
        return Ok((s, fev));
    }
    let (cands, fev) = varpro_starts(pb, opts.n_refine, cancel);
    let mut s: Vec<Vec<f64>> = cands.into_iter().map(|c| c.params).collect();
    if let Some(p0) = &opts.p0 {
        s.push(p0.clone());
    }
    if s.is_empty() || !matches!(structure, Structure::PowerSum { .. }) {
        s.extend(data_starts(pb));
    }
    if s.is_empty() {
        if block::stopped(cancel) {
            // interrupted before any start was found: the solve from anywhere stops at once
            s.push(pb.spec.fixed.iter().map(|f| f.unwrap_or(1.0)).collect());
            return Ok((s, fev));
        }
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
    Ok((s, fev))
}

/// The law's data-driven starts, clipped into the bounds, fixed parameters at their values.
fn data_starts(pb: &Problem) -> Vec<Vec<f64>> {
    let y: Vec<f64> = match pb.loss.scale {
        Scale::Linear => pb.target.to_vec(),
        Scale::Log => pb.target.iter().map(|t| t.exp()).collect(),
    };
    let mut out = pb.law.data_starts(pb.cols, &y);
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
    solved: Solved,
    n_points: usize,
    n_free: usize,
    weak: Weak,
) -> FitResult {
    let mut best = solved.best;
    let stopping = best.termination == Termination::Interrupted;
    if let Some(c) = (!stopping)
        .then(|| exact_cost(pb, &best.params, best.cost))
        .flatten()
    {
        best.cost = c;
    }
    let at_limit = runaway(pb, &best.params);
    let cv = if best.termination == Termination::Interrupted {
        // the caller is stopping: no further pass over the data
        crate::solver::covariance::Covariance {
            cov: None,
            note: "no covariance: the fit was interrupted".into(),
            condition: f64::NAN,
            weak_direction: vec![f64::NAN; n_free],
        }
    } else if let Some(info) = best.information.as_deref() {
        covariance_from_pass(pb, &best.params, n_points, info[0], &info[1..], weak)
    } else {
        covariance(pb, &best.params, n_points, weak)
    };
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
        n_starts: solved.n_starts,
        n_best: solved.n_best,
        nfev_total: solved.nfev,
        at_limit,
        cov: cv.cov,
        cov_note: cv.note,
        condition: cv.condition,
        weak_direction: cv.weak_direction,
        aic,
        bic,
        var_stats: pb.cols.x.iter().map(|c| var_stats(c)).collect(),
    }
}

/// The least-squares cost recomputed with the law and residuals in double-double, when the
/// residuals are so small against the data (|r| < 1e-6 |y|) that double precision leaves only
/// a few correct digits in them (each carries an error of a few ulps of f). None when that is
/// not the case, for non-l2 losses, or for laws without a double-double evaluation. Block by
/// block, summed in order.
fn exact_cost(pb: &Problem, p: &[f64], cost: f64) -> Option<f64> {
    use crate::dd::Dd;
    if !(pb.loss.is_least_squares() && pb.loss.scale == Scale::Linear) {
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
    let (mut hi, mut lo) = (vec![0.0; n.min(BLOCK)], vec![0.0; n.min(BLOCK)]);
    let mut cb = block::empty_view();
    let mut sum = Dd::ZERO;
    for b in 0..block::n_blocks(n) {
        let rows = block::rows(b, n);
        let m = rows.len();
        block::view(pb.cols, rows.clone(), &mut cb);
        if !pb.law.eval_dd(&cb, p, &mut hi[..m], &mut lo[..m]) {
            return None;
        }
        for i in 0..m {
            let r = Dd::new(pb.target[rows.start + i])
                - Dd {
                    hi: hi[i],
                    lo: lo[i],
                };
            sum = sum + Dd::new(w(rows.start + i)) * r * r;
        }
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
