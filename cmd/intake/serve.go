package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
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
	throwaway := cfg.pepper == nil || cfg.sealKey == nil
	if cfg.pepper == nil {
		cfg.pepper = bot.RandomKey()
	}
	if cfg.sealKey == nil {
		cfg.sealKey = bot.RandomKey()
	}
	if *httpAddr != "" {
		cfg.httpAddr = *httpAddr
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
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
	if cfg.pepper == nil || cfg.sealKey == nil {
		return fmt.Errorf("INTAKE_PEPPER and INTAKE_SEAL_KEY must be set: without them nobody's conversation is safe to store. Make them once with `intake keys generate`, keep them secret and keep them the same across restarts")
	}
	src := contentSource{flowsDir: cfg.flowsDir, localesDir: cfg.localesDir}
	if *flowsDir != "" {
		src.flowsDir = *flowsDir
	}
	if *localesDir != "" {
		src.localesDir = *localesDir
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return runService(cfg, src, false, false, log, stdout)
}

// runService runs until SIGINT or SIGTERM.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := svc.routes()
	platforms, err := svc.channels(mux, envOr("INTAKE_PUBLIC_URL", "http://"+cfg.httpAddr))
	if err != nil {
		return err
	}
	httpAddr, httpDone, err := serveHTTP(ctx, cfg.httpAddr, mux)
	if err != nil {
		return err
	}
	for name, ch := range platforms {
		go func() {
			if err := ch.Run(ctx); err != nil {
				log.Error("channel stopped", "channel", name, "err", err)
			}
		}()
	}
	go svc.watch(ctx, reloadInterval)
	go svc.every(ctx, reannounceInterval, "re-announcing waiting cases", func(ctx context.Context) (int, error) {
		return svc.desk.Reannounce(ctx, svc.store)
	})
	go svc.every(ctx, purgeInterval, "purging case content past retention", func(ctx context.Context) (int, error) {
		return purge(ctx, svc.store, time.Now(), cfg.retention)
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
	fmt.Fprintf(stdout, "  health:  http://%s/healthz\n", httpAddr)
	for name := range platforms {
		fmt.Fprintf(stdout, "  channel: %s\n", name)
	}
	if dev && cfg.redisURL == "" {
		fmt.Fprintln(stdout, "")
		fmt.Fprintln(stdout, "  !!! IN-MEMORY REDIS: every conversation and case is LOST when this process stops. !!!")
		fmt.Fprintf(stdout, "  redis:   redis://%s/0 (in-memory)\n", addr)
	}
	if throwaway {
		fmt.Fprintln(stdout, "  keys:    throwaway keys made for this run only (set INTAKE_PEPPER and INTAKE_SEAL_KEY to keep them)")
	}
	if dev {
		fmt.Fprintln(stdout, "")
		fmt.Fprintln(stdout, "  Talk to the bot from a second terminal:")
		fmt.Fprintf(stdout, "    REDIS_URL=%s INTAKE_PEPPER=%s INTAKE_SEAL_KEY=%s go run ./cmd/intake chat\n",
			redisURLFor(cfg.redisURL, addr), base64.StdEncoding.EncodeToString(cfg.pepper), base64.StdEncoding.EncodeToString(cfg.sealKey))
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")

	select {
	case <-ctx.Done():
	case err := <-httpDone:
		return fmt.Errorf("http server stopped: %w", err)
	}
	fmt.Fprintln(stdout, "intake stopped.")
	return nil
}

func redisURLFor(configured, addr string) string {
	if configured != "" {
		return configured
	}
	return "redis://" + addr + "/0"
}
