// SPDX-License-Identifier: (MIT OR Apache-2.0)
//! stk_rs: Rust allocation sites with known chains, built the way
//! production Rust is (rustc -O -g: no frame pointers in this crate):
//! Box, Vec growth, String growth. Built twice from this file: stk_rs with
//! the default allocator, and stk_rs_fwd (--cfg forward_alloc) with a
//! #[global_allocator] of ours that forwards to System, so every
//! allocation also passes through its alloc/realloc. Each again with a
//! rustc >= 1.87 when there is one (_new), whose allocator shims have
//! mangled names. stk_rs.json and stk_rs_fwd.json declare the chains of
//! this crate's functions, from main to the one whose line allocates.
//!
//! #[inline(never)] keeps each function a frame; the black box after each
//! call keeps it from being a tail call.

/// What passes through here escapes: the empty asm may read it (Rust 1.63
/// has no std::hint::black_box), so the allocation that made it stays.
#[inline(never)]
fn keep<T>(x: T) -> T {
    unsafe { std::arch::asm!("/* {0} */", in(reg) &x as *const T, options(nostack)) };
    x
}

#[cfg(forward_alloc)]
mod fwd {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Forwards to System and counts calls: the count after the call
    /// keeps the call from being a jump, so alloc and realloc stay frames
    /// on the way to malloc, as in an allocator that keeps statistics.
    pub struct Fwd;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    unsafe impl GlobalAlloc for Fwd {
        #[inline(never)]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = System.alloc(layout);
            CALLS.fetch_add(1, Ordering::Relaxed);
            p
        }
        #[inline(never)]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
        #[inline(never)]
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
            let p = System.realloc(ptr, layout, size);
            CALLS.fetch_add(1, Ordering::Relaxed);
            p
        }
    }

    #[global_allocator]
    static GLOBAL: Fwd = Fwd;
}

#[inline(never)]
fn rs_box(n: usize) {
    for i in 0..keep(n) {
        let b = Box::new([i as u64; 12]); // @site rs_box
        keep(Box::into_raw(b));
    }
}

#[inline(never)]
fn rs_vec(n: usize) -> usize {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..keep(n) {
        v.push(i as u64); // @site rs_vec
    }
    keep(v).len()
}

#[inline(never)]
fn rs_string(n: usize) -> usize {
    let mut s = String::new();
    for i in 0..keep(n) {
        s.push_str(["ab", "cde", "f"][i % 3]); // @site rs_string
    }
    keep(s).len()
}

#[inline(never)]
fn rs_growth() -> usize {
    let n = rs_vec(1000) + rs_string(1000);
    keep(n)
}

#[inline(never)]
fn rs_run() {
    rs_box(25);
    keep(rs_growth());
}

fn main() {
    if std::env::args().len() > 1 {
        eprintln!("usage: stk_rs");
        std::process::exit(2);
    }
    rs_run();
    keep(());
}
