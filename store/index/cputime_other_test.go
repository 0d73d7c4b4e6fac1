//go:build !unix

package index

// processCPUNanos is unavailable here; the cpu-ms/scan metric reads 0.
func processCPUNanos() int64 { return 0 }
