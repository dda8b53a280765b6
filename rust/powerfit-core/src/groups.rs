//! Bulk fits: many independent problems in one call (a sweep database with one fit per group).
//!
//! The rows of all groups lie in shared column arrays. Either they are sorted by group and
//! `offsets` (length `n_groups + 1`) delimits the groups, or `order` lists the rows group by
//! group (a stable counting sort of per-row group codes, [`group_index`]) and `offsets`
//! delimits `order`: then the table is never copied as a whole, each task gathers its group's
//! rows. Groups are fitted in parallel with rayon (one group per task, never one fit across
//! threads). A group is fitted exactly as [`fit`](crate::fit::fit) fits it alone: its columns,
//! logs and target are made by the same constructors from the same rows in the same order,
//! with the same options, so its result is bit-identical.
//!
//! A bad group (NaN, non-positive values, too few points, a constant observation column) is
//! reported in its own result with a message; the others are unaffected. Errors of the whole
//! call are for settings that no group could satisfy (bad options, a law without a start).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::bootstrap::{bootstrap, Method};
use crate::error::{Error, Result};
use crate::fit::{fit, FitOptions, FitResult};
use crate::law::{Law, OwnedCols};
use crate::loss::Loss;
use crate::problem::{target_for, validate_data, ParamSpec, Problem};
use crate::rng::Rng;
use crate::solver::covariance::Weak;
use crate::solver::lm::Termination;
use crate::stats::{interval, IntervalMethod};

/// The rows of all groups and how they split into groups.
#[derive(Debug, Clone)]
pub struct GroupData<'a> {
    /// One column per law variable (in the law's order), all rows.
    pub x: Vec<&'a [f64]>,
    /// The columns' names as the user knows them (for messages).
    pub x_names: Vec<String>,
    /// Observations (natural scale).
    pub y: &'a [f64],
    pub y_name: String,
    pub weights: Option<&'a [f64]>,
    /// Group g holds rows `offsets[g]..offsets[g + 1]` (of `order` when given); non-decreasing,
    /// the last entry is the number of rows.
    pub offsets: &'a [usize],
    /// The rows group by group (a permutation of `0..n`, each group's rows in table order);
    /// `None`: the rows are already sorted by group.
    pub order: Option<&'a [usize]>,
    /// Labels of the rows (by row, in table order) for messages; default: the row's position.
    pub rows: Option<&'a [i64]>,
}

impl GroupData<'_> {
    pub fn n_groups(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Checks the shapes of the whole call (not the values: those are per group).
    pub fn validate(&self, n_vars: usize) -> Result<()> {
        let n = self.y.len();
        if self.x.len() != n_vars {
            return Err(Error::InvalidShape(format!(
                "the law needs {n_vars} variable column(s), got {}",
                self.x.len()
            )));
        }
        for (c, name) in self
            .x
            .iter()
            .zip(self.x_names.iter().chain(std::iter::repeat(&String::new())))
        {
            if c.len() != n {
                return Err(Error::InvalidShape(format!(
                    "column '{name}' has {} rows but '{}' has {n}",
                    c.len(),
                    self.y_name
                )));
            }
        }
        if let Some(w) = self.weights {
            if w.len() != n {
                return Err(Error::InvalidShape(format!(
                    "weights have {} rows but '{}' has {n}",
                    w.len(),
                    self.y_name
                )));
            }
        }
        if let Some(r) = self.rows {
            if r.len() != n {
                return Err(Error::InvalidShape(format!(
                    "row labels have {} entries for {n} rows",
                    r.len()
                )));
            }
        }
        let Some((&first, &last)) = self.offsets.first().zip(self.offsets.last()) else {
            return Err(Error::InvalidShape(
                "group offsets must have at least one entry (0)".into(),
            ));
        };
        if first != 0 || last != n {
            return Err(Error::InvalidShape(format!(
                "group offsets must run from 0 to the number of rows ({n}), got {first}..{last}"
            )));
        }
        if self.offsets.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::InvalidShape(
                "group offsets must be non-decreasing (rows sorted by group)".into(),
            ));
        }
        if let Some(o) = self.order {
            if o.len() != n || o.iter().any(|&i| i >= n) {
                return Err(Error::InvalidShape(format!(
                    "the row order must list the {n} rows (got {} entries)",
                    o.len()
                )));
            }
        }
        Ok(())
    }
}

/// Groups from per-row group codes (`0..n_groups`, rows in any order), by a stable counting
/// sort: `(order, offsets)` with group g's rows `order[offsets[g]..offsets[g + 1]]` in table
/// order; `order` is `None` when the codes are already non-decreasing. O(rows + groups).
pub fn group_index(codes: &[i64], n_groups: usize) -> Result<(Option<Vec<usize>>, Vec<usize>)> {
    let mut offsets = vec![0usize; n_groups + 1];
    let mut sorted = true;
    let mut prev = 0i64;
    for (row, &c) in codes.iter().enumerate() {
        if c < 0 || c as u64 >= n_groups as u64 {
            return Err(Error::InvalidShape(format!(
                "group code {c} at row {row} is outside 0..{n_groups}"
            )));
        }
        sorted &= c >= prev;
        prev = c;
        offsets[c as usize + 1] += 1;
    }
    for g in 0..n_groups {
        offsets[g + 1] += offsets[g];
    }
    if sorted {
        return Ok((None, offsets));
    }
    let mut next = offsets[..n_groups].to_vec();
    let mut order = vec![0usize; codes.len()];
    for (row, &c) in codes.iter().enumerate() {
        let slot = &mut next[c as usize];
        order[*slot] = row;
        *slot += 1;
    }
    Ok((Some(order), offsets))
}

/// Bootstrap every successful group: `n` replicates by `method` (case or residual), percentile
/// intervals at `level` over the converged replicates.
#[derive(Debug, Clone)]
pub struct GroupBootstrap<'a> {
    pub n: usize,
    pub method: Method,
    pub seed: u64,
    pub level: f64,
    /// Each group's stream index for its seed (e.g. a hash of its keys, so that a group's
    /// replicates do not depend on which other groups are in the call); default: the group's
    /// position.
    pub ids: Option<&'a [u64]>,
}

/// The seed of a group's bootstrap: a function of the run's seed and the group's id only.
pub fn group_seed(seed: u64, id: u64) -> u64 {
    Rng::stream(seed, id).next_u64()
}

/// What every group is fitted with.
#[derive(Clone, Copy)]
pub struct GroupSettings<'a> {
    pub law: &'a dyn Law,
    pub loss: Loss,
    pub spec: &'a ParamSpec,
    pub opts: &'a FitOptions,
    pub bootstrap: Option<&'a GroupBootstrap<'a>>,
}

/// How a group ended: a fit with its solver's termination, or data that could not be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    Fitted(Termination),
    InvalidData,
}

impl GroupStatus {
    /// Code of `InvalidData` (terminations use their own codes, which are small).
    pub const INVALID_DATA_CODE: u8 = 255;

    pub fn is_success(&self) -> bool {
        matches!(self, GroupStatus::Fitted(t) if t.is_success())
    }

    pub fn code(&self) -> u8 {
        match self {
            GroupStatus::Fitted(t) => t.code(),
            GroupStatus::InvalidData => Self::INVALID_DATA_CODE,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            GroupStatus::Fitted(t) => t.name(),
            GroupStatus::InvalidData => "invalid_data",
        }
    }
}

/// One group's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFit {
    pub status: GroupStatus,
    /// Natural parameters (NaN when the data were invalid).
    pub params: Vec<f64>,
    /// Square roots of the covariance's diagonal: NaN for free parameters without a
    /// covariance, 0 for fixed ones.
    pub stderr: Vec<f64>,
    pub cost: f64,
    pub n_iter: usize,
    /// Points with positive weight (rows of the group when the data were invalid).
    pub n_points: usize,
    /// Condition number of the scaled J^T J (identifiability); NaN without a fit.
    pub condition: f64,
    /// Why the data were invalid, or a bootstrap problem; `None`: the termination's message.
    pub message: Option<String>,
    /// Percentile bounds (empty without bootstrap; NaN when the group was not bootstrapped).
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Converged bootstrap replicates, and the seed of the group's bootstrap (set for every
    /// group when bootstrapping, 0 otherwise).
    pub n_boot_ok: usize,
    pub boot_seed: u64,
}

/// Standard errors from a fit's covariance (as `FitResult.stderr` in Python).
fn stderr_of(r: &FitResult, spec: &ParamSpec) -> Vec<f64> {
    let p = r.params.len();
    match &r.cov {
        Some(c) => (0..p)
            .map(|k| {
                let v = c[k * p + k];
                // clip negatives to 0, keep NaN (numpy's clip semantics)
                if v < 0.0 {
                    0.0
                } else {
                    v.sqrt()
                }
            })
            .collect(),
        None => (0..p)
            .map(|k| {
                if spec.fixed[k].is_some() {
                    0.0
                } else {
                    f64::NAN
                }
            })
            .collect(),
    }
}

/// A data error of one group as its message, with the row relabelled for the user (`at` maps
/// a row of the group to its row in the table).
fn data_message(e: &Error, at: impl Fn(usize) -> usize, rows: Option<&[i64]>) -> String {
    match e {
        Error::InvalidData {
            column,
            row,
            value,
            reason,
        } => {
            let table_row = at(*row);
            let label = rows.map_or(table_row as i64, |r| r[table_row]);
            format!(
                "column '{column}' has an invalid value {value} at row {label} \
                 (row {row} of the group): {reason}"
            )
        }
        other => other.to_string(),
    }
}

/// Outcome of one group before assembly: a result, or an error for the whole call.
type Outcome = Result<GroupFit>;

fn invalid(p: usize, n_rows: usize, boot: bool, message: String) -> GroupFit {
    GroupFit {
        status: GroupStatus::InvalidData,
        params: vec![f64::NAN; p],
        stderr: vec![f64::NAN; p],
        cost: f64::NAN,
        n_iter: 0,
        n_points: n_rows,
        condition: f64::NAN,
        message: Some(message),
        lower: if boot { vec![f64::NAN; p] } else { Vec::new() },
        upper: if boot { vec![f64::NAN; p] } else { Vec::new() },
        n_boot_ok: 0,
        boot_seed: 0,
    }
}

fn interrupted(p: usize, n_rows: usize, boot: bool) -> GroupFit {
    GroupFit {
        status: GroupStatus::Fitted(Termination::Interrupted),
        message: None,
        ..invalid(p, n_rows, boot, String::new())
    }
}

/// Asks the cache for the values of group `g`'s rows when they are scattered (`order`
/// given); a hint only: nothing is read, and out-of-range groups are ignored.
fn prefetch_group(data: &GroupData, g: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let (Some(order), Some(&start), Some(&end)) =
            (data.order, data.offsets.get(g), data.offsets.get(g + 1))
        else {
            return;
        };
        let cols = data.x.iter().copied().chain([data.y]).chain(data.weights);
        for c in cols {
            for &i in &order[start..end] {
                // SAFETY: a prefetch never faults and reads nothing; the address is in bounds
                // (`order` was validated against the number of rows)
                #[allow(unsafe_code)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(c.as_ptr().add(i).cast::<i8>())
                };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, g);
}

fn fit_one(
    data: &GroupData,
    set: &GroupSettings,
    g: usize,
    cancel: Option<&AtomicBool>,
) -> Outcome {
    let p = set.spec.n_params();
    let boot = set.bootstrap.is_some();
    let (start, end) = (data.offsets[g], data.offsets[g + 1]);
    let n_rows = end - start;
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Ok(interrupted(p, n_rows, boot));
    }
    // the next group is most often this thread's next task: its rows, scattered over a
    // shuffled table, arrive while this one is fitted
    prefetch_group(data, g + 1);
    // the group's rows, in table order
    let idx = data.order.map(|o| &o[start..end]);
    let at = |i: usize| idx.map_or(start + i, |ix| ix[i]);
    let take = |c: &[f64]| -> Vec<f64> {
        match idx {
            Some(ix) => ix.iter().map(|&i| c[i]).collect(),
            None => c[start..end].to_vec(),
        }
    };
    let xs: Vec<Vec<f64>> = data.x.iter().map(|c| take(c)).collect();
    let y = take(data.y);
    let w = data.weights.map(take);
    let x: Vec<&[f64]> = xs.iter().map(|c| c.as_slice()).collect();
    if let Err(e) = validate_data(
        set.law,
        &x,
        &data.x_names,
        &y,
        w.as_deref(),
        &set.loss,
        &data.y_name,
    ) {
        return Ok(invalid(p, n_rows, boot, data_message(&e, at, data.rows)));
    }
    if n_rows > 1 && y.iter().all(|&v| v == y[0]) {
        return Ok(invalid(
            p,
            n_rows,
            boot,
            format!(
                "column '{}' is constant in this group (all {n_rows} rows are {}): a flat \
                 curve cannot determine the law's parameters",
                data.y_name, y[0]
            ),
        ));
    }
    // the group's columns, logs and target made by the same constructors a single fit uses
    // (`OwnedCols::new`, `target_for`), so its result is bit-identical to fitting it alone
    drop(x);
    let owned = OwnedCols::new(xs, set.law.needs_logs());
    let cols = owned.view();
    let target = target_for(&set.loss, &y);
    let pb = Problem {
        law: set.law,
        cols: &cols,
        target: &target,
        weights: w.as_deref(),
        loss: set.loss,
        spec: set.spec,
    };
    let r = match fit(&pb, set.opts, cancel) {
        Ok(r) => r,
        Err(e @ (Error::InvalidData { .. } | Error::InvalidShape(_))) => {
            return Ok(invalid(p, n_rows, boot, data_message(&e, at, data.rows)))
        }
        Err(e) => return Err(e),
    };
    let mut out = GroupFit {
        status: GroupStatus::Fitted(r.termination),
        stderr: stderr_of(&r, set.spec),
        params: Vec::new(),
        cost: r.cost,
        n_iter: r.n_iter,
        n_points: r.n_points,
        condition: r.condition,
        message: None,
        lower: Vec::new(),
        upper: Vec::new(),
        n_boot_ok: 0,
        boot_seed: 0,
    };
    if let Some(b) = set.bootstrap {
        out.lower = vec![f64::NAN; p];
        out.upper = vec![f64::NAN; p];
        out.boot_seed = group_seed(b.seed, b.ids.map_or(g as u64, |ids| ids[g]));
        if r.termination.is_success() {
            match bootstrap(
                &pb,
                &r.params,
                &b.method,
                b.n,
                out.boot_seed,
                &set.opts.lm,
                cancel,
                None,
            ) {
                Ok(br) => {
                    let ok: Vec<usize> = (0..br.status.len())
                        .filter(|&i| br.status[i].is_success())
                        .collect();
                    out.n_boot_ok = ok.len();
                    let mut col = Vec::with_capacity(ok.len());
                    for k in 0..p {
                        col.clear();
                        col.extend(ok.iter().map(|&i| br.samples[i * p + k]));
                        let (lo, hi) =
                            interval(&col, r.params[k], None, b.level, IntervalMethod::Percentile)?;
                        out.lower[k] = lo;
                        out.upper[k] = hi;
                    }
                }
                Err(e) => {
                    out.message = Some(format!(
                        "{}; bootstrap not run: {e}",
                        r.termination.message()
                    ))
                }
            }
        }
    }
    out.params = r.params;
    Ok(out)
}

/// Fits every group. `progress` counts finished groups; `cancel` stops the remaining ones
/// (they report `Interrupted`). Errors only for settings no group could satisfy: bad shapes of
/// the whole call, bad options or bounds, a law without a start.
pub fn fit_groups(
    data: &GroupData,
    set: &GroupSettings,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicUsize>,
) -> Result<Vec<GroupFit>> {
    set.spec.validate(set.law.param_names())?;
    set.loss.validate()?;
    data.validate(set.law.var_names().len())?;
    if let Some(b) = set.bootstrap {
        if b.n == 0 {
            return Err(Error::InvalidOption(
                "the bootstrap needs at least one replicate".into(),
            ));
        }
        if !matches!(b.method, Method::Case | Method::Residual) {
            return Err(Error::InvalidOption(
                "bulk fits bootstrap by 'case' or 'residual' resampling".into(),
            ));
        }
        if !(b.level > 0.0 && b.level < 1.0) {
            return Err(Error::InvalidOption(format!(
                "level must be in (0, 1), got {}",
                b.level
            )));
        }
        // every thread holds one group's replicate table at a time
        crate::bootstrap::check_table(
            b.n,
            set.spec.n_params(),
            rayon::current_num_threads(),
            "bootstrap",
        )?;
        if let Some(ids) = b.ids {
            if ids.len() != data.n_groups() {
                return Err(Error::InvalidShape(format!(
                    "{} group ids for {} groups",
                    ids.len(),
                    data.n_groups()
                )));
            }
        }
    }
    // a group's row reports the condition number but not the weak direction: the rotations
    // that would accumulate it are skipped (the condition is the same number)
    let opts = FitOptions {
        weak: Weak::ConditionOnly,
        ..set.opts.clone()
    };
    let set = &GroupSettings {
        opts: &opts,
        ..*set
    };
    // an error here is a setting every group shares (the same message from any group), so
    // stopping at the first one found is deterministic enough
    (0..data.n_groups())
        .into_par_iter()
        .with_min_len(4)
        .map(|g| {
            let mut out = fit_one(data, set, g, cancel);
            if let (Ok(r), Some(b)) = (&mut out, set.bootstrap) {
                // reported for every group, bootstrapped or not
                r.boot_seed = group_seed(b.seed, b.ids.map_or(g as u64, |ids| ids[g]));
            }
            if let Some(pg) = progress {
                pg.fetch_add(1, Ordering::Relaxed);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_seed_and_id_only() {
        assert_eq!(group_seed(3, 17), group_seed(3, 17));
        assert_ne!(group_seed(3, 17), group_seed(3, 18));
        assert_ne!(group_seed(3, 17), group_seed(4, 17));
    }

    #[test]
    fn row_labels_in_messages() {
        let e = Error::InvalidData {
            column: "N".into(),
            row: 2,
            value: f64::NAN,
            reason: "must be finite".into(),
        };
        let labels: Vec<i64> = (0..20).rev().collect();
        let m = data_message(&e, |i| 10 + i, Some(&labels));
        assert!(m.contains("at row 7 (row 2 of the group)"), "{m}");
        assert!(data_message(&e, |i| 10 + i, None).contains("at row 12"));
        assert!(data_message(&e, |i| [5, 3, 1][i], None).contains("at row 1 (row 2"));
    }

    #[test]
    fn counting_sort_is_stable() {
        let (order, off) = group_index(&[2, 0, 2, 1, 0, 2], 4).unwrap();
        assert_eq!(order.unwrap(), vec![1, 4, 3, 0, 2, 5]);
        assert_eq!(off, vec![0, 2, 3, 6, 6]);
        let (order, off) = group_index(&[0, 0, 1, 3], 4).unwrap();
        assert!(order.is_none());
        assert_eq!(off, vec![0, 2, 3, 3, 4]);
        assert!(group_index(&[0, 4], 4).is_err());
        assert!(group_index(&[-1], 4).is_err());
        assert_eq!(group_index(&[], 0).unwrap(), (None, vec![0]));
    }
}
