//go:build !unix

package postgres

// processCPUNanos is unavailable here; the cpu-s metric reads 0.
func processCPUNanos() int64 { return 0 }
