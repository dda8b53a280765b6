//! IsoFLOP profiles and training-curve envelopes: known answers from a Chinchilla law whose
//! frontier is known in closed form, dropped edge budgets, determinism across thread counts,
//! groups equal single analyses, and errors for bad input.

use powerfit_core::analysis::NdLaw;
use powerfit_core::frontier::{
    envelope, envelope_groups, isoflop, isoflop_groups, slice_runs, BudgetStatus, Columns,
    EnvelopeEstimator, FrontierOptions, Resample, Runs,
};
use powerfit_core::groups::group_seed;
use powerfit_core::rng::Rng;
use powerfit_core::Error;

const LAW: NdLaw = NdLaw {
    e: 1.69,
    a: 406.4,
    b: 410.7,
    alpha: 0.34,
    beta: 0.28,
};

/// Equality that treats NaN as equal to NaN (bit patterns of the Debug text).
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn with_threads<T: Send>(k: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(k)
        .build()
        .unwrap()
        .install(f)
}

/// IsoFLOP points of `LAW`: `nb` budgets from 1e18 by factors of 4, each with `m` sizes
/// log-spaced over a factor `span` on each side of the true optimum (shifted by `shift` in
/// log), with relative noise `noise`. Returns (C, N, L, D).
fn iso_points(
    nb: usize,
    m: usize,
    span: f64,
    shift: f64,
    noise: f64,
    seed: u64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Rng::stream(seed, 0);
    let (mut cc, mut nn, mut ll, mut dd) = (vec![], vec![], vec![], vec![]);
    for j in 0..nb {
        let c = 1e18 * 4f64.powi(j as i32);
        let (n_opt, _, _) = LAW.optimum(c, 6.0);
        for k in 0..m {
            let u = -1.0 + 2.0 * k as f64 / (m - 1) as f64;
            let n = n_opt * (shift + u * span.ln()).exp();
            let d = c / (6.0 * n);
            cc.push(c);
            nn.push(n);
            dd.push(d);
            ll.push(LAW.loss(n, d) * (1.0 + noise * rng.normal()));
        }
    }
    (cc, nn, ll, dd)
}

fn opts(n_boot: usize) -> FrontierOptions {
    FrontierOptions {
        n_boot,
        budgets: vec![1e21, 1e23],
        ..FrontierOptions::default()
    }
}

#[test]
fn isoflop_recovers_the_closed_form_frontier() {
    let (c, n, l, d) = iso_points(8, 9, 6.0, 0.0, 0.0, 1);
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&d),
    };
    let f = isoflop(&cols, 1e-6, &opts(0), 0, None, None).unwrap();
    assert!(f.optima.iter().all(|o| o.status == BudgetStatus::Ok));
    assert_eq!(f.n_fit.n, 8);
    let a = LAW.exponent_n();
    assert!(
        (f.n_fit.exponent - a).abs() < 0.005,
        "{} vs {a}",
        f.n_fit.exponent
    );
    assert!((f.d_fit.exponent - (1.0 - a)).abs() < 0.005);
    // the per-budget optima sit close to the truth (the profile is not exactly a parabola)
    for o in &f.optima {
        let (nt, dt, _) = LAW.optimum(o.c, 6.0);
        assert!((o.n_opt / nt).ln().abs() < 0.05, "{} vs {nt}", o.n_opt);
        // D* interpolated from the tokens column equals C/(6 N*) up to interpolation
        assert!((o.d_opt / dt).ln().abs() < 0.06);
    }
    let p = &f.predictions[0];
    let (nt, _, _) = LAW.optimum(1e21, 6.0);
    assert!((p.n_opt / nt).ln().abs() < 0.1);
    // without bootstrap: no intervals, no samples
    assert!(f.a_bounds.0.is_nan() && f.samples.is_empty());
}

#[test]
fn edge_budgets_are_dropped_and_named() {
    // shift the sampled sizes so that the optimum falls below the smallest size
    let (mut c, mut n, mut l, _) = iso_points(3, 7, 3.0, 0.0, 0.0, 1);
    let (c2, n2, l2, _) = iso_points(1, 7, 1.5, 2.5, 0.0, 1); // all sizes above the optimum
    let (c3, n3, l3, _) = iso_points(1, 7, 1.5, -2.5, 0.0, 1); // all below
    for (cc, nn, ll, s) in [(c2, n2, l2, 7e20), (c3, n3, l3, 9e20)] {
        // move them to their own budgets, keeping their shapes (loss depends on N, D only)
        let scale = s / cc[0];
        c.extend(cc.iter().map(|v| v * scale));
        n.extend(nn);
        l.extend(ll);
    }
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: None,
    };
    let f = isoflop(&cols, 1e-6, &opts(50), 3, None, None).unwrap();
    let st: Vec<BudgetStatus> = f.optima.iter().map(|o| o.status).collect();
    assert_eq!(
        st,
        vec![
            BudgetStatus::Ok,
            BudgetStatus::Ok,
            BudgetStatus::Ok,
            BudgetStatus::EdgeLow,
            BudgetStatus::EdgeHigh
        ]
    );
    assert_eq!(f.n_fit.n, 3);
    // dropped budgets have no optimum and no bounds
    assert!(f.optima[3].n_opt.is_nan() && f.optima[3].n_boot_ok == 0);
    // D* without tokens is C / (6 N*)
    let o = &f.optima[1];
    assert!((o.d_opt * 6.0 * o.n_opt / o.c - 1.0).abs() < 1e-12);
}

#[test]
fn bootstrap_is_deterministic_across_threads_and_seeded_per_group() {
    let (mut c, mut n, mut l, mut d) = iso_points(6, 8, 5.0, 0.1, 0.01, 2);
    let (c2, n2, l2, d2) = iso_points(5, 9, 4.0, -0.1, 0.01, 3);
    let off = vec![0, c.len(), c.len() + c2.len()];
    c.extend(c2);
    n.extend(n2);
    l.extend(l2);
    d.extend(d2);
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&d),
    };
    let o = opts(300);
    let ids = [11u64, 42];
    let one = with_threads(1, || {
        isoflop_groups(&cols, &off, Some(&ids), 1e-3, &o, None, None)
    });
    let four = with_threads(4, || {
        isoflop_groups(&cols, &off, Some(&ids), 1e-3, &o, None, None)
    });
    let (one, four) = (one.unwrap(), four.unwrap());
    assert!(same(&one, &four), "results depend on the thread count");
    // each group equals its own analysis with the group's seed
    for k in 0..2 {
        let sub = Columns {
            compute: &c[off[k]..off[k + 1]],
            size: &n[off[k]..off[k + 1]],
            loss: &l[off[k]..off[k + 1]],
            tokens: Some(&d[off[k]..off[k + 1]]),
        };
        let alone = isoflop(&sub, 1e-3, &o, group_seed(o.seed, ids[k]), None, None).unwrap();
        assert!(
            same(&alone, &one[k]),
            "group {k} differs from its own analysis"
        );
    }
    let f = &one[0];
    assert_eq!(f.samples.len(), 300 * 4);
    assert!(f.n_boot_ok >= 290);
    let (lo, hi) = f.a_bounds;
    assert!(lo < hi && lo < f.n_fit.exponent + 0.02 && hi > f.n_fit.exponent - 0.02);
    // another seed gives other replicates
    let o2 = FrontierOptions { seed: 1, ..o };
    let other = isoflop_groups(&cols, &off, Some(&ids), 1e-3, &o2, None, None).unwrap();
    assert_ne!(other[0].samples, f.samples);
}

/// Rows of training curves: run id, C, N, L, tokens.
type CurveRows = (Vec<u64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// Training curves of `LAW`: sizes log-spaced over [1e7, 1e10]; each size has runs to 2, 8 and
/// 32 times 20 tokens per parameter, with checkpoints every factor 1.15 in tokens from 1e8.
/// Returns (run id, C, N, L, tokens).
fn curves(n_sizes: usize) -> CurveRows {
    let (mut run, mut cc, mut nn, mut ll, mut tt) = (vec![], vec![], vec![], vec![], vec![]);
    let mut id = 0;
    for j in 0..n_sizes {
        let n = 1e7 * 1000f64.powf(j as f64 / (n_sizes - 1) as f64);
        for mult in [2.0, 8.0, 32.0] {
            let d_end = mult * 20.0 * n;
            let mut d = 1e8;
            while d < d_end * 1.0001 {
                run.push(id);
                cc.push(6.0 * n * d);
                nn.push(n);
                tt.push(d);
                ll.push(LAW.loss(n, d));
                d *= 1.15;
            }
            id += 1;
        }
    }
    (run, cc, nn, ll, tt)
}

#[test]
fn envelope_recovers_the_closed_form_exponent() {
    let (run, c, n, l, t) = curves(25);
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&t),
    };
    let runs = Runs::new(&run, &cols).unwrap();
    assert_eq!(runs.n_runs(), 75);
    let a = LAW.exponent_n();
    for est in [EnvelopeEstimator::Argmin, EnvelopeEstimator::Parabola] {
        let f = envelope(&runs, &[], 150, est, &opts(100), 5, None, None).unwrap();
        assert!(f.n_fit.n > 40, "{est:?}: {} budgets", f.n_fit.n);
        assert!(
            (f.n_fit.exponent - a).abs() < 0.02,
            "{est:?}: a = {} vs {a}",
            f.n_fit.exponent
        );
        assert!((f.d_fit.exponent - (1.0 - a)).abs() < 0.02);
        // the envelope is the lowest loss at each budget, and the early budgets (only small
        // models) are dropped at the low edge
        assert_eq!(f.optima[0].status, BudgetStatus::TooFewSizes);
        assert!(f
            .optima
            .iter()
            .any(|o| o.status == BudgetStatus::EdgeLow && o.n_sizes >= 3));
        assert!(f.a_bounds.0 <= f.n_fit.exponent + 1e-9 && f.a_bounds.1 >= a - 0.02);
    }
}

#[test]
fn envelope_argmin_picks_the_run_with_the_lowest_loss() {
    // three sizes, one run each, crossing curves; at the middle budget size 2 is best
    let run = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    let c = [1e18, 1e19, 1e20, 1e18, 1e19, 1e20, 1e18, 1e19, 1e20];
    let n = [1e8, 1e8, 1e8, 2e8, 2e8, 2e8, 4e8, 4e8, 4e8];
    let l = [3.0, 2.8, 2.7, 3.2, 2.7, 2.5, 3.5, 2.9, 2.4];
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: None,
    };
    let runs = Runs::new(&run, &cols).unwrap();
    let f = envelope(
        &runs,
        &[1e18, 1e19, 1e20],
        0,
        EnvelopeEstimator::Argmin,
        &opts(0),
        0,
        None,
        None,
    )
    .unwrap();
    let st: Vec<BudgetStatus> = f.optima.iter().map(|o| o.status).collect();
    assert_eq!(
        st,
        vec![
            BudgetStatus::EdgeLow,
            BudgetStatus::Ok,
            BudgetStatus::EdgeHigh
        ]
    );
    assert_eq!(f.optima[1].best_run, Some(1));
    assert_eq!(f.optima[1].n_opt, 2e8);
    assert!((f.optima[1].l_env - 2.7).abs() < 1e-12);
    // interpolation in log-log between checkpoints
    let g = (1e18f64 * 1e19).sqrt();
    let f2 = envelope(
        &runs,
        &[g, 1e19],
        0,
        EnvelopeEstimator::Argmin,
        &opts(0),
        0,
        None,
        None,
    )
    .unwrap();
    assert!((f2.optima[0].l_env - (3.0f64 * 2.8).sqrt()).abs() < 1e-12);
    // slices at budgets: every covering run
    let (bc, bn, bl, _, br) = slice_runs(&runs, &[1e19, 5e20]).unwrap();
    assert_eq!(bc, vec![1e19; 3]);
    assert_eq!(bn, vec![1e8, 2e8, 4e8]);
    assert_eq!(br, vec![0, 1, 2]);
    assert!((bl[1] - 2.7).abs() < 1e-12);
}

#[test]
fn envelope_groups_deterministic_across_threads() {
    let (run, c, n, l, t) = curves(9);
    let half = run.iter().position(|&r| r == 12).unwrap();
    let off = vec![0, half, run.len()];
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&t),
    };
    let o = opts(200);
    let go = |k| {
        with_threads(k, || {
            envelope_groups(
                &run,
                &cols,
                &off,
                None,
                &[],
                60,
                EnvelopeEstimator::Parabola,
                &o,
                None,
                None,
            )
        })
        .unwrap()
    };
    assert!(same(&go(1), &go(3)), "results depend on the thread count");
}

#[test]
fn bad_input_is_an_error() {
    let c = [1e18, 1e18, 1e18];
    let n = [1e8, 2e8, 4e8];
    let l = [3.0, f64::NAN, 3.1];
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: None,
    };
    match isoflop(&cols, 1e-3, &opts(0), 0, None, None) {
        Err(Error::InvalidData { column, row, .. }) => {
            assert_eq!((column.as_str(), row), ("loss", 1));
        }
        other => panic!("{other:?}"),
    }
    let l = [3.0, 2.9, 3.1];
    let cols = Columns { loss: &l, ..cols };
    let bad = FrontierOptions {
        half_window: 0,
        ..opts(0)
    };
    assert!(matches!(
        isoflop(&cols, 1e-3, &bad, 0, None, None),
        Err(Error::InvalidOption(_))
    ));
    let bad = FrontierOptions {
        level: 1.0,
        ..opts(0)
    };
    assert!(isoflop(&cols, 1e-3, &bad, 0, None, None).is_err());
    assert!(isoflop_groups(&cols, &[0, 2], None, 1e-3, &opts(0), None, None).is_err());
    assert!(isoflop_groups(&cols, &[0, 2, 1, 3], None, 1e-3, &opts(0), None, None).is_err());
    // a run with two sizes
    match Runs::new(&[0, 0, 1], &cols) {
        Err(Error::InvalidData { column, row, .. }) => {
            assert_eq!((column.as_str(), row), ("size", 1))
        }
        other => panic!("{other:?}"),
    }
    // a single budget: no fit, not an error
    let f = isoflop(&cols, 1e-3, &opts(20), 0, None, None).unwrap();
    assert_eq!(f.optima[0].status, BudgetStatus::Ok);
    assert!(f.n_fit.exponent.is_nan() && f.a_bounds.0.is_nan());
    assert!(f.predictions[0].n_opt.is_nan());
}

#[test]
fn budget_resampling_keeps_the_optima_and_brackets_the_exponent() {
    let (c, n, l, d) = iso_points(7, 9, 5.0, 0.05, 0.01, 4);
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&d),
    };
    let runs = isoflop(&cols, 1e-3, &opts(400), 5, None, None).unwrap();
    let o = FrontierOptions {
        resample: Resample::Budgets,
        ..opts(400)
    };
    let budgets = isoflop(&cols, 1e-3, &o, 5, None, None).unwrap();
    // the point estimates do not depend on the resampling scheme
    assert_eq!(budgets.n_fit, runs.n_fit);
    assert_eq!(budgets.optima.len(), runs.optima.len());
    for (a, b) in budgets.optima.iter().zip(&runs.optima) {
        assert_eq!((a.n_opt, a.d_opt, a.status), (b.n_opt, b.d_opt, b.status));
        // no per-budget intervals when the optima are not re-located
        assert!(a.n_lower.is_nan() && a.n_boot_ok == 0);
    }
    // replicates refit the same optima: every exponent sample comes from a subset of them
    let (lo, hi) = budgets.a_bounds;
    let est = budgets.n_fit.exponent;
    assert!(lo < est && est < hi, "{lo} {est} {hi}");
    assert!(budgets.n_boot_ok >= 395, "{}", budgets.n_boot_ok);
    assert_ne!(budgets.samples, runs.samples);
    // deterministic across thread counts
    let one = with_threads(1, || isoflop(&cols, 1e-3, &o, 5, None, None).unwrap());
    assert!(same(&one, &budgets));
    // a bad name is an error
    assert!(Resample::from_name("rows").is_err());
    assert_eq!(Resample::from_name("budgets").unwrap(), Resample::Budgets);
}

/// A replicate count whose tables cannot fit is refused before any work, stating the size.
#[test]
fn a_huge_replicate_count_is_refused_with_its_size() {
    let (c, n, l, d) = iso_points(4, 7, 6.0, 0.0, 0.0, 1);
    let cols = Columns {
        compute: &c,
        size: &n,
        loss: &l,
        tokens: Some(&d),
    };
    for huge in [1_000_000_000_000usize, usize::MAX] {
        let e = isoflop(&cols, 1e-3, &opts(huge), 0, None, None).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&format!("n_boot={huge}")), "{text}");
        assert!(text.contains("the limit is"), "{text}");
    }
}
