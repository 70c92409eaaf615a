// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// go_pure: a Go program built without cgo and stripped, as most release
// builds are: its heap is the Go runtime's, and no allocator the tool
// probes serves it. It allocates, prints "ready PID", then sleeps for the
// seconds its argument gives (none without), for -p to find it.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var keep [][]byte

func main() {
	for i := 0; i < 100; i++ {
		keep = append(keep, make([]byte, 4096))
	}
	fmt.Println("ready", os.Getpid())
	if len(os.Args) > 1 {
		n, _ := strconv.Atoi(os.Args[1])
		time.Sleep(time.Duration(n) * time.Second)
	}
}
