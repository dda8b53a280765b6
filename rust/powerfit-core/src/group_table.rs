//! Bulk-fit results as columns (one entry per group), the form a table library takes directly.

use crate::groups::GroupFit;

/// One row per group; matrices are row-major (groups x parameters).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupTable {
    pub n_groups: usize,
    pub n_params: usize,
    pub params: Vec<f64>,
    pub stderr: Vec<f64>,
    pub cost: Vec<f64>,
    pub status: Vec<u8>,
    pub success: Vec<bool>,
    pub n_iter: Vec<i64>,
    pub n_points: Vec<i64>,
    pub condition: Vec<f64>,
    /// Groups whose message is not their status's (bad data, bootstrap problems), and it.
    pub message_index: Vec<i64>,
    pub message_text: Vec<String>,
    /// Bootstrap columns (empty without a bootstrap).
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub n_boot_ok: Vec<i64>,
    pub boot_seed: Vec<u64>,
}

impl GroupTable {
    /// Columns from per-group results (`p` parameters; bootstrap columns when `boot`).
    pub fn new(fits: Vec<GroupFit>, p: usize, boot: bool) -> GroupTable {
        let g = fits.len();
        let mut t = GroupTable {
            n_groups: g,
            n_params: p,
            params: Vec::with_capacity(g * p),
            stderr: Vec::with_capacity(g * p),
            ..GroupTable::default()
        };
        for (k, r) in fits.into_iter().enumerate() {
            t.params.extend_from_slice(&r.params);
            t.stderr.extend_from_slice(&r.stderr);
            t.cost.push(r.cost);
            t.status.push(r.status.code());
            t.success.push(r.status.is_success());
            t.n_iter.push(r.n_iter as i64);
            t.n_points.push(r.n_points as i64);
            t.condition.push(r.condition);
            if boot {
                t.lower.extend_from_slice(&r.lower);
                t.upper.extend_from_slice(&r.upper);
                t.n_boot_ok.push(r.n_boot_ok as i64);
                t.boot_seed.push(r.boot_seed);
            }
            if let Some(m) = r.message {
                t.message_index.push(k as i64);
                t.message_text.push(m);
            }
        }
        t
    }
}
