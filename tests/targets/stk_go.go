// SPDX-License-Identifier: (MIT OR Apache-2.0)

// stk_go: a Go program that allocates through cgo, from the main
// goroutine (100 blocks) and from another one (50): the C leaf runs on
// the system stack, and its stack goes on through runtime.asmcgocall into
// the goroutine's own (runtime.cgocall, the program's functions, up to
// runtime.goexit, where every goroutine's stack begins). With --wait it
// prints "ready <pid>" and waits for SIGUSR1 first. Built with cgo's C at
// gcc -O2 without frame pointers; Go's own code is described by its
// .debug_frame.
package main

/*
#include <stdlib.h>

void *go_sink;

__attribute__((noinline)) void go_leaf(int i)
{
	go_sink = malloc(64 + i);	// @site go_leaf
	__asm__ volatile ("" ::: "memory");
}

__attribute__((noinline)) void go_entry(int i)
{
	go_leaf(i);
	__asm__ volatile ("" ::: "memory");
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

//go:noinline
func goInner(i int) {
	C.go_entry(C.int(i))
}

//go:noinline
func goOuter(i int) {
	goInner(i)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--wait" {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		fmt.Printf("ready %d\n", os.Getpid())
		<-ch
	}
	for i := 0; i < 100; i++ {
		goOuter(i)
	}
	done := make(chan bool)
	go func() {
		for i := 0; i < 50; i++ {
			goOuter(i)
		}
		done <- true
	}()
	<-done
}
