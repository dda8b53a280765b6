//! The compiled program: the DAG compacted to the nodes the root needs, classified as
//! constant, data-independent (evaluated once per call) or data-dependent (a tape of column
//! steps with per-parameter derivative columns and scratch columns reused by liveness); and
//! its point-by-point double-double evaluation.

use super::dag::Op;
use crate::law::Cols;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Const,
    /// Depends on parameters only: evaluated once per call.
    Uniform,
    /// Depends on the data: a column per block.
    Varying,
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) op: Op,
    pub(super) kind: Kind,
    /// Bit k: depends on parameter k.
    pub(super) deps: u64,
}

/// Where an operand's values come from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Src {
    None,
    Const(f64),
    /// A data-independent node's scalar.
    Uni(u32),
    Var(u32),
    /// ln of variable `v`: the data's log column, or scratch column `c` computed by its step.
    LnVar(u32, u32),
    Col(u32),
}

/// Where an operand's derivative with respect to one parameter comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum DSrc {
    Zero,
    /// Gradient entry (node, k) of a data-independent node.
    Uni(u32, u32),
    Col(u32),
}

/// Derivative column of a step's result with respect to parameter `k`.
#[derive(Debug, Clone, Copy)]
pub(super) struct DStep {
    pub(super) k: u32,
    /// Scratch column, or `EXTERNAL` for the root (written straight into the Jacobian).
    pub(super) dst: u32,
    pub(super) da: DSrc,
    pub(super) db: DSrc,
}

pub(super) const EXTERNAL: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) op: Op,
    pub(super) out: u32,
    pub(super) a: Src,
    pub(super) b: Src,
    pub(super) d: Vec<DStep>,
}

#[derive(Debug, Clone)]
pub(super) struct Program {
    pub(super) nodes: Vec<Node>,
    pub(super) root: usize,
    pub(super) n_params: usize,
    /// Const and data-independent nodes, in evaluation order.
    pub(super) uniform: Vec<u32>,
    pub(super) steps: Vec<Step>,
    /// Scratch columns besides the two temporaries.
    pub(super) n_cols: usize,
}

impl Program {
    /// Keeps the nodes the root depends on, classifies them and plans the tape.
    pub(super) fn build(ops: &[Op], root: u32, n_params: usize) -> Program {
        let mut live = vec![false; ops.len()];
        live[root as usize] = true;
        for i in (0..ops.len()).rev() {
            if live[i] {
                let (a, b) = ops[i].args();
                for x in [a, b].into_iter().flatten() {
                    live[x as usize] = true;
                }
            }
        }
        let mut remap = vec![u32::MAX; ops.len()];
        let mut nodes: Vec<Node> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let op = op.map_args(|a| remap[a as usize]);
            let (a, b) = op.args();
            let (kind, deps) = match op {
                Op::Const(_) => (Kind::Const, 0),
                Op::Param(k) => (Kind::Uniform, 1u64 << k),
                Op::Var(_) | Op::LnVar(_) => (Kind::Varying, 0),
                _ => {
                    let mut kind = Kind::Const;
                    let mut deps = 0;
                    for x in [a, b].into_iter().flatten() {
                        let n = &nodes[x as usize];
                        deps |= n.deps;
                        kind = match (kind, n.kind) {
                            (Kind::Varying, _) | (_, Kind::Varying) => Kind::Varying,
                            (Kind::Uniform, _) | (_, Kind::Uniform) => Kind::Uniform,
                            _ => Kind::Const,
                        };
                    }
                    (kind, deps)
                }
            };
            remap[i] = nodes.len() as u32;
            nodes.push(Node { op, kind, deps });
        }
        let root = remap[root as usize] as usize;
        let uniform: Vec<u32> = (0..nodes.len() as u32)
            .filter(|&i| nodes[i as usize].kind != Kind::Varying)
            .collect();

        // the tape: every data-dependent node except plain variable reads
        let tape: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].kind == Kind::Varying && !matches!(nodes[i].op, Op::Var(_)))
            .collect();
        let mut last_use = vec![0usize; nodes.len()];
        for (s, &i) in tape.iter().enumerate() {
            let (a, b) = nodes[i].op.args();
            for x in [a, b].into_iter().flatten() {
                last_use[x as usize] = s;
            }
        }
        let mut free: Vec<u32> = Vec::new();
        let mut n_cols = 0u32;
        let mut alloc = |free: &mut Vec<u32>| -> u32 {
            free.pop().unwrap_or_else(|| {
                n_cols += 1;
                n_cols - 1
            })
        };
        let mut vcol = vec![u32::MAX; nodes.len()];
        let mut dcol: Vec<Vec<(u32, u32)>> = vec![Vec::new(); nodes.len()];
        let mut steps = Vec::with_capacity(tape.len());
        for (s, &i) in tape.iter().enumerate() {
            let node = &nodes[i];
            let out = alloc(&mut free);
            vcol[i] = out;
            let src = |x: Option<u32>, vcol: &[u32]| -> Src {
                let Some(x) = x else { return Src::None };
                let n = &nodes[x as usize];
                match (n.kind, n.op) {
                    (Kind::Const, Op::Const(v)) => Src::Const(v),
                    (Kind::Const | Kind::Uniform, _) => Src::Uni(x),
                    (_, Op::Var(v)) => Src::Var(v),
                    (_, Op::LnVar(v)) => Src::LnVar(v, vcol[x as usize]),
                    _ => Src::Col(vcol[x as usize]),
                }
            };
            let (a, b) = node.op.args();
            let (sa, sb) = match node.op {
                // computed from the variable when the data carry no log column
                Op::LnVar(v) => (Src::Var(v), Src::None),
                _ => (src(a, &vcol), src(b, &vcol)),
            };
            let dsrc = |x: Option<u32>, k: u32, dcol: &[Vec<(u32, u32)>]| -> DSrc {
                let Some(x) = x else { return DSrc::Zero };
                let n = &nodes[x as usize];
                if n.deps >> k & 1 == 0 {
                    return DSrc::Zero;
                }
                match n.kind {
                    Kind::Uniform => DSrc::Uni(x, k),
                    _ => DSrc::Col(
                        dcol[x as usize]
                            .iter()
                            .find(|e| e.0 == k)
                            .map(|e| e.1)
                            .expect("derivative column of a dependency"),
                    ),
                }
            };
            let mut d = Vec::new();
            for k in 0..n_params as u32 {
                if node.deps >> k & 1 == 0 {
                    continue;
                }
                let dst = if i == root {
                    EXTERNAL
                } else {
                    let c = alloc(&mut free);
                    dcol[i].push((k, c));
                    c
                };
                d.push(DStep {
                    k,
                    dst,
                    da: dsrc(a, k, &dcol),
                    db: dsrc(b, k, &dcol),
                });
            }
            steps.push(Step {
                op: node.op,
                out,
                a: sa,
                b: sb,
                d,
            });
            // operands whose last reader this was give their columns back
            let mut done: Vec<usize> = [a, b].into_iter().flatten().map(|x| x as usize).collect();
            done.dedup();
            for x in done {
                if last_use[x] == s && vcol[x] != u32::MAX && x != root {
                    free.push(vcol[x]);
                    vcol[x] = u32::MAX - 1; // released (never read again)
                    for &(_, c) in &dcol[x] {
                        free.push(c);
                    }
                }
            }
        }
        Program {
            nodes,
            root,
            n_params,
            uniform,
            steps,
            n_cols: n_cols as usize,
        }
    }

    pub(super) fn uses_var(&self, v: u32) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.op, Op::Var(w) | Op::LnVar(w) if w == v))
    }

    /// Whether every use of variable `v` goes through its logarithm.
    pub(super) fn only_logs(&self, v: u32) -> bool {
        !self
            .nodes
            .iter()
            .any(|n| matches!(n.op, Op::Var(w) if w == v))
    }
}

impl Program {
    /// Point-by-point evaluation in double-double (see `Law::eval_dd`). Not for the hot path:
    /// it walks the nodes per point. The trigonometric functions have no double-double
    /// version here, so laws using them return false.
    pub(super) fn eval_dd(&self, x: &Cols, p: &[f64], hi: &mut [f64], lo: &mut [f64]) -> bool {
        use crate::dd::Dd;
        use Op::*;
        let supported = self
            .nodes
            .iter()
            .all(|nd| !matches!(nd.op, Sin(_) | Cos(_) | Tan(_) | Atan(_) | Tanh(_)));
        if !supported {
            return false;
        }
        let mut v = vec![Dd::ZERO; self.nodes.len()];
        for i in 0..hi.len() {
            for (j, nd) in self.nodes.iter().enumerate() {
                let (a, b) = nd.op.args();
                let a = a.map_or(Dd::ZERO, |a| v[a as usize]);
                let b = b.map_or(Dd::ZERO, |b| v[b as usize]);
                v[j] = match nd.op {
                    Const(c) => Dd::new(c),
                    Param(k) => Dd::new(p[k as usize]),
                    Var(k) => Dd::new(x.x[k as usize][i]),
                    LnVar(k) => Dd::new(x.x[k as usize][i]).ln(),
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
                    Min(..) | Max(..) if a.hi.is_nan() || b.hi.is_nan() => Dd::new(f64::NAN),
                    Min(..) => {
                        if (a - b).hi <= 0.0 {
                            a
                        } else {
                            b
                        }
                    }
                    Max(..) => {
                        if (a - b).hi >= 0.0 {
                            a
                        } else {
                            b
                        }
                    }
                    Sin(_) | Cos(_) | Tan(_) | Atan(_) | Tanh(_) => return false,
                };
            }
            hi[i] = v[self.root].hi;
            lo[i] = v[self.root].lo;
        }
        true
    }
}
