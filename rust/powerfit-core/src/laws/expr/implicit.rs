//! Implicit laws written as an equation `lhs = rhs` in the loss `L` (e.g.
//! `(L - E)/(L0 - L)^alpha = b*x^-c`). The fit compares the two sides at the observed L:
//! `lhs - rhs` for losses on the linear scale, `ln lhs - ln rhs` for losses on the log scale.
//! Predictions solve `lhs - rhs = 0` for L at each point: a scan of L over 24 decades finds the
//! smallest positive bracket of a sign change, then Newton's method safeguarded by bisection
//! (the derivative in L is compiled from the expression by symbolic differentiation) polishes
//! the root, all points advancing together so the tape runs over columns.

use std::collections::HashMap;

use super::dag::{Builder, Op};
use super::program::Program;
use crate::law::{implicit_pseudo_values, Cols};
use crate::loss::Scale;

/// The loss's symbol in an implicit law.
pub const LOSS_SYMBOL: &str = "L";
/// The scan for a bracket: L from 10^SCAN_LO to 10^SCAN_HI, SCAN_PER_DECADE points a decade.
const SCAN_LO: i32 = -12;
const SCAN_HI: i32 = 12;
const SCAN_PER_DECADE: i32 = 10;
/// Points solved together (bounds the scan's scratch: CHUNK x scan points rows).
const CHUNK: usize = 512;
const MAX_NEWTON: usize = 100;

/// The compiled programs of an implicit law; the loss is the variable `n_vars` (the last).
#[derive(Debug, Clone)]
pub(super) struct Implicit {
    pub(super) lin: Program,
    pub(super) log: Program,
    /// d(lhs - rhs)/dL.
    pub(super) dlin: Program,
    pub(super) n_vars: usize,
}

/// Nodes for the residuals lhs - rhs, ln lhs - ln rhs and d(lhs - rhs)/dL.
pub(super) fn residual_nodes(b: &mut Builder, lhs: u32, rhs: u32, l_var: u32) -> [u32; 3] {
    let lin = b.push(Op::Sub(lhs, rhs));
    let (ll, lr) = (b.ln(lhs), b.ln(rhs));
    let log = b.push(Op::Sub(ll, lr));
    let mut memo = HashMap::new();
    let d = diff(b, lin, l_var, &mut memo);
    [lin, log, d]
}

fn konst(b: &Builder, i: u32) -> Option<f64> {
    match b.ops[i as usize] {
        Op::Const(v) => Some(v),
        _ => None,
    }
}

/// Whether node `i` is the constant `v`.
fn is(b: &Builder, i: u32, v: f64) -> bool {
    konst(b, i) == Some(v)
}

fn add(b: &mut Builder, x: u32, y: u32) -> u32 {
    if is(b, x, 0.0) {
        y
    } else if is(b, y, 0.0) {
        x
    } else {
        b.push(Op::Add(x, y))
    }
}

fn sub(b: &mut Builder, x: u32, y: u32) -> u32 {
    if is(b, y, 0.0) {
        x
    } else if is(b, x, 0.0) {
        b.push(Op::Neg(y))
    } else {
        b.push(Op::Sub(x, y))
    }
}

fn mul(b: &mut Builder, x: u32, y: u32) -> u32 {
    if is(b, x, 0.0) || is(b, y, 0.0) {
        b.push(Op::Const(0.0))
    } else if is(b, x, 1.0) {
        y
    } else if is(b, y, 1.0) {
        x
    } else {
        b.push(Op::Mul(x, y))
    }
}

fn div(b: &mut Builder, x: u32, y: u32) -> u32 {
    if is(b, x, 0.0) {
        x
    } else {
        b.push(Op::Div(x, y))
    }
}

/// The node of d(node)/d(variable `v`), built into `b` (memoised per node).
fn diff(b: &mut Builder, node: u32, v: u32, memo: &mut HashMap<u32, u32>) -> u32 {
    if let Some(&d) = memo.get(&node) {
        return d;
    }
    use Op::*;
    let zero = b.push(Const(0.0));
    let one = b.push(Const(1.0));
    let op = b.ops[node as usize];
    let d = match op {
        Const(_) | Param(_) => zero,
        Var(w) => {
            if w == v {
                one
            } else {
                zero
            }
        }
        LnVar(w) => {
            if w == v {
                let x = b.push(Var(v));
                b.push(Div(one, x))
            } else {
                zero
            }
        }
        Neg(a) => {
            let da = diff(b, a, v, memo);
            sub(b, zero, da)
        }
        Add(a, c) => {
            let (da, dc) = (diff(b, a, v, memo), diff(b, c, v, memo));
            add(b, da, dc)
        }
        Sub(a, c) => {
            let (da, dc) = (diff(b, a, v, memo), diff(b, c, v, memo));
            sub(b, da, dc)
        }
        Mul(a, c) => {
            let (da, dc) = (diff(b, a, v, memo), diff(b, c, v, memo));
            let (t1, t2) = (mul(b, da, c), mul(b, a, dc));
            add(b, t1, t2)
        }
        Div(a, c) => {
            // (da - (a/c) dc) / c
            let (da, dc) = (diff(b, a, v, memo), diff(b, c, v, memo));
            let t = mul(b, node, dc);
            let num = sub(b, da, t);
            div(b, num, c)
        }
        PowI(a, n) => {
            let da = diff(b, a, v, memo);
            let p = match n - 1 {
                0 => one,
                1 => a,
                m => b.push(PowI(a, m)),
            };
            let k = b.push(Const(n as f64));
            let kp = mul(b, k, p);
            mul(b, kp, da)
        }
        Exp(a) => {
            let da = diff(b, a, v, memo);
            mul(b, node, da)
        }
        Ln(a) => {
            let da = diff(b, a, v, memo);
            div(b, da, a)
        }
        Sqrt(a) => {
            let da = diff(b, a, v, memo);
            let two = b.push(Const(2.0));
            let den = mul(b, two, node);
            div(b, da, den)
        }
        Abs(a) => {
            // sign(a) da, as a da / |a| (NaN at 0: the root finder then bisects)
            let da = diff(b, a, v, memo);
            let t = mul(b, a, da);
            div(b, t, node)
        }
        Sin(a) => {
            let da = diff(b, a, v, memo);
            let c = b.push(Cos(a));
            mul(b, c, da)
        }
        Cos(a) => {
            let da = diff(b, a, v, memo);
            let s = b.push(Sin(a));
            let t = mul(b, s, da);
            sub(b, zero, t)
        }
        Tan(a) | Tanh(a) => {
            // (1 + tan^2) da, (1 - tanh^2) da
            let da = diff(b, a, v, memo);
            let sq = b.push(PowI(node, 2));
            let f = if matches!(op, Tan(_)) {
                add(b, one, sq)
            } else {
                sub(b, one, sq)
            };
            mul(b, f, da)
        }
        Atan(a) => {
            let da = diff(b, a, v, memo);
            let sq = b.push(PowI(a, 2));
            let den = add(b, one, sq);
            div(b, da, den)
        }
        Min(a, c) | Max(a, c) => {
            // (da + dc)/2 -+ sign(a - c) (da - dc)/2 (NaN at a tie: bisection)
            let (da, dc) = (diff(b, a, v, memo), diff(b, c, v, memo));
            let half = b.push(Const(0.5));
            let s = add(b, da, dc);
            let mean = mul(b, half, s);
            let dd = sub(b, da, dc);
            let hd = mul(b, half, dd);
            let gap = sub(b, a, c);
            let agap = b.push(Abs(gap));
            let sign = div(b, gap, agap);
            let t = mul(b, sign, hd);
            if matches!(op, Min(..)) {
                sub(b, mean, t)
            } else {
                add(b, mean, t)
            }
        }
    };
    memo.insert(node, d);
    d
}

/// The columns `x` with `l` appended as the loss column (no log columns: the tape computes
/// the logs it needs).
fn with_loss<'a>(x: &[&'a [f64]], l: &'a [f64]) -> Cols<'a> {
    let mut cols: Vec<&[f64]> = x.to_vec();
    cols.push(l);
    Cols {
        logx: vec![&[][..]; cols.len()],
        x: cols,
    }
}

impl Implicit {
    /// Equation residuals at the observations (`target` on `scale`) as the fit's
    /// pseudo-values, and their Jacobian.
    pub(super) fn eval_fit(
        &self,
        x: &Cols,
        target: &[f64],
        scale: Scale,
        p: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
    ) {
        let y: Vec<f64> = match scale {
            Scale::Linear => target.to_vec(),
            Scale::Log => target.iter().map(|t| t.exp()).collect(),
        };
        let cols = with_loss(&x.x, &y);
        let prog = match scale {
            Scale::Linear => &self.lin,
            Scale::Log => &self.log,
        };
        prog.eval(&cols, p, out, Some(jac));
        implicit_pseudo_values(target, scale, out, jac);
    }

    /// Predictions: the root in L of lhs - rhs at every point (NaN where the scan finds no
    /// sign change), with dL/dp = -(dg/dp)/(dg/dL) when `jac` is given.
    pub(super) fn solve(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: Option<&mut [f64]>) {
        let n = out.len();
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let part: Vec<&[f64]> = x.x.iter().map(|c| &c[start..end]).collect();
            self.solve_chunk(&part, p, &mut out[start..end]);
        }
        if let Some(jac) = jac {
            let cols = with_loss(&x.x, out);
            let mut g = vec![0.0; n];
            self.lin.eval(&cols, p, &mut g, Some(jac));
            let mut dg = vec![0.0; n];
            self.dlin.eval(&cols, p, &mut dg, None);
            for col in jac.chunks_mut(n.max(1)) {
                for (j, d) in col.iter_mut().zip(&dg) {
                    *j = -*j / d;
                }
            }
        }
    }

    /// For the points without a bracket, bisects each edge interval (finite end f, NaN end q)
    /// towards the domain's edge until a sign change against g(f) shows (a bracket) or the
    /// interval is exhausted; edges are tried in order, all points together.
    fn search_edges(
        &self,
        x: &[&[f64]],
        p: &[f64],
        edges: &[Vec<(f64, f64)>],
        lo: &mut [f64],
        hi: &mut [f64],
        s_lo: &mut [f64],
    ) {
        let m = lo.len();
        let rounds = edges.iter().map(|e| e.len()).max().unwrap_or(0);
        for r in 0..rounds {
            let mut active: Vec<usize> = (0..m)
                .filter(|&i| lo[i].is_nan() && edges[i].len() > r)
                .collect();
            if active.is_empty() {
                continue;
            }
            let mut f: Vec<f64> = active.iter().map(|&i| edges[i][r].0).collect();
            let mut q: Vec<f64> = active.iter().map(|&i| edges[i][r].1).collect();
            let xs: Vec<Vec<f64>> = x
                .iter()
                .map(|c| active.iter().map(|&i| c[i]).collect())
                .collect();
            let refs: Vec<&[f64]> = xs.iter().map(|c| c.as_slice()).collect();
            let mut gf = vec![0.0; active.len()];
            self.lin.eval(&with_loss(&refs, &f), p, &mut gf, None);
            let mut gm = vec![0.0; active.len()];
            for _ in 0..64 {
                let mid: Vec<f64> = f.iter().zip(&q).map(|(a, b)| 0.5 * (a + b)).collect();
                self.lin.eval(&with_loss(&refs, &mid), p, &mut gm, None);
                for k in 0..active.len() {
                    if active[k] == usize::MAX {
                        continue;
                    }
                    let i = active[k];
                    if gm[k].is_nan() {
                        q[k] = mid[k];
                    } else if gm[k] == 0.0 || gm[k].signum() != gf[k].signum() {
                        (lo[i], hi[i], s_lo[i]) = (f[k], mid[k], gf[k].signum());
                        if gm[k] == 0.0 {
                            (lo[i], hi[i], s_lo[i]) = (mid[k], mid[k], 0.0);
                        }
                        active[k] = usize::MAX;
                    } else {
                        f[k] = mid[k];
                        gf[k] = gm[k];
                    }
                }
                if active.iter().all(|&i| i == usize::MAX) {
                    break;
                }
            }
        }
    }

    fn solve_chunk(&self, x: &[&[f64]], p: &[f64], out: &mut [f64]) {
        let m = out.len();
        let grid: Vec<f64> = (SCAN_LO * SCAN_PER_DECADE..=SCAN_HI * SCAN_PER_DECADE)
            .map(|k| 10f64.powf(k as f64 / SCAN_PER_DECADE as f64))
            .collect();
        let g_n = grid.len();
        // the scan: every point against every grid value, point-major
        let rep: Vec<Vec<f64>> = x
            .iter()
            .map(|c| {
                c.iter()
                    .flat_map(|&v| std::iter::repeat_n(v, g_n))
                    .collect()
            })
            .collect();
        let ls: Vec<f64> = (0..m).flat_map(|_| grid.iter().copied()).collect();
        let refs: Vec<&[f64]> = rep.iter().map(|c| c.as_slice()).collect();
        let mut g = vec![0.0; m * g_n];
        self.lin.eval(&with_loss(&refs, &ls), p, &mut g, None);
        // the first sign change from below: [lo, hi] with g(lo) of sign s_lo
        let mut lo = vec![f64::NAN; m];
        let mut hi = vec![f64::NAN; m];
        let mut s_lo = vec![0.0; m];
        // intervals with one end outside the equation's domain (NaN), where a root may hide
        // between the last finite grid value and the domain's edge
        let mut edges: Vec<Vec<(f64, f64)>> = vec![Vec::new(); m];
        for i in 0..m {
            let gi = &g[i * g_n..(i + 1) * g_n];
            for j in 0..g_n - 1 {
                let (a, b) = (gi[j], gi[j + 1]);
                if a == 0.0 {
                    (lo[i], hi[i], s_lo[i]) = (grid[j], grid[j], 0.0);
                    break;
                }
                if a.is_finite() && b.is_finite() && a.signum() != b.signum() {
                    (lo[i], hi[i], s_lo[i]) = (grid[j], grid[j + 1], a.signum());
                    break;
                }
                if a.is_finite() != b.is_finite() {
                    let (f, q) = if a.is_finite() {
                        (j, j + 1)
                    } else {
                        (j + 1, j)
                    };
                    edges[i].push((grid[f], grid[q]));
                }
            }
        }
        self.search_edges(x, p, &edges, &mut lo, &mut hi, &mut s_lo);
        // Newton inside the brackets, every unfinished point advancing together
        let mut cur: Vec<f64> = (0..m).map(|i| 0.5 * (lo[i] + hi[i])).collect();
        let mut done: Vec<bool> = (0..m).map(|i| lo[i].is_nan() || s_lo[i] == 0.0).collect();
        let (mut gv, mut dv) = (vec![0.0; m], vec![0.0; m]);
        for _ in 0..MAX_NEWTON {
            if done.iter().all(|&d| d) {
                break;
            }
            let cols = with_loss(x, &cur);
            self.lin.eval(&cols, p, &mut gv, None);
            self.dlin.eval(&cols, p, &mut dv, None);
            for i in 0..m {
                if done[i] {
                    continue;
                }
                let (c, gi) = (cur[i], gv[i]);
                if gi == 0.0 {
                    done[i] = true;
                    continue;
                }
                if gi.is_finite() {
                    if gi.signum() == s_lo[i] {
                        lo[i] = c;
                    } else {
                        hi[i] = c;
                    }
                }
                let (a, b) = (lo[i].min(hi[i]), lo[i].max(hi[i]));
                let newton = c - gi / dv[i];
                let next = if gi.is_finite() && newton.is_finite() && newton > a && newton < b {
                    newton
                } else {
                    0.5 * (a + b)
                };
                if (next - c).abs() <= 2.0 * f64::EPSILON * c.abs()
                    || b - a <= 4.0 * f64::EPSILON * b
                {
                    done[i] = true;
                }
                cur[i] = next;
            }
        }
        for i in 0..m {
            out[i] = if lo[i].is_nan() {
                f64::NAN
            } else if s_lo[i] == 0.0 {
                lo[i]
            } else {
                cur[i]
            };
        }
    }
}
