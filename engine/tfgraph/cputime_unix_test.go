//go:build unix

package tfgraph

import "syscall"

// processCPU returns the user+system CPU seconds this process has used. The
// benchmarks report it per op because wall time on a shared machine says
// more about the neighbours than about the code.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
