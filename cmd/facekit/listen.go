package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/facekit/facekit/server"
)

// listenAndServe serves until ctx ends, then shuts down gracefully, letting
// in-flight requests finish for up to grace (default 30 s).
func listenAndServe(ctx context.Context, srv *server.Server, addr string, grace time.Duration, ready func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if grace <= 0 {
		grace = 30 * time.Second
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	return <-errc
}
