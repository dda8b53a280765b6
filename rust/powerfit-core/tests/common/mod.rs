#![allow(dead_code)]
use std::path::PathBuf;

pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The 240 points Epoch keeps: (N, D, loss).
pub fn chinchilla() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let text = std::fs::read_to_string(data_path(
        "python/powerfit/data/chinchilla_approach3_tidy.csv",
    ))
    .expect("bundled chinchilla data");
    let (mut n, mut d, mut y) = (vec![], vec![], vec![]);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[4].trim() == "True" {
            continue;
        }
        n.push(f[0].parse().unwrap());
        d.push(f[1].parse().unwrap());
        y.push(f[3].parse().unwrap());
    }
    (n, d, y)
}

/// A NIST StRD problem: two starts, certified values and RSS, data (y, x columns).
pub struct Nist {
    pub starts: [Vec<f64>; 2],
    pub certified: Vec<f64>,
    pub rss: f64,
    pub y: Vec<f64>,
    pub x: Vec<Vec<f64>>,
}

pub fn nist(name: &str) -> Nist {
    let text = std::fs::read_to_string(data_path(&format!("tests/data/nist/{name}.dat")))
        .expect("NIST file");
    let lines: Vec<&str> = text.lines().collect();
    let (mut s1, mut s2, mut cert) = (vec![], vec![], vec![]);
    let mut rss = f64::NAN;
    for l in &lines {
        let t = l.trim_start();
        if t.starts_with('b') && t.contains('=') {
            let nums: Vec<f64> = t
                .split('=')
                .nth(1)
                .unwrap()
                .split_whitespace()
                .map(|v| v.parse().unwrap())
                .collect();
            s1.push(nums[0]);
            s2.push(nums[1]);
            cert.push(nums[2]);
        }
        if t.starts_with("Residual Sum of Squares:") {
            rss = t.split(':').nth(1).unwrap().trim().parse().unwrap();
        }
    }
    // data follow the last line starting with "Data:"
    let start = lines.iter().rposition(|l| l.starts_with("Data:")).unwrap() + 1;
    let rows: Vec<Vec<f64>> = lines[start..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    let nx = rows[0].len() - 1;
    Nist {
        starts: [s1, s2],
        certified: cert,
        rss,
        y: rows.iter().map(|r| r[0]).collect(),
        x: (0..nx)
            .map(|j| rows.iter().map(|r| r[j + 1]).collect())
            .collect(),
    }
}

/// Log relative error, the StRD accuracy score.
pub fn lre(est: f64, cert: f64) -> f64 {
    if est == cert {
        return 15.0;
    }
    (-((est - cert).abs() / cert.abs()).log10()).min(15.0)
}
