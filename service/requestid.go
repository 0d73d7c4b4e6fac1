package service

import "context"

type ctxKey int

const ctxRequestID ctxKey = iota

// WithRequestID returns ctx carrying a request id, which the service's log
// lines about the request then name (the HTTP middleware sets it).
func WithRequestID(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, ctxRequestID, id)
}

// RequestIDFrom returns the request id carried by ctx, or 0.
func RequestIDFrom(ctx context.Context) uint64 {
	id, _ := ctx.Value(ctxRequestID).(uint64)
	return id
}
