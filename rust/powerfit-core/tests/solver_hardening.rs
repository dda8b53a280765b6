//! The solver's guarantees: stopping tests that do not depend on the scale of y, runaway
//! parameters flagged, requests too big for the machine refused before any work, the cancel
//! flag read at a bounded interval of work, and big fits identical for any number of threads.
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize};

use powerfit_core::bootstrap::{bootstrap, Method};
use powerfit_core::laws::ExprLaw;
use powerfit_core::*;
use support::*;

const TRUTH: [f64; 5] = [1.8, 480.0, 2100.0, 0.35, 0.37];
const P0: [f64; 5] = [2.0, 400.0, 400.0, 0.3, 0.3];

fn given(p0: &[f64]) -> FitOptions {
    FitOptions {
        starts: Starts::Given(p0.to_vec()),
        ..Default::default()
    }
}

/// Fits chinchilla-law data with y and the start's constant and amplitudes multiplied by `s`.
fn scaled_fit(d: &Data, s: f64, loss: Loss, auto: bool) -> FitResult {
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let y: Vec<f64> = d.y.iter().map(|v| v * s).collect();
    let o = Owned::new(law.as_ref(), d.x.clone(), &y, loss);
    let view = o.cols.view();
    let pb = Problem {
        law: law.as_ref(),
        cols: &view,
        target: &o.target,
        weights: None,
        loss,
        spec: &o.spec,
    };
    let p0 = [P0[0] * s, P0[1] * s, P0[2] * s, P0[3], P0[4]];
    let opts = if auto {
        FitOptions::default()
    } else {
        given(&p0)
    };
    fit(&pb, &opts, None).unwrap()
}

#[test]
fn stopping_tests_do_not_depend_on_the_scale_of_y() {
    let d = chinchilla(11, 150, TRUTH, 0.02);
    for auto in [false, true] {
        let base = scaled_fit(&d, 1.0, Loss::L2, auto);
        assert!(base.termination.is_success(), "{:?}", base.termination);
        assert!(base.n_iter > 0);
        for s in [1e-20, 1e-10, 1e20] {
            let r = scaled_fit(&d, s, Loss::L2, auto);
            let ctx = format!("scale {s}, auto {auto}: {:?} vs {:?}", r, base);
            assert_eq!(r.termination, base.termination, "{ctx}");
            assert_eq!(r.n_iter, base.n_iter, "{ctx}");
            for k in 0..5 {
                let want = if k < 3 {
                    base.params[k] * s
                } else {
                    base.params[k]
                };
                assert!(
                    (r.params[k] - want).abs() <= 1e-8 * want.abs(),
                    "parameter {k}: {ctx}"
                );
            }
            assert!((r.cost - base.cost * s * s).abs() <= 1e-8 * base.cost * s * s);
        }
    }
}

#[test]
fn noise_free_data_on_a_tiny_scale_is_an_exact_fit() {
    let d = chinchilla(12, 120, TRUTH, 0.0);
    let r = scaled_fit(&d, 1e-20, Loss::L2, false);
    assert!(r.termination.is_success(), "{:?}", r.termination);
    assert!(r.n_iter > 0);
    for k in 0..5 {
        let want = if k < 3 { TRUTH[k] * 1e-20 } else { TRUTH[k] };
        assert!(
            (r.params[k] - want).abs() <= 1e-6 * want,
            "{k}: {:?}",
            r.params
        );
    }
}

#[test]
fn a_tiny_huber_delta_is_not_an_exact_fit() {
    let d = chinchilla(13, 150, TRUTH, 0.03);
    for delta in [1e-30, 1e-12] {
        let r = scaled_fit(&d, 1.0, Loss::huber_log(delta), false);
        assert_ne!(
            r.termination,
            Termination::ZeroResidual,
            "delta {delta}: {r:?}"
        );
        assert!(r.n_iter > 0, "delta {delta}: {r:?}");
    }
}

#[test]
fn a_parameter_at_the_edge_of_the_range_is_not_a_converged_fit() {
    // constant losses: the Kaplan law fits them with N_c -> infinity
    let law = laws::builtin("kaplan", &[]).unwrap();
    let mut rng = Lcg(5);
    let x = design(&mut rng, 60, &["N", "D"]);
    let y = vec![3.0; 60];
    for loss in [Loss::L2, Loss::LOG] {
        let o = Owned::new(law.as_ref(), x.clone(), &y, loss);
        let view = o.cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &o.target,
            weights: None,
            loss,
            spec: &o.spec,
        };
        for opts in [FitOptions::default(), given(&[1e300, 0.08, 5e13, 0.1])] {
            let r = fit(&pb, &opts, None).unwrap();
            let huge = r.params.iter().any(|v| !(v.abs() < 1e300));
            assert!(
                !(huge && r.termination.is_success()),
                "{:?}: success with {:?}",
                r.termination,
                r.params
            );
            if r.termination == Termination::Diverged {
                assert!(!r.at_limit.is_empty());
            }
        }
    }
}

#[test]
fn runaway_is_judged_on_free_parameters_only() {
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let d = chinchilla(1, 40, TRUTH, 0.0);
    let o = Owned::new(law.as_ref(), d.x.clone(), &d.y, Loss::L2);
    let view = o.cols.view();
    let mut spec = o.spec.clone();
    spec.fixed[1] = Some(1e305);
    let pb = Problem {
        law: law.as_ref(),
        cols: &view,
        target: &o.target,
        weights: None,
        loss: o.loss,
        spec: &spec,
    };
    assert!(solver::lm::runaway(&pb, &[1.0, 1e305, 1.0, 0.3, 0.3]).is_empty());
    assert_eq!(
        solver::lm::runaway(&pb, &[1.0, 1e305, (700.0f64).exp(), 0.3, 0.3]),
        vec![2]
    );
    assert_eq!(
        solver::lm::runaway(&pb, &[f64::NAN, 1e305, 1.0, 0.3, 0.3]),
        vec![0]
    );
}

#[test]
fn a_bootstrap_table_beyond_memory_is_refused_before_any_work() {
    let base = laws::builtin("chinchilla", &[]).unwrap();
    let flag = AtomicBool::new(false);
    let law = Counting {
        inner: base.as_ref(),
        calls: AtomicUsize::new(0),
        raise_at: usize::MAX,
        flag: &flag,
    };
    let d = chinchilla(2, 50, TRUTH, 0.01);
    let o = Owned::new(&law, d.x.clone(), &d.y, Loss::L2);
    let view = o.cols.view();
    let pb = o.problem(&law, &view);
    let opts = LmOptions::default();
    for n in [1_000_000_000_000usize, usize::MAX] {
        let e = bootstrap(&pb, &TRUTH, &Method::Case, n, 0, &opts, None, None).unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, Error::InvalidOption(_)), "{m}");
        assert!(m.contains(&format!("bootstrap n={n} needs")), "{m}");
        assert!(m.contains("the limit is"), "{m}");
    }
    assert_eq!(law.count(), 0, "the law was evaluated before the refusal");
    let ok = bootstrap(&pb, &TRUTH, &Method::Case, 16, 0, &opts, None, None).unwrap();
    assert_eq!(ok.status.len(), 16);
}

fn many_terms(k: usize) -> ExprLaw {
    let terms: Vec<String> = (1..=k).map(|t| format!("a{t}*x^-e{t}")).collect();
    let src = format!("c + {}", terms.join(" + "));
    let law = ExprLaw::compile(&src, &["x"], None).unwrap();
    assert!(
        matches!(law.structure(), Structure::PowerSum { .. }),
        "{src}"
    );
    law
}

#[test]
fn grid_starts_on_many_terms_are_refused_without_overflow() {
    for k in [4, 13, 31] {
        let law = many_terms(k);
        let mut rng = Lcg(3);
        let x: Vec<f64> = (0..3 * k + 4).map(|_| rng.log_uniform(1.0, 1e6)).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 + 3.0 * v.powf(-0.3)).collect();
        let o = Owned::new(&law, vec![x], &y, Loss::L2);
        let view = o.cols.view();
        let pb = o.problem(&law, &view);
        let opts = FitOptions {
            starts: Starts::Grid,
            ..Default::default()
        };
        let e = fit(&pb, &opts, None).unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, Error::InvalidOption(_)), "{m}");
        assert!(m.contains("the limit is 1000000"), "{m}");
    }
}

/// A chinchilla problem of `n` rows fitted with a counting law that raises the flag at its
/// `raise_at`-th evaluation; returns (termination, evaluations after the flag was raised).
fn interrupted_big_fit(n: usize, raise_at: usize, threads: usize) -> (Termination, usize) {
    let base = laws::builtin("chinchilla", &[]).unwrap();
    let flag = AtomicBool::new(false);
    let law = Counting {
        inner: base.as_ref(),
        calls: AtomicUsize::new(0),
        raise_at,
        flag: &flag,
    };
    let d = chinchilla(4, n, TRUTH, 0.01);
    let o = Owned::new(&law, d.x.clone(), &d.y, Loss::L2);
    let view = o.cols.view();
    let pb = o.problem(&law, &view);
    let r = with_threads(threads, || fit(&pb, &given(&P0), Some(&flag)).unwrap());
    (r.termination, law.count() - raise_at)
}

#[test]
fn a_big_fit_reads_the_cancel_flag_every_block() {
    // 400,000 rows are ~200 blocks a pass; the flag goes up inside the second pass
    for threads in [1, 2] {
        let (t, after) = interrupted_big_fit(400_000, 300, threads);
        assert_eq!(t, Termination::Interrupted);
        // blocks already running finish; no new block starts
        assert!(after <= 4 * threads, "{after} evaluations after the flag");
    }
}

#[test]
fn the_covariance_from_the_solvers_last_pass_equals_a_fresh_pass() {
    use powerfit_core::solver::covariance::{covariance, covariance_from_pass, Weak};
    let law = laws::builtin("chinchilla", &[]).unwrap();
    // linear and log scale, with and without weights, over one block and many
    for (n, loss, weighted) in [
        (240, Loss::L2, false),
        (240, Loss::LOG, true),
        (50_000, Loss::L2, true),
    ] {
        let d = chinchilla(3, n, TRUTH, 0.01);
        let o = Owned::new(law.as_ref(), d.x.clone(), &d.y, loss);
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64 / 7.0).collect();
        let view = o.cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &o.target,
            weights: weighted.then_some(&w[..]),
            loss: o.loss,
            spec: &o.spec,
        };
        let mut ws = Workspace::new();
        let out = solver::lm(&pb, &P0, &LmOptions::default(), &mut ws, None);
        let info = out.information.expect("least squares keeps its last pass");
        let a = covariance_from_pass(&pb, &out.params, n, info[0], &info[1..], Weak::Direction);
        let b = covariance(&pb, &out.params, n, Weak::Direction);
        let (ca, cb) = (a.cov.unwrap(), b.cov.unwrap());
        for (x, y) in ca.iter().zip(&cb) {
            assert!(
                (x - y).abs() <= 1e-9 * y.abs().max(1e-300),
                "{x} vs {y} (n={n})"
            );
        }
        assert!((a.condition - b.condition).abs() <= 1e-8 * b.condition);
    }
}

#[test]
fn a_raised_flag_ends_every_remaining_grid_start_without_a_pass() {
    // 240 rows fit in one block, which a pass does not interrupt: the 4,500 starts of a
    // small problem must each see the flag before evaluating anything
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let d = chinchilla(6, 240, TRUTH, 0.01);
    let o = Owned::new(law.as_ref(), d.x.clone(), &d.y, Loss::L2);
    let view = o.cols.view();
    let pb = o.problem(law.as_ref(), &view);
    let flag = AtomicBool::new(true);
    let opts = FitOptions {
        starts: Starts::Grid,
        ..Default::default()
    };
    let r = fit(&pb, &opts, Some(&flag)).unwrap();
    assert_eq!(r.termination, Termination::Interrupted);
    assert_eq!(r.n_starts, 4500);
    assert_eq!(r.nfev_total, 0, "passes made after the flag went up");
}

#[test]
fn a_raised_flag_stops_every_long_call_at_once() {
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let d = chinchilla(6, 60_000, TRUTH, 0.01);
    let o = Owned::new(law.as_ref(), d.x.clone(), &d.y, Loss::L2);
    let view = o.cols.view();
    let pb = o.problem(law.as_ref(), &view);
    let flag = AtomicBool::new(true);
    for opts in [
        FitOptions::default(),
        given(&P0),
        FitOptions {
            starts: Starts::Grid,
            ..Default::default()
        },
    ] {
        let r = fit(&pb, &opts, Some(&flag)).unwrap();
        assert_eq!(r.termination, Termination::Interrupted, "{:?}", opts.starts);
    }
    let b = bootstrap(
        &pb,
        &TRUTH,
        &Method::Case,
        100,
        0,
        &LmOptions::default(),
        Some(&flag),
        None,
    )
    .unwrap();
    assert!(b.status.iter().all(|t| *t == Termination::Interrupted));
}

#[test]
fn a_big_fit_is_identical_for_any_number_of_threads() {
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let d = chinchilla(8, 100_000, TRUTH, 0.02);
    for loss in [Loss::L2, Loss::huber_log(1e-3)] {
        let o = Owned::new(law.as_ref(), d.x.clone(), &d.y, loss);
        let view = o.cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &o.target,
            weights: None,
            loss,
            spec: &o.spec,
        };
        for opts in [given(&P0), FitOptions::default()] {
            let runs: Vec<FitResult> = [1, 2, 3]
                .iter()
                .map(|&k| with_threads(k, || fit(&pb, &opts, None).unwrap()))
                .collect();
            assert!(
                runs[0].termination.is_success(),
                "{:?}",
                runs[0].termination
            );
            for r in &runs[1..] {
                assert_eq!(r.n_iter, runs[0].n_iter);
                assert_eq!(r.cost.to_bits(), runs[0].cost.to_bits());
                for (a, b) in r.params.iter().zip(&runs[0].params) {
                    assert_eq!(a.to_bits(), b.to_bits());
                }
                assert_eq!(r.cov, runs[0].cov);
            }
        }
    }
}
