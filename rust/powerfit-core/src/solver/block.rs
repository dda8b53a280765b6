//! Rows in fixed-size blocks. Every pass over the data (the solver's cost, gradient and J^T J,
//! the start search's inner products, the covariance) works on one block of rows at a time and
//! writes the block's partial sums to its own slot; the slots are then added in block order.
//! So the scratch memory of a pass is a few blocks whatever the number of rows, the block's
//! columns stay in cache, and the result is the same bit for bit whether the blocks ran on one
//! thread or many. Above `PAR_MIN_ROWS` rows the blocks run in parallel.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::law::Cols;

/// Rows per block: a block's Jacobian and per-point buffers (a dozen columns of 8-byte values
/// for a five-parameter law) fit in a core's L2 cache.
pub const BLOCK: usize = 2048;

/// Passes over at least this many rows run their blocks in parallel: below it one thread is
/// done before the others would have started.
pub const PAR_MIN_ROWS: usize = 1 << 15;

/// Number of blocks of `n` rows (at least one, so that an empty pass still has a slot).
pub fn n_blocks(n: usize) -> usize {
    n.div_ceil(BLOCK).max(1)
}

/// Rows of block `b`.
pub fn rows(b: usize, n: usize) -> Range<usize> {
    let start = (b * BLOCK).min(n);
    start..(start + BLOCK).min(n)
}

/// Points `out` at `rows` of `cols`, reusing its vectors.
pub fn view<'a>(cols: &Cols<'a>, rows: Range<usize>, out: &mut Cols<'a>) {
    out.x.clear();
    out.x.extend(cols.x.iter().map(|c| &c[rows.clone()]));
    out.logx.clear();
    out.logx.extend(
        cols.logx
            .iter()
            .map(|c| if c.is_empty() { *c } else { &c[rows.clone()] }),
    );
}

/// An empty column view to be filled by `view`.
pub fn empty_view<'a>() -> Cols<'a> {
    Cols {
        x: Vec::new(),
        logx: Vec::new(),
    }
}

/// Whether the caller asked to stop.
#[inline]
pub fn stopped(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// Blocks whose partial results are held at once: the partials' memory is bounded whatever
/// the number of rows, and a wave is long enough to keep every thread busy.
pub const WAVE: usize = 256;

/// Runs `kernel(scratch, rows, slot)` on every block of `n` rows and folds each block's
/// `acc.len()` partial values into `acc` with `fold(acc, slot)`, in block order (so the result
/// is the same for any number of threads). `acc` starts as given (zeros for a sum). Blocks run
/// on this thread with `scratch` below `PAR_MIN_ROWS` rows, else in parallel waves of `WAVE`
/// blocks with scratch from `init`, their partials kept in `parts`. The cancel flag is read
/// before every block; returns false if it was raised (`acc` is then incomplete).
pub fn run<S, I, K, F>(
    n: usize,
    acc: &mut [f64],
    parts: &mut Vec<f64>,
    scratch: &mut S,
    init: I,
    kernel: K,
    fold: F,
    cancel: Option<&AtomicBool>,
) -> bool
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    K: Fn(&mut S, Range<usize>, &mut [f64]) + Sync + Send,
    F: Fn(&mut [f64], &[f64]),
{
    let nb = n_blocks(n);
    let stride = acc.len().max(1);
    if n < PAR_MIN_ROWS {
        parts.clear();
        parts.resize(stride, 0.0);
        for b in 0..nb {
            if nb > 1 && stopped(cancel) {
                return false;
            }
            parts.fill(0.0);
            kernel(scratch, rows(b, n), parts);
            fold(acc, parts);
        }
        return true;
    }
    let cancelled = AtomicBool::new(false);
    for first in (0..nb).step_by(WAVE) {
        let count = WAVE.min(nb - first);
        parts.clear();
        parts.resize(count * stride, 0.0);
        parts
            .par_chunks_mut(stride)
            .enumerate()
            .for_each_init(&init, |s, (j, slot)| {
                if stopped(cancel) {
                    cancelled.store(true, Ordering::Relaxed);
                    return;
                }
                kernel(s, rows(first + j, n), slot);
            });
        if cancelled.load(Ordering::Relaxed) {
            return false;
        }
        for slot in parts.chunks_exact(stride) {
            fold(acc, slot);
        }
    }
    true
}

/// `fold` for sums.
pub fn add(acc: &mut [f64], slot: &[f64]) {
    for (a, v) in acc.iter_mut().zip(slot) {
        *a += v;
    }
}

/// Sums of `kernel` over the blocks into `acc` (zeroed first); see `run`.
pub fn sum<S, I, K>(
    n: usize,
    acc: &mut [f64],
    parts: &mut Vec<f64>,
    scratch: &mut S,
    init: I,
    kernel: K,
    cancel: Option<&AtomicBool>,
) -> bool
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    K: Fn(&mut S, Range<usize>, &mut [f64]) + Sync + Send,
{
    acc.fill(0.0);
    run(n, acc, parts, scratch, init, kernel, add, cancel)
}

/// Index of (a, b), b <= a, in a packed lower triangle.
#[inline(always)]
pub fn tri(a: usize, b: usize) -> usize {
    a * (a + 1) / 2 + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_rows_once() {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 7] {
            let nb = n_blocks(n);
            let mut next = 0;
            for b in 0..nb {
                let r = rows(b, n);
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn parallel_and_serial_sums_agree_bitwise() {
        let n = PAR_MIN_ROWS + (WAVE + 3) * BLOCK + 11;
        let data: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f64 * 1e-3 + 0.1)
            .collect();
        let kernel = |_: &mut (), r: Range<usize>, slot: &mut [f64]| {
            slot[0] = data[r.clone()].iter().map(|v| v.sqrt()).sum();
            slot[1] = r.len() as f64;
        };
        let mut parts = Vec::new();
        let mut par = [0.0; 2];
        assert!(sum(n, &mut par, &mut parts, &mut (), || (), kernel, None));
        let mut serial = [0.0; 2];
        for b in 0..n_blocks(n) {
            let mut slot = [0.0; 2];
            kernel(&mut (), rows(b, n), &mut slot);
            serial[0] += slot[0];
            serial[1] += slot[1];
        }
        assert_eq!(par[0].to_bits(), serial[0].to_bits());
        assert_eq!(par[1], n as f64);
        let stop = AtomicBool::new(true);
        assert!(!sum(
            n,
            &mut par,
            &mut parts,
            &mut (),
            || (),
            kernel,
            Some(&stop)
        ));
    }
}
