//! Small dense linear algebra on p x p row-major matrices (p is a handful of parameters).

/// Dot product, vectorised (8 accumulators; AVX2+FMA where the CPU has them).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::fastmath::dot(a, b)
}

/// The order of a p x p matrix: a compile-time constant for the small orders solvers meet
/// (so loops unroll and indices need no checks), a run-time value otherwise. The algorithms
/// are written once over it and do the same arithmetic in the same order either way.
pub(crate) trait Dim: Copy {
    fn p(self) -> usize;
}

#[derive(Clone, Copy)]
pub(crate) struct Fixed<const P: usize>;

impl<const P: usize> Dim for Fixed<P> {
    #[inline(always)]
    fn p(self) -> usize {
        P
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Dyn(pub(crate) usize);

impl Dim for Dyn {
    #[inline(always)]
    fn p(self) -> usize {
        self.0
    }
}

/// The largest order with a compile-time instance.
const SMALL: usize = 8;

/// Calls `$f(dim, args..)` with the order `$p` as a `Fixed` instance when it is small.
macro_rules! by_order {
    ($p:expr, $f:ident($($arg:expr),*)) => {
        match $p {
            1 => $f(Fixed::<1>, $($arg),*),
            2 => $f(Fixed::<2>, $($arg),*),
            3 => $f(Fixed::<3>, $($arg),*),
            4 => $f(Fixed::<4>, $($arg),*),
            5 => $f(Fixed::<5>, $($arg),*),
            6 => $f(Fixed::<6>, $($arg),*),
            7 => $f(Fixed::<7>, $($arg),*),
            8 => $f(Fixed::<8>, $($arg),*),
            p => $f(Dyn(p), $($arg),*),
        }
    };
}
pub(crate) use by_order;

/// In-place Cholesky factor (lower triangle) of a symmetric p x p matrix. False if not
/// numerically positive definite.
pub fn cholesky(a: &mut [f64], p: usize) -> bool {
    by_order!(p, cholesky_in(a))
}

#[inline(always)]
fn cholesky_in<D: Dim>(dim: D, a: &mut [f64]) -> bool {
    let p = dim.p();
    let a = &mut a[..p * p];
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
    by_order!(p, cholesky_solve_in(l, b))
}

#[inline(always)]
fn cholesky_solve_in<D: Dim>(dim: D, l: &[f64], b: &mut [f64]) {
    let p = dim.p();
    let (l, b) = (&l[..p * p], &mut b[..p]);
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
fn rotate<D: Dim, const VECS: bool>(
    dim: D,
    m: &mut [f64],
    v: &mut [f64],
    pi: usize,
    q: usize,
    cst: [f64; 3],
) {
    let p = dim.p();
    let (m, v) = (&mut m[..p * p], &mut v[..p * p]);
    let [c, s, t] = cst;
    let apq = m[pi * p + q];
    m[pi * p + pi] -= t * apq;
    m[q * p + q] += t * apq;
    m[pi * p + q] = 0.0;
    m[q * p + pi] = 0.0;
    for k in 0..p {
        if k == pi || k == q {
            continue;
        }
        let mkp = m[k * p + pi];
        let mkq = m[k * p + q];
        let np = c * mkp - s * mkq;
        let nq = s * mkp + c * mkq;
        m[k * p + pi] = np;
        m[pi * p + k] = np;
        m[k * p + q] = nq;
        m[q * p + k] = nq;
    }
    if !VECS {
        return;
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
    eigen::<true>(a, p)
}

/// The eigenvalues of `sym_eigen` alone (bit-identical to its: the same rotations, without
/// accumulating the eigenvectors); the eigenvector matrix returned is empty.
pub fn sym_eigenvalues(a: &[f64], p: usize) -> Vec<f64> {
    eigen::<false>(a, p).0
}

fn eigen<const VECS: bool>(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    if p <= SMALL {
        // the work arrays of a small matrix live on the stack
        let mut m = [0.0; SMALL * SMALL];
        m[..p * p].copy_from_slice(&a[..p * p]);
        let mut v = [0.0; SMALL * SMALL];
        if VECS {
            by_order!(p, jacobi_vectors(&mut m, &mut v))
        } else {
            by_order!(p, jacobi_values(&mut m, &mut v))
        }
    } else {
        jacobi::<_, VECS>(Dyn(p), &mut a[..p * p].to_vec(), &mut vec![0.0; p * p])
    }
}

// `by_order!` dispatches to a plain function name, so each choice of VECS gets one
#[inline(always)]
fn jacobi_vectors<D: Dim>(dim: D, m: &mut [f64], v: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    jacobi::<D, true>(dim, m, v)
}

#[inline(always)]
fn jacobi_values<D: Dim>(dim: D, m: &mut [f64], v: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    jacobi::<D, false>(dim, m, v)
}

/// `eigen` on a copy `m` of the matrix, `v` zeroed (both p x p row-major).
#[inline(always)]
fn jacobi<D: Dim, const VECS: bool>(dim: D, m: &mut [f64], v: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    let p = dim.p();
    let (m, v) = (&mut m[..p * p], &mut v[..p * p]);
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
                rotate::<D, VECS>(dim, m, v, pi, q, [c, t * c, t]);
            }
        }
    }
    let mut idx: Vec<usize> = (0..p).collect();
    idx.sort_by(|&i, &j| m[i * p + i].total_cmp(&m[j * p + j]));
    let vals = idx.iter().map(|&i| m[i * p + i]).collect();
    if !VECS {
        return (vals, Vec::new());
    }
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

    /// A symmetric positive definite p x p matrix with a spread of scales (a deterministic
    /// draw: B^T B + a ridge, rows scaled over six decades).
    fn spd(p: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut u = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let b: Vec<f64> = (0..p * p).map(|_| u()).collect();
        let scale: Vec<f64> = (0..p)
            .map(|i| 10f64.powf(6.0 * i as f64 / p as f64))
            .collect();
        let mut a = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                let v: f64 = (0..p).map(|k| b[k * p + i] * b[k * p + j]).sum();
                a[i * p + j] = (v + if i == j { 0.1 } else { 0.0 }) * scale[i] * scale[j];
            }
        }
        a
    }

    /// The compile-time instances for small orders do exactly the arithmetic of the run-time
    /// one (the same bits), so a fit's result does not depend on which one ran.
    #[test]
    fn small_orders_match_the_general_code_bit_for_bit() {
        for p in 1..=SMALL + 2 {
            for seed in 0..5 {
                let a = spd(p, seed);
                let (mut fixed, mut general) = (a.clone(), a.clone());
                assert!(cholesky(&mut fixed, p));
                assert!(cholesky_in(Dyn(p), &mut general));
                assert_eq!(fixed, general, "cholesky p {p}");
                let rhs: Vec<f64> = (0..p).map(|i| 1.0 + i as f64).collect();
                let (mut x1, mut x2) = (rhs.clone(), rhs.clone());
                cholesky_solve(&fixed, p, &mut x1);
                cholesky_solve_in(Dyn(p), &general, &mut x2);
                assert_eq!(x1, x2, "solve p {p}");
                // the solution solves the system
                for i in 0..p {
                    let r: f64 = (0..p).map(|k| a[i * p + k] * x1[k]).sum();
                    assert!((r - rhs[i]).abs() <= 1e-6 * rhs[i], "residual p {p}");
                }
                let (vals, vecs) = sym_eigen(&a, p);
                let dynamic = jacobi::<_, true>(Dyn(p), &mut a.clone(), &mut vec![0.0; p * p]);
                assert_eq!((vals.clone(), vecs.clone()), dynamic, "eigen p {p}");
                // the eigenvalues alone are the same numbers, bit for bit
                assert_eq!(sym_eigenvalues(&a, p), vals, "eigenvalues p {p}");
                // A v = lambda v for the smallest and largest pairs
                for c in [0, p - 1] {
                    for i in 0..p {
                        let av: f64 = (0..p).map(|k| a[i * p + k] * vecs[k * p + c]).sum();
                        let lv = vals[c] * vecs[i * p + c];
                        assert!((av - lv).abs() <= 1e-9 * vals[p - 1], "eigenpair p {p}");
                    }
                }
            }
        }
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
