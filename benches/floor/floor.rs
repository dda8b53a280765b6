//! The compiled floor: the Chinchilla law's case-bootstrap refits by the same Levenberg-
//! Marquardt as powerfit's core (log amplitudes, Moré scaling, Nielsen damping, the same
//! stopping tests and replicate streams, each replicate fitted on the rows it drew with their
//! counts as weights), written as one fused, allocation-free loop per pass
//! over the points (value, Jacobian, J^T W J and gradient in one sweep, four points per
//! vector), with nothing generic: no law trait, no blocks, no loss dispatch. It has no
//! dependencies; `benches/sections/solver.py` builds it with
//! `rustc -O -C target-cpu=native` and runs it in the same session as powerfit, so the ratio to
//! the floor is measured, not quoted.
//!
//! Usage: floor <chinchilla csv> <replicates> <threads> <repeats> [l2 | huber_log]
//! Prints one JSON object: best and median wall time per bootstrap for l2 and huber_log, mean
//! iterations, and the full-data estimates.

use std::time::Instant;

const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// e^x by the same branch-free polynomial as powerfit's fastmath (vectorises in a loop).
#[inline(always)]
fn exp(x: f64) -> f64 {
    let xc = x.clamp(-708.0, 709.0);
    let t = xc.mul_add(LOG2E, SHIFTER);
    let k = t - SHIFTER;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, xc));
    let mut p: f64 = 2.511_003_760_596_377_7e-8;
    p = p.mul_add(r, 2.763_263_963_904_103e-7);
    p = p.mul_add(r, 2.755_724_091_857_897e-6);
    p = p.mul_add(r, 2.480_148_548_232_849_4e-5);
    p = p.mul_add(r, 1.984_126_989_004_711_3e-4);
    p = p.mul_add(r, 1.388_888_895_231_477_5e-3);
    p = p.mul_add(r, 8.333_333_333_319_601e-3);
    p = p.mul_add(r, 4.166_666_666_648_81e-2);
    p = p.mul_add(r, 0.166_666_666_666_666_8);
    p = p.mul_add(r, 0.500_000_000_000_001_9);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    let ki = (t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    p * f64::from_bits(((ki + 1023) as u64) << 52)
}

/// ln x for positive normal x, the same atanh series as powerfit's fastmath.
#[inline(always)]
fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let ebits = (bits >> 52) & 0x7ff;
    let mut k = f64::from_bits(ebits | 0x4330_0000_0000_0000) - 4_503_599_627_370_496.0 - 1023.0;
    let big = m > std::f64::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    k = if big { k + 1.0 } else { k };
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let mut q: f64 = 1.0 / 25.0;
    for c in [23.0, 21.0, 19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        q = q.mul_add(z, 1.0 / c);
    }
    let lnm = (2.0 * s * z).mul_add(q, 2.0 * s);
    k.mul_add(LN2_HI, k.mul_add(LN2_LO, lnm))
}

/// powerfit's replicate streams: xoshiro256++ seeded by SplitMix64 from (seed, index).
struct Rng([u64; 4]);

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn stream(seed: u64, index: u64) -> Rng {
        let mut sm = seed ^ 0x6a09_e667_f3bc_c909;
        let base = splitmix(&mut sm);
        let mut st = base ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let mut s = [0u64; 4];
        for v in s.iter_mut() {
            *v = splitmix(&mut st);
        }
        Rng(s)
    }
    fn below(&mut self, n: usize) -> usize {
        let s = &mut self.0;
        let r = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        ((r as u128 * n as u128) >> 64) as usize
    }
}

/// The data: log N, log D, y, log y.
#[derive(Default)]
struct Data {
    ln_n: Vec<f64>,
    ln_d: Vec<f64>,
    y: Vec<f64>,
    ln_y: Vec<f64>,
}

#[derive(Clone, Copy, PartialEq)]
enum Loss {
    L2,
    HuberLog(f64),
}

/// Sums of one pass: cost, sum w e^2 (Huber), |r|^2 (Huber), gradient (5), J^T J (15 packed).
type Sums = [f64; 23];

/// One point's contribution to lane `l` of the accumulators (weight scaled by `on`).
#[inline(always)]
fn point<const HUBER: bool>(
    d: &Data,
    w: &[f64],
    i: usize,
    l: usize,
    on: f64,
    th: (f64, f64, f64, f64, f64),
    delta: f64,
    acc: &mut [[f64; 4]; 23],
) {
    let (e0, a, b, al, be) = th;
    let wi = w[i] * on;
    let (lnn, lnd) = (d.ln_n[i], d.ln_d[i]);
    let au = a * exp(-al * lnn);
    let bv = b * exp(-be * lnd);
    let f = e0 + au + bv;
    let j = [1.0, au, bv, -au * lnn, -bv * lnd];
    let (cost, rss, rr, gw, hw);
    if HUBER {
        let e = ln(f) - d.ln_y[i];
        let inv = 1.0 / f;
        let ae = e.abs();
        let inside = ae <= delta;
        let rho = if inside { 0.5 * e * e } else { delta * (ae - 0.5 * delta) };
        let psi = if inside { e } else { delta.copysign(e) };
        let h = if inside { 1.0 } else { 0.01 * delta / ae };
        cost = wi * rho;
        rss = wi * e * e;
        rr = wi * h * e * e;
        gw = wi * psi * inv;
        hw = wi * h * inv * inv;
    } else {
        let e = f - d.y[i];
        cost = 0.5 * wi * e * e;
        rss = 0.0;
        rr = 0.0;
        gw = wi * e;
        hw = wi;
    }
    acc[0][l] += cost;
    acc[1][l] += rss;
    acc[2][l] += rr;
    let mut t = 8;
    for x in 0..5 {
        acc[3 + x][l] += gw * j[x];
        for y in 0..=x {
            acc[t][l] += hw * j[x] * j[y];
            t += 1;
        }
    }
}

/// One fused pass at internal parameters th = [E, ln A, ln B, alpha, beta]: four points per
/// step, one accumulator lane each (the loss is a compile-time choice, so every lane runs the
/// same branch-free arithmetic and the compiler keeps the four lanes in one vector).
#[inline(always)]
fn pass<const HUBER: bool>(d: &Data, w: &[f64], th: &[f64; 5], delta: f64) -> Sums {
    let t = (th[0], th[1].exp(), th[2].exp(), th[3], th[4]);
    let n = d.y.len();
    let mut acc = [[0.0f64; 4]; 23];
    let full = n / 4 * 4;
    for i in (0..full).step_by(4) {
        for l in 0..4 {
            point::<HUBER>(d, w, i + l, l, 1.0, t, delta, &mut acc);
        }
    }
    if full < n {
        // the last partial step: missing lanes repeat the last point with weight 0
        for l in 0..4 {
            let on = if full + l < n { 1.0 } else { 0.0 };
            point::<HUBER>(d, w, (full + l).min(n - 1), l, on, t, delta, &mut acc);
        }
    }
    let mut out = [0.0; 23];
    for (o, a) in out.iter_mut().zip(&acc) {
        *o = (a[0] + a[2]) + (a[1] + a[3]);
    }
    out
}

/// The pass for `loss`: AVX2+FMA intrinsics where the CPU has them, else the portable loop.
fn pass_for(d: &Data, w: &[f64], th: &[f64; 5], loss: Loss) -> Sums {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: the CPU has AVX2 and FMA; the data are padded to a multiple of 4 points.
        return unsafe {
            match loss {
                Loss::L2 => simd::pass::<false>(d, w, th, 0.0),
                Loss::HuberLog(delta) => simd::pass::<true>(d, w, th, delta),
            }
        };
    }
    match loss {
        Loss::L2 => pass::<false>(d, w, th, 0.0),
        Loss::HuberLog(delta) => pass::<true>(d, w, th, delta),
    }
}

/// The fused pass in AVX2+FMA intrinsics: four points per vector, exp and ln as above.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::*;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn exp4(x: __m256d) -> __m256d {
        let xc = _mm256_min_pd(_mm256_max_pd(x, _mm256_set1_pd(-708.0)), _mm256_set1_pd(709.0));
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
        let mut p = _mm256_set1_pd(c[0]);
        for &ci in &c[1..] {
            p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(ci));
        }
        let ki = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(sh));
        let scale = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
        _mm256_mul_pd(p, _mm256_castsi256_pd(scale))
    }

    #[inline(always)]
    unsafe fn ln4(x: __m256d) -> __m256d {
        let bits = _mm256_castpd_si256(x);
        let mant = _mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
            _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
        );
        let mut m = _mm256_castsi256_pd(mant);
        let ebits = _mm256_srli_epi64(bits, 52);
        let kf = _mm256_castsi256_pd(_mm256_or_si256(ebits, _mm256_set1_epi64x(0x4330_0000_0000_0000)));
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
        _mm256_fmadd_pd(
            k,
            _mm256_set1_pd(LN2_HI),
            _mm256_fmadd_pd(k, _mm256_set1_pd(LN2_LO), lnm),
        )
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn pass<const HUBER: bool>(d: &Data, w: &[f64], th: &[f64; 5], delta: f64) -> Sums {
        let (e0, a, b) = (_mm256_set1_pd(th[0]), _mm256_set1_pd(th[1].exp()), _mm256_set1_pd(th[2].exp()));
        let (nal, nbe) = (_mm256_set1_pd(-th[3]), _mm256_set1_pd(-th[4]));
        let zero = _mm256_setzero_pd();
        let half = _mm256_set1_pd(0.5);
        let vdelta = _mm256_set1_pd(delta);
        let mut acc = [zero; 23];
        let n = d.ln_n.len();
        let mut i = 0;
        while i < n {
            let lnn = _mm256_loadu_pd(d.ln_n.as_ptr().add(i));
            let lnd = _mm256_loadu_pd(d.ln_d.as_ptr().add(i));
            let wi = _mm256_loadu_pd(w.as_ptr().add(i));
            let au = _mm256_mul_pd(a, exp4(_mm256_mul_pd(nal, lnn)));
            let bv = _mm256_mul_pd(b, exp4(_mm256_mul_pd(nbe, lnd)));
            let f = _mm256_add_pd(_mm256_add_pd(e0, au), bv);
            let j = [
                _mm256_set1_pd(1.0),
                au,
                bv,
                _mm256_sub_pd(zero, _mm256_mul_pd(au, lnn)),
                _mm256_sub_pd(zero, _mm256_mul_pd(bv, lnd)),
            ];
            let (gw, hw);
            if HUBER {
                let e = _mm256_sub_pd(ln4(f), _mm256_loadu_pd(d.ln_y.as_ptr().add(i)));
                let inv = _mm256_div_pd(_mm256_set1_pd(1.0), f);
                let ae = _mm256_andnot_pd(_mm256_set1_pd(-0.0), e);
                let inside = _mm256_cmp_pd(ae, vdelta, _CMP_LE_OQ);
                let e2 = _mm256_mul_pd(e, e);
                let rho = _mm256_blendv_pd(
                    _mm256_mul_pd(vdelta, _mm256_fnmadd_pd(half, vdelta, ae)),
                    _mm256_mul_pd(half, e2),
                    inside,
                );
                let sign = _mm256_and_pd(e, _mm256_set1_pd(-0.0));
                let psi = _mm256_blendv_pd(_mm256_or_pd(vdelta, sign), e, inside);
                let h = _mm256_blendv_pd(
                    _mm256_div_pd(_mm256_mul_pd(_mm256_set1_pd(0.01), vdelta), ae),
                    _mm256_set1_pd(1.0),
                    inside,
                );
                acc[0] = _mm256_fmadd_pd(wi, rho, acc[0]);
                acc[1] = _mm256_fmadd_pd(wi, e2, acc[1]);
                let wh = _mm256_mul_pd(wi, h);
                acc[2] = _mm256_fmadd_pd(wh, e2, acc[2]);
                gw = _mm256_mul_pd(_mm256_mul_pd(wi, psi), inv);
                hw = _mm256_mul_pd(wh, _mm256_mul_pd(inv, inv));
            } else {
                let e = _mm256_sub_pd(f, _mm256_loadu_pd(d.y.as_ptr().add(i)));
                let we = _mm256_mul_pd(wi, e);
                acc[0] = _mm256_fmadd_pd(_mm256_mul_pd(half, we), e, acc[0]);
                gw = we;
                hw = wi;
            }
            let mut t = 8;
            for x in 0..5 {
                acc[3 + x] = _mm256_fmadd_pd(gw, j[x], acc[3 + x]);
                let hx = _mm256_mul_pd(hw, j[x]);
                for y in 0..=x {
                    acc[t] = _mm256_fmadd_pd(hx, j[y], acc[t]);
                    t += 1;
                }
            }
            i += 4;
        }
        let mut out = [0.0; 23];
        for (o, a) in out.iter_mut().zip(&acc) {
            let mut l = [0.0f64; 4];
            _mm256_storeu_pd(l.as_mut_ptr(), *a);
            *o = (l[0] + l[2]) + (l[1] + l[3]);
        }
        out
    }
}

fn cholesky_solve(a: &mut [f64; 25], b: &mut [f64; 5]) -> bool {
    for j in 0..5 {
        let mut s = a[j * 5 + j];
        for k in 0..j {
            s -= a[j * 5 + k] * a[j * 5 + k];
        }
        if !(s > 0.0) {
            return false;
        }
        let s = s.sqrt();
        a[j * 5 + j] = s;
        for i in j + 1..5 {
            let mut t = a[i * 5 + j];
            for k in 0..j {
                t -= a[i * 5 + k] * a[j * 5 + k];
            }
            a[i * 5 + j] = t / s;
        }
    }
    for i in 0..5 {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * 5 + k] * b[k];
        }
        b[i] = s / a[i * 5 + i];
    }
    for i in (0..5).rev() {
        let mut s = b[i];
        for k in i + 1..5 {
            s -= a[k * 5 + i] * b[k];
        }
        b[i] = s / a[i * 5 + i];
    }
    true
}

/// Levenberg-Marquardt with powerfit's defaults (ftol = xtol = gtol = 1e-10, 200
/// iterations); returns (internal parameters, iterations, converged).
fn lm(d: &Data, w: &[f64], start: &[f64; 5], loss: Loss) -> ([f64; 5], usize, bool) {
    let (ftol, xtol, gtol) = (1e-10, 1e-10, 1e-10);
    let mut th = *start;
    let mut s = pass_for(d, w, &th, loss);
    let robust = loss != Loss::L2;
    let tscale: f64 = match loss {
        Loss::L2 => (0..d.y.len()).map(|i| w[i] * d.y[i] * d.y[i]).sum(),
        _ => (0..d.y.len())
            .map(|i| w[i] * d.ln_y[i].abs().max(1.0).powi(2))
            .sum(),
    };
    let (mut lambda, mut nu) = (0.0f64, 2.0f64);
    let mut diag = [0.0f64; 5];
    let mag = [f64::NAN, 1.0, 1.0, f64::NAN, f64::NAN];
    for it in 0..=200 {
        let cost = s[0];
        let rss = if robust { s[1] } else { 2.0 * cost };
        if rss <= 1e-30 * tscale {
            return (th, it, true);
        }
        let rnorm = if robust { s[2] } else { rss }.sqrt();
        let mut h = [0.0f64; 25];
        let mut t = 8;
        for x in 0..5 {
            for y in 0..=x {
                h[x * 5 + y] = s[t];
                h[y * 5 + x] = s[t];
                t += 1;
            }
        }
        let g: [f64; 5] = std::array::from_fn(|x| s[3 + x]);
        let mut gmax: f64 = 0.0;
        for x in 0..5 {
            let hn = h[x * 5 + x].sqrt();
            gmax = gmax.max(g[x].abs() / (hn * rnorm));
            diag[x] = diag[x].max(hn);
        }
        if gmax <= gtol {
            return (th, it, true);
        }
        if it == 200 {
            return (th, it, false);
        }
        if lambda == 0.0 {
            lambda = 1e-6;
        }
        loop {
            let mut a = h;
            let mut step = [0.0f64; 5];
            for x in 0..5 {
                a[x * 5 + x] += lambda * diag[x] * diag[x];
                step[x] = -g[x];
            }
            let ok = cholesky_solve(&mut a, &mut step);
            let mut pred = 0.0;
            if ok {
                let mut quad = 0.0;
                for x in 0..5 {
                    let hs: f64 = (0..5).map(|y| h[x * 5 + y] * step[y]).sum();
                    quad += step[x] * hs;
                    pred -= g[x] * step[x];
                }
                pred -= 0.5 * quad;
            }
            if !ok || !(pred > 0.0) {
                lambda *= nu;
                nu *= 2.0;
                if lambda > 1e30 {
                    return (th, it, true);
                }
                continue;
            }
            let tt: [f64; 5] = std::array::from_fn(|x| th[x] + step[x]);
            let st = pass_for(d, w, &tt, loss);
            let actual = cost - st[0];
            let rho = actual / pred;
            let (mut sn, mut xn) = (0.0, 0.0);
            for x in 0..5 {
                let m = if mag[x].is_nan() { th[x].abs() } else { mag[x] };
                sn += (diag[x] * step[x]).powi(2);
                xn += (diag[x] * m).powi(2);
            }
            let (sn, xn) = (f64::sqrt(sn), f64::sqrt(xn));
            if st[0].is_finite() && rho > 1e-4 {
                th = tt;
                s = st;
                lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(0.1);
                nu = 2.0;
                if actual <= ftol * cost && pred <= ftol * cost && rho <= 2.0 {
                    return (th, it + 1, true);
                }
                if sn <= xtol * xn {
                    return (th, it + 1, true);
                }
                break;
            }
            if sn <= xtol * xn || pred <= 4.0 * f64::EPSILON * cost {
                return (th, it + 1, true);
            }
            lambda *= nu;
            nu *= 2.0;
            if lambda > 1e30 {
                return (th, it + 1, true);
            }
        }
    }
    (th, 200, false)
}

/// The rows of nonzero weight `w` of `d` into `out` with their weights in `ow`, padded to a
/// multiple of 4 points with weight-0 copies of the last (buffers reused: no allocation once
/// they have grown).
fn gather(d: &Data, w: &[f64], out: &mut Data, ow: &mut Vec<f64>) {
    out.ln_n.clear();
    out.ln_d.clear();
    out.y.clear();
    out.ln_y.clear();
    ow.clear();
    for (i, &wi) in w.iter().enumerate() {
        if wi != 0.0 {
            out.ln_n.push(d.ln_n[i]);
            out.ln_d.push(d.ln_d[i]);
            out.y.push(d.y[i]);
            out.ln_y.push(d.ln_y[i]);
            ow.push(wi);
        }
    }
    while out.y.len() % 4 != 0 {
        let k = out.y.len() - 1;
        out.ln_n.push(out.ln_n[k]);
        out.ln_d.push(out.ln_d[k]);
        out.y.push(out.y[k]);
        out.ln_y.push(out.ln_y[k]);
        ow.push(0.0);
    }
}

/// `reps` case-resample refits from `est` on `threads` threads, each on the rows it drew
/// (counts as weights); (seconds, total iterations).
fn bootstrap(
    d: &Data,
    n: usize,
    est: &[f64; 5],
    loss: Loss,
    reps: usize,
    threads: usize,
) -> (f64, usize) {
    let t0 = Instant::now();
    let iters: usize = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                sc.spawn(move || {
                    let mut w = vec![0.0; d.y.len()];
                    let mut drawn = Data::default();
                    let mut dw = Vec::with_capacity(d.y.len());
                    let mut it = 0;
                    for i in (t..reps).step_by(threads) {
                        w.fill(0.0);
                        let mut rng = Rng::stream(0, i as u64);
                        for _ in 0..n {
                            w[rng.below(n)] += 1.0;
                        }
                        gather(d, &w, &mut drawn, &mut dw);
                        it += lm(&drawn, &dw, est, loss).1;
                    }
                    it
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("a worker")).sum()
    });
    (t0.elapsed().as_secs_f64(), iters)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: floor <csv> <replicates> <threads> <repeats>");
    let reps: usize = args.get(2).map_or(4000, |v| v.parse().expect("replicates"));
    let threads: usize = args.get(3).map_or(2, |v| v.parse().expect("threads"));
    let repeats: usize = args.get(4).map_or(5, |v| v.parse().expect("repeats"));
    let only = args.get(5).cloned().unwrap_or_default();
    let text = std::fs::read_to_string(path).expect("the chinchilla csv");
    let mut d = Data {
        ln_n: vec![],
        ln_d: vec![],
        y: vec![],
        ln_y: vec![],
    };
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[4].trim() == "True" {
            continue;
        }
        let v = |k: usize| f[k].parse::<f64>().expect("a number");
        d.ln_n.push(v(0).ln());
        d.ln_d.push(v(1).ln());
        d.y.push(v(3));
        d.ln_y.push(v(3).ln());
    }
    // pad to a multiple of 4 points with copies of the last one; their weights are 0
    let n = d.y.len();
    while d.y.len() % 4 != 0 {
        d.ln_n.push(d.ln_n[n - 1]);
        d.ln_d.push(d.ln_d[n - 1]);
        d.y.push(d.y[n - 1]);
        d.ln_y.push(d.ln_y[n - 1]);
    }
    let mut ones = vec![1.0; d.y.len()];
    ones[n..].fill(0.0);
    let p0 = [2.0, 400f64.ln(), 400f64.ln(), 0.3, 0.3];
    let mut out = Vec::new();
    for (name, loss) in [("l2", Loss::L2), ("huber_log", Loss::HuberLog(1e-3))] {
        if !only.is_empty() && only != name {
            continue;
        }
        let (est, _, ok) = lm(&d, &ones, &p0, loss);
        assert!(ok, "the full-data fit converged");
        let mut times = Vec::new();
        let mut iters = 0;
        for _ in 0..repeats {
            let (t, it) = bootstrap(&d, n, &est, loss, reps, threads);
            times.push(t);
            iters = it;
        }
        times.sort_by(f64::total_cmp);
        out.push(format!(
            "\"{name}\": {{\"best\": {:.6e}, \"median\": {:.6e}, \"mean_iter\": {:.4}, \
             \"estimate\": [{}, {}, {}, {}, {}]}}",
            times[0],
            times[times.len() / 2],
            iters as f64 / reps as f64,
            est[0],
            est[1].exp(),
            est[2].exp(),
            est[3],
            est[4]
        ));
    }
    println!(
        "{{\"replicates\": {reps}, \"threads\": {threads}, {}}}",
        out.join(", ")
    );
}
