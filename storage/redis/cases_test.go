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
	"sync/atomic"
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
	return redistest.Keys(t, c, prefix+"{case}:c:*")
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

	// The queue is in the order the cases arrived, whatever their clock says: the store
	// orders it by a sequence of its own, not by a time it would have to keep in clear.
	cases := []struct {
		code, kind string
		created    time.Time
	}{
		{"EARL-0001", bot.CaseHandoff, created.Add(2 * time.Hour)},
		{"REGI-0001", bot.CaseRegistration, created.Add(-time.Hour)},
		{"MIDD-0001", bot.CaseHandoff, created},
		{"LATE-0001", bot.CaseHandoff, created.Add(time.Hour)},
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
	if keys := redistest.Keys(t, c, prefix+"*"); len(keys) != 0 {
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
			want.Rev = 1 // a desk action holding the case from before must conflict
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
			// Twice is fine (forget may run again after a crash), and changes nothing.
			if err := s.WithdrawCase(ctx, code); err != nil {
				t.Errorf("withdraw again: %v", err)
			}
			if again, _ := s.GetCase(ctx, code); !reflect.DeepEqual(again, got) {
				t.Errorf("withdrawn twice = %+v, want %+v", again, got)
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

// indexed reports whether code is in the pending and in the open index.
func indexed(t *testing.T, c goredis.UniversalClient, prefix, code string) (pending, open bool) {
	t.Helper()
	ctx := t.Context()
	in := func(key string) bool {
		err := c.ZScore(ctx, key, code).Err()
		if err != nil && !errors.Is(err, goredis.Nil) {
			t.Fatalf("zscore %s: %v", key, err)
		}
		return err == nil
	}
	return in(prefix + "{case}:pending"), in(prefix + "{case}:open")
}

// mustCreate stores a case and returns it as the store has it (with its revision).
func mustCreate(t *testing.T, s *redis.Store, c bot.Case, r bot.Record) *bot.Case {
	t.Helper()
	if _, err := s.CreateCase(t.Context(), c, r); err != nil {
		t.Fatalf("create %s: %v", c.Code, err)
	}
	got, err := s.GetCase(t.Context(), c.Code)
	if err != nil || got == nil {
		t.Fatalf("get %s: %+v, %v", c.Code, got, err)
	}
	return got
}

// claim marks c claimed by who, as the desk does.
func claim(c *bot.Case, who string) {
	c.Status, c.Counsellor, c.ClaimedAt = bot.StatusClaimed, who, created.Add(time.Hour)
}

func TestSaveCaseConflict(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, r := newCase("CAS0-0001", "intake-cas")
	fresh := mustCreate(t, s, cs, r)
	stale := *fresh

	claim(fresh, "anna")
	if err := s.SaveCase(ctx, fresh); err != nil {
		t.Fatalf("save: %v", err)
	}
	if fresh.Rev != 1 {
		t.Errorf("rev after save = %d, want 1", fresh.Rev)
	}
	before := redistest.Dump(t, c, prefix)

	claim(&stale, "bram")
	if err := s.SaveCase(ctx, &stale); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("save with a stale revision: got %v, want ErrConflict", err)
	}
	if stale.Rev != 0 {
		t.Errorf("a refused save changed the caller's rev to %d", stale.Rev)
	}
	if after := redistest.Dump(t, c, prefix); !reflect.DeepEqual(after, before) {
		t.Errorf("a refused save wrote:\n before %q\n after  %q", before, after)
	}
	got, err := s.GetCase(ctx, cs.Code)
	if err != nil || !reflect.DeepEqual(got, fresh) {
		t.Errorf("stored = %+v, %v; want the first save %+v", got, err, fresh)
	}
}

func TestSaveCaseRefused(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	live, r := newCase("LIVE-0001", "intake-live")
	mustCreate(t, s, live, r)
	gone, gr := newCase("GONE-0001", "intake-gone")
	mustCreate(t, s, gone, gr)
	if err := s.WithdrawCase(ctx, gone.Code); err != nil {
		t.Fatalf("withdraw: %v", err)
	}

	tests := []struct {
		name string
		c    func() *bot.Case
	}{
		{"never created", func() *bot.Case {
			c, _ := newCase("NONE-0001", "intake-none")
			return &c
		}},
		{"withdrawn", func() *bot.Case {
			// Read after the withdrawal, so the revision matches: still refused.
			c, _ := s.GetCase(ctx, gone.Code)
			claim(c, "anna")
			return c
		}},
		{"withdrawn by save", func() *bot.Case {
			c, _ := s.GetCase(ctx, live.Code)
			c.Status = bot.StatusWithdrawn
			return c
		}},
		{"unknown status", func() *bot.Case {
			c, _ := s.GetCase(ctx, live.Code)
			c.Status = "archived"
			return c
		}},
		{"no code", func() *bot.Case {
			c, _ := s.GetCase(ctx, live.Code)
			c.Code = ""
			return c
		}},
		{"nil", func() *bot.Case { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := tt.c()
			before := redistest.Dump(t, c, prefix)
			err := s.SaveCase(ctx, cs)
			if err == nil || errors.Is(err, bot.ErrConflict) {
				t.Fatalf("got %v, want an error other than ErrConflict (reading again would not help)", err)
			}
			if after := redistest.Dump(t, c, prefix); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused save wrote:\n before %q\n after  %q", before, after)
			}
		})
	}
}

// TestSaveCaseClaimRace runs the desk's claim from many counsellors at once on two
// replicas: exactly one claim wins and the case names its counsellor.
func TestSaveCaseClaimRace(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	c2 := redistest.Another(t, c)
	stores := []*redis.Store{
		redis.New(c, redis.Options{Prefix: prefix}),
		redis.New(c2, redis.Options{Prefix: prefix}),
	}
	cs, r := newCase("RACE-0001", "intake-race")
	mustCreate(t, stores[0], cs, r)

	// Every claim reads the case before any saves, so all of them race for one revision.
	const n = 40
	won := make([]bool, n)
	errs := make([]error, n)
	var conflicts atomic.Int64
	var read, wg sync.WaitGroup
	save := make(chan struct{})
	read.Add(n)
	for i := range n {
		wg.Go(func() {
			s := stores[i%2]
			got, err := s.GetCase(t.Context(), cs.Code)
			read.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-save
			if got.Status != bot.StatusPending {
				errs[i] = fmt.Errorf("read status %q before any claim", got.Status)
				return
			}
			claim(got, fmt.Sprintf("counsellor-%02d", i))
			switch err := s.SaveCase(t.Context(), got); {
			case err == nil:
				won[i] = true
			case errors.Is(err, bot.ErrConflict):
				conflicts.Add(1)
			default:
				errs[i] = err
			}
		})
	}
	read.Wait()
	close(save)
	wg.Wait()

	var winners []int
	for i := range n {
		if errs[i] != nil {
			t.Errorf("claim %d: %v", i, errs[i])
		}
		if won[i] {
			winners = append(winners, i)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	if got := conflicts.Load(); got != n-1 {
		t.Errorf("%d claims lost on a revision conflict, want %d", got, n-1)
	}
	got, err := stores[1].GetCase(t.Context(), cs.Code)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if want := fmt.Sprintf("counsellor-%02d", winners[0]); got.Counsellor != want || got.Status != bot.StatusClaimed || got.Rev != 1 {
		t.Errorf("case = %s by %q rev %d, want claimed by %q rev 1", got.Status, got.Counsellor, got.Rev, want)
	}
	if pending, open := indexed(t, c, prefix, cs.Code); pending || !open {
		t.Errorf("indexes pending=%v open=%v, want false true", pending, open)
	}
}

func TestSaveCaseIndexes(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	first, fr := newCase("IDX0-0000", "intake-idx0")
	mustCreate(t, s, first, fr)
	cs, r := newCase("IDX0-0001", "intake-idx")
	mustCreate(t, s, cs, r)
	score := c.ZScore(ctx, prefix+"{case}:open", cs.Code).Val()
	if score <= c.ZScore(ctx, prefix+"{case}:open", first.Code).Val() {
		t.Fatalf("a later case scored %v, not after the first one", score)
	}
	if score > 1e6 {
		t.Fatalf("open score %v looks like a time, not a sequence number", score)
	}

	steps := []struct {
		name              string
		change            func(*bot.Case)
		wantPending, open bool
	}{
		{"created", nil, true, true},
		{"claimed", func(c *bot.Case) { claim(c, "anna") }, false, true},
		{"released", func(c *bot.Case) { c.Status, c.Counsellor = bot.StatusPending, "" }, true, true},
		{"claimed again", func(c *bot.Case) { claim(c, "bram") }, false, true},
		{"closed", func(c *bot.Case) { c.Status, c.FollowUp = bot.StatusClosed, "guidance" }, false, false},
	}
	for i, st := range steps {
		if st.change != nil {
			got, err := s.GetCase(ctx, cs.Code)
			if err != nil {
				t.Fatalf("%s: get: %v", st.name, err)
			}
			st.change(got)
			if err := s.SaveCase(ctx, got); err != nil {
				t.Fatalf("%s: save: %v", st.name, err)
			}
			if got.Rev != i {
				t.Errorf("%s: rev %d, want %d", st.name, got.Rev, i)
			}
		}
		pending, open := indexed(t, c, prefix, cs.Code)
		if pending != st.wantPending || open != st.open {
			t.Errorf("%s: pending=%v open=%v, want %v %v", st.name, pending, open, st.wantPending, st.open)
		}
		// The indexes keep the case's place in the queue, whatever happened since.
		for key, in := range map[string]bool{"pending": pending, "open": open} {
			if got := c.ZScore(ctx, prefix+"{case}:"+key, cs.Code).Val(); in && got != score {
				t.Errorf("%s: %s score %v, want %v", st.name, key, got, score)
			}
		}
	}

	// A registration is never queued, whatever its status says.
	reg, rr := newCase("REGI-0001", "intake-reg")
	reg.Kind, rr.Kind = bot.CaseRegistration, bot.CaseRegistration
	got := mustCreate(t, s, reg, rr)
	if err := s.SaveCase(ctx, got); err != nil {
		t.Fatalf("save registration: %v", err)
	}
	if pending, open := indexed(t, c, prefix, reg.Code); pending || open {
		t.Errorf("registration indexed: pending=%v open=%v", pending, open)
	}
}

func TestSaveCaseFollowUp(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	newYear := time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC) // 00:30 on 1 January in Maastricht

	tests := []struct {
		name      string
		setup     func(*bot.Case, *bot.Record)
		followUps []string // saved closed one after another
		want      string   // follow-up in the record at the end; "" for none
	}{
		{"close", nil, []string{"advice"}, "advice"},
		{"no follow-up", nil, []string{""}, ""},
		{"changed", nil, []string{"advice", "referral"}, "referral"},
		{"empty fields", func(c *bot.Case, r *bot.Record) { c.Fields, r.Fields = map[string]string{}, map[string]string{} }, []string{"other"}, "other"},
		{"awkward text", func(c *bot.Case, r *bot.Record) {
			r.Fields = map[string]string{"category": `"quoted" / <tag> & ü 😀`, "relation": "staff_student"}
		}, []string{"complaint"}, "complaint"},
		// The engine files the record under the local year; Created is UTC.
		{"new year", func(c *bot.Case, r *bot.Record) { c.Created, r.Year, r.Month = newYear, 2026, 1 }, []string{"guidance"}, "guidance"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("FLUP-%04d", i)
			cs, r := newCase(code, "intake-"+code)
			if tt.setup != nil {
				tt.setup(&cs, &r)
			}
			regKey := fmt.Sprintf("%s{case}:reg:%d", prefix, r.Year)
			got := mustCreate(t, s, cs, r)
			stored := c.HGet(ctx, regKey, recordField(cs.IntakeID)).Val()
			claim(got, "anna")
			if err := s.SaveCase(ctx, got); err != nil {
				t.Fatalf("claim: %v", err)
			}
			for _, f := range tt.followUps {
				got.Status, got.FollowUp, got.ClosedAt = bot.StatusClosed, f, created.Add(48*time.Hour)
				if err := s.SaveCase(ctx, got); err != nil {
					t.Fatalf("close with %q: %v", f, err)
				}
			}

			raw, err := c.HGet(ctx, regKey, recordField(cs.IntakeID)).Result()
			if err != nil {
				t.Fatalf("registry record: %v", err)
			}
			if tt.want == "" {
				if raw != stored {
					t.Errorf("record changed without a follow-up:\n got  %s\n want %s", raw, stored)
				}
				return
			}
			var rec bot.Record
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				t.Fatalf("record %s: %v", raw, err)
			}
			want := r
			want.FollowUp = tt.want
			if len(want.Fields) == 0 {
				want.Fields = nil // stored without empty containers
			}
			if !reflect.DeepEqual(rec, want) {
				t.Errorf("record = %+v, want %+v", rec, want)
			}
			var members map[string]json.RawMessage
			_ = json.Unmarshal([]byte(raw), &members)
			for k := range members {
				if !slices.Contains([]string{"y", "m", "ch", "kind", "f", "followup"}, k) {
					t.Errorf("record gained field %q: %s", k, raw)
				}
			}
			if y := cs.Created.Year(); y != r.Year {
				if c.HExists(ctx, fmt.Sprintf("%s{case}:reg:%d", prefix, y), recordField(cs.IntakeID)).Val() {
					t.Errorf("a record was made up in %d", y)
				}
			}
		})
	}
	if n := c.Exists(ctx, prefix+"{case}:reg:2024").Val(); n != 0 {
		t.Error("a registry year was made up")
	}
}

// TestSaveCaseNoRecord: a follow-up that cannot be recorded is refused, so the statistics
// never silently miss a closed case.
func TestSaveCaseNoRecord(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, r := newCase("NREC-0001", "intake-norec")
	got := mustCreate(t, s, cs, r)
	c.HDel(ctx, prefix+"{case}:reg:2025", recordField(cs.IntakeID))
	before := redistest.Dump(t, c, prefix)

	got.Status, got.FollowUp = bot.StatusClosed, "advice"
	if err := s.SaveCase(ctx, got); err == nil || errors.Is(err, bot.ErrConflict) {
		t.Fatalf("close without a registry record: got %v, want an error", err)
	}
	if after := redistest.Dump(t, c, prefix); !reflect.DeepEqual(after, before) {
		t.Errorf("the refused close wrote:\n before %q\n after  %q", before, after)
	}
}

func TestOpenCases(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	if got, err := s.OpenCases(ctx); err != nil || len(got) != 0 {
		t.Fatalf("open cases of an empty store: %v, %v", got, err)
	}

	// Created out of order (the queue follows arrival, not the clock); each is then left
	// in the state its code says.
	cases := []struct {
		code, kind string
		at         time.Duration
		then       string
	}{
		{"LATE-PEND", bot.CaseHandoff, 3 * time.Hour, bot.StatusPending},
		{"EARL-CLAI", bot.CaseHandoff, 0, bot.StatusClaimed},
		{"MIDD-CLOS", bot.CaseHandoff, time.Hour, bot.StatusClosed},
		{"MIDD-WDRW", bot.CaseHandoff, 2 * time.Hour, bot.StatusWithdrawn},
		{"EARL-PEND", bot.CaseHandoff, 30 * time.Minute, bot.StatusPending},
		{"REGI-0001", bot.CaseRegistration, -time.Hour, bot.StatusRegistered},
	}
	for _, tc := range cases {
		cs, r := newCase(tc.code, "intake-"+tc.code)
		cs.Kind, r.Kind, cs.Created = tc.kind, tc.kind, created.Add(tc.at)
		got := mustCreate(t, s, cs, r)
		switch tc.then {
		case bot.StatusClaimed:
			claim(got, "anna")
		case bot.StatusClosed:
			got.Status, got.FollowUp = bot.StatusClosed, "advice"
		case bot.StatusWithdrawn:
			if err := s.WithdrawCase(ctx, tc.code); err != nil {
				t.Fatalf("withdraw: %v", err)
			}
			continue
		default:
			continue
		}
		if err := s.SaveCase(ctx, got); err != nil {
			t.Fatalf("save %s: %v", tc.code, err)
		}
	}

	open, err := s.OpenCases(ctx)
	if err != nil {
		t.Fatalf("open cases: %v", err)
	}
	var codes []string
	for _, c := range open {
		codes = append(codes, c.Code)
	}
	if want := []string{"LATE-PEND", "EARL-CLAI", "EARL-PEND"}; !slices.Equal(codes, want) {
		t.Errorf("open cases = %q, want %q", codes, want)
	}
	if len(open) == 3 && (open[1].Counsellor != "anna" || open[1].Rev != 1 || open[0].Story == nil) {
		t.Errorf("open cases not read whole: %+v", open)
	}
}

// TestOpenCasesVanished: a case gone between the index read and the case read (or an index
// out of step) is left out.
func TestOpenCasesVanished(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	for _, code := range []string{"KEEP-0001", "GONE-0001"} {
		cs, r := newCase(code, "intake-"+code)
		mustCreate(t, s, cs, r)
	}
	c.Del(ctx, prefix+"{case}:c:GONE-0001")
	open, err := s.OpenCases(ctx)
	if err != nil || len(open) != 1 || open[0].Code != "KEEP-0001" {
		t.Errorf("open cases = %+v, %v; want KEEP-0001 only", open, err)
	}
}

func TestThread(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, r := newCase("THRD-0001", "intake-thread")
	mustCreate(t, s, cs, r)
	threadKey := prefix + "{case}:t:" + cs.Code

	if got, err := s.Entries(ctx, cs.Code); err != nil || len(got) != 0 {
		t.Fatalf("entries of a new case: %+v, %v", got, err)
	}
	want := []bot.Entry{
		{At: created.Add(time.Hour), Kind: bot.EntryClaimed},
		{At: created.Add(2 * time.Hour), From: bot.FromCounsellor, Kind: bot.EntryMessage, Text: []byte{0x01, 0xfe, 's', 'e', 'a', 'l'}},
		{At: created.Add(3 * time.Hour), From: bot.FromStudent, Kind: bot.EntryMessage, Text: []byte("sealed reply")},
		{At: created.Add(4 * time.Hour), From: bot.FromStudent, Kind: bot.EntryBooked},
	}
	for _, e := range want {
		if err := s.AppendEntry(ctx, cs.Code, e); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	got, err := s.Entries(ctx, cs.Code)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %+v, %v\nwant %+v", got, err, want)
	}

	// No thread for a case that is not there.
	if err := s.AppendEntry(ctx, "NONE-0001", want[0]); err == nil {
		t.Error("append to a missing case: want an error")
	}
	if n := c.Exists(ctx, prefix+"{case}:t:NONE-0001").Val(); n != 0 {
		t.Error("append to a missing case made a thread")
	}

	if err := s.WithdrawCase(ctx, cs.Code); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if n := c.Exists(ctx, threadKey).Val(); n != 0 {
		t.Error("withdraw left the thread")
	}
	// A reply racing the withdrawal must not bring the thread back.
	if err := s.AppendEntry(ctx, cs.Code, want[1]); err == nil {
		t.Error("append to a withdrawn case: want an error")
	}
	if got, err := s.Entries(ctx, cs.Code); err != nil || len(got) != 0 {
		t.Errorf("entries after withdraw: %+v, %v", got, err)
	}
}

// TestWithdrawDeskCase withdraws a case the desk has worked on, every field set, and
// checks it stays readable on both servers (the withdraw script re-encodes the JSON) and
// that the desk's copy from before cannot bring the story back.
func TestWithdrawDeskCase(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, r := newCase("DESK-0001", "intake-desk")
	cs.PassHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"
	got := mustCreate(t, s, cs, r)
	claim(got, "anna")
	got.Fields = map[string]string{} // empty containers come back as nothing
	got.Proposal = &bot.Proposal{ID: "p1", Slots: []bot.Slot{}}
	got.Booked = &bot.Slot{Form: "in_person_ssc", Start: created.Add(72 * time.Hour), Minutes: 45}
	got.ReferredTo = "student psychologist"
	got.Announced = created.Add(time.Minute)
	if err := s.SaveCase(ctx, got); err != nil {
		t.Fatalf("save: %v", err)
	}
	held := *got

	if err := s.WithdrawCase(ctx, cs.Code); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	after, err := s.GetCase(ctx, cs.Code)
	if err != nil {
		t.Fatalf("get after withdraw: %v", err)
	}
	want := held
	want.Story, want.ReturnAddr, want.Status, want.Rev = nil, nil, bot.StatusWithdrawn, held.Rev+1
	want.Fields, want.Proposal = nil, &bot.Proposal{ID: "p1"}
	if !reflect.DeepEqual(after, &want) {
		t.Errorf("withdrawn = %+v\nwant %+v", after, &want)
	}
	if pending, open := indexed(t, c, prefix, cs.Code); pending || open {
		t.Errorf("withdrawn case indexed: pending=%v open=%v", pending, open)
	}

	held.Status = bot.StatusClosed
	if err := s.SaveCase(ctx, &held); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("save from before the withdrawal: got %v, want ErrConflict", err)
	}
	if again, _ := s.GetCase(ctx, cs.Code); again == nil || again.Story != nil || again.Status != bot.StatusWithdrawn {
		t.Errorf("after a stale save: %+v", again)
	}
}

func TestCreateCaseAnnounces(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	stream := prefix + "{case}:announce"

	hand, r := newCase("ANNC-0001", "intake-annc")
	mustCreate(t, s, hand, r)
	// A retried turn, a taken code and a registration announce nothing.
	retry, rr := newCase("ANNC-0002", "intake-annc")
	if _, err := s.CreateCase(ctx, retry, rr); err != nil {
		t.Fatalf("retry: %v", err)
	}
	taken, tr := newCase("ANNC-0001", "intake-other")
	if _, err := s.CreateCase(ctx, taken, tr); !errors.Is(err, bot.ErrCodeTaken) {
		t.Fatalf("taken: %v", err)
	}
	reg, regr := newCase("REGI-0001", "intake-reg")
	reg.Kind, regr.Kind = bot.CaseRegistration, bot.CaseRegistration
	mustCreate(t, s, reg, regr)

	msgs, err := c.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("xrange: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("announcements = %+v, want one", msgs)
	}
	if want := map[string]any{"code": hand.Code, "reason": "new"}; !reflect.DeepEqual(msgs[0].Values, want) {
		t.Errorf("announcement = %v, want %v", msgs[0].Values, want)
	}
	got, err := s.ReadAnnouncements(ctx, "telegram", "tg-1", 10, 0)
	if want := []bot.Announcement{{ID: msgs[0].ID, Code: hand.Code, Reason: "new"}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("read = %+v, %v; want %+v", got, err, want)
	}
	if pending, open := indexed(t, c, prefix, reg.Code); pending || open {
		t.Errorf("registration indexed: pending=%v open=%v", pending, open)
	}
}

// TestWithdrawAndPurgeDropTheClock: the sealed clock of a case (its exact times) goes with
// its other content when the student withdraws it or the retention purge erases it.
func TestWithdrawAndPurgeDropTheClock(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	gone, r := newCase("CLCK-0001", "intake-clock-1")
	gone.Clock = []byte("sealed clock")
	mustCreate(t, s, gone, r)
	if err := s.WithdrawCase(ctx, gone.Code); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCase(ctx, gone.Code); got == nil || got.Clock != nil {
		t.Errorf("withdrawn case keeps its clock: %+v", got)
	}

	closed, r2 := newCase("CLCK-0002", "intake-clock-2")
	got := mustCreate(t, s, closed, r2)
	got.Status, got.FollowUp, got.ClosedAt, got.Clock = bot.StatusClosed, "advice", created, []byte("sealed clock")
	if err := s.SaveCase(ctx, got); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeBefore(ctx, created.Add(time.Hour), 0); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if got, _ := s.GetCase(ctx, closed.Code); got == nil || got.Clock != nil || !got.Purged {
		t.Errorf("purged case keeps its clock: %+v", got)
	}
}

// TestThreadEntryOnce: an entry appended again with the same id (a student's message
// handled again after a crash) is in the thread once; entries without an id, or with
// another, are all kept, and an id far enough back no longer blocks.
func TestThreadEntryOnce(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, r := newCase("ONCE-0001", "intake-once")
	mustCreate(t, s, cs, r)
	msg := func(id, text string) bot.Entry {
		return bot.Entry{At: created, From: bot.FromStudent, Kind: bot.EntryMessage, Text: []byte(text), ID: id}
	}
	for _, e := range []bot.Entry{
		msg("a1", "first"), msg("a1", "first"), // the same message twice
		msg("", "plain"), msg("", "plain"), // no id: both kept
		msg("b2", "second"), msg("a1", "first"), // a1 is still among the latest
	} {
		if err := s.AppendEntry(ctx, cs.Code, e); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	var texts []string
	got, err := s.Entries(ctx, cs.Code)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		texts = append(texts, string(e.Text))
	}
	if want := []string{"first", "plain", "plain", "second"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("thread = %q, want %q", texts, want)
	}
}
