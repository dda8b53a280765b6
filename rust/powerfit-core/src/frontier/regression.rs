//! The frontier's power laws, N*(C) = k C^a, fitted by least squares in log-log.

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
