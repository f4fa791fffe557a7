package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"intake/bot"
)

// readyTimeout bounds the Redis ping of one readiness check.
const readyTimeout = time.Second

// readiness answers /readyz: whether this replica can do its work now. Redis answers, the
// flows are loaded, and every configured channel is connected or stands by while another
// replica holds its lease. While the service stops it is not ready, so a load balancer
// sends no more.
type readiness struct {
	store    interface{ Ping(context.Context) error }
	engine   *bot.Engine
	channels map[string]platformChannel
	// stopping ends when the service starts to stop.
	stopping context.Context
}

// notReady names what is not ready, in fixed words ("redis", "flows", a channel's name,
// "stopping"): nothing of an error's text, which could hold an address or worse.
func (rd readiness) notReady(ctx context.Context) []string {
	var out []string
	if rd.stopping.Err() != nil {
		out = append(out, "stopping")
	}
	pctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := rd.store.Ping(pctx); err != nil {
		out = append(out, "redis")
	}
	if c := rd.engine.Content(); c == nil || len(c.Flows) == 0 {
		out = append(out, "flows")
	}
	var chans []string
	for name, ch := range rd.channels {
		if ch.Ready() != nil {
			chans = append(chans, channelWord(name))
		}
	}
	slices.Sort(chans)
	return append(out, chans...)
}

func (rd readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if not := rd.notReady(r.Context()); len(not) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(not, ", "))
		return
	}
	fmt.Fprintln(w, "ready")
}

// channelWord is the channel's name without its mode: "telegram (poll)" is "telegram".
func channelWord(name string) string {
	word, _, _ := strings.Cut(name, " ")
	return word
}

// alive answers /healthz: the process runs and serves HTTP. It asks nothing of Redis, so
// an orchestrator does not restart every replica while Redis is away (/readyz says so).
func alive(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}
