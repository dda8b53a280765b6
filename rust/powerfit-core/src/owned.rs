//! A fitting problem that owns its data: a validated `Model` and the columns, observations and
//! weights it is fitted to, checked once when built. Fits, bootstrap refits and jackknives of it
//! borrow these columns, so a binding sends the data across once per problem, not per call.

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;

use crate::bootstrap::{self, BootResult, Method};
use crate::error::{Error, Result};
use crate::fit::{fit, FitResult};
use crate::law::{Cols, OwnedCols, Structure};
use crate::loss::Scale;
use crate::model::Model;
use crate::options::{FitSettings, StartSpec};
use crate::problem::{check_not_constant, target_for, validate_data, Problem};
use crate::solver::LmOptions;

/// Rows per block when a start is checked, so the check's memory does not grow with the data.
const CHECK_BLOCK: usize = 4096;

pub struct OwnedProblem {
    pub model: Arc<Model>,
    cols: OwnedCols,
    y: Vec<f64>,
    /// The observations on the loss's scale when that is not `y` itself (log losses): a big
    /// problem keeps one copy of its observations for linear losses.
    log_target: Option<Vec<f64>>,
    weights: Option<Vec<f64>>,
    /// The columns' names as the user knows them (for messages), and the observations'.
    pub labels: Vec<String>,
    pub y_name: String,
}

impl OwnedProblem {
    /// Validates the data for the model (lengths, finite values, positivity where the law or
    /// the loss takes logs, non-negative weights, a non-constant loss column) and takes them.
    pub fn new(
        model: Arc<Model>,
        columns: Vec<Vec<f64>>,
        labels: Vec<String>,
        y: Vec<f64>,
        y_name: String,
        weights: Option<Vec<f64>>,
    ) -> Result<Self> {
        let law = model.law.as_ref();
        let x: Vec<&[f64]> = columns.iter().map(|c| c.as_slice()).collect();
        validate_data(
            law,
            &x,
            &labels,
            &y,
            weights.as_deref(),
            &model.loss,
            &y_name,
        )?;
        check_not_constant(&y, &y_name)?;
        let labels = if labels.len() == law.var_names().len() {
            labels
        } else {
            law.var_names().to_vec()
        };
        let log_target = match model.loss.scale {
            Scale::Linear => None,
            Scale::Log => Some(target_for(&model.loss, &y)),
        };
        let cols = OwnedCols::new(columns, law.needs_logs());
        Ok(OwnedProblem {
            model,
            cols,
            y,
            log_target,
            weights,
            labels,
            y_name,
        })
    }

    /// Runs `f` on the borrowed view of this problem.
    pub fn with<R>(&self, f: impl FnOnce(&Problem) -> R) -> R {
        let view = self.cols.view();
        let pb = Problem {
            law: self.model.law.as_ref(),
            cols: &view,
            target: self.target(),
            weights: self.weights.as_deref(),
            loss: self.model.loss,
            spec: &self.model.spec,
        };
        f(&pb)
    }

    /// The observations on the loss's scale.
    fn target(&self) -> &[f64] {
        self.log_target.as_deref().unwrap_or(&self.y)
    }

    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    pub fn columns(&self) -> &[Vec<f64>] {
        &self.cols.x
    }

    pub fn y(&self) -> &[f64] {
        &self.y
    }

    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    /// A rough count of law evaluations per point times points: the binding runs calls above a
    /// threshold on a helper thread so that Ctrl-C can be polled while they work.
    pub fn work(&self, settings: &FitSettings) -> f64 {
        let starts = match settings.starts {
            crate::fit::Starts::Grid => 4500.0,
            crate::fit::Starts::Auto => 200.0,
            crate::fit::Starts::Given(_) => 1.0,
        };
        self.n_rows() as f64 * starts * settings.lm.max_iter.min(50) as f64
    }

    /// Fits the problem. `p0` (a start given to this call) replaces the settings' start.
    pub fn fit(
        &self,
        settings: &FitSettings,
        p0: Option<&StartSpec>,
        cancel: Option<&AtomicBool>,
    ) -> Result<FitResult> {
        let start = match p0.or(settings.p0.as_ref()) {
            Some(s) => Some(self.model.start(s)?),
            None => None,
        };
        // built-in structures are finite wherever their data are valid; a written law of
        // general form can be NaN at a start (log of a negative argument, say), which is
        // reported here with the row instead of surfacing as a failed solve
        if let (Some(p), Structure::General) = (&start, self.model.law.structure()) {
            self.check_start(p)?;
        }
        let opts = settings.resolve(start);
        self.with(|pb| fit(pb, &opts, cancel))
    }

    /// Refuses a start at which the law or its derivatives are NaN or infinite (or, under a
    /// loss on log residuals, not positive), naming the first such row and the point.
    pub fn check_start(&self, p0: &[f64]) -> Result<()> {
        let model = &self.model;
        let p = model.with_fixed(p0);
        if p.iter().any(|v| !v.is_finite()) {
            return Ok(()); // the solver names the non-finite start value
        }
        let law = model.law.as_ref();
        let np = law.n_params();
        let log = model.loss.scale == Scale::Log;
        let free: Vec<usize> = model.spec.free();
        let n = self.n_rows();
        let mut start = 0;
        while start < n {
            let end = (start + CHECK_BLOCK).min(n);
            let view = self.cols.view();
            let block = view.slice(start, end);
            let m = end - start;
            let mut f = vec![0.0; m];
            let mut jac = vec![0.0; m * np];
            law.eval_jac(&block, &p, &mut f, &mut jac);
            for i in 0..m {
                let bad_value = !f[i].is_finite() || (log && f[i] <= 0.0);
                let bad_k = free.iter().find(|&&k| !jac[k * m + i].is_finite());
                if bad_value || bad_k.is_some() {
                    return Err(self.bad_start(&p, start + i, &block, i, f[i], bad_k, &jac, m));
                }
            }
            start = end;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn bad_start(
        &self,
        p: &[f64],
        row: usize,
        block: &Cols,
        i: usize,
        value: f64,
        bad_k: Option<&usize>,
        jac: &[f64],
        m: usize,
    ) -> Error {
        let law = self.model.law.as_ref();
        let names = law.param_names();
        let what = match bad_k {
            Some(&k)
                if value.is_finite() && !(self.model.loss.scale == Scale::Log && value <= 0.0) =>
            {
                format!(
                    "has a derivative {} with respect to {}",
                    g6(jac[k * m + i]),
                    names[k]
                )
            }
            _ if value.is_finite() => format!(
                "evaluates to {} (loss='{}' takes the log of the law, which must be \
                 positive)",
                g6(value),
                self.model.loss_spec.name
            ),
            _ => format!("evaluates to {value}"),
        };
        let point: Vec<String> = self
            .labels
            .iter()
            .zip(&block.x)
            .map(|(l, c)| format!("{l}={}", g6(c[i])))
            .collect();
        let at: Vec<String> = names
            .iter()
            .zip(p)
            .map(|(n, v)| format!("{n}={}", g6(*v)))
            .collect();
        Error::InvalidLaw(format!(
            "law '{}' is not usable at the starting point: at row {row} ({}) it {what}; start: \
             {}. Give p0 (or bounds) where the law is finite.",
            law.name(),
            point.join(", "),
            at.join(", ")
        ))
    }

    /// Bootstrap refits from `estimate`.
    #[allow(clippy::too_many_arguments)]
    pub fn bootstrap(
        &self,
        estimate: &[f64],
        method: &Method,
        n: usize,
        seed: u64,
        lm: &LmOptions,
        cancel: Option<&AtomicBool>,
        progress: Option<&AtomicUsize>,
    ) -> Result<BootResult> {
        self.model.check_params(estimate, "the estimate")?;
        if let Method::Cluster { labels } = method {
            if labels.len() != self.n_rows() {
                return Err(Error::InvalidOption(format!(
                    "cluster labels must have one entry per row ({}), got {}",
                    self.n_rows(),
                    labels.len()
                )));
            }
        }
        self.with(|pb| bootstrap::bootstrap(pb, estimate, method, n, seed, lm, cancel, progress))
    }

    /// Leave-one-out (or leave-one-cluster-out) refits from `estimate`.
    pub fn jackknife(
        &self,
        estimate: &[f64],
        labels: Option<&[usize]>,
        lm: &LmOptions,
        cancel: Option<&AtomicBool>,
    ) -> Result<BootResult> {
        self.model.check_params(estimate, "the estimate")?;
        self.with(|pb| bootstrap::jackknife(pb, estimate, labels, lm, cancel))
    }

    /// Residuals at `params` on the loss's scale (prediction minus observation).
    pub fn residuals(&self, params: &[f64]) -> Result<Vec<f64>> {
        self.model.check_params(params, "params")?;
        let mut f = vec![0.0; self.n_rows()];
        self.model.law.eval(&self.cols.view(), params, &mut f);
        for (v, t) in f.iter_mut().zip(self.target()) {
            *v = match self.model.loss.scale {
                Scale::Linear => *v - t,
                Scale::Log => v.ln() - t,
            };
        }
        Ok(f)
    }

    /// The noise scale on the loss's scale: the RMS residual over the degrees of freedom for
    /// least squares, 1.4826 times the median absolute deviation for robust losses.
    pub fn noise_scale(&self, params: &[f64], dof: usize) -> Result<f64> {
        let r = self.residuals(params)?;
        if self.model.loss.is_least_squares() {
            let dof = dof.max(1) as f64;
            return Ok((r.iter().map(|v| v * v).sum::<f64>() / dof).sqrt());
        }
        let med = median(r.clone());
        let dev: Vec<f64> = r.iter().map(|v| (v - med).abs()).collect();
        Ok(1.4826 * median(dev))
    }
}

/// Six significant digits, in the shortest of fixed or exponent form (as C's %g).
pub fn g6(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor() as i32;
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if (-4..6).contains(&e) {
        let decimals = (5 - e).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        let s = format!("{v:.5e}");
        match s.split_once('e') {
            Some((m, x)) => format!("{}e{x}", trim(m.to_string())),
            None => s,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
