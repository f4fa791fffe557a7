package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CmdCase is the command that shows the student's case and returns to its thread.
const CmdCase = "case"

// threadShown is how many of the latest thread messages /case repeats.
const threadShown = 10

// toCounsellor puts typed text into the case thread.
func (t *turn) toCounsellor(text string) error {
	if n := utf8.RuneCountInString(text); n > t.e.cfg.MaxText {
		t.say(msgTooLong, map[string]any{"max": t.e.cfg.MaxText})
		return nil
	}
	c, err := t.openCase()
	if err != nil || c == nil {
		return err
	}
	if err := t.e.cfg.Cases.AppendEntry(t.ctx, c.Code, Entry{
		At: t.e.cfg.Now().UTC(), From: FromStudent, Kind: EntryMessage,
		Text: t.e.cfg.Keys.Seal([]byte(text), entryContext(c.Code)),
		ID:   t.entryID(),
	}); err != nil {
		return fmt.Errorf("store message for the counsellor: %w", err)
	}
	if err := t.followStudent(c); err != nil {
		return err
	}
	t.say(msgCaseSent, t.data())
	return nil
}

// entryID names the thread entry this turn appends, the same each time the platform
// delivers the update again (see Entry.ID); "" when the channel gives no update ids (the
// web chat). It hashes the update id with the intake's random id, so it tells nothing.
func (t *turn) entryID() string {
	if t.in.UpdateID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(t.s.IntakeID + "\x00" + t.in.UpdateID))
	return hex.EncodeToString(sum[:8])
}

// openCase loads the session's case; a closed or vanished one ends thread mode with a
// message, and nil is returned.
func (t *turn) openCase() (*Case, error) {
	c, err := t.e.cfg.Cases.GetCase(t.ctx, t.s.CaseCode)
	if err != nil {
		return nil, fmt.Errorf("load case: %w", err)
	}
	if c == nil || c.Status == StatusClosed || c.Status == StatusWithdrawn {
		t.s.Thread = false
		t.say(msgCaseClosed, t.data())
		return nil, nil
	}
	return c, nil
}

// followStudent points the case's return address at the channel the student used last,
// so a counsellor's reply reaches them where they are now.
func (t *turn) followStudent(c *Case) error {
	if t.s.Reply.Outbox == "" {
		return nil
	}
	if addr, err := t.e.openAddress(c); err == nil && addr == t.s.Reply && !c.Unreachable {
		return nil
	}
	for attempt := 0; attempt < 5; attempt++ {
		c.ReturnAddr = t.e.sealAddress(c.Code, t.s.Reply)
		c.Unreachable = false // they wrote: they can be reached here again
		err := t.e.cfg.Cases.SaveCase(t.ctx, c)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if c, err = t.e.cfg.Cases.GetCase(t.ctx, c.Code); err != nil || c == nil {
			return err
		}
	}
	return fmt.Errorf("update return address: %w", ErrConflict)
}

// showCase answers /case: the code, the passphrase, the latest thread messages, and from
// now on typed text goes to the counsellor.
func (t *turn) showCase() error {
	if t.s.CaseCode == "" || t.s.Pass == "" {
		t.say(msgCaseNone, nil)
		return t.prompt(false)
	}
	c, err := t.openCase()
	if err != nil || c == nil {
		return err
	}
	entries, err := t.e.cfg.Cases.Entries(t.ctx, c.Code)
	if err != nil {
		return fmt.Errorf("read thread: %w", err)
	}
	var lines []string
	for _, e := range entries {
		if e.Kind != EntryMessage || len(e.Text) == 0 {
			continue
		}
		text, err := t.e.cfg.Keys.Open(e.Text, entryContext(c.Code))
		if err != nil {
			return fmt.Errorf("open thread entry: %w", err)
		}
		who := t.text1(msgCaseThreadStudent)
		if e.From == FromCounsellor {
			who = t.text1(msgCaseThreadCounsellor)
		}
		lines = append(lines, who+": "+string(text))
	}
	if len(lines) > threadShown {
		lines = lines[len(lines)-threadShown:]
	}
	t.s.Thread = true
	t.say(msgCaseShow, t.data())
	if len(lines) > 0 {
		t.out = append(t.out, Message{Text: strings.Join(lines, "\n\n")})
	}
	t.attach([]Button{{Label: t.text1(msgCaseBackToMenu), Data: "g:" + CmdStart}})
	return nil
}

// caseButton handles "c:<code>:<proposal>:<slot index or x>" from an appointment proposal.
// It is not tied to the question sequence: a proposal can be answered while the student
// is anywhere in the conversation, as long as it is still the open one.
func (t *turn) caseButton(data string) error {
	parts := strings.Split(data, ":")
	if len(parts) != 4 || parts[1] != t.s.CaseCode || t.s.CaseCode == "" {
		return t.stale()
	}
	var reply string
	var slot Slot
	id := t.entryID()
	for attempt := 0; ; attempt++ {
		c, err := t.openCase()
		if err != nil || c == nil {
			return err
		}
		// This very update answered the proposal already, but its turn ended before the
		// session was saved (a crash): it comes again and gets its answer again.
		again := c.Proposal == nil && id != "" && c.Answered == id
		if !again && (c.Proposal == nil || c.Proposal.ID != parts[2]) {
			t.say(msgCaseStale, t.data())
			return t.showCase()
		}
		entry := Entry{At: t.e.cfg.Now().UTC(), From: FromStudent, ID: id}
		switch {
		case parts[3] == "x":
			entry.Kind, reply = EntryDeclined, msgCaseDeclined
		case again:
			if c.Booked == nil {
				return t.stale()
			}
			slot = *c.Booked
		default:
			i, err := strconv.Atoi(parts[3])
			if err != nil || i < 0 || i >= len(c.Proposal.Slots) {
				return t.stale()
			}
			slot = c.Proposal.Slots[i]
			c.Booked = &slot
		}
		if entry.Kind == "" {
			entry.Kind, reply = EntryBooked, msgCaseBooked
			entry.Text = t.e.cfg.Keys.Seal([]byte(t.e.slotDay(t.lang(), slot)), entryContext(c.Code))
		}
		if !again {
			c.Proposal, c.Answered = nil, id
			err = t.e.cfg.Cases.SaveCase(t.ctx, c)
			if errors.Is(err, ErrConflict) && attempt < 5 {
				continue
			}
			if err != nil {
				return fmt.Errorf("answer proposal: %w", err)
			}
		}
		if err := t.e.cfg.Cases.AppendEntry(t.ctx, c.Code, entry); err != nil {
			return fmt.Errorf("store answer to proposal: %w", err)
		}
		break
	}
	d := t.data()
	d["slot"] = t.e.slotLabel(t.lang(), slot)
	t.say(reply, d)
	t.s.Thread = true
	return nil
}

var dutchDays = [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"}

// slotLabel is a slot as the student reads it, in office time: "di 1-12 10:00, telefonisch".
func (e *Engine) slotLabel(lang string, s Slot) string { return e.slotText(lang, s, true) }

// slotDay is a slot as the case thread records it, without the time of day: "di 1-12,
// telefonisch". The thread keeps days only; the exact time is in the open case's clock.
func (e *Engine) slotDay(lang string, s Slot) string { return e.slotText(lang, s, false) }

func (e *Engine) slotText(lang string, s Slot, clock bool) string {
	t := s.Start.In(e.cfg.Hours.Loc)
	form, err := e.Content().Catalog.Text(lang, "form."+s.Form, nil)
	if err != nil {
		form = formNames[s.Form]
	}
	at := ""
	if clock {
		at = " " + t.Format("15:04")
	}
	if lang == "nl" {
		return fmt.Sprintf("%s %d-%d%s, %s", dutchDays[t.Weekday()], t.Day(), int(t.Month()), at, form)
	}
	return fmt.Sprintf("%s %d %s%s, %s", t.Format("Mon"), t.Day(), t.Format("Jan"), at, form)
}

// Receipt limits: a case code gets at most receiptTries wrong passphrases per
// receiptWindow, wherever they come from, so a passphrase cannot be guessed online.
const (
	receiptTries  = 5
	receiptWindow = time.Hour
)

// reclaim links this conversation to the case of a receipt, so a student who started on
// Telegram, or on another device, reads and answers their counsellor here.
func (t *turn) reclaim(r Receipt) error {
	code := strings.ToUpper(strings.TrimSpace(r.Code))
	pass := strings.ToLower(strings.TrimSpace(r.Pass))
	fail := func() error {
		t.say(msgReceiptWrong, nil)
		return t.prompt(false)
	}
	if !caseCodePattern.MatchString(code) || pass == "" {
		return fail()
	}
	if t.e.cfg.Accounts != nil {
		// Count every attempt on the code; a right one resets nothing, so a code under
		// attack stays locked for the window even for its owner, who is told to wait.
		n, err := t.e.cfg.Accounts.CountFailure(t.ctx, "receipt:"+code, receiptWindow)
		if err != nil {
			return fmt.Errorf("count receipt attempts: %w", err)
		}
		if n > receiptTries {
			t.say(msgReceiptWait, nil)
			return t.prompt(false)
		}
	}
	c, err := t.e.cfg.Cases.GetCase(t.ctx, code)
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if c == nil || c.Kind != CaseHandoff || c.PassHash == "" || !CheckReceipt(c.PassHash, pass) {
		return fail()
	}
	if c.Status == StatusWithdrawn {
		return fail() // nothing is left of it, and nothing should say it existed
	}
	t.s.CaseCode, t.s.Pass = c.Code, pass
	if t.e.cfg.Accounts != nil {
		if err := t.e.cfg.Accounts.ResetFailures(t.ctx, "receipt:"+code); err != nil {
			return fmt.Errorf("reset receipt attempts: %w", err)
		}
	}
	if err := t.followStudent(c); err != nil {
		return err
	}
	return t.showCase()
}
