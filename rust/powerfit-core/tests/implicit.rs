//! Written implicit laws (equations in the loss L): they predict, differentiate and fit like the
//! built-in M4, and bad equations are refused with a clear message.
use powerfit_core::*;

fn geom(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
        .collect()
}

const M4_TEXT: &str = "(L - eps_inf)/(eps_0 - L)^alpha = beta*x^-c";

fn written_m4() -> laws::ExprLaw {
    laws::ExprLaw::compile(
        M4_TEXT,
        &["x"],
        Some(&["eps_inf", "beta", "c", "alpha", "eps_0"][..]),
    )
    .unwrap()
    .with_positive(&["beta"])
    .unwrap()
}

#[test]
fn written_m4_predicts_and_differentiates_like_the_builtin() {
    let written = written_m4();
    assert!(written.is_implicit());
    assert_eq!(written.var_names(), &["x".to_string()]);
    let builtin = laws::builtin("m4", &["x".to_string()]).unwrap();
    let cols = OwnedCols::new(vec![geom(1e2, 1e12, 700)], false);
    let logs = OwnedCols::new(vec![geom(1e2, 1e12, 700)], true);
    let p = [1.5, 30.0, 0.3, 0.8, 6.0];
    let n = 700;
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    let (mut ja, mut jb) = (vec![0.0; n * 5], vec![0.0; n * 5]);
    written.eval_jac(&cols.view(), &p, &mut a, &mut ja);
    builtin.eval_jac(&logs.view(), &p, &mut b, &mut jb);
    for i in 0..n {
        assert!(
            (a[i] - b[i]).abs() <= 1e-13 * b[i],
            "row {i}: {} vs {}",
            a[i],
            b[i]
        );
        let (lhs, rhs) = (
            (a[i] - p[0]) / (p[4] - a[i]).powf(p[3]),
            p[1] * cols.x[0][i].powf(-p[2]),
        );
        assert!(
            ((lhs - rhs) / rhs).abs() <= 1e-10,
            "row {i}: {lhs} vs {rhs}"
        );
    }
    for k in 0..n * 5 {
        assert!(
            (ja[k] - jb[k]).abs() <= 1e-8 * jb[k].abs().max(1e-12),
            "jac {k}"
        );
    }
}

#[test]
fn written_m4_fits_like_the_builtin() {
    let written = written_m4()
        .with_p0(vec![1.3, 25.0, 0.25, 0.7, 7.0])
        .unwrap();
    let truth = [1.5, 30.0, 0.3, 0.8, 6.0];
    let x = geom(1e4, 1e9, 30);
    let builtin = laws::builtin("m4", &["x".to_string()]).unwrap();
    let logs = OwnedCols::new(vec![x.clone()], true);
    let mut y = vec![0.0; 30];
    builtin.eval(&logs.view(), &truth, &mut y);
    let cols = OwnedCols::new(vec![x], false);
    let view = cols.view();
    for loss in [Loss::from_name("log", 0.0, 1.0).unwrap(), Loss::L2] {
        let target = target_for(&loss, &y);
        let spec = ParamSpec::for_law(&written);
        let pb = Problem {
            law: &written,
            cols: &view,
            target: &target,
            weights: None,
            loss,
            spec: &spec,
        };
        let r = fit(&pb, &FitOptions::default(), None).unwrap();
        assert!(r.termination.is_success(), "{:?}", r.termination);
        for (got, want) in r.params.iter().zip(truth) {
            assert!((got - want).abs() <= 1e-5 * want, "{:?}", r.params);
        }
        assert!(r.cov.is_some(), "{}", r.cov_note);
    }
}

#[test]
fn fit_residuals_are_the_equation_on_the_loss_scale() {
    let law = laws::ExprLaw::compile("L*(1 + k*L) = a*x^-b", &["x"], None).unwrap();
    let x = geom(1.0, 100.0, 5);
    let cols = OwnedCols::new(vec![x.clone()], false);
    let y = [3.0, 2.5, 2.0, 1.8, 1.7];
    let p = [0.5, 10.0, 0.3]; // k, a, b
    for scale in [Scale::Linear, Scale::Log] {
        let target: Vec<f64> = match scale {
            Scale::Linear => y.to_vec(),
            Scale::Log => y.iter().map(|v| v.ln()).collect(),
        };
        let (mut f, mut jac) = (vec![0.0; 5], vec![0.0; 15]);
        law.eval_jac_fit(&cols.view(), &target, scale, &p, &mut f, &mut jac);
        for i in 0..5 {
            let (lhs, rhs) = (y[i] * (1.0 + p[0] * y[i]), p[1] * x[i].powf(-p[2]));
            let (r, want) = match scale {
                Scale::Linear => (f[i] - y[i], lhs - rhs),
                Scale::Log => (f[i].ln() - target[i], lhs.ln() - rhs.ln()),
            };
            assert!(
                (r - want).abs() < 1e-12 * (1.0 + want.abs()),
                "{scale:?} {r} {want}"
            );
            // d/dk of the residual: y^2 (linear) or y^2/lhs (log), through the pseudo-values
            let dk = match scale {
                Scale::Linear => jac[i],
                Scale::Log => jac[i] / f[i],
            };
            let want_dk = match scale {
                Scale::Linear => y[i] * y[i],
                Scale::Log => y[i] * y[i] / lhs,
            };
            assert!((dk - want_dk).abs() < 1e-12 * want_dk, "{dk} vs {want_dk}");
        }
    }
    // predictions: the positive root of k L^2 + L - a x^-b
    let mut out = vec![0.0; 5];
    law.eval(&cols.view(), &p, &mut out);
    for i in 0..5 {
        let r = p[1] * x[i].powf(-p[2]);
        let root = (-1.0 + (1.0 + 4.0 * p[0] * r).sqrt()) / (2.0 * p[0]);
        assert!((out[i] - root).abs() < 1e-13 * root, "{} vs {root}", out[i]);
    }
}

#[test]
fn no_root_in_range_is_nan_not_a_hang() {
    let law = laws::ExprLaw::compile("L^2 + a = b*x", &["x"], None).unwrap();
    let cols = OwnedCols::new(vec![vec![1.0, 2.0]], false);
    let mut out = vec![0.0; 2];
    law.eval(&cols.view(), &[5.0, 1.0], &mut out); // L^2 = x - 5 < 0
    assert!(out.iter().all(|v| v.is_nan()));
}

#[test]
fn bad_equations_are_refused() {
    let err = |t: &str, vars: &[&str]| {
        laws::ExprLaw::compile(t, vars, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(err("a*x = b", &["x"]).contains("must contain the loss 'L'"));
    assert!(err("L - a = b*L", &["L"]).contains("'L' is the loss"));
    assert!(err("L = a*x = b", &["x"]).contains("unexpected '='"));
    assert!(err("L*a*x =", &["x"]).contains("no right-hand side"));
    assert!(err("L - L = a*x", &["x"]).contains("does not depend on the loss"));
    // an explicit law is still explicit
    let l = laws::ExprLaw::compile("a + b*x", &["x"], None).unwrap();
    assert!(!l.is_implicit());
}
