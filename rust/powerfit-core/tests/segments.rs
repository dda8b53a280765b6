//! Predictions where each segment of the points takes its own parameter row: the same values
//! as evaluating each segment alone, and shape errors instead of panics.
use powerfit_core::analysis::{evaluate_many, evaluate_segments};
use powerfit_core::laws::ExprLaw;
use powerfit_core::*;

fn law() -> ExprLaw {
    ExprLaw::compile("E + A*x^-alpha", &["x"], None).unwrap()
}

#[test]
fn each_segment_takes_its_own_row() {
    let law = law();
    let x: Vec<f64> = (1..=10).map(|i| i as f64 * 3.0).collect();
    let cols = OwnedCols::new(vec![x.clone()], law.needs_logs());
    let params = [1.0, 2.0, 0.5, 0.5, 3.0, 0.25, 2.0, 1.0, 1.0];
    // an empty segment in the middle is allowed
    let offsets = [0, 4, 4, 10];
    let out = evaluate_segments(&law, &cols.view(), &params, &offsets).unwrap();
    for (s, w) in offsets.windows(2).enumerate() {
        let seg = OwnedCols::new(vec![x[w[0]..w[1]].to_vec()], law.needs_logs());
        let alone = evaluate_many(&law, &seg.view(), &params[s * 3..(s + 1) * 3]).unwrap();
        assert_eq!(&out[w[0]..w[1]], alone.as_slice(), "segment {s}");
    }
}

#[test]
fn bad_offsets_and_rows_are_errors() {
    let law = law();
    let cols = OwnedCols::new(vec![vec![1.0, 2.0, 3.0]], law.needs_logs());
    let p = [1.0, 2.0, 0.5, 1.0, 2.0, 0.5];
    for offsets in [&[0, 2][..], &[1, 2, 3], &[0, 2, 1, 3], &[0, 3, 2]] {
        let err = evaluate_segments(&law, &cols.view(), &p, offsets);
        assert!(matches!(err, Err(Error::InvalidShape(_))), "{offsets:?}");
    }
    let err = evaluate_segments(&law, &cols.view(), &p[..5], &[0, 1, 3]);
    assert!(matches!(err, Err(Error::InvalidShape(_))));
    let none = evaluate_segments(&law, &cols.view(), &[], &[]);
    assert!(matches!(none, Err(Error::InvalidShape(_))));
}
