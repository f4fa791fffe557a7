package redis_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// peek reads a raw key, "" with ok false when it is missing.
func peek(t *testing.T, c goredis.UniversalClient, key string) (string, bool) {
	t.Helper()
	v, err := c.Get(context.Background(), key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", false
	}
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v, true
}

// saveSession runs one turn that stores data.
func saveSession(t *testing.T, s *redis.Store, conv, data string) {
	t.Helper()
	l, _, err := s.Lock(t.Context(), conv)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if err := s.Save(t.Context(), l, []byte(data)); err != nil {
		t.Fatalf("save: %v", err)
	}
}

func TestLockNewConversation(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()

	l, data, err := s.Lock(ctx, "conv")
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if data != nil {
		t.Errorf("new conversation: got session %q, want nil", data)
	}
	if l.Key != "conv" || len(l.Token) != 32 {
		t.Errorf("lock = %+v, want key conv and a 32-digit token", l)
	}
	if err := s.Save(ctx, l, []byte("one")); err != nil {
		t.Fatalf("save: %v", err)
	}

	l, data, err = s.Lock(ctx, "conv")
	if err != nil {
		t.Fatalf("lock again: %v", err)
	}
	if string(data) != "one" {
		t.Errorf("got session %q, want %q", data, "one")
	}
	if err := s.Unlock(ctx, l); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

func TestLockEmptyKey(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	if _, _, err := s.Lock(t.Context(), ""); err == nil {
		t.Fatal("lock with an empty key: want an error")
	}
}

// TestLockExclusion runs turns of one conversation from two stores on two clients (two
// replicas); each turn increments a counter kept as the session. A lost update would leave
// the counter short.
func TestLockExclusion(t *testing.T) {
	t.Parallel()
	c1, prefix := redistest.Client(t)
	c2 := redistest.Another(t, c1)
	stores := []*redis.Store{
		redis.New(c1, redis.Options{Prefix: prefix}),
		redis.New(c2, redis.Options{Prefix: prefix}),
	}
	const perStore = 50

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, perStore*len(stores))
	for _, s := range stores {
		for range perStore {
			wg.Go(func() {
				l, data, err := s.Lock(ctx, "counter")
				if err != nil {
					errs <- err
					return
				}
				n := 0
				if data != nil {
					if n, err = strconv.Atoi(string(data)); err != nil {
						errs <- err
						_ = s.Unlock(ctx, l)
						return
					}
				}
				if err := s.Save(ctx, l, []byte(strconv.Itoa(n+1))); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("turn: %v", err)
	}

	got, _ := peek(t, c1, prefix+"s:{counter}")
	if want := strconv.Itoa(perStore * len(stores)); got != want {
		t.Errorf("counter = %s, want %s", got, want)
	}
}

// TestStaleToken lets a turn's lock expire and checks that the late turn can neither save,
// delete nor unlock, whatever happened after the expiry.
func TestStaleToken(t *testing.T) {
	t.Parallel()
	c1, prefix := redistest.Client(t)
	c2 := redistest.Another(t, c1)
	const lockTTL = 20 * time.Millisecond
	// The slow store's clock moves by the lock TTL only, the least after which Redis may
	// have let the lock go: the store must no longer be sure of it then.
	clock := &manualClock{now: time.Now()}
	slow := redis.New(c1, redis.Options{Prefix: prefix, LockTTL: lockTTL, Now: clock.Now})
	other := redis.New(c2, redis.Options{Prefix: prefix})

	situations := []struct {
		name string
		// after runs once the slow turn's lock expired; it returns the lock the other
		// turn still holds, if any.
		after func(t *testing.T, conv string) *bot.Lock
		want  string // session after the slow turn failed
	}{
		{
			name:  "expired",
			after: func(*testing.T, string) *bot.Lock { return nil },
			want:  "seed",
		},
		{
			name: "taken by another turn",
			after: func(t *testing.T, conv string) *bot.Lock {
				l, _, err := other.Lock(t.Context(), conv)
				if err != nil {
					t.Fatalf("other lock: %v", err)
				}
				return &l
			},
			want: "seed",
		},
		{
			name: "saved by another turn",
			after: func(t *testing.T, conv string) *bot.Lock {
				saveSession(t, other, conv, "other")
				return nil
			},
			want: "other",
		},
	}
	ops := []struct {
		name string
		run  func(ctx context.Context, l bot.Lock) error
	}{
		{"save", func(ctx context.Context, l bot.Lock) error { return slow.Save(ctx, l, []byte("slow")) }},
		{"delete", slow.Delete},
		{"unlock", slow.Unlock},
	}
	for i, sit := range situations {
		for _, op := range ops {
			t.Run(sit.name+"/"+op.name, func(t *testing.T) {
				conv := "stale-" + strconv.Itoa(i) + "-" + op.name
				saveSession(t, other, conv, "seed")

				l, _, err := slow.Lock(t.Context(), conv)
				if err != nil {
					t.Fatalf("lock: %v", err)
				}
				redistest.Advance(t, c1, 3*lockTTL)
				clock.advance(lockTTL)
				held := sit.after(t, conv)

				if err := op.run(t.Context(), l); !errors.Is(err, bot.ErrLockLost) {
					t.Fatalf("%s with a stale token: got %v, want ErrLockLost", op.name, err)
				}
				if got, _ := peek(t, c1, prefix+"s:{"+conv+"}"); got != sit.want {
					t.Errorf("session = %q, want %q", got, sit.want)
				}
				if held != nil {
					// The other turn's lock survived the failed call.
					if err := other.Save(t.Context(), *held, []byte("after")); err != nil {
						t.Errorf("other save: %v", err)
					}
				}
			})
		}
	}
}

func TestSessionTTL(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	const sessionTTL, lockTTL = time.Hour, 5 * time.Second
	s := redis.New(c, redis.Options{Prefix: prefix, SessionTTL: sessionTTL, LockTTL: lockTTL})
	ctx := t.Context()
	sessionKey, lockKey := prefix+"s:{conv}", prefix+"s:{conv}:lock"

	l, _, err := s.Lock(ctx, "conv")
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if ttl := c.PTTL(ctx, lockKey).Val(); ttl <= 0 || ttl > lockTTL {
		t.Errorf("lock PTTL = %v, want in (0, %v]", ttl, lockTTL)
	}
	if got, _ := peek(t, c, lockKey); got != l.Token {
		t.Errorf("lock key holds %q, want the token", got)
	}
	if err := s.Save(ctx, l, []byte("data")); err != nil {
		t.Fatalf("save: %v", err)
	}
	if ttl := c.PTTL(ctx, sessionKey).Val(); ttl <= 0 || ttl > sessionTTL {
		t.Errorf("session PTTL = %v, want in (0, %v]", ttl, sessionTTL)
	}
	if _, ok := peek(t, c, lockKey); ok {
		t.Error("lock still there after save")
	}

}

func TestDeleteAndUnlock(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	tests := []struct {
		name string
		end  func(context.Context, bot.Lock) error
		want []byte // session at the next turn
	}{
		{"delete", s.Delete, nil},
		{"unlock", s.Unlock, []byte("kept")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := "end-" + tt.name
			saveSession(t, s, conv, "kept")
			l, _, err := s.Lock(ctx, conv)
			if err != nil {
				t.Fatalf("lock: %v", err)
			}
			if err := tt.end(ctx, l); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			// The lock is free at once: a short deadline is enough.
			short, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			l, data, err := s.Lock(short, conv)
			if err != nil {
				t.Fatalf("lock after %s: %v", tt.name, err)
			}
			if string(data) != string(tt.want) || (data == nil) != (tt.want == nil) {
				t.Errorf("session = %q, want %q", data, tt.want)
			}
			if err := s.Unlock(ctx, l); err != nil {
				t.Fatalf("unlock: %v", err)
			}
		})
	}
}

func TestLockBusy(t *testing.T) {
	t.Parallel()
	c1, prefix := redistest.Client(t)
	holder := redis.New(c1, redis.Options{Prefix: prefix})
	waiter := redis.New(redistest.Another(t, c1), redis.Options{Prefix: prefix})

	tests := []struct {
		name    string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		wantCtx error
	}{
		{
			name: "deadline",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 50*time.Millisecond)
			},
			wantCtx: context.DeadlineExceeded,
		},
		{
			name: "cancelled before",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			wantCtx: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := "busy-" + tt.name
			l, _, err := holder.Lock(t.Context(), conv)
			if err != nil {
				t.Fatalf("holder lock: %v", err)
			}
			ctx, cancel := tt.ctx(t.Context())
			defer cancel()
			_, _, err = waiter.Lock(ctx, conv)
			if !errors.Is(err, bot.ErrBusy) || !errors.Is(err, tt.wantCtx) {
				t.Fatalf("lock while held: got %v, want ErrBusy and %v", err, tt.wantCtx)
			}
			// The holder's lock is untouched.
			if err := holder.Save(t.Context(), l, []byte("x")); err != nil {
				t.Fatalf("holder save: %v", err)
			}
		})
	}
}

// TestRoundTrips pins the cost of each operation once its script is known to the server.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	turn := func(end func(context.Context, bot.Lock) error) func() error {
		return func() error {
			l, _, err := s.Lock(ctx, "trips")
			if err != nil {
				return err
			}
			return end(ctx, l)
		}
	}
	c := bot.Case{Code: "TRIP-0001", IntakeID: "trip-intake", Kind: bot.CaseHandoff, Status: bot.StatusPending, Created: time.Now()}
	r := bot.Record{Year: 2025, Month: 3, Kind: bot.CaseHandoff}
	// desk is a case the desk works on; closed is closed with a follow-up, so each save
	// also writes the registry record.
	desk, deskRec := newCase("TRIP-0002", "trip-desk")
	closed, closedRec := newCase("TRIP-0003", "trip-closed")
	for _, cr := range []struct {
		c *bot.Case
		r bot.Record
	}{{&desk, deskRec}, {&closed, closedRec}} {
		if _, err := s.CreateCase(ctx, *cr.c, cr.r); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	closed.Status, closed.FollowUp = bot.StatusClosed, "advice"
	entry := bot.Entry{At: created, From: bot.FromStudent, Kind: bot.EntryMessage, Text: []byte("sealed")}
	acct := bot.Account{Name: "anna", Role: bot.RoleCounsellor, PassHash: "argon2id$x"}

	tests := []struct {
		name string
		op   func() error
		want int64
	}{
		{"lock+save", turn(func(ctx context.Context, l bot.Lock) error { return s.Save(ctx, l, []byte("x")) }), 2},
		{"lock+unlock", turn(s.Unlock), 2},
		{"lock+delete", turn(s.Delete), 2},
		{"first seen", func() error { _, err := s.FirstSeen(ctx, "web", "1", time.Minute); return err }, 1},
		{"create case", func() error { _, err := s.CreateCase(ctx, c, r); return err }, 1},
		{"withdraw case", func() error { return s.WithdrawCase(ctx, c.Code) }, 1},
		{"save case", func() error { return s.SaveCase(ctx, &desk) }, 1},
		{"save closed case", func() error { return s.SaveCase(ctx, &closed) }, 1},
		{"open cases", func() error { _, err := s.OpenCases(ctx); return err }, 2},
		{"append entry", func() error { return s.AppendEntry(ctx, desk.Code, entry) }, 1},
		{"entries", func() error { _, err := s.Entries(ctx, desk.Code); return err }, 1},
		{"announce", func() error { return s.Announce(ctx, bot.Announcement{Code: desk.Code, Reason: "waiting"}) }, 1},
		// Warm-up reads what is there and acknowledges it, so the measured read finds nothing
		// pending and nothing new: the pending read, then the new read.
		{"read announcements", func() error { return readAndAck(ctx, s, "trips") }, 2},
		{"ack announcement", func() error { return s.AckAnnouncement(ctx, "trips", "0-1") }, 1},
		{"enqueue", func() error { return s.Enqueue(ctx, "telegram", []byte("sealed")) }, 1},
		{"read outbox, empty", func() error { _, err := s.ReadOutbox(ctx, "web", "w1", 10, 0); return err }, 2},
		{"ack outbox", func() error { return s.AckOutbox(ctx, "telegram", "0-1") }, 1},
		{"put account", func() error { return s.PutAccount(ctx, acct) }, 1},
		{"get account", func() error { _, err := s.GetAccount(ctx, acct.Name); return err }, 1},
		{"list accounts", func() error { _, err := s.ListAccounts(ctx); return err }, 2},
		{"delete account", func() error { return s.DeleteAccount(ctx, acct.Name) }, 1},
		{"put login", func() error { return s.PutLogin(ctx, "hash", acct.Name, time.Minute) }, 1},
		{"get login", func() error { _, err := s.GetLogin(ctx, "hash"); return err }, 1},
		{"count failure", func() error { _, err := s.CountFailure(ctx, acct.Name, time.Minute); return err }, 1},
		{"reset failures", func() error { return s.ResetFailures(ctx, acct.Name) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); err != nil { // loads the scripts
				t.Fatalf("warm up: %v", err)
			}
			before := s.RoundTrips()
			if err := tt.op(); err != nil {
				t.Fatalf("op: %v", err)
			}
			if got := s.RoundTrips() - before; got != tt.want {
				t.Errorf("round trips = %d, want %d", got, tt.want)
			}
		})
	}
}

// readAndAck reads group's announcements and acknowledges them: the warm-up finds the ones
// there, the measured run none, so it measures a bare read.
func readAndAck(ctx context.Context, s *redis.Store, group string) error {
	got, err := s.ReadAnnouncements(ctx, group, "c1", 100, 0)
	for _, a := range got {
		if err := s.AckAnnouncement(ctx, group, a.ID); err != nil {
			return err
		}
	}
	return err
}

// BenchmarkTurn measures one uncontended turn (lock with load, then save).
func BenchmarkTurn(b *testing.B) {
	s := redistest.New(b, redis.Options{})
	ctx := b.Context()
	data := make([]byte, 2048)
	start := s.RoundTrips()
	for b.Loop() {
		l, _, err := s.Lock(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Save(ctx, l, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.RoundTrips()-start)/float64(b.N), "roundtrips/op")
}
