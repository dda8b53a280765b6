//! Numeric analyses for any law over (N, D[, C]): the law is evaluated at single points.

use crate::error::{Error, Result};
use crate::law::{Law, OwnedCols};

/// A law evaluated at single (N, D) points, with C = k N D supplied when the law has a C
/// variable.
pub struct PointLaw<'a> {
    law: &'a dyn Law,
    params: &'a [f64],
    /// Position of N, D, C among the law's variables.
    slots: [Option<usize>; 3],
    k: f64,
}

impl<'a> PointLaw<'a> {
    pub fn new(law: &'a dyn Law, params: &'a [f64], k: f64) -> Result<Self> {
        let names = law.var_names();
        let pos = |v: &str| names.iter().position(|n| n == v);
        let slots = [pos("N"), pos("D"), pos("C")];
        if slots[0].is_none() || slots[1].is_none() {
            return Err(Error::InvalidLaw(format!(
                "law '{}' has no N and D variables: compute-optimal analyses need both",
                law.name()
            )));
        }
        if names.len() != slots.iter().flatten().count() {
            return Err(Error::InvalidLaw(format!(
                "law '{}' has variables other than N, D, C",
                law.name()
            )));
        }
        if params.len() != law.n_params() {
            return Err(Error::InvalidOption("wrong number of parameters".into()));
        }
        Ok(PointLaw {
            law,
            params,
            slots,
            k,
        })
    }

    /// L(N, D) (with C = k N D when the law has C).
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        let mut x = vec![vec![0.0]; self.law.var_names().len()];
        x[self.slots[0].unwrap_or(0)][0] = n;
        x[self.slots[1].unwrap_or(0)][0] = d;
        if let Some(c) = self.slots[2] {
            x[c][0] = self.k * n * d;
        }
        let cols = OwnedCols::new(x, self.law.needs_logs());
        let mut out = [0.0];
        self.law.eval(&cols.view(), self.params, &mut out);
        out[0]
    }
}

/// Minimises f over [lo, hi] by golden-section search (f unimodal), to relative precision in x.
pub fn golden_min(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> (f64, f64) {
    let gr = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - gr * (hi - lo);
    let mut b = lo + gr * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..200 {
        if (hi - lo).abs() <= 1e-12 * (1.0 + lo.abs().max(hi.abs())) {
            break;
        }
        // NaN compares false: move away from it
        if fa < fb || fb.is_nan() {
            hi = b;
            b = a;
            fb = fa;
            a = hi - gr * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + gr * (hi - lo);
            fb = f(b);
        }
    }
    let x = 0.5 * (lo + hi);
    (x, f(x))
}

/// Compute-optimal (N*, D*, L*) at budget c by minimising L(N, c/(kN)) over log N, for any law
/// on N and D. The search brackets a grid minimum first, so a law that is not unimodal in
/// log N still gets its global grid optimum refined.
pub fn numeric_optimum(pl: &PointLaw, c: f64, k: f64) -> (f64, f64, f64) {
    let f = |ln: f64| {
        let n = ln.exp();
        pl.loss(n, c / (k * n))
    };
    let (lo, hi) = (0.0f64, (c / k).ln().max(1.0));
    let m = 200;
    let mut best = (f64::INFINITY, 0usize);
    for i in 0..=m {
        let v = f(lo + (hi - lo) * i as f64 / m as f64);
        if v < best.0 {
            best = (v, i);
        }
    }
    let step = (hi - lo) / m as f64;
    let a = lo + step * (best.1 as f64 - 1.0).max(0.0);
    let b = lo + step * (best.1 as f64 + 1.0).min(m as f64);
    let (ln, l) = golden_min(f, a, b);
    let n = ln.exp();
    (n, c / (k * n), l)
}

/// Inference-aware sizing (Sardana and Frankle 2023): the (N, D) reaching `target` loss that
/// minimise training plus inference FLOPs, k N D + 2 N T_inf. Returns (N, D, train FLOPs,
/// inference FLOPs), or None when no finite D reaches the target at any N.
pub fn inference_optimum(
    pl: &PointLaw,
    target: f64,
    tokens_inf: f64,
    k: f64,
) -> Option<(f64, f64, f64, f64)> {
    // D(N) solving L(N, D) = target: L decreases in D, so bisect on log D
    let d_of = |n: f64| -> Option<f64> {
        let (mut lo, mut hi) = (0.0f64, 80.0f64); // ln D in [0, 80]
        if pl.loss(n, hi.exp()) > target {
            return None;
        }
        if pl.loss(n, lo.exp()) <= target {
            return Some(1.0);
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if pl.loss(n, mid.exp()) > target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-13 {
                break;
            }
        }
        Some(hi.exp())
    };
    // ln(k N D + 2 N T) = ln N + ln(k D + 2 T), summed in logs: huge k or T must not
    // overflow to a cost of infinity (read as "unreachable")
    let (ln_k, ln_2t) = (k.ln(), std::f64::consts::LN_2 + tokens_inf.ln());
    let cost = |ln: f64| -> f64 {
        match d_of(ln.exp()) {
            Some(d) => {
                let (a, b) = (ln_k + d.ln(), ln_2t);
                let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
                ln + hi + (lo - hi).exp().ln_1p()
            }
            None => f64::INFINITY,
        }
    };
    let (lo, hi) = (0.0f64, 60.0f64);
    let m = 240;
    let mut best = (f64::INFINITY, 0usize);
    for i in 0..=m {
        let v = cost(lo + (hi - lo) * i as f64 / m as f64);
        if v < best.0 {
            best = (v, i);
        }
    }
    if !best.0.is_finite() {
        return None;
    }
    let step = (hi - lo) / m as f64;
    let a = lo + step * (best.1 as f64 - 1.0).max(0.0);
    let b = lo + step * (best.1 as f64 + 1.0).min(m as f64);
    let (ln, _) = golden_min(cost, a, b);
    let n = ln.exp();
    let d = d_of(n)?;
    Some((n, d, k * n * d, 2.0 * n * tokens_inf))
}

/// Elasticities d log(L - c) / d log x for every variable at each point (central differences
/// in log x, step 1e-4, exact to ~1e-9 for smooth laws), where c is the law's constant
/// (`constant` = its index, or None to use L itself), and the raw derivatives dL/dx.
/// `x` is row-major points x variables. Returns (elasticities, derivatives), both row-major.
pub fn elasticities(
    law: &dyn Law,
    params: &[f64],
    constant: Option<usize>,
    x: &[f64],
) -> Result<(Vec<f64>, Vec<f64>)> {
    let nv = law.var_names().len();
    if nv == 0 || !x.len().is_multiple_of(nv) {
        return Err(Error::InvalidShape("points have the wrong shape".into()));
    }
    if params.len() != law.n_params() {
        return Err(Error::InvalidOption(format!(
            "params has {} values but law '{}' has {} parameters",
            params.len(),
            law.name(),
            law.n_params()
        )));
    }
    if constant.is_some_and(|i| i >= params.len()) {
        return Err(Error::InvalidOption(
            "the constant's index is out of range".into(),
        ));
    }
    for (i, &v) in x.iter().enumerate() {
        if !v.is_finite() || (law.needs_logs() && v <= 0.0) {
            return Err(Error::InvalidData {
                column: law.var_names()[i % nv].clone(),
                row: i / nv,
                value: v,
                reason: if v.is_finite() {
                    "must be positive".into()
                } else {
                    "must be finite".into()
                },
            });
        }
    }
    let c = constant.map_or(0.0, |i| params[i]);
    let eval = |pt: &[f64]| -> f64 {
        let cols = OwnedCols::new(pt.iter().map(|v| vec![*v]).collect(), law.needs_logs());
        let mut out = [0.0];
        law.eval(&cols.view(), params, &mut out);
        out[0]
    };
    let h: f64 = 1e-4;
    let mut el = Vec::with_capacity(x.len());
    let mut der = Vec::with_capacity(x.len());
    for pt in x.chunks_exact(nv) {
        let l0 = eval(pt);
        for j in 0..nv {
            let mut up = pt.to_vec();
            let mut dn = pt.to_vec();
            up[j] = pt[j] * h.exp();
            dn[j] = pt[j] * (-h).exp();
            let (lu, ld) = (eval(&up), eval(&dn));
            let dl_dlogx = (lu - ld) / (2.0 * h);
            el.push(dl_dlogx / (l0 - c));
            der.push(dl_dlogx / pt[j]);
        }
    }
    Ok((el, der))
}

#[cfg(test)]
mod numeric_tests {
    use super::*;
    use crate::analysis::closed_form::NdLaw;
    use crate::laws::builtin;

    #[test]
    fn numeric_matches_closed_form() {
        let law = builtin("chinchilla", &[]).unwrap();
        let p = [1.8169, 482.01, 2085.43, 0.3478, 0.3658];
        let pl = PointLaw::new(law.as_ref(), &p, 6.0).unwrap();
        let nd = NdLaw {
            e: p[0],
            a: p[1],
            b: p[2],
            alpha: p[3],
            beta: p[4],
        };
        for c in [1e19, 1e21, 5.88e23, 1e26] {
            let (n, d, l) = numeric_optimum(&pl, c, 6.0);
            let (n2, d2, l2) = nd.optimum(c, 6.0);
            assert!((n / n2 - 1.0).abs() < 1e-6, "{n} {n2}");
            assert!((d / d2 - 1.0).abs() < 1e-6);
            assert!((l - l2).abs() < 1e-12);
        }
    }

    #[test]
    fn inference_optimum_beats_a_grid() {
        let law = builtin("chinchilla", &[]).unwrap();
        let p = [1.8169, 482.01, 2085.43, 0.3478, 0.3658];
        let pl = PointLaw::new(law.as_ref(), &p, 6.0).unwrap();
        let (target, t_inf) = (2.1, 1e13);
        let (n, d, tr, inf) = inference_optimum(&pl, target, t_inf, 6.0).unwrap();
        assert!((pl.loss(n, d) - target).abs() < 1e-9);
        let total = tr + inf;
        // brute force: a fine grid over N, D solved on the loss contour
        let mut best = f64::INFINITY;
        for i in 0..4000 {
            let n = 10f64.powf(7.0 + 6.0 * i as f64 / 3999.0);
            let rest = target - p[0] - p[1] * n.powf(-p[3]);
            if rest <= 0.0 {
                continue;
            }
            let d = (p[2] / rest).powf(1.0 / p[4]);
            best = best.min(6.0 * n * d + 2.0 * n * t_inf);
        }
        assert!(total <= best * (1.0 + 1e-6), "{total} vs grid {best}");
        assert!(total >= best * (1.0 - 1e-3));
    }

    #[test]
    fn elasticity_of_power_law() {
        let law = builtin("power", &["N".to_string()]).unwrap();
        let p = [1.7, 400.0, 0.34];
        let (el, der) = elasticities(law.as_ref(), &p, Some(0), &[1e9, 1e10]).unwrap();
        assert!((el[0] + 0.34).abs() < 1e-8 && (el[1] + 0.34).abs() < 1e-8);
        let want = -0.34 * 400.0 * 1e9f64.powf(-1.34);
        assert!((der[0] / want - 1.0).abs() < 1e-7);
    }
}
