//! Bootstrap replicates of a frontier analysis (per-thread scratch, in parallel, seeded per
//! replicate) and their assembly into intervals.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::*;
use crate::error::Result;
use crate::rng::Rng;
use crate::stats::{interval, IntervalMethod};

/// One profile: distinct sizes (log, increasing) with the lowest loss among rows of that size,
/// and the log token count of that row.
#[derive(Debug, Clone, Default)]
pub(super) struct Profile {
    pub(super) x: Vec<f64>,
    pub(super) y: Vec<f64>,
    pub(super) t: Vec<f64>,
    pub(super) w: Vec<f64>,
}

impl Profile {
    pub(super) fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.t.clear();
        self.w.clear();
    }
}

/// Linear interpolation of `t` over `x` (increasing) at `v`, clamped to the ends.
pub(super) fn interp(x: &[f64], t: &[f64], v: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    if v <= x[0] {
        return t[0];
    }
    if v >= x[n - 1] {
        return t[n - 1];
    }
    let j = x.partition_point(|&xx| xx <= v).clamp(1, n - 1);
    let f = (v - x[j - 1]) / (x[j] - x[j - 1]);
    t[j - 1] + f * (t[j] - t[j - 1])
}

/// The optimum of a profile, with log D* interpolated over log N from the profile's token
/// counts (or C / (k N*)).
pub(super) fn profile_optimum(
    p: &Profile,
    log_c: f64,
    opts: &FrontierOptions,
    weighted: bool,
) -> (Optimum, f64) {
    let o = local_parabola(&p.x, &p.y, weighted.then_some(&p.w[..]), opts.half_window);
    if !o.status.is_ok() {
        return (o, f64::NAN);
    }
    let log_d = if p.t.iter().all(|v| v.is_nan()) {
        log_c - opts.flops_per_token.ln() - o.log_n
    } else {
        interp(&p.x, &p.t, o.log_n)
    };
    (o, log_d)
}

/// Per-thread scratch of a replicate.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) prof: Profile,
    pub(super) counts: Vec<u32>,
    pub(super) best: Vec<usize>,
    pub(super) xs: Vec<f64>,
    pub(super) yn: Vec<f64>,
    pub(super) yd: Vec<f64>,
}

/// The power-law fits over the budgets with an optimum: (log C, log N*, log D*) triples.
pub(super) fn fit_pair(xs: &[f64], yn: &[f64], yd: &[f64]) -> (PowerFit, PowerFit) {
    (power_fit(xs, yn), power_fit(xs, yd))
}

/// Fills a `Frontier` from the full-data optima and the replicates: `rep_opt` is n_boot x
/// n_budgets x 2 (log N*, log D*; NaN where a replicate had no optimum there).
pub(super) fn assemble(
    mut optima: Vec<BudgetOptimum>,
    log_c: &[f64],
    log_opt: &[(f64, f64)],
    samples: Vec<f64>,
    rep_opt: &[f64],
    opts: &FrontierOptions,
    seed: u64,
) -> Result<Frontier> {
    let nb = optima.len();
    let (mut xs, mut yn, mut yd) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..nb {
        if optima[k].status.is_ok() {
            xs.push(log_c[k]);
            yn.push(log_opt[k].0);
            yd.push(log_opt[k].1);
        }
    }
    let (n_fit, d_fit) = fit_pair(&xs, &yn, &yd);
    let reps = samples.len() / 4;
    let col = |j: usize| -> Vec<f64> { (0..reps).map(|i| samples[i * 4 + j]).collect() };
    let pct = |s: &[f64], est: f64| interval(s, est, None, opts.level, IntervalMethod::Percentile);
    let (a_s, kn_s, b_s, kd_s) = (col(0), col(1), col(2), col(3));
    let n_boot_ok = a_s.iter().filter(|v| v.is_finite()).count();
    let a_bounds = pct(&a_s, n_fit.exponent)?;
    let b_bounds = pct(&b_s, d_fit.exponent)?;
    // per budget bounds
    for k in 0..nb {
        let ln: Vec<f64> = (0..reps).map(|i| rep_opt[(i * nb + k) * 2]).collect();
        let ld: Vec<f64> = (0..reps).map(|i| rep_opt[(i * nb + k) * 2 + 1]).collect();
        let o = &mut optima[k];
        o.n_boot_ok = ln.iter().filter(|v| v.is_finite()).count();
        let (lo, hi) = pct(&ln, log_opt[k].0)?;
        o.n_lower = lo.exp();
        o.n_upper = hi.exp();
        let (lo, hi) = pct(&ld, log_opt[k].1)?;
        o.d_lower = lo.exp();
        o.d_upper = hi.exp();
    }
    let mut predictions = Vec::with_capacity(opts.budgets.len());
    for &c in &opts.budgets {
        let lc = c.ln();
        let pn: Vec<f64> = (0..reps).map(|i| kn_s[i] + a_s[i] * lc).collect();
        let pd: Vec<f64> = (0..reps).map(|i| kd_s[i] + b_s[i] * lc).collect();
        let (en, ed) = (n_fit.log_at(lc), d_fit.log_at(lc));
        let (nl, nh) = pct(&pn, en)?;
        let (dl, dh) = pct(&pd, ed)?;
        predictions.push(Prediction {
            c,
            n_opt: en.exp(),
            n_lower: nl.exp(),
            n_upper: nh.exp(),
            d_opt: ed.exp(),
            d_lower: dl.exp(),
            d_upper: dh.exp(),
        });
    }
    Ok(Frontier {
        optima,
        n_fit,
        d_fit,
        a_bounds,
        b_bounds,
        predictions,
        samples,
        n_boot_ok,
        seed,
    })
}

/// Refuses `n` replicates over `nb` budgets whose tables the machine cannot hold (before the
/// replicates run): per replicate its 4 summary values and 2 optima per budget, held twice
/// while the tables are gathered, and the per-replicate bookkeeping.
pub(super) fn check_replicates(n: usize, nb: usize) -> Result<()> {
    let per = nb.checked_mul(32).and_then(|b| b.checked_add(96));
    let need = per.and_then(|p| crate::solver::memory::product(n, p, 1));
    crate::solver::memory::check(
        &format!("the bootstrap n_boot={n} over {nb} budgets needs"),
        need,
        "ask for fewer replicates",
    )
}

/// Runs `n` replicates of `one` in parallel (rayon, per-thread scratch); each returns
/// (4 summary values, n_budgets x 2 optima). Once `cancel` is raised the remaining replicates
/// are skipped and both tables come back empty.
pub(super) fn replicates(
    n: usize,
    nb: usize,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
    one: impl Fn(&mut Scratch, usize, &mut [f64]) -> [f64; 4] + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let rows: Vec<([f64; 4], Vec<f64>)> = (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map_init(Scratch::default, |scr, i| {
            if cancelled() {
                return ([f64::NAN; 4], Vec::new());
            }
            let mut opt = vec![f64::NAN; nb * 2];
            let s = one(scr, i, &mut opt);
            if let Some(p) = progress {
                p.fetch_add(1, Ordering::Relaxed);
            }
            (s, opt)
        })
        .collect();
    if cancelled() {
        // the caller is interrupted: skip the tables (their size, and the intervals read from
        // them, grow with n)
        return (Vec::new(), Vec::new());
    }
    let mut samples = Vec::with_capacity(n * 4);
    let mut rep_opt = Vec::with_capacity(n * nb * 2);
    for (s, o) in rows {
        samples.extend_from_slice(&s);
        rep_opt.extend(o);
    }
    (samples, rep_opt)
}

/// Fits both power laws to the optima a replicate produced (written to `opt`, n_budgets x 2).
pub(super) fn summarise(scr: &mut Scratch, log_c: &[f64], opt: &[f64]) -> [f64; 4] {
    scr.xs.clear();
    scr.yn.clear();
    scr.yd.clear();
    for (k, &lc) in log_c.iter().enumerate() {
        let (ln, ld) = (opt[2 * k], opt[2 * k + 1]);
        if ln.is_finite() && ld.is_finite() {
            scr.xs.push(lc);
            scr.yn.push(ln);
            scr.yd.push(ld);
        }
    }
    let (nf, df) = fit_pair(&scr.xs, &scr.yn, &scr.yd);
    [nf.exponent, nf.log_coef, df.exponent, df.log_coef]
}

/// Replicates that resample the budgets with an optimum (`Resample::Budgets`): each draws as
/// many budgets as there are, with replacement, and refits both power laws through their
/// full-data optima. A draw with fewer than two distinct budgets has no fit (NaN).
pub(super) fn budget_replicates(
    n: usize,
    log_c: &[f64],
    log_opt: &[(f64, f64)],
    optima: &[BudgetOptimum],
    seed: u64,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> (Vec<f64>, Vec<f64>) {
    let kept: Vec<usize> = (0..optima.len())
        .filter(|&k| optima[k].status.is_ok())
        .collect();
    replicates(n, log_c.len(), cancel, progress, |scr, i, _opt| {
        if kept.is_empty() {
            return [f64::NAN; 4];
        }
        let mut rng = Rng::stream(seed, i as u64);
        scr.xs.clear();
        scr.yn.clear();
        scr.yd.clear();
        for _ in 0..kept.len() {
            let k = kept[rng.below(kept.len())];
            scr.xs.push(log_c[k]);
            scr.yn.push(log_opt[k].0);
            scr.yd.push(log_opt[k].1);
        }
        let (nf, df) = fit_pair(&scr.xs, &scr.yn, &scr.yd);
        [nf.exponent, nf.log_coef, df.exponent, df.log_coef]
    })
}
