//! A counting allocator for the tests that bound memory (`tests/memory.rs`, `tests/hostile_bytecode.rs`):
//! a test binary installs [`Counting`] as its global allocator, and then measures what a call costs
//! this thread, by its peak heap growth and the bytes it allocates in all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The allocator: `#[global_allocator] static ALLOCATOR: Counting = Counting;`.
pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);
/// The tests of a binary share the counters: one measures at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

thread_local! {
    /// Set while this thread's allocations are measured: only they count, not those of the tests that
    /// run beside it (building their inputs, say).
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

fn measuring() -> bool {
    MEASURING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if measuring() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
            TOTAL.fetch_add(layout.size(), Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if measuring() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The bound the README promises for the parse: 32 bytes per input byte, plus 64 KiB, plus 256 bytes
/// per level of nesting the input reaches (the depth limit caps that: 500 KiB at the default 2000).
/// The worst level measured, a Python 1.0 code object one byte long, takes about 190: its frame,
/// node, code record and field slots, with the room their vectors keep to grow.
pub fn bound(input: usize, levels: usize) -> usize {
    32 * input + 64 * 1024 + 256 * levels
}

/// Holds the counters for a series of [`peak_during`] measurements.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Peak heap growth of this thread while `f` runs (what `f` frees it allocated itself); the caller
/// holds [`one_at_a_time`].
pub fn peak_during(f: impl FnOnce()) -> usize {
    measure_held(f).0
}

/// What `f` cost this thread: (peak heap growth, bytes allocated in all).
pub fn measure(f: impl FnOnce()) -> (usize, usize) {
    let _guard = one_at_a_time();
    measure_held(f)
}

fn measure_held(f: impl FnOnce()) -> (usize, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    TOTAL.store(0, Ordering::SeqCst);
    MEASURING.set(true);
    f();
    MEASURING.set(false);
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    (peak, TOTAL.load(Ordering::SeqCst))
}
