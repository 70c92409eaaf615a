// SPDX-License-Identifier: (MIT OR Apache-2.0)
//! fam_bad_rs: fam_bad's Rust side, through the global allocator's shims
//! (__rust_dealloc, in the program itself), each in a function of its own
//! that also allocates (frames[0] of both stacks names it):
//!
//!   rs_double    alloc a, b; dealloc a, b, a again      double free
//!   rs_invalid   dealloc of an address never allocated   invalid free
//!
//! A shim lives in the program, so every dealloc is called from the
//! object that defines the probed function: no free of it may be taken
//! for the allocator's own (glibc's thread-exit tcache frees are).
//! Run with GLIBC_TUNABLES=glibc.malloc.tcache_count=0, as fam_bad: glibc
//! lets the double free through, and the invalid one is a fake mmapped
//! chunk it gives back with munmap.
use std::alloc::{alloc, dealloc, Layout};
use std::sync::atomic::{AtomicPtr, Ordering};

// Visible outside: the compiler cannot see what a pointer stored here is
// when it is read back, nor drop a call whose result went through it.
#[no_mangle]
pub static SINK: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

fn black_box(p: *mut u8) -> *mut u8 {
    SINK.store(p, Ordering::SeqCst);
    SINK.load(Ordering::SeqCst)
}

extern "C" {
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
}

#[inline(never)]
fn rs_double() {
    let l = Layout::from_size_align(24, 8).unwrap();
    unsafe {
        let a = black_box(alloc(l));
        let b = black_box(alloc(l));
        dealloc(a, l);
        dealloc(b, l);
        dealloc(black_box(a), l);
    }
    black_box(std::ptr::null_mut()); // no tail call: this frame frees
}

#[inline(never)]
fn rs_invalid() {
    const PAGE: usize = 4096;
    unsafe {
        // PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
        let m = mmap(std::ptr::null_mut(), 2 * PAGE, 3, 0x22, -1, 0);
        if m as isize == -1 {
            std::process::exit(1);
        }
        *(m as *mut usize) = 0; // prev_size
        *(m as *mut usize).add(1) = 2 * PAGE | 2; // IS_MMAPPED
        let l = Layout::from_size_align(24, 8).unwrap();
        dealloc(black_box(m.add(16)), l);
    }
    black_box(std::ptr::null_mut());
}

fn main() {
    rs_double();
    rs_invalid();
    black_box(std::ptr::null_mut());
}
