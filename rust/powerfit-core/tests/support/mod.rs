//! Synthetic data and small helpers shared by the solver's tests.
#![allow(dead_code)]

use powerfit_core::*;

/// A 64-bit LCG: reproducible draws without a dependency.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.range(lo.ln(), hi.ln()).exp()
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.next().max(1e-300);
        let v = self.next();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A data set: columns, observations, and the parameters that generated them.
pub struct Data {
    pub x: Vec<Vec<f64>>,
    pub y: Vec<f64>,
    pub truth: Vec<f64>,
}

/// Columns N in [1e7, 1e10], D in [1e9, 1e12], C in [1e18, 1e21] (log-uniform), as many as `vars`.
pub fn design(rng: &mut Lcg, n: usize, vars: &[&str]) -> Vec<Vec<f64>> {
    vars.iter()
        .map(|v| {
            let (lo, hi) = match *v {
                "N" => (1e7, 1e10),
                "D" => (1e9, 1e12),
                _ => (1e18, 1e21),
            };
            (0..n).map(|_| rng.log_uniform(lo, hi)).collect()
        })
        .collect()
}

/// c + sum_t A_t x_t^-e_t written out with powf (independent of the core's kernels).
pub fn power_sum_value(c: f64, terms: &[(f64, f64)], x: &[Vec<f64>], i: usize) -> f64 {
    c + terms
        .iter()
        .zip(x)
        .map(|(&(a, e), col)| a * col[i].powf(-e))
        .sum::<f64>()
}

/// Chinchilla-law data, E + A N^-alpha + B D^-beta, with multiplicative log-normal noise.
pub fn chinchilla(seed: u64, n: usize, truth: [f64; 5], noise: f64) -> Data {
    let mut rng = Lcg(seed);
    let x = design(&mut rng, n, &["N", "D"]);
    let [e, a, b, al, be] = truth;
    let y = (0..n)
        .map(|i| power_sum_value(e, &[(a, al), (b, be)], &x, i) * (noise * rng.normal()).exp())
        .collect();
    Data {
        x,
        y,
        truth: truth.to_vec(),
    }
}

/// A problem over owned data (the caller keeps `cols`, `target` and `spec` alive).
pub struct Owned {
    pub cols: OwnedCols,
    pub target: Vec<f64>,
    pub spec: ParamSpec,
    pub loss: Loss,
}

impl Owned {
    pub fn new(law: &dyn Law, x: Vec<Vec<f64>>, y: &[f64], loss: Loss) -> Self {
        Owned {
            cols: OwnedCols::new(x, law.needs_logs()),
            target: target_for(&loss, y),
            spec: ParamSpec::for_law(law),
            loss,
        }
    }

    /// The unweighted problem of `law` over these data (`view` is `self.cols.view()`).
    pub fn problem<'a>(&'a self, law: &'a dyn Law, view: &'a Cols<'a>) -> Problem<'a> {
        Problem {
            law,
            cols: view,
            target: &self.target,
            weights: None,
            loss: self.loss,
            spec: &self.spec,
        }
    }
}

/// Runs `f` on a rayon pool of `k` threads.
pub fn with_threads<T: Send>(k: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(k)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// A law that counts its evaluations and raises a cancel flag at the `raise_at`-th one. It
/// hides the inner law's structure, so every pass of the solver goes through `eval`/`eval_jac`
/// (the fused power-sum pass would not call them).
pub struct Counting<'a> {
    pub inner: &'a dyn Law,
    pub calls: std::sync::atomic::AtomicUsize,
    pub raise_at: usize,
    pub flag: &'a std::sync::atomic::AtomicBool,
}

impl Counting<'_> {
    fn tick(&self) {
        use std::sync::atomic::Ordering;
        let c = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if c == self.raise_at {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    pub fn count(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Law for Counting<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn param_names(&self) -> &[String] {
        self.inner.param_names()
    }
    fn var_names(&self) -> &[String] {
        self.inner.var_names()
    }
    fn needs_logs(&self) -> bool {
        self.inner.needs_logs()
    }
    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        self.tick();
        self.inner.eval(x, p, out)
    }
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.tick();
        self.inner.eval_jac(x, p, out, jac)
    }
    fn positive(&self) -> Vec<bool> {
        self.inner.positive()
    }
    fn default_start(&self) -> Option<Vec<f64>> {
        self.inner.default_start()
    }
}
