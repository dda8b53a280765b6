//! Frontier results of many groups as columns: one row per group, per (group, budget), per
//! (group, prediction budget) and per (group, replicate), the form a table library takes
//! directly.

use super::*;

/// A named column of floats or integers.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    F64(Vec<f64>),
    I64(Vec<i64>),
    U64(Vec<u64>),
}

/// Named columns of equal length, in order.
pub type Columnar = Vec<(&'static str, Column)>;

/// The four tables of a frontier analysis over groups.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierTable {
    pub groups: Columnar,
    pub optima: Columnar,
    pub predictions: Columnar,
    pub samples: Columnar,
}

fn f64s<T>(rows: &[T], f: impl Fn(&T) -> f64) -> Column {
    Column::F64(rows.iter().map(f).collect())
}

fn i64s<T>(rows: &[T], f: impl Fn(&T) -> i64) -> Column {
    Column::I64(rows.iter().map(f).collect())
}

/// Repeats each group's index once per item it has.
fn group_index(counts: impl Iterator<Item = usize>) -> Column {
    Column::I64(
        counts
            .enumerate()
            .flat_map(|(g, n)| std::iter::repeat_n(g as i64, n))
            .collect(),
    )
}

impl FrontierTable {
    pub fn new(fs: &[Frontier]) -> FrontierTable {
        let groups = vec![
            ("a", f64s(fs, |f| f.n_fit.exponent)),
            ("a_lower", f64s(fs, |f| f.a_bounds.0)),
            ("a_upper", f64s(fs, |f| f.a_bounds.1)),
            ("b", f64s(fs, |f| f.d_fit.exponent)),
            ("b_lower", f64s(fs, |f| f.b_bounds.0)),
            ("b_upper", f64s(fs, |f| f.b_bounds.1)),
            ("log_k_N", f64s(fs, |f| f.n_fit.log_coef)),
            ("log_k_D", f64s(fs, |f| f.d_fit.log_coef)),
            ("r2_N", f64s(fs, |f| f.n_fit.r2)),
            ("r2_D", f64s(fs, |f| f.d_fit.r2)),
            ("n_budgets", i64s(fs, |f| f.optima.len() as i64)),
            ("n_used", i64s(fs, |f| f.n_fit.n as i64)),
            (
                "n_dropped",
                i64s(fs, |f| {
                    f.optima.iter().filter(|o| !o.status.is_ok()).count() as i64
                }),
            ),
            ("n_boot_ok", i64s(fs, |f| f.n_boot_ok as i64)),
            ("seed", Column::U64(fs.iter().map(|f| f.seed).collect())),
        ];
        let opt: Vec<&BudgetOptimum> = fs.iter().flat_map(|f| &f.optima).collect();
        let optima = vec![
            ("group", group_index(fs.iter().map(|f| f.optima.len()))),
            ("C", f64s(&opt, |o| o.c)),
            ("n_points", i64s(&opt, |o| o.n_points as i64)),
            ("n_sizes", i64s(&opt, |o| o.n_sizes as i64)),
            ("status", i64s(&opt, |o| i64::from(o.status.code()))),
            ("N_opt", f64s(&opt, |o| o.n_opt)),
            ("N_opt_lower", f64s(&opt, |o| o.n_lower)),
            ("N_opt_upper", f64s(&opt, |o| o.n_upper)),
            ("D_opt", f64s(&opt, |o| o.d_opt)),
            ("D_opt_lower", f64s(&opt, |o| o.d_lower)),
            ("D_opt_upper", f64s(&opt, |o| o.d_upper)),
            ("L_opt", f64s(&opt, |o| o.l_opt)),
            ("L_env", f64s(&opt, |o| o.l_env)),
            (
                "best_run",
                i64s(&opt, |o| o.best_run.map_or(-1, |r| r as i64)),
            ),
            ("n_boot_ok", i64s(&opt, |o| o.n_boot_ok as i64)),
        ];
        let pred: Vec<&Prediction> = fs.iter().flat_map(|f| &f.predictions).collect();
        let predictions = vec![
            ("group", group_index(fs.iter().map(|f| f.predictions.len()))),
            ("C", f64s(&pred, |p| p.c)),
            ("N_opt", f64s(&pred, |p| p.n_opt)),
            ("N_opt_lower", f64s(&pred, |p| p.n_lower)),
            ("N_opt_upper", f64s(&pred, |p| p.n_upper)),
            ("D_opt", f64s(&pred, |p| p.d_opt)),
            ("D_opt_lower", f64s(&pred, |p| p.d_lower)),
            ("D_opt_upper", f64s(&pred, |p| p.d_upper)),
        ];
        let width = SAMPLE_COLUMNS.len();
        let reps = |f: &Frontier| f.samples.len() / width;
        let sample_col = |j: usize| -> Column {
            Column::F64(
                fs.iter()
                    .flat_map(|f| f.samples.iter().skip(j).step_by(width).copied())
                    .collect(),
            )
        };
        let samples = vec![
            ("group", group_index(fs.iter().map(reps))),
            (
                "replicate",
                Column::I64(
                    fs.iter()
                        .flat_map(|f| (0..reps(f) as i64).collect::<Vec<_>>())
                        .collect(),
                ),
            ),
            ("a", sample_col(0)),
            ("log_k_N", sample_col(1)),
            ("b", sample_col(2)),
            ("log_k_D", sample_col(3)),
        ];
        FrontierTable {
            groups,
            optima,
            predictions,
            samples,
        }
    }
}
