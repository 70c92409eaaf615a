// SPDX-License-Identifier: (MIT OR Apache-2.0)
//! reach_rs: the heap scan's Rust case (tests/integration/reach_truth.py):
//!
//!   site        blocks  class
//!   rc_cycle         6  3 definitely, 3 indirectly lost: three leaked
//!                       cycles of two Rc nodes
//!   box_held         1  still reachable: a static holds it
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};

struct Node {
    next: RefCell<Option<Rc<Node>>>,
    _pad: [u64; 4],
}

// Visible outside: a store to a static nobody reads may be dropped.
#[no_mangle]
pub static HELD: AtomicPtr<[u64; 12]> = AtomicPtr::new(std::ptr::null_mut());

#[inline(never)]
fn rc_cycle() {
    // Three, from a value the compiler cannot see: no unrolling.
    let n = 2 + std::env::args().count() as u64;
    for i in 0..n {
        let a = Rc::new(Node { next: RefCell::new(None), _pad: [i; 4] });
        let b = Rc::new(Node { next: RefCell::new(Some(a.clone())), _pad: [i; 4] });
        *a.next.borrow_mut() = Some(b.clone());
    }
}

#[inline(never)]
fn box_held() {
    let b = Box::new([7u64; 12]);
    HELD.store(Box::into_raw(b), Ordering::Relaxed);
}

// The stack below main's frame, where rc_cycle's frames were: stale
// words there would look like pointers to the exit-time scan.
#[inline(never)]
fn scrub() {
    let mut buf = [0u64; 2048];
    for w in buf.iter_mut() {
        unsafe { std::ptr::write_volatile(w, 0) };
    }
}

fn main() {
    rc_cycle();
    scrub();
    box_held();
    std::process::exit(0);
}
