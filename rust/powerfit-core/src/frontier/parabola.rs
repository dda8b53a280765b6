//! The optimum of one profile by a local parabola in log size, and why a budget may lack one.

/// Why a budget has, or lacks, an optimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetStatus {
    /// An interior optimum was located.
    Ok,
    /// The lowest loss is at the smallest sampled (or covering) size.
    EdgeLow,
    /// The lowest loss is at the largest sampled (or covering) size.
    EdgeHigh,
    /// Fewer than three distinct sizes.
    TooFewSizes,
    /// The local parabola is not convex (a flat or non-unimodal profile).
    NotConvex,
}

impl BudgetStatus {
    pub const ALL: [BudgetStatus; 5] = [
        BudgetStatus::Ok,
        BudgetStatus::EdgeLow,
        BudgetStatus::EdgeHigh,
        BudgetStatus::TooFewSizes,
        BudgetStatus::NotConvex,
    ];

    pub fn is_ok(&self) -> bool {
        matches!(self, BudgetStatus::Ok)
    }

    pub fn code(&self) -> u8 {
        match self {
            BudgetStatus::Ok => 0,
            BudgetStatus::EdgeLow => 1,
            BudgetStatus::EdgeHigh => 2,
            BudgetStatus::TooFewSizes => 3,
            BudgetStatus::NotConvex => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<BudgetStatus> {
        Self::ALL.get(code as usize).copied()
    }

    /// snake_case name, for Python.
    pub fn name(&self) -> &'static str {
        match self {
            BudgetStatus::Ok => "ok",
            BudgetStatus::EdgeLow => "edge_low",
            BudgetStatus::EdgeHigh => "edge_high",
            BudgetStatus::TooFewSizes => "too_few_sizes",
            BudgetStatus::NotConvex => "not_convex",
        }
    }
}

/// The located optimum of one profile (log scale), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimum {
    pub status: BudgetStatus,
    /// log N* (the vertex), and the log loss of the parabola there.
    pub log_n: f64,
    pub log_l: f64,
    /// Second derivative of log L in log N at the vertex (2 c2).
    pub curvature: f64,
    /// The window used: points `lo..=hi` of the profile.
    pub lo: usize,
    pub hi: usize,
}

impl Optimum {
    pub(super) fn none(status: BudgetStatus) -> Optimum {
        Optimum {
            status,
            log_n: f64::NAN,
            log_l: f64::NAN,
            curvature: f64::NAN,
            lo: 0,
            hi: 0,
        }
    }
}

/// Weighted least-squares parabola y = c0 + c1 t + c2 t^2 through points `lo..=hi`, with t
/// measured from `x0` and scaled by `s` for conditioning; returns (c0, c1, c2) in units of t.
pub(super) fn parabola(
    x: &[f64],
    y: &[f64],
    w: Option<&[f64]>,
    lo: usize,
    hi: usize,
    x0: f64,
) -> Option<(f64, f64, f64)> {
    let s = (lo..=hi).map(|k| (x[k] - x0).abs()).fold(0.0_f64, f64::max);
    if !(s > 0.0) {
        return None;
    }
    // normal equations in u = t/s: M c = r, M_jk = sum w u^(j+k), r_j = sum w u^j y
    let mut m = [0.0; 5];
    let mut r = [0.0; 3];
    for k in lo..=hi {
        let wk = w.map_or(1.0, |w| w[k]);
        let u = (x[k] - x0) / s;
        let mut p = wk;
        for (j, mj) in m.iter_mut().enumerate() {
            *mj += p;
            if j < 3 {
                r[j] += p * y[k];
            }
            p *= u;
        }
    }
    let a = [[m[0], m[1], m[2]], [m[1], m[2], m[3]], [m[2], m[3], m[4]]];
    let c = solve3(a, r)?;
    Some((c[0], c[1] / s, c[2] / (s * s)))
}

/// Solves a 3x3 system by Cramer's rule (the system is small and well scaled).
pub(super) fn solve3(a: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let det3 = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det3(&a);
    let scale = a[0][0] * a[1][1] * a[2][2];
    if !(d.abs() > 1e-13 * scale.abs()) || !d.is_finite() {
        return None;
    }
    let mut out = [0.0; 3];
    for (j, o) in out.iter_mut().enumerate() {
        let mut b = a;
        for i in 0..3 {
            b[i][j] = r[i];
        }
        *o = det3(&b) / d;
    }
    Some(out)
}

/// Locates the minimum of a profile: `x` (log sizes) strictly increasing, `y` (log losses),
/// optional positive weights (multiplicities). The window is the lowest point and up to
/// `half_window` neighbours on each side, the same number on both sides; if that parabola is
/// not convex or its vertex leaves the window, the three-point parabola around the lowest point
/// is used (its vertex always lies between the two neighbours).
pub fn local_parabola(x: &[f64], y: &[f64], w: Option<&[f64]>, half_window: usize) -> Optimum {
    let n = x.len();
    if n < 3 {
        return Optimum::none(BudgetStatus::TooFewSizes);
    }
    let mut i = 0;
    for k in 1..n {
        if y[k] < y[i] {
            i = k;
        }
    }
    if i == 0 {
        return Optimum::none(BudgetStatus::EdgeLow);
    }
    if i == n - 1 {
        return Optimum::none(BudgetStatus::EdgeHigh);
    }
    let widest = half_window.max(1).min(i).min(n - 1 - i);
    let mut hh = widest;
    loop {
        let (lo, hi) = (i - hh, i + hh);
        if let Some((c0, c1, c2)) = parabola(x, y, w, lo, hi, x[i]) {
            if c2 > 0.0 && c2.is_finite() {
                let t = -c1 / (2.0 * c2);
                let v = x[i] + t;
                if v >= x[lo] && v <= x[hi] {
                    return Optimum {
                        status: BudgetStatus::Ok,
                        log_n: v,
                        log_l: c0 + c1 * t + c2 * t * t,
                        curvature: 2.0 * c2,
                        lo,
                        hi,
                    };
                }
            }
        }
        if hh == 1 {
            return Optimum::none(BudgetStatus::NotConvex);
        }
        hh = 1;
    }
}
