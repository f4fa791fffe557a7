package telegram

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Modes of receiving updates.
const (
	ModePoll    = "poll"    // long polling; one replica at a time holds it (a lease)
	ModeWebhook = "webhook" // Telegram posts updates to WebhookHandler on any replica
)

// Config configures the Telegram channel. Token and WebhookSecret are secrets: they never
// appear in an error, a log line or String.
type Config struct {
	Token string
	// Mode is ModePoll or ModeWebhook.
	Mode string
	// WebhookSecret is the secret_token given to setWebhook; Telegram sends it back in the
	// X-Telegram-Bot-Api-Secret-Token header of every update. Required for webhook mode.
	WebhookSecret string
	// CounsellorGroup is the chat id of the counsellors' group that gets case notices
	// (group ids are negative); 0 posts no notices.
	CounsellorGroup int64
	// Counsellors maps the Telegram user id of each counsellor to their desk account name:
	// only they can claim a case from a notice.
	Counsellors map[int64]string
	// DeskURL is the desk's address, e.g. https://intake.example/desk/; notices link to
	// DeskURL + "case/" + code.
	DeskURL string
	// ServerURL replaces https://api.telegram.org: a local Bot API server, or a test's fake
	// (INTAKE_TELEGRAM_SERVER_URL). No trailing slash.
	ServerURL string
	// Replica names this replica, stable across restarts: the lease holder and the stream
	// consumer name, so a restarted replica gets its own unacknowledged messages back.
	Replica string
	// TypingDelay is how long a turn runs before the student sees "typing…"
	// (DefaultTypingDelay when zero; negative: at once). Most turns answer within
	// milliseconds, where the indicator would only cost a Bot API call: Telegram limits
	// how many calls a bot may make, and `intake bench` counted 5.5 calls per update.
	TypingDelay time.Duration
}

// DefaultTypingDelay is long enough that a quick turn shows no indicator and short enough
// that a student waiting on a slow one sees that something happens.
const DefaultTypingDelay = 500 * time.Millisecond

// Environment variables read by ConfigFromEnv.
const (
	EnvToken         = "INTAKE_TELEGRAM_TOKEN"
	EnvMode          = "INTAKE_TELEGRAM_MODE"
	EnvWebhookSecret = "INTAKE_TELEGRAM_WEBHOOK_SECRET"
	EnvGroup         = "INTAKE_TELEGRAM_GROUP"
	EnvCounsellors   = "INTAKE_TELEGRAM_COUNSELLORS"
	EnvServerURL     = "INTAKE_TELEGRAM_SERVER_URL"
)

// minSecret is the shortest webhook secret accepted: it is all that stands between the
// internet and the webhook.
const minSecret = 16

var (
	tokenPattern  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`) // Telegram's rule for secret_token
	// accountPattern is the desk's rule for account names.
	accountPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)
)

// ConfigFromEnv reads the channel's configuration. Without INTAKE_TELEGRAM_TOKEN the channel
// is not configured: ok is false and err nil. DeskURL and Replica are the caller's to fill
// in. Errors say what is wrong and never repeat a secret.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg.Token = strings.TrimSpace(getenv(EnvToken))
	if cfg.Token == "" {
		return Config{}, false, nil
	}
	cfg.Mode = strings.ToLower(strings.TrimSpace(getenv(EnvMode)))
	if cfg.Mode == "" {
		cfg.Mode = ModePoll
	}
	cfg.WebhookSecret = strings.TrimSpace(getenv(EnvWebhookSecret))
	cfg.ServerURL = strings.TrimRight(strings.TrimSpace(getenv(EnvServerURL)), "/")
	if v := strings.TrimSpace(getenv(EnvGroup)); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cfg, true, fmt.Errorf("%s=%q is not a chat id (a number like -1001234567890)", EnvGroup, v)
		}
		cfg.CounsellorGroup = id
	}
	if v := strings.TrimSpace(getenv(EnvCounsellors)); v != "" {
		cfg.Counsellors, err = parseCounsellors(v)
		if err != nil {
			return cfg, true, err
		}
	}
	if err := cfg.check(); err != nil {
		return cfg, true, err
	}
	return cfg, true, nil
}

// parseCounsellors reads "123456:anna,789:bram".
func parseCounsellors(v string) (map[int64]string, error) {
	out := map[int64]string{}
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		idText, name, found := strings.Cut(entry, ":")
		id, err := strconv.ParseInt(strings.TrimSpace(idText), 10, 64)
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !found || err != nil || id <= 0:
			return nil, fmt.Errorf("%s entry %d (%q): want <telegram user id>:<desk account>, e.g. 123456789:anna", EnvCounsellors, i+1, entry)
		case !accountPattern.MatchString(name):
			return nil, fmt.Errorf("%s entry %d (%q): %q is not a desk account name (2 to 32 lower-case letters, digits, '.', '_' or '-')", EnvCounsellors, i+1, entry, name)
		case out[id] != "":
			return nil, fmt.Errorf("%s entry %d (%q): user id %d is listed twice", EnvCounsellors, i+1, entry, id)
		}
		out[id] = name
	}
	return out, nil
}

// check validates everything except Replica (which New checks, as the caller sets it).
func (c Config) check() error {
	switch {
	case c.Token == "":
		return errors.New("telegram: no bot token (" + EnvToken + ")")
	case !tokenPattern.MatchString(c.Token):
		// Never echo it: a token with a stray character is still nearly the whole secret.
		return fmt.Errorf("%s does not look like a bot token (digits, a colon, then letters, digits, '_' or '-'); copy it again from @BotFather", EnvToken)
	}
	switch c.Mode {
	case ModePoll:
	case ModeWebhook:
		switch {
		case c.WebhookSecret == "":
			return fmt.Errorf("%s=webhook needs %s: a random secret of at least %d characters, given to setWebhook as secret_token", EnvMode, EnvWebhookSecret, minSecret)
		case len(c.WebhookSecret) < minSecret:
			return fmt.Errorf("%s is %d characters; use at least %d (e.g. `openssl rand -hex 32`)", EnvWebhookSecret, len(c.WebhookSecret), minSecret)
		case !secretPattern.MatchString(c.WebhookSecret):
			return fmt.Errorf("%s may hold only A-Z, a-z, 0-9, '_' and '-', at most 256 characters (Telegram's rule for secret_token)", EnvWebhookSecret)
		}
	default:
		return fmt.Errorf("%s=%q: want %q or %q", EnvMode, c.Mode, ModePoll, ModeWebhook)
	}
	if c.CounsellorGroup > 0 {
		return fmt.Errorf("%s=%d is a user id, not a group: group chat ids are negative (add the bot to the group and read the id from an update)", EnvGroup, c.CounsellorGroup)
	}
	if len(c.Counsellors) > 0 && c.CounsellorGroup == 0 {
		return fmt.Errorf("%s is set but %s is not: counsellors claim cases from the group's notices", EnvCounsellors, EnvGroup)
	}
	if c.ServerURL != "" && !httpURL(c.ServerURL) {
		// The address may carry credentials of a proxy: say what is wrong, not what it is.
		return fmt.Errorf("%s is not an http(s) address like http://127.0.0.1:8081 (a local Bot API server, or a test's fake)", EnvServerURL)
	}
	if c.DeskURL != "" {
		if !httpURL(c.DeskURL) {
			return fmt.Errorf("telegram: desk URL %q is not an http(s) address", c.DeskURL)
		}
	}
	return nil
}

// httpURL reports whether s is an absolute http or https address with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// String describes the configuration without its secrets, for start-up logs.
func (c Config) String() string {
	ids := make([]int64, 0, len(c.Counsellors))
	for id := range c.Counsellors {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, c.Counsellors[id])
	}
	group := "none"
	if c.CounsellorGroup != 0 {
		group = "set"
	}
	return fmt.Sprintf("telegram: mode %s, counsellor group %s, counsellors %v, replica %q", c.Mode, group, names, c.Replica)
}

// LogValue keeps the token and the webhook secret out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
