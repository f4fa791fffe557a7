package discord_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"intake/bot/discord"
)

func TestSplitEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"*bold* _it_ ~~s~~ ||spoiler|| `code` > quote", `\*bold\* \_it\_ \~\~s\~\~ \|\|spoiler\|\| \` + "`code\\`" + ` \> quote`},
		{`back\slash \*`, `back\\slash \\\*`},
		{"# heading\n  - item\n-# small\n1. fine", "\\# heading\n  \\- item\n\\-# small\n1. fine"},
		{"[link](https://example.org) <@123>", `\[link](https://example.org) <@123\>`},
		{"  \n ", ""},
	}
	for _, tt := range tests {
		got := strings.Join(discord.Split(tt.in), "\n")
		if got != tt.want {
			t.Errorf("Split(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitLongText(t *testing.T) {
	var lines []string
	for range 300 {
		lines = append(lines, "A line of a long message with a *star*.")
	}
	long := strings.Repeat("word_ ", 900) // one line, escapes to over 6000 characters
	stars := strings.Repeat("*", 2500)    // escapes to 5000 characters, no spaces
	for _, text := range []string{strings.Join(lines, "\n"), long, stars, strings.Join(lines[:10], "\n") + "\n" + long} {
		parts := discord.Split(text)
		if len(parts) < 2 {
			t.Fatalf("%d parts for %d characters", len(parts), len(text))
		}
		for i, p := range parts {
			if n := utf8.RuneCountInString(p); n > 2000 || n == 0 {
				t.Errorf("part %d has %d characters", i, n)
			}
			if trailing := len(p) - len(strings.TrimRight(p, `\`)); trailing%2 == 1 {
				t.Errorf("part %d ends inside an escape", i)
			}
		}
		// Nothing is lost: unescaped, the parts are the text (whitespace aside: the cuts
		// drop a space or a line break).
		joined := strings.Join(parts, "")
		flat := func(s string) string { return strings.Join(strings.Fields(s), "") }
		unescaped := strings.NewReplacer(`\\`, `\`, `\*`, "*", `\_`, "_").Replace(joined)
		if flat(unescaped) != flat(text) {
			t.Errorf("parts do not add up to the text")
		}
	}
	// Line breaks are preferred: no line of the first text is cut.
	for _, p := range discord.Split(strings.Join(lines, "\n")) {
		for _, l := range strings.Split(p, "\n") {
			if l != `A line of a long message with a \*star\*.` {
				t.Fatalf("a line was cut: %q", l)
			}
		}
	}
}

// TestErrorKindHidesURLs: library errors name URLs with channel ids and interaction
// tokens; what the log gets of them has none.
func TestErrorKindHidesURLs(t *testing.T) {
	const secret = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5"
	u := "https://discord.com/api/v9/interactions/123456789012345678/" + secret + "/callback"
	rest := &discordgo.RESTError{
		Request:      httptest.NewRequest("POST", u, nil),
		Response:     &http.Response{StatusCode: 403, Status: "403 Forbidden"},
		ResponseBody: []byte(`{"message":"Cannot send messages to this user","code":50007,"channel":"600000000000000061"}`),
		Message:      &discordgo.APIErrorMessage{Code: 50007, Message: "Cannot send messages to this user"},
	}
	for _, err := range []error{
		&url.Error{Op: "Post", URL: u, Err: errors.New("dial tcp 10.0.0.1:443: connection refused")},
		fmt.Errorf("wrapped: %w", rest),
		&discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: time.Second}, URL: u}},
		errors.New("error connecting to gateway wss://gateway.discord.gg/?v=9&token=" + secret),
	} {
		got := discord.ErrorKind(err)
		if strings.Contains(got, secret) || strings.Contains(got, "123456789012345678") || strings.Contains(got, "600000000000000061") {
			t.Errorf("ErrorKind(%v) = %q", err, got)
		}
	}
	if got := discord.ErrorKind(rest); got != "HTTP 403, API error 50007" {
		t.Errorf("REST error described as %q", got)
	}
}
