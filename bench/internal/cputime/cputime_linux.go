// Package cputime reads the CPU time of the whole process, which is what a
// benchmark stage costs on a shared machine (wall time there mostly measures
// the other tenants).
package cputime

import (
	"syscall"
	"unsafe"
)

// clockProcessCPUTime is CLOCK_PROCESS_CPUTIME_ID from <time.h>.
const clockProcessCPUTime = 2

// Nanos returns the CPU time the whole process has used (all threads:
// Go code, the native core, GC), which is what a stage costs; on a shared
// machine wall time mostly measures the other tenants.
func Nanos() int64 {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return ts.Nano()
}
