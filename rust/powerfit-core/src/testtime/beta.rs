//! The distribution of single-attempt success rates (Schaeffer et al. 2025): problem i's
//! success probability p_i ~ Beta(alpha, beta), its c_i successes in n_i samples binomial, so
//! c_i is beta-binomial. Fitting that distribution by maximum likelihood uses every problem's
//! counts, not only the pass@k curve, which is why it predicts large-k coverage from few
//! samples. Under the fit,
//!
//!   pass@k = 1 - E[(1-p)^k] = 1 - B(alpha, beta + k) / B(alpha, beta),
//!
//! and for large k, -ln pass@k ~ E[(1-p)^k] ~ a k^-b with b = alpha and
//! a = Γ(alpha + beta) / Γ(beta): the power law in k follows from the left tail of the
//! distribution (density ~ p^(alpha-1) near 0).

use crate::error::{Error, Result};
use crate::testtime::estimator::{Samples, MAX_VALUES};
use crate::testtime::special::{digamma, ln_gamma, ln_gamma_diff, trigamma};

/// Limits of alpha and beta: beyond them the distribution is a point mass (no spread of
/// difficulty) or concentrated at 0 or 1, and the shape parameters are not identified.
pub const SHAPE_MIN: f64 = 1e-4;
pub const SHAPE_MAX: f64 = 1e6;
const MAX_ITER: usize = 200;

/// Why the maximum-likelihood fit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaStatus {
    Converged,
    /// An estimate reached SHAPE_MIN or SHAPE_MAX: typically every problem has the same
    /// success rate (no spread), so the law is exponential in k, not a power law.
    AtBound,
    MaxIterations,
    /// No problem was ever solved: nothing identifies the distribution.
    NoSuccesses,
    /// Every sample succeeded.
    NoFailures,
}

impl BetaStatus {
    pub const ALL: [BetaStatus; 5] = [
        BetaStatus::Converged,
        BetaStatus::AtBound,
        BetaStatus::MaxIterations,
        BetaStatus::NoSuccesses,
        BetaStatus::NoFailures,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            BetaStatus::Converged => "converged",
            BetaStatus::AtBound => "at_bound",
            BetaStatus::MaxIterations => "max_iterations",
            BetaStatus::NoSuccesses => "no_successes",
            BetaStatus::NoFailures => "no_failures",
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            BetaStatus::Converged => 0,
            BetaStatus::AtBound => 1,
            BetaStatus::MaxIterations => 2,
            BetaStatus::NoSuccesses => 3,
            BetaStatus::NoFailures => 4,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, BetaStatus::Converged)
    }
}

/// A maximum-likelihood Beta(alpha, beta) fit of the success rates.
#[derive(Debug, Clone, PartialEq)]
pub struct BetaFit {
    pub alpha: f64,
    pub beta: f64,
    /// Log-likelihood, including the binomial coefficients.
    pub loglik: f64,
    pub status: BetaStatus,
    pub n_iter: usize,
    /// Inverse observed information in (ln alpha, ln beta): [var, cov, var]; NaN when the
    /// information is not positive definite.
    pub cov_log: [f64; 3],
}

impl BetaFit {
    fn failed(status: BetaStatus) -> Self {
        BetaFit {
            alpha: f64::NAN,
            beta: f64::NAN,
            loglik: f64::NAN,
            status,
            n_iter: 0,
            cov_log: [f64::NAN; 3],
        }
    }

    /// Prefactor a of the large-k power law -ln pass@k ~ a k^-alpha.
    pub fn power_a(&self) -> f64 {
        ln_gamma_diff(self.beta, self.alpha).exp()
    }
}

/// The problems grouped by their (n, c) pair: the likelihood sums over distinct pairs with
/// multiplicities, and bootstrap replicates are new multiplicities.
#[derive(Debug, Clone)]
pub struct Pairs {
    pub n: Vec<f64>,
    pub c: Vec<f64>,
    /// Which pair each problem belongs to.
    pub index: Vec<usize>,
    /// ln C(n, c) per pair.
    ln_binom: Vec<f64>,
}

impl Pairs {
    pub fn new(s: &Samples) -> Pairs {
        let mut keys: Vec<(u64, u64)> = s.n.iter().copied().zip(s.c.iter().copied()).collect();
        keys.sort_unstable();
        keys.dedup();
        let index =
            s.n.iter()
                .zip(s.c)
                .map(|(&n, &c)| keys.binary_search(&(n, c)).unwrap_or(0))
                .collect();
        let n: Vec<f64> = keys.iter().map(|k| k.0 as f64).collect();
        let c: Vec<f64> = keys.iter().map(|k| k.1 as f64).collect();
        let ln_binom = n
            .iter()
            .zip(&c)
            .map(|(&n, &c)| ln_gamma(n + 1.0) - ln_gamma(c + 1.0) - ln_gamma(n - c + 1.0))
            .collect();
        Pairs {
            n,
            c,
            index,
            ln_binom,
        }
    }

    /// Multiplicities of the pairs when problem i is taken `w[i]` times.
    pub fn weights(&self, w: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.n.len(), 0.0);
        for (&i, &wi) in self.index.iter().zip(w) {
            out[i] += wi;
        }
    }
}

/// Log-likelihood, gradient and Hessian in (ln alpha, ln beta).
fn evaluate(p: &Pairs, w: &[f64], la: f64, lb: f64) -> (f64, [f64; 2], [f64; 3]) {
    let (a, b) = (la.exp(), lb.exp());
    let (lga, lgb, lgab) = (ln_gamma(a), ln_gamma(b), ln_gamma(a + b));
    let (da, db, dab) = (digamma(a), digamma(b), digamma(a + b));
    let (ta, tb, tab) = (trigamma(a), trigamma(b), trigamma(a + b));
    let (mut ll, mut ga, mut gb, mut haa, mut hbb, mut hab) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for j in 0..p.n.len() {
        let wj = w[j];
        if wj == 0.0 {
            continue;
        }
        let (n, c) = (p.n[j], p.c[j]);
        let f = n - c;
        ll += wj
            * (p.ln_binom[j] + ln_gamma(c + a) - lga + ln_gamma(f + b) - lgb - ln_gamma(n + a + b)
                + lgab);
        let dn = digamma(n + a + b);
        let tn = trigamma(n + a + b);
        ga += wj * (digamma(c + a) - da - dn + dab);
        gb += wj * (digamma(f + b) - db - dn + dab);
        haa += wj * (trigamma(c + a) - ta - tn + tab);
        hbb += wj * (trigamma(f + b) - tb - tn + tab);
        hab += wj * (tab - tn);
    }
    // chain rule to log coordinates
    let g = [a * ga, b * gb];
    let h = [a * a * haa + a * ga, a * b * hab, b * b * hbb + b * gb];
    (ll, g, h)
}

/// Method-of-moments start from the observed rates c/n (with the binomial part of their
/// variance removed).
fn moments_start(p: &Pairs, w: &[f64]) -> (f64, f64) {
    let tot: f64 = w.iter().sum();
    let mut m = 0.0;
    let mut inv_n = 0.0;
    for j in 0..p.n.len() {
        m += w[j] * p.c[j] / p.n[j];
        inv_n += w[j] / p.n[j];
    }
    m /= tot;
    inv_n /= tot;
    let mut v = 0.0;
    for j in 0..p.n.len() {
        v += w[j] * (p.c[j] / p.n[j] - m).powi(2);
    }
    v /= tot;
    let rho = if inv_n < 1.0 {
        ((v / (m * (1.0 - m)) - inv_n) / (1.0 - inv_n)).clamp(1e-4, 0.99)
    } else {
        0.5
    };
    let s = 1.0 / rho - 1.0;
    (
        (m * s).clamp(SHAPE_MIN, SHAPE_MAX),
        ((1.0 - m) * s).clamp(SHAPE_MIN, SHAPE_MAX),
    )
}

/// The log-likelihood gain a full Newton step promises, g' (-H)^-1 g / 2 (infinite where -H is
/// not positive definite). It does not grow with the number of problems relative to the
/// likelihood's own resolution: a gain of 1e-12 is negligible at any size.
fn newton_decrement(g: &[f64; 2], h: &[f64; 3]) -> f64 {
    let det = h[0] * h[2] - h[1] * h[1];
    if !(h[0] < 0.0 && det > 0.0) {
        return f64::INFINITY;
    }
    let x0 = (-h[2] * g[0] + h[1] * g[1]) / det;
    let x1 = (h[1] * g[0] - h[0] * g[1]) / det;
    0.5 * (g[0] * x0 + g[1] * x1)
}

/// Damped Newton ascent in (ln alpha, ln beta) from one start.
fn newton(p: &Pairs, w: &[f64], start: (f64, f64)) -> BetaFit {
    let (lo, hi) = (SHAPE_MIN.ln(), SHAPE_MAX.ln());
    let mut th = [start.0.ln(), start.1.ln()];
    let (mut ll, mut g, mut h) = evaluate(p, w, th[0], th[1]);
    let mut lambda = 0.0f64;
    let mut status = BetaStatus::MaxIterations;
    let mut it = 0;
    while it < MAX_ITER {
        it += 1;
        // solve (-H + lambda I) d = g, raising lambda until the system is positive definite
        // and the step increases the likelihood
        let mut accepted = false;
        for _ in 0..60 {
            let (m00, m01, m11) = (-h[0] + lambda, -h[1], -h[2] + lambda);
            let det = m00 * m11 - m01 * m01;
            if !(m00 > 0.0 && det > 0.0) {
                lambda = (lambda * 4.0).max(1e-6 * (h[0].abs() + h[2].abs()).max(1e-12));
                continue;
            }
            let mut d = [
                (m11 * g[0] - m01 * g[1]) / det,
                (m00 * g[1] - m01 * g[0]) / det,
            ];
            let big = d[0].abs().max(d[1].abs());
            if big > 2.0 {
                d = [d[0] * 2.0 / big, d[1] * 2.0 / big];
            }
            let cand = [(th[0] + d[0]).clamp(lo, hi), (th[1] + d[1]).clamp(lo, hi)];
            let (ll2, g2, h2) = evaluate(p, w, cand[0], cand[1]);
            if ll2.is_finite() && ll2 >= ll {
                let step = (cand[0] - th[0]).abs().max((cand[1] - th[1]).abs());
                th = cand;
                (ll, g, h) = (ll2, g2, h2);
                lambda *= 0.25;
                accepted = true;
                if step < 1e-10 || newton_decrement(&g, &h) < 1e-12 {
                    status = BetaStatus::Converged;
                }
                break;
            }
            lambda = (lambda * 4.0).max(1e-6 * (h[0].abs() + h[2].abs()).max(1e-12));
        }
        if !accepted {
            // no ascent direction left: the current point is the optimum to rounding
            status = BetaStatus::Converged;
        }
        if status == BetaStatus::Converged {
            break;
        }
    }
    let at_bound = th.iter().any(|&t| t <= lo + 1e-9 || t >= hi - 1e-9);
    if status == BetaStatus::Converged && at_bound {
        status = BetaStatus::AtBound;
    }
    let det = h[0] * h[2] - h[1] * h[1];
    let cov_log = if h[0] < 0.0 && det > 0.0 {
        [-h[2] / det, h[1] / det, -h[0] / det]
    } else {
        [f64::NAN; 3]
    };
    BetaFit {
        alpha: th[0].exp(),
        beta: th[1].exp(),
        loglik: ll,
        status,
        n_iter: it,
        cov_log,
    }
}

/// Maximum-likelihood Beta fit with multiplicities `w` of the pairs.
pub fn fit_weighted(p: &Pairs, w: &[f64]) -> BetaFit {
    let tot: f64 = w.iter().sum();
    let succ: f64 = w.iter().zip(&p.c).map(|(w, c)| w * c).sum();
    let fail: f64 = w
        .iter()
        .zip(p.n.iter().zip(&p.c))
        .map(|(w, (n, c))| w * (n - c))
        .sum();
    if !(tot > 0.0) || succ == 0.0 {
        return BetaFit::failed(BetaStatus::NoSuccesses);
    }
    if fail == 0.0 {
        return BetaFit::failed(BetaStatus::NoFailures);
    }
    let mom = moments_start(p, w);
    // a second start with a heavy left tail, where the power-law regime lives
    let m = mom.0 / (mom.0 + mom.1);
    let heavy = (0.3, (0.3 * (1.0 - m) / m).clamp(SHAPE_MIN, SHAPE_MAX));
    let a = newton(p, w, mom);
    let b = newton(p, w, heavy);
    let better = |x: &BetaFit, y: &BetaFit| {
        x.loglik.is_finite() && (!y.loglik.is_finite() || x.loglik >= y.loglik)
    };
    if better(&a, &b) {
        a
    } else {
        b
    }
}

/// Maximum-likelihood Beta fit of all problems.
pub fn fit(s: &Samples) -> BetaFit {
    let p = Pairs::new(s);
    let mut w = Vec::new();
    p.weights(&vec![1.0; s.len()], &mut w);
    fit_weighted(&p, &w)
}

/// ln E[(1-p)^k] under Beta(alpha, beta) for real k >= 0: ln B(alpha, beta + k) - ln B(alpha,
/// beta), by a product of k factors for small integer k (exact to rounding), else by
/// differences of log-gammas that keep their digits at any k.
pub fn ln_fail(alpha: f64, beta: f64, k: f64) -> f64 {
    if k == 0.0 {
        return 0.0;
    }
    if k.fract() == 0.0 && k <= 4096.0 {
        let s = alpha + beta;
        return (0..k as u64)
            .map(|j| (-alpha / (s + j as f64)).ln_1p())
            .sum();
    }
    ln_gamma_diff(beta, alpha) - ln_gamma_diff(beta + k, alpha)
}

/// Expected pass@k under Beta(alpha, beta).
pub fn pass_at_k(alpha: f64, beta: f64, k: f64) -> f64 {
    -ln_fail(alpha, beta, k).exp_m1()
}

/// The (real) k at which the expected pass@k reaches `target` in (0, 1), by bisection in ln k
/// over [1e-12, 1e40]; +inf when even k = 1e40 falls short.
pub fn k_for(alpha: f64, beta: f64, target: f64) -> f64 {
    let want = (-target).ln_1p();
    let f = |lk: f64| ln_fail(alpha, beta, lk.exp()) - want;
    let (mut lo, mut hi) = (1e-12f64.ln(), 1e40f64.ln());
    if f(hi) > 0.0 {
        return f64::INFINITY;
    }
    if f(lo) <= 0.0 {
        return lo.exp();
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Expected pass@k of many laws at many k: row-major (laws x ks). Shapes that are not positive
/// and finite give NaN rows.
pub fn pass_at_k_matrix(alpha: &[f64], beta: &[f64], ks: &[f64]) -> Result<Vec<f64>> {
    if alpha.len() != beta.len() {
        return Err(Error::InvalidShape(format!(
            "alpha has {} values but beta {}",
            alpha.len(),
            beta.len()
        )));
    }
    if alpha.len().saturating_mul(ks.len()) > MAX_VALUES {
        return Err(Error::InvalidOption(format!(
            "{} laws x {} values of k is too large a table",
            alpha.len(),
            ks.len()
        )));
    }
    if let Some(k) = ks.iter().find(|k| !(k.is_finite() && **k >= 0.0)) {
        return Err(Error::InvalidOption(format!(
            "k must be non-negative and finite, got {k}"
        )));
    }
    let ok = |a: f64, b: f64| a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite();
    Ok(alpha
        .iter()
        .zip(beta)
        .flat_map(|(&a, &b)| {
            ks.iter().map(move |&k| {
                if ok(a, b) {
                    pass_at_k(a, b, k)
                } else {
                    f64::NAN
                }
            })
        })
        .collect())
}

/// `k_for` of many laws and targets: row-major (laws x targets).
pub fn k_for_matrix(alpha: &[f64], beta: &[f64], targets: &[f64]) -> Result<Vec<f64>> {
    if alpha.len() != beta.len() {
        return Err(Error::InvalidShape(format!(
            "alpha has {} values but beta {}",
            alpha.len(),
            beta.len()
        )));
    }
    if alpha.len().saturating_mul(targets.len()) > MAX_VALUES {
        return Err(Error::InvalidOption(format!(
            "{} laws x {} targets is too large a table",
            alpha.len(),
            targets.len()
        )));
    }
    if let Some(t) = targets.iter().find(|t| !(**t > 0.0 && **t < 1.0)) {
        return Err(Error::InvalidOption(format!(
            "target pass@k must be in (0, 1), got {t}"
        )));
    }
    let ok = |a: f64, b: f64| a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite();
    Ok(alpha
        .iter()
        .zip(beta)
        .flat_map(|(&a, &b)| {
            targets
                .iter()
                .map(move |&t| if ok(a, b) { k_for(a, b, t) } else { f64::NAN })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        let n = [20u64, 20, 20, 50, 50, 7];
        let c = [0u64, 3, 20, 1, 12, 2];
        let s = Samples::new(&n, &c).unwrap();
        let p = Pairs::new(&s);
        let mut w = Vec::new();
        p.weights(&[1.0, 2.0, 1.0, 1.0, 0.0, 3.0], &mut w);
        let (la, lb) = (0.4f64.ln(), 2.5f64.ln());
        let (_, g, h) = evaluate(&p, &w, la, lb);
        let e = 1e-6;
        let f = |x: f64, y: f64| evaluate(&p, &w, x, y).0;
        let ga = (f(la + e, lb) - f(la - e, lb)) / (2.0 * e);
        let gb = (f(la, lb + e) - f(la, lb - e)) / (2.0 * e);
        assert!((g[0] - ga).abs() < 1e-6 * ga.abs().max(1.0));
        assert!((g[1] - gb).abs() < 1e-6 * gb.abs().max(1.0));
        let gfd = |x: f64, y: f64| evaluate(&p, &w, x, y).1;
        let haa = (gfd(la + e, lb)[0] - gfd(la - e, lb)[0]) / (2.0 * e);
        let hab = (gfd(la, lb + e)[0] - gfd(la, lb - e)[0]) / (2.0 * e);
        let hbb = (gfd(la, lb + e)[1] - gfd(la, lb - e)[1]) / (2.0 * e);
        assert!((h[0] - haa).abs() < 1e-5 * haa.abs().max(1.0));
        assert!((h[1] - hab).abs() < 1e-5 * hab.abs().max(1.0));
        assert!((h[2] - hbb).abs() < 1e-5 * hbb.abs().max(1.0));
    }

    #[test]
    fn likelihood_is_the_beta_binomial_pmf() {
        // one problem: P(c | n) = C(n,c) B(c+a, n-c+b) / B(a, b), by direct summation
        let (n, c, a, b) = (6u64, 2u64, 0.7f64, 1.9f64);
        let (nn, cc) = ([n], [c]);
        let s = Samples::new(&nn, &cc).unwrap();
        let p = Pairs::new(&s);
        let (ll, _, _) = evaluate(&p, &[1.0], a.ln(), b.ln());
        let lnb = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
        let want = (15.0f64).ln() + lnb(c as f64 + a, (n - c) as f64 + b) - lnb(a, b);
        assert!((ll - want).abs() < 1e-13);
    }

    #[test]
    fn curve_and_its_inverse() {
        let (a, b) = (0.35, 4.0);
        // pass@1 is the mean success rate
        assert!((pass_at_k(a, b, 1.0) - a / (a + b)).abs() < 1e-15);
        // the product and log-gamma forms agree where both apply
        let lg = ln_gamma(b + 100.0) - ln_gamma(b) + ln_gamma(a + b) - ln_gamma(a + b + 100.0);
        assert!((ln_fail(a, b, 100.0) - lg).abs() < 1e-12);
        for &t in &[0.05, 0.5, 0.9, 0.999] {
            let k = k_for(a, b, t);
            assert!((pass_at_k(a, b, k) - t).abs() < 1e-9, "{t} {k}");
        }
        // the asymptote: -ln pass@k ~ a k^-alpha
        let fit = BetaFit {
            alpha: a,
            beta: b,
            loglik: 0.0,
            status: BetaStatus::Converged,
            n_iter: 0,
            cov_log: [0.0; 3],
        };
        let k = 1e9;
        let fail = ln_fail(a, b, k).exp();
        assert!((fail / (fit.power_a() * k.powf(-a)) - 1.0).abs() < 1e-6);
        // and -ln pass@k = -ln(1 - fail) differs from fail by fail/2 relative
        let nlp = -pass_at_k(a, b, k).ln();
        assert!((nlp / fail - 1.0 - fail / 2.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_data_are_reported() {
        let s = Samples::new(&[5, 5], &[0, 0]).unwrap();
        assert_eq!(fit(&s).status, BetaStatus::NoSuccesses);
        let s = Samples::new(&[5, 5], &[5, 5]).unwrap();
        assert_eq!(fit(&s).status, BetaStatus::NoFailures);
        // identical rates with no excess spread: a point mass, shapes run to the bound
        let n = vec![1000u64; 40];
        let c = vec![500u64; 40];
        let s = Samples::new(&n, &c).unwrap();
        let f = fit(&s);
        assert_eq!(f.status, BetaStatus::AtBound, "{f:?}");
        assert!((f.alpha / (f.alpha + f.beta) - 0.5).abs() < 1e-6);
    }
}
