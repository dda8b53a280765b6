//! Double-double arithmetic (an unevaluated sum hi + lo, about 32 significant digits), for
//! reporting a least-squares cost whose residuals are close to the rounding of the data.
//! Near a zero-residual fit, y - f(x) in double precision keeps only the last few bits of f, so
//! the reported sum of squares can be off in its first digit; evaluating f and the residuals in
//! double-double removes that error (NIST's Lanczos1 is the classic case).

use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dd {
    pub hi: f64,
    pub lo: f64,
}

/// a + b exactly, as (sum, error).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// a + b exactly when |a| >= |b|.
#[inline]
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// a * b exactly, as (product, error), by fused multiply-add.
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

const LN2: Dd = Dd {
    hi: std::f64::consts::LN_2,
    lo: 2.319_046_813_846_299_6e-17,
};

impl Dd {
    pub const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };
    pub const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    pub fn new(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }

    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }

    pub fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }

    pub fn abs(self) -> Dd {
        if self.hi < 0.0 {
            -self
        } else {
            self
        }
    }

    fn mul_pow2(self, k: i32) -> Dd {
        let f = 2f64.powi(k);
        Dd {
            hi: self.hi * f,
            lo: self.lo * f,
        }
    }

    /// Integer power by repeated squaring.
    pub fn powi(self, n: i32) -> Dd {
        let mut base = if n < 0 { Dd::ONE / self } else { self };
        let mut e = n.unsigned_abs();
        let mut acc = Dd::ONE;
        while e > 0 {
            if e & 1 == 1 {
                acc = acc * base;
            }
            base = base * base;
            e >>= 1;
        }
        acc
    }

    /// exp: x = k ln2 + r, then exp(r / 1024) by Taylor series and ten squarings.
    pub fn exp(self) -> Dd {
        if !(self.hi.abs() < 700.0) {
            return Dd::new(self.hi.exp());
        }
        let k = (self.hi / LN2.hi).round();
        let r = (self - LN2 * Dd::new(k)).mul_pow2(-10);
        // expm1(r) for |r| < 3.4e-4: the 9th term is below 1e-36
        let mut term = r;
        let mut s = r;
        for i in 2..=9 {
            term = term * r / Dd::new(i as f64);
            s = s + term;
        }
        // expm1(2r) = expm1(r) (expm1(r) + 2)
        for _ in 0..10 {
            s = s * (s + Dd::new(2.0));
        }
        (s + Dd::ONE).mul_pow2(k as i32)
    }

    /// ln by one Newton step on exp from the double-precision logarithm (which doubles the
    /// number of correct digits).
    pub fn ln(self) -> Dd {
        if !(self.hi > 0.0) || !self.hi.is_finite() {
            return Dd::new(self.hi.ln());
        }
        let y = Dd::new(self.hi.ln());
        y + self * (-y).exp() - Dd::ONE
    }

    /// sqrt by one Newton step from the double-precision root.
    pub fn sqrt(self) -> Dd {
        if !(self.hi > 0.0) || !self.hi.is_finite() {
            return Dd::new(self.hi.sqrt());
        }
        let s = self.hi.sqrt();
        let (p, e) = two_prod(s, s);
        let resid = (self - Dd { hi: p, lo: e }).to_f64();
        let (hi, lo) = quick_two_sum(s, resid / (2.0 * s));
        Dd { hi, lo }
    }
}

impl Add for Dd {
    type Output = Dd;
    fn add(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, o.hi);
        let (t, f) = two_sum(self.lo, o.lo);
        let (s, e) = quick_two_sum(s, e + t);
        let (hi, lo) = quick_two_sum(s, e + f);
        Dd { hi, lo }
    }
}

impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, o: Dd) -> Dd {
        self + (-o)
    }
}

impl Mul for Dd {
    type Output = Dd;
    fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        let e = e + (self.hi * o.lo + self.lo * o.hi);
        let (hi, lo) = quick_two_sum(p, e);
        Dd { hi, lo }
    }
}

impl Div for Dd {
    type Output = Dd;
    fn div(self, o: Dd) -> Dd {
        // long division: two quotient digits and a correction
        let q1 = self.hi / o.hi;
        let r = self - o * Dd::new(q1);
        let q2 = r.hi / o.hi;
        let r = r - o * Dd::new(q2);
        let q3 = r.hi / o.hi;
        let (hi, lo) = quick_two_sum(q1, q2);
        Dd { hi, lo } + Dd::new(q3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error of a double-double against a reference given as hi + lo.
    fn rel(a: Dd, hi: f64, lo: f64) -> f64 {
        ((a - Dd { hi, lo }).to_f64() / hi).abs()
    }

    #[test]
    fn arithmetic_keeps_what_doubles_lose() {
        // (1 + 2^-60) - 1 is 2^-60 in double-double, 0 in doubles
        let a = Dd::new(1.0) + Dd::new(2f64.powi(-60));
        assert_eq!((a - Dd::ONE).to_f64(), 2f64.powi(-60));
        let third = Dd::ONE / Dd::new(3.0);
        let back = third * Dd::new(3.0) - Dd::ONE;
        assert!(back.to_f64().abs() < 1e-31, "{back:?}");
        let r = Dd::new(2.0).sqrt();
        assert!(((r * r) - Dd::new(2.0)).to_f64().abs() < 1e-31);
        assert_eq!(Dd::new(3.0).powi(5).to_f64(), 243.0);
        assert!((Dd::new(2.0).powi(-2) - Dd::new(0.25)).to_f64().abs() < 1e-33);
    }

    #[test]
    fn exp_and_ln_to_thirty_digits() {
        // e = 2.718281828459045 + 1.4456468917292502e-16 (to 32 digits)
        assert!(
            rel(
                Dd::ONE.exp(),
                std::f64::consts::E,
                1.445_646_891_729_250_2e-16
            ) < 1e-30
        );
        // exp(-10) = 4.5399929762484854e-05 + ...; check exp(x) exp(-x) = 1 instead
        for x in [-30.5, -10.0, -0.3, 1e-5, 0.7, 12.25, 100.0] {
            let p = Dd::new(x).exp() * Dd::new(-x).exp() - Dd::ONE;
            assert!(p.to_f64().abs() < 1e-29, "x = {x}: {p:?}");
            let back = Dd::new(x).exp().ln() - Dd::new(x);
            assert!(
                back.to_f64().abs() < 1e-29 * x.abs().max(1.0),
                "x = {x}: {back:?}"
            );
        }
        // ln 2 against its known double-double value
        assert!(rel(Dd::new(2.0).ln(), LN2.hi, LN2.lo) < 1e-30);
    }
}
