use super::*;

#[test]
fn parabola_vertex_exact() {
    // y = 0.3 (x - 1.7)^2 + 2 sampled at 7 points: every window recovers the vertex
    let x: Vec<f64> = (0..7).map(|k| k as f64 * 0.5).collect();
    let y: Vec<f64> = x.iter().map(|v| 0.3 * (v - 1.7).powi(2) + 2.0).collect();
    for h in 1..4 {
        let o = local_parabola(&x, &y, None, h);
        assert_eq!(o.status, BudgetStatus::Ok);
        assert!((o.log_n - 1.7).abs() < 1e-12, "{h} {o:?}");
        assert!((o.log_l - 2.0).abs() < 1e-12);
        assert!((o.curvature - 0.6).abs() < 1e-10);
    }
    // symmetric window: the lowest point is index 3 (x = 1.5); h = 2 uses 1..=5
    let o = local_parabola(&x, &y, None, 2);
    assert_eq!((o.lo, o.hi), (1, 5));
    let o = local_parabola(&x[2..], &y[2..], None, 2);
    assert_eq!((o.lo, o.hi), (0, 2), "shrunk to stay symmetric at the end");
}

#[test]
fn edges_and_degenerate_profiles() {
    let x = [0.0, 1.0, 2.0, 3.0];
    assert_eq!(
        local_parabola(&x, &[1.0, 2.0, 3.0, 4.0], None, 2).status,
        BudgetStatus::EdgeLow
    );
    assert_eq!(
        local_parabola(&x, &[4.0, 3.0, 2.0, 1.0], None, 2).status,
        BudgetStatus::EdgeHigh
    );
    assert_eq!(
        local_parabola(&x[..2], &[1.0, 0.5], None, 2).status,
        BudgetStatus::TooFewSizes
    );
    assert_eq!(
        local_parabola(&x[..3], &[1.0, 1.0, 1.0], None, 2).status,
        BudgetStatus::EdgeLow
    );
    assert_eq!(
        local_parabola(&x[..3], &[1.0, 0.5, 0.5], None, 2).status,
        BudgetStatus::Ok
    );
}

#[test]
fn weights_are_multiplicities() {
    let x = [0.0, 0.4, 1.1, 1.5, 2.3];
    let y = [1.3, 1.0, 0.9, 1.05, 1.6];
    let w = [2.0, 1.0, 3.0, 1.0, 1.0];
    let (xr, yr): (Vec<f64>, Vec<f64>) = (0..5)
        .flat_map(|k| std::iter::repeat_n((x[k], y[k]), w[k] as usize))
        .unzip();
    // repeated points and weights give the same normal equations
    let a = parabola(&x, &y, Some(&w), 0, 4, x[2]).unwrap();
    let b = parabola(&xr, &yr, None, 0, xr.len() - 1, x[2]).unwrap();
    assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
    assert!((a.2 - b.2).abs() < 1e-12);
}

#[test]
fn power_fit_exact() {
    let x: Vec<f64> = (0..6).map(|k| 40.0 + k as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| -3.0 + 0.52 * v).collect();
    let f = power_fit(&x, &y);
    assert!((f.exponent - 0.52).abs() < 1e-13);
    assert!((f.log_coef + 3.0).abs() < 1e-11);
    assert!((f.r2 - 1.0).abs() < 1e-12);
    assert!(power_fit(&x[..1], &y[..1]).exponent.is_nan());
    assert!(power_fit(&[1.0, 1.0], &[2.0, 3.0]).exponent.is_nan());
}

#[test]
fn interpolation_and_grid() {
    let x = [0.0, 1.0, 3.0];
    let t = [1.0, 2.0, 0.0];
    assert_eq!(interp(&x, &t, -1.0), 1.0);
    assert_eq!(interp(&x, &t, 0.5), 1.5);
    assert_eq!(interp(&x, &t, 2.0), 1.0);
    assert_eq!(interp(&x, &t, 5.0), 0.0);
    let g = log_grid(1e18, 1e20, 3);
    assert_eq!(g[0], 1e18);
    assert!((g[1] / 1e19 - 1.0).abs() < 1e-12);
    assert_eq!(g[2], 1e20);
}

#[test]
fn status_codes_round_trip() {
    for s in BudgetStatus::ALL {
        assert_eq!(BudgetStatus::from_code(s.code()), Some(s));
    }
    assert_eq!(BudgetStatus::from_code(99), None);
}
