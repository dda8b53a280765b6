//! User-written laws (issue 6): a small, safe expression language, compiled to a register tape
//! and evaluated with exact forward-mode derivatives.
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! sum     := product (('+' | '-') product)*
//! product := unary (('*' | '/') unary)*
//! unary   := ('-' | '+') unary | power
//! power   := atom (('^' | '**') unary)?      right-associative, tighter than unary minus:
//!                                            -x^2 = -(x^2), x^-a = x^(-a), a^b^c = a^(b^c)
//! atom    := number | name | name '(' sum (',' sum)* ')' | '(' sum ')'
//! ```
//!
//! Numbers may have a fraction and an exponent (`1`, `.5`, `2.`, `1e-3`, `6.02E+23`). Functions:
//! exp, log (natural), log10, sqrt, pow(a, b), abs, sin, cos, tan, atan, tanh, min(a, b),
//! max(a, b); the constant `pi`. A name is a variable (a data column) when it is in the given
//! variable list, otherwise a parameter (in the given order, or in order of first appearance).
//!
//! Semantics of powers: `a^n` with a constant integer exponent (|n| <= 1024, after constant
//! folding, so `x^(-2)` counts) is the exact integer power, defined for negative `a`; any other
//! `a^b` is the real power exp(b ln a), NaN for a < 0. `min`/`max` return NaN if either side is
//! NaN; the derivative of `abs` at 0 and of `min`/`max` at a tie takes the first/left branch.
//!
//! The text is parsed straight into a DAG of static-single-assignment nodes (identical
//! sub-expressions are shared, constant sub-expressions folded, `log(x)` of a variable becomes a
//! read of the precomputed log column). Nodes that do not depend on the data are evaluated once
//! per call (with their gradients); the others form a tape that runs column by column over
//! blocks of points, each instruction a loop the compiler vectorises, with a derivative column
//! only for the parameters an instruction actually depends on. Scratch columns are reused by
//! liveness and live in a per-thread buffer: no allocation per point or per call.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::fastmath::{exp_impl, ln_impl, simd_enabled};
use crate::law::{Cols, Law, Structure};

/// Functions of the language and their number of arguments.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("exp", 1),
    ("log", 1),
    ("log10", 1),
    ("sqrt", 1),
    ("pow", 2),
    ("abs", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("atan", 1),
    ("tanh", 1),
    ("min", 2),
    ("max", 2),
];

/// Deepest nesting of parentheses, unary signs and powers the parser accepts (it recurses).
const MAX_DEPTH: usize = 200;
/// Most parameters / variables of one law (dependency sets are 64-bit masks).
const MAX_NAMES: usize = 64;
/// Largest |n| for which a constant integer exponent is an exact integer power.
const MAX_INT_POW: f64 = 1024.0;
/// Points per block of the column-wise evaluation.
const BLOCK: usize = 256;

// ------------------------------------------------------------------------------------------
// Errors with a caret under the offending character
// ------------------------------------------------------------------------------------------

fn caret_error(src: &str, pos: usize, msg: &str) -> Error {
    let chars: Vec<char> = src
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // a window of at most ~72 characters around the position
    let (start, end) = if chars.len() <= 72 {
        (0, chars.len())
    } else {
        let s = pos.saturating_sub(36).min(chars.len().saturating_sub(72));
        (s, (s + 72).min(chars.len()))
    };
    let mut line = String::new();
    let mut offset = pos - start.min(pos);
    if start > 0 {
        line.push_str("...");
        offset += 3;
    }
    line.extend(&chars[start..end]);
    if end < chars.len() {
        line.push_str("...");
    }
    Error::InvalidLaw(format!(
        "{msg} at column {}\n  {line}\n  {}^",
        pos + 1,
        " ".repeat(offset)
    ))
}

// ------------------------------------------------------------------------------------------
// Tokens
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Character index of the token's first character.
    pos: usize,
    text: String,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Num(_) => format!("number {}", self.text),
            Tok::Name(n) => format!("name '{n}'"),
            Tok::End => "end of expression".into(),
            _ => format!("'{}'", self.text),
        }
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn tokenize(src: &str) -> Result<Vec<Token>> {
    let cs: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let simple = |t: Tok, len: usize| Token {
            tok: t,
            pos: start,
            text: cs[start..start + len].iter().collect(),
        };
        let tok = match c {
            '+' => simple(Tok::Plus, 1),
            '-' => simple(Tok::Minus, 1),
            '*' if cs.get(i + 1) == Some(&'*') => simple(Tok::Caret, 2),
            '*' => simple(Tok::Star, 1),
            '/' => simple(Tok::Slash, 1),
            '^' => simple(Tok::Caret, 1),
            '(' => simple(Tok::LParen, 1),
            ')' => simple(Tok::RParen, 1),
            ',' => simple(Tok::Comma, 1),
            c if c.is_ascii_digit() || c == '.' => {
                let mut j = i;
                while j < cs.len() && cs[j].is_ascii_digit() {
                    j += 1;
                }
                let int_digits = j - i;
                let mut frac_digits = 0;
                if j < cs.len() && cs[j] == '.' {
                    j += 1;
                    while j < cs.len() && cs[j].is_ascii_digit() {
                        j += 1;
                        frac_digits += 1;
                    }
                }
                if int_digits + frac_digits == 0 {
                    return Err(caret_error(src, i, "unexpected '.'"));
                }
                if j < cs.len() && (cs[j] == 'e' || cs[j] == 'E') {
                    let mut k = j + 1;
                    if k < cs.len() && (cs[k] == '+' || cs[k] == '-') {
                        k += 1;
                    }
                    if k < cs.len() && cs[k].is_ascii_digit() {
                        while k < cs.len() && cs[k].is_ascii_digit() {
                            k += 1;
                        }
                        j = k;
                    } else {
                        return Err(caret_error(
                            src,
                            j,
                            "malformed number: the exponent needs digits",
                        ));
                    }
                }
                if j < cs.len() && (is_name_char(cs[j]) || cs[j] == '.') {
                    let text: String = cs[i..j].iter().collect();
                    return Err(caret_error(
                        src,
                        j,
                        &format!(
                            "unexpected '{}' after the number {text} (multiplication needs '*')",
                            cs[j]
                        ),
                    ));
                }
                let text: String = cs[i..j].iter().collect();
                let v: f64 = text
                    .parse()
                    .map_err(|_| caret_error(src, i, &format!("malformed number {text}")))?;
                if !v.is_finite() {
                    return Err(caret_error(
                        src,
                        i,
                        &format!("number {text} is out of range"),
                    ));
                }
                i = j;
                out.push(Token {
                    tok: Tok::Num(v),
                    pos: start,
                    text,
                });
                continue;
            }
            c if is_name_start(c) => {
                let mut j = i;
                while j < cs.len() && is_name_char(cs[j]) {
                    j += 1;
                }
                let text: String = cs[i..j].iter().collect();
                i = j;
                out.push(Token {
                    tok: Tok::Name(text.clone()),
                    pos: start,
                    text,
                });
                continue;
            }
            other => {
                return Err(caret_error(
                    src,
                    i,
                    &format!("unexpected character '{other}'"),
                ))
            }
        };
        i += tok.text.chars().count();
        out.push(tok);
    }
    out.push(Token {
        tok: Tok::End,
        pos: cs.len(),
        text: String::new(),
    });
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Nodes: a DAG in static single assignment, built while parsing
// ------------------------------------------------------------------------------------------

/// One operation; operands are indices of earlier nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
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
    fn args(&self) -> (Option<u32>, Option<u32>) {
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

    fn map_args(self, f: impl Fn(u32) -> u32) -> Op {
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
    fn key(&self) -> (u8, u64, u64) {
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
fn min_nan(a: f64, b: f64) -> f64 {
    if a <= b {
        a
    } else if b < a {
        b
    } else {
        f64::NAN
    }
}

#[inline(always)]
fn max_nan(a: f64, b: f64) -> f64 {
    if a >= b {
        a
    } else if b > a {
        b
    } else {
        f64::NAN
    }
}

#[inline(always)]
fn sign0(a: f64) -> f64 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Scalar value of an operation (constant folding and data-independent nodes).
fn scalar(op: Op, a: f64, b: f64) -> f64 {
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
fn scalar_partials(op: Op, a: f64, b: f64, c: f64) -> (f64, f64) {
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
struct Builder {
    ops: Vec<Op>,
    memo: HashMap<(u8, u64, u64), u32>,
}

impl Builder {
    fn konst(&self, i: u32) -> Option<f64> {
        match self.ops[i as usize] {
            Op::Const(v) => Some(v),
            _ => None,
        }
    }

    fn intern(&mut self, op: Op) -> u32 {
        let key = op.key();
        if let Some(&i) = self.memo.get(&key) {
            return i;
        }
        let i = self.ops.len() as u32;
        self.ops.push(op);
        self.memo.insert(key, i);
        i
    }

    fn push(&mut self, op: Op) -> u32 {
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

    fn ln(&mut self, a: u32) -> u32 {
        match self.ops[a as usize] {
            Op::Var(v) => self.push(Op::LnVar(v)),
            _ => self.push(Op::Ln(a)),
        }
    }

    fn pow(&mut self, a: u32, b: u32) -> u32 {
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

// ------------------------------------------------------------------------------------------
// Parser
// ------------------------------------------------------------------------------------------

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    i: usize,
    depth: usize,
    b: Builder,
    vars: Vec<String>,
    params: Vec<String>,
    /// Whether `params` was given (names outside it are errors) or is being discovered.
    params_given: bool,
    seen_vars: Vec<bool>,
    seen_params: Vec<bool>,
}

impl<'s> Parser<'s> {
    fn peek(&self) -> &Token {
        &self.toks[self.i]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn err(&self, tok: &Token, msg: &str) -> Error {
        caret_error(self.src, tok.pos, msg)
    }

    fn unexpected(&self, tok: &Token) -> Error {
        match tok.tok {
            Tok::End => self.err(tok, "unexpected end of expression"),
            _ => self.err(tok, &format!("unexpected {}", tok.describe())),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek().clone();
            return Err(self.err(
                &t,
                &format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn parse(&mut self) -> Result<u32> {
        if self.peek().tok == Tok::End {
            return Err(Error::InvalidLaw("the law is empty".into()));
        }
        let root = self.sum()?;
        let t = self.peek().clone();
        match t.tok {
            Tok::End => Ok(root),
            Tok::RParen => Err(self.err(&t, "unexpected ')' (no '(' to close)")),
            Tok::Num(_) | Tok::Name(_) | Tok::LParen => Err(self.err(
                &t,
                &format!(
                    "unexpected {} (missing operator between operands?)",
                    t.describe()
                ),
            )),
            _ => Err(self.unexpected(&t)),
        }
    }

    fn sum(&mut self) -> Result<u32> {
        let mut acc = self.product()?;
        loop {
            match self.peek().tok {
                Tok::Plus => {
                    self.next();
                    let r = self.product()?;
                    acc = self.b.push(Op::Add(acc, r));
                }
                Tok::Minus => {
                    self.next();
                    let r = self.product()?;
                    acc = self.b.push(Op::Sub(acc, r));
                }
                _ => return Ok(acc),
            }
        }
    }

    fn product(&mut self) -> Result<u32> {
        let mut acc = self.unary()?;
        loop {
            match self.peek().tok {
                Tok::Star => {
                    self.next();
                    let r = self.unary()?;
                    acc = self.b.push(Op::Mul(acc, r));
                }
                Tok::Slash => {
                    self.next();
                    let r = self.unary()?;
                    acc = self.b.push(Op::Div(acc, r));
                }
                _ => return Ok(acc),
            }
        }
    }

    fn unary(&mut self) -> Result<u32> {
        self.enter()?;
        let out = match self.peek().tok {
            Tok::Minus => {
                self.next();
                let a = self.unary()?;
                self.b.push(Op::Neg(a))
            }
            Tok::Plus => {
                self.next();
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(out)
    }

    fn power(&mut self) -> Result<u32> {
        let base = self.atom()?;
        if self.peek().tok == Tok::Caret {
            self.next();
            let e = self.unary()?;
            return Ok(self.b.pow(base, e));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<u32> {
        let t = self.next();
        match &t.tok {
            Tok::Num(v) => Ok(self.b.push(Op::Const(*v))),
            Tok::LParen => {
                self.enter()?;
                let inner = self.sum()?;
                self.close(&t)?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Name(name) => {
                if self.peek().tok == Tok::LParen {
                    self.call(&t, name)
                } else {
                    self.name(&t, name)
                }
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    /// Expects the ')' that closes `open`.
    fn close(&mut self, open: &Token) -> Result<()> {
        let t = self.next();
        match t.tok {
            Tok::RParen => Ok(()),
            Tok::End => Err(self.err(
                &t,
                &format!(
                    "unexpected end of expression: '(' at column {} is not closed",
                    open.pos + 1
                ),
            )),
            Tok::Num(_) | Tok::Name(_) | Tok::LParen => Err(self.err(
                &t,
                &format!(
                    "unexpected {} (missing operator between operands?)",
                    t.describe()
                ),
            )),
            _ => Err(self.unexpected(&t)),
        }
    }

    fn name(&mut self, t: &Token, name: &str) -> Result<u32> {
        if name == "pi" {
            return Ok(self.b.push(Op::Const(std::f64::consts::PI)));
        }
        if FUNCTIONS.iter().any(|f| f.0 == name) {
            return Err(self.err(t, &format!("'{name}' is a function: write {name}(...)")));
        }
        if let Some(v) = self.vars.iter().position(|v| v == name) {
            self.seen_vars[v] = true;
            return Ok(self.b.push(Op::Var(v as u32)));
        }
        let k = match self.params.iter().position(|p| p == name) {
            Some(k) => k,
            None if self.params_given => {
                return Err(self.err(
                    t,
                    &format!(
                        "unknown name '{name}': it is neither a variable ({}) nor a parameter \
                         ({})",
                        list_or_none(&self.vars),
                        list_or_none(&self.params)
                    ),
                ))
            }
            None => {
                if self.params.len() >= MAX_NAMES {
                    return Err(self.err(
                        t,
                        &format!("too many parameters (a law may have at most {MAX_NAMES})"),
                    ));
                }
                self.params.push(name.to_string());
                self.seen_params.push(false);
                self.params.len() - 1
            }
        };
        self.seen_params[k] = true;
        Ok(self.b.push(Op::Param(k as u32)))
    }

    fn call(&mut self, t: &Token, name: &str) -> Result<u32> {
        let Some(&(_, arity)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
            return Err(self.err(
                t,
                &format!(
                    "unknown function '{name}'; functions are {}",
                    known.join(", ")
                ),
            ));
        };
        let open = self.next(); // '('
        self.enter()?;
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.next();
        } else {
            loop {
                args.push(self.sum()?);
                let sep = self.next();
                match sep.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    Tok::End => {
                        return Err(self.err(
                            &sep,
                            &format!(
                                "unexpected end of expression: '(' at column {} is not closed",
                                open.pos + 1
                            ),
                        ))
                    }
                    _ => return Err(self.unexpected(&sep)),
                }
            }
        }
        self.depth -= 1;
        if args.len() != arity {
            return Err(self.err(
                t,
                &format!(
                    "function '{name}' takes {arity} argument{}, got {}",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
            ));
        }
        let a = args[0];
        let b = &mut self.b;
        Ok(match name {
            "exp" => b.push(Op::Exp(a)),
            "log" => b.ln(a),
            "log10" => {
                let l = b.ln(a);
                let c = b.push(Op::Const(std::f64::consts::LOG10_E));
                b.push(Op::Mul(l, c))
            }
            "sqrt" => b.push(Op::Sqrt(a)),
            "pow" => b.pow(a, args[1]),
            "abs" => b.push(Op::Abs(a)),
            "sin" => b.push(Op::Sin(a)),
            "cos" => b.push(Op::Cos(a)),
            "tan" => b.push(Op::Tan(a)),
            "atan" => b.push(Op::Atan(a)),
            "tanh" => b.push(Op::Tanh(a)),
            "min" => b.push(Op::Min(a, args[1])),
            "max" => b.push(Op::Max(a, args[1])),
            _ => unreachable!("FUNCTIONS lists every function"),
        })
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

// ------------------------------------------------------------------------------------------
// Program: the compacted DAG and its evaluation plan
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Const,
    /// Depends on parameters only: evaluated once per call.
    Uniform,
    /// Depends on the data: a column per block.
    Varying,
}

#[derive(Debug, Clone)]
struct Node {
    op: Op,
    kind: Kind,
    /// Bit k: depends on parameter k.
    deps: u64,
}

/// Where an operand's values come from.
#[derive(Debug, Clone, Copy)]
enum Src {
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
enum DSrc {
    Zero,
    /// Gradient entry (node, k) of a data-independent node.
    Uni(u32, u32),
    Col(u32),
}

/// Derivative column of a step's result with respect to parameter `k`.
#[derive(Debug, Clone, Copy)]
struct DStep {
    k: u32,
    /// Scratch column, or `EXTERNAL` for the root (written straight into the Jacobian).
    dst: u32,
    da: DSrc,
    db: DSrc,
}

const EXTERNAL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    out: u32,
    a: Src,
    b: Src,
    d: Vec<DStep>,
}

#[derive(Debug, Clone)]
struct Program {
    nodes: Vec<Node>,
    root: usize,
    n_params: usize,
    /// Const and data-independent nodes, in evaluation order.
    uniform: Vec<u32>,
    steps: Vec<Step>,
    /// Scratch columns besides the two temporaries.
    n_cols: usize,
}

impl Program {
    /// Keeps the nodes the root depends on, classifies them and plans the tape.
    fn build(ops: &[Op], root: u32, n_params: usize) -> Program {
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

    fn uses_var(&self, v: u32) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.op, Op::Var(w) | Op::LnVar(w) if w == v))
    }

    /// Whether every use of variable `v` goes through its logarithm.
    fn only_logs(&self, v: u32) -> bool {
        !self
            .nodes
            .iter()
            .any(|n| matches!(n.op, Op::Var(w) if w == v))
    }
}

// ------------------------------------------------------------------------------------------
// Column kernels
// ------------------------------------------------------------------------------------------

/// An operand over a block: one scalar for every point, or a column.
#[derive(Clone, Copy)]
enum V<'a> {
    Sc(f64),
    Col(&'a [f64]),
}

/// A derivative over a block: structurally zero, a scalar, or a column.
#[derive(Clone, Copy)]
enum D<'a> {
    Zero,
    Sc(f64),
    Col(&'a [f64]),
}

#[inline(always)]
fn un(o: &mut [f64], a: V, f: impl Fn(f64) -> f64) {
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
fn bin(o: &mut [f64], a: V, b: V, f: impl Fn(f64, f64) -> f64) {
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
enum Term<'a> {
    Zero,
    Sc(f64),
    Scaled(&'a [f64], f64),
    Prod(&'a [f64], &'a [f64]),
}

#[inline(always)]
fn term<'a>(p: V<'a>, d: D<'a>) -> Term<'a> {
    match (p, d) {
        (_, D::Zero) => Term::Zero,
        (V::Sc(p), D::Sc(d)) => Term::Sc(p * d),
        (V::Sc(p), D::Col(d)) => Term::Scaled(d, p),
        (V::Col(p), D::Sc(d)) => Term::Scaled(p, d),
        (V::Col(p), D::Col(d)) => Term::Prod(p, d),
    }
}

#[inline(always)]
fn term_set<const FMA: bool>(o: &mut [f64], t: Term) {
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
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn term_add<const FMA: bool>(o: &mut [f64], t: Term) {
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
fn chain<const FMA: bool>(o: &mut [f64], pa: V, da: D, pb: V, db: D) {
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
fn value<const FMA: bool>(op: Op, a: V, b: V, o: &mut [f64]) {
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
enum Pd {
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
fn partials(op: Op, a: V, b: V, c: &[f64], t0: &mut [f64], t1: &mut [f64]) -> (Pd, Pd) {
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
struct Ro<'a> {
    lo: &'a [f64],
    hi: &'a [f64],
    skip: usize,
    blk: usize,
    len: usize,
}

impl<'a> Ro<'a> {
    fn all(buf: &'a [f64], blk: usize, len: usize) -> Self {
        Ro {
            lo: buf,
            hi: &[],
            skip: usize::MAX,
            blk,
            len,
        }
    }

    #[inline(always)]
    fn col(&self, c: u32) -> &'a [f64] {
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
fn split_col(buf: &mut [f64], c: u32, blk: usize, len: usize) -> (&mut [f64], Ro<'_>) {
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
struct Ctx<'a> {
    x: &'a Cols<'a>,
    /// Bit v: the data carry the log column of variable v.
    logs: u64,
    uv: &'a [f64],
    ug: &'a [f64],
    p: usize,
}

impl<'a> Ctx<'a> {
    #[inline(always)]
    fn val<'r>(&'r self, s: Src, ro: &Ro<'r>, i0: usize, len: usize) -> V<'r>
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
    fn der<'r>(&'r self, s: DSrc, ro: &Ro<'r>) -> D<'r>
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

fn pd<'a>(p: Pd, t0: &'a [f64], t1: &'a [f64], a: V<'a>, b: V<'a>, c: &'a [f64]) -> V<'a> {
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
fn run_tape<const FMA: bool>(
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
fn run_tape_avx2(
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
    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: Option<&mut [f64]>) {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut buf) => self.eval_in(&mut buf, x, p, out, jac),
            Err(_) => self.eval_in(&mut Vec::new(), x, p, out, jac),
        })
    }

    fn eval_in(
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

// ------------------------------------------------------------------------------------------
// The law
// ------------------------------------------------------------------------------------------

/// A law written by the user as text, compiled once. Stateless and shareable across threads.
#[derive(Debug, Clone)]
pub struct ExprLaw {
    name: String,
    source: String,
    params: Vec<String>,
    vars: Vec<String>,
    positive: Vec<bool>,
    linear: Vec<bool>,
    p0: Option<Vec<f64>>,
    prog: Program,
    structure: Structure,
    needs_logs: bool,
}

fn check_names(kind: &str, names: &[String]) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() || !n.starts_with(is_name_start) || !n.chars().all(is_name_char) {
            return Err(Error::InvalidLaw(format!(
                "{kind} name '{n}' is not a valid name (letters, digits and '_', not starting \
                 with a digit)"
            )));
        }
        if n == "pi" || FUNCTIONS.iter().any(|f| f.0 == n) {
            return Err(Error::InvalidLaw(format!(
                "{kind} name '{n}' is reserved (a function or constant of the language)"
            )));
        }
        if names[..i].contains(n) {
            return Err(Error::InvalidLaw(format!("{kind} '{n}' is listed twice")));
        }
    }
    if names.len() > MAX_NAMES {
        return Err(Error::InvalidLaw(format!(
            "too many {kind}s ({}; at most {MAX_NAMES})",
            names.len()
        )));
    }
    Ok(())
}

fn plural(v: &[String]) -> String {
    let q: Vec<String> = v.iter().map(|s| format!("'{s}'")).collect();
    q.join(", ")
}

impl ExprLaw {
    /// Parses and compiles `expr` over the data columns `variables`. `params` fixes the
    /// parameter order (every other name is then an error); without it parameters are the
    /// remaining names in order of first appearance.
    pub fn compile<S: AsRef<str>>(
        expr: &str,
        variables: &[S],
        params: Option<&[S]>,
    ) -> Result<Self> {
        let vars: Vec<String> = variables.iter().map(|s| s.as_ref().to_string()).collect();
        check_names("variable", &vars)?;
        if vars.is_empty() {
            return Err(Error::InvalidLaw(
                "a law needs at least one variable (a data column)".into(),
            ));
        }
        let given: Option<Vec<String>> =
            params.map(|p| p.iter().map(|s| s.as_ref().to_string()).collect());
        if let Some(g) = &given {
            check_names("parameter", g)?;
            if let Some(both) = g.iter().find(|p| vars.contains(p)) {
                return Err(Error::InvalidLaw(format!(
                    "'{both}' is listed both as a variable and as a parameter"
                )));
            }
        }
        let toks = tokenize(expr)?;
        let mut ps = Parser {
            src: expr,
            toks,
            i: 0,
            depth: 0,
            b: Builder::default(),
            seen_vars: vec![false; vars.len()],
            vars,
            seen_params: vec![false; given.as_ref().map_or(0, |g| g.len())],
            params_given: given.is_some(),
            params: given.unwrap_or_default(),
        };
        let root = ps.parse()?;
        let (vars, params) = (ps.vars, ps.params);
        let missing_v: Vec<String> = vars
            .iter()
            .zip(&ps.seen_vars)
            .filter(|(_, s)| !**s)
            .map(|(v, _)| v.clone())
            .collect();
        if !missing_v.is_empty() {
            return Err(Error::InvalidLaw(format!(
                "variable{} {} not in the law",
                if missing_v.len() > 1 { "s" } else { "" },
                plural(&missing_v) + if missing_v.len() > 1 { " are" } else { " is" }
            )));
        }
        let missing_p: Vec<String> = params
            .iter()
            .zip(&ps.seen_params)
            .filter(|(_, s)| !**s)
            .map(|(v, _)| v.clone())
            .collect();
        if !missing_p.is_empty() {
            return Err(Error::InvalidLaw(format!(
                "parameter{} {} not in the law",
                if missing_p.len() > 1 { "s" } else { "" },
                plural(&missing_p) + if missing_p.len() > 1 { " are" } else { " is" }
            )));
        }
        if params.is_empty() {
            return Err(Error::InvalidLaw(
                "the law has no parameters to fit (every name in it is a variable)".into(),
            ));
        }
        let prog = Program::build(&ps.b.ops, root, params.len());
        let root_deps = prog.nodes[prog.root].deps;
        let idle: Vec<String> = (0..params.len())
            .filter(|&k| root_deps >> k & 1 == 0)
            .map(|k| params[k].clone())
            .collect();
        if !idle.is_empty() {
            return Err(Error::InvalidLaw(format!(
                "the law does not depend on {} (the expression simplifies it away)",
                plural(&idle)
            )));
        }
        let idle: Vec<String> = (0..vars.len())
            .filter(|&v| !prog.uses_var(v as u32))
            .map(|v| vars[v].clone())
            .collect();
        if !idle.is_empty() {
            return Err(Error::InvalidLaw(format!(
                "the law does not depend on {} (the expression simplifies it away)",
                plural(&idle)
            )));
        }
        let structure = detect_power_sum(&prog).unwrap_or(Structure::General);
        // A power-sum law reads only log x: it takes the precomputed logs (and, like the
        // built-in laws, positive data). Other laws accept any finite data.
        let needs_logs = matches!(structure, Structure::PowerSum { .. })
            && (0..vars.len() as u32).all(|v| prog.only_logs(v));
        let structure = if needs_logs {
            structure
        } else {
            Structure::General
        };
        let np = params.len();
        Ok(ExprLaw {
            name: "custom".into(),
            source: expr.to_string(),
            positive: vec![false; np],
            linear: vec![false; np],
            p0: None,
            params,
            vars,
            prog,
            structure,
            needs_logs,
        })
    }

    fn indices<S: AsRef<str>>(&self, what: &str, names: &[S]) -> Result<Vec<usize>> {
        names
            .iter()
            .map(|s| {
                let s = s.as_ref();
                self.params.iter().position(|p| p == s).ok_or_else(|| {
                    Error::InvalidLaw(format!(
                        "{what}: '{s}' is not a parameter of the law (parameters: {})",
                        self.params.join(", ")
                    ))
                })
            })
            .collect()
    }

    /// Parameters that are positive by nature: the solver works with their logarithm.
    pub fn with_positive<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        let idx = self.indices("positive", names)?;
        self.positive = vec![false; self.params.len()];
        for k in idx {
            self.positive[k] = true;
        }
        self.check_p0()?;
        Ok(self)
    }

    /// Parameters that enter linearly; checked against the expression.
    pub fn with_linear<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        let idx = self.indices("linear", names)?;
        let lin = linear_params(&self.prog);
        let bad: Vec<String> = idx
            .iter()
            .filter(|&&k| lin >> k & 1 == 0)
            .map(|&k| self.params[k].clone())
            .collect();
        if !bad.is_empty() {
            return Err(Error::InvalidLaw(format!(
                "linear: the law is not linear in {}",
                plural(&bad)
            )));
        }
        self.linear = vec![false; self.params.len()];
        for k in idx {
            self.linear[k] = true;
        }
        Ok(self)
    }

    /// The default start (natural values, one per parameter).
    pub fn with_p0(mut self, p0: Vec<f64>) -> Result<Self> {
        self.p0 = Some(p0);
        self.check_p0()?;
        Ok(self)
    }

    pub fn with_name(mut self, name: &str) -> Result<Self> {
        if name.trim().is_empty() {
            return Err(Error::InvalidLaw("a law's name cannot be empty".into()));
        }
        self.name = name.to_string();
        Ok(self)
    }

    fn check_p0(&self) -> Result<()> {
        let Some(p0) = &self.p0 else { return Ok(()) };
        if p0.len() != self.params.len() {
            return Err(Error::InvalidOption(format!(
                "p0 has {} values but the law has {} parameters ({})",
                p0.len(),
                self.params.len(),
                self.params.join(", ")
            )));
        }
        for (k, &v) in p0.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::InvalidOption(format!(
                    "p0 of parameter '{}' is not finite: {v}",
                    self.params[k]
                )));
            }
            if self.positive[k] && v <= 0.0 {
                return Err(Error::InvalidOption(format!(
                    "parameter '{}' is declared positive but its p0 is {v}",
                    self.params[k]
                )));
            }
        }
        Ok(())
    }

    /// The law's text as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Which parameters were declared linear.
    pub fn linear(&self) -> &[bool] {
        &self.linear
    }

    /// The default start, if one was given.
    pub fn p0(&self) -> Option<&[f64]> {
        self.p0.as_deref()
    }

    /// Instructions on the per-point tape (for tests and reports).
    pub fn tape_len(&self) -> usize {
        self.prog.steps.len()
    }
}

impl Law for ExprLaw {
    fn name(&self) -> &str {
        &self.name
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }
    fn needs_logs(&self) -> bool {
        self.needs_logs
    }
    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        self.prog.eval(x, p, out, None);
    }
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.prog.eval(x, p, out, Some(jac));
    }
    fn positive(&self) -> Vec<bool> {
        self.positive.clone()
    }
    fn eval_dd(&self, x: &Cols, p: &[f64], hi: &mut [f64], lo: &mut [f64]) -> bool {
        self.prog.eval_dd(x, p, hi, lo)
    }
    fn structure(&self) -> Structure {
        self.structure.clone()
    }
    fn default_start(&self) -> Option<Vec<f64>> {
        self.p0.clone()
    }
}

impl Program {
    /// Point-by-point evaluation in double-double (see `Law::eval_dd`). Not for the hot path:
    /// it walks the nodes per point. The trigonometric functions have no double-double
    /// version here, so laws using them return false.
    fn eval_dd(&self, x: &Cols, p: &[f64], hi: &mut [f64], lo: &mut [f64]) -> bool {
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

/// Parameters in which the law is affine (for fixed values of the others), as a bit mask.
fn linear_params(prog: &Program) -> u64 {
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
fn detect_power_sum(prog: &Program) -> Option<Structure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::OwnedCols;

    fn at(e: &str, v: &[&str], x: &[f64], p: &[f64]) -> f64 {
        let l = ExprLaw::compile(e, v, None).unwrap();
        let cols = OwnedCols::new(x.iter().map(|v| vec![*v]).collect(), l.needs_logs());
        let mut out = [0.0];
        l.eval(&cols.view(), p, &mut out);
        out[0]
    }

    #[test]
    fn unary_minus_binds_looser_than_power() {
        assert_eq!(at("a - x^2", &["x"], &[3.0], &[1.0]), -8.0);
        assert_eq!(at("a * -x^2", &["x"], &[3.0], &[2.0]), -18.0);
        assert_eq!(at("a * 2^-x", &["x"], &[2.0], &[1.0]), 0.25);
        assert!((at("a * 2^3^x", &["x"], &[2.0], &[1.0]) - 512.0).abs() < 1e-12 * 512.0);
        assert_eq!(at("a * (-x)^2", &["x"], &[3.0], &[1.0]), 9.0);
        assert_eq!(at("a * x**2", &["x"], &[-3.0], &[1.0]), 9.0);
    }

    #[test]
    fn shares_and_folds() {
        let l = ExprLaw::compile("a*exp(x) + b*exp(x) + 2*3", &["x"], None).unwrap();
        // exp(x) once, two products, two sums
        assert_eq!(l.tape_len(), 5, "{:?}", l.prog.steps);
    }
}
