mod common;

use powerfit_core::bootstrap::{bootstrap, jackknife, Method};
use powerfit_core::*;

fn with_threads<T: Send>(k: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(k)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn replicates_do_not_depend_on_thread_count() {
    let (n, d, y) = common::chinchilla();
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let cols = OwnedCols::new(vec![n.clone(), d], true);
    let view = cols.view();
    let loss = Loss::huber_log(1e-3);
    let target = target_for(&loss, &y);
    let spec = ParamSpec::for_law(law.as_ref());
    let pb = Problem {
        law: law.as_ref(),
        cols: &view,
        target: &target,
        weights: None,
        loss,
        spec: &spec,
    };
    let est = fit(&pb, &FitOptions::default(), None).unwrap().params;
    // clusters: one per distinct model size
    let mut sizes: Vec<f64> = n.clone();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    let labels: Vec<usize> = n
        .iter()
        .map(|v| sizes.iter().position(|s| s == v).unwrap())
        .collect();
    for method in [
        Method::Case,
        Method::Residual,
        Method::Parametric { sigma: 0.01 },
        Method::Cluster { labels },
    ] {
        let run = |k| {
            with_threads(k, || {
                bootstrap(
                    &pb,
                    &est,
                    &method,
                    64,
                    123,
                    &LmOptions::default(),
                    None,
                    None,
                )
                .unwrap()
            })
        };
        let (a, b, c) = (run(1), run(2), run(2));
        assert_eq!(a, b, "{method:?}: 1 vs 2 threads");
        assert_eq!(b, c, "{method:?}: run to run");
        assert!(
            a.n_success() >= 60,
            "{method:?}: {} successes",
            a.n_success()
        );
        let other = bootstrap(
            &pb,
            &est,
            &method,
            64,
            124,
            &LmOptions::default(),
            None,
            None,
        )
        .unwrap();
        assert_ne!(a.samples, other.samples, "{method:?}: the seed matters");
    }
    let j1 = with_threads(1, || {
        jackknife(&pb, &est, None, &LmOptions::default(), None).unwrap()
    });
    let j2 = with_threads(2, || {
        jackknife(&pb, &est, None, &LmOptions::default(), None).unwrap()
    });
    assert_eq!(j1, j2);
    assert_eq!(j1.status.len(), 240);
}

#[test]
fn case_resampling_recovers_the_truth_spread_on_synthetic_data() {
    // y = 2 + 3 x^-0.5 with known Gaussian noise: the bootstrap SE of alpha should match the
    // spread of alpha across independent noisy data sets.
    let x: Vec<f64> = (0..60)
        .map(|i| 10f64.powf(1.0 + 3.0 * i as f64 / 59.0))
        .collect();
    let law = laws::builtin("power", &["x".to_string()]).unwrap();
    let cols = OwnedCols::new(vec![x.clone()], true);
    let view = cols.view();
    let spec = ParamSpec::for_law(law.as_ref());
    let truth = [2.0, 3.0, 0.5];
    let mut clean = vec![0.0; x.len()];
    law.eval(&view, &truth, &mut clean);
    let mut rng = rng::Rng::stream(9, 0);
    let mut alphas = vec![];
    let mut boot_se = vec![];
    for rep in 0..40 {
        let y: Vec<f64> = clean.iter().map(|c| c + 0.01 * rng.normal()).collect();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &y,
            weights: None,
            loss: Loss::L2,
            spec: &spec,
        };
        let est = fit(&pb, &FitOptions::default(), None).unwrap().params;
        alphas.push(est[2]);
        if rep < 10 {
            let b = bootstrap(
                &pb,
                &est,
                &Method::Case,
                300,
                rep,
                &LmOptions::default(),
                None,
                None,
            )
            .unwrap();
            let a: Vec<f64> = (0..300).map(|i| b.samples[i * 3 + 2]).collect();
            let m = a.iter().sum::<f64>() / 300.0;
            boot_se.push((a.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 299.0).sqrt());
        }
    }
    let m = alphas.iter().sum::<f64>() / alphas.len() as f64;
    let sd =
        (alphas.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (alphas.len() - 1) as f64).sqrt();
    let se = boot_se.iter().sum::<f64>() / boot_se.len() as f64;
    assert!(
        (se / sd - 1.0).abs() < 0.35,
        "bootstrap se {se} vs true sd {sd}"
    );
}

#[test]
fn a_case_replicate_is_the_fit_with_its_counts_as_weights() {
    // replicates fit the rows they drew; the same refit over all rows with the draw's counts as
    // weights (rows not drawn at weight 0) is the same estimate
    let (n, d, y) = common::chinchilla();
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let cols = OwnedCols::new(vec![n, d], true);
    let view = cols.view();
    let base_w: Vec<f64> = (0..y.len()).map(|i| 1.0 + (i % 3) as f64).collect();
    for loss in [Loss::L2, Loss::huber_log(1e-3)] {
        let target = target_for(&loss, &y);
        let spec = ParamSpec::for_law(law.as_ref());
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &target,
            weights: Some(&base_w),
            loss,
            spec: &spec,
        };
        let est = fit(&pb, &FitOptions::default(), None).unwrap().params;
        let opts = solver::LmOptions::default();
        let seed = 7;
        let b = bootstrap(&pb, &est, &Method::Case, 6, seed, &opts, None, None).unwrap();
        let rows = y.len();
        for i in 0..6 {
            let mut rng = powerfit_core::rng::Rng::stream(seed, i as u64);
            let mut w = vec![0.0; rows];
            for _ in 0..rows {
                w[rng.below(rows)] += 1.0;
            }
            let drawn = w.iter().filter(|&&c| c > 0.0).count();
            assert!(drawn < rows, "a draw that leaves no row out tests nothing");
            w.iter_mut().zip(&base_w).for_each(|(c, b)| *c *= b);
            let weighted = Problem {
                weights: Some(&w),
                ..pb
            };
            let mut ws = solver::Workspace::new();
            let o = solver::lm(&weighted, &est, &opts, &mut ws, None);
            for (k, &v) in o.params.iter().enumerate() {
                let r = b.samples[i * 5 + k];
                assert!(
                    (r - v).abs() <= 1e-7 * v.abs().max(1e-12),
                    "replicate {i} parameter {k}: {r} vs {v}"
                );
            }
        }
    }
}
