//! The one way into the core: every call that does numerical work goes through `enter`, which
//! releases the GIL, polls Ctrl-C at a bounded interval while the work runs, reports progress,
//! turns panics into exceptions and maps the core's errors.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::errors::{guard, to_py, PowerfitError};

/// Work (points x evaluations, roughly) above which a call runs on a helper thread while this
/// thread polls Ctrl-C: below it the call finishes in milliseconds, and starting a thread would
/// cost more than the work.
pub(crate) const LONG_WORK: f64 = 2e6;

/// How often Ctrl-C and progress are polled.
const POLL: Duration = Duration::from_millis(20);

/// What the running work reads and writes: a cancel flag the core checks at a bounded interval,
/// and a count of finished items for the progress bar.
#[derive(Default)]
pub(crate) struct Control {
    pub cancel: AtomicBool,
    pub done: AtomicUsize,
}

/// Runs `work` without the GIL. When `work_size` exceeds `LONG_WORK` it runs on a helper thread
/// while this thread polls for Ctrl-C (raising the cancel flag, then KeyboardInterrupt once the
/// work has wound down) and calls `progress` with the number of finished items.
pub(crate) fn enter<T: Send>(
    py: Python<'_>,
    work_size: f64,
    progress: Option<&Py<PyAny>>,
    work: impl FnOnce(&Control) -> powerfit_core::Result<T> + Send,
) -> PyResult<T> {
    let ctl = Control::default();
    if work_size <= LONG_WORK && progress.is_none() {
        return py.detach(|| guard(|| work(&ctl)))?.map_err(to_py);
    }
    let mut interrupted = false;
    let mut callback_error: Option<PyErr> = None;
    let out = py.detach(|| {
        std::thread::scope(|s| {
            // the worker says when it is done, so the wait ends then, not at the next poll
            let (tx, rx) = mpsc::channel::<()>();
            let ctl_ref = &ctl;
            let handle = s.spawn(move || {
                let out = guard(|| work(ctl_ref));
                let _ = tx.send(());
                out
            });
            while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(POLL) {
                Python::attach(|py| {
                    if !interrupted && py.check_signals().is_err() {
                        interrupted = true;
                        ctl.cancel.store(true, Ordering::Relaxed);
                    }
                    if let (Some(cb), None) = (progress, &callback_error) {
                        let done = ctl.done.load(Ordering::Relaxed);
                        if let Err(e) = cb.call1(py, (done,)) {
                            callback_error = Some(e);
                        }
                    }
                });
            }
            handle.join()
        })
    });
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("interrupted"));
    }
    if let Some(e) = callback_error {
        return Err(e);
    }
    out.map_err(|_| PowerfitError::new_err("internal error: a worker thread panicked"))??
        .map_err(to_py)
}
