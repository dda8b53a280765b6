//! The unbiased pass@k estimator of Chen et al. 2021 and its variance, per problem and
//! averaged over problems.
//!
//! With n samples of which c succeed, pass@k = 1 - g where g = C(n-c, k) / C(n, k) is the
//! probability that k samples drawn without replacement all fail; g is an unbiased estimator
//! of (1-p)^k. It is computed as a sum of logarithms, either Chen et al.'s product
//! prod_{i=n-c+1}^{n} (1 - k/i) (c terms) or prod_{j<k} (1 - c/(n-j)) (k terms, cumulative in
//! k), whichever is shorter, and pass@k = -expm1(ln g) keeps its digits when it is small.
//!
//! Variance of the per-problem estimator: for 2k <= n, h = C(n-c, 2k) / C(n, 2k) is unbiased for
//! (1-p)^(2k), so g^2 - h is an unbiased estimate of Var(g) (and never negative, because the
//! factors 1 - c/(n-j) fall with j). For 2k > n no unbiased estimate exists; the exact
//! variance of the estimator at p = c/n (plug-in) is reported instead and flagged.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::testtime::special::{ln_gamma, ln_gamma_diff};

/// Beyond this many factors a product form gives way to differences of log-gammas (relative
/// error about 1e-16 m ln n), so that huge sample counts cannot stall a call.
const MAX_PRODUCT_TERMS: u64 = 1 << 22;
/// The plug-in variance sums over every outcome count; beyond this many samples it is NaN.
pub const PLUGIN_MAX_N: u64 = 1 << 22;
/// Largest table (problems x k values) a call returns.
pub const MAX_VALUES: usize = 1 << 28;

/// Per-problem sample counts, validated: `n[i] >= 1` samples, `c[i] <= n[i]` successes.
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a> {
    pub n: &'a [u64],
    pub c: &'a [u64],
}

impl<'a> Samples<'a> {
    /// Checks lengths and counts; errors name the first bad problem (0-based row).
    pub fn new(n: &'a [u64], c: &'a [u64]) -> Result<Self> {
        if n.len() != c.len() {
            return Err(Error::InvalidShape(format!(
                "samples has {} problems but successes {}",
                n.len(),
                c.len()
            )));
        }
        if n.is_empty() {
            return Err(Error::InvalidShape("no problems".into()));
        }
        for (i, (&ni, &ci)) in n.iter().zip(c).enumerate() {
            if ni == 0 {
                return Err(Error::InvalidData {
                    column: "samples".into(),
                    row: i,
                    value: 0.0,
                    reason: "a problem needs at least one sample".into(),
                });
            }
            if ci > ni {
                return Err(Error::InvalidData {
                    column: "successes".into(),
                    row: i,
                    value: ci as f64,
                    reason: format!("more successes than samples ({ni})"),
                });
            }
        }
        Ok(Samples { n, c })
    }

    pub fn len(&self) -> usize {
        self.n.len()
    }

    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// The fewest samples of any problem: the largest k with an unbiased estimate.
    pub fn min_n(&self) -> u64 {
        self.n.iter().copied().min().unwrap_or(0)
    }
}

/// Checks that every k is in 1..=min n, naming the first problem with too few samples.
pub fn check_ks(s: &Samples, ks: &[u64]) -> Result<()> {
    if ks.is_empty() {
        return Err(Error::InvalidOption("no values of k given".into()));
    }
    if let Some(&k) = ks.iter().find(|&&k| k == 0) {
        return Err(Error::InvalidOption(format!(
            "k must be at least 1, got {k}"
        )));
    }
    if s.len().saturating_mul(ks.len()) > MAX_VALUES {
        return Err(Error::InvalidOption(format!(
            "{} problems x {} values of k is too large a table (limit {MAX_VALUES} values)",
            s.len(),
            ks.len()
        )));
    }
    let kmax = ks.iter().copied().max().unwrap_or(1);
    if let Some(i) = s.n.iter().position(|&n| n < kmax) {
        return Err(Error::InvalidOption(format!(
            "k = {kmax} exceeds the {} samples of problem {i}: pass@k has no unbiased estimate \
             for k > n (the largest usable k here is {})",
            s.n[i],
            s.min_n()
        )));
    }
    Ok(())
}

/// ln of C(n-c, m) / C(n, m) for one m by Chen et al.'s product (c terms); -inf if n-c < m.
fn ln_fail_c_form(n: u64, c: u64, m: u64) -> f64 {
    if n - c < m {
        return f64::NEG_INFINITY;
    }
    let mf = m as f64;
    ((n - c + 1)..=n).map(|i| (-mf / i as f64).ln_1p()).sum()
}

/// ln C(n-c, m) / C(n, m) for every m in `ms`, written into `out` (same order), by whichever
/// product form needs fewer terms.
fn ln_fail_many(n: u64, c: u64, ms: &[u64], out: &mut [f64]) {
    if c == 0 {
        out.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let mmax = ms.iter().copied().max().unwrap_or(0);
    let c_cost = c.saturating_mul(ms.len() as u64);
    if c_cost.min(mmax) > MAX_PRODUCT_TERMS {
        for (o, &m) in out.iter_mut().zip(ms) {
            *o = ln_fail_gamma(n, c, m);
        }
    } else if c_cost <= mmax.min(n - c + 1) {
        for (o, &m) in out.iter_mut().zip(ms) {
            *o = ln_fail_c_form(n, c, m);
        }
    } else {
        ln_fail_cumulative(n, c, ms, out);
    }
}

/// The k-form, cumulative over sorted m: L(m) = sum_{j<m} ln(1 - c/(n-j)); -inf once m > n-c.
fn ln_fail_cumulative(n: u64, c: u64, ms: &[u64], out: &mut [f64]) {
    let cf = c as f64;
    let mut order: Vec<usize> = (0..ms.len()).collect();
    order.sort_by_key(|&i| ms[i]);
    let (mut j, mut acc) = (0u64, 0.0f64);
    for i in order {
        let m = ms[i];
        if m > n - c {
            out[i] = f64::NEG_INFINITY;
            continue;
        }
        while j < m {
            acc += (-cf / (n - j) as f64).ln_1p();
            j += 1;
        }
        out[i] = acc;
    }
}

/// ln C(n-c, m) / C(n, m) by log-gammas: ln Γ(n-c+1)/Γ(n-c-m+1) - ln Γ(n+1)/Γ(n-m+1).
fn ln_fail_gamma(n: u64, c: u64, m: u64) -> f64 {
    if n - c < m {
        return f64::NEG_INFINITY;
    }
    let (nf, cf, mf) = (n as f64, c as f64, m as f64);
    ln_gamma_diff(nf - cf - mf + 1.0, mf) - ln_gamma_diff(nf - mf + 1.0, mf)
}

/// The exact variance of g = C(n-c', k)/C(n, k) when c' ~ Binomial(n, p), at p = c/n.
fn plugin_variance(n: u64, c: u64, k: u64) -> f64 {
    if c == 0 || c == n {
        return 0.0;
    }
    if n > PLUGIN_MAX_N {
        return f64::NAN;
    }
    let p = c as f64 / n as f64;
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let nf = n as f64;
    let lnf = ln_gamma(nf + 1.0);
    let mut g = 1.0f64;
    let mut second = 0.0;
    for cc in 0..=n {
        if n - cc < k {
            break;
        }
        let ccf = cc as f64;
        let lpmf =
            lnf - ln_gamma(ccf + 1.0) - ln_gamma(nf - ccf + 1.0) + ccf * lp + (nf - ccf) * lq;
        second += lpmf.exp() * g * g;
        // g(c'+1) = g(c') (n - c' - k) / (n - c')
        g *= (n - cc - k) as f64 / (n - cc) as f64;
    }
    let mean_sq = (2.0 * k as f64 * lq).exp();
    (second - mean_sq).max(0.0)
}

/// pass@k of one problem for each k (any order), with the variance of the estimate and
/// whether that variance is the unbiased one (2k <= n) or the plug-in (NaN beyond
/// `PLUGIN_MAX_N` samples).
pub fn per_problem(n: u64, c: u64, ks: &[u64]) -> Vec<(f64, f64, bool)> {
    let mut ms: Vec<u64> = ks.to_vec();
    ms.extend(
        ks.iter()
            .filter_map(|&k| k.checked_mul(2))
            .filter(|&m| m <= n),
    );
    let mut ln = vec![0.0; ms.len()];
    ln_fail_many(n, c, &ms, &mut ln);
    let mut twice = ks.len();
    ks.iter()
        .enumerate()
        .map(|(i, &k)| {
            let lg = ln[i];
            let est = -lg.exp_m1();
            if k.checked_mul(2).is_some_and(|m| m <= n) {
                let lh = ln[twice];
                twice += 1;
                // g^2 - h = g^2 (1 - h/g^2), with ln(h/g^2) <= 0
                let var = if lg == f64::NEG_INFINITY {
                    0.0
                } else {
                    (2.0 * lg).exp() * -(lh - 2.0 * lg).exp_m1()
                };
                (est, var.max(0.0), true)
            } else {
                (est, plugin_variance(n, c, k), false)
            }
        })
        .collect()
}

/// pass@k averaged over problems at one k.
#[derive(Debug, Clone, PartialEq)]
pub struct PassAtK {
    pub k: u64,
    /// Mean over problems of the unbiased per-problem estimates.
    pub estimate: f64,
    /// Variance of the mean from the finite samples of each problem (problems held fixed):
    /// sum_i Var_i / P^2.
    pub var_samples: f64,
    /// Variance of the mean treating problems as drawn from a population: s^2 / P, with s the
    /// standard deviation of the per-problem estimates (NaN for one problem).
    pub var_problems: f64,
    /// Whether `var_samples` is unbiased (2k <= n for every problem) or uses the plug-in.
    pub unbiased: bool,
}

/// pass@k over all problems for each k (validated: 1 <= k <= every n).
pub fn pass_at_k(s: &Samples, ks: &[u64]) -> Result<Vec<PassAtK>> {
    check_ks(s, ks)?;
    let per: Vec<Vec<(f64, f64, bool)>> = (0..s.len())
        .into_par_iter()
        .with_min_len(64)
        .map(|i| per_problem(s.n[i], s.c[i], ks))
        .collect();
    let pf = s.len() as f64;
    Ok(ks
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            let mean = per.iter().map(|r| r[j].0).sum::<f64>() / pf;
            let var_sum: f64 = per.iter().map(|r| r[j].1).sum();
            let ss: f64 = per.iter().map(|r| (r[j].0 - mean).powi(2)).sum();
            PassAtK {
                k,
                estimate: mean,
                var_samples: var_sum / (pf * pf),
                var_problems: if s.len() > 1 {
                    ss / (pf - 1.0) / pf
                } else {
                    f64::NAN
                },
                unbiased: per.iter().all(|r| r[j].2),
            }
        })
        .collect())
}

/// `pass_at_k` of every group: group g is problems `offsets[g]..offsets[g+1]`; errors name the
/// group.
pub fn pass_at_k_groups(s: &Samples, offsets: &[usize], ks: &[u64]) -> Result<Vec<Vec<PassAtK>>> {
    if offsets.len() < 2
        || offsets[0] != 0
        || offsets[offsets.len() - 1] != s.len()
        || offsets.windows(2).any(|w| w[1] <= w[0])
    {
        return Err(Error::InvalidShape(
            "group offsets must rise strictly from 0 to the number of problems".into(),
        ));
    }
    offsets
        .windows(2)
        .enumerate()
        .map(|(g, w)| {
            let sub = Samples::new(&s.n[w[0]..w[1]], &s.c[w[0]..w[1]])?;
            pass_at_k(&sub, ks).map_err(|e| match e {
                Error::InvalidOption(m) if offsets.len() > 2 => {
                    Error::InvalidOption(format!("group {g}: {m}"))
                }
                other => other,
            })
        })
        .collect()
}

/// Per-problem pass@k estimates, row-major (problems x ks).
pub fn per_problem_matrix(s: &Samples, ks: &[u64]) -> Result<Vec<f64>> {
    check_ks(s, ks)?;
    let rows: Vec<Vec<f64>> = (0..s.len())
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            per_problem(s.n[i], s.c[i], ks)
                .into_iter()
                .map(|r| r.0)
                .collect()
        })
        .collect();
    Ok(rows.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binom(n: u64, k: u64) -> f64 {
        if k > n {
            return 0.0;
        }
        (0..k).fold(1.0, |acc, j| acc * (n - j) as f64 / (j + 1) as f64)
    }

    /// pass@k by enumerating every k-subset of the n samples (successes first).
    fn brute_force(n: u64, c: u64, k: u64) -> f64 {
        let (mut hit, mut total) = (0u64, 0u64);
        for mask in 0u32..(1u32 << n) {
            if mask.count_ones() as u64 != k {
                continue;
            }
            total += 1;
            if (0..c).any(|b| mask & (1 << b) != 0) {
                hit += 1;
            }
        }
        hit as f64 / total as f64
    }

    #[test]
    fn estimator_matches_enumeration_of_subsets() {
        for n in 1..=12u64 {
            for c in 0..=n {
                let ks: Vec<u64> = (1..=n).collect();
                for (k, (est, _, _)) in ks.iter().zip(per_problem(n, c, &ks)) {
                    let want = brute_force(n, c, *k);
                    assert!(
                        (est - want).abs() < 1e-14,
                        "n={n} c={c} k={k}: {est} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn both_product_forms_agree() {
        for &(n, c) in &[(1000u64, 3u64), (1000, 400), (50, 49), (10_000, 1)] {
            for &k in &[1u64, 2, 7, 50, 300, 999] {
                if k > n {
                    continue;
                }
                let a = ln_fail_c_form(n, c, k);
                let mut b = [0.0];
                ln_fail_cumulative(n, c, &[k], &mut b);
                let want = ln_gamma((n - c + 1) as f64)
                    - ln_gamma((n - c + 1) as f64 - k as f64)
                    - ln_gamma((n + 1) as f64)
                    + ln_gamma((n + 1 - k) as f64);
                if a.is_finite() {
                    assert!((a - b[0]).abs() <= 1e-12 * a.abs().max(1.0), "{n} {c} {k}");
                    assert!((a - want).abs() <= 1e-9 * a.abs().max(1.0), "{n} {c} {k}");
                } else {
                    assert!(b[0] == f64::NEG_INFINITY && n - c < k);
                }
            }
        }
    }

    /// Exact moments over every outcome count c' ~ Binomial(n, p): the estimator is unbiased
    /// for 1 - (1-p)^k, and for 2k <= n the variance estimate is unbiased for its variance.
    #[test]
    fn estimator_and_its_variance_are_unbiased() {
        for &n in &[4u64, 9, 16] {
            for &p in &[0.03f64, 0.3, 0.8] {
                for k in 1..=n {
                    let (mut m1, mut m2, mut mv) = (0.0, 0.0, 0.0);
                    for cc in 0..=n {
                        let pmf =
                            binom(n, cc) * p.powi(cc as i32) * (1.0 - p).powi((n - cc) as i32);
                        let (est, var, unbiased) = per_problem(n, cc, &[k])[0];
                        assert_eq!(unbiased, 2 * k <= n);
                        m1 += pmf * est;
                        m2 += pmf * est * est;
                        mv += pmf * var;
                    }
                    let truth = 1.0 - (1.0 - p).powi(k as i32);
                    assert!((m1 - truth).abs() < 1e-12, "bias n={n} p={p} k={k}");
                    if 2 * k <= n {
                        let var = m2 - m1 * m1;
                        assert!(
                            (mv - var).abs() < 1e-12,
                            "var n={n} p={p} k={k}: {mv} {var}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn huge_counts_use_log_gammas_and_agree_with_the_products() {
        for &(n, c, m) in &[
            (1000u64, 300u64, 50u64),
            (100_000, 7, 3000),
            (5000, 4999, 1),
        ] {
            let a = ln_fail_c_form(n, c, m);
            let b = ln_fail_gamma(n, c, m);
            assert!(
                (a - b).abs() <= 1e-9 * a.abs().max(1e-3),
                "{n} {c} {m}: {a} {b}"
            );
        }
        // 1e12 samples: answered at once, 1 - (1 - 1e-3)^k in effect
        let (est, _, _) = per_problem(1_000_000_000_000, 1_000_000_000, &[10_000_000])[0];
        assert!(
            (est - (1.0 - (-1e4f64 * 1.0005).exp())).abs() < 1e-6,
            "{est}"
        );
    }

    #[test]
    fn plugin_variance_is_the_binomial_variance_at_c_over_n() {
        // k = 1: g = 1 - c'/n, so Var = p(1-p)/n at p = c/n
        let (n, c) = (10u64, 3u64);
        let p = 0.3;
        assert!((plugin_variance(n, c, 1) - p * (1.0 - p) / 10.0).abs() < 1e-14);
        assert_eq!(plugin_variance(n, 0, 7), 0.0);
        let (_, v, unbiased) = per_problem(n, c, &[7])[0];
        assert!(!unbiased && v > 0.0);
    }

    #[test]
    fn aggregate_and_validation() {
        let n = [10u64, 10, 10, 10];
        let c = [0u64, 1, 5, 10];
        let s = Samples::new(&n, &c).unwrap();
        let r = pass_at_k(&s, &[1, 5]).unwrap();
        assert!((r[0].estimate - (0.0 + 0.1 + 0.5 + 1.0) / 4.0).abs() < 1e-15);
        assert!(r[0].unbiased && r[1].unbiased);
        let bad = pass_at_k(&s, &[11]).unwrap_err().to_string();
        assert!(bad.contains("k = 11") && bad.contains("problem 0"), "{bad}");
        assert!(pass_at_k(&s, &[0]).is_err());
        assert!(Samples::new(&[3, 2], &[1, 3])
            .unwrap_err()
            .to_string()
            .contains("row 1"));
        assert!(Samples::new(&[0], &[0]).is_err());
        assert!(Samples::new(&[1, 2], &[0]).is_err());
        // small pass@k keeps its digits: 1 - (1 - 1e-6)
        let tiny = per_problem(1_000_000, 1, &[1])[0].0;
        assert!((tiny - 1e-6).abs() < 1e-21);
    }
}
