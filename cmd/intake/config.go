package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"intake/bot"
	"intake/flows"
	"intake/locales"
)

// config is everything the service reads from its environment.
type config struct {
	redisURL string
	// keyConfig is the pepper and the sealing keys (keyconfig.go).
	keyConfig
	flowsDir   string
	localesDir string
	httpAddr   string
	sessionTTL time.Duration
	// retention is how long case content stays after close (registrations: after creation).
	retention time.Duration
	// maxCasesPerHour caps the new cases all replicas store in one clock hour (0: no cap).
	maxCasesPerHour int
	// redisPrefix starts every key (INTAKE_REDIS_PREFIX; `intake bench` sets its own, to
	// keep its keys apart).
	redisPrefix string
	// adminAddr, adminDefault, shutdownGrace, logLevel: see opsconfig.go.
	adminAddr     string
	adminDefault  bool
	shutdownGrace time.Duration
	logLevel      slog.Level
}

func loadConfig() (config, error) {
	c := config{
		redisURL:   os.Getenv("REDIS_URL"),
		flowsDir:   os.Getenv("INTAKE_FLOWS_DIR"),
		localesDir: os.Getenv("INTAKE_LOCALES_DIR"),
		httpAddr:   envOr("INTAKE_HTTP_ADDR", "127.0.0.1:8080"),
	}
	var err error
	if c.keyConfig, err = loadKeys(os.Getenv); err != nil {
		return c, err
	}
	c.sessionTTL = bot.DefaultSessionTTL
	if v := os.Getenv("INTAKE_SESSION_TTL"); v != "" {
		if c.sessionTTL, err = time.ParseDuration(v); err != nil || c.sessionTTL < time.Minute {
			return c, fmt.Errorf("INTAKE_SESSION_TTL=%q is not a duration of at least 1m (e.g. 24h)", v)
		}
	}
	c.retention = defaultRetention
	if v := os.Getenv("INTAKE_RETENTION"); v != "" {
		if c.retention, err = parseRetention(v); err != nil {
			return c, fmt.Errorf("INTAKE_RETENTION=%q: %v", v, err)
		}
	}
	c.maxCasesPerHour = defaultMaxCasesPerHour
	if v := os.Getenv("INTAKE_MAX_CASES_PER_HOUR"); v != "" {
		if c.maxCasesPerHour, err = strconv.Atoi(v); err != nil || c.maxCasesPerHour < 0 {
			return c, fmt.Errorf("INTAKE_MAX_CASES_PER_HOUR=%q is not a number of cases (0 turns the cap off)", v)
		}
	}
	if err := c.loadOps(); err != nil {
		return c, err
	}
	return c, nil
}

// defaultMaxCasesPerHour is the cap on new cases (handoffs and registrations) in one clock
// hour. The team receives about a hundred reports a year, two a week; twenty in one hour
// would be a thousand times that, more than even a campus-wide incident brings, while a
// script flooding the queue is held to what the counsellors can still sort by hand. A
// student over the cap keeps their answers and is asked to try again in a little while.
const defaultMaxCasesPerHour = 20

// defaultRetention is how long case content is kept after close: 90 days.
const defaultRetention = bot.DefaultRetention

// parseRetention reads a retention time: whole days ("90d") or a Go duration ("2160h"),
// at least one hour.
func parseRetention(v string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("not a number of days (e.g. 90d)")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("not a duration (e.g. 90d or 2160h)")
		}
	}
	if d < time.Hour {
		return 0, fmt.Errorf("a retention time is at least 1h")
	}
	return d, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// contentSource says where scripts and texts come from: a folder the support officer edits,
// or the copies embedded in the binary.
type contentSource struct {
	flowsDir, localesDir string
}

func (s contentSource) fs() (flowsFS, localesFS fs.FS) {
	flowsFS, localesFS = flows.Default, locales.Default
	if s.flowsDir != "" {
		flowsFS = os.DirFS(s.flowsDir)
	}
	if s.localesDir != "" {
		localesFS = os.DirFS(s.localesDir)
	}
	return flowsFS, localesFS
}

func (s contentSource) String() string {
	f, l := "embedded", "embedded"
	if s.flowsDir != "" {
		f = s.flowsDir
	}
	if s.localesDir != "" {
		l = s.localesDir
	}
	return fmt.Sprintf("flows: %s, locales: %s", f, l)
}

// load reads and validates scripts and texts. Problems are returned, not printed, so the
// caller decides: `flows validate` lists them, a reload keeps the running version.
func (s contentSource) load() (*bot.Content, flows.Problems, error) {
	ffs, lfs := s.fs()
	cat, err := locales.Load(lfs)
	if err != nil {
		return nil, nil, fmt.Errorf("load locales: %w", err)
	}
	fl, problems := flows.Load(ffs)
	crisis, crisisProblems := flows.LoadCrisis(ffs)
	problems = append(problems, crisisProblems...)
	if len(crisisProblems) == 0 {
		problems = append(problems, crisis.Check()...)
	}
	if len(problems) > 0 {
		problems.Sort()
		return nil, problems, nil
	}
	content, problems := bot.NewContent(fl, cat)
	if content != nil {
		content.Crisis = crisis
	}
	return content, problems, nil
}

// defaultSource uses the flows/ and locales/ folders next to where intake runs when they
// exist (a checkout, or the folders mounted in the container), so edits apply without a
// rebuild; otherwise the embedded copies.
func defaultSource(flowsDir, localesDir string) contentSource {
	if flowsDir == "" && isDir("flows") {
		flowsDir = "flows"
	}
	if localesDir == "" {
		switch {
		case flowsDir != "" && isDir(filepath.Join(flowsDir, "..", "locales")):
			localesDir = filepath.Clean(filepath.Join(flowsDir, "..", "locales"))
		case isDir("locales"):
			localesDir = "locales"
		}
	}
	return contentSource{flowsDir: flowsDir, localesDir: localesDir}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
