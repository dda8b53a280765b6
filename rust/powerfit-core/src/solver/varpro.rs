//! Variable projection over a grid of exponents. For fixed exponents, a power-sum law is
//! linear in its constant and amplitudes: those solve a small weighted non-negative least
//! squares problem, so a grid over the exponents alone maps the whole landscape. The best
//! grid cells that are local minima are refined on that projected objective (`refine`) and
//! become starts for Levenberg-Marquardt on the real loss, one per basin.

use crate::law::Structure;
use crate::loss::Scale;
use crate::problem::Problem;

/// Grid points per exponent dimension of a power sum, by number of free exponents (at most
/// ~500 cells; the best cells are refined afterwards, see `refine`).
fn grid_size(dims: usize) -> usize {
    match dims {
        0 => 1,
        1 => 64,
        2 => 12,
        3 => 8,
        _ => 5,
    }
}

fn linspace(lo: f64, hi: f64, m: usize) -> Vec<f64> {
    if m == 1 {
        return vec![0.5 * (lo + hi)];
    }
    (0..m)
        .map(|i| lo + (hi - lo) * i as f64 / (m - 1) as f64)
        .collect()
}

/// Grid points from lo to hi: geometric when both are positive (scaling exponents are
/// usually 0.05-1, where a geometric grid is dense), linear otherwise.
fn span(lo: f64, hi: f64, m: usize) -> Vec<f64> {
    if m == 1 {
        return vec![0.5 * (lo + hi)];
    }
    if lo > 0.0 {
        let r = (hi / lo).ln();
        (0..m)
            .map(|i| lo * (r * i as f64 / (m - 1) as f64).exp())
            .collect()
    } else {
        linspace(lo, hi, m)
    }
}

/// Exponent grid for parameter k: its fixed value, or a span clipped to its bounds.
fn exponent_grid(pb: &Problem, k: usize, m: usize, lo: f64, hi: f64) -> Vec<f64> {
    if let Some(v) = pb.spec.fixed[k] {
        return vec![v];
    }
    let lo = lo.max(pb.spec.lower[k]);
    let hi = hi.min(pb.spec.upper[k]);
    if !(lo < hi) {
        return vec![pb.spec.clip(k, 0.5 * (lo + hi))];
    }
    span(lo, hi, m)
}

/// Weighted NNLS for a tiny system given its Gram matrix `g` (m x m), rhs `b` and y'Wy:
/// unknowns flagged `nonneg` must be >= 0. Enumerates active sets (m <= 4). Returns the
/// weighted SSE and writes the solution into `x`.
fn small_nnls(g: &[f64], b: &[f64], yy: f64, m: usize, nonneg: &[bool], x: &mut [f64]) -> f64 {
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
fn chol_solve_fixed<const M: usize>(a: &[f64; 16], b: &mut [f64; 4]) -> bool {
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

/// A candidate start (natural parameters) and its grid SSE.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub params: Vec<f64>,
    pub sse: f64,
}

/// Best local minima of the exponent grid, best first, at most `keep`.
pub fn varpro_starts(pb: &Problem, y: &[f64], keep: usize) -> Vec<Candidate> {
    match pb.law.structure() {
        Structure::PowerSum { constant, terms } => power_sum(pb, y, constant, &terms, keep),
        Structure::Kaplan => kaplan(pb, y, keep),
        Structure::General => Vec::new(),
    }
}

/// Weights of the linear problem: the loss's weights, and 1/y^2 for log losses so the linear
/// residual approximates the log residual.
fn linear_weights(pb: &Problem, y: &[f64]) -> Vec<f64> {
    y.iter()
        .enumerate()
        .map(|(i, &yi)| {
            let w = pb.weights.map_or(1.0, |w| w[i]);
            match pb.loss.scale {
                Scale::Linear => w,
                Scale::Log => w / (yi * yi),
            }
        })
        .collect()
}

/// Cells to refine, best first: the grid's local minima (no axis neighbour is lower), at most
/// `keep`; when there are fewer than `MIN_CANDIDATES`, the best remaining cells that do not touch
/// a chosen one are added, so a single flat valley still gets a second opinion.
fn local_minima(sse: &[f64], dims: &[usize], keep: usize) -> Vec<usize> {
    const MIN_CANDIDATES: usize = 2;
    let total = sse.len();
    let nd = dims.len().min(8);
    let mut strides = [1usize; 8];
    for d in (0..nd.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * dims[d + 1];
    }
    // odometer over the cells' coordinates (no table, no division per cell)
    let step = |cur: &mut [usize; 8]| {
        let mut d = nd;
        while d > 0 {
            d -= 1;
            cur[d] += 1;
            if cur[d] < dims[d] {
                break;
            }
            cur[d] = 0;
        }
    };
    let mut chosen: Vec<usize> = Vec::new();
    let mut cur = [0usize; 8];
    for c in 0..total {
        if c > 0 {
            step(&mut cur);
        }
        let v = sse[c];
        let is_min = v.is_finite()
            && (0..nd).all(|d| {
                let left = cur[d] > 0 && sse[c - strides[d]] < v;
                let right = cur[d] + 1 < dims[d] && sse[c + strides[d]] < v;
                !(left || right)
            });
        if is_min {
            chosen.push(c);
        }
    }
    let by_sse = |a: &usize, b: &usize| sse[*a].total_cmp(&sse[*b]).then(a.cmp(b));
    chosen.sort_by(by_sse);
    chosen.truncate(keep);
    let want = MIN_CANDIDATES.min(keep);
    let coords = |c: usize| {
        let mut out = [0usize; 8];
        let mut rem = c;
        for d in (0..nd).rev() {
            out[d] = rem % dims[d];
            rem /= dims[d];
        }
        out
    };
    // a scan per extra candidate (want is tiny), rather than sorting the whole grid
    while chosen.len() < want {
        let taken: Vec<[usize; 8]> = chosen.iter().map(|&c| coords(c)).collect();
        let mut best: Option<usize> = None;
        let mut cur = [0usize; 8];
        for c in 0..total {
            if c > 0 {
                step(&mut cur);
            }
            if !sse[c].is_finite() || best.is_some_and(|b| by_sse(&c, &b).is_ge()) {
                continue;
            }
            if taken
                .iter()
                .any(|o| (0..nd).all(|d| o[d].abs_diff(cur[d]) <= 1))
            {
                continue;
            }
            best = Some(c);
        }
        match best {
            Some(c) => chosen.push(c),
            None => break,
        }
    }
    chosen
}

fn power_sum(
    pb: &Problem,
    y: &[f64],
    constant: Option<usize>,
    terms: &[(usize, usize, usize)],
    keep: usize,
) -> Vec<Candidate> {
    let n = y.len();
    let k = terms.len();
    if k > 3 {
        return Vec::new(); // fixed-size buffers below hold a constant and three amplitudes
    }
    let w = linear_weights(pb, y);
    let free_exp = terms
        .iter()
        .filter(|t| pb.spec.fixed[t.1].is_none())
        .count();
    let m = grid_size(free_exp);
    let grids: Vec<Vec<f64>> = terms
        .iter()
        .map(|t| exponent_grid(pb, t.1, m, 0.02, 2.5))
        .collect();
    // y minus the fixed linear parts; which linear unknowns remain
    let mut yr = y.to_vec();
    if let Some(c) = constant {
        if let Some(v) = pb.spec.fixed[c] {
            yr.iter_mut().for_each(|t| *t -= v);
        }
    }
    let const_free = constant.is_some_and(|c| pb.spec.fixed[c].is_none());
    // Losses measured as positive numbers level off at a non-negative floor. Without that
    // constraint the grid happily trades the constant against a slow term (a small exponent
    // is nearly a constant) and starts LM in a long, nearly flat valley. LM itself may still
    // move the constant below zero.
    let const_nonneg = const_free && y.iter().all(|&v| v > 0.0);
    let amp_free: Vec<bool> = terms.iter().map(|t| pb.spec.fixed[t.0].is_none()).collect();
    // fold the weights into the vectors once (sqrt(w) each side), so every inner product below
    // is a plain vectorised dot
    let sw: Vec<f64> = w.iter().map(|v| v.sqrt()).collect();
    let yr: Vec<f64> = yr.iter().zip(&sw).map(|(a, b)| a * b).collect();
    let dims: Vec<usize> = grids.iter().map(|g| g.len()).collect();
    // one flat table of weighted powers: row off[t] + g holds sqrt(w_i) x_t,i^-e_g
    let mut off = [0usize; 4];
    for t in 0..k {
        off[t + 1] = off[t] + dims[t];
    }
    let rows = off[k];
    let mut pow = vec![0.0; rows * n];
    for t in 0..k {
        for (g, &e) in grids[t].iter().enumerate() {
            let u = &mut pow[(off[t] + g) * n..(off[t] + g + 1) * n];
            crate::fastmath::pow_neg(pb.cols.logx[terms[t].2], e, u);
            u.iter_mut().zip(&sw).for_each(|(ui, s)| *ui *= s);
        }
    }
    let row = |r: usize| &pow[r * n..(r + 1) * n];
    let dot = crate::linalg::dot;
    // Inner products of the basis {1, y, u_(t,g)} under the weights, tabulated once, so a
    // grid cell costs O(k^2) instead of O(k^2 n).
    let ones = &sw;
    let one_one = dot(ones, ones);
    let one_y = dot(ones, &yr);
    let y_y = dot(&yr, &yr);
    let one_u: Vec<f64> = (0..rows).map(|r| dot(ones, row(r))).collect();
    let y_u: Vec<f64> = (0..rows).map(|r| dot(&yr, row(r))).collect();
    let u_u: Vec<f64> = (0..rows).map(|r| dot(row(r), row(r))).collect();
    // cross products of two terms' powers, for t < t2 at xoff[t][t2] + g * dims[t2] + g2
    let mut xoff = [[0usize; 3]; 3];
    let mut cross: Vec<f64> = Vec::new();
    for t in 0..k {
        for t2 in t + 1..k {
            xoff[t][t2] = cross.len();
            for g in 0..dims[t] {
                for g2 in 0..dims[t2] {
                    cross.push(dot(row(off[t] + g), row(off[t2] + g2)));
                }
            }
        }
    }
    #[derive(Clone, Copy)]
    enum B {
        One,
        Y,
        U(usize),
    }
    let total: usize = dims.iter().product();
    let mut sse = vec![f64::INFINITY; total];
    let mut sols = vec![0.0; total * (k + 1)];
    let mut sel = vec![0usize; k];
    // the common case (constant and every amplitude free) assembles the Gram matrix straight
    // from the tables; the general path below handles fixed constants and amplitudes
    let all_free = const_free && amp_free.iter().all(|&f| f);
    for cell in 0..total {
        // odometer over the grid (no integer division per cell); the last axis is fastest
        if cell > 0 {
            let mut d = k;
            while d > 0 {
                d -= 1;
                sel[d] += 1;
                if sel[d] < dims[d] {
                    break;
                }
                sel[d] = 0;
            }
        }
        if all_free {
            let mm = k + 1;
            let mut g = [0.0f64; 16];
            let mut b = [0.0f64; 4];
            let mut nonneg = [true; 4];
            nonneg[0] = const_nonneg;
            g[0] = one_one;
            b[0] = one_y;
            for t in 0..k {
                let st = sel[t];
                g[t + 1] = one_u[off[t] + st];
                g[(t + 1) * mm] = one_u[off[t] + st];
                g[(t + 1) * mm + t + 1] = u_u[off[t] + st];
                b[t + 1] = y_u[off[t] + st];
                for t2 in t + 1..k {
                    let v = cross[xoff[t][t2] + st * dims[t2] + sel[t2]];
                    g[(t + 1) * mm + t2 + 1] = v;
                    g[(t2 + 1) * mm + t + 1] = v;
                }
            }
            let mut x = [0.0f64; 4];
            sse[cell] = small_nnls(&g[..mm * mm], &b[..mm], y_y, mm, &nonneg[..mm], &mut x);
            sols[cell * (k + 1)..(cell + 1) * (k + 1)].copy_from_slice(&x[..k + 1]);
            continue;
        }
        let ip = |a: B, b: B| -> f64 {
            match (a, b) {
                (B::One, B::One) => one_one,
                (B::One, B::Y) | (B::Y, B::One) => one_y,
                (B::Y, B::Y) => y_y,
                (B::One, B::U(t)) | (B::U(t), B::One) => one_u[off[t] + sel[t]],
                (B::Y, B::U(t)) | (B::U(t), B::Y) => y_u[off[t] + sel[t]],
                (B::U(t), B::U(t2)) => {
                    if t == t2 {
                        u_u[off[t] + sel[t]]
                    } else if t < t2 {
                        cross[xoff[t][t2] + sel[t] * dims[t2] + sel[t2]]
                    } else {
                        cross[xoff[t2][t] + sel[t2] * dims[t] + sel[t]]
                    }
                }
            }
        };
        // the response: y minus the terms of fixed amplitudes
        let mut resp: [(f64, B); 4] = [(0.0, B::One); 4];
        resp[0] = (1.0, B::Y);
        let mut nr = 1;
        for t in 0..k {
            if let Some(a) = pb.spec.fixed[terms[t].0] {
                resp[nr] = (-a, B::U(t));
                nr += 1;
            }
        }
        let mut basis = [B::One; 4];
        let mut nonneg = [false; 4];
        let mut mm = 0;
        if const_free {
            basis[0] = B::One;
            nonneg[0] = const_nonneg;
            mm = 1;
        }
        for t in 0..k {
            if amp_free[t] {
                basis[mm] = B::U(t);
                nonneg[mm] = true;
                mm += 1;
            }
        }
        let mut g = [0.0f64; 16];
        let mut b = [0.0f64; 4];
        let mut yy = 0.0;
        for &(ca, ba) in &resp[..nr] {
            for &(cb, bb) in &resp[..nr] {
                yy += ca * cb * ip(ba, bb);
            }
        }
        for a in 0..mm {
            b[a] = resp[..nr].iter().map(|&(c, bb)| c * ip(basis[a], bb)).sum();
            for bb in 0..=a {
                let v = ip(basis[a], basis[bb]);
                g[a * mm + bb] = v;
                g[bb * mm + a] = v;
            }
        }
        let mut x = [0.0f64; 4];
        let s = if mm == 0 {
            yy
        } else {
            small_nnls(&g[..mm * mm], &b[..mm], yy, mm, &nonneg[..mm], &mut x)
        };
        sse[cell] = s;
        sols[cell * (k + 1)..(cell + 1) * (k + 1)].copy_from_slice(&x[..k + 1]);
    }
    let ymean = y.iter().sum::<f64>() / n.max(1) as f64;
    let mut proj = Projector {
        logx: terms.iter().map(|t| pb.cols.logx[t.2]).collect(),
        sw: &sw,
        yr: &yr,
        const_free,
        const_nonneg,
        fixed_amp: terms.iter().map(|t| pb.spec.fixed[t.0]).collect(),
        u: vec![vec![0.0; n]; k],
        e: vec![f64::NAN; k],
        trial: vec![0.0; n],
        resp: vec![0.0; n],
    };
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: Vec<Vec<f64>> = Vec::new();
    for cell in local_minima(&sse, &dims, keep) {
        let mut rem = cell;
        for d in (0..k).rev() {
            sel[d] = rem % dims[d];
            rem /= dims[d];
        }
        let mut e: Vec<f64> = (0..k).map(|t| grids[t][sel[t]]).collect();
        let mut x = [0.0f64; 4];
        x[..k + 1].copy_from_slice(&sols[cell * (k + 1)..(cell + 1) * (k + 1)]);
        let s = refine(&mut proj, &grids, &mut e, &mut x, sse[cell]);
        // cells of one flat valley (a dropped term) refine to the same point: refit it once
        if seen.iter().any(|o| near(o, &e, &grids)) {
            continue;
        }
        seen.push(e.clone());
        let mut params = vec![0.0; pb.spec.n_params()];
        let mut j = 0;
        if let Some(c) = constant {
            params[c] = pb.spec.fixed[c].unwrap_or_else(|| {
                j += 1;
                x[0]
            });
        }
        for t in 0..k {
            let (ia, ie, iv) = terms[t];
            params[ie] = e[t];
            params[ia] = match pb.spec.fixed[ia] {
                Some(v) => v,
                None => {
                    let a = x[j];
                    j += 1;
                    if a > 0.0 {
                        a
                    } else {
                        // a dropped term: start it tiny, at the data's geometric centre
                        let lmean = pb.cols.logx[iv].iter().sum::<f64>() / n.max(1) as f64;
                        1e-6 * ymean.abs().max(1e-300) * (params[ie] * lmean).exp()
                    }
                }
            };
        }
        for (q, v) in params.iter_mut().enumerate() {
            *v = pb.spec.clip(q, *v);
        }
        out.push(Candidate { params, sse: s });
    }
    out.sort_by(|a, b| a.sse.total_cmp(&b.sse));
    out
}

/// Whether two refined exponent vectors lie within one grid step of each other in every
/// exponent (LM from both would land in the same basin).
fn near(a: &[f64], b: &[f64], grids: &[Vec<f64>]) -> bool {
    a.iter().zip(b).zip(grids).all(|((&u, &v), g)| {
        if g.len() < 2 {
            return true;
        }
        let step = if g[0] > 0.0 {
            (g[1] / g[0]).ln()
        } else {
            g[1] - g[0]
        };
        let d = if g[0] > 0.0 {
            (u / v).ln().abs()
        } else {
            (u - v).abs()
        };
        d <= step
    })
}

/// Halvings of the grid step when a cell is refined.
const REFINE_LEVELS: usize = 3;

/// The projected problem (constant and amplitudes by NNLS) at arbitrary exponents. Refining
/// the best cells on this reduced functional matters when the grid is coarse next to a narrow
/// valley: a cell a half-step off the true exponents can prefer to drop a term altogether,
/// and LM cannot regrow a term from an amplitude of zero.
struct Projector<'a> {
    logx: Vec<&'a [f64]>,
    /// sqrt of the linear weights, and y minus a fixed constant times them
    sw: &'a [f64],
    yr: &'a [f64],
    const_free: bool,
    const_nonneg: bool,
    fixed_amp: Vec<Option<f64>>,
    /// weighted powers per term at exponents `e`, and scratch for one trial term
    u: Vec<Vec<f64>>,
    e: Vec<f64>,
    trial: Vec<f64>,
    resp: Vec<f64>,
}

impl Projector<'_> {
    fn powers(logx: &[f64], sw: &[f64], e: f64, out: &mut [f64]) {
        crate::fastmath::pow_neg(logx, e, out);
        out.iter_mut().zip(sw).for_each(|(o, s)| *o *= s);
    }

    /// Weighted SSE of the NNLS solution, with term `swap` (if any) taking the trial powers;
    /// the solution goes to `x` laid out as the grid's: [constant if free, free amplitudes].
    fn eval(&mut self, swap: Option<usize>, x: &mut [f64; 4]) -> f64 {
        let k = self.u.len();
        let col = |t: usize| -> &[f64] {
            if swap == Some(t) {
                &self.trial
            } else {
                &self.u[t]
            }
        };
        let dot = crate::linalg::dot;
        self.resp.copy_from_slice(self.yr);
        for t in 0..k {
            if let Some(a) = self.fixed_amp[t] {
                let c = if swap == Some(t) {
                    &self.trial
                } else {
                    &self.u[t]
                };
                self.resp.iter_mut().zip(c).for_each(|(r, v)| *r -= a * v);
            }
        }
        let mut basis: [&[f64]; 4] = [self.sw; 4];
        let mut nonneg = [false; 4];
        nonneg[0] = self.const_nonneg;
        let mut mm = usize::from(self.const_free);
        for t in 0..k {
            if self.fixed_amp[t].is_none() {
                basis[mm] = col(t);
                nonneg[mm] = true;
                mm += 1;
            }
        }
        let yy = dot(&self.resp, &self.resp);
        if mm == 0 {
            return yy;
        }
        let mut g = [0.0f64; 16];
        let mut b = [0.0f64; 4];
        for a in 0..mm {
            b[a] = dot(basis[a], &self.resp);
            for c in 0..=a {
                let v = dot(basis[a], basis[c]);
                g[a * mm + c] = v;
                g[c * mm + a] = v;
            }
        }
        *x = [0.0; 4];
        small_nnls(&g[..mm * mm], &b[..mm], yy, mm, &nonneg[..mm], x)
    }
}

impl Reduced for Projector<'_> {
    type Sol = [f64; 4];

    fn prepare(&mut self, e: &[f64]) {
        for (t, &v) in e.iter().enumerate() {
            if self.e[t] != v {
                Self::powers(self.logx[t], self.sw, v, &mut self.u[t]);
                self.e[t] = v;
            }
        }
    }

    fn try_axis(&mut self, _e: &[f64], t: usize, v: f64) -> Option<(f64, [f64; 4])> {
        Self::powers(self.logx[t], self.sw, v, &mut self.trial);
        let mut x = [0.0; 4];
        let s = self.eval(Some(t), &mut x);
        s.is_finite().then_some((s, x))
    }

    fn accept(&mut self, t: usize, v: f64) {
        std::mem::swap(&mut self.u[t], &mut self.trial);
        self.e[t] = v;
    }

    fn dropped(&self, x: &[f64; 4], t: usize) -> bool {
        if self.fixed_amp[t].is_some() {
            return false;
        }
        let slot =
            usize::from(self.const_free) + (0..t).filter(|&s| self.fixed_amp[s].is_none()).count();
        x[slot] <= 0.0
    }
}

/// A reduced (variable-projection) objective over exponents, for `refine`.
trait Reduced {
    /// The linear part of the solution at a point.
    type Sol: Copy;
    /// Called once with the cell's exponents before any trial.
    fn prepare(&mut self, e: &[f64]);
    /// The objective and solution with exponent `t` moved to `v` (the others as in `e`).
    fn try_axis(&mut self, e: &[f64], t: usize, v: f64) -> Option<(f64, Self::Sol)>;
    /// The last trial (of exponent t at v) becomes the current point.
    fn accept(&mut self, t: usize, v: f64);
    /// Whether exponent `t` has no effect at this solution (its term dropped).
    fn dropped(&self, x: &Self::Sol, t: usize) -> bool;
}

/// Coordinate refinement of a grid cell on the reduced objective: each free exponent tries
/// half a grid step either side, then a quarter, ...; an exponent whose term is dropped (so
/// the objective does not depend on it) is rescanned over its whole grid instead, since the
/// other exponents have moved. The reduced objective re-solves the linear unknowns at every
/// trial, so this is cheap and cannot fall into the trap that stops LM: a coarse cell a
/// half-step off the true exponents may prefer to drop a term altogether, and LM cannot regrow
/// a term from an amplitude of zero. Updates `e` and `x`; returns the objective.
fn refine<R: Reduced>(
    r: &mut R,
    grids: &[Vec<f64>],
    e: &mut [f64],
    x: &mut R::Sol,
    start: f64,
) -> f64 {
    r.prepare(e);
    let mut best = start;
    let mut trials: Vec<f64> = Vec::with_capacity(64);
    for level in 0..REFINE_LEVELS {
        for t in 0..e.len() {
            let g = &grids[t];
            if g.len() < 2 {
                continue; // a fixed exponent
            }
            let (lo, hi) = (g[0], g[g.len() - 1]);
            trials.clear();
            if r.dropped(x, t) {
                trials.extend(g.iter().copied());
            } else {
                let half = 0.5f64.powi(level as i32 + 1);
                if lo > 0.0 {
                    let f = ((g[1] / g[0]).ln() * half).exp();
                    trials.extend([e[t] / f, e[t] * f]);
                } else {
                    let h = (g[1] - g[0]) * half;
                    trials.extend([e[t] - h, e[t] + h]);
                }
            }
            for &v in &trials {
                if !(v >= lo && v <= hi) || v == e[t] {
                    continue;
                }
                if let Some((s, xt)) = r.try_axis(e, t, v) {
                    if s < best {
                        best = s;
                        e[t] = v;
                        *x = xt;
                        r.accept(t, v);
                    }
                }
            }
        }
    }
    best
}

/// Kaplan: L^(1/alpha_D) = a N^-p + b/D with p = alpha_N/alpha_D, a = N_c^p, b = D_c, so for
/// fixed (p, alpha_D) the rest is a two-unknown NNLS on the transformed data.
fn kaplan(pb: &Problem, y: &[f64], keep: usize) -> Vec<Candidate> {
    let n = y.len();
    // The grid runs over the two exponents themselves, not over (alpha_D, p): when one term
    // dominates, the valley of good fits follows alpha_N, so it runs along an axis here and
    // each cell's alpha_N is one of the grid's, instead of cutting diagonally across cells
    // whose products p * alpha_D miss it. Finer than the power sums' 2-D grid: ordinary cells
    // are not refined here (each starts LM as it is, beside its refinement).
    let m = 16;
    let qs = exponent_grid(pb, 3, m, 0.02, 1.5);
    let ans = exponent_grid(pb, 1, m, 0.02, 1.5);
    let mut ev = KaplanEval {
        y,
        wbase: linear_weights(pb, y),
        weights: pb.weights,
        logn: pb.cols.logx[0],
        dinv: pb.cols.logx[1].iter().map(|l| (-l).exp()).collect(),
        log_scale: pb.loss.scale == Scale::Log,
        q: f64::NAN,
        p: f64::NAN,
        z: vec![0.0; n],
        w: vec![0.0; n],
        u: vec![0.0; n],
    };
    let dims = [qs.len(), ans.len()];
    let mut score = vec![f64::INFINITY; dims[0] * dims[1]];
    let mut sols = vec![[0.0f64; 2]; dims[0] * dims[1]];
    for (iq, &q) in qs.iter().enumerate() {
        for (ia, &an) in ans.iter().enumerate() {
            if let Some((sse, x)) = ev.try_axis(&[q, an], 1, an) {
                let cell = iq * dims[1] + ia;
                score[cell] = sse;
                sols[cell] = x;
            }
        }
    }
    let grids = [qs, ans];
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: Vec<Vec<f64>> = Vec::new();
    let to_params = |e: [f64; 2], x: [f64; 2]| {
        let [q, an] = e;
        let p = an / q;
        let a = if x[0] > 0.0 { x[0] } else { 1e-12 };
        let b = if x[1] > 0.0 { x[1] } else { 1e-12 };
        let mut params = vec![a.powf(1.0 / p), an, b, q];
        for (k, v) in params.iter_mut().enumerate() {
            *v = pb.spec.fixed[k].unwrap_or(pb.spec.clip(k, *v));
        }
        params
    };
    // Both the cell and its refinement start LM: Kaplan's landscape has nearby basins, and
    // either one alone was seen to lead LM into the wrong one (a refined cell can trade the D
    // term away; a coarse cell can sit too far off a steep alpha_N).
    for cell in local_minima(&score, &dims, keep) {
        let e0 = [grids[0][cell / dims[1]], grids[1][cell % dims[1]]];
        let x0 = sols[cell];
        let (mut e, mut x) = (e0, x0);
        let sse = refine(&mut ev, &grids, &mut e, &mut x, score[cell]);
        // a cell that drops the N term is a dead end for LM: only its refinement is kept
        let tries = if x0[0] > 0.0 {
            vec![(e0, x0, score[cell]), (e, x, sse)]
        } else {
            vec![(e, x, sse)]
        };
        for (e, x, sse) in tries {
            if seen.iter().any(|o| o.as_slice() == e.as_slice()) {
                continue;
            }
            seen.push(e.to_vec());
            out.push(Candidate {
                params: to_params(e, x),
                sse,
            });
        }
    }
    out.sort_by(|a, b| a.sse.total_cmp(&b.sse));
    out
}

/// Kaplan's reduced objective at (q, alpha_N), q = alpha_D and p = alpha_N / q: NNLS for (a, b)
/// in z = y^(1/q) = a N^-p + b / D, scored on the loss's own scale.
struct KaplanEval<'a> {
    y: &'a [f64],
    wbase: Vec<f64>,
    weights: Option<&'a [f64]>,
    logn: &'a [f64],
    dinv: Vec<f64>,
    log_scale: bool,
    /// the q and p that z, w and u were computed for
    q: f64,
    p: f64,
    z: Vec<f64>,
    w: Vec<f64>,
    u: Vec<f64>,
}

impl KaplanEval<'_> {
    fn set_q(&mut self, q: f64) {
        if self.q == q {
            return;
        }
        for i in 0..self.y.len() {
            self.z[i] = self.y[i].powf(1.0 / q);
            // first-order map of a residual in z back to the loss's scale
            let dy = q * self.y[i] / self.z[i];
            self.w[i] = self.wbase[i] * dy * dy;
        }
        self.q = q;
    }

    fn set_p(&mut self, p: f64) {
        if self.p != p {
            crate::fastmath::pow_neg(self.logn, p, &mut self.u);
            self.p = p;
        }
    }

    /// Score and (a, b) at the current q with N^-p given in `u`.
    fn score(&self, u: &[f64]) -> Option<(f64, [f64; 2])> {
        let (z, w, dinv) = (&self.z, &self.w, &self.dinv);
        let (mut g00, mut g01, mut g11, mut b0, mut b1, mut yy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..z.len() {
            let wi = w[i];
            g00 += wi * u[i] * u[i];
            g01 += wi * u[i] * dinv[i];
            g11 += wi * dinv[i] * dinv[i];
            b0 += wi * u[i] * z[i];
            b1 += wi * dinv[i] * z[i];
            yy += wi * z[i] * z[i];
        }
        let mut x = [0.0; 2];
        let s = small_nnls(
            &[g00, g01, g01, g11],
            &[b0, b1],
            yy,
            2,
            &[true, true],
            &mut x,
        );
        if !s.is_finite() {
            return None;
        }
        // the linearised weights favour some q; score cells on the loss's own scale
        let q = self.q;
        let mut sse = 0.0;
        for i in 0..z.len() {
            let inner = x[0] * u[i] + x[1] * dinv[i];
            let r = if self.log_scale {
                q * inner.ln() - self.y[i].ln()
            } else {
                inner.powf(q) - self.y[i]
            };
            sse += self.weights.map_or(1.0, |w| w[i]) * r * r;
        }
        sse.is_finite().then_some((sse, x))
    }
}

impl Reduced for KaplanEval<'_> {
    type Sol = [f64; 2];

    fn prepare(&mut self, e: &[f64]) {
        self.set_q(e[0]);
        self.set_p(e[1] / e[0]);
    }

    fn try_axis(&mut self, e: &[f64], t: usize, v: f64) -> Option<(f64, [f64; 2])> {
        let (q, an) = if t == 0 { (v, e[1]) } else { (e[0], v) };
        self.set_q(q);
        self.set_p(an / q);
        let u = std::mem::take(&mut self.u);
        let out = self.score(&u);
        self.u = u;
        out
    }

    fn accept(&mut self, _t: usize, _v: f64) {}

    fn dropped(&self, x: &[f64; 2], t: usize) -> bool {
        t == 1 && x[0] <= 0.0 // alpha_N only acts through the N term's amplitude a
    }
}
