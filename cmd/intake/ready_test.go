package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// pinger is a Redis that answers or not.
type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

// fakeChannel is a platform channel that is ready or not.
type fakeChannel struct{ err error }

func (fakeChannel) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f fakeChannel) Ready() error                { return f.err }

// TestReadyz: what a load balancer and an operator read. Ready only when Redis answers,
// flows are loaded and every channel is connected or standing by; otherwise 503 with the
// parts that are not, in fixed words, and nothing of the errors behind them.
func TestReadyz(t *testing.T) {
	engine := bottest.EngineOn(t, redistest.New(t, redis.Options{}), bottest.DefaultContent(t))
	secret := errors.New("dial tcp 10.0.0.7:6379: token 123456:SECRET refused")
	stopped, stop := context.WithCancel(context.Background())
	stop()
	cases := []struct {
		name     string
		redis    error
		channels map[string]platformChannel
		stopping context.Context
		status   int
		body     string
	}{
		{"all well", nil, map[string]platformChannel{"telegram (poll)": fakeChannel{}, "discord": fakeChannel{}}, context.Background(), 200, "ready\n"},
		{"no channels configured", nil, nil, context.Background(), 200, "ready\n"},
		{"redis away", secret, nil, context.Background(), 503, "not ready: redis\n"},
		{"telegram not connected", nil, map[string]platformChannel{"telegram (webhook)": fakeChannel{secret}, "discord": fakeChannel{}}, context.Background(), 503, "not ready: telegram\n"},
		{"everything wrong", secret, map[string]platformChannel{"telegram (poll)": fakeChannel{secret}, "discord": fakeChannel{secret}}, context.Background(), 503, "not ready: redis, discord, telegram\n"},
		{"stopping", nil, nil, stopped, 503, "not ready: stopping\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd := readiness{store: pinger{c.redis}, engine: engine, channels: c.channels, stopping: c.stopping}
			rec := httptest.NewRecorder()
			rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != c.status || rec.Body.String() != c.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), c.status, c.body)
			}
		})
	}
}

// TestHealthCommand: the container health check exits 0 on a ready service, 1 on one that
// is not ready or does not answer, and says why.
func TestHealthCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "not ready: redis", status)
			return
		}
		w.Write([]byte("ready\n"))
	}))
	defer srv.Close()

	if code, out, errOut := call(t, "health", "--url", srv.URL+"/readyz"); code != exitOK || out != "ready\n" {
		t.Errorf("ready service: exit %d %q %q", code, out, errOut)
	}
	status = http.StatusServiceUnavailable
	if code, _, errOut := call(t, "health", "--url", srv.URL+"/readyz"); code != exitInvalid || !strings.Contains(errOut, "503: not ready: redis") {
		t.Errorf("not ready: exit %d %q", code, errOut)
	}
	srv.Close()
	if code, _, errOut := call(t, "health", "--url", srv.URL+"/readyz"); code != exitInvalid || !strings.Contains(errOut, "does not answer") {
		t.Errorf("gone: exit %d %q", code, errOut)
	}
}

// TestDefaultHealthURL: without --url the check asks the admin address, on loopback when
// the service listens on every interface (as in the container), else the HTTP address.
func TestDefaultHealthURL(t *testing.T) {
	cases := []struct{ admin, http, want string }{
		{"", "", "http://127.0.0.1:9090/readyz"},
		{"0.0.0.0:9090", "0.0.0.0:8080", "http://127.0.0.1:9090/readyz"},
		{":9191", "", "http://127.0.0.1:9191/readyz"},
		{"off", "0.0.0.0:8080", "http://127.0.0.1:8080/readyz"},
		{"10.1.2.3:9090", "", "http://10.1.2.3:9090/readyz"},
	}
	for _, c := range cases {
		t.Setenv("INTAKE_ADMIN_ADDR", c.admin)
		t.Setenv("INTAKE_HTTP_ADDR", c.http)
		if got := defaultHealthURL(); got != c.want {
			t.Errorf("admin %q http %q: %s, want %s", c.admin, c.http, got, c.want)
		}
	}
}
