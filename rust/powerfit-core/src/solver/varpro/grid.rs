//! The power-sum problem as variable projection sees it, and the exhaustive exponent grid for
//! up to three terms: every cell's constant and amplitudes by NNLS from the tabulated inner
//! products, the grid's local minima refined and turned into starts.

use std::sync::atomic::AtomicBool;

use super::nnls::{nnls, small_nnls, MAX_UNKNOWNS};
use super::refine::{refine, Projector, Sol};
use super::tables::{tables, Rows, Tables};
use super::{exponent_grid, grid_size, local_minima, near, Candidate};
use crate::problem::Problem;

/// Exponent range of the grids.
pub const EXP_LO: f64 = 0.02;
pub const EXP_HI: f64 = 2.5;

/// A power sum c + sum_t A_t x_t^-e_t with its fixed and free parts.
pub struct PowerSum<'a> {
    pub pb: &'a Problem<'a>,
    pub constant: Option<usize>,
    /// (amplitude index, exponent index, variable index) per term
    pub terms: Vec<(usize, usize, usize)>,
    pub const_free: bool,
    /// Losses measured as positive numbers level off at a non-negative floor. Without that
    /// constraint the search happily trades the constant against a slow term (a small
    /// exponent is nearly a constant) and starts LM in a long, nearly flat valley. LM itself
    /// may still move the constant below zero.
    pub const_nonneg: bool,
    pub fixed_amp: Vec<Option<f64>>,
    /// The fixed constant (0 when free or absent), subtracted from y.
    pub c_fixed: f64,
}

impl<'a> PowerSum<'a> {
    pub fn new(
        pb: &'a Problem<'a>,
        constant: Option<usize>,
        terms: &[(usize, usize, usize)],
    ) -> Self {
        let const_free = constant.is_some_and(|c| pb.spec.fixed[c].is_none());
        let positive = match pb.loss.scale {
            crate::loss::Scale::Log => true,
            crate::loss::Scale::Linear => pb.target.iter().all(|&v| v > 0.0),
        };
        PowerSum {
            pb,
            constant,
            terms: terms.to_vec(),
            const_free,
            const_nonneg: const_free && positive,
            fixed_amp: terms.iter().map(|t| pb.spec.fixed[t.0]).collect(),
            c_fixed: constant.and_then(|c| pb.spec.fixed[c]).unwrap_or(0.0),
        }
    }

    pub fn k(&self) -> usize {
        self.terms.len()
    }

    pub fn rows(&self) -> Rows<'a> {
        Rows {
            pb: self.pb,
            c_fixed: self.c_fixed,
        }
    }

    pub fn logx(&self) -> Vec<&'a [f64]> {
        self.terms.iter().map(|t| self.pb.cols.logx[t.2]).collect()
    }

    /// Exponent grids of `m` points per free exponent.
    pub fn grids(&self, m: usize) -> Vec<Vec<f64>> {
        self.terms
            .iter()
            .map(|t| exponent_grid(self.pb, t.1, m, EXP_LO, EXP_HI))
            .collect()
    }

    /// The NNLS system of the linear unknowns (the constant if free, then the free
    /// amplitudes) at grid selection `sel`, solved; the solution goes to `x`.
    pub fn cell(&self, tab: &Tables, sel: &[usize], x: &mut Sol) -> f64 {
        #[derive(Clone, Copy)]
        enum B {
            One,
            Y,
            U(usize),
        }
        let k = self.k();
        let ip = |a: B, b: B| -> f64 {
            match (a, b) {
                (B::One, B::One) => tab.one_one,
                (B::One, B::Y) | (B::Y, B::One) => tab.one_y,
                (B::Y, B::Y) => tab.y_y,
                (B::One, B::U(t)) | (B::U(t), B::One) => tab.one_u[tab.row(t, sel[t])],
                (B::Y, B::U(t)) | (B::U(t), B::Y) => tab.y_u[tab.row(t, sel[t])],
                (B::U(t), B::U(t2)) => {
                    if t == t2 {
                        tab.u_u[tab.row(t, sel[t])]
                    } else {
                        tab.cross(t, sel[t], t2, sel[t2])
                    }
                }
            }
        };
        // the response: y minus the terms of fixed amplitudes
        let mut resp = [(0.0, B::One); MAX_UNKNOWNS + 1];
        resp[0] = (1.0, B::Y);
        let mut nr = 1;
        for t in 0..k {
            if let Some(a) = self.fixed_amp[t] {
                resp[nr] = (-a, B::U(t));
                nr += 1;
            }
        }
        let resp = &resp[..nr];
        let mut basis = [B::One; MAX_UNKNOWNS];
        let mut nonneg = [false; MAX_UNKNOWNS];
        let mut mm = 0;
        if self.const_free {
            basis[0] = B::One;
            nonneg[0] = self.const_nonneg;
            mm = 1;
        }
        for t in 0..k {
            if self.fixed_amp[t].is_none() {
                basis[mm] = B::U(t);
                nonneg[mm] = true;
                mm += 1;
            }
        }
        let mut g = [0.0f64; MAX_UNKNOWNS * MAX_UNKNOWNS];
        let mut b = [0.0f64; MAX_UNKNOWNS];
        let mut yy = 0.0;
        for &(ca, ba) in resp {
            for &(cb, bb) in resp {
                yy += ca * cb * ip(ba, bb);
            }
        }
        for a in 0..mm {
            b[a] = resp.iter().map(|&(c, bb)| c * ip(basis[a], bb)).sum();
            for bb in 0..=a {
                let v = ip(basis[a], basis[bb]);
                g[a * mm + bb] = v;
                g[bb * mm + a] = v;
            }
        }
        *x = [0.0; MAX_UNKNOWNS];
        if mm == 0 {
            yy
        } else {
            nnls(&g[..mm * mm], &b[..mm], yy, mm, &nonneg[..mm], x)
        }
    }

    /// Refines cells (exponents `e`, solutions `x`, SSE) on the projected objective and turns
    /// the distinct ones into starts, best first. Returns the starts and the projector's
    /// passes over the data.
    pub fn finish(
        &self,
        grids: &[Vec<f64>],
        cells: Vec<(Vec<f64>, Sol, f64)>,
        cancel: Option<&AtomicBool>,
    ) -> (Vec<Candidate>, usize) {
        let pb = self.pb;
        let k = self.k();
        let mut proj = Projector::new(self, cancel);
        let mut out: Vec<Candidate> = Vec::new();
        let mut seen: Vec<Vec<f64>> = Vec::new();
        let (ymean, lmean) = self.means();
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
            if let Some(c) = self.constant {
                params[c] = pb.spec.fixed[c].unwrap_or_else(|| {
                    j += 1;
                    x[0]
                });
            }
            for t in 0..k {
                let (ia, ie, _) = self.terms[t];
                params[ie] = e[t];
                params[ia] = match self.fixed_amp[t] {
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

    /// Mean of y (natural scale) and of each term's log x.
    fn means(&self) -> (f64, Vec<f64>) {
        let pb = self.pb;
        let n = pb.n().max(1) as f64;
        let ysum: f64 = match pb.loss.scale {
            crate::loss::Scale::Linear => pb.target.iter().sum(),
            crate::loss::Scale::Log => pb.target.iter().map(|t| t.exp()).sum(),
        };
        let lmean = self
            .logx()
            .iter()
            .map(|l| l.iter().sum::<f64>() / n)
            .collect();
        (ysum / n, lmean)
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
        let mut x = [0.0f64; MAX_UNKNOWNS];
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
    let (out, passes) = ps.finish(&grids, cells, cancel);
    (out, table_fev + passes)
}
