//! Simulated repeated-sampling results with a known answer: problem i's success probability
//! p_i ~ Beta(alpha, beta), then c_i successes in n binomial draws. Problem i draws from its own
//! stream of `seed`, so the data do not depend on the number of threads.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rng::Rng;

/// ln of a Gamma(shape, 1) draw (Marsaglia and Tsang 2000; shape < 1 by Gamma(shape + 1) U^(1/shape)),
/// kept in logs so that tiny draws at small shapes do not underflow.
fn ln_gamma_draw(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.uniform();
        return ln_gamma_draw(rng, shape + 1.0) + u.ln() / shape;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.normal();
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.uniform();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d.ln() + v.ln();
        }
    }
}

/// A Beta(alpha, beta) draw, as X / (X + Y) computed from the logs of the Gamma draws.
pub fn beta_draw(rng: &mut Rng, alpha: f64, beta: f64) -> f64 {
    let lx = ln_gamma_draw(rng, alpha);
    let ly = ln_gamma_draw(rng, beta);
    1.0 / (1.0 + (ly - lx).exp())
}

/// Simulates `problems` problems with `samples` attempts each: (p_i, c_i).
pub fn simulate(
    problems: usize,
    samples: u64,
    alpha: f64,
    beta: f64,
    seed: u64,
) -> Result<(Vec<f64>, Vec<u64>)> {
    if !(alpha > 0.0 && beta > 0.0 && alpha.is_finite() && beta.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "alpha and beta must be positive and finite, got {alpha} and {beta}"
        )));
    }
    if problems == 0 || samples == 0 {
        return Err(Error::InvalidOption(
            "simulate needs at least one problem and one sample".into(),
        ));
    }
    let work = (problems as u128) * (samples as u128);
    if work > 1u128 << 32 {
        return Err(Error::InvalidOption(format!(
            "{problems} problems x {samples} samples is too many draws to simulate (limit 2^32)"
        )));
    }
    let out: Vec<(f64, u64)> = (0..problems)
        .into_par_iter()
        .map(|i| {
            let mut rng = Rng::stream(seed, i as u64);
            let p = beta_draw(&mut rng, alpha, beta);
            let c = (0..samples).filter(|_| rng.uniform() < p).count() as u64;
            (p, c)
        })
        .collect();
    Ok(out.into_iter().unzip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_draws_have_the_right_moments() {
        for &(a, b) in &[(0.3, 2.0), (2.5, 1.5), (0.05, 0.5)] {
            let mut rng = Rng::stream(7, 0);
            let m = 200_000;
            let xs: Vec<f64> = (0..m).map(|_| beta_draw(&mut rng, a, b)).collect();
            let mean = xs.iter().sum::<f64>() / m as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / m as f64;
            let (tm, tv) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
            assert!(
                (mean - tm).abs() < 5.0 * (tv / m as f64).sqrt(),
                "{a} {b} mean"
            );
            assert!((var / tv - 1.0).abs() < 0.03, "{a} {b} var {var} {tv}");
            assert!(xs.iter().all(|&x| (0.0..=1.0).contains(&x)));
        }
    }

    #[test]
    fn simulation_is_reproducible_and_validated() {
        let a = simulate(50, 20, 0.5, 3.0, 1).unwrap();
        let b = simulate(50, 20, 0.5, 3.0, 1).unwrap();
        assert_eq!(a, b);
        assert!(a.1.iter().all(|&c| c <= 20));
        assert!(simulate(0, 20, 0.5, 3.0, 1).is_err());
        assert!(simulate(5, 20, -1.0, 3.0, 1).is_err());
        assert!(simulate(usize::MAX, u64::MAX, 1.0, 1.0, 1).is_err());
    }
}
