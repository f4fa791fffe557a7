package redis_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// codes lists the case codes of announcements.
func codes(as []bot.Announcement) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Code)
	}
	return out
}

// sealedOf lists the sealed bytes of deliveries as strings.
func sealedOf(ds []bot.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Sealed))
	}
	return out
}

// TestReadAnnouncementsRedelivery: a consumer that read announcements and "crashed" before
// acknowledging them gets them again, first, when it reads again under its name.
func TestReadAnnouncementsRedelivery(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	for i, reason := range []string{"new", "waiting", "new"} {
		if err := s.Announce(ctx, bot.Announcement{Code: fmt.Sprintf("ANNC-%04d", i), Reason: reason}); err != nil {
			t.Fatalf("announce: %v", err)
		}
	}
	read := func(group, consumer string, count int) []bot.Announcement {
		t.Helper()
		got, err := s.ReadAnnouncements(ctx, group, consumer, count, 0)
		if err != nil {
			t.Fatalf("read %s/%s: %v", group, consumer, err)
		}
		return got
	}
	// Another group (another channel's adapter) gets every announcement, whatever the
	// first group does with them.
	if got := read("discord", "dc-1", 10); len(got) != 3 {
		t.Errorf("discord read %q, want all three", codes(got))
	}

	first := read("telegram", "tg-1", 2)
	if want := []string{"ANNC-0000", "ANNC-0001"}; !slices.Equal(codes(first), want) {
		t.Fatalf("first read = %q, want %q", codes(first), want)
	}
	if first[1].Reason != "waiting" || first[0].ID == "" {
		t.Errorf("first read = %+v", first)
	}
	// tg-1 "crashes" here. Another consumer of the group does not get its announcements.
	if got := read("telegram", "tg-2", 10); !slices.Equal(codes(got), []string{"ANNC-0002"}) {
		t.Errorf("tg-2 read %q, want only the one tg-1 has not read", codes(got))
	}
	// tg-1 comes back under the same name: its unacknowledged ones first, the same ids.
	again := read("telegram", "tg-1", 2)
	if !reflect.DeepEqual(again, first) {
		t.Errorf("read after a crash = %+v, want %+v", again, first)
	}
	if err := s.AckAnnouncement(ctx, "telegram", first[0].ID); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if got := read("telegram", "tg-1", 5); !slices.Equal(codes(got), []string{"ANNC-0001"}) {
		t.Errorf("after one ack: %q, want the other pending one", codes(got))
	}
	if err := s.AckAnnouncement(ctx, "telegram", first[1].ID); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if got := read("telegram", "tg-1", 5); len(got) != 0 {
		t.Errorf("after acking everything: %+v", got)
	}
	if got := read("discord", "dc-1", 10); len(got) != 3 {
		t.Errorf("discord read again %q, want its three unacknowledged ones", codes(got))
	}
}

// TestAckAnnouncementDeletes: an announcement is deleted from the stream once every group
// has acknowledged it, not before, so entries do not pile up.
func TestAckAnnouncementDeletes(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	stream := prefix + "{case}:announce"
	for _, code := range []string{"ACKD-0001", "ACKD-0002"} {
		if err := s.Announce(ctx, bot.Announcement{Code: code, Reason: "new"}); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := s.ReadAnnouncements(ctx, "telegram", "tg-1", 1, 0) // reads only the first
	if err != nil || len(tg) != 1 {
		t.Fatalf("telegram read %+v, %v", tg, err)
	}
	dc, err := s.ReadAnnouncements(ctx, "discord", "dc-1", 10, 0)
	if err != nil || len(dc) != 2 {
		t.Fatalf("discord read %+v, %v", dc, err)
	}
	steps := []struct {
		group, id string
		left      int64
	}{
		{"discord", dc[0].ID, 2}, // telegram still holds it pending
		{"discord", dc[1].ID, 2}, // telegram has not read it yet
		{"telegram", tg[0].ID, 1},
	}
	for _, st := range steps {
		if err := s.AckAnnouncement(ctx, st.group, st.id); err != nil {
			t.Fatalf("ack %s %s: %v", st.group, st.id, err)
		}
		if n := c.XLen(ctx, stream).Val(); n != st.left {
			t.Errorf("after %s acked %s: %d in the stream, want %d", st.group, st.id, n, st.left)
		}
	}
	rest, err := s.ReadAnnouncements(ctx, "telegram", "tg-1", 10, 0)
	if err != nil || len(rest) != 1 || rest[0].Code != "ACKD-0002" {
		t.Fatalf("telegram read the rest %+v, %v", rest, err)
	}
	if err := s.AckAnnouncement(ctx, "telegram", rest[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := c.XLen(ctx, stream).Val(); n != 0 {
		t.Errorf("%d announcements left after every group acknowledged them all", n)
	}
}

// TestReadFillsUp: pending ones come first and the rest of count is filled with new ones.
func TestReadFillsUp(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	for i := range 2 {
		if err := s.Enqueue(ctx, "web", fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	if got, err := s.ReadOutbox(ctx, "web", "w1", 1, 0); err != nil || !slices.Equal(sealedOf(got), []string{"m0"}) {
		t.Fatalf("read = %q, %v", sealedOf(got), err)
	}
	if err := s.Enqueue(ctx, "web", []byte("m2")); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	got, err := s.ReadOutbox(ctx, "web", "w1", 2, time.Second)
	if want := []string{"m0", "m1"}; err != nil || !slices.Equal(sealedOf(got), want) {
		t.Errorf("read = %q, %v; want %q", sealedOf(got), err, want)
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	const box = "console:1f0a:9e" // names may hold ':'
	key := prefix + "{out:" + box + "}"
	sealed := [][]byte{{0x00, 0xff, 0x10, 0x80}, []byte("second"), []byte("third")}
	for _, b := range sealed {
		if err := s.Enqueue(ctx, box, b); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	if err := s.Enqueue(ctx, "web", []byte("elsewhere")); err != nil {
		t.Fatalf("enqueue: %v", err)
	}

	got, err := s.ReadOutbox(ctx, box, "c1", 10, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 3 || !slices.Equal(sealedOf(got), []string{string(sealed[0]), "second", "third"}) {
		t.Fatalf("read = %q", sealedOf(got))
	}
	if err := s.AckOutbox(ctx, box, got[0].ID); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if n := c.XLen(ctx, key).Val(); n != 2 {
		t.Errorf("outbox length after an ack = %d, want 2 (acked ones are deleted)", n)
	}
	// The unacknowledged ones come back to the same consumer, and to no other.
	if other, err := s.ReadOutbox(ctx, box, "c2", 10, 0); err != nil || len(other) != 0 {
		t.Errorf("c2 read %q, %v; want nothing", sealedOf(other), err)
	}
	again, err := s.ReadOutbox(ctx, box, "c1", 10, 0)
	if err != nil || !reflect.DeepEqual(again, got[1:]) {
		t.Errorf("re-read = %+v, %v; want %+v", again, err, got[1:])
	}
	for _, d := range again {
		if err := s.AckOutbox(ctx, box, d.ID); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if err := s.AckOutbox(ctx, box, got[0].ID); err != nil {
		t.Errorf("ack twice: %v", err)
	}
	if n := c.XLen(ctx, key).Val(); n != 0 {
		t.Errorf("outbox length = %d, want 0", n)
	}
	if p := c.XPending(ctx, key, "deliver").Val(); p.Count != 0 {
		t.Errorf("pending = %d, want 0", p.Count)
	}
	if rest, err := s.ReadOutbox(ctx, box, "c1", 10, 0); err != nil || len(rest) != 0 {
		t.Errorf("read of an empty outbox = %q, %v", sealedOf(rest), err)
	}
	if web, err := s.ReadOutbox(ctx, "web", "w1", 10, 0); err != nil || !slices.Equal(sealedOf(web), []string{"elsewhere"}) {
		t.Errorf("web outbox = %q, %v", sealedOf(web), err)
	}
}

// TestReadOutboxBlocked: a reader waiting on an empty outbox gets what is enqueued
// meanwhile (or at once, if the enqueue came first: either way it gets it).
func TestReadOutboxBlocked(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	if _, err := s.ReadOutbox(ctx, "telegram", "tg-1", 1, 0); err != nil { // creates the group
		t.Fatalf("read: %v", err)
	}
	var got []bot.Delivery
	var err error
	var wg sync.WaitGroup
	wg.Go(func() { got, err = s.ReadOutbox(ctx, "telegram", "tg-1", 1, 2*time.Second) })
	if err := s.Enqueue(ctx, "telegram", []byte("hello")); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	wg.Wait()
	if err != nil || !slices.Equal(sealedOf(got), []string{"hello"}) {
		t.Errorf("blocked read = %q, %v", sealedOf(got), err)
	}
	// A wait that ends with nothing is no error.
	if got, err := s.ReadOutbox(ctx, "web", "w1", 1, 20*time.Millisecond); err != nil || len(got) != 0 {
		t.Errorf("read that timed out = %q, %v", sealedOf(got), err)
	}
}

// readArgs is a go-redis hook keeping the arguments of XREADGROUP commands reading new
// entries (ID ">").
type readArgs struct {
	mu   sync.Mutex
	args [][]any
}

func (h *readArgs) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *readArgs) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		a := cmd.Args()
		if cmd.Name() == "xreadgroup" && a[len(a)-1] == ">" {
			h.mu.Lock()
			h.args = append(h.args, a)
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (h *readArgs) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// last returns the BLOCK argument of the last new-entries read, "none" without one.
func (h *readArgs) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.args) == 0 {
		return "no read"
	}
	a := h.args[len(h.args)-1]
	for i, v := range a {
		if s, ok := v.(string); ok && strings.EqualFold(s, "block") {
			return fmt.Sprint(a[i+1])
		}
	}
	return "none"
}

// TestReadBlockArgument pins what reaches Redis: go-redis sends BLOCK 0 (forever) for a
// zero Block, so "no wait" must send no BLOCK at all, and a wait below a millisecond must
// not round down to 0.
func TestReadBlockArgument(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	h := &readArgs{}
	c.AddHook(h)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	tests := []struct {
		name    string
		pending bool // the consumer has an unacknowledged delivery
		block   time.Duration
		want    string
	}{
		{"no wait", false, 0, "none"},
		{"negative", false, -time.Second, "none"},
		{"wait", false, 30 * time.Millisecond, "30"},
		{"below a millisecond", false, 300 * time.Microsecond, "1"},
		{"pending ones, no wait for more", true, time.Second, "none"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := fmt.Sprintf("box-%d", i)
			if tt.pending {
				if err := s.Enqueue(ctx, box, []byte("x")); err != nil {
					t.Fatalf("enqueue: %v", err)
				}
				if _, err := s.ReadOutbox(ctx, box, "c1", 1, 0); err != nil {
					t.Fatalf("read: %v", err)
				}
			}
			if _, err := s.ReadOutbox(ctx, box, "c1", 5, tt.block); err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := h.last(); got != tt.want {
				t.Errorf("BLOCK %s, want %s", got, tt.want)
			}
		})
	}
}

// TestReadTrimmedPending: an announcement trimmed from the stream while a consumer had it
// pending is acknowledged and skipped, not returned empty forever.
func TestReadTrimmedPending(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	stream := prefix + "{case}:announce"
	for _, code := range []string{"TRIM-0001", "KEEP-0001"} {
		if err := s.Announce(ctx, bot.Announcement{Code: code, Reason: "new"}); err != nil {
			t.Fatalf("announce: %v", err)
		}
	}
	got, err := s.ReadAnnouncements(ctx, "telegram", "tg-1", 10, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("read = %+v, %v", got, err)
	}
	c.XDel(ctx, stream, got[0].ID) // as MAXLEN trimming does
	again, err := s.ReadAnnouncements(ctx, "telegram", "tg-1", 10, 0)
	if err != nil || !slices.Equal(codes(again), []string{"KEEP-0001"}) {
		t.Errorf("read after trimming = %+v, %v", again, err)
	}
	if p := c.XPending(ctx, stream, "telegram").Val(); p.Count != 1 {
		t.Errorf("pending = %d, want 1 (the trimmed one acknowledged)", p.Count)
	}
}

// TestReadRecreatesGroup: when the stream (and its group) is deleted behind a Store's back,
// the next read makes the group again instead of failing with NOGROUP forever.
func TestReadRecreatesGroup(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	if _, err := s.ReadOutbox(ctx, "web", "w1", 1, 0); err != nil {
		t.Fatalf("read: %v", err)
	}
	c.Del(ctx, prefix+"{out:web}")
	if err := s.Enqueue(ctx, "web", []byte("after")); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	got, err := s.ReadOutbox(ctx, "web", "w1", 1, 0)
	if err != nil || !slices.Equal(sealedOf(got), []string{"after"}) {
		t.Errorf("read = %q, %v", sealedOf(got), err)
	}
}

func TestStreamArguments(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	boxes := []struct {
		name string
		ok   bool
	}{
		{"telegram", true},
		{"console:6f1c0a9e:2b", true},
		{"web chat/ü", true},
		{"", false},
		{"a{b", false},
		{"x}", false},
		{"{out}", false},
		{"tab\there", false},
	}
	for _, b := range boxes {
		t.Run("outbox "+b.name, func(t *testing.T) {
			errs := []error{
				s.Enqueue(ctx, b.name, []byte("x")),
				func() error { _, err := s.ReadOutbox(ctx, b.name, "c1", 1, 0); return err }(),
				s.AckOutbox(ctx, b.name, "0-1"),
			}
			for i, err := range errs {
				if (err == nil) != b.ok {
					t.Errorf("call %d: err %v, want ok=%v", i, err, b.ok)
				}
			}
		})
	}
	if n := c.Exists(ctx, prefix+"{out:web chat/ü}").Val(); n != 1 {
		t.Error("outbox key is not <p>{out:<name>}")
	}

	reads := []struct {
		name            string
		group, consumer string
		count           int
	}{
		{"no group", "", "c1", 1},
		{"no consumer", "g", "", 1},
		{"no count", "g", "c1", 0},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			if _, err := s.ReadAnnouncements(ctx, r.group, r.consumer, r.count, 0); err == nil {
				t.Error("read announcements: want an error")
			}
		})
	}
	if err := s.Announce(ctx, bot.Announcement{Reason: "new"}); err == nil {
		t.Error("announce without a code: want an error")
	}
}

// TestStreamIDsAreSequences: announcements and deliveries get sequence numbers for ids,
// not the time they were written (an XADD * id is the time in milliseconds, in clear). A
// stream written before, with time ids, keeps working.
func TestStreamIDsAreSequences(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	ids := func(key string) []string {
		t.Helper()
		msgs, err := c.XRange(ctx, key, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.ID)
		}
		return out
	}
	if err := s.Announce(ctx, bot.Announcement{Code: "SEQS-0001", Reason: "waiting"}); err != nil {
		t.Fatal(err)
	}
	hand, r := newCase("SEQS-0002", "intake-seqs")
	mustCreate(t, s, hand, r)
	if got, want := ids(prefix+"{case}:announce"), []string{"0-1", "0-2"}; !slices.Equal(got, want) {
		t.Errorf("announcement ids %q, want %q", got, want)
	}
	for _, d := range []string{"one", "two"} {
		if err := s.Enqueue(ctx, "web:seq", []byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ids(prefix+"{out:web:seq}"), []string{"0-1", "0-2"}; !slices.Equal(got, want) {
		t.Errorf("delivery ids %q, want %q", got, want)
	}

	old := prefix + "{out:old}"
	c.XAdd(ctx, &goredis.XAddArgs{Stream: old, Values: []any{"d", "from before"}})
	if err := s.Enqueue(ctx, "old", []byte("after")); err != nil {
		t.Fatalf("enqueue to a stream with time ids: %v", err)
	}
	got, err := s.ReadOutbox(ctx, "old", "c1", 10, 0)
	if err != nil || !slices.Equal(sealedOf(got), []string{"from before", "after"}) {
		t.Errorf("read a stream with time ids: %q, %v", sealedOf(got), err)
	}
}

// TestOutboxExpiresAtTheEndOfADay: an outbox's expiry, which Redis keeps with the key, is
// the end of a day about OutboxTTL on, not the moment of its last message plus OutboxTTL.
func TestOutboxExpiresAtTheEndOfADay(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	if err := s.Enqueue(ctx, "web:ttl", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadOutbox(ctx, "web:fresh", "c1", 1, 0); err != nil { // made by a read
		t.Fatal(err)
	}
	for _, key := range []string{prefix + "{out:web:ttl}", prefix + "{out:web:fresh}"} {
		ttl := c.PTTL(ctx, key).Val()
		at := time.Now().Add(ttl).UTC()
		off := at.Sub(at.Truncate(24 * time.Hour))
		if off > time.Minute && off < 24*time.Hour-time.Minute {
			t.Errorf("%s expires at %v, not at the end of a day", key, at)
		}
		if ttl < redis.OutboxTTL-time.Hour || ttl > redis.OutboxTTL+25*time.Hour {
			t.Errorf("%s expires in %v, want about %v", key, ttl, redis.OutboxTTL)
		}
	}
}
