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
	"strings"
	"syscall"
	"time"

	"intake/bot"
)

// reloadInterval is how often the content folders are checked for edits.
const reloadInterval = 2 * time.Second

// reannounceInterval is how often waiting cases are checked for a new announcement.
const reannounceInterval = time.Minute

func runDev(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "dev [--flows DIR] [--locales DIR] [--http ADDR]", stderr)
	flowsDir := fs.String("flows", "", "folder of flow scripts (default ./flows when present, else embedded)")
	localesDir := fs.String("locales", "", "folder of locale files (default ./locales when present, else embedded)")
	httpAddr := fs.String("http", "", "HTTP address (default INTAKE_HTTP_ADDR or 127.0.0.1:8080)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	throwaway := cfg.throwaway()
	if *httpAddr != "" {
		cfg.httpAddr = *httpAddr
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	return runService(cfg, defaultSource(*flowsDir, *localesDir), true, throwaway, log, stdout)
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--flows DIR] [--locales DIR]", stderr)
	flowsDir := fs.String("flows", "", "folder of flow scripts (default INTAKE_FLOWS_DIR, else embedded)")
	localesDir := fs.String("locales", "", "folder of locale files (default INTAKE_LOCALES_DIR, else embedded)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if err := cfg.requireKeys(); err != nil {
		return err
	}
	src := contentSource{flowsDir: cfg.flowsDir, localesDir: cfg.localesDir}
	if *flowsDir != "" {
		src.flowsDir = *flowsDir
	}
	if *localesDir != "" {
		src.localesDir = *localesDir
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	return runService(cfg, src, false, false, log, stdout)
}

// runService runs until SIGINT or SIGTERM, then stops gracefully: it takes no more
// updates or requests, lets turns in flight finish and channels give up their leases, and
// waits for all it started, at most cfg.shutdownGrace (a second signal ends it at once).
func runService(cfg config, src contentSource, dev, throwaway bool, log *slog.Logger, stdout io.Writer) error {
	store, addr, closeStore, err := openStore(cfg, dev, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := newService(cfg, store, src, log)
	if err != nil {
		return err
	}
	if h := os.Getenv("INTAKE_CLIENT_IP_HEADER"); h != "" {
		// Behind a reverse proxy every request comes from the proxy: count the address it
		// reports instead, or all students would share one rate limit.
		svc.clientIP = func(r *http.Request) string { return r.Header.Get(h) }
	}
	svc.secureCookies = !dev || os.Getenv("INTAKE_SECURE_COOKIES") == "1"
	if !dev && os.Getenv("INTAKE_SECURE_COOKIES") == "0" {
		svc.secureCookies = false
	}
	signals, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithCancel(signals)
	defer cancel()
	mux := svc.routes()
	platforms, err := svc.channels(mux, envOr("INTAKE_PUBLIC_URL", "http://"+cfg.httpAddr))
	if err != nil {
		return err
	}
	ready := readiness{store: svc.store, engine: svc.engine, channels: platforms, stopping: ctx}
	mux.Handle("GET /readyz", ready)
	var run parts
	httpAddr, httpFailed, err := serveHTTP(ctx, &run, "http requests", cfg.httpAddr,
		withRequestIDs(streamsEndOnStop(ctx, mux), log), cfg.shutdownGrace)
	if err != nil {
		return fmt.Errorf("%w (set INTAKE_HTTP_ADDR to use another address)", err)
	}
	var adminAddr string
	var adminFailed <-chan error // nil: never fails when there is no admin address
	if cfg.adminAddr != "" {
		adminAddr, adminFailed, err = serveHTTP(ctx, &run, "admin address", cfg.adminAddr,
			adminRoutes(svc.metrics, ready, log), cfg.shutdownGrace)
		switch {
		case err != nil && cfg.adminDefault:
			log.Warn("admin address in use: running without /metrics; set INTAKE_ADMIN_ADDR", "addr", cfg.adminAddr)
		case err != nil:
			cancel()
			return fmt.Errorf("%w (set INTAKE_ADMIN_ADDR to another address, or off)", err)
		}
	}
	for name, ch := range platforms {
		run.Go(name, func() {
			if err := ch.Run(ctx); err != nil {
				log.Error("channel stopped", "channel", name, "err", err)
			}
		})
	}
	run.Go("flow reloads", func() { svc.watch(ctx, reloadInterval) })
	run.Go("re-announcements", func() {
		svc.every(ctx, reannounceInterval, "re-announcing waiting cases", func(ctx context.Context) (int, error) {
			return svc.desk.Reannounce(ctx, svc.store)
		})
	})
	run.Go("retention purge", func() {
		svc.every(ctx, purgeInterval, "purging case content past retention", func(ctx context.Context) (int, error) {
			return purge(ctx, svc.store, time.Now(), cfg.retention)
		})
	})
	var demoPassword string
	if dev {
		// A throwaway counsellor so the desk can be tried at once; it lives only as long
		// as the dev data does when the Redis is in memory.
		demoPassword = bot.NewPassphrase()
		if err := svc.desk.AddAccount(ctx, "demo", bot.RoleCounsellor, demoPassword); err != nil {
			return fmt.Errorf("make the demo counsellor: %w", err)
		}
	}

	f := svc.engine.Content().Flows["intake"]
	fmt.Fprintf(stdout, "intake is running (%s)\n", map[bool]string{true: "dev", false: "serve"}[dev])
	fmt.Fprintf(stdout, "  flows:   intake version %d (%s); %s — edits are published on save or SIGHUP\n", f.Version, f.Hash, src)
	fmt.Fprintf(stdout, "  chat:    http://%s/   (the anonymous web chat)\n", httpAddr)
	fmt.Fprintf(stdout, "  desk:    http://%s/desk/\n", httpAddr)
	if dev {
		fmt.Fprintf(stdout, "           demo counsellor: name demo, password %s\n", demoPassword)
	}
	fmt.Fprintf(stdout, "  health:  http://%s/healthz (alive), http://%s/readyz (ready)\n", httpAddr, httpAddr)
	if adminAddr != "" {
		fmt.Fprintf(stdout, "  admin:   http://%s/metrics, /readyz, /healthz\n", adminAddr)
	}
	for name := range platforms {
		fmt.Fprintf(stdout, "  channel: %s\n", name)
	}
	if dev && cfg.redisURL == "" {
		fmt.Fprintln(stdout, "")
		fmt.Fprintln(stdout, "  !!! IN-MEMORY REDIS: every conversation and case is LOST when this process stops. !!!")
		fmt.Fprintf(stdout, "  redis:   redis://%s/0 (in-memory)\n", addr)
	}
	if throwaway {
		fmt.Fprintln(stdout, "  keys:    throwaway keys made for this run only (set INTAKE_PEPPER and INTAKE_SEAL_KEYS to keep them)")
	}
	if dev {
		fmt.Fprintln(stdout, "")
		fmt.Fprintln(stdout, "  Talk to the bot from a second terminal:")
		fmt.Fprintf(stdout, "    REDIS_URL=%s %s go run ./cmd/intake chat\n", redisURLFor(cfg.redisURL, addr), cfg.env())
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")

	var failed error
	select {
	case <-ctx.Done():
	case err := <-httpFailed:
		failed = fmt.Errorf("http server stopped: %w", err)
	case err := <-adminFailed:
		failed = fmt.Errorf("admin server stopped: %w", err)
	}
	cancel()
	stopSignals() // from now on a second signal ends the process at once
	log.Info("stopping: no new updates or requests; waiting for turns in flight", "grace", cfg.shutdownGrace.String())
	if cut := run.Wait(cfg.shutdownGrace); len(cut) > 0 {
		log.Error("stop grace ran out; cut off", "parts", strings.Join(cut, ", "), "grace", cfg.shutdownGrace.String())
		return errors.Join(failed, fmt.Errorf("stopped after %s with %s still running (INTAKE_SHUTDOWN_GRACE)", cfg.shutdownGrace, strings.Join(cut, ", ")))
	}
	svc.engine.FlushMarks()
	log.Info("stopped cleanly")
	fmt.Fprintln(stdout, "intake stopped.")
	return failed
}

func redisURLFor(configured, addr string) string {
	if configured != "" {
		return configured
	}
	return "redis://" + addr + "/0"
}
