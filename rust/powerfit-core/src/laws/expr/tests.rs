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
