//! Column kernels: the tape run over blocks of points, each instruction a loop the compiler
//! vectorises, derivatives by forward-mode chain rule into per-parameter columns.

use std::cell::RefCell;

use super::dag::{max_nan, min_nan, scalar, scalar_partials, sign0, Op};
use super::program::{DSrc, Kind, Program, Src, EXTERNAL};
use super::{BLOCK, MAX_NAMES};
use crate::fastmath::{exp_impl, ln_impl, simd_enabled};
use crate::law::Cols;

/// An operand over a block: one scalar for every point, or a column.
#[derive(Clone, Copy)]
pub(super) enum V<'a> {
    Sc(f64),
    Col(&'a [f64]),
}

/// A derivative over a block: structurally zero, a scalar, or a column.
#[derive(Clone, Copy)]
pub(super) enum D<'a> {
    Zero,
    Sc(f64),
    Col(&'a [f64]),
}

#[inline(always)]
pub(super) fn un(o: &mut [f64], a: V, f: impl Fn(f64) -> f64) {
    match a {
        V::Col(a) => {
            for (o, &a) in o.iter_mut().zip(a) {
                *o = f(a);
            }
        }
        V::Sc(a) => o.fill(f(a)),
    }
}

#[inline(always)]
pub(super) fn bin(o: &mut [f64], a: V, b: V, f: impl Fn(f64, f64) -> f64) {
    match (a, b) {
        (V::Col(a), V::Col(b)) => {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = f(a, b);
            }
        }
        (V::Col(a), V::Sc(b)) => {
            for (o, &a) in o.iter_mut().zip(a) {
                *o = f(a, b);
            }
        }
        (V::Sc(a), V::Col(b)) => {
            for (o, &b) in o.iter_mut().zip(b) {
                *o = f(a, b);
            }
        }
        (V::Sc(a), V::Sc(b)) => o.fill(f(a, b)),
    }
}

/// One term p * d of the chain rule.
#[derive(Clone, Copy)]
pub(super) enum Term<'a> {
    Zero,
    Sc(f64),
    Scaled(&'a [f64], f64),
    Prod(&'a [f64], &'a [f64]),
}

#[inline(always)]
pub(super) fn term<'a>(p: V<'a>, d: D<'a>) -> Term<'a> {
    match (p, d) {
        (_, D::Zero) => Term::Zero,
        (V::Sc(p), D::Sc(d)) => Term::Sc(p * d),
        (V::Sc(p), D::Col(d)) => Term::Scaled(d, p),
        (V::Col(p), D::Sc(d)) => Term::Scaled(p, d),
        (V::Col(p), D::Col(d)) => Term::Prod(p, d),
    }
}

#[inline(always)]
pub(super) fn term_set<const FMA: bool>(o: &mut [f64], t: Term) {
    match t {
        Term::Zero => o.fill(0.0),
        Term::Sc(s) => o.fill(s),
        Term::Scaled(c, 1.0) => o.copy_from_slice(c),
        Term::Scaled(c, -1.0) => {
            for (o, &c) in o.iter_mut().zip(c) {
                *o = -c;
            }
        }
        Term::Scaled(c, s) => {
            for (o, &c) in o.iter_mut().zip(c) {
                *o = c * s;
            }
        }
        Term::Prod(a, b) => {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = a * b;
            }
        }
    }
}

#[inline(always)]
pub(super) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
pub(super) fn term_add<const FMA: bool>(o: &mut [f64], t: Term) {
    match t {
        Term::Zero => {}
        Term::Sc(s) => o.iter_mut().for_each(|o| *o += s),
        Term::Scaled(c, 1.0) => {
            for (o, &c) in o.iter_mut().zip(c) {
                *o += c;
            }
        }
        Term::Scaled(c, -1.0) => {
            for (o, &c) in o.iter_mut().zip(c) {
                *o -= c;
            }
        }
        Term::Scaled(c, s) => {
            for (o, &c) in o.iter_mut().zip(c) {
                *o = madd::<FMA>(c, s, *o);
            }
        }
        Term::Prod(a, b) => {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = madd::<FMA>(a, b, *o);
            }
        }
    }
}

/// o = pa * da + pb * db.
#[inline(always)]
pub(super) fn chain<const FMA: bool>(o: &mut [f64], pa: V, da: D, pb: V, db: D) {
    let (t1, t2) = (term(pa, da), term(pb, db));
    match (t1, t2) {
        (Term::Zero, t) => term_set::<FMA>(o, t),
        (t, Term::Zero) => term_set::<FMA>(o, t),
        (Term::Scaled(a, s), Term::Scaled(b, r)) => {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = madd::<FMA>(a, s, b * r);
            }
        }
        (t, u) => {
            term_set::<FMA>(o, t);
            term_add::<FMA>(o, u);
        }
    }
}

/// Value of a tape step.
#[inline(always)]
pub(super) fn value<const FMA: bool>(op: Op, a: V, b: V, o: &mut [f64]) {
    use Op::*;
    match op {
        Neg(_) => un(o, a, |x| -x),
        Add(..) => bin(o, a, b, |x, y| x + y),
        Sub(..) => bin(o, a, b, |x, y| x - y),
        Mul(..) => bin(o, a, b, |x, y| x * y),
        Div(..) => bin(o, a, b, |x, y| x / y),
        PowI(_, 2) => un(o, a, |x| x * x),
        PowI(_, 3) => un(o, a, |x| x * x * x),
        PowI(_, -1) => un(o, a, |x| 1.0 / x),
        PowI(_, -2) => un(o, a, |x| 1.0 / (x * x)),
        PowI(_, n) => un(o, a, |x| x.powi(n)),
        Exp(_) => un(o, a, exp_impl::<FMA>),
        Ln(_) | LnVar(_) => un(o, a, ln_impl::<FMA>),
        Sqrt(_) => un(o, a, f64::sqrt),
        Abs(_) => un(o, a, f64::abs),
        Sin(_) => un(o, a, f64::sin),
        Cos(_) => un(o, a, f64::cos),
        Tan(_) => un(o, a, f64::tan),
        Atan(_) => un(o, a, f64::atan),
        Tanh(_) => un(o, a, f64::tanh),
        Min(..) => bin(o, a, b, min_nan),
        Max(..) => bin(o, a, b, max_nan),
        Const(_) | Param(_) | Var(_) => unreachable!("not a tape step"),
    }
}

/// Where a step's local partial derivative lives.
#[derive(Clone, Copy)]
pub(super) enum Pd {
    Sc(f64),
    T0,
    T1,
    A,
    B,
    /// The step's own value.
    C,
}

/// Local partials of a step into the temporaries `t0`, `t1` (or named in place).
#[inline(always)]
pub(super) fn partials(op: Op, a: V, b: V, c: &[f64], t0: &mut [f64], t1: &mut [f64]) -> (Pd, Pd) {
    use Op::*;
    let zero = Pd::Sc(0.0);
    match op {
        Neg(_) => (Pd::Sc(-1.0), zero),
        Add(..) => (Pd::Sc(1.0), Pd::Sc(1.0)),
        Sub(..) => (Pd::Sc(1.0), Pd::Sc(-1.0)),
        Mul(..) => (Pd::B, Pd::A),
        Div(..) => match b {
            V::Sc(bv) => {
                let r = 1.0 / bv;
                for (t, &c) in t1.iter_mut().zip(c) {
                    *t = -c * r;
                }
                (Pd::Sc(r), Pd::T1)
            }
            V::Col(bc) => {
                for (t, &b) in t0.iter_mut().zip(bc) {
                    *t = 1.0 / b;
                }
                for ((t, &c), &r) in t1.iter_mut().zip(c).zip(t0.iter()) {
                    *t = -c * r;
                }
                (Pd::T0, Pd::T1)
            }
        },
        PowI(_, n) => {
            let nf = n as f64;
            match n {
                2 => un(t0, a, |x| 2.0 * x),
                3 => un(t0, a, |x| 3.0 * x * x),
                -1 => un(t0, a, |x| -1.0 / (x * x)),
                _ => un(t0, a, |x| nf * x.powi(n - 1)),
            }
            (Pd::T0, zero)
        }
        Exp(_) => (Pd::C, zero),
        Ln(_) | LnVar(_) => {
            un(t0, a, |x| 1.0 / x);
            (Pd::T0, zero)
        }
        Sqrt(_) => {
            un(t0, V::Col(c), |x| 0.5 / x);
            (Pd::T0, zero)
        }
        Abs(_) => {
            un(t0, a, sign0);
            (Pd::T0, zero)
        }
        Sin(_) => {
            un(t0, a, f64::cos);
            (Pd::T0, zero)
        }
        Cos(_) => {
            un(t0, a, |x| -x.sin());
            (Pd::T0, zero)
        }
        Tan(_) => {
            un(t0, V::Col(c), |x| 1.0 + x * x);
            (Pd::T0, zero)
        }
        Atan(_) => {
            un(t0, a, |x| 1.0 / (1.0 + x * x));
            (Pd::T0, zero)
        }
        Tanh(_) => {
            un(t0, V::Col(c), |x| 1.0 - x * x);
            (Pd::T0, zero)
        }
        Min(..) => {
            bin(t0, a, b, |x, y| (x <= y) as u8 as f64);
            bin(t1, a, b, |x, y| (y < x) as u8 as f64);
            (Pd::T0, Pd::T1)
        }
        Max(..) => {
            bin(t0, a, b, |x, y| (x >= y) as u8 as f64);
            bin(t1, a, b, |x, y| (y > x) as u8 as f64);
            (Pd::T0, Pd::T1)
        }
        Const(_) | Param(_) | Var(_) => unreachable!("not a tape step"),
    }
}

/// Read-only view of the scratch columns except one (the one being written).
pub(super) struct Ro<'a> {
    pub(super) lo: &'a [f64],
    pub(super) hi: &'a [f64],
    pub(super) skip: usize,
    pub(super) blk: usize,
    pub(super) len: usize,
}

impl<'a> Ro<'a> {
    pub(super) fn all(buf: &'a [f64], blk: usize, len: usize) -> Self {
        Ro {
            lo: buf,
            hi: &[],
            skip: usize::MAX,
            blk,
            len,
        }
    }

    #[inline(always)]
    pub(super) fn col(&self, c: u32) -> &'a [f64] {
        let c = c as usize;
        if c < self.skip {
            &self.lo[c * self.blk..c * self.blk + self.len]
        } else {
            debug_assert!(c != self.skip, "a column read while written");
            let o = (c - self.skip - 1) * self.blk;
            &self.hi[o..o + self.len]
        }
    }
}

/// Column `c` for writing, and the others for reading.
#[inline(always)]
pub(super) fn split_col(buf: &mut [f64], c: u32, blk: usize, len: usize) -> (&mut [f64], Ro<'_>) {
    let (lo, rest) = buf.split_at_mut(c as usize * blk);
    let (mid, hi) = rest.split_at_mut(blk);
    (
        &mut mid[..len],
        Ro {
            lo,
            hi,
            skip: c as usize,
            blk,
            len,
        },
    )
}

/// Everything one evaluation call reads.
pub(super) struct Ctx<'a> {
    pub(super) x: &'a Cols<'a>,
    /// Bit v: the data carry the log column of variable v.
    pub(super) logs: u64,
    pub(super) uv: &'a [f64],
    pub(super) ug: &'a [f64],
    pub(super) p: usize,
}

impl<'a> Ctx<'a> {
    #[inline(always)]
    pub(super) fn val<'r>(&'r self, s: Src, ro: &Ro<'r>, i0: usize, len: usize) -> V<'r>
    where
        'a: 'r,
    {
        match s {
            Src::None => V::Sc(0.0),
            Src::Const(v) => V::Sc(v),
            Src::Uni(m) => V::Sc(self.uv[m as usize]),
            Src::Var(v) => V::Col(&self.x.x[v as usize][i0..i0 + len]),
            Src::LnVar(v, c) => {
                if self.logs >> v & 1 == 1 {
                    V::Col(&self.x.logx[v as usize][i0..i0 + len])
                } else {
                    V::Col(ro.col(c))
                }
            }
            Src::Col(c) => V::Col(ro.col(c)),
        }
    }

    #[inline(always)]
    pub(super) fn der<'r>(&'r self, s: DSrc, ro: &Ro<'r>) -> D<'r>
    where
        'a: 'r,
    {
        match s {
            DSrc::Zero => D::Zero,
            DSrc::Uni(m, k) => D::Sc(self.ug[m as usize * self.p + k as usize]),
            DSrc::Col(c) => D::Col(ro.col(c)),
        }
    }
}

pub(super) fn pd<'a>(
    p: Pd,
    t0: &'a [f64],
    t1: &'a [f64],
    a: V<'a>,
    b: V<'a>,
    c: &'a [f64],
) -> V<'a> {
    match p {
        Pd::Sc(s) => V::Sc(s),
        Pd::T0 => V::Col(t0),
        Pd::T1 => V::Col(t1),
        Pd::A => a,
        Pd::B => b,
        Pd::C => V::Col(c),
    }
}

/// The tape over all blocks of points.
#[inline(always)]
pub(super) fn run_tape<const FMA: bool>(
    prog: &Program,
    ctx: &Ctx,
    cols: &mut [f64],
    blk: usize,
    out: &mut [f64],
    mut jac: Option<&mut [f64]>,
) {
    let n = out.len();
    let root_out = prog.steps.last().expect("the root is on the tape").out;
    let mut i0 = 0;
    while i0 < n {
        let len = blk.min(n - i0);
        for st in &prog.steps {
            let (temps, rest) = cols.split_at_mut(2 * blk);
            let (t0, t1) = temps.split_at_mut(blk);
            let (t0, t1) = (&mut t0[..len], &mut t1[..len]);
            if let Op::LnVar(v) = st.op {
                if ctx.logs >> v & 1 == 1 {
                    continue; // the data carry this log column
                }
            }
            {
                let (o, ro) = split_col(rest, st.out, blk, len);
                let a = ctx.val(st.a, &ro, i0, len);
                let b = ctx.val(st.b, &ro, i0, len);
                value::<FMA>(st.op, a, b, o);
            }
            let Some(jac) = jac.as_deref_mut() else {
                continue;
            };
            if st.d.is_empty() {
                continue;
            }
            let (pa, pb) = {
                let ro = Ro::all(rest, blk, len);
                let a = ctx.val(st.a, &ro, i0, len);
                let b = ctx.val(st.b, &ro, i0, len);
                partials(st.op, a, b, ro.col(st.out), t0, t1)
            };
            let (t0, t1): (&[f64], &[f64]) = (t0, t1);
            for d in &st.d {
                let (dst, ro) = if d.dst == EXTERNAL {
                    let k = d.k as usize;
                    (
                        &mut jac[k * n + i0..k * n + i0 + len],
                        Ro::all(rest, blk, len),
                    )
                } else {
                    split_col(rest, d.dst, blk, len)
                };
                let a = ctx.val(st.a, &ro, i0, len);
                let b = ctx.val(st.b, &ro, i0, len);
                let c = ro.col(st.out);
                let (va, vb) = (pd(pa, t0, t1, a, b, c), pd(pb, t0, t1, a, b, c));
                chain::<FMA>(dst, va, ctx.der(d.da, &ro), vb, ctx.der(d.db, &ro));
            }
        }
        let ro = Ro::all(&cols[2 * blk..], blk, len);
        out[i0..i0 + len].copy_from_slice(ro.col(root_out));
        i0 += len;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) fn run_tape_avx2(
    prog: &Program,
    ctx: &Ctx,
    cols: &mut [f64],
    blk: usize,
    out: &mut [f64],
    jac: Option<&mut [f64]>,
) {
    run_tape::<true>(prog, ctx, cols, blk, out, jac)
}

thread_local! {
    /// Per-thread scratch: data-independent values and gradients, then the tape's columns.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Program {
    pub(super) fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: Option<&mut [f64]>) {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut buf) => self.eval_in(&mut buf, x, p, out, jac),
            Err(_) => self.eval_in(&mut Vec::new(), x, p, out, jac),
        })
    }

    pub(super) fn eval_in(
        &self,
        buf: &mut Vec<f64>,
        x: &Cols,
        p: &[f64],
        out: &mut [f64],
        jac: Option<&mut [f64]>,
    ) {
        let n = out.len();
        let np = self.n_params;
        let nn = self.nodes.len();
        let blk = n.clamp(1, BLOCK);
        let need = nn + nn * np + (2 + self.n_cols) * blk;
        if buf.len() < need {
            buf.resize(need, 0.0);
        }
        let (uv, rest) = buf.split_at_mut(nn);
        let (ug, cols) = rest.split_at_mut(nn * np);
        // data-independent nodes, with their gradients
        for &m in &self.uniform {
            let m = m as usize;
            let node = &self.nodes[m];
            let g = m * np;
            match node.op {
                Op::Const(v) => {
                    uv[m] = v;
                    ug[g..g + np].fill(0.0);
                }
                Op::Param(k) => {
                    uv[m] = p[k as usize];
                    ug[g..g + np].fill(0.0);
                    ug[g + k as usize] = 1.0;
                }
                op => {
                    let (a, b) = op.args();
                    let a = a.map(|a| a as usize);
                    let b = b.map(|b| b as usize);
                    let va = a.map_or(0.0, |a| uv[a]);
                    let vb = b.map_or(0.0, |b| uv[b]);
                    let c = scalar(op, va, vb);
                    uv[m] = c;
                    let (pa, pb) = scalar_partials(op, va, vb, c);
                    for k in 0..np {
                        let mut s = 0.0;
                        if let Some(a) = a {
                            if self.nodes[a].deps >> k & 1 == 1 {
                                s += pa * ug[a * np + k];
                            }
                        }
                        if let Some(b) = b {
                            if self.nodes[b].deps >> k & 1 == 1 {
                                s += pb * ug[b * np + k];
                            }
                        }
                        ug[g + k] = s;
                    }
                }
            }
        }
        if n == 0 {
            return;
        }
        let root = &self.nodes[self.root];
        if root.kind != Kind::Varying {
            // (not produced by `compile`, which rejects laws that ignore their variables)
            out.fill(uv[self.root]);
            if let Some(jac) = jac {
                for k in 0..np {
                    jac[k * n..(k + 1) * n].fill(ug[self.root * np + k]);
                }
            }
            return;
        }
        let mut logs = 0u64;
        for v in 0..x.x.len().min(MAX_NAMES) {
            if x.logx.get(v).is_some_and(|l| l.len() == n) {
                logs |= 1 << v;
            }
        }
        let ctx = Ctx {
            x,
            logs,
            uv,
            ug,
            p: np,
        };
        let cols = &mut cols[..(2 + self.n_cols) * blk];
        #[cfg(target_arch = "x86_64")]
        if simd_enabled() {
            // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
            #[allow(unsafe_code)]
            unsafe {
                run_tape_avx2(self, &ctx, cols, blk, out, jac);
            }
            return;
        }
        run_tape::<false>(self, &ctx, cols, blk, out, jac);
    }
}
