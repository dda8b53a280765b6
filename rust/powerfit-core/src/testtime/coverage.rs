//! Coverage against the number of attempts: the empirical pass@k curve, both fits (the Beta
//! distribution of success rates and the power law on -ln pass@k), their predictions, and a
//! bootstrap over problems, for one or many groups (models) in one parallel pass.
//!
//! Replicate i of group g resamples the group's problems with replacement from the stream
//! (group seed, i), where the group seed derives from (seed, g): results are bit-identical for
//! any number of threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::testtime::beta::{self, BetaFit, BetaStatus, Pairs};
use crate::testtime::estimator::{self, check_ks, PassAtK, Samples};
use crate::testtime::power::{self, PowerFit};

/// Parameters of both laws, in this order, per replicate.
pub const PARAM_COLUMNS: [&str; 6] = ["alpha", "beta", "a_beta", "b_beta", "a_power", "b_power"];
/// Upper limit on the values of all replicates (replicates x groups x columns), to bound the
/// memory of the samples.
const MAX_VALUES: usize = 1 << 27;

#[derive(Debug, Clone, PartialEq)]
pub struct CoverageOptions {
    /// k values of the empirical curve the power law is fitted to (empty: up to 24 log-spaced
    /// integers from 1 to the group's fewest samples).
    pub fit_ks: Vec<u64>,
    /// k values (any positive reals) at which both laws predict pass@k.
    pub predict_ks: Vec<f64>,
    pub n_boot: usize,
    pub seed: u64,
}

impl CoverageOptions {
    pub fn validate(&self) -> Result<()> {
        if let Some(k) = self
            .predict_ks
            .iter()
            .find(|k| !(k.is_finite() && **k > 0.0))
        {
            return Err(Error::InvalidOption(format!(
                "prediction k must be positive and finite, got {k}"
            )));
        }
        Ok(())
    }
}

/// One group's analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageFit {
    pub n_problems: usize,
    pub fit_ks: Vec<u64>,
    /// Empirical pass@k at `fit_ks`.
    pub curve: Vec<PassAtK>,
    pub beta: BetaFit,
    pub power: PowerFit,
    /// Full-data values in `PARAM_COLUMNS` order.
    pub params: Vec<f64>,
    /// Predictions at the options' `predict_ks`: Beta law, power law.
    pub predict_beta: Vec<f64>,
    pub predict_power: Vec<f64>,
    /// Replicates, row-major (n_boot rows): parameters (6 columns), Beta predictions, power
    /// predictions (one column per prediction k each), empirical pass@k (one per fit k).
    /// A replicate whose Beta fit failed has NaN in every column.
    pub boot_params: Vec<f64>,
    pub boot_beta: Vec<f64>,
    pub boot_power: Vec<f64>,
    pub boot_curve: Vec<f64>,
    pub n_boot_ok: usize,
    /// The group's bootstrap seed (derived from the run's seed and the group's position).
    pub seed: u64,
}

/// Up to 24 distinct log-spaced integers from 1 to `kmax`.
pub fn default_ks(kmax: u64) -> Vec<u64> {
    let m = 24usize;
    let top = (kmax.max(1) as f64).ln();
    let mut ks: Vec<u64> = (0..m)
        .map(|i| (top * i as f64 / (m - 1) as f64).exp().round() as u64)
        .map(|k| k.clamp(1, kmax.max(1)))
        .collect();
    ks.dedup();
    ks
}

fn params_of(b: &BetaFit, p: &PowerFit) -> Vec<f64> {
    let ok = !b.alpha.is_nan();
    vec![
        b.alpha,
        b.beta,
        if ok { b.power_a() } else { f64::NAN },
        b.alpha,
        p.a,
        p.b,
    ]
}

fn predict(b: &BetaFit, p: &PowerFit, ks: &[f64], out_b: &mut [f64], out_p: &mut [f64]) {
    for (j, &k) in ks.iter().enumerate() {
        out_b[j] = if b.alpha.is_nan() {
            f64::NAN
        } else {
            beta::pass_at_k(b.alpha, b.beta, k)
        };
        out_p[j] = if p.ok() { p.pass_at_k(k) } else { f64::NAN };
    }
}

/// Everything a replicate needs, shared across its group's replicates.
struct Group<'a> {
    s: Samples<'a>,
    pairs: Pairs,
    /// Per-pair pass@k at the fit ks (row-major pairs x ks).
    pair_curve: Vec<f64>,
    ks: Vec<u64>,
    ksf: Vec<f64>,
    seed: u64,
}

fn prepare<'a>(s: Samples<'a>, opts: &CoverageOptions, g: usize, seed: u64) -> Result<Group<'a>> {
    let ks = if opts.fit_ks.is_empty() {
        default_ks(s.min_n())
    } else {
        opts.fit_ks.clone()
    };
    check_ks(&s, &ks).map_err(|e| match e {
        Error::InvalidOption(m) => Error::InvalidOption(format!("group {g}: {m}")),
        other => other,
    })?;
    let pairs = Pairs::new(&s);
    let mut pair_curve = Vec::with_capacity(pairs.n.len() * ks.len());
    for j in 0..pairs.n.len() {
        let rows = estimator::per_problem(pairs.n[j] as u64, pairs.c[j] as u64, &ks);
        pair_curve.extend(rows.iter().map(|r| r.0));
    }
    let ksf = ks.iter().map(|&k| k as f64).collect();
    Ok(Group {
        s,
        pairs,
        pair_curve,
        ks,
        ksf,
        seed,
    })
}

/// One replicate: (params, beta predictions, power predictions, curve), NaN when the Beta fit
/// failed or the run was cancelled.
fn replicate(
    g: &Group,
    opts: &CoverageOptions,
    i: usize,
    cancel: Option<&AtomicBool>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, bool) {
    let (kp, kf) = (opts.predict_ks.len(), g.ks.len());
    let nan = |m: usize| vec![f64::NAN; m];
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return (nan(6), nan(kp), nan(kp), nan(kf), false);
    }
    let mut rng = Rng::stream(g.seed, i as u64);
    let p = g.s.len();
    let mut w = vec![0.0; g.pairs.n.len()];
    for _ in 0..p {
        w[g.pairs.index[rng.below(p)]] += 1.0;
    }
    let mut curve = vec![0.0; kf];
    for (j, &wj) in w.iter().enumerate() {
        if wj > 0.0 {
            let row = &g.pair_curve[j * kf..(j + 1) * kf];
            curve.iter_mut().zip(row).for_each(|(c, r)| *c += wj * r);
        }
    }
    curve.iter_mut().for_each(|c| *c /= p as f64);
    let b = beta::fit_weighted(&g.pairs, &w);
    if !matches!(b.status, BetaStatus::Converged | BetaStatus::AtBound) {
        return (nan(6), nan(kp), nan(kp), curve, false);
    }
    let pw = power::fit(&g.ksf, &curve);
    let (mut pb, mut pp) = (vec![0.0; kp], vec![0.0; kp]);
    predict(&b, &pw, &opts.predict_ks, &mut pb, &mut pp);
    (params_of(&b, &pw), pb, pp, curve, true)
}

/// Fits and bootstraps every group: group g is problems `offsets[g]..offsets[g+1]`.
pub fn fit_groups(
    s: &Samples,
    offsets: &[usize],
    opts: &CoverageOptions,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Vec<CoverageFit>> {
    opts.validate()?;
    if offsets.len() < 2
        || offsets[0] != 0
        || offsets[offsets.len() - 1] != s.len()
        || offsets.windows(2).any(|w| w[1] <= w[0])
    {
        return Err(Error::InvalidShape(
            "group offsets must rise strictly from 0 to the number of problems".into(),
        ));
    }
    let n_groups = offsets.len() - 1;
    // per replicate: the parameters, two predictions per k, and the curve
    let width = opts
        .predict_ks
        .len()
        .saturating_mul(2)
        .saturating_add(6 + opts.fit_ks.len().max(24));
    let values = n_groups
        .checked_mul(opts.n_boot.max(1))
        .and_then(|t| t.checked_mul(width));
    if values.is_none_or(|v| v > MAX_VALUES) {
        return Err(Error::InvalidOption(format!(
            "{} replicates x {n_groups} groups x {width} values each is too large (limit \
             {MAX_VALUES} values in all)",
            opts.n_boot
        )));
    }
    let groups: Vec<Group> = (0..n_groups)
        .map(|g| {
            let (a, b) = (offsets[g], offsets[g + 1]);
            let sub = Samples::new(&s.n[a..b], &s.c[a..b])?;
            prepare(sub, opts, g, Rng::stream(opts.seed, g as u64).next_u64())
        })
        .collect::<Result<_>>()?;
    let full: Vec<(Vec<PassAtK>, BetaFit, PowerFit)> = groups
        .par_iter()
        .map(|g| {
            let curve = estimator::pass_at_k(&g.s, &g.ks)?;
            let b = beta::fit(&g.s);
            let est: Vec<f64> = curve.iter().map(|c| c.estimate).collect();
            let pw = power::fit(&g.ksf, &est);
            Ok((curve, b, pw))
        })
        .collect::<Result<_>>()?;
    let tasks: Vec<(usize, usize)> = (0..n_groups)
        .flat_map(|g| (0..opts.n_boot).map(move |i| (g, i)))
        .collect();
    let reps: Vec<_> = tasks
        .par_iter()
        .with_min_len(4)
        .map(|&(g, i)| {
            let r = replicate(&groups[g], opts, i, cancel);
            if let Some(pg) = progress {
                pg.fetch_add(1, Ordering::Relaxed);
            }
            r
        })
        .collect();
    let kp = opts.predict_ks.len();
    let mut out = Vec::with_capacity(n_groups);
    for (g, ((curve, b, pw), grp)) in full.into_iter().zip(&groups).enumerate() {
        let (mut pb, mut pp) = (vec![0.0; kp], vec![0.0; kp]);
        predict(&b, &pw, &opts.predict_ks, &mut pb, &mut pp);
        let mut fit = CoverageFit {
            n_problems: grp.s.len(),
            fit_ks: grp.ks.clone(),
            curve,
            params: params_of(&b, &pw),
            beta: b,
            power: pw,
            predict_beta: pb,
            predict_power: pp,
            boot_params: Vec::with_capacity(opts.n_boot * 6),
            boot_beta: Vec::with_capacity(opts.n_boot * kp),
            boot_power: Vec::with_capacity(opts.n_boot * kp),
            boot_curve: Vec::with_capacity(opts.n_boot * grp.ks.len()),
            n_boot_ok: 0,
            seed: grp.seed,
        };
        for r in &reps[g * opts.n_boot..(g + 1) * opts.n_boot] {
            fit.boot_params.extend_from_slice(&r.0);
            fit.boot_beta.extend_from_slice(&r.1);
            fit.boot_power.extend_from_slice(&r.2);
            fit.boot_curve.extend_from_slice(&r.3);
            fit.n_boot_ok += r.4 as usize;
        }
        out.push(fit);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grid() {
        assert_eq!(default_ks(1), vec![1]);
        let ks = default_ks(100);
        assert_eq!(ks[0], 1);
        assert_eq!(*ks.last().unwrap(), 100);
        assert!(ks.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn offsets_and_options_are_checked() {
        let n = [4u64, 4, 4];
        let c = [1u64, 0, 2];
        let s = Samples::new(&n, &c).unwrap();
        let o = CoverageOptions {
            fit_ks: vec![],
            predict_ks: vec![10.0],
            n_boot: 4,
            seed: 0,
        };
        assert!(fit_groups(&s, &[0, 3], &o, None, None).is_ok());
        assert!(fit_groups(&s, &[0, 2], &o, None, None).is_err());
        assert!(fit_groups(&s, &[0, 0, 3], &o, None, None).is_err());
        let bad = CoverageOptions {
            predict_ks: vec![f64::NAN],
            ..o.clone()
        };
        assert!(fit_groups(&s, &[0, 3], &bad, None, None).is_err());
        let too_far = CoverageOptions {
            fit_ks: vec![1, 5],
            ..o
        };
        let e = fit_groups(&s, &[0, 1, 3], &too_far, None, None).unwrap_err();
        assert!(e.to_string().starts_with("group 0:"), "{e}");
    }
}
