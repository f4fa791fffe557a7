package redis_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestPurgeBefore checks the retention purge: a closed handoff and a registration older
// than the cutoff lose their story, return address and thread and keep their coded fields,
// status and registry record; newer and open cases are untouched; a second run purges
// nothing.
func TestPurgeBefore(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cutoff := created.Add(30 * 24 * time.Hour)

	closeAt := func(code string, at time.Time) *bot.Case {
		t.Helper()
		orig, r := newCase(code, "intake-"+code)
		got := mustCreate(t, s, orig, r)
		if err := s.AppendEntry(ctx, code, bot.Entry{At: created, From: bot.FromStudent, Kind: bot.EntryMessage, Text: []byte("sealed")}); err != nil {
			t.Fatal(err)
		}
		claim(got, "anna")
		if err := s.SaveCase(ctx, got); err != nil {
			t.Fatal(err)
		}
		if at.IsZero() {
			return got
		}
		got.Status, got.FollowUp, got.ClosedAt = bot.StatusClosed, "advice", at
		if err := s.SaveCase(ctx, got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	registration := func(code string, at time.Time) *bot.Case {
		t.Helper()
		orig, r := newCase(code, "intake-"+code)
		orig.Kind, r.Kind, orig.Status, orig.ReturnAddr = bot.CaseRegistration, bot.CaseRegistration, bot.StatusRegistered, nil
		orig.Created = at
		return mustCreate(t, s, orig, r)
	}

	old := closeAt("PURG-0001", cutoff.Add(-time.Hour))
	recent := closeAt("PURG-0002", cutoff.Add(time.Hour))
	open := closeAt("PURG-0003", time.Time{}) // claimed long ago, never closed
	oldReg := registration("PURG-0004", cutoff.Add(-24*time.Hour))
	newReg := registration("PURG-0005", cutoff.Add(24*time.Hour))
	withdrawn := closeAt("PURG-0006", cutoff.Add(-time.Hour))
	if err := s.WithdrawCase(ctx, withdrawn.Code); err != nil {
		t.Fatal(err)
	}
	withdrawn, _ = s.GetCase(ctx, withdrawn.Code)

	n, err := s.PurgeBefore(ctx, cutoff, 0)
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want 2", n, err)
	}
	for _, want := range []*bot.Case{old, oldReg} {
		got, err := s.GetCase(ctx, want.Code)
		if err != nil || got == nil {
			t.Fatalf("get %s: %+v, %v", want.Code, got, err)
		}
		w := *want
		w.Story, w.ReturnAddr, w.Purged, w.Rev = nil, nil, true, want.Rev+1
		if !reflect.DeepEqual(got, &w) {
			t.Errorf("purged %s = %+v\nwant %+v", want.Code, got, w)
		}
		if e, _ := s.Entries(ctx, want.Code); len(e) != 0 {
			t.Errorf("purged %s keeps its thread: %+v", want.Code, e)
		}
		if !c.HExists(ctx, prefix+"{case}:reg:2025", recordField(want.IntakeID)).Val() {
			t.Errorf("purged %s lost its registry record", want.Code)
		}
	}
	for _, want := range []*bot.Case{recent, open, newReg, withdrawn} {
		got, _ := s.GetCase(ctx, want.Code)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed:\n%+v\nwant %+v", want.Code, got, want)
		}
	}
	for _, code := range []string{recent.Code, open.Code} {
		if e, _ := s.Entries(ctx, code); len(e) != 1 {
			t.Errorf("%s thread = %+v, want its one entry", code, e)
		}
	}
	if n, err := s.PurgeBefore(ctx, cutoff, 0); err != nil || n != 0 {
		t.Errorf("purge again = %d, %v; want 0", n, err)
	}
	// A desk action holding the case from before the purge cannot save the story back.
	stale := *old
	stale.Status = bot.StatusClosed
	if err := s.SaveCase(ctx, &stale); err == nil {
		t.Error("a stale save after the purge succeeded")
	}
	// Later cutoffs reach the newer ones.
	if n, err := s.PurgeBefore(ctx, cutoff.Add(48*time.Hour), 0); err != nil || n != 2 {
		t.Errorf("later purge = %d, %v; want 2 (the recent close and registration)", n, err)
	}
	if got, _ := s.GetCase(ctx, open.Code); !reflect.DeepEqual(got, open) {
		t.Errorf("open case changed: %+v", got)
	}
	if members := c.ZRange(ctx, prefix+"{case}:done", 0, -1).Val(); len(members) != 0 {
		t.Errorf("done index keeps %q", members)
	}
}

func TestPurgeBeforeMax(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	for i := range 5 {
		orig, r := newCase(fmt.Sprintf("PMAX-%04d", i), fmt.Sprintf("intake-max-%d", i))
		orig.Kind, r.Kind, orig.Status = bot.CaseRegistration, bot.CaseRegistration, bot.StatusRegistered
		mustCreate(t, s, orig, r)
	}
	if n, err := s.PurgeBefore(ctx, created.Add(time.Hour), 3); err != nil || n != 3 {
		t.Fatalf("purge max 3 = %d, %v", n, err)
	}
	if n, err := s.PurgeBefore(ctx, created.Add(time.Hour), 3); err != nil || n != 2 {
		t.Fatalf("purge the rest = %d, %v", n, err)
	}
	// A registration's cutoff is exclusive: created exactly at the cutoff stays.
	orig, r := newCase("PMAX-0009", "intake-max-9")
	orig.Kind, r.Kind, orig.Status = bot.CaseRegistration, bot.CaseRegistration, bot.StatusRegistered
	mustCreate(t, s, orig, r)
	if n, _ := s.PurgeBefore(ctx, created, 0); n != 0 {
		t.Errorf("purged a case created at the cutoff")
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	if got, err := s.AuditEntries(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty audit = %+v, %v", got, err)
	}
	var want []bot.AuditEntry
	for i, action := range []string{bot.AuditClaim, bot.AuditView, bot.AuditMessage, bot.AuditClose} {
		e := bot.AuditEntry{Day: "2026-03-0" + fmt.Sprint(i+1), Account: "anna", Case: "ABCD-EFGH", Action: action}
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	if got, err := s.AuditEntries(ctx, 0); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("all = %+v, %v\nwant %+v", got, err, want)
	}
	if got, _ := s.AuditEntries(ctx, 2); !reflect.DeepEqual(got, want[2:]) {
		t.Errorf("last 2 = %+v, want %+v", got, want[2:])
	}
	if typ := c.Type(ctx, prefix+"{desk}:audit").Val(); typ != "list" {
		t.Errorf("audit key type %q", typ)
	}
}
