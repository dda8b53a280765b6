//! Interval estimates from bootstrap samples: percentile, basic and BCa; the normal
//! distribution functions they need.

use crate::error::{Error, Result};

/// erfc(x), to ~1e-14 relative: power series of erf for |x| < 2.5, continued fraction beyond.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax < 2.5 {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for k in 1..200 {
            let n = k as f64;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz)
        let tiny = 1e-300;
        let mut f = ax;
        let mut c = ax;
        let mut d = 0.0;
        for k in 1..300 {
            let a = k as f64 * 0.5;
            d = ax + a * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = ax + a / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let v = (-ax * ax).exp() / (f * std::f64::consts::PI.sqrt());
        if x > 0.0 {
            v
        } else {
            2.0 - v
        }
    }
}

/// Standard normal CDF.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile, by bisection then Newton on `norm_cdf` (p in (0, 1)).
pub fn norm_ppf(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if norm_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..3 {
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if pdf > 0.0 {
            x -= (norm_cdf(x) - p) / pdf;
        }
    }
    x
}

/// Quantile of sorted data with linear interpolation (numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    if i + 1 < n {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[n - 1]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    Percentile,
    Basic,
    Bca,
}

impl IntervalMethod {
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "percentile" => Ok(Self::Percentile),
            "basic" => Ok(Self::Basic),
            "bca" | "BCa" => Ok(Self::Bca),
            other => Err(Error::InvalidOption(format!(
                "unknown interval type '{other}' (interval=): use percentile, basic or bca"
            ))),
        }
    }
}

/// An interval for one quantity: the replicates (failed ones already removed), the full-data
/// estimate, and for BCa the jackknife values.
pub fn interval(
    samples: &[f64],
    estimate: f64,
    jackknife: Option<&[f64]>,
    level: f64,
    method: IntervalMethod,
) -> Result<(f64, f64)> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::InvalidOption(format!(
            "level must be in (0, 1), got {level}"
        )));
    }
    let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if s.len() < 2 {
        return Ok((f64::NAN, f64::NAN));
    }
    s.sort_by(f64::total_cmp);
    let alpha = 0.5 * (1.0 - level);
    match method {
        IntervalMethod::Percentile => {
            Ok((quantile_sorted(&s, alpha), quantile_sorted(&s, 1.0 - alpha)))
        }
        IntervalMethod::Basic => Ok((
            2.0 * estimate - quantile_sorted(&s, 1.0 - alpha),
            2.0 * estimate - quantile_sorted(&s, alpha),
        )),
        IntervalMethod::Bca => {
            let jack = jackknife.ok_or_else(|| {
                Error::InvalidOption("BCa intervals need the jackknife values".into())
            })?;
            let jk: Vec<f64> = jack.iter().copied().filter(|v| v.is_finite()).collect();
            let below = s.iter().filter(|&&v| v < estimate).count() as f64
                + 0.5 * s.iter().filter(|&&v| v == estimate).count() as f64;
            let z0 = norm_ppf((below / s.len() as f64).clamp(1e-10, 1.0 - 1e-10));
            let mean = jk.iter().sum::<f64>() / jk.len().max(1) as f64;
            let (mut num, mut den) = (0.0, 0.0);
            for v in &jk {
                let d = mean - v;
                num += d * d * d;
                den += d * d;
            }
            let a = if den > 0.0 {
                num / (6.0 * den.powf(1.5))
            } else {
                0.0
            };
            let adj = |q: f64| {
                let z = norm_ppf(q);
                norm_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
            };
            Ok((
                quantile_sorted(&s, adj(alpha)),
                quantile_sorted(&s, adj(1.0 - alpha)),
            ))
        }
    }
}

/// Intervals for every column of `samples` (row-major, `q` columns: replicates x
/// quantities) around `estimate`; BCa needs `jackknife` (row-major, `q` columns).
pub fn intervals(
    samples: &[f64],
    q: usize,
    estimate: &[f64],
    jackknife: Option<&[f64]>,
    level: f64,
    method: IntervalMethod,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if estimate.len() != q || (q > 0 && !samples.len().is_multiple_of(q)) {
        return Err(Error::InvalidShape(format!(
            "{} estimates for replicates of {q} quantities",
            estimate.len()
        )));
    }
    if let Some(j) = jackknife {
        if q > 0 && !j.len().is_multiple_of(q) {
            return Err(Error::InvalidShape(
                "the jackknife values have the wrong number of columns".into(),
            ));
        }
    }
    if q == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let column =
        |m: &[f64], c: usize| -> Vec<f64> { m.iter().skip(c).step_by(q).copied().collect() };
    let mut lo = Vec::with_capacity(q);
    let mut hi = Vec::with_capacity(q);
    for c in 0..q {
        let jk = jackknife.map(|j| column(j, c));
        let (l, h) = interval(
            &column(samples, c),
            estimate[c],
            jk.as_deref(),
            level,
            method,
        )?;
        lo.push(l);
        hi.push(h);
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((norm_cdf(1.959963984540054) - 0.975).abs() < 1e-13);
        assert!((norm_cdf(-3.0) - 0.0013498980316301).abs() < 1e-15);
        assert!((norm_cdf(-6.0) - 9.865876450377e-10).abs() < 1e-20);
        assert!((norm_ppf(0.975) - 1.959963984540054).abs() < 1e-12);
        assert!((norm_ppf(0.001) + 3.090232306167813).abs() < 1e-10);
        assert!((erfc(0.5) - 0.4795001221869535).abs() < 1e-15);
        assert!((erfc(3.0) - 2.209049699858544e-05).abs() < 1e-18);
    }

    #[test]
    fn intervals() {
        let s: Vec<f64> = (0..101).map(|i| i as f64).collect();
        assert_eq!(quantile_sorted(&s, 0.25), 25.0);
        let (lo, hi) = interval(&s, 50.0, None, 0.9, IntervalMethod::Percentile).unwrap();
        assert!((lo - 5.0).abs() < 1e-12 && (hi - 95.0).abs() < 1e-12);
        let (lo, hi) = interval(&s, 40.0, None, 0.9, IntervalMethod::Basic).unwrap();
        assert!((lo + 15.0).abs() < 1e-12 && (hi - 75.0).abs() < 1e-12);
        // symmetric jackknife and a centred estimate: BCa reduces to the percentile interval
        let jk: Vec<f64> = (0..11).map(|i| i as f64 - 5.0).collect();
        let (lo, hi) = interval(&s, 50.0, Some(&jk), 0.9, IntervalMethod::Bca).unwrap();
        assert!(
            (lo - 5.0).abs() < 1e-6 && (hi - 95.0).abs() < 1e-6,
            "{lo} {hi}"
        );
        assert!(interval(&s, 50.0, None, 0.9, IntervalMethod::Bca).is_err());
        assert!(interval(&s, 50.0, None, 1.5, IntervalMethod::Basic).is_err());
    }
}
