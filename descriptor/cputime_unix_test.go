//go:build unix

package descriptor

import "syscall"

// processCPUNanos is the CPU time of the test process (all threads). On a
// shared machine wall time mostly measures the other tenants; the descriptor
// benchmarks report both.
func processCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
