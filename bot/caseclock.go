package bot

import (
	"context"
	"encoding/json"
	"time"
)

// Precise times are kept only where something needs them, and only while it does. An open
// case needs the moment it arrived (waiting time in office hours, overdue marking,
// re-announcing), when it was claimed and last announced, and its appointment times: those
// live sealed in the case's Clock. Whatever the store keeps in clear is a day: the day a
// case arrived and was closed, the day of each thread entry. When a case is closed its clock
// is dropped: the days stay, the booked appointment keeps only its day, and the times
// nothing needs any more (claimed, announced) are gone. The store orders its queue by a
// sequence number of its own, not by time.

// caseClock is what the sealed Clock of an open case holds.
type caseClock struct {
	Created   time.Time `json:"created"`
	Claimed   time.Time `json:"claimed,omitzero"`
	Announced time.Time `json:"announced,omitzero"`
	Proposal  *Proposal `json:"proposal,omitempty"`
	Booked    *Slot     `json:"booked,omitempty"`
}

// clockedCases is the case store as the engine and the desk use it: every case is written
// with its times cut to the day and an open case's exact times sealed in its Clock, every
// thread entry with only its day, and every case read has its exact times back while it is
// open. So no caller can store a time of day in clear by forgetting to cut it.
type clockedCases struct {
	CaseStore
	keys  *Keyring
	hours OfficeHours
}

// withClock wraps s once; without keys there is nothing to seal with, and s is returned.
func withClock(s CaseStore, keys *Keyring, hours OfficeHours) CaseStore {
	if _, done := s.(*clockedCases); done || s == nil || keys == nil {
		return s
	}
	return &clockedCases{CaseStore: s, keys: keys, hours: hours}
}

// announcementsOf returns the announcement stream of a case store that has one.
func announcementsOf(s CaseStore) (Announcements, bool) {
	if c, ok := s.(*clockedCases); ok {
		s = c.CaseStore
	}
	a, ok := s.(Announcements)
	return a, ok
}

// stored is c as it is written: days in clear, exact times sealed while it is open.
func (s *clockedCases) stored(c Case) Case {
	if c.Status == StatusPending || c.Status == StatusClaimed {
		plain, _ := json.Marshal(caseClock{ // times and slots always encode
			Created: c.Created, Claimed: c.ClaimedAt, Announced: c.Announced,
			Proposal: c.Proposal, Booked: c.Booked,
		})
		c.Clock = s.keys.Seal(plain, sealContext(SealedClock, c.Code))
		c.Proposal, c.Booked = nil, nil
	} else {
		c.Clock, c.Proposal = nil, nil
		if c.Booked != nil {
			b := *c.Booked
			b.Start = s.hours.Day(b.Start)
			c.Booked = &b
		}
	}
	c.Created, c.ClosedAt = s.hours.Day(c.Created), s.hours.Day(c.ClosedAt)
	c.ClaimedAt, c.Announced = time.Time{}, time.Time{}
	return c
}

// reveal puts an open case's exact times back from its Clock. A clock that cannot be
// opened (its key is gone) leaves the days, which are still right, only coarser: the queue
// must not fail for everyone because of one case.
func (s *clockedCases) reveal(c *Case) {
	if len(c.Clock) == 0 {
		return
	}
	plain, err := s.keys.Open(c.Clock, sealContext(SealedClock, c.Code))
	var k caseClock
	if err == nil && json.Unmarshal(plain, &k) == nil {
		c.Created, c.ClaimedAt, c.Announced = k.Created, k.Claimed, k.Announced
		c.Proposal, c.Booked = k.Proposal, k.Booked
	}
	c.Clock = nil
}

func (s *clockedCases) CreateCase(ctx context.Context, c Case, r Record) (string, error) {
	return s.CaseStore.CreateCase(ctx, s.stored(c), r)
}

func (s *clockedCases) GetCase(ctx context.Context, code string) (*Case, error) {
	c, err := s.CaseStore.GetCase(ctx, code)
	if c != nil {
		s.reveal(c)
	}
	return c, err
}

func (s *clockedCases) SaveCase(ctx context.Context, c *Case) error {
	out := s.stored(*c)
	err := s.CaseStore.SaveCase(ctx, &out)
	c.Rev = out.Rev
	return err
}

func (s *clockedCases) OpenCases(ctx context.Context) ([]*Case, error) {
	cases, err := s.CaseStore.OpenCases(ctx)
	for _, c := range cases {
		s.reveal(c)
	}
	return cases, err
}

func (s *clockedCases) AppendEntry(ctx context.Context, code string, e Entry) error {
	e.At = s.hours.Day(e.At)
	return s.CaseStore.AppendEntry(ctx, code, e)
}
