//! Times the pieces of a single chinchilla fit (a quick profile, not a benchmark).
use powerfit_core::*;
use std::time::Instant;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string("python/powerfit/data/chinchilla_approach3_tidy.csv")?;
    let (mut n, mut d, mut y) = (vec![], vec![], vec![]);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[4] == "True" {
            continue;
        }
        n.push(f[0].parse::<f64>()?);
        d.push(f[1].parse::<f64>()?);
        y.push(f[3].parse::<f64>()?);
    }
    let law = laws::builtin("chinchilla", &[])?;
    let cols = OwnedCols::new(vec![n, d], true);
    let view = cols.view();
    let spec = ParamSpec::for_law(law.as_ref());
    let pb = Problem {
        law: law.as_ref(),
        cols: &view,
        target: &y,
        weights: None,
        loss: Loss::L2,
        spec: &spec,
    };
    let p0 = vec![2.0, 400.0, 400.0, 0.3, 0.3];
    let reps: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5000);
    if std::env::args().nth(2).as_deref() == Some("fit") {
        let opts = FitOptions {
            starts: Starts::Given(p0.clone()),
            ..Default::default()
        };
        for _ in 0..reps {
            fit(&pb, &opts, None)?;
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("boot") {
        let est = fit(&pb, &FitOptions::default(), None)?.params;
        let t = Instant::now();
        let b = bootstrap::bootstrap(
            &pb,
            &est,
            &bootstrap::Method::Case,
            reps,
            0,
            &LmOptions::default(),
            None,
            None,
        )?;
        let it: u32 = b.n_iter.iter().sum();
        println!(
            "boot {reps}: {:.2} ms, mean iters {:.2}",
            t.elapsed().as_secs_f64() * 1e3,
            it as f64 / reps as f64
        );
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("auto") {
        let opts = FitOptions::default();
        for _ in 0..reps {
            fit(&pb, &opts, None)?;
        }
        return Ok(());
    }
    let mut ws = Workspace::new();
    let t = Instant::now();
    let mut it = 0;
    for _ in 0..reps {
        it += solver::lm(&pb, &p0, &LmOptions::default(), &mut ws, None).n_iter;
    }
    println!(
        "lm: {:.2} us ({} iters)",
        t.elapsed().as_secs_f64() * 1e6 / reps as f64,
        it / reps
    );
    let mut f = vec![0.0; 240];
    let mut jac = vec![0.0; 240 * 5];
    let t = Instant::now();
    for _ in 0..reps {
        law.eval_jac(&view, &p0, &mut f, &mut jac);
    }
    println!(
        "eval_jac: {:.3} us",
        t.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
    let opts = FitOptions {
        starts: Starts::Given(p0.clone()),
        ..Default::default()
    };
    let t = Instant::now();
    for _ in 0..reps {
        fit(&pb, &opts, None)?;
    }
    println!(
        "fit given: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
    let opts = FitOptions::default();
    let t = Instant::now();
    for _ in 0..500 {
        fit(&pb, &opts, None)?;
    }
    println!(
        "fit auto: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / 500.0
    );
    let t = Instant::now();
    for _ in 0..500 {
        solver::varpro::varpro_starts(&pb, 4, None);
    }
    println!("varpro: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 500.0);
    Ok(())
}
