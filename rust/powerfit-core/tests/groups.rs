//! Bulk fits: every group equals its own single fit, bad groups are reported in place, results
//! do not depend on the thread count.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use powerfit_core::bootstrap::{bootstrap, Method};
use powerfit_core::groups::{
    fit_groups, group_index, group_seed, GroupBootstrap, GroupData, GroupSettings, GroupStatus,
};
use powerfit_core::rng::Rng;
use powerfit_core::stats::{interval, IntervalMethod};
use powerfit_core::*;

fn with_threads<T: Send>(k: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(k)
        .build()
        .unwrap()
        .install(f)
}

/// A sweep: `g` groups of 20-40 noisy Chinchilla-law points with different parameters,
/// concatenated. Returns (N, D, y, offsets).
fn sweep(g: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>) {
    let (mut n, mut d, mut y, mut off) = (vec![], vec![], vec![], vec![0]);
    for k in 0..g {
        let mut r = Rng::stream(seed, k as u64);
        let e = 1.5 + 0.5 * r.uniform();
        let (a, b) = (200.0 + 400.0 * r.uniform(), 200.0 + 800.0 * r.uniform());
        let (al, be) = (0.25 + 0.15 * r.uniform(), 0.2 + 0.15 * r.uniform());
        let m = 20 + r.below(21);
        for _ in 0..m {
            let nn = (16.0 + 7.0 * r.uniform()).exp();
            let dd = (20.0 + 7.0 * r.uniform()).exp();
            let v = e + a * nn.powf(-al) + b * dd.powf(-be);
            n.push(nn);
            d.push(dd);
            y.push(v * (1.0 + 0.01 * r.normal()));
        }
        off.push(n.len());
    }
    (n, d, y, off)
}

/// Fits rows `s..e` alone, as a user would (their own arrays and logs).
fn single(
    law: &dyn Law,
    loss: Loss,
    spec: &ParamSpec,
    opts: &FitOptions,
    n: &[f64],
    d: &[f64],
    y: &[f64],
) -> Result<FitResult> {
    let cols = OwnedCols::new(vec![n.to_vec(), d.to_vec()], true);
    let view = cols.view();
    let target = target_for(&loss, y);
    let pb = Problem {
        law,
        cols: &view,
        target: &target,
        weights: None,
        loss,
        spec,
    };
    fit(&pb, opts, None)
}

fn data<'a>(n: &'a [f64], d: &'a [f64], y: &'a [f64], off: &'a [usize]) -> GroupData<'a> {
    GroupData {
        x: vec![n, d],
        x_names: vec!["params".into(), "tokens".into()],
        y,
        y_name: "loss".into(),
        weights: None,
        offsets: off,
        order: None,
        rows: None,
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_group_equals_its_single_fit() {
    let (n, d, y, off) = sweep(24, 7);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    for loss in [Loss::L2, Loss::huber_log(1e-3)] {
        let opts = FitOptions::default();
        let set = GroupSettings {
            law: law.as_ref(),
            loss,
            spec: &spec,
            opts: &opts,
            bootstrap: None,
        };
        let out = fit_groups(&data(&n, &d, &y, &off), &set, None, None).unwrap();
        assert_eq!(out.len(), 24);
        for g in 0..24 {
            let (s, e) = (off[g], off[g + 1]);
            let r = single(
                law.as_ref(),
                loss,
                &spec,
                &opts,
                &n[s..e],
                &d[s..e],
                &y[s..e],
            )
            .unwrap();
            let o = &out[g];
            assert_eq!(bits(&o.params), bits(&r.params), "group {g}");
            assert_eq!(o.cost.to_bits(), r.cost.to_bits());
            assert_eq!(o.status, GroupStatus::Fitted(r.termination));
            assert_eq!(o.n_iter, r.n_iter);
            assert_eq!(o.n_points, e - s);
            let p = r.params.len();
            let c = r.cov.as_ref().expect("covariance");
            for k in 0..p {
                assert_eq!(
                    o.stderr[k].to_bits(),
                    c[k * p + k].max(0.0).sqrt().to_bits()
                );
            }
            assert!(o.message.is_none());
            assert!(o.status.is_success(), "group {g}: {:?}", o.status);
        }
    }
}

#[test]
fn fixed_parameters_and_bounds_apply_to_every_group() {
    let (n, d, y, off) = sweep(6, 11);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let mut spec = ParamSpec::for_law(law.as_ref());
    spec.fixed[0] = Some(1.6);
    spec.lower[3] = 0.1;
    spec.upper[3] = 0.5;
    let opts = FitOptions::default();
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::LOG,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    let out = fit_groups(&data(&n, &d, &y, &off), &set, None, None).unwrap();
    for g in 0..6 {
        let (s, e) = (off[g], off[g + 1]);
        let r = single(
            law.as_ref(),
            Loss::LOG,
            &spec,
            &opts,
            &n[s..e],
            &d[s..e],
            &y[s..e],
        )
        .unwrap();
        assert_eq!(bits(&out[g].params), bits(&r.params));
        assert_eq!(out[g].params[0], 1.6);
        assert_eq!(out[g].stderr[0], 0.0);
    }
}

#[test]
fn bad_groups_are_reported_and_the_rest_unchanged() {
    let (n, d, y, off) = sweep(20, 3);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    let clean = fit_groups(&data(&n, &d, &y, &off), &set, None, None).unwrap();

    // poison: NaN in group 2, a negative N in group 5, constant loss in group 9, and group 13
    // cut down to 3 rows
    let (mut n2, d2, mut y2) = (n.clone(), d.clone(), y.clone());
    n2[off[2] + 1] = f64::NAN;
    n2[off[5] + 4] = -1.0;
    for v in &mut y2[off[9]..off[10]] {
        *v = 3.25;
    }
    let mut off2 = vec![0usize];
    let (mut nn, mut dd, mut yy) = (vec![], vec![], vec![]);
    for g in 0..20 {
        let (s, mut e) = (off[g], off[g + 1]);
        if g == 13 {
            e = s + 3;
        }
        nn.extend_from_slice(&n2[s..e]);
        dd.extend_from_slice(&d2[s..e]);
        yy.extend_from_slice(&y2[s..e]);
        off2.push(nn.len());
    }
    let rows: Vec<i64> = (0..nn.len() as i64).map(|r| 1000 + r).collect();
    let mut gd = data(&nn, &dd, &yy, &off2);
    gd.rows = Some(&rows);
    let out = fit_groups(&gd, &set, None, None).unwrap();
    for g in 0..20 {
        let o = &out[g];
        if [2, 5, 9, 13].contains(&g) {
            assert_eq!(o.status, GroupStatus::InvalidData, "group {g}");
            assert_eq!(o.status.code(), 255);
            assert!(!o.status.is_success());
            assert!(o.params.iter().all(|v| v.is_nan()));
            let m = o.message.as_deref().unwrap();
            match g {
                2 => {
                    assert!(
                        m.contains("column 'params'") && m.contains("must be finite"),
                        "{m}"
                    );
                    assert!(
                        m.contains(&format!(
                            "at row {} (row 1 of the group)",
                            1000 + off2[2] + 1
                        )),
                        "{m}"
                    );
                }
                5 => assert!(
                    m.contains("must be positive") && m.contains("row 4 of the group"),
                    "{m}"
                ),
                9 => assert!(m.contains("'loss' is constant"), "{m}"),
                _ => assert!(m.contains("3 data points cannot determine 5"), "{m}"),
            }
            assert_eq!(o.n_points, off2[g + 1] - off2[g]);
        } else {
            assert_eq!(bits(&o.params), bits(&clean[g].params), "group {g}");
            assert_eq!(o, &clean[g]);
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count_and_bootstrap_matches_single_runs() {
    let (n, d, y, off) = sweep(8, 5);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let ids: Vec<u64> = (0..8).map(|g| 1_000_003 * g + 17).collect();
    let boot = GroupBootstrap {
        n: 40,
        method: Method::Case,
        seed: 99,
        level: 0.9,
        ids: Some(&ids),
    };
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: Some(&boot),
    };
    let gd = data(&n, &d, &y, &off);
    let one = with_threads(1, || fit_groups(&gd, &set, None, None).unwrap());
    let three = with_threads(3, || fit_groups(&gd, &set, None, None).unwrap());
    assert_eq!(one, three);
    for g in 0..8 {
        let (s, e) = (off[g], off[g + 1]);
        let o = &one[g];
        assert_eq!(o.boot_seed, group_seed(99, ids[g]));
        // the same bootstrap run alone on the group's problem
        let cols = OwnedCols::new(vec![n[s..e].to_vec(), d[s..e].to_vec()], true);
        let view = cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &y[s..e],
            weights: None,
            loss: Loss::L2,
            spec: &spec,
        };
        let br = bootstrap(
            &pb,
            &o.params,
            &Method::Case,
            40,
            o.boot_seed,
            &opts.lm,
            None,
            None,
        )
        .unwrap();
        assert_eq!(o.n_boot_ok, br.n_success());
        for k in 0..5 {
            let col: Vec<f64> = (0..40)
                .filter(|&i| br.status[i].is_success())
                .map(|i| br.samples[i * 5 + k])
                .collect();
            let (lo, hi) =
                interval(&col, o.params[k], None, 0.9, IntervalMethod::Percentile).unwrap();
            assert_eq!(
                (o.lower[k].to_bits(), o.upper[k].to_bits()),
                (lo.to_bits(), hi.to_bits())
            );
            assert!(
                lo <= o.params[k] && o.params[k] <= hi,
                "group {g} param {k}"
            );
        }
    }
    // without ids the stream index is the group's position
    let boot2 = GroupBootstrap {
        ids: None,
        ..boot.clone()
    };
    let set2 = GroupSettings {
        bootstrap: Some(&boot2),
        ..set
    };
    let out = fit_groups(&gd, &set2, None, None).unwrap();
    assert_eq!(out[3].boot_seed, group_seed(99, 3));
}

#[test]
fn progress_and_cancellation() {
    let (n, d, y, off) = sweep(10, 1);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    let gd = data(&n, &d, &y, &off);
    let count = AtomicUsize::new(0);
    fit_groups(&gd, &set, None, Some(&count)).unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 10);
    let cancel = AtomicBool::new(true);
    let out = fit_groups(&gd, &set, Some(&cancel), None).unwrap();
    assert!(out
        .iter()
        .all(|o| o.status == GroupStatus::Fitted(Termination::Interrupted)));
}

#[test]
fn call_level_errors() {
    let (n, d, y, off) = sweep(3, 2);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    // offsets that do not cover the rows, or go backwards
    let bad = [0, 5, off[3] - 1];
    assert!(matches!(
        fit_groups(&data(&n, &d, &y, &bad), &set, None, None),
        Err(Error::InvalidShape(_))
    ));
    let back = [0, 30, 20, off[3]];
    assert!(fit_groups(&data(&n, &d, &y, &back), &set, None, None).is_err());
    // a start outside the bounds is an option error of the whole call, not of each group
    let mut spec2 = spec.clone();
    spec2.upper[3] = 0.5;
    let opts2 = FitOptions {
        starts: Starts::Given(vec![1.7, 400.0, 400.0, 0.9, 0.3]),
        ..FitOptions::default()
    };
    let set2 = GroupSettings {
        spec: &spec2,
        opts: &opts2,
        ..set
    };
    assert!(matches!(
        fit_groups(&data(&n, &d, &y, &off), &set2, None, None),
        Err(Error::InvalidOption(_))
    ));
    // no groups: an empty result
    let empty: [usize; 1] = [0];
    let out = fit_groups(&data(&[], &[], &[], &empty), &set, None, None).unwrap();
    assert!(out.is_empty());
    // bootstrap options
    let boot = GroupBootstrap {
        n: 10,
        method: Method::Parametric { sigma: 0.1 },
        seed: 0,
        level: 0.95,
        ids: None,
    };
    let set3 = GroupSettings {
        bootstrap: Some(&boot),
        ..set
    };
    assert!(fit_groups(&data(&n, &d, &y, &off), &set3, None, None).is_err());
}

#[test]
fn power_law_groups() {
    // one variable, the group with too few points and the rest
    let law = laws::builtin("power", &["C".to_string()]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let (mut x, mut y, mut off) = (vec![], vec![], vec![0]);
    for g in 0..50usize {
        let mut r = Rng::stream(4, g as u64);
        let m = if g == 7 { 2 } else { 100 };
        for i in 0..m {
            let c = 1e18 * 10f64.powf(i as f64 / 20.0);
            x.push(c);
            y.push((2.0 + 30.0 * c.powf(-0.05 - 0.001 * g as f64)) * (1.0 + 0.002 * r.normal()));
        }
        off.push(x.len());
    }
    let gd = GroupData {
        x: vec![&x],
        x_names: vec!["compute".into()],
        y: &y,
        y_name: "loss".into(),
        weights: None,
        offsets: &off,
        order: None,
        rows: None,
    };
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    let out = fit_groups(&gd, &set, None, None).unwrap();
    for g in 0..50 {
        let (s, e) = (off[g], off[g + 1]);
        let cols = OwnedCols::new(vec![x[s..e].to_vec()], true);
        let view = cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &y[s..e],
            weights: None,
            loss: Loss::L2,
            spec: &spec,
        };
        match fit(&pb, &opts, None) {
            Ok(r) => assert_eq!(bits(&out[g].params), bits(&r.params)),
            Err(e) => {
                assert_eq!(g, 7);
                assert_eq!(out[g].message.as_deref(), Some(e.to_string().as_str()));
            }
        }
    }
}

#[test]
fn interleaved_rows_gathered_by_the_counting_sort() {
    // the same sweep with its groups' rows interleaved round-robin (each group's rows keep their
    // relative order): the counting sort regroups them, and every fit is unchanged
    let (n, d, y, off) = sweep(9, 21);
    let law = laws::builtin("chinchilla", &[]).unwrap();
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions::default();
    let set = GroupSettings {
        law: law.as_ref(),
        loss: Loss::L2,
        spec: &spec,
        opts: &opts,
        bootstrap: None,
    };
    let sorted = fit_groups(&data(&n, &d, &y, &off), &set, None, None).unwrap();
    let mut perm: Vec<usize> = Vec::new();
    let longest = (0..9).map(|g| off[g + 1] - off[g]).max().unwrap();
    for i in 0..longest {
        for g in 0..9 {
            if off[g] + i < off[g + 1] {
                perm.push(off[g] + i);
            }
        }
    }
    let mut codes: Vec<i64> = perm
        .iter()
        .map(|&r| (0..9).find(|&g| r < off[g + 1]).unwrap() as i64)
        .collect();
    let pick = |c: &[f64]| perm.iter().map(|&r| c[r]).collect::<Vec<f64>>();
    let (n2, d2, mut y2) = (pick(&n), pick(&d), pick(&y));
    // poison the 3rd row of group 4 in the interleaved table
    let bad_row = (0..perm.len()).filter(|&r| codes[r] == 4).nth(2).unwrap();
    y2[bad_row] = f64::INFINITY;
    let (order, offsets) = group_index(&codes, 9).unwrap();
    let order = order.expect("interleaved rows are not sorted");
    let mut gd = data(&n2, &d2, &y2, &offsets);
    gd.order = Some(&order);
    let out = fit_groups(&gd, &set, None, None).unwrap();
    for g in 0..9 {
        if g == 4 {
            let m = out[g].message.as_deref().unwrap();
            assert!(
                m.contains(&format!("at row {bad_row} (row 2 of the group)")),
                "{m}"
            );
        } else {
            assert_eq!(out[g], sorted[g], "group {g}");
        }
    }
    // an order that is not a permutation of the rows is refused
    codes.truncate(3);
    let short = [0usize, 1];
    gd.order = Some(&short);
    assert!(fit_groups(&gd, &set, None, None).is_err());
}
