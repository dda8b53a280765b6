//! Log-gamma, digamma and trigamma for positive arguments: what the beta-binomial likelihood
//! and its derivatives need. Accurate to a few ulps of their magnitude over (0, 1e15].

use std::f64::consts::PI;

/// Lanczos coefficients (g = 7, n = 9), as in Numerical Recipes 3rd ed. and Boost.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0 (NaN otherwise).
pub fn ln_gamma(x: f64) -> f64 {
    if !(x > 0.0) {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x keeps the Lanczos sum in its accurate range
        return ln_gamma(x + 1.0) - x.ln();
    }
    if x > 1e7 {
        return stirling(x);
    }
    let z = x - 1.0;
    let mut s = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        s += c / (z + i as f64);
    }
    let t = z + LANCZOS_G + 0.5;
    0.5 * (2.0 * PI).ln() + (z + 0.5) * t.ln() - t + s.ln()
}

/// Stirling's series for large x (error below 1e-30 relative at x > 1e7).
fn stirling(x: f64) -> f64 {
    let r = 1.0 / x;
    let r2 = r * r;
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + r * (1.0 / 12.0 - r2 / 360.0)
}

/// ln Γ(x + d) - ln Γ(x) for x > 0, x + d > 0, without the cancellation of subtracting two
/// large log-gammas: Stirling's formula for both, with their difference written as
/// d ln(x + d) + (x - 1/2) ln(1 + d/x) - d plus the difference of the correction series.
pub fn ln_gamma_diff(x: f64, d: f64) -> f64 {
    if d == 0.0 {
        return 0.0;
    }
    if x < 16.0 || x + d < 16.0 {
        return ln_gamma(x + d) - ln_gamma(x);
    }
    let series = |y: f64| {
        let r = 1.0 / y;
        let r2 = r * r;
        r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)))
    };
    d * (x + d).ln() + (x - 0.5) * (d / x).ln_1p() - d + (series(x + d) - series(x))
}

/// ψ(x) = d ln Γ(x)/dx for x > 0.
pub fn digamma(x: f64) -> f64 {
    if !(x > 0.0) {
        return f64::NAN;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / x;
    let r2 = r * r;
    // Bernoulli terms B_2k / (2k x^2k), k = 1..6
    let series = r2
        * (1.0 / 12.0
            - r2 * (1.0 / 120.0
                - r2 * (1.0 / 252.0
                    - r2 * (1.0 / 240.0 - r2 * (1.0 / 132.0 - r2 * 691.0 / 32760.0)))));
    acc + x.ln() - 0.5 * r - series
}

/// ψ'(x) = d² ln Γ(x)/dx² for x > 0.
pub fn trigamma(x: f64) -> f64 {
    if !(x > 0.0) {
        return f64::NAN;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / x;
    let r2 = r * r;
    // 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1), k = 1..6
    let bern = 1.0 / 6.0
        - r2 * (1.0 / 30.0
            - r2 * (1.0 / 42.0 - r2 * (1.0 / 30.0 - r2 * (5.0 / 66.0 - r2 * 691.0 / 2730.0))));
    let series = r * (1.0 + r * (0.5 + r * bern));
    acc + series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_gamma_known_values() {
        // Γ(n) = (n-1)!, Γ(1/2) = √π, and a few digits from tables
        let mut fact = 1.0f64;
        for n in 1..30 {
            let want = fact.ln();
            assert!((ln_gamma(n as f64) - want).abs() <= 1e-13 * want.abs().max(1.0));
            fact *= n as f64;
        }
        assert!((ln_gamma(0.5) - 0.5 * PI.ln()).abs() < 1e-14);
        assert!((ln_gamma(1e-3) - 6.907_178_885_383_853).abs() < 1e-12);
        assert!((ln_gamma(1e8) - 1_742_068_066.103_834_6).abs() < 1e-5);
        assert!((ln_gamma(1e7 * (1.0 - 1e-12)) - stirling(1e7)).abs() < 1e-3);
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.0).is_nan());
    }

    #[test]
    fn log_gamma_differences_keep_their_digits() {
        for &(x, d) in &[
            (20.0f64, 0.3f64),
            (1e3, 7.5),
            (5.0, 40.0),
            (30.0, -13.0),
            (1e6, 1e6),
        ] {
            let direct = ln_gamma(x + d) - ln_gamma(x);
            assert!((ln_gamma_diff(x, d) - direct).abs() < 1e-11 * direct.abs().max(1.0));
        }
        // far out, where subtracting log-gammas of 1e40 leaves nothing: d ln x + d(d-1)/(2x)
        let (x, d) = (1e40f64, 0.35f64);
        let want = d * x.ln() + d * (d - 1.0) / (2.0 * x);
        assert!((ln_gamma_diff(x, d) - want).abs() < 1e-13 * want.abs());
    }

    #[test]
    fn digamma_and_trigamma_match_differences_of_log_gamma() {
        for &x in &[1e-3f64, 0.1, 0.5, 1.0, 2.5, 7.0, 33.3, 1e4] {
            let h = 1e-5 * x.max(1e-2);
            let d = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((digamma(x) - d).abs() < 1e-6 * d.abs().max(1.0), "psi({x})");
            let t = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!(
                (trigamma(x) - t).abs() < 1e-6 * t.abs().max(1.0),
                "psi1({x})"
            );
        }
        // ψ(1) = -γ, ψ'(1) = π²/6
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-14);
        assert!((trigamma(1.0) - PI * PI / 6.0).abs() < 1e-13);
    }
}
