//! Covariance of an estimate and the identifiability of its parameters, from the information
//! matrices accumulated block by block (memory independent of the number of rows).
//!
//! Least squares: s^2 (J^T W J)^-1 with s^2 = RSS/dof (weights as relative precisions, as
//! curve_fit without absolute_sigma). Huber and asymmetric losses: the M-estimator sandwich
//! A^-1 B A^-1 n/(n-p), A = sum w psi'(r) J J^T, B = sum w^2 psi(r)^2 J J^T.

use crate::fastmath::ln_slice;
use crate::law::Cols;
use crate::linalg::{dot, spd_inverse, sym_eigen, sym_eigenvalues};
use crate::loss::Scale;
use crate::problem::Problem;
use crate::solver::block::{self, tri, BLOCK};

/// The covariance (natural units, all parameters, fixed rows and columns zero) or why it is
/// missing, the condition number of the correlation-scaled J^T J and the eigenvector of its
/// smallest eigenvalue over the free parameters.
pub struct Covariance {
    pub cov: Option<Vec<f64>>,
    pub note: String,
    pub condition: f64,
    pub weak_direction: Vec<f64>,
}

/// Per-thread buffers of a block.
#[derive(Default)]
struct Bufs {
    f: Vec<f64>,
    jac: Vec<f64>,
    e: Vec<f64>,
    ja: Vec<f64>,
    jb: Vec<f64>,
}

impl Bufs {
    fn new(rows: usize, p: usize, pf: usize) -> Self {
        Bufs {
            f: vec![0.0; rows],
            jac: vec![0.0; rows * p],
            e: vec![0.0; rows],
            ja: vec![0.0; rows * pf],
            jb: vec![0.0; rows * pf],
        }
    }
}

/// One block's contribution: [sum w e^2, A packed, B packed].
fn block_info(
    pb: &Problem,
    params: &[f64],
    free: &[usize],
    bb: &mut Bufs,
    cols: &Cols,
    rows: std::ops::Range<usize>,
    out: &mut [f64],
) {
    let m = rows.len();
    let p = params.len();
    let pf = free.len();
    let f = &mut bb.f[..m];
    let jac = &mut bb.jac[..m * p];
    let t = &pb.target[rows.clone()];
    pb.law.eval_jac_fit(cols, t, pb.loss.scale, params, f, jac);
    let e = &mut bb.e[..m];
    match pb.loss.scale {
        Scale::Linear => e.copy_from_slice(f),
        Scale::Log => ln_slice(f, e),
    }
    let mut rss = 0.0;
    for i in 0..m {
        e[i] -= t[i];
        let w = pb.weights.map_or(1.0, |w| w[rows.start + i]);
        rss += w * e[i] * e[i];
    }
    for (jf, &k) in free.iter().enumerate() {
        let chain = if pb.spec.log_param[k] { params[k] } else { 1.0 };
        for i in 0..m {
            let w = pb.weights.map_or(1.0, |w| w[rows.start + i]);
            let d = match pb.loss.scale {
                Scale::Linear => 1.0,
                Scale::Log => 1.0 / f[i],
            };
            let (psi, dpsi) = pb.loss.psi(e[i]);
            let v = jac[k * m + i] * d * chain;
            bb.ja[jf * m + i] = v * (w * dpsi).sqrt();
            bb.jb[jf * m + i] = v * w * psi.abs();
        }
    }
    out[0] = rss;
    let nt = pf * (pf + 1) / 2;
    for x in 0..pf {
        for y in 0..=x {
            let (ax, ay) = (&bb.ja[x * m..(x + 1) * m], &bb.ja[y * m..(y + 1) * m]);
            let (bx, by) = (&bb.jb[x * m..(x + 1) * m], &bb.jb[y * m..(y + 1) * m]);
            out[1 + tri(x, y)] = dot(ax, ay);
            out[1 + nt + tri(x, y)] = dot(bx, by);
        }
    }
}

/// The covariance at `params` (see the module's description).
pub fn covariance(pb: &Problem, params: &[f64], n_points: usize, weak: Weak) -> Covariance {
    let n = pb.n();
    let p = params.len();
    let free = pb.spec.free();
    let pf = free.len();
    let nt = pf * (pf + 1) / 2;
    let stride = 1 + 2 * nt;
    let mut parts = Vec::new();
    let mut scratch = (Bufs::new(n.min(BLOCK), p, pf), block::empty_view());
    let mut sums = vec![0.0; stride];
    block::sum(
        n,
        &mut sums,
        &mut parts,
        &mut scratch,
        || (Bufs::new(BLOCK, p, pf), block::empty_view()),
        |(bb, cb), rows, slot| {
            block::view(pb.cols, rows.clone(), cb);
            block_info(pb, params, &free, bb, cb, rows, slot);
        },
        None,
    );
    let a = unpack(&sums[1..1 + nt], pf);
    let b = unpack(&sums[1 + nt..], pf);
    from_information(pb, params, n_points, sums[0], a, &b, weak)
}

/// The least-squares covariance at `params` from the information the solver's last pass
/// already accumulated there: `rss` = sum w e^2 and `packed` = J^T W J over the free parameters
/// (packed lower triangle, internal coordinates), so no further pass over the data is needed.
pub fn covariance_from_pass(
    pb: &Problem,
    params: &[f64],
    n_points: usize,
    rss: f64,
    packed: &[f64],
    weak: Weak,
) -> Covariance {
    let pf = pb.spec.free().len();
    from_information(pb, params, n_points, rss, unpack(packed, pf), &[], weak)
}

/// A packed lower triangle as a full symmetric pf x pf matrix.
fn unpack(packed: &[f64], pf: usize) -> Vec<f64> {
    let mut m = vec![0.0; pf * pf];
    for x in 0..pf {
        for y in 0..=x {
            let v = packed[tri(x, y)];
            m[x * pf + y] = v;
            m[y * pf + x] = v;
        }
    }
    m
}

/// The covariance from the information matrix `a` (and, for robust losses, the sandwich's
/// meat `b`), both over the free parameters in internal coordinates.
fn from_information(
    pb: &Problem,
    params: &[f64],
    n_points: usize,
    rss: f64,
    a: Vec<f64>,
    b: &[f64],
    weak: Weak,
) -> Covariance {
    let p = params.len();
    let free = pb.spec.free();
    let pf = free.len();
    let missing = |note: &str, condition: f64, weak: Vec<f64>| Covariance {
        cov: None,
        note: note.to_string(),
        condition,
        weak_direction: weak,
    };
    if a.iter().any(|v| !v.is_finite()) {
        return missing(
            "no covariance: the Jacobian is not finite at the optimum",
            f64::INFINITY,
            vec![0.0; pf],
        );
    }
    if pf == 0 {
        return Covariance {
            cov: Some(vec![0.0; p * p]),
            note: "all parameters are fixed".into(),
            condition: 1.0,
            weak_direction: Vec::new(),
        };
    }
    let (condition, weak) = identifiability(&a, pf, weak);
    let dof = n_points as f64 - pf as f64;
    if dof <= 0.0 {
        return missing("no covariance: no degrees of freedom left", condition, weak);
    }
    let Some(ainv) = spd_inverse(&a, pf) else {
        let why = if pb.loss.is_least_squares() {
            "no covariance: J^T J is singular (parameters not identifiable from these data)"
        } else {
            "no covariance: the sandwich estimate's bread matrix is singular (too few points \
             inside the robust loss's quadratic region); use the bootstrap"
        };
        return missing(why, condition, weak);
    };
    let (cint, note) = if pb.loss.is_least_squares() {
        let s2 = rss / dof;
        (
            ainv.iter().map(|v| v * s2).collect::<Vec<f64>>(),
            "asymptotic: s^2 (J^T W J)^-1".to_string(),
        )
    } else {
        (
            sandwich(&ainv, b, pf, n_points as f64 / dof),
            "sandwich (robust M-estimator) A^-1 B A^-1".to_string(),
        )
    };
    let mut cov = vec![0.0; p * p];
    for (x, &kx) in free.iter().enumerate() {
        for (y, &ky) in free.iter().enumerate() {
            let cx = if pb.spec.log_param[kx] {
                params[kx]
            } else {
                1.0
            };
            let cy = if pb.spec.log_param[ky] {
                params[ky]
            } else {
                1.0
            };
            // symmetrise: the sandwich product is symmetric only up to rounding
            let v = 0.5 * (cint[x * pf + y] + cint[y * pf + x]);
            cov[kx * p + ky] = v * cx * cy;
        }
    }
    Covariance {
        cov: Some(cov),
        note,
        condition,
        weak_direction: weak,
    }
}

/// Whether a fit reports the weakly identified direction beside the condition number.
/// Bulk fits report the condition alone, and skip accumulating the eigenvectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weak {
    Direction,
    ConditionOnly,
}

/// Condition number of the correlation-scaled information matrix and the eigenvector of its
/// smallest eigenvalue (empty when not asked for).
fn identifiability(a: &[f64], pf: usize, weak: Weak) -> (f64, Vec<f64>) {
    let s: Vec<f64> = (0..pf).map(|x| a[x * pf + x].sqrt()).collect();
    if s.iter().any(|v| !(*v > 0.0)) {
        return (f64::INFINITY, vec![0.0; pf]);
    }
    let sc: Vec<f64> = (0..pf * pf)
        .map(|k| a[k] / (s[k / pf] * s[k % pf]))
        .collect();
    let (vals, direction) = match weak {
        Weak::Direction => {
            let (vals, vecs) = sym_eigen(&sc, pf);
            (vals, (0..pf).map(|x| vecs[x * pf]).collect())
        }
        Weak::ConditionOnly => (sym_eigenvalues(&sc, pf), Vec::new()),
    };
    let cond = if vals[0] > 0.0 {
        vals[pf - 1] / vals[0]
    } else {
        f64::INFINITY
    };
    (cond, direction)
}

/// corr * A^-1 B A^-1.
fn sandwich(ainv: &[f64], b: &[f64], pf: usize, corr: f64) -> Vec<f64> {
    let mut tmp = vec![0.0; pf * pf];
    let mut out = vec![0.0; pf * pf];
    for x in 0..pf {
        for y in 0..pf {
            tmp[x * pf + y] = (0..pf).map(|z| ainv[x * pf + z] * b[z * pf + y]).sum();
        }
    }
    for x in 0..pf {
        for y in 0..pf {
            out[x * pf + y] = corr
                * (0..pf)
                    .map(|z| tmp[x * pf + z] * ainv[z * pf + y])
                    .sum::<f64>();
        }
    }
    out
}
