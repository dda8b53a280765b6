//! Branch-free exp and ln that LLVM vectorises over slices (libm's scalar calls cannot be),
//! and the per-point kernels built on them. On x86-64 with AVX2 and FMA the kernels run a
//! copy compiled for those features (4 lanes, fused multiply-add), chosen once at run time;
//! elsewhere the portable copy. Both are within ~1 ulp of libm (tested).
#![allow(unsafe_code)]

const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
// 1.5 * 2^52: adding it rounds to the nearest integer, whose bits land in the low mantissa.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// e^x. Overflows to +inf above 709.78, flushes to 0 below -708.39, keeps NaN.
#[inline(always)]
pub fn exp_impl<const FMA: bool>(x: f64) -> f64 {
    let xc = x.clamp(-708.0, 709.0);
    let t = madd::<FMA>(xc, LOG2E, SHIFTER);
    let k = t - SHIFTER;
    let r = madd::<FMA>(-k, LN2_LO, madd::<FMA>(-k, LN2_HI, xc));
    // degree-11 Chebyshev interpolant of e^r on |r| <= ln2/2 (0.63 ulp before rounding)
    let mut p = 2.511_003_760_596_377_7e-8;
    p = madd::<FMA>(p, r, 2.763_263_963_904_103e-7);
    p = madd::<FMA>(p, r, 2.755_724_091_857_897e-6);
    p = madd::<FMA>(p, r, 2.480_148_548_232_849_4e-5);
    p = madd::<FMA>(p, r, 1.984_126_989_004_711_3e-4);
    p = madd::<FMA>(p, r, 1.388_888_895_231_477_5e-3);
    p = madd::<FMA>(p, r, 8.333_333_333_319_601e-3);
    p = madd::<FMA>(p, r, 4.166_666_666_648_81e-2);
    p = madd::<FMA>(p, r, 0.166_666_666_666_666_8);
    p = madd::<FMA>(p, r, 0.500_000_000_000_001_9);
    p = madd::<FMA>(p, r, 1.0);
    p = madd::<FMA>(p, r, 1.0);
    let ki = (t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let scale = f64::from_bits(((ki + 1023) as u64) << 52);
    let v = p * scale;
    let v = if x > 709.782_712_893_384 {
        f64::INFINITY
    } else {
        v
    };
    let v = if x < -708.396_418_532_264_1 { 0.0 } else { v };
    if x.is_nan() {
        x
    } else {
        v
    }
}

/// ln x: x = 2^k m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m-1)/(m+1).
/// ln 0 = -inf, ln of a negative number or NaN is NaN, ln inf = inf.
#[inline(always)]
pub fn ln_impl<const FMA: bool>(x: f64) -> f64 {
    // scale subnormals into the normal range
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * 4_503_599_627_370_496.0 } else { x };
    let bits = xs.to_bits();
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // exponent as a float without an int->float conversion: OR it into 2^52's mantissa
    let ebits = (bits >> 52) & 0x7ff;
    let mut k = f64::from_bits(ebits | 0x4330_0000_0000_0000) - 4_503_599_627_370_496.0 - 1023.0;
    if sub {
        k -= 52.0;
    }
    let big = m > std::f64::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    k = if big { k + 1.0 } else { k };
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    // 2 atanh(s) = 2 s (1 + z/3 + z^2/5 + ...), |s| <= 0.1716, z <= 0.02944
    let mut q = 1.0 / 25.0;
    q = madd::<FMA>(q, z, 1.0 / 23.0);
    q = madd::<FMA>(q, z, 1.0 / 21.0);
    q = madd::<FMA>(q, z, 1.0 / 19.0);
    q = madd::<FMA>(q, z, 1.0 / 17.0);
    q = madd::<FMA>(q, z, 1.0 / 15.0);
    q = madd::<FMA>(q, z, 1.0 / 13.0);
    q = madd::<FMA>(q, z, 1.0 / 11.0);
    q = madd::<FMA>(q, z, 1.0 / 9.0);
    q = madd::<FMA>(q, z, 1.0 / 7.0);
    q = madd::<FMA>(q, z, 1.0 / 5.0);
    q = madd::<FMA>(q, z, 1.0 / 3.0);
    // ln m = 2s + 2s z q', split so the leading 2s is exact
    let lnm = madd::<FMA>(2.0 * s * z, q, 2.0 * s);
    let v = madd::<FMA>(k, LN2_HI, madd::<FMA>(k, LN2_LO, lnm));
    let v = if x == 0.0 { f64::NEG_INFINITY } else { v };
    let v = if x == f64::INFINITY { x } else { v };
    if x < 0.0 || x.is_nan() {
        f64::NAN
    } else {
        v
    }
}

/// Portable e^x (for scalar use outside the kernels).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    exp_impl::<false>(x)
}

/// Portable ln x.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    ln_impl::<false>(x)
}

/// Whether the AVX2+FMA kernels are used (decided once; `POWERFIT_NO_SIMD=1` disables them).
pub fn simd_enabled() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let on = detect() && std::env::var_os("POWERFIT_NO_SIMD").is_none();
            STATE.store(if on { 1 } else { 2 }, Ordering::Relaxed);
            on
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn detect() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> bool {
    false
}

/// Defines a kernel from a generic body: a portable copy, an AVX2+FMA copy, and a dispatcher.
macro_rules! kernel {
    ($(#[$doc:meta])* $name:ident, $avx:ident, $body:ident, ($($arg:ident : $ty:ty),*)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx($($arg: $ty),*) {
            $body::<true>($($arg),*)
        }

        $(#[$doc])*
        #[inline]
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if simd_enabled() {
                // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
                return unsafe { $avx($($arg),*) };
            }
            $body::<false>($($arg),*)
        }
    };
}

#[inline(always)]
fn pow_neg_body<const FMA: bool>(logx: &[f64], e: f64, out: &mut [f64]) {
    for (o, &l) in out.iter_mut().zip(logx) {
        *o = exp_impl::<FMA>(-e * l);
    }
}

#[inline(always)]
fn pow_neg_scaled_body<const FMA: bool>(logx: &[f64], e: f64, scale: &[f64], out: &mut [f64]) {
    for ((o, &l), &s) in out.iter_mut().zip(logx).zip(scale) {
        *o = exp_impl::<FMA>(-e * l) * s;
    }
}

#[inline(always)]
fn add_term_body<const FMA: bool>(logx: &[f64], a: f64, e: f64, out: &mut [f64]) {
    for (o, &l) in out.iter_mut().zip(logx) {
        *o = madd::<FMA>(a, exp_impl::<FMA>(-e * l), *o);
    }
}

#[inline(always)]
fn add_term_jac_body<const FMA: bool>(
    logx: &[f64],
    a: f64,
    e: f64,
    out: &mut [f64],
    da: &mut [f64],
    de: &mut [f64],
) {
    for (((o, &l), ja), je) in out.iter_mut().zip(logx).zip(da).zip(de) {
        let u = exp_impl::<FMA>(-e * l);
        *o = madd::<FMA>(a, u, *o);
        *ja = u;
        *je = -a * u * l;
    }
}

#[inline(always)]
fn ln_slice_body<const FMA: bool>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = ln_impl::<FMA>(v);
    }
}

#[inline(always)]
fn exp_slice_body<const FMA: bool>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_impl::<FMA>(v);
    }
}

kernel!(
    /// out[i] = x_i^-e = exp(-e log x_i).
    pow_neg, pow_neg_avx2, pow_neg_body, (logx: &[f64], e: f64, out: &mut [f64]));
kernel!(
    /// out[i] = scale[i] x_i^-e (one pass: the product is the same as scaling `pow_neg`'s).
    pow_neg_scaled, pow_neg_scaled_avx2, pow_neg_scaled_body,
    (logx: &[f64], e: f64, scale: &[f64], out: &mut [f64]));
kernel!(
    /// out[i] += a x_i^-e.
    add_term, add_term_avx2, add_term_body, (logx: &[f64], a: f64, e: f64, out: &mut [f64]));
kernel!(
    /// out[i] += a x_i^-e, with d/da and d/de of the term.
    add_term_jac, add_term_jac_avx2, add_term_jac_body,
    (logx: &[f64], a: f64, e: f64, out: &mut [f64], da: &mut [f64], de: &mut [f64]));
kernel!(
    /// out[i] = ln x[i].
    ln_slice, ln_slice_avx2, ln_slice_body, (x: &[f64], out: &mut [f64]));
kernel!(
    /// out[i] = exp x[i].
    exp_slice, exp_slice_avx2, exp_slice_body, (x: &[f64], out: &mut [f64]));

#[inline(always)]
fn dot_body<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] = madd::<FMA>(x[l], y[l], acc[l]);
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s = madd::<FMA>(*x, *y, s);
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    // SAFETY: every load reads 4 in-bounds elements (i + 4 <= n).
    let mut s = unsafe {
        let mut acc0 = _mm256_setzero_pd();
        let mut acc1 = _mm256_setzero_pd();
        while i + 8 <= n {
            acc0 = _mm256_fmadd_pd(
                _mm256_loadu_pd(a.as_ptr().add(i)),
                _mm256_loadu_pd(b.as_ptr().add(i)),
                acc0,
            );
            acc1 = _mm256_fmadd_pd(
                _mm256_loadu_pd(a.as_ptr().add(i + 4)),
                _mm256_loadu_pd(b.as_ptr().add(i + 4)),
                acc1,
            );
            i += 8;
        }
        let acc = _mm256_add_pd(acc0, acc1);
        let mut lanes = [0.0f64; 4];
        _mm256_storeu_pd(lanes.as_mut_ptr(), acc);
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
    };
    while i < n {
        s = a[i].mul_add(b[i], s);
        i += 1;
    }
    s
}

/// sum a_i b_i over the common length.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if simd_enabled() {
        // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
        return unsafe { dot_avx2(a, b) };
    }
    dot_body::<false>(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dots4_avx2(a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    use std::arch::x86_64::*;
    let n = b.iter().fold(a.len(), |n, c| n.min(c.len()));
    let mut out = [0.0f64; 4];
    let mut i = 0;
    // SAFETY: every load reads 4 in-bounds elements (i + 8 <= n for both halves).
    unsafe {
        let z = _mm256_setzero_pd();
        let (mut lo, mut hi) = ([z; 4], [z; 4]);
        while i + 8 <= n {
            let (x0, x1) = (
                _mm256_loadu_pd(a.as_ptr().add(i)),
                _mm256_loadu_pd(a.as_ptr().add(i + 4)),
            );
            for j in 0..4 {
                let p = b[j].as_ptr();
                lo[j] = _mm256_fmadd_pd(x0, _mm256_loadu_pd(p.add(i)), lo[j]);
                hi[j] = _mm256_fmadd_pd(x1, _mm256_loadu_pd(p.add(i + 4)), hi[j]);
            }
            i += 8;
        }
        for j in 0..4 {
            let mut lanes = [0.0f64; 4];
            _mm256_storeu_pd(lanes.as_mut_ptr(), _mm256_add_pd(lo[j], hi[j]));
            out[j] = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        for k in i..n {
            *o = a[k].mul_add(b[j][k], *o);
        }
    }
    out
}

/// `dot(a, b[j])` for four rows at once, bit for bit: `a` is read once for the four (the
/// cross tables of a grid start are many short dot products against the same row).
#[inline]
pub fn dots4(a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    if simd_enabled() {
        // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
        return unsafe { dots4_avx2(a, b) };
    }
    b.map(|c| dot_body::<false>(a, c))
}

/// `out[j] = dot(a, b[j])` for every row of `b`, four at a time (bit for bit `dot`'s).
pub fn dots(a: &[f64], b: &[&[f64]], out: &mut [f64]) {
    let whole = b.len() / 4 * 4;
    for (rows, o) in b[..whole].chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        o.copy_from_slice(&dots4(a, [rows[0], rows[1], rows[2], rows[3]]));
    }
    for (row, o) in b[whole..].iter().zip(&mut out[whole..]) {
        *o = dot(a, row);
    }
}

/// Most columns `normal_eq` takes in registers; more use `dot` per pair.
pub const NORMAL_EQ_MAX: usize = 8;

/// The normal equations of K Jacobian columns: for a >= b, `h[a (a + 1) / 2 + b]` =
/// sum_i hw_i c_a,i c_b,i (or sum_i c_a,i c_b,i when `hw` is empty), and `g[a]` =
/// sum_i gw_i c_a,i. One sweep over the rows with every sum in a register (the columns are
/// read once, not once per pair).
#[inline(always)]
fn normal_eq_body<const K: usize, const FMA: bool>(
    cols: &[&[f64]],
    hw: &[f64],
    gw: &[f64],
    h: &mut [f64],
    g: &mut [f64],
) {
    let n = gw.len();
    let c: [&[f64]; K] = std::array::from_fn(|a| &cols[a][..n]);
    let unit = hw.is_empty();
    const L: usize = 4;
    let mut acc_h = [[[0.0f64; L]; K]; K];
    let mut acc_g = [[0.0f64; L]; K];
    let full = n / L * L;
    let mut i = 0;
    while i < full {
        for l in 0..L {
            let r = i + l;
            let wr = if unit { 1.0 } else { hw[r] };
            for a in 0..K {
                let ca = c[a][r];
                acc_g[a][l] = madd::<FMA>(gw[r], ca, acc_g[a][l]);
                let wa = wr * ca;
                for b in 0..=a {
                    acc_h[a][b][l] = madd::<FMA>(wa, c[b][r], acc_h[a][b][l]);
                }
            }
        }
        i += L;
    }
    let sum = |v: &[f64; L]| (v[0] + v[2]) + (v[1] + v[3]);
    for a in 0..K {
        let mut ga = sum(&acc_g[a]);
        for r in full..n {
            ga = madd::<FMA>(gw[r], c[a][r], ga);
        }
        g[a] = ga;
        for b in 0..=a {
            let mut v = sum(&acc_h[a][b]);
            for r in full..n {
                let wr = if unit { 1.0 } else { hw[r] };
                v = madd::<FMA>(wr * c[a][r], c[b][r], v);
            }
            h[a * (a + 1) / 2 + b] = v;
        }
    }
}

/// The AVX2+FMA kernel: four rows per step, every sum in its own vector register.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn normal_eq_simd<const K: usize, const UNIT: bool>(
    cols: &[&[f64]],
    hw: &[f64],
    gw: &[f64],
    h: &mut [f64],
    g: &mut [f64],
) {
    use std::arch::x86_64::*;
    let n = gw.len();
    let c: [&[f64]; K] = std::array::from_fn(|a| &cols[a][..n]);
    let hw = if UNIT { hw } else { &hw[..n] };
    let full = n / 4 * 4;
    // SAFETY: every load reads 4 in-bounds elements (i + 4 <= full <= n, all slices have n).
    unsafe {
        let zero = _mm256_setzero_pd();
        let mut acc_h = [[zero; K]; K];
        let mut acc_g = [zero; K];
        let mut i = 0;
        while i < full {
            let gr = _mm256_loadu_pd(gw.as_ptr().add(i));
            let ca: [__m256d; K] = std::array::from_fn(|a| _mm256_loadu_pd(c[a].as_ptr().add(i)));
            let wr = if UNIT {
                zero
            } else {
                _mm256_loadu_pd(hw.as_ptr().add(i))
            };
            for a in 0..K {
                acc_g[a] = _mm256_fmadd_pd(gr, ca[a], acc_g[a]);
                let wa = if UNIT {
                    ca[a]
                } else {
                    _mm256_mul_pd(wr, ca[a])
                };
                for b in 0..=a {
                    acc_h[a][b] = _mm256_fmadd_pd(wa, ca[b], acc_h[a][b]);
                }
            }
            i += 4;
        }
        let sum = |v: __m256d| {
            let mut l = [0.0f64; 4];
            _mm256_storeu_pd(l.as_mut_ptr(), v);
            (l[0] + l[2]) + (l[1] + l[3])
        };
        for a in 0..K {
            let mut ga = sum(acc_g[a]);
            for r in full..n {
                ga = gw[r].mul_add(c[a][r], ga);
            }
            g[a] = ga;
            for b in 0..=a {
                let mut v = sum(acc_h[a][b]);
                for r in full..n {
                    let wa = if UNIT { c[a][r] } else { hw[r] * c[a][r] };
                    v = wa.mul_add(c[b][r], v);
                }
                h[a * (a + 1) / 2 + b] = v;
            }
        }
    }
}

macro_rules! normal_eq_k {
    ($($k:literal),*) => {
        #[cfg(target_arch = "x86_64")]
        fn normal_eq_avx2(cols: &[&[f64]], hw: &[f64], gw: &[f64], h: &mut [f64], g: &mut [f64]) {
            // SAFETY (each arm): the caller checked AVX2 and FMA (`simd_enabled`).
            match (cols.len(), hw.is_empty()) {
                $(($k, true) => unsafe { normal_eq_simd::<$k, true>(cols, hw, gw, h, g) },)*
                $(($k, false) => unsafe { normal_eq_simd::<$k, false>(cols, hw, gw, h, g) },)*
                _ => unreachable!(),
            }
        }

        fn normal_eq_portable(cols: &[&[f64]], hw: &[f64], gw: &[f64], h: &mut [f64], g: &mut [f64]) {
            match cols.len() {
                $($k => normal_eq_body::<$k, false>(cols, hw, gw, h, g),)*
                _ => unreachable!(),
            }
        }
    };
}
normal_eq_k!(1, 2, 3, 4, 5, 6, 7, 8);

/// J^T diag(hw) J (packed lower triangle into `h`) and J^T gw (into `g`) for the columns
/// `cols`, all of `gw`'s length; `hw` empty means unit weights. At most `NORMAL_EQ_MAX`
/// columns take the one-sweep kernel; more fall back to a dot product per pair.
pub fn normal_eq(cols: &[&[f64]], hw: &[f64], gw: &[f64], h: &mut [f64], g: &mut [f64]) {
    let k = cols.len();
    if k == 0 {
        return;
    }
    if k > NORMAL_EQ_MAX {
        let mut scaled = vec![0.0; gw.len()];
        for a in 0..k {
            g[a] = dot(cols[a], gw);
            if hw.is_empty() {
                scaled.copy_from_slice(&cols[a][..gw.len()]);
            } else {
                for ((s, &c), &w) in scaled.iter_mut().zip(cols[a]).zip(hw) {
                    *s = c * w;
                }
            }
            for b in 0..=a {
                h[a * (a + 1) / 2 + b] = dot(&scaled, cols[b]);
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if simd_enabled() {
        return normal_eq_avx2(cols, hw, gw, h, g);
    }
    normal_eq_portable(cols, hw, gw, h, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        ((a - b) / b).abs() / f64::EPSILON
    }

    fn grid(lo: f64, hi: f64, step: f64) -> Vec<f64> {
        let mut v = vec![];
        let mut x = lo;
        while x < hi {
            v.push(x);
            x += step;
        }
        v
    }

    #[test]
    fn exp_matches_libm_within_two_ulp() {
        let xs = grid(-707.0, 709.0, 0.000_731_3);
        let mut out = vec![0.0; xs.len()];
        exp_slice(&xs, &mut out);
        let mut worst: f64 = 0.0;
        for (&x, &o) in xs.iter().zip(&out) {
            worst = worst.max(ulps(o, x.exp())).max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn ln_matches_libm_within_two_ulp() {
        let mut xs = grid(-300.0, 300.0, 0.000_377)
            .iter()
            .map(|e| 10f64.powf(*e))
            .collect::<Vec<_>>();
        xs.extend(grid(0.5, 2.0, 1e-5));
        xs.push(5e-324);
        xs.push(1e-310);
        let mut out = vec![0.0; xs.len()];
        ln_slice(&xs, &mut out);
        let mut worst: f64 = 0.0;
        for (&x, &o) in xs.iter().zip(&out) {
            let want = x.ln();
            // near x = 1 the result is tiny: measure against max(|ln x|, eps)
            let err = (o - want).abs().max((ln(x) - want).abs()) / want.abs().max(1e-300);
            let err = if (x - 1.0).abs() < 1e-3 {
                (o - want).abs() / f64::EPSILON
            } else {
                err / f64::EPSILON
            };
            worst = worst.max(err);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1000.0), 0.0);
        assert_eq!(exp(1000.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        let mut o = [0.0; 3];
        ln_slice(&[0.0, -2.0, f64::INFINITY], &mut o);
        assert!(o[0] == f64::NEG_INFINITY && o[1].is_nan() && o[2] == f64::INFINITY);
    }

    #[test]
    fn normal_equations_match_dot_products() {
        for k in [1, 3, 5, 8, 9] {
            for n in [1, 7, 64, 203] {
                let cols: Vec<Vec<f64>> = (0..k)
                    .map(|a| {
                        (0..n)
                            .map(|i| ((i * 31 + a * 17) % 13) as f64 - 6.0)
                            .collect()
                    })
                    .collect();
                let hw: Vec<f64> = (0..n).map(|i| (i % 5) as f64 * 0.5).collect();
                let gw: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 3.0).collect();
                let refs: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
                for unit in [false, true] {
                    let w: &[f64] = if unit { &[] } else { &hw };
                    let mut h = vec![0.0; k * (k + 1) / 2];
                    let mut g = vec![0.0; k];
                    normal_eq(&refs, w, &gw, &mut h, &mut g);
                    for a in 0..k {
                        let want: f64 = (0..n).map(|i| gw[i] * cols[a][i]).sum();
                        assert!((g[a] - want).abs() <= 1e-9 * (1.0 + want.abs()));
                        for b in 0..=a {
                            let want: f64 = (0..n)
                                .map(|i| if unit { 1.0 } else { hw[i] } * cols[a][i] * cols[b][i])
                                .sum();
                            let got = h[a * (a + 1) / 2 + b];
                            assert!((got - want).abs() <= 1e-9 * (1.0 + want.abs()), "{k} {n}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn scaled_powers_are_the_scaled_product_bit_for_bit() {
        let logx: Vec<f64> = grid(-5.0, 30.0, 0.37);
        let scale: Vec<f64> = (0..logx.len())
            .map(|i| 0.25 + (i % 9) as f64 * 0.7)
            .collect();
        for e in [0.0, 0.03, 0.34, 1.7, -0.5] {
            let mut plain = vec![0.0; logx.len()];
            let mut scaled = vec![0.0; logx.len()];
            pow_neg(&logx, e, &mut plain);
            pow_neg_scaled(&logx, e, &scale, &mut scaled);
            for ((p, s), w) in plain.iter().zip(&scaled).zip(&scale) {
                assert_eq!((p * w).to_bits(), s.to_bits(), "e = {e}");
            }
        }
    }

    #[test]
    fn four_dots_are_four_dots_bit_for_bit() {
        for n in [0, 1, 7, 8, 9, 40, 63, 200] {
            let row = |s: usize| -> Vec<f64> {
                (0..n)
                    .map(|i| ((i * 37 + s * 11) % 17) as f64 / 7.0 - 1.1)
                    .collect()
            };
            let (a, b) = (row(0), [row(1), row(2), row(3), row(4)]);
            let got = dots4(&a, [&b[0], &b[1], &b[2], &b[3]]);
            for j in 0..4 {
                assert_eq!(
                    got[j].to_bits(),
                    dot(&a, &b[j]).to_bits(),
                    "n = {n}, row {j}"
                );
            }
            for m in 0..=4 {
                let rows: Vec<&[f64]> = b.iter().chain(&b).take(m + 3).map(|r| &r[..]).collect();
                let mut out = vec![f64::NAN; rows.len()];
                dots(&a, &rows, &mut out);
                for (o, r) in out.iter().zip(&rows) {
                    assert_eq!(o.to_bits(), dot(&a, r).to_bits(), "n = {n}, {m} rows");
                }
            }
        }
    }

    #[test]
    fn portable_and_simd_agree() {
        let xs = grid(-50.0, 50.0, 0.0137);
        let mut a = vec![0.0; xs.len()];
        exp_slice(&xs, &mut a);
        for (&x, &v) in xs.iter().zip(&a) {
            assert!(ulps(v, exp(x)) <= 2.0);
        }
    }
}
