package service

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// threadNice reads the nice value of thread tid from /proc (field 19 of
// stat, counted after the parenthesised command name).
func threadNice(tb testing.TB, tid string) (int, bool) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/self/task", tid, "stat"))
	if err != nil {
		return 0, false // the thread ended meanwhile
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	n, err := strconv.Atoi(fields[16])
	if err != nil {
		tb.Fatalf("stat of thread %s: %v", tid, err)
	}
	return n, true
}

// nicedThreads lists the process's threads whose nice value is not the
// main thread's.
func nicedThreads(tb testing.TB) []string {
	tb.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	base, _ := threadNice(tb, strconv.Itoa(os.Getpid()))
	var niced []string
	for _, t := range tasks {
		if n, ok := threadNice(tb, t.Name()); ok && n != base {
			niced = append(niced, t.Name())
		}
	}
	return niced
}

// TestLowPriority: fn runs 10 nicer than the process (at most 19), a panic
// reaches the caller, and no thread of the process stays niced once
// lowPriority has returned (the thread ends rather than serve ordinary
// requests at low priority).
func TestLowPriority(t *testing.T) {
	if n := nicedThreads(t); len(n) > 0 {
		t.Skipf("threads %v already niced before the test", n)
	}
	var nice int
	var ok bool
	lowPriority(func() {
		nice, ok = threadNice(t, strconv.Itoa(syscall.Gettid()))
	})
	base, _ := threadNice(t, strconv.Itoa(os.Getpid()))
	if want := min(base+largeImageNice, 19); !ok || nice != want {
		t.Fatalf("fn ran at nice %d (%v), want %d (process at %d)", nice, ok, want, base)
	}
	t.Run("Panic", func(t *testing.T) {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		lowPriority(func() { panic("boom") })
	})
	deadline := time.Now().Add(2 * time.Second)
	for len(nicedThreads(t)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("threads %v still at a lowered priority (pid %d)", nicedThreads(t), os.Getpid())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
