//! Times fit_groups on a synthetic sweep (a quick profile, not a benchmark): `groups_profile
//! <groups> <points> <auto|given> [repeats]`, rows in random order as in `make bench`.
use std::time::Instant;

use powerfit_core::groups::{fit_groups, group_index, GroupData, GroupSettings};
use powerfit_core::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let groups: usize = args
        .get(1)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(100_000);
    let points: usize = args.get(2).map(|v| v.parse()).transpose()?.unwrap_or(40);
    let given = args.get(3).is_some_and(|v| v == "given");
    let repeats: usize = args.get(4).map(|v| v.parse()).transpose()?.unwrap_or(1);
    let mut state = 20240501u64;
    let mut u = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows = groups * points;
    let mut codes = vec![0i64; rows];
    let (mut n, mut d, mut y) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
    let mut perm: Vec<usize> = (0..rows).collect();
    for i in (1..rows).rev() {
        let j = (u() * (i + 1) as f64) as usize;
        perm.swap(i, j.min(i));
    }
    for g in 0..groups {
        let p = [
            1.5 + 0.5 * u(),
            200.0 + 400.0 * u(),
            200.0 + 800.0 * u(),
            0.25 + 0.15 * u(),
            0.2 + 0.15 * u(),
        ];
        for k in 0..points {
            let r = perm[g * points + k];
            codes[r] = g as i64;
            n[r] = (1e7f64.ln() + u() * 1e3f64.ln()).exp();
            d[r] = (1e9f64.ln() + u() * 1e3f64.ln()).exp();
            let noise = 1.0 + 0.005 * (u() + u() + u() - 1.5) * 2.0;
            y[r] = (p[0] + p[1] * n[r].powf(-p[3]) + p[2] * d[r].powf(-p[4])) * noise;
        }
    }
    let law = laws::builtin("chinchilla", &[])?;
    let spec = ParamSpec::for_law(law.as_ref());
    let opts = FitOptions {
        starts: if given {
            Starts::Given(vec![2.0, 400.0, 400.0, 0.3, 0.3])
        } else {
            Starts::Auto
        },
        ..Default::default()
    };
    for _ in 0..repeats {
        let t = Instant::now();
        let (order, offsets) = group_index(&codes, groups)?;
        let data = GroupData {
            x: vec![&n, &d],
            x_names: vec!["N".into(), "D".into()],
            y: &y,
            y_name: "loss".into(),
            weights: None,
            offsets: &offsets,
            order: order.as_deref(),
            rows: None,
        };
        let set = GroupSettings {
            law: law.as_ref(),
            loss: Loss::L2,
            spec: &spec,
            opts: &opts,
            bootstrap: None,
        };
        let out = fit_groups(&data, &set, None, None)?;
        let ok = out.iter().filter(|g| g.status.is_success()).count();
        let cost: f64 = out.iter().map(|g| g.cost).sum();
        println!(
            "{groups} groups x {points}: {:.3} s, {ok} converged, total cost {cost:.10e}",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
