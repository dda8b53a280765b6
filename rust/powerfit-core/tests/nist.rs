//! The LM solver on NIST StRD problems written as Rust test laws (natural parameters).
mod common;

use powerfit_core::*;

/// A test law from a closure that returns the value and fills the gradient.
struct TestLaw {
    params: Vec<String>,
    vars: Vec<String>,
    f: fn(&[f64], &[f64], &mut [f64]) -> f64,
}

impl Law for TestLaw {
    fn name(&self) -> &str {
        "nist"
    }
    fn param_names(&self) -> &[String] {
        &self.params
    }
    fn var_names(&self) -> &[String] {
        &self.vars
    }
    fn needs_logs(&self) -> bool {
        false
    }
    fn eval(&self, x: &Cols, p: &[f64], out: &mut [f64]) {
        let mut g = vec![0.0; p.len()];
        for i in 0..out.len() {
            let xi: Vec<f64> = x.x.iter().map(|c| c[i]).collect();
            out[i] = (self.f)(&xi, p, &mut g);
        }
    }
    fn eval_jac(&self, x: &Cols, p: &[f64], out: &mut [f64], jac: &mut [f64]) {
        let n = out.len();
        let mut g = vec![0.0; p.len()];
        for i in 0..n {
            let xi: Vec<f64> = x.x.iter().map(|c| c[i]).collect();
            out[i] = (self.f)(&xi, p, &mut g);
            for k in 0..p.len() {
                jac[k * n + i] = g[k];
            }
        }
    }
    fn positive(&self) -> Vec<bool> {
        vec![false; self.params.len()]
    }
}

fn solve(name: &str, np: usize, f: fn(&[f64], &[f64], &mut [f64]) -> f64) -> f64 {
    let prob = common::nist(name);
    let law = TestLaw {
        params: (1..=np).map(|k| format!("b{k}")).collect(),
        vars: (0..prob.x.len()).map(|j| format!("x{j}")).collect(),
        f,
    };
    let cols = OwnedCols::new(prob.x.clone(), false);
    let view = cols.view();
    let spec = ParamSpec::for_law(&law);
    let pb = Problem {
        law: &law,
        cols: &view,
        target: &prob.y,
        weights: None,
        loss: Loss::L2,
        spec: &spec,
    };
    let mut worst: f64 = 15.0;
    for s in &prob.starts {
        let opts = FitOptions {
            starts: Starts::Given(s.clone()),
            lm: LmOptions {
                ftol: 1e-15,
                xtol: 1e-15,
                gtol: 1e-15,
                max_iter: 1000,
            },
            ..Default::default()
        };
        let r = fit(&pb, &opts, None).unwrap();
        for (e, c) in r.params.iter().zip(&prob.certified) {
            worst = worst.min(common::lre(*e, *c));
        }
        worst = worst.min(common::lre(2.0 * r.cost, prob.rss));
        println!("{name}: {:?} {:?} lre {worst:.2}", r.termination, r.params);
    }
    worst
}

#[test]
fn misra1a() {
    let lre = solve("Misra1a", 2, |x, b, g| {
        let e = (-b[1] * x[0]).exp();
        g[0] = 1.0 - e;
        g[1] = b[0] * x[0] * e;
        b[0] * (1.0 - e)
    });
    assert!(lre >= 6.0, "LRE {lre}");
}

#[test]
fn chwirut2() {
    let lre = solve("Chwirut2", 3, |x, b, g| {
        let e = (-b[0] * x[0]).exp();
        let den = b[1] + b[2] * x[0];
        let f = e / den;
        g[0] = -x[0] * f;
        g[1] = -f / den;
        g[2] = -f * x[0] / den;
        f
    });
    assert!(lre >= 6.0, "LRE {lre}");
}

#[test]
fn danwood() {
    let lre = solve("DanWood", 2, |x, b, g| {
        let p = x[0].powf(b[1]);
        g[0] = p;
        g[1] = b[0] * p * x[0].ln();
        b[0] * p
    });
    assert!(lre >= 6.0, "LRE {lre}");
}

#[test]
fn mgh17() {
    let lre = solve("MGH17", 5, |x, b, g| {
        let e4 = (-x[0] * b[3]).exp();
        let e5 = (-x[0] * b[4]).exp();
        g[0] = 1.0;
        g[1] = e4;
        g[2] = e5;
        g[3] = -b[1] * x[0] * e4;
        g[4] = -b[2] * x[0] * e5;
        b[0] + b[1] * e4 + b[2] * e5
    });
    assert!(lre >= 6.0, "LRE {lre}");
}
