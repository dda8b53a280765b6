//! The `Law` trait: a model L(x; p) with a fused value-and-Jacobian evaluation.

use crate::loss::Scale;

/// Borrowed column-major data: one slice per variable of the law, plus their logarithms
/// (precomputed once per data set, because the hot loop is x^-e = exp(-e log x)).
#[derive(Debug, Clone)]
pub struct Cols<'a> {
    pub x: Vec<&'a [f64]>,
    pub logx: Vec<&'a [f64]>,
}

impl<'a> Cols<'a> {
    pub fn n(&self) -> usize {
        self.x.first().map_or(0, |c| c.len())
    }

    /// The rows `start..end` of every column (a group of a bulk fit).
    pub fn slice(&self, start: usize, end: usize) -> Cols<'a> {
        Cols {
            x: self.x.iter().map(|c| &c[start..end]).collect(),
            logx: self
                .logx
                .iter()
                .map(|c| if c.is_empty() { *c } else { &c[start..end] })
                .collect(),
        }
    }
}

/// Owned columns with their logs; `Cols` borrows from it.
#[derive(Debug, Clone, Default)]
pub struct OwnedCols {
    pub x: Vec<Vec<f64>>,
    pub logx: Vec<Vec<f64>>,
}

impl OwnedCols {
    /// Takes the columns; computes logs only when `with_logs` (laws on positive variables).
    pub fn new(x: Vec<Vec<f64>>, with_logs: bool) -> Self {
        let logx = if with_logs {
            x.iter()
                .map(|c| {
                    let mut l = vec![0.0; c.len()];
                    crate::fastmath::ln_slice(c, &mut l);
                    l
                })
                .collect()
        } else {
            x.iter().map(|_| Vec::new()).collect()
        };
        OwnedCols { x, logx }
    }

    pub fn view(&self) -> Cols<'_> {
        Cols {
            x: self.x.iter().map(|c| c.as_slice()).collect(),
            logx: self.logx.iter().map(|c| c.as_slice()).collect(),
        }
    }
}

/// How a law's parameters enter it, for the variable-projection global start.
#[derive(Debug, Clone, PartialEq)]
pub enum Structure {
    /// c + sum_t A_t * x_{v_t}^(-e_t): `constant` is the index of c (if any),
    /// `terms` are (amplitude index, exponent index, variable index).
    PowerSum {
        constant: Option<usize>,
        terms: Vec<(usize, usize, usize)>,
    },
    /// Kaplan et al.: ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D, parameters
    /// [N_c, alpha_N, D_c, alpha_D], variables [N, D].
    Kaplan,
    /// No known structure: local fits from the given or default start only.
    General,
}

/// A scaling law. Stateless and shareable across threads.
pub trait Law: Send + Sync {
    /// The law's name (for reports).
    fn name(&self) -> &str;
    /// Parameter names in the law's order.
    fn param_names(&self) -> &[String];
    /// Names of the variables (data columns) in the order `Cols` must hold them.
    fn var_names(&self) -> &[String];
    /// Whether the law needs log x (and hence x > 0).
    fn needs_logs(&self) -> bool {
        true
    }
    /// Values at every point.
    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]);
    /// Values and the Jacobian (column-major, n rows, one column per parameter) in one pass.
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]);
    /// Parameters that are positive by nature: the solver works with their logarithm.
    fn positive(&self) -> Vec<bool>;
    /// The law in double-double precision, as hi + lo per point, where supported (returns
    /// false otherwise, the default): used only to report the cost of a least-squares fit
    /// whose residuals are near the rounding of the data, where double precision loses them.
    fn eval_dd(&self, _x: &Cols, _p: &[f64], _hi: &mut [f64], _lo: &mut [f64]) -> bool {
        false
    }
    /// Structure for the global start.
    fn structure(&self) -> Structure {
        Structure::General
    }
    /// A default start when the user gives none and the structure gives no global start.
    fn default_start(&self) -> Option<Vec<f64>> {
        None
    }
    fn n_params(&self) -> usize {
        self.param_names().len()
    }
    /// Starting points computed from the data (natural values), tried beside the structure's
    /// global start: laws without a power-sum structure use them to start in the right basin.
    /// `y` holds the observations on their natural scale.
    fn data_starts(&self, _x: &Cols, _y: &[f64]) -> Vec<Vec<f64>> {
        Vec::new()
    }
    /// Default lower bound of every parameter (the user's bounds replace it). Losses are
    /// positive, so an irreducible term (the constant of a power sum) is non-negative: a
    /// negative one is a fitting artefact that makes forecasts fall below zero.
    fn lower_bounds(&self) -> Vec<f64> {
        let mut lo = vec![f64::NEG_INFINITY; self.n_params()];
        if let Structure::PowerSum {
            constant: Some(c), ..
        } = self.structure()
        {
            if self.needs_logs() {
                lo[c] = 0.0;
            }
        }
        lo
    }
    /// Whether the law is implicit, g(L, x, p) = 0: its fit compares the two sides of the
    /// equation at the observed L (see `eval_jac_fit`) and `eval` solves the equation for L.
    fn is_implicit(&self) -> bool {
        false
    }
    /// Values and Jacobian as the fit sees them, for observations `target` on the loss's
    /// `scale`. An explicit law returns its values. An implicit law returns pseudo-values f
    /// whose residual on that scale (f - y, or ln f - ln y) is its equation's residual at the
    /// observed L, with their Jacobian: the solver, the bootstrap and the covariance then
    /// work unchanged.
    fn eval_jac_fit(
        &self,
        x: &Cols,
        _target: &[f64],
        _scale: Scale,
        p: &[f64],
        out: &mut [f64],
        jac: &mut [f64],
    ) {
        self.eval_jac(x, p, out, jac)
    }
}

/// Turns an implicit law's equation residuals `g` (and their Jacobian, column-major) at the
/// observations `target` into the pseudo-values and Jacobian of `Law::eval_jac_fit`.
pub fn implicit_pseudo_values(target: &[f64], scale: Scale, g: &mut [f64], jac: &mut [f64]) {
    let n = g.len();
    match scale {
        Scale::Linear => {
            for (gi, &t) in g.iter_mut().zip(target) {
                *gi += t;
            }
        }
        Scale::Log => {
            // ln f - ln y = g  <=>  f = y e^g, and df/dp = f dg/dp
            for (gi, &t) in g.iter_mut().zip(target) {
                *gi = (t + *gi).exp();
            }
            if n > 0 {
                for col in jac.chunks_mut(n) {
                    for (j, &f) in col.iter_mut().zip(g.iter()) {
                        *j *= f;
                    }
                }
            }
        }
    }
}
