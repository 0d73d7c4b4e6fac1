//go:build unix

package postgres

import "syscall"

// processCPUNanos is the CPU time of the test process (all threads). On a
// shared machine wall time mostly measures the other tenants;
// BenchmarkOpen reports both.
func processCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
