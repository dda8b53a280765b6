//! A big fit's memory does not grow with the number of rows: the solver, the start search and
//! the covariance work block by block. Measured with a counting global allocator (this test
//! binary holds one test, so nothing else allocates meanwhile).
#![allow(unsafe_code)]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use powerfit_core::*;
use support::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator; only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated at the peak of `f` above what was live before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

#[test]
fn a_million_row_fit_allocates_a_bounded_amount() {
    let n = 1_000_000;
    let mut rng = Lcg(21);
    let x = design(&mut rng, n, &["N", "D"]);
    let truth = [1.8, 480.0, 2100.0, 0.35, 0.37];
    let y: Vec<f64> = (0..n)
        .map(|i| {
            power_sum_value(
                truth[0],
                &[(truth[1], truth[3]), (truth[2], truth[4])],
                &x,
                i,
            ) * (0.01 * rng.normal()).exp()
        })
        .collect();
    // a rayon pool started before the measurement (its threads' own buffers are not the fit's)
    with_threads(2, || ());
    for (name, vars) in [("chinchilla", vec![]), ("power", vec!["N".to_string()])] {
        let law = laws::builtin(name, &vars).unwrap();
        let cols = if name == "power" {
            vec![x[0].clone()]
        } else {
            x.clone()
        };
        let input_bytes = 8 * n * (cols.len() + 1);
        for loss in [Loss::L2, Loss::huber_log(1e-3)] {
            let o = Owned::new(law.as_ref(), cols.clone(), &y, loss);
            let view = o.cols.view();
            let pb = Problem {
                law: law.as_ref(),
                cols: &view,
                target: &o.target,
                weights: None,
                loss,
                spec: &o.spec,
            };
            for opts in [
                FitOptions::default(),
                FitOptions {
                    starts: Starts::Given(
                        law.n_params()
                            .eq(&3)
                            .then(|| vec![1.5, 100.0, 0.3])
                            .unwrap_or(vec![2.0, 400.0, 400.0, 0.3, 0.3]),
                    ),
                    ..Default::default()
                },
            ] {
                let (r, peak) = peak_of(|| with_threads(2, || fit(&pb, &opts, None).unwrap()));
                assert!(r.termination.is_success(), "{name}: {:?}", r.termination);
                // a few blocks of scratch per thread and the start search's tables, not rows
                assert!(
                    peak < 8 << 20,
                    "{name} {loss:?} {:?}: {peak} bytes allocated at the peak for {input_bytes} \
                     bytes of input",
                    opts.starts
                );
            }
        }
    }
}
