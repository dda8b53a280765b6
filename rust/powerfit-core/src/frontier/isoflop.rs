//! IsoFLOP profiles (Approach 2): rows grouped into budgets, each budget's optimum, the frontier.

use std::sync::atomic::{AtomicBool, AtomicUsize};

use rayon::prelude::*;

use super::*;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// One budget of an IsoFLOP data set: its rows sorted by (size, loss), and the distinct sizes.
#[derive(Debug, Clone)]
pub(super) struct IsoBudget {
    pub(super) c: f64,
    pub(super) log_c: f64,
    /// Per row (sorted by size then loss): log N, log L, log T (NaN without tokens) and the
    /// index of its size among the budget's distinct sizes.
    pub(super) lx: Vec<f64>,
    pub(super) ly: Vec<f64>,
    pub(super) lt: Vec<f64>,
    pub(super) size_of: Vec<usize>,
    pub(super) n_sizes: usize,
}

/// Groups rows into budgets: compute values within a relative `rtol` of the previous value (in
/// sorted order) share a budget, labelled by their geometric mean.
pub(super) fn iso_budgets(cols: &Columns<'_>, rtol: f64) -> Vec<IsoBudget> {
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
    pub(super) fn profile(&self, counts: Option<&[u32]>, p: &mut Profile) {
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
    check_replicates(opts.n_boot, optima.len())?;
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
pub(super) fn check_offsets(offsets: &[usize], n: usize) -> Result<()> {
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

pub(super) fn sub<'a>(cols: &Columns<'a>, lo: usize, hi: usize) -> Columns<'a> {
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
