package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestRequestIDs: every request gets its own random id in the response, a failed request
// is logged with that id and its route, and the log holds neither the path (a case code)
// nor the client's address. The event stream can still flush through the wrapper.
func TestRequestIDs(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil)) // info: only failures are logged
	mux := http.NewServeMux()
	mux.HandleFunc("GET /desk/case/{code}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the wrapper: %v", err)
		}
	})
	h := withRequestIDs(mux, log)

	ids := map[string]bool{}
	for range 3 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/desk/case/QX7R-M2KD", nil)
		req.RemoteAddr = "198.51.100.23:4711"
		h.ServeHTTP(rec, req)
		id := rec.Header().Get(requestIDHeader)
		if len(id) != 16 || ids[id] {
			t.Errorf("request id %q: want 16 hex characters, new each time", id)
		}
		ids[id] = true
		if !strings.Contains(logs.String(), `"request":"`+id+`"`) {
			t.Errorf("the failed request is not logged with its id %s:\n%s", id, logs.String())
		}
	}
	out := logs.String()
	if !strings.Contains(out, `"route":"GET /desk/case/{code}"`) || !strings.Contains(out, `"status":500`) {
		t.Errorf("the log lacks the route or status:\n%s", out)
	}
	for _, secret := range []string{"QX7R-M2KD", "198.51.100.23"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/stream", nil))
}

// TestStreamsEndOnStop: an event stream ends when the service starts to stop (the browser
// reconnects elsewhere); an ordinary request keeps its context, so a turn in flight is
// not cut short.
func TestStreamsEndOnStop(t *testing.T) {
	stopping, stop := context.WithCancel(context.Background())
	ended := make(chan string, 2)
	h := streamsEndOnStop(stopping, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			ended <- r.URL.Path + " ended"
		case <-time.After(500 * time.Millisecond):
			ended <- r.URL.Path + " finished"
		}
	}))
	stream := httptest.NewRequest(http.MethodGet, "/chat/events", nil)
	stream.Header.Set("Accept", "text/event-stream")
	go h.ServeHTTP(httptest.NewRecorder(), stream)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/chat/say", nil))
	stop()
	got := map[string]bool{<-ended: true, <-ended: true}
	if !got["/chat/events ended"] || !got["/chat/say finished"] {
		t.Errorf("got %v: the stream must end on stop, the turn must finish", got)
	}
}

// TestRequestIDReachesTheTurn: the log lines of a turn run within a request carry that
// request's id next to the turn's own, so the id a browser shows finds the turn.
func TestRequestIDReachesTheTurn(t *testing.T) {
	c, prefix := redistest.Client(t)
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(t, redis.New(c, redis.Options{Prefix: prefix}), log)
	h := withRequestIDs(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := e.Handle(r.Context(), bot.Inbound{Channel: "web", Key: "request-id-test", Open: true}); err != nil {
			t.Errorf("turn: %v", err)
		}
	}), discardLogger())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/chat/say", nil))
	id := rec.Header().Get(requestIDHeader)
	var turnLine string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "turn handled") {
			turnLine = line
		}
	}
	if id == "" || !strings.Contains(turnLine, "request="+id) || !strings.Contains(turnLine, "turn=") {
		t.Errorf("the turn's log line lacks the request id %q or its turn id:\n%s", id, logs.String())
	}
}
