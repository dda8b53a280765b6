use powerfit_core::*;
fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut state = 20240501u64;
    let mut u = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let law = laws::builtin("chinchilla", &[])?;
    let spec = ParamSpec::for_law(law.as_ref());
    let (mut ns, mut nb, mut it, mut fev, mut nfev) = (0, 0, 0, 0, 0);
    let mut t_var = 0.0;
    let mut t_fit = 0.0;
    let mut t_given = 0.0;
    let reps = 2000;
    for _ in 0..reps {
        let p = [
            1.5 + 0.5 * u(),
            200.0 + 400.0 * u(),
            200.0 + 800.0 * u(),
            0.25 + 0.15 * u(),
            0.2 + 0.15 * u(),
        ];
        let (mut n, mut d, mut y) = (vec![], vec![], vec![]);
        for _ in 0..40 {
            let a = (1e7f64.ln() + u() * 1e3f64.ln()).exp();
            let b = (1e9f64.ln() + u() * 1e3f64.ln()).exp();
            n.push(a);
            d.push(b);
            y.push(
                (p[0] + p[1] * a.powf(-p[3]) + p[2] * b.powf(-p[4]))
                    * (1.0 + 0.005 * (u() + u() + u() - 1.5) * 2.0),
            );
        }
        let cols = OwnedCols::new(vec![n, d], true);
        let view = cols.view();
        let pb = Problem {
            law: law.as_ref(),
            cols: &view,
            target: &y,
            weights: None,
            loss: Loss::L2,
            spec: &spec,
        };
        let t = std::time::Instant::now();
        let (c, _) = solver::varpro::varpro_starts(&pb, 4, None);
        t_var += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let r = fit(&pb, &FitOptions::default(), None)?;
        t_fit += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let _ = fit(
            &pb,
            &FitOptions {
                starts: Starts::Given(vec![2.0, 400.0, 400.0, 0.3, 0.3]),
                ..Default::default()
            },
            None,
        )?;
        t_given += t.elapsed().as_secs_f64();
        ns += r.n_starts;
        nb += r.n_best;
        it += r.n_iter;
        fev += r.nfev_total;
        nfev += r.nfev;
        let _ = c;
    }
    let r = reps as f64;
    println!("starts {:.2} best {:.2} iters {:.2} nfev(best) {:.2} nfev_total {:.1}; varpro {:.1} us, fit auto {:.1} us, fit given {:.1} us", ns as f64 / r, nb as f64 / r, it as f64 / r, nfev as f64 / r, fev as f64 / r, t_var / r * 1e6, t_fit / r * 1e6, t_given / r * 1e6);
    Ok(())
}
