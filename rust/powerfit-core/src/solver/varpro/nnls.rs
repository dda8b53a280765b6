//! Non-negative least squares on small Gram systems: the constant and amplitudes of a power
//! sum at fixed exponents. `small_nnls` enumerates active sets for up to four unknowns (the
//! grid solves millions of these); `nnls` is Lawson and Hanson's active-set method for more.

/// Weighted NNLS for a tiny system given its Gram matrix `g` (m x m), rhs `b` and y'Wy:
/// unknowns flagged `nonneg` must be >= 0. Enumerates active sets (m <= 4). Returns the
/// weighted SSE and writes the solution into `x`.
pub fn small_nnls(g: &[f64], b: &[f64], yy: f64, m: usize, nonneg: &[bool], x: &mut [f64]) -> f64 {
    // convex problem: a feasible unconstrained minimiser is the constrained one
    let mut sol = [0.0f64; 4];
    let mut neg = 0u32;
    if let Some(sse) = solve_subset(g, b, yy, m, 0, &mut sol) {
        for a in 0..m {
            if nonneg[a] && sol[a] < 0.0 {
                neg |= 1 << a;
            }
        }
        if neg == 0 {
            x[..m].copy_from_slice(&sol[..m]);
            return sse;
        }
        // clamp the negative amplitudes; if the result is feasible and no clamped amplitude
        // wants to grow (KKT: (G x - b)_j >= 0), it is the optimum: one solve, not 2^m
        if let Some(sse) = solve_subset(g, b, yy, m, neg, &mut sol) {
            let feasible = (0..m).all(|a| !nonneg[a] || sol[a] >= 0.0);
            let kkt = (0..m).filter(|&j| neg >> j & 1 == 1).all(|j| {
                let grad: f64 = (0..m).map(|k| g[j * m + k] * sol[k]).sum::<f64>() - b[j];
                grad >= -1e-12
                    * (b[j].abs()
                        + g[j * m + j].abs() * sol.iter().fold(0.0f64, |s, v| s.max(v.abs())))
            });
            if feasible && kkt {
                x[..m].copy_from_slice(&sol[..m]);
                return sse;
            }
        }
    }
    let mut best = f64::INFINITY;
    for mask in 0u32..(1u32 << m) {
        // bit set = variable clamped to zero (only allowed for nonneg ones)
        if (0..m).any(|j| mask >> j & 1 == 1 && !nonneg[j]) {
            continue;
        }
        let Some(sse) = solve_subset(g, b, yy, m, mask, &mut sol) else {
            continue;
        };
        if (0..m).any(|a| nonneg[a] && sol[a] < 0.0) {
            continue;
        }
        if sse < best {
            best = sse;
            x[..m].copy_from_slice(&sol[..m]);
        }
    }
    best
}

/// Least squares with the variables in `mask` held at zero: writes the full solution to `sol`
/// and returns the weighted SSE (y'Wy - sol' b at the solution), or None if singular.
fn solve_subset(
    g: &[f64],
    b: &[f64],
    yy: f64,
    m: usize,
    mask: u32,
    sol: &mut [f64; 4],
) -> Option<f64> {
    let mut sub = [0.0f64; 16];
    let mut rhs = [0.0f64; 4];
    if mask == 0 && m > 0 {
        // the common case: every unknown active, the Gram matrix as it is
        sub[..m * m].copy_from_slice(&g[..m * m]);
        rhs[..m].copy_from_slice(&b[..m]);
        for a in 0..m {
            sub[a * m + a] *= 1.0 + 1e-12;
        }
        let ok = match m {
            1 => chol_solve_fixed::<1>(&sub, &mut rhs),
            2 => chol_solve_fixed::<2>(&sub, &mut rhs),
            3 => chol_solve_fixed::<3>(&sub, &mut rhs),
            _ => chol_solve_fixed::<4>(&sub, &mut rhs),
        };
        if !ok {
            return None;
        }
        *sol = rhs;
        return Some(yy - (0..m).map(|a| rhs[a] * b[a]).sum::<f64>());
    }
    let mut idx = [0usize; 4];
    let mut act = 0;
    for j in 0..m {
        if mask >> j & 1 == 0 {
            idx[act] = j;
            act += 1;
        }
    }
    for a in 0..act {
        rhs[a] = b[idx[a]];
        for bb in 0..act {
            sub[a * act + bb] = g[idx[a] * m + idx[bb]];
        }
        // light ridge keeps near-collinear columns solvable
        sub[a * act + a] *= 1.0 + 1e-12;
    }
    let ok = match act {
        0 => true,
        1 => chol_solve_fixed::<1>(&sub, &mut rhs),
        2 => chol_solve_fixed::<2>(&sub, &mut rhs),
        3 => chol_solve_fixed::<3>(&sub, &mut rhs),
        _ => chol_solve_fixed::<4>(&sub, &mut rhs),
    };
    if !ok {
        return None;
    }
    sol.fill(0.0);
    let mut sse = yy;
    for a in 0..act {
        sol[idx[a]] = rhs[a];
        sse -= rhs[a] * b[idx[a]];
    }
    Some(sse)
}

/// Solves the M x M SPD system in `a` (row-major, M*M leading entries) in place of `b`, by
/// Cholesky with the size known at compile time (the grid solves millions of these).
pub(super) fn chol_solve_fixed<const M: usize>(a: &[f64; 16], b: &mut [f64; 4]) -> bool {
    let mut l = [[0.0f64; M]; M];
    for i in 0..M {
        for j in 0..=i {
            l[i][j] = a[i * M + j];
        }
    }
    for j in 0..M {
        let mut d = l[j][j];
        for k in 0..j {
            d -= l[j][k] * l[j][k];
        }
        if !(d > 0.0) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        l[j][j] = d;
        for i in j + 1..M {
            let mut s = l[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            l[i][j] = s / d;
        }
    }
    for i in 0..M {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * b[k];
        }
        b[i] = s / l[i][i];
    }
    for i in (0..M).rev() {
        let mut s = b[i];
        for k in i + 1..M {
            s -= l[k][i] * b[k];
        }
        b[i] = s / l[i][i];
    }
    true
}

/// Most unknowns `nnls` takes.
pub const MAX_UNKNOWNS: usize = 16;

/// The linear unknowns of a power sum: [constant if free, free amplitudes].
pub type Sol = [f64; MAX_UNKNOWNS];

/// Weighted NNLS by Lawson and Hanson's active-set method, in Gram form: minimises
/// x'Gx - 2b'x + yy with x_j >= 0 where `nonneg[j]` (the others are free). `m <= MAX_UNKNOWNS`.
/// Returns the weighted SSE (infinite if the system is singular) and writes `x`.
pub fn nnls(g: &[f64], b: &[f64], yy: f64, m: usize, nonneg: &[bool], x: &mut [f64]) -> f64 {
    if m <= 4 {
        return small_nnls(g, b, yy, m, nonneg, x);
    }
    assert!(
        m <= MAX_UNKNOWNS,
        "nnls takes at most {MAX_UNKNOWNS} unknowns"
    );
    // passive (solved for) set; free unknowns are always passive
    let mut passive = [false; MAX_UNKNOWNS];
    for j in 0..m {
        passive[j] = !nonneg[j];
    }
    let mut cur = [0.0f64; MAX_UNKNOWNS];
    let mut z = [0.0f64; MAX_UNKNOWNS];
    let scale = (0..m).fold(0.0f64, |s, j| s.max(b[j].abs()));
    let tol = 1e-12 * scale.max(f64::MIN_POSITIVE);
    if !solve_passive(g, b, m, &passive, &mut cur) {
        return f64::INFINITY;
    }
    // the free unknowns' solution with every non-negative one at zero is the starting point
    for _outer in 0..4 * m + 4 {
        // gradient of the (half) objective: w = b - G x
        let mut best = None;
        for j in 0..m {
            if passive[j] {
                continue;
            }
            let w = b[j] - (0..m).map(|k| g[j * m + k] * cur[k]).sum::<f64>();
            if w > tol && best.is_none_or(|(_, bw)| w > bw) {
                best = Some((j, w));
            }
        }
        let Some((j, _)) = best else { break };
        passive[j] = true;
        for _inner in 0..4 * m + 4 {
            if !solve_passive(g, b, m, &passive, &mut z) {
                return f64::INFINITY;
            }
            let bad = (0..m).any(|k| passive[k] && nonneg[k] && z[k] <= 0.0);
            if !bad {
                cur = z;
                break;
            }
            // step from cur towards z until the first non-negative unknown reaches zero
            let mut alpha = 1.0f64;
            for k in 0..m {
                if passive[k] && nonneg[k] && z[k] <= 0.0 {
                    let d = cur[k] - z[k];
                    if d > 0.0 {
                        alpha = alpha.min(cur[k] / d);
                    }
                }
            }
            for k in 0..m {
                cur[k] += alpha * (z[k] - cur[k]);
                if passive[k] && nonneg[k] && cur[k] <= 1e-15 * scale.max(1.0) {
                    passive[k] = false;
                    cur[k] = 0.0;
                }
            }
        }
    }
    x[..m].copy_from_slice(&cur[..m]);
    let mut sse = yy;
    for j in 0..m {
        sse -= 2.0 * b[j] * cur[j];
        for k in 0..m {
            sse += cur[j] * g[j * m + k] * cur[k];
        }
    }
    sse
}

/// Least squares over the passive unknowns (the others zero), into `out`. False if singular.
fn solve_passive(g: &[f64], b: &[f64], m: usize, passive: &[bool], out: &mut [f64]) -> bool {
    let mut idx = [0usize; MAX_UNKNOWNS];
    let mut a = 0;
    for j in 0..m {
        if passive[j] {
            idx[a] = j;
            a += 1;
        }
    }
    let idx = &idx[..a];
    out[..m].fill(0.0);
    if a == 0 {
        return true;
    }
    let mut sub = [0.0f64; MAX_UNKNOWNS * MAX_UNKNOWNS];
    let mut rhs = [0.0f64; MAX_UNKNOWNS];
    let (sub, rhs) = (&mut sub[..a * a], &mut rhs[..a]);
    for (r, &jr) in idx.iter().enumerate() {
        rhs[r] = b[jr];
        for (c, &jc) in idx.iter().enumerate() {
            sub[r * a + c] = g[jr * m + jc];
        }
        sub[r * a + r] *= 1.0 + 1e-12;
    }
    if !crate::linalg::cholesky(sub, a) {
        return false;
    }
    crate::linalg::cholesky_solve(sub, a, rhs);
    if rhs.iter().any(|v| !v.is_finite()) {
        return false;
    }
    for (r, &jr) in idx.iter().enumerate() {
        out[jr] = rhs[r];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over active sets, for comparison.
    fn brute(g: &[f64], b: &[f64], yy: f64, m: usize, nonneg: &[bool]) -> f64 {
        let mut best = f64::INFINITY;
        for mask in 0u32..(1 << m) {
            if (0..m).any(|j| mask >> j & 1 == 1 && !nonneg[j]) {
                continue;
            }
            let passive: Vec<bool> = (0..m).map(|j| mask >> j & 1 == 0).collect();
            let mut z = vec![0.0; m];
            if !solve_passive(g, b, m, &passive, &mut z) {
                continue;
            }
            if (0..m).any(|j| nonneg[j] && z[j] < 0.0) {
                continue;
            }
            let mut sse = yy;
            for j in 0..m {
                sse -= 2.0 * b[j] * z[j];
                for k in 0..m {
                    sse += z[j] * g[j * m + k] * z[k];
                }
            }
            best = best.min(sse);
        }
        best
    }

    #[test]
    fn lawson_hanson_matches_brute_force() {
        let mut state = 7u64;
        let mut rnd = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for m in 5..=9 {
            for _ in 0..40 {
                // a random design with n rows, G = A'A, b = A'y
                let n = 3 * m;
                let a: Vec<f64> = (0..n * m).map(|_| rnd()).collect();
                let y: Vec<f64> = (0..n).map(|_| rnd()).collect();
                let mut g = vec![0.0; m * m];
                let mut b = vec![0.0; m];
                for j in 0..m {
                    for k in 0..m {
                        g[j * m + k] = (0..n).map(|i| a[i * m + j] * a[i * m + k]).sum();
                    }
                    b[j] = (0..n).map(|i| a[i * m + j] * y[i]).sum();
                }
                let yy: f64 = y.iter().map(|v| v * v).sum();
                let nonneg: Vec<bool> = (0..m).map(|j| j != 0).collect();
                let mut x = vec![0.0; m];
                let got = nnls(&g, &b, yy, m, &nonneg, &mut x);
                let want = brute(&g, &b, yy, m, &nonneg);
                assert!((got - want).abs() <= 1e-9 * yy, "m {m}: {got} vs {want}");
                assert!((0..m).all(|j| !nonneg[j] || x[j] >= 0.0));
            }
        }
    }
}
