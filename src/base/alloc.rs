//! An opt-in counting global allocator: allocations and bytes per frame, live heap bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Wraps the system allocator and counts allocations. Install it in your binary:
///
/// ```
/// #[global_allocator]
/// static ALLOC: rfm_perf::alloc::CountingAllocator = rfm_perf::alloc::CountingAllocator;
///
/// let v = vec![0u8; 4096];
/// let c = rfm_perf::alloc::counters().unwrap();
/// assert!(c.live_bytes >= 4096);
/// drop(v);
/// ```
///
/// The plugin then records `process.allocs_per_frame`, `process.alloc_bytes_per_frame` and
/// `process.heap_live_mb`. Cost: three relaxed atomic adds per allocation.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the same arguments, so `System`'s guarantees
// hold; the counters are plain atomics and never allocate.
#[expect(
    unsafe_code,
    reason = "a GlobalAlloc impl is unsafe by definition; it only forwards to System"
)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator (i.e. from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_alloc(new_size);
        FREED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: as above; `ptr`/`layout` describe a live block of `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[inline]
fn count_alloc(size: usize) {
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

/// Cumulative counters of the [`CountingAllocator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllocCounters {
    /// Allocations (and reallocations) since start.
    pub allocs: u64,
    /// Bytes allocated since start.
    pub allocated_bytes: u64,
    /// Bytes currently allocated.
    pub live_bytes: u64,
}

/// The counters, or `None` when the [`CountingAllocator`] is not the global allocator.
///
/// ```
/// // In a binary without `#[global_allocator] CountingAllocator` this is `None`.
/// let _ = rfm_perf::alloc::counters();
/// ```
pub fn counters() -> Option<AllocCounters> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    let allocated = ALLOC_BYTES.load(Ordering::Relaxed);
    let freed = FREED_BYTES.load(Ordering::Relaxed);
    Some(AllocCounters {
        allocs: ALLOCS.load(Ordering::Relaxed),
        allocated_bytes: allocated,
        live_bytes: allocated.saturating_sub(freed),
    })
}
