//! Unit tests of the compiler.

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

/// `depth` levels of one nesting construct around `a*x`.
fn nested(kind: &str, depth: usize) -> String {
    match kind {
        "paren" => format!("{}a*x{}", "(".repeat(depth), ")".repeat(depth)),
        "call" => format!("{}a*x{}", "exp(".repeat(depth), ")".repeat(depth)),
        "sign" => format!("a*{}x", "-".repeat(depth)),
        "power" => format!("a*x{}", "^x".repeat(depth)),
        _ => unreachable!(),
    }
}

#[test]
fn the_nesting_limit_is_the_one_the_message_states() {
    // run where the stack is small, as on a worker thread, to show the limit keeps it safe
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            for kind in ["paren", "call", "sign", "power"] {
                ExprLaw::compile(&nested(kind, MAX_DEPTH), &["x"], None)
                    .unwrap_or_else(|e| panic!("{kind} x {MAX_DEPTH}: {e}"));
                let e = ExprLaw::compile(&nested(kind, MAX_DEPTH + 1), &["x"], None)
                    .unwrap_err()
                    .to_string();
                assert!(
                    e.contains(&format!("at most {MAX_DEPTH} parentheses")),
                    "{e}"
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
