package main

import (
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"intake/bot"
)

// requestIDHeader gives the request's id back to the browser, so a person reporting a
// problem can quote it and an operator can find the log line.
const requestIDHeader = "X-Request-Id"

// withRequestIDs gives every HTTP request a random id, never derived from the student, the
// address or anything in the request. A request that fails (5xx) is logged with its id,
// route pattern, status and duration; others only at debug level. The path, query, client
// address and headers are never logged: a path can hold a case code.
func withRequestIDs(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set(requestIDHeader, id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		r = r.WithContext(bot.WithRequestID(r.Context(), id))
		h.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		// r.Pattern is the route the mux chose ("/desk/"), set on r by the mux.
		log.Log(r.Context(), level, "http request", "request", id, "method", r.Method,
			"route", r.Pattern, "status", rec.status, "took", time.Since(start))
	})
}

// newRequestID is 64 random bits in hex.
func newRequestID() string { return hex.EncodeToString(bot.RandomKey()[:8]) }

// statusRecorder notes the status a handler wrote. Unwrap lets http.ResponseController
// reach the connection underneath (the chat's event stream flushes and sets deadlines).
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
