//! The compute-optimal frontier straight from runs (Hoffmann et al. 2022, Approaches 1 and 2).
//!
//! - IsoFLOP profiles (Approach 2): at each FLOP budget C, log loss against log model size has
//!   a minimum. It is located by a local parabola around the lowest sampled point (a window of
//!   up to `half_window` sampled sizes on *each* side, shrunk to stay symmetric at the ends of the
//!   sampled range); a budget whose lowest point is the smallest or largest sampled size has no
//!   located optimum and is dropped (its status says which edge).
//! - The training-curve envelope (Approach 1): every run's curve is interpolated (linear in
//!   log C, log L) onto a log-spaced grid of budgets; at each grid budget the lowest loss of any
//!   run covering it is the envelope, and the size attaining it (or the vertex of the local
//!   parabola over the sizes' best losses) is N*(C). Budgets where the best size is the
//!   smallest or largest size covering the budget are dropped as above.
//!
//! Both then fit N*(C) = k_N C^a and D*(C) = k_D C^b by least squares in log-log and bootstrap
//! everything: IsoFLOP replicates resample the runs (points) within each budget, envelope
//! replicates resample whole runs. Replicate i of a group with seed s draws from
//! `Rng::stream(s, i)`, so results do not depend on the number of threads. Intervals are
//! percentile intervals over the replicates that produced a fit.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::stats::{interval, IntervalMethod};

/// Why a budget has, or lacks, an optimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetStatus {
    /// An interior optimum was located.
    Ok,
    /// The lowest loss is at the smallest sampled (or covering) size.
    EdgeLow,
    /// The lowest loss is at the largest sampled (or covering) size.
    EdgeHigh,
    /// Fewer than three distinct sizes.
    TooFewSizes,
    /// The local parabola is not convex (a flat or non-unimodal profile).
    NotConvex,
}

impl BudgetStatus {
    pub const ALL: [BudgetStatus; 5] = [
        BudgetStatus::Ok,
        BudgetStatus::EdgeLow,
        BudgetStatus::EdgeHigh,
        BudgetStatus::TooFewSizes,
        BudgetStatus::NotConvex,
    ];

    pub fn is_ok(&self) -> bool {
        matches!(self, BudgetStatus::Ok)
    }

    pub fn code(&self) -> u8 {
        match self {
            BudgetStatus::Ok => 0,
            BudgetStatus::EdgeLow => 1,
            BudgetStatus::EdgeHigh => 2,
            BudgetStatus::TooFewSizes => 3,
            BudgetStatus::NotConvex => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<BudgetStatus> {
        Self::ALL.get(code as usize).copied()
    }

    /// snake_case name, for Python.
    pub fn name(&self) -> &'static str {
        match self {
            BudgetStatus::Ok => "ok",
            BudgetStatus::EdgeLow => "edge_low",
            BudgetStatus::EdgeHigh => "edge_high",
            BudgetStatus::TooFewSizes => "too_few_sizes",
            BudgetStatus::NotConvex => "not_convex",
        }
    }
}

/// The located optimum of one profile (log scale), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimum {
    pub status: BudgetStatus,
    /// log N* (the vertex), and the log loss of the parabola there.
    pub log_n: f64,
    pub log_l: f64,
    /// Second derivative of log L in log N at the vertex (2 c2).
    pub curvature: f64,
    /// The window used: points `lo..=hi` of the profile.
    pub lo: usize,
    pub hi: usize,
}

impl Optimum {
    fn none(status: BudgetStatus) -> Optimum {
        Optimum {
            status,
            log_n: f64::NAN,
            log_l: f64::NAN,
            curvature: f64::NAN,
            lo: 0,
            hi: 0,
        }
    }
}

/// Weighted least-squares parabola y = c0 + c1 t + c2 t^2 through points `lo..=hi`, with t
/// measured from `x0` and scaled by `s` for conditioning; returns (c0, c1, c2) in units of t.
fn parabola(
    x: &[f64],
    y: &[f64],
    w: Option<&[f64]>,
    lo: usize,
    hi: usize,
    x0: f64,
) -> Option<(f64, f64, f64)> {
    let s = (lo..=hi).map(|k| (x[k] - x0).abs()).fold(0.0_f64, f64::max);
    if !(s > 0.0) {
        return None;
    }
    // normal equations in u = t/s: M c = r, M_jk = sum w u^(j+k), r_j = sum w u^j y
    let mut m = [0.0; 5];
    let mut r = [0.0; 3];
    for k in lo..=hi {
        let wk = w.map_or(1.0, |w| w[k]);
        let u = (x[k] - x0) / s;
        let mut p = wk;
        for (j, mj) in m.iter_mut().enumerate() {
            *mj += p;
            if j < 3 {
                r[j] += p * y[k];
            }
            p *= u;
        }
    }
    let a = [[m[0], m[1], m[2]], [m[1], m[2], m[3]], [m[2], m[3], m[4]]];
    let c = solve3(a, r)?;
    Some((c[0], c[1] / s, c[2] / (s * s)))
}

/// Solves a 3x3 system by Cramer's rule (the system is small and well scaled).
fn solve3(a: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let det3 = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det3(&a);
    let scale = a[0][0] * a[1][1] * a[2][2];
    if !(d.abs() > 1e-13 * scale.abs()) || !d.is_finite() {
        return None;
    }
    let mut out = [0.0; 3];
    for (j, o) in out.iter_mut().enumerate() {
        let mut b = a;
        for i in 0..3 {
            b[i][j] = r[i];
        }
        *o = det3(&b) / d;
    }
    Some(out)
}

/// Locates the minimum of a profile: `x` (log sizes) strictly increasing, `y` (log losses),
/// optional positive weights (multiplicities). The window is the lowest point and up to
/// `half_window` neighbours on each side, the same number on both sides; if that parabola is
/// not convex or its vertex leaves the window, the three-point parabola around the lowest point
/// is used (its vertex always lies between the two neighbours).
pub fn local_parabola(x: &[f64], y: &[f64], w: Option<&[f64]>, half_window: usize) -> Optimum {
    let n = x.len();
    if n < 3 {
        return Optimum::none(BudgetStatus::TooFewSizes);
    }
    let mut i = 0;
    for k in 1..n {
        if y[k] < y[i] {
            i = k;
        }
    }
    if i == 0 {
        return Optimum::none(BudgetStatus::EdgeLow);
    }
    if i == n - 1 {
        return Optimum::none(BudgetStatus::EdgeHigh);
    }
    let widest = half_window.max(1).min(i).min(n - 1 - i);
    let mut hh = widest;
    loop {
        let (lo, hi) = (i - hh, i + hh);
        if let Some((c0, c1, c2)) = parabola(x, y, w, lo, hi, x[i]) {
            if c2 > 0.0 && c2.is_finite() {
                let t = -c1 / (2.0 * c2);
                let v = x[i] + t;
                if v >= x[lo] && v <= x[hi] {
                    return Optimum {
                        status: BudgetStatus::Ok,
                        log_n: v,
                        log_l: c0 + c1 * t + c2 * t * t,
                        curvature: 2.0 * c2,
                        lo,
                        hi,
                    };
                }
            }
        }
        if hh == 1 {
            return Optimum::none(BudgetStatus::NotConvex);
        }
        hh = 1;
    }
}

/// Least squares y = c + e x (log-log power law y = k x^e).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerFit {
    pub exponent: f64,
    /// log k.
    pub log_coef: f64,
    pub r2: f64,
    pub n: usize,
}

impl PowerFit {
    pub const NAN: PowerFit = PowerFit {
        exponent: f64::NAN,
        log_coef: f64::NAN,
        r2: f64::NAN,
        n: 0,
    };

    /// The fitted value at x = log C, on the log scale.
    pub fn log_at(&self, log_x: f64) -> f64 {
        self.log_coef + self.exponent * log_x
    }
}

/// Ordinary least squares of `y` on `x` (both on the log scale). NaN with fewer than two
/// distinct x.
pub fn power_fit(x: &[f64], y: &[f64]) -> PowerFit {
    let n = x.len();
    if n < 2 {
        return PowerFit { n, ..PowerFit::NAN };
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for k in 0..n {
        let (dx, dy) = (x[k] - mx, y[k] - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if !(sxx > 0.0) {
        return PowerFit { n, ..PowerFit::NAN };
    }
    let e = sxy / sxx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    PowerFit {
        exponent: e,
        log_coef: my - e * mx,
        r2,
        n,
    }
}

/// What a bootstrap replicate of a frontier analysis resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    /// The runs (rows within each budget for IsoFLOP profiles, whole training curves for the
    /// envelope); every budget's optimum is located again, so per-budget intervals exist.
    Runs,
    /// The budgets with an optimum, each keeping its full-data optimum: a case bootstrap of the
    /// power-law regression through the optima. Thin profiles are never made thinner, so the
    /// exponents' intervals do not inherit the locator's small-sample bias; there are no
    /// per-budget intervals.
    Budgets,
}

impl Resample {
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "runs" => Ok(Resample::Runs),
            "budgets" => Ok(Resample::Budgets),
            _ => Err(Error::InvalidOption(format!(
                "resample must be 'runs' or 'budgets', got '{s}'"
            ))),
        }
    }
}

/// Options shared by the IsoFLOP and envelope analyses.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierOptions {
    /// Neighbours on each side of the lowest point in the local parabola.
    pub half_window: usize,
    /// Bootstrap replicates (0: none).
    pub n_boot: usize,
    pub seed: u64,
    /// Coverage of the percentile intervals.
    pub level: f64,
    /// Budgets at which N*(C) and D*(C) are predicted from the power laws.
    pub budgets: Vec<f64>,
    /// FLOPs per parameter per token, for D* = C / (k N*) when no token counts are given.
    pub flops_per_token: f64,
    pub resample: Resample,
}

impl Default for FrontierOptions {
    fn default() -> Self {
        FrontierOptions {
            half_window: 2,
            n_boot: 1000,
            seed: 0,
            level: 0.95,
            budgets: Vec::new(),
            flops_per_token: 6.0,
            resample: Resample::Runs,
        }
    }
}

impl FrontierOptions {
    pub fn validate(&self) -> Result<()> {
        if self.half_window == 0 {
            return Err(Error::InvalidOption(
                "window must be at least 1 (neighbours on each side of the lowest point)".into(),
            ));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::InvalidOption(format!(
                "level must be in (0, 1), got {}",
                self.level
            )));
        }
        if !(self.flops_per_token > 0.0 && self.flops_per_token.is_finite()) {
            return Err(Error::InvalidOption(format!(
                "flops_per_token must be positive and finite, got {}",
                self.flops_per_token
            )));
        }
        for &c in &self.budgets {
            if !(c > 0.0 && c.is_finite()) {
                return Err(Error::InvalidOption(format!(
                    "prediction budgets must be positive and finite, got {c}"
                )));
            }
        }
        Ok(())
    }
}

/// One budget's optimum (natural units) with bootstrap bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetOptimum {
    pub c: f64,
    /// Rows (IsoFLOP) or covering runs (envelope) at this budget, and distinct sizes.
    pub n_points: usize,
    pub n_sizes: usize,
    pub status: BudgetStatus,
    pub n_opt: f64,
    pub d_opt: f64,
    pub l_opt: f64,
    /// Envelope only: the lowest loss of any run at this budget and the run attaining it.
    pub l_env: f64,
    pub best_run: Option<usize>,
    /// Percentile bounds of N* and D* over the replicates in which this budget had an
    /// optimum, and how many did.
    pub n_lower: f64,
    pub n_upper: f64,
    pub d_lower: f64,
    pub d_upper: f64,
    pub n_boot_ok: usize,
}

/// N*(C), D*(C) from the power laws at one prediction budget, with bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub c: f64,
    pub n_opt: f64,
    pub n_lower: f64,
    pub n_upper: f64,
    pub d_opt: f64,
    pub d_lower: f64,
    pub d_upper: f64,
}

/// The outcome of one group's analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    pub optima: Vec<BudgetOptimum>,
    /// log N* on log C, and log D* on log C, over the budgets with status `Ok`.
    pub n_fit: PowerFit,
    pub d_fit: PowerFit,
    /// Percentile bounds of a and b.
    pub a_bounds: (f64, f64),
    pub b_bounds: (f64, f64),
    pub predictions: Vec<Prediction>,
    /// Replicates, row-major n_boot x 4: a, log k_N, b, log k_D (NaN where a replicate had
    /// fewer than two budgets with an optimum).
    pub samples: Vec<f64>,
    pub n_boot_ok: usize,
    /// The seed this group's replicates drew from.
    pub seed: u64,
}

/// Columns of `Frontier::samples`.
pub const SAMPLE_COLUMNS: [&str; 4] = ["a", "log_k_N", "b", "log_k_D"];

/// One profile: distinct sizes (log, increasing) with the lowest loss among rows of that size,
/// and the log token count of that row.
#[derive(Debug, Clone, Default)]
struct Profile {
    x: Vec<f64>,
    y: Vec<f64>,
    t: Vec<f64>,
    w: Vec<f64>,
}

impl Profile {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.t.clear();
        self.w.clear();
    }
}

/// Linear interpolation of `t` over `x` (increasing) at `v`, clamped to the ends.
fn interp(x: &[f64], t: &[f64], v: f64) -> f64 {
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
fn profile_optimum(
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

fn check_column(name: &str, v: &[f64], n: usize) -> Result<()> {
    if v.len() != n {
        return Err(Error::InvalidShape(format!(
            "column '{name}' has {} rows, expected {n}",
            v.len()
        )));
    }
    for (row, &x) in v.iter().enumerate() {
        if !(x > 0.0 && x.is_finite()) {
            return Err(Error::InvalidData {
                column: name.to_string(),
                row,
                value: x,
                reason: "must be positive and finite".into(),
            });
        }
    }
    Ok(())
}

/// The columns of one group (natural values): compute, size, loss and optionally tokens.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub compute: &'a [f64],
    pub size: &'a [f64],
    pub loss: &'a [f64],
    pub tokens: Option<&'a [f64]>,
}

impl Columns<'_> {
    fn validate(&self) -> Result<usize> {
        let n = self.compute.len();
        check_column("compute", self.compute, n)?;
        check_column("size", self.size, n)?;
        check_column("loss", self.loss, n)?;
        if let Some(t) = self.tokens {
            check_column("tokens", t, n)?;
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// IsoFLOP profiles
// ---------------------------------------------------------------------------------------------

/// One budget of an IsoFLOP data set: its rows sorted by (size, loss), and the distinct sizes.
#[derive(Debug, Clone)]
struct IsoBudget {
    c: f64,
    log_c: f64,
    /// Per row (sorted by size then loss): log N, log L, log T (NaN without tokens) and the
    /// index of its size among the budget's distinct sizes.
    lx: Vec<f64>,
    ly: Vec<f64>,
    lt: Vec<f64>,
    size_of: Vec<usize>,
    n_sizes: usize,
}

/// Groups rows into budgets: compute values within a relative `rtol` of the previous value (in
/// sorted order) share a budget, labelled by their geometric mean.
fn iso_budgets(cols: &Columns<'_>, rtol: f64) -> Vec<IsoBudget> {
    let n = cols.compute.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cols.compute[a].total_cmp(&cols.compute[b]).then(a.cmp(&b)));
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && cols.compute[order[end]] <= cols.compute[order[end - 1]] * (1.0 + rtol) {
            end += 1;
        }
        let mut rows: Vec<usize> = order[start..end].to_vec();
        rows.sort_by(|&a, &b| {
            cols.size[a]
                .total_cmp(&cols.size[b])
                .then(cols.loss[a].total_cmp(&cols.loss[b]))
                .then(a.cmp(&b))
        });
        let (c_first, c_last) = (cols.compute[order[start]], cols.compute[order[end - 1]]);
        let log_c = if c_first == c_last {
            c_first.ln()
        } else {
            rows.iter().map(|&r| cols.compute[r].ln()).sum::<f64>() / rows.len() as f64
        };
        let c = if c_first == c_last {
            c_first
        } else {
            log_c.exp()
        };
        let mut size_of = Vec::with_capacity(rows.len());
        let mut k = 0usize;
        for (j, &r) in rows.iter().enumerate() {
            if j > 0 && cols.size[r] != cols.size[rows[j - 1]] {
                k += 1;
            }
            size_of.push(k);
        }
        out.push(IsoBudget {
            c,
            log_c,
            lx: rows.iter().map(|&r| cols.size[r].ln()).collect(),
            ly: rows.iter().map(|&r| cols.loss[r].ln()).collect(),
            lt: rows
                .iter()
                .map(|&r| cols.tokens.map_or(f64::NAN, |t| t[r].ln()))
                .collect(),
            size_of,
            n_sizes: if rows.is_empty() { 0 } else { k + 1 },
        });
        start = end;
    }
    out
}

impl IsoBudget {
    /// The profile from row multiplicities (`None`: every row once): per size, the lowest loss
    /// among its drawn rows and that row's tokens; the weight is the number of draws of the size.
    fn profile(&self, counts: Option<&[u32]>, p: &mut Profile) {
        p.clear();
        let mut last = usize::MAX;
        for j in 0..self.lx.len() {
            let c = counts.map_or(1, |c| c[j]);
            if c == 0 {
                continue;
            }
            let s = self.size_of[j];
            if s != last {
                // rows are sorted by loss within a size: the first drawn row is the best
                p.x.push(self.lx[j]);
                p.y.push(self.ly[j]);
                p.t.push(self.lt[j]);
                p.w.push(c as f64);
                last = s;
            } else if let Some(w) = p.w.last_mut() {
                *w += c as f64;
            }
        }
    }
}

/// Per-thread scratch of a replicate.
#[derive(Default)]
struct Scratch {
    prof: Profile,
    counts: Vec<u32>,
    best: Vec<usize>,
    xs: Vec<f64>,
    yn: Vec<f64>,
    yd: Vec<f64>,
}

/// The power-law fits over the budgets with an optimum: (log C, log N*, log D*) triples.
fn fit_pair(xs: &[f64], yn: &[f64], yd: &[f64]) -> (PowerFit, PowerFit) {
    (power_fit(xs, yn), power_fit(xs, yd))
}

/// Fills a `Frontier` from the full-data optima and the replicates: `rep_opt` is n_boot x
/// n_budgets x 2 (log N*, log D*; NaN where a replicate had no optimum there).
fn assemble(
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

/// Runs `n` replicates of `one` in parallel (rayon, per-thread scratch); each returns
/// (4 summary values, n_budgets x 2 optima). Cancelled replicates are NaN.
fn replicates(
    n: usize,
    nb: usize,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
    one: impl Fn(&mut Scratch, usize, &mut [f64]) -> [f64; 4] + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let rows: Vec<([f64; 4], Vec<f64>)> = (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map_init(Scratch::default, |scr, i| {
            let mut opt = vec![f64::NAN; nb * 2];
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return ([f64::NAN; 4], opt);
            }
            let s = one(scr, i, &mut opt);
            if let Some(p) = progress {
                p.fetch_add(1, Ordering::Relaxed);
            }
            (s, opt)
        })
        .collect();
    let mut samples = Vec::with_capacity(n * 4);
    let mut rep_opt = Vec::with_capacity(n * nb * 2);
    for (s, o) in rows {
        samples.extend_from_slice(&s);
        rep_opt.extend(o);
    }
    (samples, rep_opt)
}

/// Fits both power laws to the optima a replicate produced (written to `opt`, n_budgets x 2).
fn summarise(scr: &mut Scratch, log_c: &[f64], opt: &[f64]) -> [f64; 4] {
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
fn budget_replicates(
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

/// IsoFLOP analysis of one data set: rows are (compute budget, size, loss[, tokens]); rows
/// whose budgets agree within relative `budget_rtol` form one profile. Several rows of the same
/// size at a budget (e.g. a learning-rate sweep) count as one point, the lowest loss.
pub fn isoflop(
    cols: &Columns<'_>,
    budget_rtol: f64,
    opts: &FrontierOptions,
    seed: u64,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Frontier> {
    opts.validate()?;
    if !(0.0..1.0).contains(&budget_rtol) {
        return Err(Error::InvalidOption(format!(
            "budget_rtol must be in [0, 1), got {budget_rtol}"
        )));
    }
    cols.validate()?;
    let budgets = iso_budgets(cols, budget_rtol);
    let nb = budgets.len();
    let mut prof = Profile::default();
    let mut optima = Vec::with_capacity(nb);
    let mut log_opt = Vec::with_capacity(nb);
    for b in &budgets {
        b.profile(None, &mut prof);
        let (o, ld) = profile_optimum(&prof, b.log_c, opts, false);
        log_opt.push((o.log_n, ld));
        optima.push(BudgetOptimum {
            c: b.c,
            n_points: b.lx.len(),
            n_sizes: b.n_sizes,
            status: o.status,
            n_opt: o.log_n.exp(),
            d_opt: ld.exp(),
            l_opt: o.log_l.exp(),
            l_env: f64::NAN,
            best_run: None,
            n_lower: f64::NAN,
            n_upper: f64::NAN,
            d_lower: f64::NAN,
            d_upper: f64::NAN,
            n_boot_ok: 0,
        });
    }
    let log_c: Vec<f64> = budgets.iter().map(|b| b.log_c).collect();
    let kept: Vec<usize> = (0..nb).filter(|&k| optima[k].status.is_ok()).collect();
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
        for &k in &kept {
            let b = &budgets[k];
            let m = b.lx.len();
            scr.counts.clear();
            scr.counts.resize(m, 0);
            for _ in 0..m {
                scr.counts[rng.below(m)] += 1;
            }
            let counts = std::mem::take(&mut scr.counts);
            b.profile(Some(&counts), &mut scr.prof);
            scr.counts = counts;
            let (o, ld) = profile_optimum(&scr.prof, b.log_c, opts, true);
            if o.status.is_ok() {
                opt[2 * k] = o.log_n;
                opt[2 * k + 1] = ld;
            }
        }
        summarise(scr, &log_c, opt)
    });
    assemble(optima, &log_c, &log_opt, samples, &rep_opt, opts, seed)
}

/// Group offsets: non-decreasing, starting at 0 and ending at `n`.
fn check_offsets(offsets: &[usize], n: usize) -> Result<()> {
    if offsets.first() != Some(&0) || offsets.last() != Some(&n) {
        return Err(Error::InvalidShape(format!(
            "group offsets must start at 0 and end at the number of rows ({n})"
        )));
    }
    if offsets.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::InvalidShape(
            "group offsets must be non-decreasing (rows sorted by group)".into(),
        ));
    }
    Ok(())
}

fn sub<'a>(cols: &Columns<'a>, lo: usize, hi: usize) -> Columns<'a> {
    Columns {
        compute: &cols.compute[lo..hi],
        size: &cols.size[lo..hi],
        loss: &cols.loss[lo..hi],
        tokens: cols.tokens.map(|t| &t[lo..hi]),
    }
}

/// `isoflop` for every group: rows sorted by group, group g is rows `offsets[g]..offsets[g+1]`.
/// Group g's replicates use the seed `groups::group_seed(opts.seed, ids[g])` (default id: g).
pub fn isoflop_groups(
    cols: &Columns<'_>,
    offsets: &[usize],
    ids: Option<&[u64]>,
    budget_rtol: f64,
    opts: &FrontierOptions,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Vec<Frontier>> {
    let n = cols.validate()?;
    check_offsets(offsets, n)?;
    let g = offsets.len() - 1;
    if ids.is_some_and(|i| i.len() != g) {
        return Err(Error::InvalidShape(format!(
            "{} group ids for {g} groups",
            ids.map_or(0, |i| i.len())
        )));
    }
    (0..g)
        .into_par_iter()
        .map(|k| {
            let id = ids.map_or(k as u64, |i| i[k]);
            let seed = crate::groups::group_seed(opts.seed, id);
            isoflop(
                &sub(cols, offsets[k], offsets[k + 1]),
                budget_rtol,
                opts,
                seed,
                cancel,
                progress,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Training-curve envelope
// ---------------------------------------------------------------------------------------------

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
const COVER_TOL: f64 = 1e-9;

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
                if lc.last() == Some(&c) {
                    *ll.last_mut().unwrap() = l;
                    *lt.last_mut().unwrap() = t;
                } else {
                    lc.push(c);
                    ll.push(l);
                    lt.push(t);
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
fn cover_matrix(runs: &Runs, log_grid: &[f64]) -> (Vec<f64>, Vec<f64>) {
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
fn envelope_budget(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parabola_vertex_exact() {
        // y = 0.3 (x - 1.7)^2 + 2 sampled at 7 points: every window recovers the vertex
        let x: Vec<f64> = (0..7).map(|k| k as f64 * 0.5).collect();
        let y: Vec<f64> = x.iter().map(|v| 0.3 * (v - 1.7).powi(2) + 2.0).collect();
        for h in 1..4 {
            let o = local_parabola(&x, &y, None, h);
            assert_eq!(o.status, BudgetStatus::Ok);
            assert!((o.log_n - 1.7).abs() < 1e-12, "{h} {o:?}");
            assert!((o.log_l - 2.0).abs() < 1e-12);
            assert!((o.curvature - 0.6).abs() < 1e-10);
        }
        // symmetric window: the lowest point is index 3 (x = 1.5); h = 2 uses 1..=5
        let o = local_parabola(&x, &y, None, 2);
        assert_eq!((o.lo, o.hi), (1, 5));
        let o = local_parabola(&x[2..], &y[2..], None, 2);
        assert_eq!((o.lo, o.hi), (0, 2), "shrunk to stay symmetric at the end");
    }

    #[test]
    fn edges_and_degenerate_profiles() {
        let x = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(
            local_parabola(&x, &[1.0, 2.0, 3.0, 4.0], None, 2).status,
            BudgetStatus::EdgeLow
        );
        assert_eq!(
            local_parabola(&x, &[4.0, 3.0, 2.0, 1.0], None, 2).status,
            BudgetStatus::EdgeHigh
        );
        assert_eq!(
            local_parabola(&x[..2], &[1.0, 0.5], None, 2).status,
            BudgetStatus::TooFewSizes
        );
        assert_eq!(
            local_parabola(&x[..3], &[1.0, 1.0, 1.0], None, 2).status,
            BudgetStatus::EdgeLow
        );
        assert_eq!(
            local_parabola(&x[..3], &[1.0, 0.5, 0.5], None, 2).status,
            BudgetStatus::Ok
        );
    }

    #[test]
    fn weights_are_multiplicities() {
        let x = [0.0, 0.4, 1.1, 1.5, 2.3];
        let y = [1.3, 1.0, 0.9, 1.05, 1.6];
        let w = [2.0, 1.0, 3.0, 1.0, 1.0];
        let (xr, yr): (Vec<f64>, Vec<f64>) = (0..5)
            .flat_map(|k| std::iter::repeat_n((x[k], y[k]), w[k] as usize))
            .unzip();
        // repeated points and weights give the same normal equations
        let a = parabola(&x, &y, Some(&w), 0, 4, x[2]).unwrap();
        let b = parabola(&xr, &yr, None, 0, xr.len() - 1, x[2]).unwrap();
        assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
        assert!((a.2 - b.2).abs() < 1e-12);
    }

    #[test]
    fn power_fit_exact() {
        let x: Vec<f64> = (0..6).map(|k| 40.0 + k as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| -3.0 + 0.52 * v).collect();
        let f = power_fit(&x, &y);
        assert!((f.exponent - 0.52).abs() < 1e-13);
        assert!((f.log_coef + 3.0).abs() < 1e-11);
        assert!((f.r2 - 1.0).abs() < 1e-12);
        assert!(power_fit(&x[..1], &y[..1]).exponent.is_nan());
        assert!(power_fit(&[1.0, 1.0], &[2.0, 3.0]).exponent.is_nan());
    }

    #[test]
    fn interpolation_and_grid() {
        let x = [0.0, 1.0, 3.0];
        let t = [1.0, 2.0, 0.0];
        assert_eq!(interp(&x, &t, -1.0), 1.0);
        assert_eq!(interp(&x, &t, 0.5), 1.5);
        assert_eq!(interp(&x, &t, 2.0), 1.0);
        assert_eq!(interp(&x, &t, 5.0), 0.0);
        let g = log_grid(1e18, 1e20, 3);
        assert_eq!(g[0], 1e18);
        assert!((g[1] / 1e19 - 1.0).abs() < 1e-12);
        assert_eq!(g[2], 1e20);
    }

    #[test]
    fn status_codes_round_trip() {
        for s in BudgetStatus::ALL {
            assert_eq!(BudgetStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(BudgetStatus::from_code(99), None);
    }
}
