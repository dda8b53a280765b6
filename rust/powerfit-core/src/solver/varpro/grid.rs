//! The exhaustive exponent grid of a power sum with up to three terms: every cell's constant
//! and amplitudes by NNLS from the tabulated inner products, the grid's local minima refined
//! and turned into starts.

use std::sync::atomic::AtomicBool;

use super::nnls::{small_nnls, Sol, MAX_UNKNOWNS};
use super::powersum::PowerSum;
use super::refine::{refine, Projector};
use super::tables::{tables, Tables};
use super::{grid_size, local_minima, near, Candidate};

/// Refines cells (exponents `e`, solutions `x`, SSE) on the projected objective and turns
/// the distinct ones into starts, best first. Returns the starts and the projector's
/// passes over the data.
pub fn finish(
    ps: &PowerSum,
    grids: &[Vec<f64>],
    cells: Vec<(Vec<f64>, Sol, f64)>,
    cancel: Option<&AtomicBool>,
) -> (Vec<Candidate>, usize) {
    let pb = ps.pb;
    let k = ps.k();
    let mut proj = Projector::new(ps, cancel);
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: Vec<Vec<f64>> = Vec::new();
    let (ymean, lmean) = ps.means();
    for (mut e, mut x, sse) in cells {
        let s = refine(&mut proj, grids, &mut e, &mut x, sse);
        if crate::solver::block::stopped(cancel) {
            break;
        }
        // cells of one flat valley (a dropped term) refine to the same point: refit it once
        if seen.iter().any(|o| near(o, &e, grids)) {
            continue;
        }
        seen.push(e.clone());
        let mut params = vec![0.0; pb.spec.n_params()];
        let mut j = 0;
        if let Some(c) = ps.constant {
            params[c] = pb.spec.fixed[c].unwrap_or_else(|| {
                j += 1;
                x[0]
            });
        }
        for t in 0..k {
            let (ia, ie, _) = ps.terms[t];
            params[ie] = e[t];
            params[ia] = match ps.fixed_amp[t] {
                Some(v) => v,
                None => {
                    let a = x[j];
                    j += 1;
                    if a > 0.0 {
                        a
                    } else {
                        // a dropped term: start it tiny, at the data's geometric centre
                        1e-6 * ymean.abs().max(1e-300) * (params[ie] * lmean[t]).exp()
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
    (out, proj.passes())
}

/// The tables with the constant projected out (each column centred under the weights): a
/// cell whose unconstrained solution is feasible (positive amplitudes, and a non-negative
/// constant when required) is then a k x k solve, most cells of a grid near the optimum.
struct Centered {
    n1: f64,
    inv_n1: f64,
    yy: f64,
    uu: Vec<f64>,
    uy: Vec<f64>,
    /// per row, the one-term solutions as (SSE, constant, amplitude), SSE infinite where
    /// infeasible: with the constant free, and with it held at zero
    single: Vec<(f64, f64, f64)>,
    single_raw: Vec<(f64, f64, f64)>,
    /// no term at all: with the constant free, and with it at zero
    none: (f64, f64, f64),
    none_raw: (f64, f64, f64),
}

impl Centered {
    fn new(tab: &Tables, const_nonneg: bool) -> Self {
        let n1 = tab.one_one;
        let inv_n1 = 1.0 / n1;
        let rows = 0..tab.one_u.len();
        let uu: Vec<f64> = rows
            .clone()
            .map(|r| tab.u_u[r] - tab.one_u[r] * tab.one_u[r] * inv_n1)
            .collect();
        let uy: Vec<f64> = rows
            .clone()
            .map(|r| tab.y_u[r] - tab.one_u[r] * tab.one_y * inv_n1)
            .collect();
        let inv_uu: Vec<f64> = uu.iter().map(|v| 1.0 / (v * (1.0 + 1e-12))).collect();
        let inv_raw: Vec<f64> = rows
            .clone()
            .map(|r| 1.0 / (tab.u_u[r] * (1.0 + 1e-12)))
            .collect();
        let yy = tab.y_y - tab.one_y * tab.one_y * inv_n1;
        let none = {
            let c = tab.one_y * inv_n1;
            if const_nonneg && c < 0.0 {
                (f64::INFINITY, 0.0, 0.0)
            } else {
                (yy, c, 0.0)
            }
        };
        let single = rows
            .clone()
            .map(|r| {
                let a = uy[r] * inv_uu[r];
                let c = (tab.one_y - a * tab.one_u[r]) * inv_n1;
                if a > 0.0 && (!const_nonneg || c >= 0.0) {
                    (yy - a * uy[r], c, a)
                } else {
                    (f64::INFINITY, 0.0, 0.0)
                }
            })
            .collect();
        let (single_raw, none_raw) = if const_nonneg {
            let s = rows
                .map(|r| {
                    let a = tab.y_u[r] * inv_raw[r];
                    if a > 0.0 {
                        (tab.y_y - a * tab.y_u[r], 0.0, a)
                    } else {
                        (f64::INFINITY, 0.0, 0.0)
                    }
                })
                .collect();
            (s, (tab.y_y, 0.0, 0.0))
        } else {
            (Vec::new(), (f64::INFINITY, 0.0, 0.0))
        };
        Centered {
            n1,
            inv_n1,
            yy,
            uu,
            uy,
            single,
            single_raw,
            none,
            none_raw,
        }
    }

    /// The cell's SSE and solution [constant, amplitudes] for three terms when the
    /// unconstrained solution is feasible; None sends the cell to the general NNLS.
    fn cell(&self, tab: &Tables, sel: &[usize], const_nonneg: bool, x: &mut Sol) -> Option<f64> {
        let k = sel.len();
        if k != 3 {
            return None;
        }
        let r: [usize; 3] = std::array::from_fn(|t| tab.row(t, sel[t]));
        let mut a = [0.0f64; 16];
        let mut b = [0.0f64; 4];
        for t in 0..k {
            a[t * k + t] = self.uu[r[t]] * (1.0 + 1e-12);
            b[t] = self.uy[r[t]];
            for t2 in 0..t {
                let v = self.cross(tab, sel, t, t2);
                a[t * k + t2] = v;
                a[t2 * k + t] = v;
            }
        }
        if !super::nnls::chol_solve_fixed::<3>(&a, &mut b) || b[..k].iter().any(|&v| !(v > 0.0)) {
            return None;
        }
        let mut c = tab.one_y;
        let mut fit = 0.0;
        for t in 0..k {
            c -= b[t] * tab.one_u[r[t]];
            fit += b[t] * self.uy[r[t]];
        }
        let c = c * self.inv_n1;
        if const_nonneg && c < 0.0 {
            return None;
        }
        x[0] = c;
        x[1..=k].copy_from_slice(&b[..k]);
        Some(self.yy - fit)
    }

    /// Every cell of a two-term grid: the unconstrained solution in closed form where it is
    /// feasible (most cells near the optimum), else the best of the other active sets.
    fn two_terms(&self, tab: &Tables, const_nonneg: bool, sse: &mut [f64], sols: &mut [f64]) {
        let d1 = tab.dims[1];
        let (first, second) = (tab.row(0, 0), tab.row(1, 0));
        // term 1's rows as slices, so the inner loop runs over them without index arithmetic
        let (uu_1, uy_1) = (&self.uu[second..second + d1], &self.uy[second..second + d1]);
        let o_1 = &tab.one_u[second..second + d1];
        let rows = tab.cross_block(0, 1).chunks_exact(d1);
        let out = sse.chunks_exact_mut(d1).zip(sols.chunks_exact_mut(3 * d1));
        for (g0, (crosses, (sse_row, sol_row))) in rows.zip(out).enumerate() {
            let r0 = first + g0;
            let (uu0, uy0, o0) = (self.uu[r0] * (1.0 + 1e-12), self.uy[r0], tab.one_u[r0]);
            let terms = uu_1.iter().zip(uy_1).zip(o_1).zip(crosses);
            let cells = sse_row.iter_mut().zip(sol_row.chunks_exact_mut(3));
            for (g1, ((((&uu1, &uy1), &o1), &cross), (v, x))) in terms.zip(cells).enumerate() {
                let uu1 = uu1 * (1.0 + 1e-12);
                let a12 = cross - o0 * o1 * self.inv_n1;
                let det = uu0 * uu1 - a12 * a12;
                let id = 1.0 / det;
                let a = (uu1 * uy0 - a12 * uy1) * id;
                let b = (uu0 * uy1 - a12 * uy0) * id;
                let c = (tab.one_y - a * o0 - b * o1) * self.inv_n1;
                if det > 0.0 && a > 0.0 && b > 0.0 && (!const_nonneg || c >= 0.0) {
                    *v = self.yy - a * uy0 - b * uy1;
                    x.copy_from_slice(&[c, a, b]);
                } else {
                    let (s, best) = self.without_pair(tab, &[r0, second + g1], Some(cross));
                    *v = s;
                    x.copy_from_slice(&best);
                }
            }
        }
    }

    /// The best of the active sets that leave out at least one of the cell's terms (rows
    /// `r`): one term alone or none, with the constant free or held at zero, and, with two
    /// terms whose raw cross product is `pair`, both with the constant at zero. The solution
    /// is [constant, amplitude of each term].
    fn without_pair(&self, tab: &Tables, r: &[usize], pair: Option<f64>) -> (f64, [f64; 3]) {
        let mut best = (f64::INFINITY, [0.0; 3]);
        let mut keep = |sse: f64, x: [f64; 3]| {
            if sse < best.0 {
                best = (sse, x);
            }
        };
        keep(self.none.0, [self.none.1, 0.0, 0.0]);
        keep(self.none_raw.0, [0.0; 3]);
        for (t, &rt) in r.iter().enumerate() {
            let (sse, c, a) = self.single[rt];
            let mut x = [c, 0.0, 0.0];
            x[1 + t] = a;
            keep(sse, x);
            if let Some(&(sse, _, a)) = self.single_raw.get(rt) {
                let mut x = [0.0; 3];
                x[1 + t] = a;
                keep(sse, x);
            }
        }
        if let (&[r0, r1], Some(cross), false) = (r, pair, self.single_raw.is_empty()) {
            // both terms with the constant at zero
            let (a11, a22) = (tab.u_u[r0] * (1.0 + 1e-12), tab.u_u[r1] * (1.0 + 1e-12));
            let det = a11 * a22 - cross * cross;
            if det > 0.0 {
                let (b1, b2) = (tab.y_u[r0], tab.y_u[r1]);
                let a = (a22 * b1 - cross * b2) / det;
                let b = (a11 * b2 - cross * b1) / det;
                if a > 0.0 && b > 0.0 {
                    keep(tab.y_y - a * b1 - b * b2, [0.0, a, b]);
                }
            }
        }
        best
    }

    /// Centred cross product of terms t and t2 at the cell.
    fn cross(&self, tab: &Tables, sel: &[usize], t: usize, t2: usize) -> f64 {
        let (r, r2) = (tab.row(t, sel[t]), tab.row(t2, sel[t2]));
        tab.cross(t, sel[t], t2, sel[t2]) - tab.one_u[r] * tab.one_u[r2] / self.n1
    }
}

/// Grid search for up to three terms: the grid's local minima, refined, best first.
pub fn search(ps: &PowerSum, keep: usize, cancel: Option<&AtomicBool>) -> (Vec<Candidate>, usize) {
    let k = ps.k();
    let free_exp = ps
        .terms
        .iter()
        .filter(|t| ps.pb.spec.fixed[t.1].is_none())
        .count();
    let grids = ps.grids(grid_size(free_exp));
    let Some(tab) = tables(ps.rows(), &ps.logx(), &grids, cancel) else {
        return (Vec::new(), 0);
    };
    let table_fev = grids.iter().map(|g| g.len()).sum::<usize>();
    let dims = tab.dims.clone();
    let total: usize = dims.iter().product();
    let mut sse = vec![f64::INFINITY; total];
    let mut sols = vec![0.0; total * (k + 1)];
    let mut sel = vec![0usize; k];
    // the common case (constant and every amplitude free) assembles the Gram matrix straight
    // from the tables; `cell` handles fixed constants and amplitudes
    let all_free = ps.const_free && ps.fixed_amp.iter().all(|a| a.is_none());
    let centered = all_free.then(|| Centered::new(&tab, ps.const_nonneg));
    let done = match &centered {
        Some(c) if k == 2 => {
            c.two_terms(&tab, ps.const_nonneg, &mut sse, &mut sols);
            true
        }
        Some(c) if k == 1 => {
            for r in 0..total {
                let (v, x) = c.without_pair(&tab, &[r], None);
                sse[r] = v;
                sols[2 * r..2 * r + 2].copy_from_slice(&x[..2]);
            }
            true
        }
        _ => false,
    };
    for cell in 0..if done { 0 } else { total } {
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
        let mut x = [0.0f64; MAX_UNKNOWNS];
        if let Some(c) = &centered {
            if let Some(v) = c.cell(&tab, &sel, ps.const_nonneg, &mut x) {
                sse[cell] = v;
                sols[cell * (k + 1)..(cell + 1) * (k + 1)].copy_from_slice(&x[..k + 1]);
                continue;
            }
        }
        sse[cell] = if all_free {
            let mm = k + 1;
            let mut g = [0.0f64; 16];
            let mut b = [0.0f64; 4];
            let mut nonneg = [true; 4];
            nonneg[0] = ps.const_nonneg;
            g[0] = tab.one_one;
            b[0] = tab.one_y;
            for t in 0..k {
                let r = tab.row(t, sel[t]);
                g[t + 1] = tab.one_u[r];
                g[(t + 1) * mm] = tab.one_u[r];
                g[(t + 1) * mm + t + 1] = tab.u_u[r];
                b[t + 1] = tab.y_u[r];
                for t2 in t + 1..k {
                    let v = tab.cross(t, sel[t], t2, sel[t2]);
                    g[(t + 1) * mm + t2 + 1] = v;
                    g[(t2 + 1) * mm + t + 1] = v;
                }
            }
            small_nnls(&g[..mm * mm], &b[..mm], tab.y_y, mm, &nonneg[..mm], &mut x)
        } else {
            ps.cell(&tab, &sel, &mut x)
        };
        sols[cell * (k + 1)..(cell + 1) * (k + 1)].copy_from_slice(&x[..k + 1]);
    }
    let cells = local_minima(&sse, &dims, keep)
        .into_iter()
        .map(|cell| {
            let mut rem = cell;
            for d in (0..k).rev() {
                sel[d] = rem % dims[d];
                rem /= dims[d];
            }
            let e: Vec<f64> = (0..k).map(|t| grids[t][sel[t]]).collect();
            let mut x = [0.0f64; MAX_UNKNOWNS];
            x[..k + 1].copy_from_slice(&sols[cell * (k + 1)..(cell + 1) * (k + 1)]);
            (e, x, sse[cell])
        })
        .collect();
    let (out, passes) = finish(ps, &grids, cells, cancel);
    (out, table_fev + passes)
}
