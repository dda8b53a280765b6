//! The expression as a DAG of static-single-assignment nodes: the operations, their scalar
//! semantics and local partial derivatives, and the builder that shares identical nodes and
//! folds constants while the parser runs.

use std::collections::HashMap;

use super::MAX_INT_POW;

/// One operation; operands are indices of earlier nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Const(f64),
    Param(u32),
    Var(u32),
    /// ln of a variable: the precomputed log column when the data carry it.
    LnVar(u32),
    Neg(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// Exact integer power.
    PowI(u32, i32),
    Exp(u32),
    Ln(u32),
    Sqrt(u32),
    Abs(u32),
    Sin(u32),
    Cos(u32),
    Tan(u32),
    Atan(u32),
    Tanh(u32),
    Min(u32, u32),
    Max(u32, u32),
}

impl Op {
    /// Operand node indices.
    pub(super) fn args(&self) -> (Option<u32>, Option<u32>) {
        use Op::*;
        match *self {
            Const(_) | Param(_) | Var(_) | LnVar(_) => (None, None),
            Neg(a)
            | PowI(a, _)
            | Exp(a)
            | Ln(a)
            | Sqrt(a)
            | Abs(a)
            | Sin(a)
            | Cos(a)
            | Tan(a)
            | Atan(a)
            | Tanh(a) => (Some(a), None),
            Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Min(a, b) | Max(a, b) => {
                (Some(a), Some(b))
            }
        }
    }

    pub(super) fn map_args(self, f: impl Fn(u32) -> u32) -> Op {
        use Op::*;
        match self {
            Const(_) | Param(_) | Var(_) | LnVar(_) => self,
            Neg(a) => Neg(f(a)),
            PowI(a, n) => PowI(f(a), n),
            Exp(a) => Exp(f(a)),
            Ln(a) => Ln(f(a)),
            Sqrt(a) => Sqrt(f(a)),
            Abs(a) => Abs(f(a)),
            Sin(a) => Sin(f(a)),
            Cos(a) => Cos(f(a)),
            Tan(a) => Tan(f(a)),
            Atan(a) => Atan(f(a)),
            Tanh(a) => Tanh(f(a)),
            Add(a, b) => Add(f(a), f(b)),
            Sub(a, b) => Sub(f(a), f(b)),
            Mul(a, b) => Mul(f(a), f(b)),
            Div(a, b) => Div(f(a), f(b)),
            Min(a, b) => Min(f(a), f(b)),
            Max(a, b) => Max(f(a), f(b)),
        }
    }

    /// A hashable key for sharing identical nodes.
    pub(super) fn key(&self) -> (u8, u64, u64) {
        use Op::*;
        let (a, b) = self.args();
        let (a, b) = (a.unwrap_or(0) as u64, b.unwrap_or(0) as u64);
        match *self {
            Const(v) => (0, v.to_bits(), 0),
            Param(k) => (1, k as u64, 0),
            Var(k) => (2, k as u64, 0),
            LnVar(k) => (3, k as u64, 0),
            Neg(_) => (4, a, 0),
            Add(..) => (5, a, b),
            Sub(..) => (6, a, b),
            Mul(..) => (7, a, b),
            Div(..) => (8, a, b),
            PowI(_, n) => (9, a, n as i64 as u64),
            Exp(_) => (10, a, 0),
            Ln(_) => (11, a, 0),
            Sqrt(_) => (12, a, 0),
            Abs(_) => (13, a, 0),
            Sin(_) => (14, a, 0),
            Cos(_) => (15, a, 0),
            Tan(_) => (16, a, 0),
            Atan(_) => (17, a, 0),
            Tanh(_) => (18, a, 0),
            Min(..) => (19, a, b),
            Max(..) => (20, a, b),
        }
    }
}

#[inline(always)]
pub(super) fn min_nan(a: f64, b: f64) -> f64 {
    if a <= b {
        a
    } else if b < a {
        b
    } else {
        f64::NAN
    }
}

#[inline(always)]
pub(super) fn max_nan(a: f64, b: f64) -> f64 {
    if a >= b {
        a
    } else if b > a {
        b
    } else {
        f64::NAN
    }
}

#[inline(always)]
pub(super) fn sign0(a: f64) -> f64 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Scalar value of an operation (constant folding and data-independent nodes).
pub(super) fn scalar(op: Op, a: f64, b: f64) -> f64 {
    use Op::*;
    match op {
        Const(v) => v,
        Param(_) | Var(_) | LnVar(_) => f64::NAN,
        Neg(_) => -a,
        Add(..) => a + b,
        Sub(..) => a - b,
        Mul(..) => a * b,
        Div(..) => a / b,
        PowI(_, n) => a.powi(n),
        Exp(_) => a.exp(),
        Ln(_) => a.ln(),
        Sqrt(_) => a.sqrt(),
        Abs(_) => a.abs(),
        Sin(_) => a.sin(),
        Cos(_) => a.cos(),
        Tan(_) => a.tan(),
        Atan(_) => a.atan(),
        Tanh(_) => a.tanh(),
        Min(..) => min_nan(a, b),
        Max(..) => max_nan(a, b),
    }
}

/// Local partial derivatives (d/da, d/db) of an operation at (a, b) with value c.
pub(super) fn scalar_partials(op: Op, a: f64, b: f64, c: f64) -> (f64, f64) {
    use Op::*;
    match op {
        Const(_) | Param(_) | Var(_) | LnVar(_) => (0.0, 0.0),
        Neg(_) => (-1.0, 0.0),
        Add(..) => (1.0, 1.0),
        Sub(..) => (1.0, -1.0),
        Mul(..) => (b, a),
        Div(..) => (1.0 / b, -c / b),
        PowI(_, n) => (n as f64 * a.powi(n - 1), 0.0),
        Exp(_) => (c, 0.0),
        Ln(_) => (1.0 / a, 0.0),
        Sqrt(_) => (0.5 / c, 0.0),
        Abs(_) => (sign0(a), 0.0),
        Sin(_) => (a.cos(), 0.0),
        Cos(_) => (-a.sin(), 0.0),
        Tan(_) => (1.0 + c * c, 0.0),
        Atan(_) => (1.0 / (1.0 + a * a), 0.0),
        Tanh(_) => (1.0 - c * c, 0.0),
        Min(..) => ((a <= b) as u8 as f64, (b < a) as u8 as f64),
        Max(..) => ((a >= b) as u8 as f64, (b > a) as u8 as f64),
    }
}

/// The DAG under construction: shares identical nodes and folds constants.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) ops: Vec<Op>,
    pub(super) memo: HashMap<(u8, u64, u64), u32>,
}

impl Builder {
    pub(super) fn konst(&self, i: u32) -> Option<f64> {
        match self.ops[i as usize] {
            Op::Const(v) => Some(v),
            _ => None,
        }
    }

    pub(super) fn intern(&mut self, op: Op) -> u32 {
        let key = op.key();
        if let Some(&i) = self.memo.get(&key) {
            return i;
        }
        let i = self.ops.len() as u32;
        self.ops.push(op);
        self.memo.insert(key, i);
        i
    }

    pub(super) fn push(&mut self, op: Op) -> u32 {
        // commutative operations in a canonical order, so a*b and b*a are shared
        let op = match op {
            Op::Add(a, b) if b < a => Op::Add(b, a),
            Op::Mul(a, b) if b < a => Op::Mul(b, a),
            o => o,
        };
        let (a, b) = op.args();
        if let Some(a) = a {
            let va = self.konst(a);
            let vb = match b {
                Some(b) => self.konst(b).map(Some),
                None => Some(None),
            };
            if let (Some(va), Some(vb)) = (va, vb) {
                return self.intern(Op::Const(scalar(op, va, vb.unwrap_or(0.0))));
            }
        }
        self.intern(op)
    }

    pub(super) fn ln(&mut self, a: u32) -> u32 {
        match self.ops[a as usize] {
            Op::Var(v) => self.push(Op::LnVar(v)),
            _ => self.push(Op::Ln(a)),
        }
    }

    pub(super) fn pow(&mut self, a: u32, b: u32) -> u32 {
        if let Some(e) = self.konst(b) {
            if e == e.trunc() && e.abs() <= MAX_INT_POW {
                return match e as i32 {
                    0 => self.push(Op::Const(1.0)),
                    1 => a,
                    n => self.push(Op::PowI(a, n)),
                };
            }
            if e == 0.5 {
                return self.push(Op::Sqrt(a));
            }
        }
        // the real power exp(b ln a)
        let l = self.ln(a);
        let m = self.push(Op::Mul(b, l));
        self.push(Op::Exp(m))
    }
}
