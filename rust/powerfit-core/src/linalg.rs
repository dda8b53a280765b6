//! Small dense linear algebra on p x p row-major matrices (p is a handful of parameters).

/// Dot product, vectorised (8 accumulators; AVX2+FMA where the CPU has them).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::fastmath::dot(a, b)
}

/// In-place Cholesky factor (lower triangle) of a symmetric p x p matrix. False if not
/// numerically positive definite.
pub fn cholesky(a: &mut [f64], p: usize) -> bool {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if !(d > 0.0) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    true
}

/// Solves L L^T x = b in place, L from `cholesky`.
pub fn cholesky_solve(l: &[f64], p: usize, b: &mut [f64]) {
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * p + k] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = b[i];
        for k in i + 1..p {
            s -= l[k * p + i] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
}

/// Inverse of a symmetric positive definite matrix, after scaling it to unit diagonal
/// (so the test for definiteness is about correlation, not units). None if singular.
pub fn spd_inverse(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut s = vec![0.0; p];
    for i in 0..p {
        let d = a[i * p + i];
        if !(d > 0.0) || !d.is_finite() {
            return None;
        }
        s[i] = 1.0 / d.sqrt();
    }
    let mut m: Vec<f64> = (0..p * p).map(|k| a[k] * s[k / p] * s[k % p]).collect();
    if !cholesky(&mut m, p) {
        return None;
    }
    // reject a factor whose pivots say the matrix is singular to working precision
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for i in 0..p {
        lo = lo.min(m[i * p + i]);
        hi = hi.max(m[i * p + i]);
    }
    if lo <= hi * 1e-7 {
        return None;
    }
    let mut inv = vec![0.0; p * p];
    let mut col = vec![0.0; p];
    for j in 0..p {
        col.fill(0.0);
        col[j] = 1.0;
        cholesky_solve(&m, p, &mut col);
        for i in 0..p {
            inv[i * p + j] = col[i] * s[i] * s[j];
        }
    }
    Some(inv)
}

/// One Jacobi rotation in the plane (pi, q) that zeroes m[pi, q]: only rows and columns pi
/// and q change, the 2x2 block in closed form, the rest mirrored (m stays exactly symmetric).
#[inline(always)]
fn rotate(m: &mut [f64], v: &mut [f64], p: usize, pi: usize, q: usize, (c, s, t): (f64, f64, f64)) {
    let apq = m[pi * p + q];
    m[pi * p + pi] -= t * apq;
    m[q * p + q] += t * apq;
    m[pi * p + q] = 0.0;
    m[q * p + pi] = 0.0;
    for k in (0..p).filter(|&k| k != pi && k != q) {
        let mkp = m[k * p + pi];
        let mkq = m[k * p + q];
        let np = c * mkp - s * mkq;
        let nq = s * mkp + c * mkq;
        m[k * p + pi] = np;
        m[pi * p + k] = np;
        m[k * p + q] = nq;
        m[q * p + k] = nq;
    }
    for k in 0..p {
        let vkp = v[k * p + pi];
        let vkq = v[k * p + q];
        v[k * p + pi] = c * vkp - s * vkq;
        v[k * p + q] = s * vkp + c * vkq;
    }
}

/// Eigenvalues (ascending) and eigenvectors (columns of the row-major matrix) of a symmetric
/// matrix by cyclic Jacobi rotations: exact enough for condition numbers of p <= ~20.
pub fn sym_eigen(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for sweep in 0..100 {
        let mut off = 0.0;
        for i in 0..p {
            for j in i + 1..p {
                off += m[i * p + j] * m[i * p + j];
            }
        }
        let diag: f64 = (0..p).map(|i| m[i * p + i] * m[i * p + i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for pi in 0..p {
            for q in pi + 1..p {
                let apq = m[pi * p + q];
                if apq == 0.0 {
                    continue;
                }
                // after the first sweeps, an element below the rounding of both diagonal
                // entries cannot move an eigenvalue: zero it instead of rotating
                let g = 100.0 * apq.abs();
                let (app, aqq) = (m[pi * p + pi].abs(), m[q * p + q].abs());
                if sweep > 3 && app + g == app && aqq + g == aqq {
                    m[pi * p + q] = 0.0;
                    m[q * p + pi] = 0.0;
                    continue;
                }
                let theta = (m[q * p + q] - m[pi * p + pi]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                rotate(&mut m, &mut v, p, pi, q, (c, s, t));
            }
        }
    }
    let mut idx: Vec<usize> = (0..p).collect();
    idx.sort_by(|&i, &j| m[i * p + i].total_cmp(&m[j * p + j]));
    let vals = idx.iter().map(|&i| m[i * p + i]).collect();
    let mut vecs = vec![0.0; p * p];
    for (c, &i) in idx.iter().enumerate() {
        for k in 0..p {
            vecs[k * p + c] = v[k * p + i];
        }
    }
    (vals, vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky(&mut l, 3));
        let mut b = [1.0, 2.0, 3.0];
        cholesky_solve(&l, 3, &mut b);
        for i in 0..3 {
            let r: f64 = (0..3).map(|k| a[i * 3 + k] * b[k]).sum();
            assert!((r - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = spd_inverse(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((r - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(spd_inverse(&[1.0, 1.0, 1.0, 1.0], 2).is_none());
    }

    #[test]
    fn eigen_of_known_matrix() {
        let a = [2.0, 1.0, 1.0, 2.0];
        let (vals, vecs) = sym_eigen(&a, 2);
        assert!((vals[0] - 1.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
        assert!((vecs[0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f64> = (0..37).map(|i| i as f64 * 0.5).collect();
        let b: Vec<f64> = (0..37).map(|i| 1.0 - i as f64).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-9);
    }
}
