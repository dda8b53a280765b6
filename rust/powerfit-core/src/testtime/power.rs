//! The coverage law of Brown et al. 2024, coverage(k) = exp(a' k^b') with a', b' < 0, written
//! as the power law -ln pass@k = a k^-b (a = -a', b = -b'), fitted to the pass@k curve by least
//! squares on ln(-ln pass@k) = ln a - b ln k: a straight line in the coordinates where the law
//! is one, as Schaeffer et al. 2025 fit it. Points with pass@k of exactly 0 or 1 carry no
//! information on that scale and are left out.

/// A fitted power law -ln pass@k = a k^-b.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerFit {
    pub a: f64,
    pub b: f64,
    /// Coefficient of determination on the log-log scale.
    pub r2: f64,
    /// Points used (0 < pass@k < 1).
    pub n_used: usize,
}

impl PowerFit {
    /// Whether the fit rests on at least two points.
    pub fn ok(&self) -> bool {
        self.n_used >= 2 && self.a.is_finite() && self.b.is_finite()
    }

    /// pass@k predicted by the law.
    pub fn pass_at_k(&self, k: f64) -> f64 {
        (-self.a * k.powf(-self.b)).exp()
    }

    /// The k at which the law reaches `target` in (0, 1).
    pub fn k_for(&self, target: f64) -> f64 {
        if !(self.b > 0.0) {
            return f64::INFINITY;
        }
        (self.a / -target.ln()).powf(1.0 / self.b)
    }
}

/// Least squares of ln(-ln y) on ln k.
pub fn fit(ks: &[f64], passk: &[f64]) -> PowerFit {
    let pts: Vec<(f64, f64)> = ks
        .iter()
        .zip(passk)
        .filter(|(&k, &y)| k > 0.0 && y > 0.0 && y < 1.0)
        .map(|(&k, &y)| (k.ln(), (-y.ln()).ln()))
        .collect();
    let m = pts.len();
    let bad = PowerFit {
        a: f64::NAN,
        b: f64::NAN,
        r2: f64::NAN,
        n_used: m,
    };
    if m < 2 {
        return bad;
    }
    let mf = m as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / mf;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / mf;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = pts.iter().map(|p| (p.1 - my).powi(2)).sum();
    if !(sxx > 0.0) {
        return bad;
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        (sxy * sxy) / (sxx * syy)
    } else {
        1.0
    };
    PowerFit {
        a: (my - slope * mx).exp(),
        b: -slope,
        r2,
        n_used: m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_law_and_inverts_it() {
        let ks: Vec<f64> = (0..12).map(|i| 2f64.powi(i)).collect();
        let y: Vec<f64> = ks.iter().map(|k| (-1.7 * k.powf(-0.42)).exp()).collect();
        let f = fit(&ks, &y);
        assert!((f.a - 1.7).abs() < 1e-12 && (f.b - 0.42).abs() < 1e-12 && f.ok());
        assert!((f.r2 - 1.0).abs() < 1e-12);
        let k = f.k_for(0.8);
        assert!((f.pass_at_k(k) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn saturated_points_are_left_out() {
        let f = fit(&[1.0, 2.0, 4.0], &[0.0, 1.0, 0.5]);
        assert_eq!(f.n_used, 1);
        assert!(!f.ok());
    }
}
