package bot

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"intake/flows"
)

// codeAlphabet has 32 symbols (5 bits each) and leaves out 0/O and 1/I, so a code read
// aloud or copied by hand survives.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewCaseCode returns a code like K7Q2-M9XD: 8 symbols, 40 random bits, short enough to
// read aloud on the phone to a counsellor.
func NewCaseCode() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	var sb strings.Builder
	for i, x := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[x&31]) // 256 is a multiple of 32: no bias
	}
	return sb.String()
}

// action runs a node's `do`.
func (t *turn) action(name string) error {
	switch name {
	case flows.ActionRegister:
		return t.store(CaseRegistration)
	case flows.ActionHandoff:
		return t.store(CaseHandoff)
	case flows.ActionEnd:
		t.s.Done = true
		return nil
	}
	return fmt.Errorf("flow %s: unknown action %q", t.flow.ID, name)
}

// sealAddress seals where the student can be reached, bound to the case.
func (e *Engine) sealAddress(code string, a Address) []byte {
	plain, _ := json.Marshal(a) // a struct of strings always encodes
	return e.cfg.Keys.Seal(plain, sealContext(SealedAddress, code))
}

// store hands the intake over. The store keeps one case per intake, so a turn retried
// after a crash gets the code of the first try and nothing is counted twice. History is
// cleared: going back past a stored case would suggest the answers can still change it.
func (t *turn) store(kind string) error {
	code := NewCaseCode()
	fields := map[string]string{}
	var story string
	for _, v := range flows.Schema {
		val, ok := t.answer(v)
		switch {
		case !ok:
		case v.Text:
			story = val
		default:
			fields[v.Name] = val
		}
	}
	// The registry counts in the team's own calendar: a report at 00:30 on 1 January in
	// Maastricht belongs to the new year.
	now := t.e.cfg.Now().In(t.e.cfg.Hours.Loc)
	status := StatusPending
	if kind == CaseRegistration {
		status = StatusRegistered
	}
	c := Case{
		Code: code, IntakeID: t.s.IntakeID, Kind: kind, Status: status,
		Channel: t.s.Channel, Lang: t.s.Lang, Fields: fields, Created: now.UTC(),
	}
	c.Urgent = t.caseUrgency(fields)
	pass := ""
	if kind == CaseHandoff {
		pass = NewPassphrase()
		c.PassHash = HashReceipt(pass)
	}
	seal := func() {
		if story != "" {
			c.Story = t.e.cfg.Keys.Seal([]byte(story), sealContext(SealedStory, c.Code))
		}
		if t.s.Reply.Outbox != "" && kind == CaseHandoff {
			c.ReturnAddr = t.e.sealAddress(c.Code, t.s.Reply)
		}
	}
	seal()
	r := Record{Year: now.Year(), Month: int(now.Month()), Channel: t.s.Channel, Kind: kind, Fields: fields}
	stored, err := t.e.cfg.Cases.CreateCase(t.ctx, c, r)
	for tries := 1; errors.Is(err, ErrCodeTaken) && tries < 5; tries++ {
		c.Code = NewCaseCode()
		seal()
		stored, err = t.e.cfg.Cases.CreateCase(t.ctx, c, r)
	}
	if err != nil {
		return fmt.Errorf("store case: %w", err)
	}
	if stored != c.Code && kind == CaseHandoff {
		// A turn retried after a crash got the first try's case back. That try's
		// passphrase was never shown, so this one replaces it.
		if err := t.e.replacePassHash(t.ctx, stored, c.PassHash); err != nil {
			return err
		}
	}
	t.s.CaseCode, t.s.Pass = stored, pass
	if kind == CaseHandoff {
		t.s.Thread = true
	}
	t.s.History = nil
	return nil
}

func (e *Engine) replacePassHash(ctx context.Context, code, hash string) error {
	for attempt := 0; attempt < 5; attempt++ {
		c, err := e.cfg.Cases.GetCase(ctx, code)
		if err != nil || c == nil {
			return fmt.Errorf("reload case: %w", err)
		}
		c.PassHash = hash
		err = e.cfg.Cases.SaveCase(ctx, c)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("replace passphrase: %w", ErrConflict)
}
