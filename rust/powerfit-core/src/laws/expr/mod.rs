//! User-written laws: a small, safe expression language, compiled to a register tape
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
//! law     := sum | sum '=' sum                  an equation in the loss L: an implicit law
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
//!
//! An equation `lhs = rhs` is an implicit law in the loss `L` (see `implicit`): the fit
//! compares its two sides at the observed loss, predictions solve it for L.

mod dag;
mod detect;
mod implicit;
mod kernels;
mod lex;
mod parse;
mod program;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::law::{Cols, Law, Structure};
use crate::loss::Scale;

use dag::Builder;
use detect::{detect_power_sum, linear_params};
pub use implicit::LOSS_SYMBOL;
use implicit::{residual_nodes, Implicit};
use lex::{is_name_char, is_name_start, tokenize, Tok};
use parse::Parser;
use program::Program;

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

/// Most parentheses, function calls, unary signs and powers open at once (the parser recurses
/// once for each; 200 levels use well under 1 MB of stack).
const MAX_DEPTH: usize = 200;
/// Most parameters / variables of one law (dependency sets are 64-bit masks).
const MAX_NAMES: usize = 64;
/// Largest |n| for which a constant integer exponent is an exact integer power.
const MAX_INT_POW: f64 = 1024.0;
/// Points per block of the column-wise evaluation.
const BLOCK: usize = 256;

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
    /// The programs of an equation `lhs = rhs` in the loss (an implicit law).
    implicit: Option<Box<Implicit>>,
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
        let implicit = toks.iter().any(|t| t.tok == Tok::Equals);
        let mut vars = vars;
        if implicit {
            let clash = vars
                .iter()
                .chain(given.iter().flatten())
                .any(|n| n == LOSS_SYMBOL);
            if clash {
                return Err(Error::InvalidLaw(format!(
                    "'{LOSS_SYMBOL}' is the loss in an implicit law (an equation): it cannot also \
                     be a variable or a parameter"
                )));
            }
            vars.push(LOSS_SYMBOL.to_string());
        }
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
        let (lhs, rhs) = ps.parse()?;
        let (mut vars, params) = (ps.vars, ps.params);
        let mut seen_vars = ps.seen_vars;
        if implicit {
            vars.pop();
            if seen_vars.pop() != Some(true) {
                return Err(Error::InvalidLaw(format!(
                    "an implicit law (an equation) must contain the loss '{LOSS_SYMBOL}'"
                )));
            }
        }
        let missing_v: Vec<String> = vars
            .iter()
            .zip(&seen_vars)
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
        let np = params.len();
        let (root, implicit) = match rhs {
            None => (lhs, None),
            Some(rhs) => {
                let l_var = vars.len() as u32;
                let [lin, log, d] = residual_nodes(&mut ps.b, lhs, rhs, l_var);
                let imp = Implicit {
                    lin: Program::build(&ps.b.ops, lin, np),
                    log: Program::build(&ps.b.ops, log, np),
                    dlin: Program::build(&ps.b.ops, d, np),
                    n_vars: vars.len(),
                };
                (lin, Some(Box::new(imp)))
            }
        };
        let prog = Program::build(&ps.b.ops, root, np);
        let root_deps = prog.nodes[prog.root].deps;
        let idle: Vec<String> = (0..np)
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
        let constant_in_loss = |imp: &Implicit| {
            !imp.lin.uses_var(imp.n_vars as u32)
                || matches!(imp.dlin.nodes[imp.dlin.root].op, dag::Op::Const(v) if v == 0.0)
        };
        if implicit.as_deref().is_some_and(constant_in_loss) {
            return Err(Error::InvalidLaw(format!(
                "the equation does not depend on the loss '{LOSS_SYMBOL}' (it simplifies away)"
            )));
        }
        let structure = match implicit {
            Some(_) => Structure::General,
            None => detect_power_sum(&prog).unwrap_or(Structure::General),
        };
        // A power-sum law reads only log x: it takes the precomputed logs (and, like the
        // built-in laws, positive data). Other laws accept any finite data.
        let needs_logs = matches!(structure, Structure::PowerSum { .. })
            && (0..vars.len() as u32).all(|v| prog.only_logs(v));
        let structure = if needs_logs {
            structure
        } else {
            Structure::General
        };
        Ok(ExprLaw {
            name: "custom".into(),
            source: expr.to_string(),
            positive: vec![false; np],
            linear: vec![false; np],
            p0: None,
            params,
            vars,
            prog,
            implicit,
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
        match &self.implicit {
            Some(imp) => imp.solve(x, p, out, None),
            None => self.prog.eval(x, p, out, None),
        }
    }
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        match &self.implicit {
            Some(imp) => imp.solve(x, p, out, Some(jac)),
            None => self.prog.eval(x, p, out, Some(jac)),
        }
    }
    fn is_implicit(&self) -> bool {
        self.implicit.is_some()
    }
    fn eval_jac_fit(
        &self,
        x: &Cols,
        target: &[f64],
        scale: Scale,
        p: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
    ) {
        match &self.implicit {
            Some(imp) => imp.eval_fit(x, target, scale, p, out, jac),
            None => self.prog.eval(x, p, out, Some(jac)),
        }
    }
    fn positive(&self) -> Vec<bool> {
        self.positive.clone()
    }
    fn eval_dd(&self, x: &Cols, p: &[f64], hi: &mut [f64], lo: &mut [f64]) -> bool {
        self.implicit.is_none() && self.prog.eval_dd(x, p, hi, lo)
    }
    fn structure(&self) -> Structure {
        self.structure.clone()
    }
    fn default_start(&self) -> Option<Vec<f64>> {
        self.p0.clone()
    }
}
