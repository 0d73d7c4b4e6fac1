package service

import (
	"runtime"
	"syscall"
)

// largeImageNice is how much nicer than the process large images are
// analysed: at +10 a thread has CPU weight 110 against an ordinary
// request's 1024 (the kernel's nice table), so a detect sharing a core with
// a large image gets about 90% of it.
const largeImageNice = 10

// lowPriority runs fn on an OS thread of its own at nice largeImageNice,
// so that the CPU-bound work of a large image (decoding, dlib, OpenCV; cgo
// calls run on the calling thread) yields to ordinary requests. On Linux
// nice is per thread. An unprivileged process cannot raise a thread's
// priority back, so the thread is never handed back to the Go scheduler:
// the goroutine ends locked to it, and the runtime then ends the thread.
// A panic in fn is re-raised in the caller.
func lowPriority(fn func()) {
	done := make(chan any, 1)
	go runNiced(fn, done)
	if p := <-done; p != nil {
		panic(p)
	}
}

// runNiced runs fn at a lowered priority on the current thread, locked to
// it for good, and sends what fn panicked with (nil if nothing) to done.
func runNiced(fn func(), done chan<- any) {
	runtime.LockOSThread()
	if syscall.Gettid() == syscall.Getpid() {
		// The main thread never ends (the runtime parks it for good
		// instead), so it must not be niced: run fn on another thread,
		// which the goroutine started here cannot share with this one
		// while it is locked, and then give the main thread back.
		inner := make(chan any, 1)
		go runNiced(fn, inner)
		p := <-inner
		runtime.UnlockOSThread()
		done <- p
		return
	}
	// Relative to the thread's nice value (the process's, inherited), so
	// a server started with nice stays below its own requests. The raw
	// system call answers 20-nice. A failure (seccomp, exotic kernels)
	// only costs the priority.
	tid := syscall.Gettid()
	if raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid); err == nil {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(20-raw+largeImageNice, 19))
	}
	defer func() { done <- recover() }()
	fn()
}
