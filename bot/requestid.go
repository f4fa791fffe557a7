package bot

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the random id the HTTP server gave the request, so
// the log lines of a turn run within that request name it next to the turn's own id: an
// operator given the id a browser showed finds the turn. The id must be random, never
// derived from the student.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestID is the id WithRequestID put in ctx, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
