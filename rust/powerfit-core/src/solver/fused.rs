//! The solver's pass for power-sum laws (c + sum_t A_t x_t^-e_t with one to three terms, every
//! parameter free) in one fused sweep: four rows per AVX2 vector, the law, its Jacobian row,
//! the loss's weights and every sum of the normal equations in registers, no Jacobian in
//! memory. It computes what `lm::block_sums` computes through the `Law` trait (the power sum
//! is what the law's `Structure` says it is), for l2, log and Huber losses on either scale,
//! weighted or not; other cases take the general pass.

use std::ops::Range;

use crate::law::Structure;
use crate::loss::{Rho, Scale, HUBER_BLEND};
use crate::problem::Problem;

/// The power sum's parameter indices, in the canonical order [c, A_1.., e_1..].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    k: usize,
    order: [usize; 7],
    var: [usize; 3],
}

impl Plan {
    /// A plan when the fused pass applies: a power sum with a constant, one to three terms,
    /// every parameter free, a loss it knows, AVX2 and FMA available.
    pub(crate) fn new(pb: &Problem) -> Option<Plan> {
        if !crate::fastmath::simd_enabled() {
            return None;
        }
        if matches!(pb.loss.rho, Rho::Asymmetric { .. })
            || pb.spec.fixed.iter().any(|f| f.is_some())
        {
            return None;
        }
        let Structure::PowerSum {
            constant: Some(c),
            terms,
        } = pb.law.structure()
        else {
            return None;
        };
        let k = terms.len();
        if !(1..=3).contains(&k) || pb.spec.n_params() != 1 + 2 * k {
            return None;
        }
        if terms
            .iter()
            .any(|t| pb.cols.logx.get(t.2).is_none_or(|l| l.len() != pb.n()))
        {
            return None;
        }
        let mut order = [0usize; 7];
        let mut var = [0usize; 3];
        order[0] = c;
        for (t, &(a, e, v)) in terms.iter().enumerate() {
            order[1 + t] = a;
            order[1 + k + t] = e;
            var[t] = v;
        }
        Some(Plan { k, order, var })
    }
}

/// The sums of rows `rows` at natural parameters `p` into `out` (`lm::Sums` layout over the
/// law's parameters, all free; `chain[a]` is parameter a's chain factor).
pub(crate) fn sums(
    plan: &Plan,
    pb: &Problem,
    p: &[f64],
    chain: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `Plan::new` checked AVX2 and FMA.
        #[allow(unsafe_code)]
        unsafe {
            macro_rules! go {
                ($k:literal) => {
                    match (pb.loss.rho, pb.loss.scale, pb.weights.is_some()) {
                        (Rho::Squared, Scale::Linear, false) => {
                            simd::sums::<$k, { simd::L2 }, false>(plan, pb, p, chain, rows, out)
                        }
                        (Rho::Squared, Scale::Linear, true) => {
                            simd::sums::<$k, { simd::L2 }, true>(plan, pb, p, chain, rows, out)
                        }
                        (Rho::Squared, Scale::Log, false) => {
                            simd::sums::<$k, { simd::LOG }, false>(plan, pb, p, chain, rows, out)
                        }
                        (Rho::Squared, Scale::Log, true) => {
                            simd::sums::<$k, { simd::LOG }, true>(plan, pb, p, chain, rows, out)
                        }
                        (_, Scale::Linear, false) => {
                            simd::sums::<$k, { simd::HUBER }, false>(plan, pb, p, chain, rows, out)
                        }
                        (_, Scale::Linear, true) => {
                            simd::sums::<$k, { simd::HUBER }, true>(plan, pb, p, chain, rows, out)
                        }
                        (_, Scale::Log, false) => simd::sums::<$k, { simd::HUBER_LOG }, false>(
                            plan, pb, p, chain, rows, out,
                        ),
                        (_, Scale::Log, true) => simd::sums::<$k, { simd::HUBER_LOG }, true>(
                            plan, pb, p, chain, rows, out,
                        ),
                    }
                };
            }
            match plan.k {
                1 => go!(1),
                2 => go!(2),
                _ => go!(3),
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (plan, pb, p, chain, rows, out);
        unreachable!("Plan::new returns None without AVX2");
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod simd {
    use super::*;
    use crate::solver::block::tri;
    use std::arch::x86_64::*;

    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFTER: f64 = 6_755_399_441_055_744.0;

    /// e^x four at a time: `fastmath::exp_impl` in vectors (the same polynomial; overflow to
    /// +inf, NaN kept). Below -708 it gives e^-708 (~1e-308) where `exp_impl` gives 0: a term
    /// that small adds nothing to the sums, and the pass saves the test.
    #[inline(always)]
    unsafe fn exp4(x: __m256d) -> __m256d {
        // max/min return their second operand when one is NaN: x's NaN flows through
        let xc = _mm256_min_pd(
            _mm256_set1_pd(709.0),
            _mm256_max_pd(_mm256_set1_pd(-708.0), x),
        );
        let sh = _mm256_set1_pd(SHIFTER);
        let t = _mm256_fmadd_pd(xc, _mm256_set1_pd(LOG2E), sh);
        let k = _mm256_sub_pd(t, sh);
        let r = _mm256_fnmadd_pd(
            k,
            _mm256_set1_pd(LN2_LO),
            _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_HI), xc),
        );
        let c = [
            2.511_003_760_596_377_7e-8,
            2.763_263_963_904_103e-7,
            2.755_724_091_857_897e-6,
            2.480_148_548_232_849_4e-5,
            1.984_126_989_004_711_3e-4,
            1.388_888_895_231_477_5e-3,
            8.333_333_333_319_601e-3,
            4.166_666_666_648_81e-2,
            0.166_666_666_666_666_8,
            0.500_000_000_000_001_9,
            1.0,
            1.0,
        ];
        let mut q = _mm256_set1_pd(c[0]);
        for &ci in &c[1..] {
            q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(ci));
        }
        let ki = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(sh));
        let scale = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
        let v = _mm256_mul_pd(q, _mm256_castsi256_pd(scale));
        let over = _mm256_cmp_pd(x, _mm256_set1_pd(709.782_712_893_384), _CMP_GT_OQ);
        _mm256_blendv_pd(v, _mm256_set1_pd(f64::INFINITY), over)
    }

    /// ln x four at a time: `fastmath::ln_impl` in vectors for normal positive x; NaN for
    /// x < 0 or NaN, -inf for 0, +inf for +inf.
    #[inline(always)]
    unsafe fn ln4(x: __m256d) -> __m256d {
        let bits = _mm256_castpd_si256(x);
        let mant = _mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
            _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
        );
        let mut m = _mm256_castsi256_pd(mant);
        let ebits = _mm256_and_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x7ff));
        let kf = _mm256_castsi256_pd(_mm256_or_si256(
            ebits,
            _mm256_set1_epi64x(0x4330_0000_0000_0000),
        ));
        let mut k = _mm256_sub_pd(kf, _mm256_set1_pd(4_503_599_627_370_496.0 + 1023.0));
        let big = _mm256_cmp_pd(m, _mm256_set1_pd(std::f64::consts::SQRT_2), _CMP_GT_OQ);
        m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
        k = _mm256_blendv_pd(k, _mm256_add_pd(k, _mm256_set1_pd(1.0)), big);
        let one = _mm256_set1_pd(1.0);
        let s = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
        let z = _mm256_mul_pd(s, s);
        let mut q = _mm256_set1_pd(1.0 / 25.0);
        for c in [23.0, 21.0, 19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
            q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / c));
        }
        let two_s = _mm256_add_pd(s, s);
        let lnm = _mm256_fmadd_pd(_mm256_mul_pd(two_s, z), q, two_s);
        let v = _mm256_fmadd_pd(
            k,
            _mm256_set1_pd(LN2_HI),
            _mm256_fmadd_pd(k, _mm256_set1_pd(LN2_LO), lnm),
        );
        let zero = _mm256_setzero_pd();
        let v = _mm256_blendv_pd(
            v,
            _mm256_set1_pd(f64::NEG_INFINITY),
            _mm256_cmp_pd(x, zero, _CMP_EQ_OQ),
        );
        let inf = _mm256_set1_pd(f64::INFINITY);
        let v = _mm256_blendv_pd(v, inf, _mm256_cmp_pd(x, inf, _CMP_EQ_OQ));
        // negative or NaN: NaN
        _mm256_blendv_pd(
            v,
            _mm256_set1_pd(f64::NAN),
            _mm256_cmp_pd(x, zero, _CMP_NGE_UQ),
        )
    }

    /// Four rows' values of a column from `i` (the missing ones of a last partial step are
    /// `fill`).
    #[inline(always)]
    unsafe fn load(c: &[f64], i: usize, fill: f64) -> __m256d {
        if i + 4 <= c.len() {
            _mm256_loadu_pd(c.as_ptr().add(i))
        } else {
            let mut v = [fill; 4];
            for (l, slot) in v.iter_mut().enumerate() {
                if i + l < c.len() {
                    *slot = c[i + l];
                }
            }
            _mm256_loadu_pd(v.as_ptr())
        }
    }

    /// The loss kinds of the kernel (a compile-time choice, so the loop has no branches).
    pub(super) const L2: u8 = 0;
    pub(super) const LOG: u8 = 1;
    pub(super) const HUBER: u8 = 2;
    pub(super) const HUBER_LOG: u8 = 3;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn sums<const K: usize, const LOSS: u8, const W: bool>(
        plan: &Plan,
        pb: &Problem,
        p: &[f64],
        chain: &[f64],
        rows: Range<usize>,
        out: &mut [f64],
    ) {
        // canonical parameters [c, A.., e..] and the amplitudes' chain factors
        let c0 = _mm256_set1_pd(p[plan.order[0]]);
        let amp: [__m256d; K] = std::array::from_fn(|t| _mm256_set1_pd(p[plan.order[1 + t]]));
        // the rows accumulate the Jacobian [1, u_t, A_t u_t ln x_t] of the natural parameters
        // up to sign; each sum takes its columns' chain factors and signs once, at the end
        let scale: [f64; 7] = std::array::from_fn(|a| {
            if a < 1 + 2 * K {
                let sign = if a > K { -1.0 } else { 1.0 };
                sign * chain[plan.order[a]]
            } else {
                1.0
            }
        });
        let nexp: [__m256d; K] = std::array::from_fn(|t| _mm256_set1_pd(-p[plan.order[1 + K + t]]));
        let lx: [&[f64]; K] = std::array::from_fn(|t| &pb.cols.logx[plan.var[t]][rows.clone()]);
        let target = &pb.target[rows.clone()];
        let w = pb.weights.map(|w| &w[rows.clone()]);
        let m = rows.len();
        let zero = _mm256_setzero_pd();
        let half = _mm256_set1_pd(0.5);
        let one = _mm256_set1_pd(1.0);
        let delta = match pb.loss.rho {
            Rho::Huber { delta } => delta,
            _ => 0.0,
        };
        let huber = LOSS == HUBER || LOSS == HUBER_LOG;
        let log = LOSS == LOG || LOSS == HUBER_LOG;
        let vdelta = _mm256_set1_pd(delta);
        let blend = _mm256_set1_pd(HUBER_BLEND * delta);
        let mut acc_c = zero;
        let mut acc_rss = zero;
        let mut acc_rr = zero;
        // J over [c, A_t, e_t] is [1, u_t, -A_t u_t ln x_t] (natural parameters): P = 1 + 2K
        let mut acc_g = [zero; 7];
        let mut acc_h = [[zero; 7]; 7];
        let mut i = 0;
        while i < m {
            // full steps read straight from the columns; the last partial one pads
            let full = i + 4 <= m;
            let wi = if W {
                match w {
                    Some(w) if full => _mm256_loadu_pd(w.as_ptr().add(i)),
                    Some(w) => load(w, i, 0.0),
                    None => one,
                }
            } else if full {
                one
            } else {
                load(&[1.0; 4][..m - i], 0, 0.0)
            };
            let live = _mm256_cmp_pd(wi, zero, _CMP_NEQ_UQ);
            let mut f = c0;
            let mut j = [zero; 7];
            j[0] = one;
            for t in 0..K {
                let l = if full {
                    _mm256_loadu_pd(lx[t].as_ptr().add(i))
                } else {
                    load(lx[t], i, 0.0)
                };
                let u = exp4(_mm256_mul_pd(nexp[t], l));
                let au = _mm256_mul_pd(amp[t], u);
                f = _mm256_add_pd(f, au);
                j[1 + t] = u;
                j[1 + K + t] = _mm256_mul_pd(au, l);
            }
            let y = if full {
                _mm256_loadu_pd(target.as_ptr().add(i))
            } else {
                load(target, i, if log { 0.0 } else { 1.0 })
            };
            let (e, d) = if log {
                (_mm256_sub_pd(ln4(f), y), _mm256_div_pd(one, f))
            } else {
                (_mm256_sub_pd(f, y), one)
            };
            let e2 = _mm256_mul_pd(e, e);
            let (gw, hw) = if huber {
                let ae = _mm256_andnot_pd(_mm256_set1_pd(-0.0), e);
                let inside = _mm256_cmp_pd(ae, vdelta, _CMP_LE_OQ);
                let rho = _mm256_blendv_pd(
                    _mm256_mul_pd(vdelta, _mm256_fnmadd_pd(half, vdelta, ae)),
                    _mm256_mul_pd(half, e2),
                    inside,
                );
                let sign = _mm256_and_pd(e, _mm256_set1_pd(-0.0));
                let psi = _mm256_blendv_pd(_mm256_or_pd(vdelta, sign), e, inside);
                let h = _mm256_blendv_pd(_mm256_div_pd(blend, ae), one, inside);
                acc_c = _mm256_add_pd(acc_c, _mm256_and_pd(live, _mm256_mul_pd(wi, rho)));
                acc_rss = _mm256_add_pd(acc_rss, _mm256_and_pd(live, _mm256_mul_pd(wi, e2)));
                let wh = _mm256_mul_pd(wi, h);
                acc_rr = _mm256_add_pd(acc_rr, _mm256_and_pd(live, _mm256_mul_pd(wh, e2)));
                (
                    _mm256_mul_pd(_mm256_mul_pd(wi, psi), d),
                    _mm256_mul_pd(wh, _mm256_mul_pd(d, d)),
                )
            } else {
                let we = _mm256_mul_pd(wi, e);
                let c = _mm256_mul_pd(_mm256_mul_pd(half, we), e);
                acc_c = _mm256_add_pd(acc_c, _mm256_and_pd(live, c));
                (_mm256_mul_pd(we, d), _mm256_mul_pd(wi, _mm256_mul_pd(d, d)))
            };
            // a row of zero weight (a bootstrap's unsampled row, the padding of a last partial
            // step) contributes nothing, even where the law is not finite
            let (gw, hw) = (_mm256_and_pd(live, gw), _mm256_and_pd(live, hw));
            for a in 0..1 + 2 * K {
                acc_g[a] = _mm256_fmadd_pd(gw, j[a], acc_g[a]);
                let wa = _mm256_mul_pd(hw, j[a]);
                for b in 0..=a {
                    acc_h[a][b] = _mm256_fmadd_pd(wa, j[b], acc_h[a][b]);
                }
            }
            i += 4;
        }
        let sum = |v: __m256d| {
            let mut l = [0.0f64; 4];
            _mm256_storeu_pd(l.as_mut_ptr(), v);
            (l[0] + l[2]) + (l[1] + l[3])
        };
        let pf = 1 + 2 * K;
        let cost = sum(acc_c);
        out[0] = if cost.is_nan() { f64::INFINITY } else { cost };
        out[1] = sum(acc_rss);
        out[2] = sum(acc_rr);
        // canonical order -> the law's parameter order
        let pos = &plan.order[..pf];
        for a in 0..pf {
            out[3 + pos[a]] = sum(acc_g[a]) * scale[a];
            for b in 0..=a {
                let (x, y) = (pos[a].max(pos[b]), pos[a].min(pos[b]));
                out[3 + pf + tri(x, y)] = sum(acc_h[a][b]) * (scale[a] * scale[b]);
            }
        }
    }
}
