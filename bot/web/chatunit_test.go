package web

import (
	"net/http/httptest"
	"testing"
	"time"

	"intake/bot"
)

func TestPeerIP(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7:51234":                     "192.0.2.7",
		"[2001:db8:1:2:aaaa:bbbb:cccc:1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":               "2001:db8:1:2::/64", // the same household
		"pipe":                                "pipe",
	}
	for remote, want := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := peerIP(r); got != want {
			t.Errorf("peerIP(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestAsksCase(t *testing.T) {
	cases := map[bot.Inbound]bool{
		{Data: "g:case"}:        true,
		{Text: "/case"}:         true,
		{Text: " /CASE please"}: true,
		{Text: "/case@bot"}:     true,
		{Text: "case"}:          false,
		{Text: "/cases"}:        false,
		{Data: "g:help"}:        false,
	}
	for in, want := range cases {
		if got := asksCase(in); got != want {
			t.Errorf("asksCase(%+v) = %v", in, got)
		}
	}
}

func TestRecentRepliesBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	rr := newRecentReplies(time.Minute, 2)
	for i, k := range []string{"a", "b", "c"} {
		rr.put(k, &shown{lang: "en", at: now.Add(time.Duration(i) * time.Second)})
	}
	if len(rr.m) > 2 {
		t.Errorf("%d entries, max 2", len(rr.m))
	}
	if rr.get("c", now.Add(2*time.Minute)) != nil {
		t.Error("an entry outlived its time")
	}
}
