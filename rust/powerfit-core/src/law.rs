//! The `Law` trait: a model L(x; p) with a fused value-and-Jacobian evaluation.

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
}
