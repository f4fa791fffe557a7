package bot

import (
	"crypto/rand"
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
	now := t.e.cfg.Now()
	c := Case{
		Code: code, IntakeID: t.s.IntakeID, Kind: kind, Status: StatusPending,
		Channel: t.s.Channel, Lang: t.s.Lang, Fields: fields,
		ReturnAddr: t.s.ReturnAddr, Created: now.UTC(),
	}
	if story != "" {
		c.Story = t.e.cfg.Keys.Seal([]byte(story), []byte("story:"+code))
	}
	r := Record{Year: now.Year(), Month: int(now.Month()), Channel: t.s.Channel, Kind: kind, Fields: fields}
	stored, err := t.e.cfg.Cases.CreateCase(t.ctx, c, r)
	for tries := 1; errors.Is(err, ErrCodeTaken) && tries < 5; tries++ {
		c.Code = NewCaseCode()
		if c.Story != nil {
			c.Story = t.e.cfg.Keys.Seal([]byte(story), []byte("story:"+c.Code))
		}
		stored, err = t.e.cfg.Cases.CreateCase(t.ctx, c, r)
	}
	if err != nil {
		return fmt.Errorf("store case: %w", err)
	}
	t.s.CaseCode = stored
	t.s.History = nil
	return nil
}
