package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Urgency reasons: why a case goes to the top of the queue. The desk shows the rule, never
// the words that triggered it.
const (
	UrgentCrisis         = "crisis_signal"          // free text matched the crisis phrases
	UrgentUnsafe         = "student_not_safe"       // the student answered they are not safe
	UrgentRecentSV       = "recent_sexual_violence" // sexual violence in the last days
	UrgentStudentAnswer  = "student_says_urgent"    // the student asked for help soon
	urgentReannounceWait = time.Hour                // urgent cases are announced again this often
)

// Commands behind the safety buttons of a crisis reply; not listed in the help.
const (
	cmdSafe   = "safe"
	cmdUnsafe = "unsafe"
)

// crisisSignal reports whether text signals acute danger or suicidal thoughts.
func (e *Engine) crisisSignal(text string) bool {
	c := e.Content().Crisis
	return c != nil && c.Match(text)
}

// crisis answers a crisis signal before anything else the turn says: the 24/7 numbers and
// whether they are safe right now. The turn then goes on as usual, so nothing the student
// wrote is lost, and the conversation continues where it was.
func (t *turn) crisis() {
	if m, err := t.e.crisisReply(t.log, t.lang()); err != nil {
		t.log.Error("message not rendered", "id", msgCrisis, "lang", t.lang(), "err", err)
	} else {
		t.out = append([]Message{m}, t.out...)
	}
	t.markUrgent(UrgentCrisis)
}

// crisisReply is the reply to a crisis signal in lang: the 24/7 numbers, and whether they
// are safe right now with a button for each answer. A label that cannot be rendered leaves
// its button out, never the numbers.
func (e *Engine) crisisReply(log *slog.Logger, lang string) (Message, error) {
	cat := e.Content().Catalog
	text, err := cat.Text(lang, msgCrisis, e.numbersData())
	if err != nil {
		return Message{}, err
	}
	m := Message{Text: text}
	for _, b := range []struct{ label, cmd string }{{msgCrisisSafe, cmdSafe}, {msgCrisisUnsafe, cmdUnsafe}} {
		label, err := cat.Text(lang, b.label, nil)
		if err != nil {
			log.Error("label not rendered", "id", b.label, "lang", lang, "err", err)
			continue
		}
		m.Buttons = append(m.Buttons, Button{Label: label, Data: "g:" + b.cmd})
	}
	return m, nil
}

// markUrgent records an urgency reason in the session, and on the case when there is one.
func (t *turn) markUrgent(reason string) {
	if !slices.Contains(t.s.Urgent, reason) {
		t.s.Urgent = append(t.s.Urgent, reason)
	}
	if t.s.CaseCode == "" {
		return
	}
	if err := t.e.markCaseUrgent(t.ctx, t.s.CaseCode, reason); err != nil {
		// The student's reply matters more than the flag: log it and go on.
		t.log.Error("case not marked urgent", "reason", reason, "err", err)
	}
}

// markCaseUrgent flags an open case and announces it at once.
func (e *Engine) markCaseUrgent(ctx context.Context, code, reason string) error {
	for attempt := 0; attempt < 5; attempt++ {
		c, err := e.cfg.Cases.GetCase(ctx, code)
		if err != nil || c == nil || (c.Status != StatusPending && c.Status != StatusClaimed) {
			return err
		}
		if slices.Contains(c.Urgent, reason) {
			return nil
		}
		c.Urgent = append(c.Urgent, reason)
		c.Announced = e.cfg.Now().UTC()
		err = e.cfg.Cases.SaveCase(ctx, c)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if a, ok := announcementsOf(e.cfg.Cases); ok && c.Status == StatusPending {
			return a.Announce(ctx, Announcement{Code: code, Reason: "urgent"})
		}
		return nil
	}
	return fmt.Errorf("mark case urgent: %w", ErrConflict)
}

// safety answers the crisis reply's buttons.
func (t *turn) safety(safe bool) error {
	if safe {
		t.say(msgCrisisGlad, nil)
	} else {
		t.markUrgent(UrgentUnsafe)
		t.say(crisisCallID(t.s.CaseCode != ""), t.e.numbersData())
	}
	return t.prompt(false)
}

// crisisCallID is the message for a student who is not safe: it promises that a counsellor
// sees their report first only when there is a report.
func crisisCallID(hasCase bool) string {
	if hasCase {
		return msgCrisisCall
	}
	return msgCrisisCallNoCase
}

// caseUrgency is every reason a new case is urgent: what the session saw, and the rules on
// the answers.
func (t *turn) caseUrgency(fields map[string]string) []string {
	reasons := slices.Clone(t.s.Urgent)
	add := func(r string) {
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if fields["category"] == "sexual_violence" && fields["when"] == "recent" {
		add(UrgentRecentSV)
	}
	if fields["urgent"] == "yes" {
		add(UrgentStudentAnswer)
	}
	return reasons
}
