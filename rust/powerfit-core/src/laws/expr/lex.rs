//! The lexer: tokens with their byte positions, and errors with a caret under the offending
//! character.

use crate::error::{Error, Result};

pub(super) fn caret_error(src: &str, pos: usize, msg: &str) -> Error {
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

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
    /// '=' of an implicit law lhs = rhs.
    Equals,
    End,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// Character index of the token's first character.
    pub(super) pos: usize,
    pub(super) text: String,
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match &self.tok {
            Tok::Num(_) => format!("number {}", self.text),
            Tok::Name(n) => format!("name '{n}'"),
            Tok::End => "end of expression".into(),
            _ => format!("'{}'", self.text),
        }
    }
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(super) fn tokenize(src: &str) -> Result<Vec<Token>> {
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
            '=' => simple(Tok::Equals, 1),
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
