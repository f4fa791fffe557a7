package bottest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"intake/storage/redis/redistest"
)

// Canaries are identifying values a privacy test plants in a conversation (a platform id,
// a username, a phone number, a story sentence, an IP address) and then looks for wherever
// nothing identifying may be: logs, errors, what a student is shown, Redis. Each is looked
// for as it is, as its plain SHA-256 (hex and raw, what a careless "anonymisation" would
// store), and a number also as the hex word a Go stack trace prints for an argument.
type Canaries struct {
	forms map[string]string // what is looked for -> the canary it stands for
	plain []string
}

// NewCanaries returns the canaries values.
func NewCanaries(values ...string) *Canaries {
	c := &Canaries{forms: map[string]string{}}
	for _, v := range values {
		c.plain = append(c.plain, v)
		c.forms[v] = v
		sum := sha256.Sum256([]byte(v))
		c.forms[hex.EncodeToString(sum[:])] = v + " (SHA-256 hex)"
		c.forms[string(sum[:])] = v + " (SHA-256)"
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0xffff {
			c.forms["0x"+strconv.FormatInt(n, 16)] = v + " (hex, as in a stack trace)"
		}
	}
	return c
}

// Values are the planted values themselves.
func (c *Canaries) Values() []string { return c.plain }

// Panic is a panic value made of every canary, as a bug that formats what it was handling
// into a panic would make one.
func (c *Canaries) Panic() string { return "cannot handle " + strings.Join(c.plain, " / ") }

// Found lists the canaries in text.
func (c *Canaries) Found(text string) []string {
	var out []string
	for form, what := range c.forms {
		if strings.Contains(text, form) {
			out = append(out, what)
		}
	}
	return out
}

// Check fails the test for every canary in text; where names the text (a log, an error).
func (c *Canaries) Check(t testing.TB, where, text string) {
	t.Helper()
	for _, what := range c.Found(text) {
		t.Errorf("canary %q found in %s:\n%s", what, where, text)
	}
}

// CheckRedis fails the test for every canary in any key or value under prefix. It fails
// too when nothing is stored at all: the test would prove nothing.
func (c *Canaries) CheckRedis(t testing.TB, client goredis.UniversalClient, prefix string) {
	t.Helper()
	dump := redistest.Dump(t, client, prefix)
	if len(dump) == 0 {
		t.Error("nothing stored: the test would prove nothing")
	}
	for k, v := range dump {
		for _, what := range c.Found(k + "\n" + v) {
			t.Errorf("canary %q found in Redis key %q", what, k)
		}
	}
}
