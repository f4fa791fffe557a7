package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
)

// failingAudit refuses every entry.
type failingAudit struct{}

func (failingAudit) Audit(context.Context, bot.AuditEntry) error { return errors.New("audit down") }

// TestDeskAudit checks that claim, message and close each write one audit entry naming the
// account, the case and the day, and nothing of what the student or counsellor wrote.
func TestDeskAudit(t *testing.T) {
	ctx := context.Background()
	e, store := newEngine(t)
	bottest.Desk(t, e, store, "anna")                    // the accounts
	now := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC) // 00:30 on 3 March in Amsterdam
	d := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e,
		Keys: bottest.Keys(t), Audit: store, Now: func() time.Time { return now }})
	anna := account(t, d, "anna")
	s := newStudent(t, e, "en")
	const story, message = "He keeps messaging me at night.", "Are you safe right now?"
	code := handoff(t, s, story)

	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, anna, code, message); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(ctx, anna, code, "advice", ""); err != nil {
		t.Fatal(err)
	}
	// A refused action writes nothing.
	if err := d.Send(ctx, anna, code, "after close"); !errors.Is(err, bot.ErrCaseClosed) {
		t.Fatalf("send after close: %v", err)
	}

	got, err := store.AuditEntries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.AuditEntry{
		{Day: "2026-03-03", Account: "anna", Case: code, Action: bot.AuditClaim},
		{Day: "2026-03-03", Account: "anna", Case: code, Action: bot.AuditMessage},
		{Day: "2026-03-03", Account: "anna", Case: code, Action: bot.AuditClose},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("audit = %+v\nwant %+v", got, want)
	}
	if last, _ := store.AuditEntries(ctx, 1); len(last) != 1 || last[0] != want[2] {
		t.Errorf("last entry = %+v, want %+v", last, want[2])
	}
	for _, e := range got {
		for _, text := range []string{story, message, "messaging", "safe"} {
			if strings.Contains(e.Day+e.Account+e.Case+e.Action, text) {
				t.Errorf("audit entry %+v holds content %q", e, text)
			}
		}
	}

	// Reading the content of a claimed case is a view; a failed audit write does not fail
	// the action.
	d2 := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e,
		Keys: bottest.Keys(t), Audit: failingAudit{}, Logger: slog.New(slog.DiscardHandler)})
	s2 := newStudent(t, e, "en")
	s2.key += "-2"
	code2 := handoff(t, s2, story)
	if err := d2.Claim(ctx, anna, code2); err != nil {
		t.Fatalf("claim with a failing audit log: %v", err)
	}
	if _, err := d.Case(ctx, anna, code2); err != nil {
		t.Fatal(err)
	}
	if last, _ := store.AuditEntries(ctx, 1); len(last) != 1 || last[0].Action != bot.AuditView || last[0].Case != code2 {
		t.Errorf("view not audited: %+v", last)
	}
}
