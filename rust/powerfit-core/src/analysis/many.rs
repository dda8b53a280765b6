//! Analyses over many parameter vectors (bootstrap replicates) or of user-given targets, with
//! their arguments checked: rows run in parallel, each result independent of the thread count.

use rayon::prelude::*;

use crate::analysis::numeric::{inference_optimum, numeric_optimum, PointLaw};
use crate::error::{Error, Result};
use crate::law::{Cols, Law};
use crate::problem::check_variable;

/// Checks prediction points: one column per variable of the law, equal lengths, finite values,
/// positive where the law takes logs. `names` label the columns in messages.
pub fn check_points(law: &dyn Law, x: &[&[f64]], names: &[String]) -> Result<()> {
    let vars = law.var_names();
    if x.len() != vars.len() {
        return Err(Error::InvalidShape(format!(
            "law '{}' reads {} column(s) ({}), got {}",
            law.name(),
            vars.len(),
            vars.join(", "),
            x.len()
        )));
    }
    let labels = if names.len() == vars.len() {
        names
    } else {
        vars
    };
    let n = x.first().map_or(0, |c| c.len());
    for (c, name) in x.iter().zip(labels) {
        if c.len() != n {
            return Err(Error::InvalidShape(format!(
                "prediction columns have different lengths: '{name}' has {}, '{}' has {n}",
                c.len(),
                labels[0]
            )));
        }
        check_variable(name, c, law.needs_logs())?;
    }
    Ok(())
}

/// The law at the points `x` for every row of `params` (row-major, one row per parameter
/// vector): a rows x points matrix, row-major.
pub fn evaluate_many(law: &dyn Law, x: &Cols, params: &[f64]) -> Result<Vec<f64>> {
    let p = law.n_params();
    if p == 0 || !params.len().is_multiple_of(p) {
        return Err(Error::InvalidShape(format!(
            "parameter rows must have {p} values each"
        )));
    }
    let m = x.n();
    let rows = params.len() / p;
    let mut out = vec![0.0; rows.checked_mul(m).ok_or_else(too_big)?];
    if m == 0 {
        return Ok(out);
    }
    out.par_chunks_mut(m)
        .zip(params.par_chunks(p))
        .for_each(|(o, r)| law.eval(x, r, o));
    Ok(out)
}

/// The law at the points `x`, where the points `offsets[s]..offsets[s + 1]` take the
/// parameter row `s` (row-major `params`): one value per point. The offsets start at 0, never
/// decrease and end at the number of points; segments run in parallel.
pub fn evaluate_segments(
    law: &dyn Law,
    x: &Cols,
    params: &[f64],
    offsets: &[usize],
) -> Result<Vec<f64>> {
    let p = law.n_params();
    let m = x.n();
    let sets = offsets.len().saturating_sub(1);
    if p == 0 || params.len() != sets.checked_mul(p).ok_or_else(too_big)? {
        return Err(Error::InvalidShape(format!(
            "{sets} segments need {sets} parameter rows of {p} values, got {} values",
            params.len()
        )));
    }
    let ordered = offsets.first() == Some(&0)
        && offsets.last() == Some(&m)
        && offsets.windows(2).all(|w| w[0] <= w[1]);
    if !ordered {
        return Err(Error::InvalidShape(format!(
            "segment offsets must start at 0, never decrease and end at the {m} points"
        )));
    }
    let mut out = vec![0.0; m];
    let mut pieces = Vec::with_capacity(sets);
    let mut rest: &mut [f64] = &mut out;
    for (s, w) in offsets.windows(2).enumerate() {
        let (head, tail) = rest.split_at_mut(w[1] - w[0]);
        pieces.push((head, x.slice(w[0], w[1]), &params[s * p..(s + 1) * p]));
        rest = tail;
    }
    pieces
        .into_par_iter()
        .filter(|(o, _, _)| !o.is_empty())
        .for_each(|(o, cols, row)| law.eval(&cols, row, o));
    Ok(out)
}

fn too_big() -> Error {
    Error::InvalidOption("the requested table is too large for this machine".into())
}

/// Checks a compute budget list and k (C = k N D).
fn check_budgets(budgets: &[f64], k: f64) -> Result<()> {
    if let Some(c) = budgets.iter().find(|c| !(**c > 0.0 && c.is_finite())) {
        return Err(Error::InvalidOption(format!(
            "compute budgets must be positive finite numbers, got {c}"
        )));
    }
    if !(k > 0.0 && k.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "flops_per_param_token (k in C = k N D) must be a positive finite number, got {k}"
        )));
    }
    Ok(())
}

/// Numeric compute-optimal (N*, D*, L*) for every row of `params` at every budget: three
/// rows x budgets matrices, row-major.
pub fn numeric_optimal_many(
    law: &dyn Law,
    params: &[f64],
    budgets: &[f64],
    k: f64,
) -> Result<[Vec<f64>; 3]> {
    check_budgets(budgets, k)?;
    let p = law.n_params();
    if p == 0 || !params.len().is_multiple_of(p) {
        return Err(Error::InvalidShape(format!(
            "parameter rows must have {p} values each"
        )));
    }
    for r in params.chunks_exact(p) {
        PointLaw::new(law, r, k)?;
    }
    let per_row: Vec<Vec<(f64, f64, f64)>> = params
        .par_chunks(p)
        .map(|r| match PointLaw::new(law, r, k) {
            Ok(pl) => budgets
                .iter()
                .map(|&c| numeric_optimum(&pl, c, k))
                .collect(),
            Err(_) => vec![(f64::NAN, f64::NAN, f64::NAN); budgets.len()],
        })
        .collect();
    let pick =
        |f: fn(&(f64, f64, f64)) -> f64| -> Vec<f64> { per_row.iter().flatten().map(f).collect() };
    Ok([pick(|t| t.0), pick(|t| t.1), pick(|t| t.2)])
}

/// Inference-aware sizing with its arguments checked; `Ok(None)` never: a target the law
/// cannot reach is an error that says why.
pub fn inference_optimal(
    law: &dyn Law,
    params: &[f64],
    target: f64,
    tokens: f64,
    k: f64,
) -> Result<(f64, f64, f64, f64)> {
    check_budgets(&[], k)?;
    if !target.is_finite() {
        return Err(Error::InvalidOption(format!(
            "target_loss must be a finite number, got {target}"
        )));
    }
    if !(tokens >= 0.0 && tokens.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "inference_tokens must be finite and >= 0, got {tokens}"
        )));
    }
    let pl = PointLaw::new(law, params, k)?;
    let floor = pl.loss(1e30, 1e30);
    let (n, d, train, inference) = inference_optimum(&pl, target, tokens, k).ok_or_else(|| {
        Error::InvalidOption(format!(
            "no model reaches loss {target}: the fitted law's floor is about {floor:.6}"
        ))
    })?;
    if !(train.is_finite() && inference.is_finite()) {
        return Err(Error::InvalidOption(format!(
            "the FLOPs of this sizing overflow double precision (flops_per_param_token={k:e}, \
             inference_tokens={tokens:e}): give flops_per_param_token and inference_tokens on \
             a realistic scale"
        )));
    }
    if n <= 1.0 || d <= 1.0 {
        return Err(Error::InvalidOption(format!(
            "target_loss {target} is above the loss of a one-parameter model trained on one \
             token ({:.6}): every model reaches it; choose a lower target",
            pl.loss(1.0, 1.0)
        )));
    }
    Ok((n, d, train, inference))
}
