//! Exact recovery by the built-in laws' default global start: noise-free data drawn from
//! random, realistic parameters (the distribution of tests/test_properties.py: N log-uniform in
//! [1e7, 1e10], D in [1e9, 1e12], C in [1e18, 1e21], 30 to 100 points, exponents in [0.1, 0.8],
//! every term worth 0.1 to 3 loss units at the middle of its variable's range, constants 0.5 to
//! 3) are fitted back to 1e-6 relative error in every parameter, with l2 and log losses.
//!
//! `cargo test --release --test recovery` runs a few hundred cases per law; the thorough run,
//! 10,000 cases per law and loss, is on demand:
//! `cargo test --release --test recovery -- --ignored`. Every miss found is pinned below.
mod support;

use powerfit_core::*;
use support::*;

const RTOL: f64 = 1e-6;

/// The middle of a variable's range (geometric).
fn mid(var: &str) -> f64 {
    match var {
        "N" => (1e7f64 * 1e10).sqrt(),
        "D" => (1e9f64 * 1e12).sqrt(),
        _ => (1e18f64 * 1e21).sqrt(),
    }
}

/// A case: law name, its variables, truth (in the law's parameter order) and the data seed.
#[derive(Debug, Clone)]
struct Case {
    law: &'static str,
    vars: Vec<&'static str>,
    truth: Vec<f64>,
    seed: u64,
    n: usize,
}

/// A draw from [lo, hi]; with `edgy`, a third of the draws are the ends or round values
/// inside (as a property-testing engine favours).
fn pick(r: &mut Lcg, lo: f64, hi: f64, edgy: bool, round: &[f64]) -> f64 {
    if edgy && r.next() < 1.0 / 3.0 {
        let mut all = vec![lo, hi];
        all.extend(round.iter().copied().filter(|v| *v > lo && *v < hi));
        all[((r.next() * all.len() as f64) as usize).min(all.len() - 1)]
    } else {
        r.range(lo, hi)
    }
}

/// Draws a case of `law` from `rng`.
fn draw(law: &'static str, rng: &mut Lcg, edgy: bool) -> Case {
    let seed = (rng.next() * 2f64.powi(52)) as u64;
    let n = if edgy && rng.next() < 0.3 {
        30
    } else {
        30 + (rng.next() * 71.0) as usize
    };
    let exp = |r: &mut Lcg| pick(r, 0.1, 0.8, edgy, &[0.125, 0.25, 0.5]);
    let size = |r: &mut Lcg| pick(r, 0.1, 3.0, edgy, &[0.5, 1.0, 2.0]);
    let (vars, truth) = match law {
        "power" => {
            let (c, a) = (pick(rng, 0.5, 3.0, edgy, &[1.0, 2.0]), exp(rng));
            (vec!["N"], vec![c, size(rng) * mid("N").powf(a), a])
        }
        "chinchilla" | "additive_ND" | "additive_NDC" => {
            let vars: Vec<&str> = if law == "additive_NDC" {
                vec!["N", "D", "C"]
            } else {
                vec!["N", "D"]
            };
            let c = pick(rng, 0.5, 3.0, edgy, &[1.0, 2.0]);
            let es: Vec<f64> = vars.iter().map(|_| exp(rng)).collect();
            let amps: Vec<f64> = vars
                .iter()
                .zip(&es)
                .map(|(v, e)| size(rng) * mid(v).powf(*e))
                .collect();
            let mut truth = vec![c];
            truth.extend(amps);
            truth.extend(es);
            (vars, truth)
        }
        "kaplan" => {
            let (an, ad) = (exp(rng), exp(rng));
            let (ln, ld) = (
                pick(rng, 1.5, 4.0, edgy, &[2.0, 3.0]),
                pick(rng, 1.5, 4.0, edgy, &[2.0, 3.0]),
            );
            (
                vec!["N", "D"],
                vec![
                    mid("N") * ln.powf(1.0 / an),
                    an,
                    mid("D") * ld.powf(1.0 / ad),
                    ad,
                ],
            )
        }
        other => panic!("{other}"),
    };
    Case {
        law,
        vars,
        truth,
        seed,
        n,
    }
}

/// The law's value written out with powf (independent of the core's kernels).
fn value(c: &Case, x: &[Vec<f64>], i: usize) -> f64 {
    let p = &c.truth;
    if c.law == "kaplan" {
        let q = p[1] / p[3];
        return ((p[0] / x[0][i]).powf(q) + p[2] / x[1][i]).powf(p[3]);
    }
    let k = c.vars.len();
    let terms: Vec<(f64, f64)> = (0..k).map(|t| (p[1 + t], p[1 + k + t])).collect();
    power_sum_value(p[0], &terms, x, i)
}

/// Fits the case; the worst relative parameter error, and the result.
fn recover(c: &Case, loss: Loss) -> (f64, FitResult) {
    let mut rng = Lcg(c.seed);
    let x = design(&mut rng, c.n, &c.vars);
    let y: Vec<f64> = (0..c.n).map(|i| value(c, &x, i)).collect();
    let name = match c.law {
        "additive_ND" | "additive_NDC" => "additive",
        other => other,
    };
    let vars: Vec<String> = c.vars.iter().map(|v| v.to_string()).collect();
    let law = laws::builtin(name, &vars).unwrap();
    let o = Owned::new(law.as_ref(), x, &y, loss);
    let view = o.cols.view();
    let pb = Problem {
        law: law.as_ref(),
        cols: &view,
        target: &o.target,
        weights: None,
        loss,
        spec: &o.spec,
    };
    let r = fit(&pb, &FitOptions::default(), None).unwrap();
    let worst = r
        .params
        .iter()
        .zip(&c.truth)
        .map(|(e, t)| ((e - t) / t).abs())
        .fold(0.0, f64::max);
    (worst, r)
}

const LAWS: [&str; 5] = [
    "power",
    "chinchilla",
    "additive_ND",
    "additive_NDC",
    "kaplan",
];

fn sweep(cases_per_law: usize, seed: u64) -> Vec<String> {
    let mut misses = Vec::new();
    for (li, law) in LAWS.iter().enumerate() {
        let mut rng = Lcg(seed ^ (li as u64 * 0x9E37_79B9_7F4A_7C15));
        for i in 0..cases_per_law {
            // every other case leans on the ends of the ranges and round values
            let c = draw(law, &mut rng, i % 2 == 1);
            for loss in [Loss::L2, Loss::LOG] {
                let (err, r) = recover(&c, loss);
                if !(err <= RTOL && r.termination.is_success()) {
                    misses.push(format!(
                        "{c:?} {loss:?}: error {err:.2e}, {:?}, params {:?}",
                        r.termination, r.params
                    ));
                }
            }
        }
    }
    misses
}

#[test]
fn every_law_recovers_noise_free_data() {
    let misses = sweep(200, 20240601);
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
#[ignore = "thorough: 10,000 cases per law and loss (about a minute on two cores)"]
fn every_law_recovers_noise_free_data_thorough() {
    let seed = std::env::var("POWERFIT_RECOVERY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let misses = sweep(10_000, seed);
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

/// Cases a thorough run (or the Python property tests) once missed.
#[test]
fn pinned_cases_are_recovered() {
    let pinned: Vec<Case> = vec![
        // a slow C term confounded with the constant: LM stopped at E -> 0
        Case {
            law: "additive_NDC",
            vars: vec!["N", "D", "C"],
            truth: {
                let (al, be, ga) = (0.8, 0.5, 0.125);
                vec![
                    1.2,
                    1.0 * mid("N").powf(al),
                    0.7 * mid("D").powf(be),
                    2.5 * mid("C").powf(ga),
                    al,
                    be,
                    ga,
                ]
            },
            seed: 3,
            n: 40,
        },
        // the D term dominates: the start's refinement settled at alpha_N = 0.63, LM then
        // ran off to alpha_N = -12
        Case {
            law: "kaplan",
            vars: vec!["N", "D"],
            truth: vec![
                8104571768.892476,
                0.125,
                6596045610401895.0,
                0.11318441183761269,
            ],
            seed: 2488301680381450,
            n: 80,
        },
    ];
    let mut misses = Vec::new();
    for c in &pinned {
        for loss in [Loss::L2, Loss::LOG] {
            let (err, r) = recover(c, loss);
            if !(err <= RTOL && r.termination.is_success()) {
                misses.push(format!("{c:?} {loss:?}: {err:.2e} {:?}", r.params));
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
