//! The recursive-descent parser (grammar in the module's documentation): tokens to DAG nodes,
//! names sorted into variables and parameters.

use super::dag::{Builder, Op};
use super::lex::{caret_error, Tok, Token};
use super::{FUNCTIONS, MAX_DEPTH, MAX_NAMES};
use crate::error::{Error, Result};

pub(super) struct Parser<'s> {
    pub(super) src: &'s str,
    pub(super) toks: Vec<Token>,
    pub(super) i: usize,
    pub(super) depth: usize,
    pub(super) b: Builder,
    pub(super) vars: Vec<String>,
    pub(super) params: Vec<String>,
    /// Whether `params` was given (names outside it are errors) or is being discovered.
    pub(super) params_given: bool,
    pub(super) seen_vars: Vec<bool>,
    pub(super) seen_params: Vec<bool>,
}

impl<'s> Parser<'s> {
    pub(super) fn peek(&self) -> &Token {
        &self.toks[self.i]
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    pub(super) fn err(&self, tok: &Token, msg: &str) -> Error {
        caret_error(self.src, tok.pos, msg)
    }

    pub(super) fn unexpected(&self, tok: &Token) -> Error {
        match tok.tok {
            Tok::End => self.err(tok, "unexpected end of expression"),
            _ => self.err(tok, &format!("unexpected {}", tok.describe())),
        }
    }

    /// One more level of nesting: a parenthesis, a function call, a sign or a power, each of
    /// which makes the parser recurse once.
    pub(super) fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek().clone();
            return Err(self.err(
                &t,
                &format!(
                    "expression nested too deeply: at most {MAX_DEPTH} parentheses, function \
                     calls, signs and powers may be open at once"
                ),
            ));
        }
        Ok(())
    }

    /// A law, or an equation `lhs = rhs` (an implicit law): the root of each side.
    pub(super) fn parse(&mut self) -> Result<(u32, Option<u32>)> {
        if self.peek().tok == Tok::End {
            return Err(Error::InvalidLaw("the law is empty".into()));
        }
        let lhs = self.sum()?;
        if self.peek().tok != Tok::Equals {
            self.finish()?;
            return Ok((lhs, None));
        }
        let eq = self.next();
        if self.peek().tok == Tok::End {
            return Err(self.err(&eq, "the equation has no right-hand side"));
        }
        let rhs = self.sum()?;
        self.finish()?;
        Ok((lhs, Some(rhs)))
    }

    /// The end of the text, or an error naming what follows a complete expression.
    fn finish(&mut self) -> Result<()> {
        let t = self.peek().clone();
        match t.tok {
            Tok::End => Ok(()),
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

    pub(super) fn sum(&mut self) -> Result<u32> {
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

    pub(super) fn product(&mut self) -> Result<u32> {
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

    pub(super) fn unary(&mut self) -> Result<u32> {
        let negate = match self.peek().tok {
            Tok::Minus => true,
            Tok::Plus => false,
            _ => return self.power(),
        };
        self.next();
        self.enter()?;
        let a = self.unary()?;
        self.depth -= 1;
        Ok(if negate { self.b.push(Op::Neg(a)) } else { a })
    }

    pub(super) fn power(&mut self) -> Result<u32> {
        let base = self.atom()?;
        if self.peek().tok == Tok::Caret {
            self.next();
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(self.b.pow(base, e));
        }
        Ok(base)
    }

    pub(super) fn atom(&mut self) -> Result<u32> {
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
    pub(super) fn close(&mut self, open: &Token) -> Result<()> {
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

    pub(super) fn name(&mut self, t: &Token, name: &str) -> Result<u32> {
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

    pub(super) fn call(&mut self, t: &Token, name: &str) -> Result<u32> {
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

pub(super) fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
