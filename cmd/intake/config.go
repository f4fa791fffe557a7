package main

import (
	"encoding/base64"
	"fmt"
	"io/fs"
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
	redisURL   string
	pepper     []byte
	sealKey    []byte
	flowsDir   string
	localesDir string
	httpAddr   string
	sessionTTL time.Duration
	// retention is how long case content stays after close (registrations: after creation).
	retention time.Duration
}

func loadConfig() (config, error) {
	c := config{
		redisURL:   os.Getenv("REDIS_URL"),
		flowsDir:   os.Getenv("INTAKE_FLOWS_DIR"),
		localesDir: os.Getenv("INTAKE_LOCALES_DIR"),
		httpAddr:   envOr("INTAKE_HTTP_ADDR", "127.0.0.1:8080"),
	}
	var err error
	if c.pepper, err = envKey("INTAKE_PEPPER"); err != nil {
		return c, err
	}
	if c.sealKey, err = envKey("INTAKE_SEAL_KEY"); err != nil {
		return c, err
	}
	c.sessionTTL = 24 * time.Hour
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
	return c, nil
}

// defaultRetention is how long case content is kept after close: 90 days.
const defaultRetention = 90 * 24 * time.Hour

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

// envKey reads a base64 key of bot.KeySize bytes. The value itself never appears in an
// error, only what is wrong with it.
func envKey(name string) ([]byte, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64; make a new one with `intake keys generate`", name)
	}
	if len(k) < bot.KeySize {
		return nil, fmt.Errorf("%s is %d bytes, it must be %d; make a new one with `intake keys generate`", name, len(k), bot.KeySize)
	}
	return k[:bot.KeySize], nil
}

// keys builds the pseudonym function and the keyring from the configured keys.
func (c config) keys() (*bot.Pseudonyms, *bot.Keyring, error) {
	p, err := bot.NewPseudonyms(c.pepper)
	if err != nil {
		return nil, nil, err
	}
	k, err := bot.NewKeyring(map[byte][]byte{1: c.sealKey}, 1)
	if err != nil {
		return nil, nil, err
	}
	return p, k, nil
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
