//! Structure detection on a compiled program: the parameters a law is affine in, and the
//! power-sum family c + sum A_t x_t^-e_t (which gets the variable-projection global start).

use super::dag::Op;
use super::program::Program;
use crate::law::Structure;

/// Parameters in which the law is affine (for fixed values of the others), as a bit mask.
pub(super) fn linear_params(prog: &Program) -> u64 {
    let n = prog.nodes.len();
    let mut lin = vec![0u64; n];
    let mut non = vec![0u64; n];
    for i in 0..n {
        let node = &prog.nodes[i];
        let (a, b) = node.op.args();
        let (la, na) = a.map_or((0, 0), |a| (lin[a as usize], non[a as usize]));
        let (lb, nb) = b.map_or((0, 0), |b| (lin[b as usize], non[b as usize]));
        let (da, db) = (la | na, lb | nb);
        let (l, nl) = match node.op {
            Op::Param(k) => (1u64 << k, 0),
            Op::Const(_) | Op::Var(_) | Op::LnVar(_) => (0, 0),
            Op::Neg(_) => (la, na),
            Op::Add(..) | Op::Sub(..) => {
                let nl = na | nb;
                ((la | lb) & !nl, nl)
            }
            Op::Mul(..) => {
                let nl = na | nb | (da & db);
                ((la | lb) & !nl, nl)
            }
            Op::Div(..) => {
                let nl = na | db;
                (la & !nl, nl)
            }
            _ => (0, da | db),
        };
        lin[i] = l;
        non[i] = nl;
    }
    lin[prog.root]
}

/// Recognises c + sum_t A_t x_t^-e_t (the built-in power-sum family) so the law gets the
/// variable-projection global start and the Hoffmann grid: every term a parameter, or
/// A * x^-e / A / x^e with distinct parameters throughout.
pub(super) fn detect_power_sum(prog: &Program) -> Option<Structure> {
    let nodes = &prog.nodes;
    let op = |i: u32| nodes[i as usize].op;
    // the terms of the top-level sum, left to right
    let mut terms = Vec::new();
    let mut stack = vec![prog.root as u32];
    while let Some(i) = stack.pop() {
        match op(i) {
            Op::Add(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            _ => terms.push(i),
        }
    }
    let param = |i: u32| match op(i) {
        Op::Param(k) => Some(k as usize),
        _ => None,
    };
    // exp(s * ln x) with s = -e (sign = -1) or s = e (sign = +1)
    let power = |i: u32, sign: i8| -> Option<(usize, usize)> {
        let Op::Exp(m) = op(i) else { return None };
        let Op::Mul(u, w) = op(m) else { return None };
        for (s, l) in [(u, w), (w, u)] {
            let Op::LnVar(v) = op(l) else { continue };
            let e = if sign < 0 {
                match op(s) {
                    Op::Neg(e) => param(e),
                    _ => None,
                }
            } else {
                param(s)
            };
            if let Some(e) = e {
                return Some((e, v as usize));
            }
        }
        None
    };
    let mut constant = None;
    let mut out = Vec::new();
    let mut used = vec![false; prog.n_params];
    fn take(k: usize, used: &mut [bool]) -> Option<()> {
        if used[k] {
            return None;
        }
        used[k] = true;
        Some(())
    }
    for t in terms {
        if let Some(k) = param(t) {
            if constant.is_some() {
                return None;
            }
            take(k, &mut used)?;
            constant = Some(k);
            continue;
        }
        let (a, e, v) = match op(t) {
            Op::Mul(u, w) => {
                if let (Some(a), Some((e, v))) = (param(u), power(w, -1)) {
                    (a, e, v)
                } else if let (Some(a), Some((e, v))) = (param(w), power(u, -1)) {
                    (a, e, v)
                } else {
                    return None;
                }
            }
            Op::Div(u, w) => {
                let (Some(a), Some((e, v))) = (param(u), power(w, 1)) else {
                    return None;
                };
                (a, e, v)
            }
            _ => return None,
        };
        take(a, &mut used)?;
        take(e, &mut used)?;
        out.push((a, e, v));
    }
    if out.is_empty() || used.iter().any(|u| !u) {
        return None;
    }
    Some(Structure::PowerSum {
        constant,
        terms: out,
    })
}
