//! Helpers for the data-driven starts of the laws without a power-sum structure: small
//! linear least-squares problems (the parameters a law is linear in once its others are fixed
//! on a grid) and the range of a column.

use crate::linalg::{cholesky, cholesky_solve};

/// Least squares min |A c - y|^2 over the columns `a` (each of y's length), by the normal
/// equations scaled to unit diagonal (a handful of columns). Returns the coefficients and the
/// residual sum of squares, or None when a column is degenerate or a value non-finite.
pub fn lstsq(a: &[Vec<f64>], y: &[f64]) -> Option<(Vec<f64>, f64)> {
    let k = a.len();
    if k == 0 || y.iter().any(|v| !v.is_finite()) || a.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
    let mut g = vec![0.0; k * k];
    let mut b = vec![0.0; k];
    for i in 0..k {
        for j in 0..=i {
            let v = dot(&a[i], &a[j]);
            g[i * k + j] = v;
            g[j * k + i] = v;
        }
        b[i] = dot(&a[i], y);
    }
    let s: Vec<f64> = (0..k).map(|i| 1.0 / g[i * k + i].sqrt()).collect();
    if s.iter().any(|v| !v.is_finite()) {
        return None;
    }
    for i in 0..k {
        for j in 0..k {
            g[i * k + j] *= s[i] * s[j];
        }
        // a whisker of ridge: collinear columns give a start, not a failure
        g[i * k + i] += 1e-12;
        b[i] *= s[i];
    }
    if !cholesky(&mut g, k) {
        return None;
    }
    cholesky_solve(&g, k, &mut b);
    let c: Vec<f64> = b.iter().zip(&s).map(|(v, s)| v * s).collect();
    let rss = (0..y.len())
        .map(|r| {
            let f: f64 = (0..k).map(|i| a[i][r] * c[i]).sum();
            (f - y[r]).powi(2)
        })
        .sum();
    c.iter().all(|v| v.is_finite()).then_some((c, rss))
}

/// Smallest and largest value of a column (NaN-free data).
pub fn range(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// The `keep` candidates with the smallest score (ties in input order), finite scores only.
pub fn best(mut cands: Vec<(f64, Vec<f64>)>, keep: usize) -> Vec<Vec<f64>> {
    cands.retain(|c| c.0.is_finite() && c.1.iter().all(|v| v.is_finite()));
    cands.sort_by(|a, b| a.0.total_cmp(&b.0));
    cands.into_iter().take(keep).map(|c| c.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_line() {
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 - 3.0 * v).collect();
        let (c, rss) = lstsq(&[vec![1.0; 10], x], &y).unwrap();
        assert!((c[0] - 2.0).abs() < 1e-8 && (c[1] + 3.0).abs() < 1e-8 && rss < 1e-12);
        assert!(lstsq(&[vec![0.0; 3]], &[1.0, 2.0, 3.0]).is_none());
    }
}
