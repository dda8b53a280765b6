//! A safeguarded scalar root finder: Newton's method kept inside a bracket that shrinks at every
//! step, with bisection when a Newton step would leave it or stalls. Implicit laws solve their
//! equation for L with it, point by point.

/// Most iterations; bisection alone halves the bracket 200 times, far past double precision.
const MAX_ITER: usize = 200;

/// A root of `f` in [lo, hi], where f(lo) and f(hi) have opposite signs (or either is zero).
/// `f` returns the value and the derivative. `start` (inside the bracket) is the first
/// iterate. Stops when |f| <= `ftol` or the bracket is down to a few ulps; returns NaN when the
/// ends do not bracket a sign change.
pub fn newton_bracketed(
    f: impl Fn(f64) -> (f64, f64),
    lo: f64,
    hi: f64,
    start: f64,
    ftol: f64,
) -> f64 {
    if !(lo <= hi) {
        return f64::NAN;
    }
    let (flo, _) = f(lo);
    let (fhi, _) = f(hi);
    if flo == 0.0 {
        return lo;
    }
    if fhi == 0.0 {
        return hi;
    }
    // ends may be non-finite (poles at the ends of the domain): only their signs matter
    if flo.is_nan() || fhi.is_nan() || flo.signum() == fhi.signum() {
        return f64::NAN;
    }
    // orient so that f(a) < 0 < f(b)
    let (mut a, mut b) = if flo < 0.0 { (lo, hi) } else { (hi, lo) };
    let mut x = if start > lo.min(hi) && start < hi.max(lo) {
        start
    } else {
        0.5 * (lo + hi)
    };
    let mut best = (f64::INFINITY, x);
    for _ in 0..MAX_ITER {
        let (fx, dfx) = f(x);
        if fx.is_nan() {
            // outside the function's domain inside the bracket: fall back to bisection
            x = 0.5 * (a + b);
            continue;
        }
        if fx.abs() < best.0 {
            best = (fx.abs(), x);
        }
        if fx.abs() <= ftol {
            return x;
        }
        if fx < 0.0 {
            a = x;
        } else {
            b = x;
        }
        let width = (b - a).abs();
        if width <= 4.0 * f64::EPSILON * a.abs().max(b.abs()) {
            return best.1;
        }
        let newton = x - fx / dfx;
        let (l, h) = (a.min(b), a.max(b));
        x = if newton.is_finite() && newton > l && newton < h {
            newton
        } else {
            0.5 * (a + b)
        };
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_and_refuses_non_brackets() {
        let r = newton_bracketed(|x| (x * x - 2.0, 2.0 * x), 0.0, 2.0, 1.0, 1e-14);
        assert!((r - 2f64.sqrt()).abs() < 1e-14);
        // a derivative that lies (zero) still converges through bisection
        let r = newton_bracketed(|x| (x.powi(3) - 8.0, 0.0), 0.0, 5.0, 1.0, 1e-12);
        assert!((r - 2.0).abs() < 1e-12);
        assert!(newton_bracketed(|x| (x * x + 1.0, 2.0 * x), -1.0, 1.0, 0.0, 1e-12).is_nan());
        // a pole at the end of the domain: only the sign at the end matters
        let r = newton_bracketed(|x: f64| (x.ln() + 1.0, 1.0 / x), 0.0, 10.0, 5.0, 1e-14);
        assert!((r - (-1f64).exp()).abs() < 1e-15);
    }
}
