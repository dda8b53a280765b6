//! Bootstrap refits in parallel. Every replicate refits the same law, loss, bounds and fixed
//! parameters from the full-data estimate; resampling is expressed as a weight vector (case,
//! cluster) or a new target (residual, parametric), so the data are never copied.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
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
    pub fn n_success(&self) -> usize {
        self.status.iter().filter(|t| t.is_success()).count()
    }
}

/// Per-thread scratch: the solver workspace and one weight/target vector.
struct Scratch {
    ws: Workspace,
    buf: Vec<f64>,
    counts: Vec<f64>,
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
            let k = labels.iter().max().map_or(0, |m| m + 1);
            let mut members = vec![Vec::new(); k];
            for (i, &c) in labels.iter().enumerate() {
                members[c].push(i);
            }
            members.retain(|m| !m.is_empty());
            members
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

    let one = |scr: &mut Scratch, i: usize| -> (Vec<f64>, Termination, f64, u32) {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return (vec![f64::NAN; p], Termination::Interrupted, f64::NAN, 0);
        }
        let mut rng = Rng::stream(seed, i as u64);
        let mut local = *pb;
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
                scr.buf.clear();
                match pb.weights {
                    Some(w) => scr.buf.extend(scr.counts.iter().zip(w).map(|(c, w)| c * w)),
                    None => scr.buf.extend_from_slice(&scr.counts),
                }
                local.weights = Some(&scr.buf);
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
        (out.params, out.termination, out.cost, out.n_iter as u32)
    };

    let results: Vec<(Vec<f64>, Termination, f64, u32)> = (0..n)
        .into_par_iter()
        .with_min_len(8)
        .map_init(
            || Scratch {
                ws: Workspace::new(),
                buf: Vec::with_capacity(rows),
                counts: Vec::with_capacity(rows),
            },
            one,
        )
        .collect();
    let mut out = BootResult {
        samples: Vec::with_capacity(n * p),
        status: Vec::with_capacity(n),
        cost: Vec::with_capacity(n),
        n_iter: Vec::with_capacity(n),
        n_params: p,
    };
    for (params, t, c, it) in results {
        out.samples.extend(params);
        out.status.push(t);
        out.cost.push(c);
        out.n_iter.push(it);
    }
    Ok(out)
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
            let k = l.iter().max().map_or(0, |m| m + 1);
            let mut g = vec![Vec::new(); k];
            for (i, &c) in l.iter().enumerate() {
                g[c].push(i);
            }
            g.retain(|m| !m.is_empty());
            g
        }
        None => (0..rows).map(|i| vec![i]).collect(),
    };
    let base: Vec<f64> = pb.weights.map_or(vec![1.0; rows], |w| w.to_vec());
    let results: Vec<_> = groups
        .par_iter()
        .map_init(
            || (Workspace::new(), base.clone()),
            |(ws, w), g| {
                for &r in g {
                    w[r] = 0.0;
                }
                let mut local = *pb;
                local.weights = Some(w);
                let out = lm(&local, estimate, opts, ws, cancel);
                for &r in g {
                    w[r] = base[r];
                }
                out
            },
        )
        .collect();
    let mut out = BootResult {
        samples: Vec::with_capacity(groups.len() * p),
        status: Vec::new(),
        cost: Vec::new(),
        n_iter: Vec::new(),
        n_params: p,
    };
    for o in results {
        out.samples.extend(o.params);
        out.status.push(o.termination);
        out.cost.push(o.cost);
        out.n_iter.push(o.n_iter as u32);
    }
    Ok(out)
}
