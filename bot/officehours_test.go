package bot_test

import (
	"strings"
	"testing"
	"time"

	"intake/bot"
)

func TestOfficeHours(t *testing.T) {
	h := bot.DefaultOfficeHours()
	h.Holidays = map[string]bool{"2026-12-25": true, "2026-12-28": true}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, h.Loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	next := []struct{ when, want string }{
		{"2026-12-01 10:00", "2026-12-01 10:00"}, // Tuesday, open
		{"2026-12-01 08:30", "2026-12-01 09:00"},
		{"2026-12-01 17:00", "2026-12-02 09:00"},
		{"2026-12-04 23:59", "2026-12-07 09:00"}, // Friday night -> Monday
		{"2026-12-05 03:00", "2026-12-07 09:00"}, // Saturday 3 a.m.
		{"2026-12-24 18:00", "2026-12-29 09:00"}, // Christmas and the Monday after closed
		{"2026-03-28 12:00", "2026-03-30 09:00"}, // DST starts Sunday 29 March: still 9:00 local
		{"2026-10-24 12:00", "2026-10-26 09:00"}, // DST ends Sunday 25 October
	}
	for _, c := range next {
		if got := h.NextOpen(at(c.when)); !got.Equal(at(c.want)) {
			t.Errorf("NextOpen(%s) = %s, want %s", c.when, got.In(h.Loc).Format("2006-01-02 15:04 MST"), c.want)
		}
	}
	working := []struct {
		from, to string
		want     time.Duration
	}{
		{"2026-12-01 10:00", "2026-12-01 12:30", 150 * time.Minute},
		{"2026-12-04 16:00", "2026-12-07 10:00", 2 * time.Hour}, // over a weekend
		{"2026-12-04 23:59", "2026-12-07 09:00", 0},
		{"2026-12-24 16:00", "2026-12-29 10:00", 2 * time.Hour}, // over holidays
		{"2026-03-27 16:00", "2026-03-30 10:00", 2 * time.Hour}, // over the DST change
		{"2026-12-01 09:00", "2026-12-02 09:00", 8 * time.Hour},
	}
	for _, c := range working {
		if got := h.WorkingTime(at(c.from), at(c.to)); got != c.want {
			t.Errorf("WorkingTime(%s, %s) = %s, want %s", c.from, c.to, got, c.want)
		}
	}
}

func TestSecretsHashAndCheck(t *testing.T) {
	p := bot.NewPassphrase()
	if len(p) != 19 || p[4] != '-' || p[9] != '-' || p[14] != '-' {
		t.Fatalf("passphrase %q", p)
	}
	r := bot.HashReceipt(p)
	if !bot.CheckReceipt(r, p) || bot.CheckReceipt(r, p+"x") || r == bot.HashReceipt(p) {
		t.Fatal("receipt hash check is wrong (or unsalted)")
	}
	if bot.CheckSecret(r, p) {
		t.Fatal("a desk password check accepted the fast receipt hash")
	}
	if old := bot.HashSecret(p); !bot.CheckReceipt(old, p) || bot.CheckReceipt(old, p+"x") {
		t.Fatal("a receipt hashed by an earlier version (Argon2id) no longer verifies")
	}
	for _, bad := range []string{"$sha256$", "$sha256$$", "$sha256$c2FsdA$" + strings.Repeat("A", 43), "$sha256$" + strings.Repeat("A", 22) + "$short"} {
		if bot.CheckReceipt(bad, p) {
			t.Errorf("malformed receipt hash %q verified", bad)
		}
	}
	h := bot.HashSecret(p)
	if !bot.CheckSecret(h, p) || bot.CheckSecret(h, p+"x") || bot.CheckSecret("garbage", p) || bot.CheckSecret("$argon2id$v=19$m=0,t=0,p=0$$", p) {
		t.Fatal("hash check is wrong")
	}
	if h == bot.HashSecret(p) {
		t.Fatal("hashes must be salted")
	}
}
