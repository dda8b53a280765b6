//! Bootstrap refits in parallel. Every replicate refits the same law, loss, bounds and fixed
//! parameters from the full-data estimate. Case and cluster resamples are counts used as
//! weights: on data of at most `GATHER_MAX` rows the rows a replicate drew (about 63% of them)
//! are gathered with their counts, so no pass spends time on rows of weight zero; larger data
//! keep a weight vector over all rows and are never copied. Residual and parametric resamples
//! are a new target.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::law::Cols;
use crate::loss::Scale;
use crate::problem::Problem;
use crate::rng::Rng;
use crate::solver::lm::{lm, LmOptions, Termination, Workspace};

/// How replicates are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Resample rows with replacement.
    Case,
    /// Resample whole clusters with replacement; `labels[i]` is row i's cluster in 0..k.
    Cluster { labels: Vec<usize> },
    /// Fitted values plus residuals resampled with replacement (on the loss's scale).
    Residual,
    /// Fitted values plus Gaussian noise of scale `sigma` (on the loss's scale).
    Parametric { sigma: f64 },
}

/// Replicates, row-major `n x p`, with each one's termination, cost and iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct BootResult {
    pub samples: Vec<f64>,
    pub status: Vec<Termination>,
    pub cost: Vec<f64>,
    pub n_iter: Vec<u32>,
    pub n_params: usize,
}

impl BootResult {
    /// `n` replicates of `p` parameters, each marked interrupted until its refit writes it.
    fn unfilled(n: usize, p: usize) -> Self {
        BootResult {
            samples: vec![0.0; n * p],
            status: vec![Termination::Interrupted; n],
            cost: vec![0.0; n],
            n_iter: vec![0; n],
            n_params: p,
        }
    }

    pub fn n_success(&self) -> usize {
        self.status.iter().filter(|t| t.is_success()).count()
    }
}

/// Most rows whose drawn subset a case or cluster replicate gathers (the copies are per
/// thread: a few MB at this size).
const GATHER_MAX: usize = 1 << 16;

/// Per-thread scratch: the solver workspace, one weight/target vector and the gathered rows.
struct Scratch {
    ws: Workspace,
    buf: Vec<f64>,
    counts: Vec<f64>,
    drawn: Drawn,
}

/// The rows a replicate drew, gathered: columns, logs, target and count-times-weight.
#[derive(Default)]
struct Drawn {
    rows: Vec<usize>,
    x: Vec<Vec<f64>>,
    logx: Vec<Vec<f64>>,
    target: Vec<f64>,
    weights: Vec<f64>,
}

impl Drawn {
    /// Gathers the rows of nonzero `counts` (and nonzero weight) of `pb`, in their order.
    fn gather(&mut self, pb: &Problem, counts: &[f64]) {
        self.rows.clear();
        self.weights.clear();
        for (i, &c) in counts.iter().enumerate() {
            let w = c * pb.weights.map_or(1.0, |w| w[i]);
            if w != 0.0 {
                self.rows.push(i);
                self.weights.push(w);
            }
        }
        let rows = &self.rows;
        let pick = |dst: &mut Vec<f64>, src: &[f64]| {
            dst.clear();
            // a column the law does not need (no logs) stays empty
            if !src.is_empty() {
                dst.extend(rows.iter().map(|&i| src[i]));
            }
        };
        self.x.resize_with(pb.cols.x.len(), Vec::new);
        for (dst, src) in self.x.iter_mut().zip(&pb.cols.x) {
            pick(dst, src);
        }
        self.logx.resize_with(pb.cols.logx.len(), Vec::new);
        for (dst, src) in self.logx.iter_mut().zip(&pb.cols.logx) {
            pick(dst, src);
        }
        pick(&mut self.target, pb.target);
    }

    fn cols(&self) -> Cols<'_> {
        Cols {
            x: self.x.iter().map(|c| c.as_slice()).collect(),
            logx: self.logx.iter().map(|c| c.as_slice()).collect(),
        }
    }
}

/// Runs `n` replicates. `estimate` is the full-data fit (natural parameters); `progress`
/// counts finished replicates; `cancel` stops the remaining ones (they report `Interrupted`).
pub fn bootstrap(
    pb: &Problem,
    estimate: &[f64],
    method: &Method,
    n: usize,
    seed: u64,
    opts: &LmOptions,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<BootResult> {
    let rows = pb.n();
    let p = estimate.len();
    if p != pb.spec.n_params() {
        return Err(Error::InvalidOption(format!(
            "estimate has {} values, the law {} parameters",
            p,
            pb.spec.n_params()
        )));
    }
    if rows == 0 {
        return Err(Error::InvalidShape("no data to resample".into()));
    }
    if p == 0 {
        return Err(Error::InvalidOption(
            "the law has no parameters to resample".into(),
        ));
    }
    check_table(n, p, 1, "bootstrap")?;
    // fitted values and residuals on the loss's scale, for the residual and parametric methods
    let mut fitted = vec![0.0; rows];
    pb.law.eval(pb.cols, estimate, &mut fitted);
    if pb.loss.scale == Scale::Log {
        fitted.iter_mut().for_each(|v| *v = v.ln());
    }
    let resid: Vec<f64> = pb.target.iter().zip(&fitted).map(|(t, f)| t - f).collect();
    let clusters: Vec<Vec<usize>> = match method {
        Method::Cluster { labels } => {
            if labels.len() != rows {
                return Err(Error::InvalidShape(format!(
                    "cluster labels have {} rows, data {rows}",
                    labels.len()
                )));
            }
            clusters_of(labels, rows)?
        }
        _ => Vec::new(),
    };
    if let Method::Parametric { sigma } = method {
        if !(sigma.is_finite() && *sigma >= 0.0) {
            return Err(Error::InvalidOption(format!(
                "parametric bootstrap needs a finite noise scale, got {sigma}"
            )));
        }
    }
    if matches!(method, Method::Residual | Method::Parametric { .. })
        && resid.iter().any(|r| !r.is_finite())
    {
        return Err(Error::InvalidOption(
            "the fitted law is not finite at every point: cannot resample residuals".into(),
        ));
    }

    let one = |scr: &mut Scratch, i: usize, params: &mut [f64]| -> (Termination, f64, u32) {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            params.fill(f64::NAN);
            return (Termination::Interrupted, f64::NAN, 0);
        }
        let mut rng = Rng::stream(seed, i as u64);
        let mut local = *pb;
        let drawn_cols;
        match method {
            Method::Case | Method::Cluster { .. } => {
                scr.counts.clear();
                scr.counts.resize(rows, 0.0);
                if clusters.is_empty() {
                    for _ in 0..rows {
                        scr.counts[rng.below(rows)] += 1.0;
                    }
                } else {
                    for _ in 0..clusters.len() {
                        for &r in &clusters[rng.below(clusters.len())] {
                            scr.counts[r] += 1.0;
                        }
                    }
                }
                if rows <= GATHER_MAX {
                    scr.drawn.gather(pb, &scr.counts);
                    drawn_cols = scr.drawn.cols();
                    local.cols = &drawn_cols;
                    local.target = &scr.drawn.target;
                    local.weights = Some(&scr.drawn.weights);
                } else {
                    scr.buf.clear();
                    match pb.weights {
                        Some(w) => scr.buf.extend(scr.counts.iter().zip(w).map(|(c, w)| c * w)),
                        None => scr.buf.extend_from_slice(&scr.counts),
                    }
                    local.weights = Some(&scr.buf);
                }
            }
            Method::Residual => {
                scr.buf.clear();
                scr.buf
                    .extend(fitted.iter().map(|f| f + resid[rng.below(rows)]));
                local.target = &scr.buf;
            }
            Method::Parametric { sigma } => {
                scr.buf.clear();
                scr.buf
                    .extend(fitted.iter().map(|f| f + sigma * rng.normal()));
                local.target = &scr.buf;
            }
        }
        let out = lm(&local, estimate, opts, &mut scr.ws, cancel);
        if let Some(pg) = progress {
            pg.fetch_add(1, Ordering::Relaxed);
        }
        params.copy_from_slice(&out.params);
        (out.termination, out.cost, out.n_iter as u32)
    };

    // the replicates write straight into the result's columns
    let mut out = BootResult::unfilled(n, p);
    out.samples
        .par_chunks_mut(p.max(1))
        .zip(out.status.par_iter_mut())
        .zip(out.cost.par_iter_mut())
        .zip(out.n_iter.par_iter_mut())
        .enumerate()
        .with_min_len(8)
        .for_each_init(
            || Scratch {
                ws: Workspace::new(),
                buf: Vec::with_capacity(rows),
                counts: Vec::with_capacity(rows),
                drawn: Drawn::default(),
            },
            |scr, (i, (((params, status), cost), n_iter))| {
                (*status, *cost, *n_iter) = one(scr, i, params);
            },
        );
    Ok(out)
}

/// The rows of each cluster (labels are cluster ids 0..k, k at most the number of rows).
fn clusters_of(labels: &[usize], rows: usize) -> Result<Vec<Vec<usize>>> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    if k > rows {
        return Err(Error::InvalidOption(format!(
            "cluster labels must be ids 0..k with k at most the number of rows ({rows}); got \
             label {}",
            k - 1
        )));
    }
    let mut members = vec![Vec::new(); k];
    for (i, &c) in labels.iter().enumerate() {
        members[c].push(i);
    }
    members.retain(|m| !m.is_empty());
    Ok(members)
}

/// Bytes of a replicate table: parameters, cost, iterations and status per replicate.
pub fn table_bytes(n: usize, p: usize) -> Option<u64> {
    crate::solver::memory::product(n, 8 * p + 13, 1)
}

/// Refuses a replicate table that the machine cannot hold (before any work).
pub fn check_table(n: usize, p: usize, copies: usize, label: &str) -> Result<()> {
    let need = table_bytes(n, p).and_then(|b| b.checked_mul(copies as u64));
    crate::solver::memory::check(
        &format!("{label} n={n} needs"),
        need,
        &format!(
            "the replicate table holds {} parameters, a cost, an iteration count and a status \
             per replicate; ask for fewer replicates",
            p
        ),
    )
}

/// Leave-one-out refits (leave-one-cluster-out with `labels`), for BCa's acceleration:
/// row-major `m x p` where m is the number of rows (clusters).
pub fn jackknife(
    pb: &Problem,
    estimate: &[f64],
    labels: Option<&[usize]>,
    opts: &LmOptions,
    cancel: Option<&AtomicBool>,
) -> Result<BootResult> {
    let rows = pb.n();
    let p = estimate.len();
    let groups: Vec<Vec<usize>> = match labels {
        Some(l) => {
            if l.len() != rows {
                return Err(Error::InvalidShape(format!(
                    "cluster labels have {} rows, data {rows}",
                    l.len()
                )));
            }
            clusters_of(l, rows)?
        }
        None => (0..rows).map(|i| vec![i]).collect(),
    };
    check_table(groups.len(), p, 1, "jackknife")?;
    let base: Vec<f64> = pb.weights.map_or(vec![1.0; rows], |w| w.to_vec());
    let m = groups.len();
    let mut out = BootResult::unfilled(m, p);
    out.samples
        .par_chunks_mut(p.max(1))
        .zip(out.status.par_iter_mut())
        .zip(out.cost.par_iter_mut())
        .zip(out.n_iter.par_iter_mut())
        .zip(groups.par_iter())
        .for_each_init(
            || (Workspace::new(), base.clone()),
            |(ws, w), ((((params, status), cost), n_iter), g)| {
                for &r in g {
                    w[r] = 0.0;
                }
                let mut local = *pb;
                local.weights = Some(w);
                let o = lm(&local, estimate, opts, ws, cancel);
                for &r in g {
                    w[r] = base[r];
                }
                params.copy_from_slice(&o.params);
                (*status, *cost, *n_iter) = (o.termination, o.cost, o.n_iter as u32);
            },
        );
    Ok(out)
}
