package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"intake/bot"
	"intake/storage/redis"
)

func TestPurgeCommand(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	t.Setenv("INTAKE_RETENTION", "")
	client, err := redis.Open(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	store := redis.New(client, redis.Options{})
	ctx := context.Background()
	now := time.Now().UTC()
	// closed 100, 30 and a little under 10 days ago, and one registration made 120 days ago.
	add := func(code string, kind string, created, closed time.Time) {
		t.Helper()
		c := bot.Case{Code: code, IntakeID: "i-" + code, Kind: kind, Status: bot.StatusPending, Channel: "web",
			Fields: map[string]string{"category": "other"}, Story: []byte("sealed story"), ReturnAddr: []byte("addr"), Created: created}
		if kind == bot.CaseRegistration {
			c.Status = bot.StatusRegistered
		}
		r := bot.Record{Year: created.Year(), Month: int(created.Month()), Channel: "web", Kind: kind, Fields: c.Fields}
		if _, err := store.CreateCase(ctx, c, r); err != nil {
			t.Fatal(err)
		}
		if closed.IsZero() {
			return
		}
		got, _ := store.GetCase(ctx, code)
		got.Status, got.Counsellor, got.FollowUp, got.ClosedAt = bot.StatusClosed, "anna", "advice", closed
		if err := store.SaveCase(ctx, got); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	add("AAAA-0001", bot.CaseHandoff, now.Add(-101*day), now.Add(-100*day))
	add("AAAA-0002", bot.CaseHandoff, now.Add(-31*day), now.Add(-30*day))
	add("AAAA-0003", bot.CaseHandoff, now.Add(-11*day), now.Add(-10*day+time.Hour))
	add("AAAA-0004", bot.CaseRegistration, now.Add(-120*day), time.Time{})

	run := func(args ...string) (int, string) {
		var out, errOut strings.Builder
		code := exitCode(runPurge(args, &out, &errOut), &errOut)
		return code, out.String() + errOut.String()
	}
	steps := []struct {
		env  string
		args []string
		code int
		says string
	}{
		{"", nil, exitOK, "purged the content of 2 cases"},
		{"", nil, exitOK, "purged the content of 0 cases"},
		{"", []string{"--older-than", "20d"}, exitOK, "purged the content of 1 case "},
		{"240h", nil, exitOK, "purged the content of 0 cases closed or registered more than 10d ago"},
		{"216h", nil, exitOK, "purged the content of 1 case "},
		{"", []string{"--older-than", "soon"}, exitUsage, "90d or 2160h"},
		{"", []string{"--older-than", "10m"}, exitUsage, "at least 1h"},
		{"", []string{"extra"}, exitUsage, "no arguments"},
		{"forever", nil, exitInvalid, "INTAKE_RETENTION"},
		{"", []string{"--help"}, exitOK, "Usage: intake purge"},
	}
	for _, s := range steps {
		t.Setenv("INTAKE_RETENTION", s.env)
		code, out := run(s.args...)
		if code != s.code || !strings.Contains(out, s.says) {
			t.Errorf("purge %v (INTAKE_RETENTION=%q): exit %d, want %d saying %q:\n%s", s.args, s.env, code, s.code, s.says, out)
		}
	}
	for _, code := range []string{"AAAA-0001", "AAAA-0002", "AAAA-0003", "AAAA-0004"} {
		c, err := store.GetCase(ctx, code)
		if err != nil || c == nil || !c.Purged || len(c.Story) != 0 || len(c.ReturnAddr) != 0 || c.Fields["category"] != "other" {
			t.Errorf("%s after purge: %+v, %v", code, c, err)
		}
	}
	t.Setenv("REDIS_URL", "")
	t.Setenv("INTAKE_RETENTION", "")
	if code, out := run(); code != exitInvalid || !strings.Contains(out, "REDIS_URL is not set") {
		t.Errorf("without REDIS_URL: exit %d\n%s", code, out)
	}
}

func TestDeskAuditCommand(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	client, err := redis.Open(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	store := redis.New(client, redis.Options{})
	run := func(args ...string) (int, string) {
		var out, errOut strings.Builder
		code := exitCode(desk(args, strings.NewReader(""), &out, &errOut), &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := run("audit"); code != exitOK || !strings.Contains(out, "the audit log is empty") {
		t.Errorf("empty audit: exit %d\n%s", code, out)
	}
	for _, a := range []string{bot.AuditClaim, bot.AuditMessage, bot.AuditClose} {
		if err := store.Audit(context.Background(), bot.AuditEntry{Day: "2026-03-03", Account: "anna", Case: "ABCD-EFGH", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	code, out := run("audit")
	if code != exitOK || strings.Count(out, "\n") != 3 || !strings.Contains(out, "2026-03-03  anna") ||
		strings.Index(out, "claim") > strings.Index(out, "close") {
		t.Errorf("audit: exit %d\n%s", code, out)
	}
	if code, out := run("audit", "--last", "1"); code != exitOK || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "ABCD-EFGH  close\n") {
		t.Errorf("audit --last 1: exit %d\n%q", code, out)
	}
	if code, _ := run("audit", "--last", "x"); code != exitUsage {
		t.Errorf("audit --last x: exit %d", code)
	}
}
