//go:build !unix

package descriptor

// processCPUNanos is unavailable here; the cpu-ms/op metric reads 0.
func processCPUNanos() int64 { return 0 }
