package main

import (
	"log/slog"
	"net/http"

	"intake/metrics"
)

// adminRoutes are the operator's pages on the admin address (INTAKE_ADMIN_ADDR): the
// Prometheus metrics and the health checks. Nothing a student or counsellor uses is here,
// so the address can stay on loopback or a private network.
func adminRoutes(m *metrics.Metrics, ready http.Handler, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log))
	mux.Handle("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", alive)
	return mux
}
