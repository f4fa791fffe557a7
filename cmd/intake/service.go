package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"

	"intake/bot"
	"intake/bot/web"
	"intake/metrics"
	"intake/storage/redis"
)

// service is the wired-up bot: store, engine, and where its content comes from.
type service struct {
	store  *redis.Store
	engine *bot.Engine
	desk   *bot.Desk
	names  *bot.Pseudonyms
	source contentSource
	log    *slog.Logger
	// metrics counts turns, deliveries, claims, limits and reloads (served on the admin address).
	metrics *metrics.Metrics
	// clientIP is the address rate limits count a web request against (nil: the peer).
	clientIP func(*http.Request) string
	// secureCookies marks desk cookies Secure: on unless the service only listens on
	// loopback for development, where there is no TLS.
	secureCookies bool
}

// openStore connects to REDIS_URL, or starts an in-process Redis when it is empty and
// memoryOK. The returned close stops what was started.
func openStore(cfg config, memoryOK bool, stdout io.Writer) (*redis.Store, string, func(), error) {
	addr := cfg.redisURL
	stop := func() {}
	if addr == "" {
		if !memoryOK {
			return nil, "", nil, errors.New("REDIS_URL is not set: production needs a real Redis (e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
		}
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, "", nil, fmt.Errorf("start in-memory redis: %w", err)
		}
		addr, stop = m.Addr(), m.Close
	}
	client, err := redis.Open(addr)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	store := redis.New(client, redis.Options{Prefix: cfg.redisPrefix, SessionTTL: cfg.sessionTTL, MaxCasesPerHour: cfg.maxCasesPerHour})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		client.Close()
		stop()
		return nil, "", nil, fmt.Errorf("redis at REDIS_URL is not reachable (%v); is it running?", err)
	}
	return store, addr, func() { client.Close(); stop() }, nil
}

// newService wires store and engine with the content of source.
func newService(cfg config, store *redis.Store, source contentSource, log *slog.Logger) (*service, error) {
	names, keys, err := cfg.keys()
	if err != nil {
		return nil, err
	}
	content, problems, err := source.load()
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the flow scripts have problems; fix them first (`intake flows validate` lists them):\n%s", problems.Error())
	}
	// The queue gauges read through the desk: only it can open a case's exact arrival time.
	var desk *bot.Desk
	m := metrics.New(metrics.QueueFunc(func(ctx context.Context) (int, time.Time, error) { return desk.PendingStats(ctx) }))
	engine, err := bot.NewEngine(bot.Config{
		Sessions: store, Cases: store, Archive: store, Outbox: store, Accounts: store, Keys: keys,
		Sent: store, Logger: log, Meter: m, SessionTTL: cfg.sessionTTL, Retention: cfg.retention,
	}, content)
	if err != nil {
		return nil, err
	}
	desk = bot.NewDesk(bot.DeskConfig{
		Cases: store, Accounts: store, Outbox: store, Engine: engine, Keys: keys, Logger: log,
		Audit: store,
	})
	return &service{store: store, engine: engine, desk: desk, names: names, source: source, log: log, metrics: m}, nil
}

// routes is every HTTP page of the service: the web chat, the desk, the health check.
func (s *service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/desk/", web.NewDesk(s.desk, web.DeskOptions{Secure: s.secureCookies, Logger: s.log, Records: s.store.Records}))
	mux.Handle("/", web.NewChat(s.engine, s.names, web.ChatOptions{
		Secure: s.secureCookies, ExitURL: os.Getenv("INTAKE_EXIT_URL"), ClientIP: s.clientIP, Logger: s.log,
	}))
	mux.HandleFunc("GET /healthz", alive) // /readyz is added by runService, which knows the channels
	return mux
}

// watch publishes edited scripts: on SIGHUP at once, and when a file in the content
// folders changes (checked every interval). An invalid edit is refused with its problems
// and the running version stays.
func (s *service) watch(ctx context.Context, interval time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := s.source.stamp()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.reload(ctx, "SIGHUP")
			last = s.source.stamp()
		case <-tick.C:
			if now := s.source.stamp(); now != last {
				last = now
				s.reload(ctx, "file change")
			}
		}
	}
}

func (s *service) reload(ctx context.Context, why string) {
	content, problems, err := s.source.load()
	switch {
	case err != nil:
		s.metrics.Reloaded(metrics.ReloadFailed, 0)
		s.log.Error("reload refused; the running version stays", "why", why, "err", err)
	case len(problems) > 0:
		s.metrics.Reloaded(metrics.ReloadInvalid, len(problems))
		s.log.Error("reload refused; the running version stays", "why", why, "problems", len(problems))
		for _, p := range problems {
			s.log.Error("flow problem", "at", p.String())
		}
	default:
		if err := s.engine.Publish(ctx, content); err != nil {
			s.metrics.Reloaded(metrics.ReloadFailed, 0)
			s.log.Error("reload failed; the running version stays", "why", why, "err", err)
			return
		}
		s.metrics.Reloaded(metrics.ReloadPublished, 0)
		f := content.Flows["intake"]
		s.log.Info("flows published", "why", why, "flow", f.ID, "version", f.Version, "hash", f.Hash)
	}
}

// stamp summarises the content folders' file names, sizes and times; embedded content
// never changes.
func (s contentSource) stamp() string {
	var out string
	for _, dir := range []string{s.flowsDir, s.localesDir} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			out += dir + ":unreadable;"
			continue
		}
		for _, e := range entries {
			if info, err := e.Info(); err == nil && !e.IsDir() {
				out += fmt.Sprintf("%s/%s:%d:%d;", dir, e.Name(), info.Size(), info.ModTime().UnixNano())
			}
		}
	}
	return out
}

// every runs a housekeeping job every interval until ctx ends, logging how many things it
// did (when any) or why it failed; a failed run is retried at the next tick.
func (s *service) every(ctx context.Context, interval time.Duration, what string, job func(context.Context) (int, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := job(ctx); err != nil {
				s.log.Error(what+" failed", "err", err)
			} else if n > 0 {
				s.log.Info(what+" done", "count", n)
			}
		}
	}
}
