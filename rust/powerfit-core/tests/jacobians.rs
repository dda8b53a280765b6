//! Every built-in law's analytic Jacobian against central finite differences at random points.
use powerfit_core::*;

/// A tiny deterministic generator for test inputs.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn check(law: &dyn Law, rng: &mut Lcg, params: impl Fn(&mut Lcg) -> Vec<f64>) {
    let n = 17;
    let nv = law.var_names().len();
    for _ in 0..50 {
        let x: Vec<Vec<f64>> = (0..nv)
            .map(|_| (0..n).map(|_| 10f64.powf(rng.range(6.0, 12.0))).collect())
            .collect();
        let cols = OwnedCols::new(x, true);
        let v = cols.view();
        let p = params(rng);
        let np = p.len();
        let mut f = vec![0.0; n];
        let mut jac = vec![0.0; n * np];
        law.eval_jac(&v, &p, &mut f, &mut jac);
        let mut f2 = vec![0.0; n];
        law.eval(&v, &p, &mut f2);
        for i in 0..n {
            assert!(
                (f[i] - f2[i]).abs() <= 1e-13 * f[i].abs(),
                "eval vs eval_jac"
            );
        }
        for k in 0..np {
            let h = 1e-6 * p[k].abs().max(1e-3);
            let (mut pp, mut pm) = (p.clone(), p.clone());
            pp[k] += h;
            pm[k] -= h;
            let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
            law.eval(&v, &pp, &mut fp);
            law.eval(&v, &pm, &mut fm);
            for i in 0..n {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                let an = jac[k * n + i];
                // truncation error of the difference plus rounding of f over the step
                let tol = 1e-6 * an.abs().max(fd.abs()) + 1e3 * f64::EPSILON * f[i].abs() / h;
                assert!(
                    (fd - an).abs() <= tol,
                    "{} d/d{}: analytic {an} vs fd {fd} at {p:?}",
                    law.name(),
                    law.param_names()[k]
                );
            }
        }
    }
}

#[test]
fn power_sum_laws() {
    let mut rng = Lcg(7);
    for (name, vars) in [
        ("power", vec!["N".to_string()]),
        ("chinchilla", vec![]),
        ("additive", vec!["N".into(), "D".into(), "C".into()]),
        ("additive", vec!["D".into(), "C".into()]),
    ] {
        let law = laws::builtin(name, &vars).unwrap();
        let k = law.var_names().len();
        check(law.as_ref(), &mut rng, |r| {
            let mut p = vec![r.range(0.5, 3.0)];
            p.extend((0..k).map(|_| 10f64.powf(r.range(1.0, 4.0))));
            p.extend((0..k).map(|_| r.range(0.05, 1.0)));
            p
        });
    }
}

#[test]
fn kaplan_law() {
    let mut rng = Lcg(11);
    let law = laws::builtin("kaplan", &[]).unwrap();
    check(law.as_ref(), &mut rng, |r| {
        vec![
            10f64.powf(r.range(12.0, 14.0)),
            r.range(0.05, 0.1),
            10f64.powf(r.range(12.0, 14.0)),
            r.range(0.08, 0.12),
        ]
    });
}

#[test]
fn unknown_law_is_an_error() {
    assert!(laws::builtin("chinchila", &[]).is_err());
    assert!(laws::builtin("additive", &["Q".to_string()]).is_err());
    assert!(laws::builtin("power", &[]).is_err());
}
