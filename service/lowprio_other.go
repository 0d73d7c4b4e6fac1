//go:build !linux

package service

// lowPriority runs fn. Only Linux lowers one thread's priority (nice is
// per process elsewhere).
func lowPriority(fn func()) { fn() }
