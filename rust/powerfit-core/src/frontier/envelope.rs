//! The training-curve envelope (Approach 1): the lowest loss over runs at each budget.

use std::sync::atomic::{AtomicBool, AtomicUsize};

use rayon::prelude::*;

use super::*;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// How the envelope's N*(C) is read off at each budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeEstimator {
    /// The size of the run attaining the lowest loss (Hoffmann et al.'s Approach 1).
    Argmin,
    /// The vertex of the local parabola over the covering sizes' lowest losses.
    Parabola,
}

impl EnvelopeEstimator {
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "argmin" => Ok(Self::Argmin),
            "parabola" => Ok(Self::Parabola),
            other => Err(Error::InvalidOption(format!(
                "unknown envelope estimator '{other}': use 'argmin' or 'parabola'"
            ))),
        }
    }
}

/// Training curves: every run's checkpoints sorted by compute (log scale).
#[derive(Debug, Clone)]
pub struct Runs {
    /// Per run: log C, log L, log T (NaN without tokens) of its checkpoints, increasing in C.
    lc: Vec<Vec<f64>>,
    ll: Vec<Vec<f64>>,
    lt: Vec<Vec<f64>>,
    /// Per run: its size, and the index of that size among the distinct sizes (increasing).
    size: Vec<f64>,
    size_idx: Vec<usize>,
    /// Distinct sizes, increasing.
    sizes: Vec<f64>,
    has_tokens: bool,
}

/// Relative tolerance (on log C) for a budget to count as inside a run's range.
pub(super) const COVER_TOL: f64 = 1e-9;

impl Runs {
    /// Builds runs from rows: `run[i]` is row i's run id (any integers; runs are numbered in
    /// order of first appearance). Every run must have one size. Within a run, checkpoints are
    /// sorted by compute; of rows with equal compute the last one is kept.
    pub fn new(run: &[u64], cols: &Columns<'_>) -> Result<Runs> {
        let n = cols.validate()?;
        if run.len() != n {
            return Err(Error::InvalidShape(format!(
                "run ids have {} rows, the data {n}",
                run.len()
            )));
        }
        if n == 0 {
            return Err(Error::InvalidShape("no training curves".into()));
        }
        let mut ids: Vec<(u64, usize)> = run.iter().copied().zip(0..n).collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        // runs in order of first appearance
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut s = 0;
        while s < n {
            let mut e = s + 1;
            while e < n && ids[e].0 == ids[s].0 {
                e += 1;
            }
            let rows: Vec<usize> = ids[s..e].iter().map(|p| p.1).collect();
            groups.push((rows[0], rows));
            s = e;
        }
        groups.sort_by_key(|g| g.0);
        let has_tokens = cols.tokens.is_some();
        let mut out = Runs {
            lc: Vec::with_capacity(groups.len()),
            ll: Vec::with_capacity(groups.len()),
            lt: Vec::with_capacity(groups.len()),
            size: Vec::with_capacity(groups.len()),
            size_idx: Vec::new(),
            sizes: Vec::new(),
            has_tokens,
        };
        for (_, mut rows) in groups {
            let sz = cols.size[rows[0]];
            if let Some(&bad) = rows.iter().find(|&&r| cols.size[r] != sz) {
                return Err(Error::InvalidData {
                    column: "size".into(),
                    row: bad,
                    value: cols.size[bad],
                    reason: format!(
                        "a run has one model size, but this row's run started at row {} with \
                         size {sz}",
                        rows[0]
                    ),
                });
            }
            rows.sort_by(|&a, &b| cols.compute[a].total_cmp(&cols.compute[b]).then(a.cmp(&b)));
            let mut lc: Vec<f64> = Vec::with_capacity(rows.len());
            let mut ll: Vec<f64> = Vec::with_capacity(rows.len());
            let mut lt: Vec<f64> = Vec::with_capacity(rows.len());
            for &r in &rows {
                let c = cols.compute[r].ln();
                let l = cols.loss[r].ln();
                let t = cols.tokens.map_or(f64::NAN, |t| t[r].ln());
                // a repeated compute keeps the later row's values
                match (lc.last(), ll.last_mut(), lt.last_mut()) {
                    (Some(&last), Some(pl), Some(pt)) if last == c => {
                        *pl = l;
                        *pt = t;
                    }
                    _ => {
                        lc.push(c);
                        ll.push(l);
                        lt.push(t);
                    }
                }
            }
            out.lc.push(lc);
            out.ll.push(ll);
            out.lt.push(lt);
            out.size.push(sz);
        }
        let mut sizes = out.size.clone();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        out.size_idx = out
            .size
            .iter()
            .map(|s| sizes.partition_point(|v| v < s))
            .collect();
        out.sizes = sizes;
        Ok(out)
    }

    pub fn n_runs(&self) -> usize {
        self.lc.len()
    }

    /// The smallest and largest compute of any checkpoint.
    pub fn compute_range(&self) -> (f64, f64) {
        let lo = self.lc.iter().map(|v| v[0]).fold(f64::INFINITY, f64::min);
        let hi = self
            .lc
            .iter()
            .map(|v| v[v.len() - 1])
            .fold(f64::NEG_INFINITY, f64::max);
        (lo.exp(), hi.exp())
    }

    /// Run r's (log L, log T) interpolated at log budget `g`, if its checkpoints cover it.
    pub fn at(&self, r: usize, g: f64) -> Option<(f64, f64)> {
        let x = &self.lc[r];
        let m = x.len();
        let tol = COVER_TOL * g.abs().max(1.0);
        if g < x[0] - tol || g > x[m - 1] + tol {
            return None;
        }
        if m == 1 || g <= x[0] {
            return Some((self.ll[r][0], self.lt[r][0]));
        }
        if g >= x[m - 1] {
            return Some((self.ll[r][m - 1], self.lt[r][m - 1]));
        }
        Some((interp(x, &self.ll[r], g), interp(x, &self.lt[r], g)))
    }
}

/// A log-spaced grid of `n` budgets from `lo` to `hi`.
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![(0.5 * (lo.ln() + hi.ln())).exp()],
        _ => {
            let (a, b) = (lo.ln(), hi.ln());
            (0..n)
                .map(|k| {
                    if k == n - 1 {
                        hi
                    } else if k == 0 {
                        lo
                    } else {
                        (a + (b - a) * k as f64 / (n - 1) as f64).exp()
                    }
                })
                .collect()
        }
    }
}

/// Every run's interpolated (log L, log T) at every grid budget: n_grid x n_runs, NaN where a
/// run does not cover the budget.
pub(super) fn cover_matrix(runs: &Runs, log_grid: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let r = runs.n_runs();
    let mut ll = vec![f64::NAN; log_grid.len() * r];
    let mut lt = vec![f64::NAN; log_grid.len() * r];
    for (g, &lg) in log_grid.iter().enumerate() {
        for k in 0..r {
            if let Some((l, t)) = runs.at(k, lg) {
                ll[g * r + k] = l;
                lt[g * r + k] = t;
            }
        }
    }
    (ll, lt)
}

/// One grid budget of the envelope from the runs present (multiplicity > 0): the best run per
/// size, the envelope and the optimum. Returns (optimum, log D*, log L_env, best run, covering
/// runs, covering sizes).
#[allow(clippy::type_complexity)]
pub(super) fn envelope_budget(
    runs: &Runs,
    ll: &[f64],
    lt: &[f64],
    present: Option<&[u32]>,
    log_c: f64,
    estimator: EnvelopeEstimator,
    opts: &FrontierOptions,
    best: &mut Vec<usize>,
    prof: &mut Profile,
) -> (Optimum, f64, f64, Option<usize>, usize, usize) {
    let r = runs.n_runs();
    best.clear();
    best.resize(runs.sizes.len(), usize::MAX);
    let mut n_cover = 0;
    let mut env: Option<usize> = None;
    for k in 0..r {
        if present.is_some_and(|p| p[k] == 0) || ll[k].is_nan() {
            continue;
        }
        n_cover += 1;
        let s = runs.size_idx[k];
        if best[s] == usize::MAX || ll[k] < ll[best[s]] {
            best[s] = k;
        }
        if env.is_none_or(|e| ll[k] < ll[e]) {
            env = Some(k);
        }
    }
    prof.clear();
    let mut env_pos = 0;
    for (s, &k) in best.iter().enumerate() {
        if k != usize::MAX {
            if Some(k) == env {
                env_pos = prof.x.len();
            }
            prof.x.push(runs.sizes[s].ln());
            prof.y.push(ll[k]);
            prof.t.push(lt[k]);
            prof.w.push(1.0);
        }
    }
    let n_sizes = prof.x.len();
    let l_env = env.map_or(f64::NAN, |e| ll[e]);
    let tokens_ld = |log_n: f64, t: f64| {
        if runs.has_tokens {
            t
        } else {
            log_c - opts.flops_per_token.ln() - log_n
        }
    };
    let o = match estimator {
        EnvelopeEstimator::Parabola => {
            let o = local_parabola(&prof.x, &prof.y, None, opts.half_window);
            let ld = if o.status.is_ok() {
                tokens_ld(o.log_n, interp(&prof.x, &prof.t, o.log_n))
            } else {
                f64::NAN
            };
            return (o, ld, l_env, env, n_cover, n_sizes);
        }
        EnvelopeEstimator::Argmin => {
            if n_sizes < 3 {
                Optimum::none(BudgetStatus::TooFewSizes)
            } else if env_pos == 0 {
                Optimum::none(BudgetStatus::EdgeLow)
            } else if env_pos == n_sizes - 1 {
                Optimum::none(BudgetStatus::EdgeHigh)
            } else {
                Optimum {
                    status: BudgetStatus::Ok,
                    log_n: prof.x[env_pos],
                    log_l: prof.y[env_pos],
                    curvature: f64::NAN,
                    lo: env_pos,
                    hi: env_pos,
                }
            }
        }
    };
    let ld = if o.status.is_ok() {
        tokens_ld(o.log_n, prof.t[env_pos])
    } else {
        f64::NAN
    };
    (o, ld, l_env, env, n_cover, n_sizes)
}

/// The training-curve envelope of one data set on the budgets `grid` (empty: `n_grid`
/// log-spaced budgets spanning all checkpoints). Replicates resample whole runs.
pub fn envelope(
    runs: &Runs,
    grid: &[f64],
    n_grid: usize,
    estimator: EnvelopeEstimator,
    opts: &FrontierOptions,
    seed: u64,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Frontier> {
    opts.validate()?;
    let grid: Vec<f64> = if grid.is_empty() {
        if n_grid < 2 {
            return Err(Error::InvalidOption(format!(
                "the envelope needs a grid of at least 2 budgets, got {n_grid}"
            )));
        }
        let (lo, hi) = runs.compute_range();
        log_grid(lo, hi, n_grid)
    } else {
        if let Some(&c) = grid.iter().find(|c| !(**c > 0.0 && c.is_finite())) {
            return Err(Error::InvalidOption(format!(
                "grid budgets must be positive and finite, got {c}"
            )));
        }
        grid.to_vec()
    };
    let log_c: Vec<f64> = grid.iter().map(|c| c.ln()).collect();
    let nb = grid.len();
    let r = runs.n_runs();
    let (ll, lt) = cover_matrix(runs, &log_c);
    let mut best = Vec::new();
    let mut prof = Profile::default();
    let mut optima = Vec::with_capacity(nb);
    let mut log_opt = Vec::with_capacity(nb);
    for g in 0..nb {
        let (o, ld, l_env, env, n_cover, n_sizes) = envelope_budget(
            runs,
            &ll[g * r..(g + 1) * r],
            &lt[g * r..(g + 1) * r],
            None,
            log_c[g],
            estimator,
            opts,
            &mut best,
            &mut prof,
        );
        log_opt.push((o.log_n, ld));
        // argmin: the attaining run's size itself, not exp(ln(size))
        let n_opt = match (estimator, env) {
            (EnvelopeEstimator::Argmin, Some(e)) if o.status.is_ok() => runs.size[e],
            _ => o.log_n.exp(),
        };
        optima.push(BudgetOptimum {
            c: grid[g],
            n_points: n_cover,
            n_sizes,
            status: o.status,
            n_opt,
            d_opt: ld.exp(),
            l_opt: o.log_l.exp(),
            l_env: l_env.exp(),
            best_run: env,
            n_lower: f64::NAN,
            n_upper: f64::NAN,
            d_lower: f64::NAN,
            d_upper: f64::NAN,
            n_boot_ok: 0,
        });
    }
    check_size(opts.n_boot, log_c.len())?;
    if opts.resample == Resample::Budgets {
        let (samples, rep_opt) = budget_replicates(
            opts.n_boot,
            &log_c,
            &log_opt,
            &optima,
            seed,
            cancel,
            progress,
        );
        return assemble(optima, &log_c, &log_opt, samples, &rep_opt, opts, seed);
    }
    let (samples, rep_opt) = replicates(opts.n_boot, nb, cancel, progress, |scr, i, opt| {
        let mut rng = Rng::stream(seed, i as u64);
        scr.counts.clear();
        scr.counts.resize(r, 0);
        for _ in 0..r {
            scr.counts[rng.below(r)] += 1;
        }
        let counts = std::mem::take(&mut scr.counts);
        let mut best = std::mem::take(&mut scr.best);
        for g in 0..nb {
            let (o, ld, ..) = envelope_budget(
                runs,
                &ll[g * r..(g + 1) * r],
                &lt[g * r..(g + 1) * r],
                Some(&counts),
                log_c[g],
                estimator,
                opts,
                &mut best,
                &mut scr.prof,
            );
            if o.status.is_ok() {
                opt[2 * g] = o.log_n;
                opt[2 * g + 1] = ld;
            }
        }
        scr.counts = counts;
        scr.best = best;
        summarise(scr, &log_c, opt)
    });
    assemble(optima, &log_c, &log_opt, samples, &rep_opt, opts, seed)
}

/// IsoFLOP profiles cut from training curves: every run covering a budget contributes its
/// interpolated loss (and tokens). Returns rows (budget, size, loss, tokens, run index) in
/// budget order; tokens are NaN without token counts.
#[allow(clippy::type_complexity)]
pub fn slice_runs(
    runs: &Runs,
    budgets: &[f64],
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>)> {
    if let Some(&c) = budgets.iter().find(|c| !(**c > 0.0 && c.is_finite())) {
        return Err(Error::InvalidOption(format!(
            "budgets must be positive and finite, got {c}"
        )));
    }
    let (mut bc, mut bn, mut bl, mut bt, mut br) = (vec![], vec![], vec![], vec![], vec![]);
    for &c in budgets {
        let g = c.ln();
        for k in 0..runs.n_runs() {
            if let Some((l, t)) = runs.at(k, g) {
                bc.push(c);
                bn.push(runs.size[k]);
                bl.push(l.exp());
                bt.push(t.exp());
                br.push(k);
            }
        }
    }
    Ok((bc, bn, bl, bt, br))
}

/// `envelope` for every group (rows sorted by group, `offsets` as in `isoflop_groups`); the
/// grid is per group unless given.
#[allow(clippy::too_many_arguments)]
pub fn envelope_groups(
    run: &[u64],
    cols: &Columns<'_>,
    offsets: &[usize],
    ids: Option<&[u64]>,
    grid: &[f64],
    n_grid: usize,
    estimator: EnvelopeEstimator,
    opts: &FrontierOptions,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Vec<Frontier>> {
    let n = cols.validate()?;
    check_offsets(offsets, n)?;
    if run.len() != n {
        return Err(Error::InvalidShape(format!(
            "run ids have {} rows, the data {n}",
            run.len()
        )));
    }
    let g = offsets.len() - 1;
    if ids.is_some_and(|i| i.len() != g) {
        return Err(Error::InvalidShape(format!(
            "{} group ids for {g} groups",
            ids.map_or(0, |i| i.len())
        )));
    }
    let runs: Vec<Runs> = (0..g)
        .map(|k| {
            let (lo, hi) = (offsets[k], offsets[k + 1]);
            Runs::new(&run[lo..hi], &sub(cols, lo, hi)).map_err(|e| match e {
                Error::InvalidData {
                    column,
                    row,
                    value,
                    reason,
                } => Error::InvalidData {
                    column,
                    row: row + lo,
                    value,
                    reason,
                },
                other => other,
            })
        })
        .collect::<Result<_>>()?;
    runs.par_iter()
        .enumerate()
        .map(|(k, rs)| {
            let id = ids.map_or(k as u64, |i| i[k]);
            let seed = crate::groups::group_seed(opts.seed, id);
            envelope(rs, grid, n_grid, estimator, opts, seed, cancel, progress)
        })
        .collect()
}
