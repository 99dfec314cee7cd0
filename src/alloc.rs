//! The global allocator: dlmalloc for small blocks, the C library's malloc
//! (musl) for large ones.
//!
//! musl's allocator gives every freed group of small blocks back to the
//! kernel at once, so parsing a netlink dump cost `netdx ifconfig -a` about
//! six mmap/munmap pairs per interface (3x the time of the glibc build on a
//! host with 100 interfaces). dlmalloc keeps small blocks for reuse. Blocks of
//! 128 KiB and more (ping's probe table, receive buffers) stay with musl,
//! which maps and unmaps each on its own as glibc does, so a table that is
//! resized or dropped hands its memory back rather than leaving a hole in
//! dlmalloc's heap.

use std::alloc::{GlobalAlloc, Layout, System};

/// Where small blocks end and large ones begin (glibc's mmap threshold).
const LARGE: usize = 128 * 1024;

/// Small blocks from dlmalloc, large ones from the system allocator.
pub struct Allocator;

static SMALL: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn is_large(layout: &Layout) -> bool {
    layout.size() >= LARGE
}

// SAFETY: each block is freed (and resized) by the allocator that made it:
// the choice depends only on the layout's size, which Rust passes unchanged
// to `dealloc` and `realloc`; a `realloc` that crosses `LARGE` allocates in
// the other allocator, copies, and frees the old block in its own.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees (non-zero size).
        unsafe {
            if is_large(&layout) {
                System.alloc(layout)
            } else {
                SMALL.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if is_large(&layout) {
                System.alloc_zeroed(layout)
            } else {
                SMALL.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the allocator the same layout selects.
        unsafe {
            if is_large(&layout) {
                System.dealloc(ptr, layout)
            } else {
                SMALL.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr`/`layout` describe a live block
        // and `new_size` is valid for its alignment.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            match (is_large(&layout), is_large(&new_layout)) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => SMALL.realloc(ptr, layout, new_size),
                _ => {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_keeps_its_bytes_when_resized_across_the_threshold() {
        let sizes = [64, LARGE - 1, LARGE, 3 * LARGE, LARGE - 1, 16];
        let layout = Layout::from_size_align(sizes[0], 16).unwrap();
        // SAFETY: every pointer comes from `Allocator` with the layout it is
        // passed back with; reads and writes stay within the current size.
        unsafe {
            let mut ptr = Allocator.alloc(layout);
            assert!(!ptr.is_null());
            for i in 0..sizes[0] {
                *ptr.add(i) = i as u8;
            }
            let mut current = layout;
            for &size in &sizes[1..] {
                ptr = Allocator.realloc(ptr, current, size);
                assert!(!ptr.is_null(), "realloc to {size}");
                assert_eq!(ptr as usize % 16, 0, "alignment kept at {size}");
                for i in 0..16 {
                    assert_eq!(*ptr.add(i), i as u8, "byte {i} after resizing to {size}");
                }
                current = Layout::from_size_align(size, 16).unwrap();
            }
            Allocator.dealloc(ptr, current);
            let zeroed = Layout::from_size_align(2 * LARGE, 8).unwrap();
            let block = Allocator.alloc_zeroed(zeroed);
            assert!((0..zeroed.size()).all(|i| *block.add(i) == 0));
            Allocator.dealloc(block, zeroed);
        }
    }
}
