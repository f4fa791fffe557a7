package redis_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

var created = time.Date(2025, 3, 14, 22, 5, 0, 0, time.UTC)

// newCase returns a handoff with content to erase.
func newCase(code, intake string) (bot.Case, bot.Record) {
	c := bot.Case{
		Code:       code,
		IntakeID:   intake,
		Kind:       bot.CaseHandoff,
		Status:     bot.StatusPending,
		Channel:    "telegram",
		Lang:       "en",
		Fields:     map[string]string{"category": "stalking", "relation": "student_student"},
		Story:      []byte{0x00, 0xff, 0x10, 's', 'e', 'a', 'l', 'e', 'd'},
		ReturnAddr: []byte{0xde, 0xad, 0xbe, 0xef},
		Created:    created,
	}
	r := bot.Record{
		Year:    created.Year(),
		Month:   int(created.Month()),
		Channel: c.Channel,
		Kind:    c.Kind,
		Fields:  c.Fields,
	}
	return c, r
}

// recordField is the registry field of an intake, per the documented layout.
func recordField(intake string) string {
	sum := sha256.Sum256([]byte(intake))
	return hex.EncodeToString(sum[:])[:32]
}

// caseKeys lists the case keys (not intake, queue or registry keys) under prefix.
func caseKeys(t *testing.T, c goredis.UniversalClient, prefix string) []string {
	t.Helper()
	keys, err := c.Keys(t.Context(), prefix+"{case}:c:*").Result()
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	return keys
}

func TestCreateCaseIdempotent(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	want, r := newCase("K7Q2-M9XD", "intake-1")

	code, err := s.CreateCase(ctx, want, r)
	if err != nil || code != want.Code {
		t.Fatalf("create: got %q, %v; want %q", code, err, want.Code)
	}
	// A retried turn draws a new code but gets the first one back.
	retry, rr := newCase("ZZZZ-ZZZZ", "intake-1")
	code, err = s.CreateCase(ctx, retry, rr)
	if err != nil || code != want.Code {
		t.Fatalf("retry: got %q, %v; want %q", code, err, want.Code)
	}

	got, err := s.GetCase(ctx, want.Code)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("stored case = %+v, want %+v", got, want)
	}
	if keys := caseKeys(t, c, prefix); len(keys) != 1 {
		t.Errorf("case keys = %q, want one", keys)
	}
	if n := c.HLen(ctx, prefix+"{case}:reg:2025").Val(); n != 1 {
		t.Errorf("registry records = %d, want 1", n)
	}
	raw, err := c.HGet(ctx, prefix+"{case}:reg:2025", recordField("intake-1")).Result()
	if err != nil {
		t.Fatalf("registry record: %v", err)
	}
	var rec bot.Record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || !reflect.DeepEqual(rec, r) {
		t.Errorf("registry record = %+v (%v), want %+v", rec, err, r)
	}
	if pending, _ := s.PendingCases(ctx); !slices.Equal(pending, []string{want.Code}) {
		t.Errorf("pending = %q, want [%s]", pending, want.Code)
	}
}

func TestCreateCaseConcurrent(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	c2 := redistest.Another(t, c)
	stores := []*redis.Store{
		redis.New(c, redis.Options{Prefix: prefix}),
		redis.New(c2, redis.Options{Prefix: prefix}),
	}
	const n = 20
	codes := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cs, r := newCase(fmt.Sprintf("CODE-%04d", i), "same-intake")
			codes[i], errs[i] = stores[i%2].CreateCase(t.Context(), cs, r)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if codes[i] != codes[0] {
			t.Errorf("create %d: code %q, want %q like the first", i, codes[i], codes[0])
		}
	}
	if keys := caseKeys(t, c, prefix); len(keys) != 1 {
		t.Errorf("case keys = %q, want one", keys)
	}
	if n := c.HLen(t.Context(), prefix+"{case}:reg:2025").Val(); n != 1 {
		t.Errorf("registry records = %d, want 1", n)
	}
	if n := c.ZCard(t.Context(), prefix+"{case}:pending").Val(); n != 1 {
		t.Errorf("pending = %d, want 1", n)
	}
}

func TestCreateCaseQueue(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()

	// Created out of order: the queue sorts by creation time, not by arrival.
	cases := []struct {
		code, kind string
		created    time.Time
	}{
		{"LATE-0001", bot.CaseHandoff, created.Add(2 * time.Hour)},
		{"REGI-0001", bot.CaseRegistration, created.Add(-time.Hour)},
		{"EARL-0001", bot.CaseHandoff, created},
		{"MIDD-0001", bot.CaseHandoff, created.Add(time.Hour)},
	}
	for _, cs := range cases {
		c, r := newCase(cs.code, "intake-"+cs.code)
		c.Kind, r.Kind, c.Created = cs.kind, cs.kind, cs.created
		if _, err := s.CreateCase(ctx, c, r); err != nil {
			t.Fatalf("create %s: %v", cs.code, err)
		}
	}
	pending, err := s.PendingCases(ctx)
	if err != nil {
		t.Fatalf("pending: %v", err)
	}
	if want := []string{"EARL-0001", "MIDD-0001", "LATE-0001"}; !slices.Equal(pending, want) {
		t.Errorf("pending = %q, want %q (registrations never queue)", pending, want)
	}
	// A registration is still stored, with its record.
	if got, err := s.GetCase(ctx, "REGI-0001"); err != nil || got == nil || got.Kind != bot.CaseRegistration {
		t.Errorf("registration case = %+v, %v", got, err)
	}
}

func TestCreateCaseCodeTaken(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	first, r := newCase("SAME-CODE", "intake-a")
	if _, err := s.CreateCase(ctx, first, r); err != nil {
		t.Fatalf("create: %v", err)
	}
	second, r2 := newCase("SAME-CODE", "intake-b")
	second.Story = []byte("other")
	if _, err := s.CreateCase(ctx, second, r2); !errors.Is(err, bot.ErrCodeTaken) {
		t.Fatalf("create with a taken code: got %v, want ErrCodeTaken", err)
	}
	if got, _ := s.GetCase(ctx, "SAME-CODE"); got == nil || got.IntakeID != "intake-a" {
		t.Errorf("first case overwritten: %+v", got)
	}
	if n := c.Exists(ctx, prefix+"{case}:i:intake-b").Val(); n != 0 {
		t.Error("the refused intake was recorded")
	}
	if n := c.HLen(ctx, prefix+"{case}:reg:2025").Val(); n != 1 {
		t.Errorf("registry records = %d, want 1", n)
	}
}

func TestCreateCaseInvalid(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})

	tests := []struct {
		name   string
		change func(*bot.Case, *bot.Record)
	}{
		{"no code", func(c *bot.Case, _ *bot.Record) { c.Code = "" }},
		{"no intake", func(c *bot.Case, _ *bot.Record) { c.IntakeID = "" }},
		{"unknown kind", func(c *bot.Case, _ *bot.Record) { c.Kind = "complaint" }},
		{"no time", func(c *bot.Case, _ *bot.Record) { c.Created = time.Time{} }},
		{"no year", func(_ *bot.Case, r *bot.Record) { r.Year = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, r := newCase("BAD0-0001", "intake-bad")
			tt.change(&cs, &r)
			if _, err := s.CreateCase(t.Context(), cs, r); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if keys := c.Keys(t.Context(), prefix+"*").Val(); len(keys) != 0 {
		t.Errorf("invalid cases wrote keys %q", keys)
	}
}

func TestWithdrawCase(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	// The fields go through the script's JSON decode and encode; an empty or missing map
	// must come back readable on every server.
	tests := []struct {
		name   string
		kind   string
		fields map[string]string
	}{
		{"handoff", bot.CaseHandoff, map[string]string{"category": "other", "gender": "not_said"}},
		{"registration", bot.CaseRegistration, map[string]string{"category": "bullying"}},
		{"no fields", bot.CaseHandoff, nil},
		{"empty fields", bot.CaseHandoff, map[string]string{}},
		{"awkward text", bot.CaseHandoff, map[string]string{"category": `"quoted" / <tag> & ü 😀`}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("WDRW-%04d", i)
			orig, r := newCase(code, "intake-"+code)
			orig.Kind, r.Kind, orig.Fields = tt.kind, tt.kind, tt.fields
			if _, err := s.CreateCase(ctx, orig, r); err != nil {
				t.Fatalf("create: %v", err)
			}
			if err := s.WithdrawCase(ctx, code); err != nil {
				t.Fatalf("withdraw: %v", err)
			}

			got, err := s.GetCase(ctx, code)
			if err != nil || got == nil {
				t.Fatalf("get after withdraw: %+v, %v", got, err)
			}
			want := orig
			want.Story, want.ReturnAddr, want.Status = nil, nil, bot.StatusWithdrawn
			if len(want.Fields) == 0 {
				want.Fields = nil
			}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("withdrawn case = %+v, want %+v", got, want)
			}
			if pending, _ := s.PendingCases(ctx); slices.Contains(pending, code) {
				t.Error("withdrawn case still pending")
			}
			if ok := c.HExists(ctx, prefix+"{case}:reg:2025", recordField(orig.IntakeID)).Val(); !ok {
				t.Error("registry record gone")
			}
			// Twice is fine (forget may run again after a crash).
			if err := s.WithdrawCase(ctx, code); err != nil {
				t.Errorf("withdraw again: %v", err)
			}
		})
	}

	if err := s.WithdrawCase(ctx, "NONE-0000"); err != nil {
		t.Errorf("withdraw a missing case: %v", err)
	}
	if got, err := s.GetCase(ctx, "NONE-0000"); got != nil || err != nil {
		t.Errorf("get a missing case: %+v, %v; want nil, nil", got, err)
	}
	if keys := caseKeys(t, c, prefix); len(keys) != len(tests) {
		t.Errorf("case keys = %q, want %d (withdraw creates none)", keys, len(tests))
	}
}
