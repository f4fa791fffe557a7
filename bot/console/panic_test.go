package console_test

import (
	"context"
	"strings"
	"testing"

	"intake/bot/bottest"
	"intake/bot/console"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestPanickingTurnLeaksNothing: in `intake chat`, a turn that panics while the story is
// being stored prints the calm error with the emergency number, the same answer again
// then sends the report, and the story, username, phone number and IP address the student
// typed (nor their SHA-256) are in neither the error, the debug log nor Redis.
func TestPanickingTurnLeaksNothing(t *testing.T) {
	const (
		username = "canary_username_q7"
		phone    = "+31687654321"
		story    = "CANARY my supervisor locked the door of room 4.021"
		ip       = "203.0.113.77"
	)
	canaries := bottest.NewCanaries(username, phone, story, ip)
	client, prefix := redistest.Client(t)
	store := &bottest.PanickyStore{Store: redis.New(client, redis.Options{Prefix: prefix})}
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(t, store, log)
	label := func(id string) string {
		s, err := e.Content().Catalog.Text("en", id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	confirm := label("summary.confirm_talk")
	lines := []string{label("menu.report"), label("category.stalking"), label("relation.student_student"), label("reporter.self"),
		story + ". I am " + username + ", call me on " + phone + " from " + ip + ".",
		label("profile.no"), label("outcome.advice"), label("contact.chat"), label("urgency.no"), confirm, confirm}

	var screen strings.Builder
	c := console.New(e, "console-panic", "en", &screen, true)
	var errs []string
	c.Errors = func(err error) { errs = append(errs, err.Error()) }
	store.Arm(canaries.Panic()) // the first case call is storing the report
	if err := c.Run(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n")); err != nil {
		t.Fatal(err)
	}

	_, answer, _ := strings.Cut(screen.String(), "you> "+confirm+"\n")
	answer, _, _ = strings.Cut(answer, "you> ")
	if !strings.Contains(answer, label("engine.error")) || !strings.Contains(answer, "112") {
		t.Errorf("the answer to the panicking turn is not the calm error with 112:\n%s", answer)
	}
	if !strings.Contains(screen.String(), "Your case code") {
		t.Errorf("the report was not sent the second time:\n%s", screen.String())
	}
	if len(errs) != 1 {
		t.Errorf("errors %q, want the one of the panicking turn", errs)
	}
	canaries.Check(t, "the answer to the panicking turn", answer)
	canaries.Check(t, "the errors", strings.Join(errs, "\n"))
	canaries.Check(t, "the log", logs.String())
	canaries.CheckRedis(t, client, prefix)
}
