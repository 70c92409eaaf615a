// SPDX-License-Identifier: (MIT OR Apache-2.0)
// Rust at -O, without frame pointers, built once with each symbol
// mangling (legacy, the default of this rustc, and v0): what t_rust_names
// checks. take is inlined into make_node, which calls malloc itself, so
// the immediate caller stands for two frames: gt_rust::take at its
// malloc line, inlined, then gt_rust::make_node at the line calling it.
// The lines are marked @line NAME for the test.
extern "C" {
    fn malloc(n: usize) -> *mut u8;
}

#[inline(always)]
fn take(n: usize) -> *mut u8 {
    unsafe { malloc(n) } // @line take
}

#[inline(never)]
fn make_node(n: usize) -> *mut u8 {
    let p = take(n * 8); // @line make_node
    unsafe { std::ptr::write_volatile(p, 1) };
    p
}

fn main() {
    let p = make_node(std::env::args().count() + 10);
    println!("{}", p as usize & 1);
}
