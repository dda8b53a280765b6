//! How much memory a request may take. Tables whose size the user chooses (bootstrap
//! replicates, grid starts) are checked against what the machine can give before any work, so
//! a request that is merely big is refused with a clear error instead of aborting the process
//! when an allocation fails.
//!
//! What the machine can give is the least of: the kernel's estimate of memory available
//! without swapping (MemAvailable in /proc/meminfo), the room left under a cgroup v2 memory
//! limit, and the room left in the address space under RLIMIT_AS. Each is a small text file
//! read with std; where none can be read (not Linux), a fixed 8 GiB stands in. The figure is a
//! snapshot: it guards against requests that cannot possibly fit, not against a neighbour
//! taking memory in the meantime.

use crate::error::{Error, Result};

/// Assumed when the system reports nothing.
pub const FALLBACK_BYTES: u64 = 8 << 30;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// A "Key:   123 kB" field of a /proc file, in bytes.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..]
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn mem_available() -> Option<u64> {
    kib_field(&read("/proc/meminfo")?, "MemAvailable")
}

fn cgroup_room() -> Option<u64> {
    let max: u64 = read("/sys/fs/cgroup/memory.max")?.trim().parse().ok()?;
    let cur: u64 = read("/sys/fs/cgroup/memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(cur))
}

fn address_space_room() -> Option<u64> {
    let limits = read("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?; // "unlimited" does not parse: no limit
    let size = kib_field(&read("/proc/self/status")?, "VmSize")?;
    Some(soft.saturating_sub(size))
}

/// Bytes this process can still allocate (see the module's description).
pub fn available_bytes() -> u64 {
    let found: Vec<u64> = [mem_available(), cgroup_room(), address_space_room()]
        .into_iter()
        .flatten()
        .collect();
    found.into_iter().min().unwrap_or(FALLBACK_BYTES)
}

/// A size for messages: "40.0 GB", "512 MB", "3 kB".
pub fn fmt_bytes(b: f64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (u, s) in units {
        if b >= s {
            return if b / s >= 100.0 {
                format!("{:.0} {u}", b / s)
            } else {
                format!("{:.1} {u}", b / s)
            };
        }
    }
    format!("{b:.0} bytes")
}

/// Refuses a table of `need` bytes (None: beyond any integer size) that, with one copy made
/// by the caller, would not fit in what the machine can give. `what` describes the request
/// ("bootstrap n=1000000000 needs"), `remedy` what to change.
pub fn check(what: &str, need: Option<u64>, remedy: &str) -> Result<()> {
    let avail = available_bytes();
    let limit = avail / 2;
    match need {
        Some(b) if b <= limit => Ok(()),
        _ => {
            let size = need.map_or_else(
                || "more than 2^64 bytes".to_string(),
                |b| fmt_bytes(b as f64),
            );
            Err(Error::InvalidOption(format!(
                "{what} {size}; the limit is {} (half of the {} this process can still \
                 allocate, as the result is copied once more for the caller): {remedy}",
                fmt_bytes(limit as f64),
                fmt_bytes(avail as f64),
            )))
        }
    }
}

/// `a * b * c` in bytes, None on overflow.
pub fn product(a: usize, b: usize, c: usize) -> Option<u64> {
    (a as u64).checked_mul(b as u64)?.checked_mul(c as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plausible_figure() {
        let b = available_bytes();
        assert!(b > 1 << 20, "{b}");
        assert_eq!(fmt_bytes(4.0e10), "40.0 GB");
        assert_eq!(fmt_bytes(5.3e11), "530 GB");
        assert_eq!(fmt_bytes(999.0), "999 bytes");
    }

    #[test]
    fn refuses_what_cannot_fit() {
        let e = check("a table needs", None, "ask for less").unwrap_err();
        assert!(e.to_string().contains("more than 2^64 bytes"), "{e}");
        let e = check("a table needs", Some(u64::MAX / 2), "ask for less").unwrap_err();
        assert!(e.to_string().contains("the limit is"), "{e}");
        assert!(check("a table needs", Some(1000), "ask for less").is_ok());
    }
}
