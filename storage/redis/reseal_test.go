package redis_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// toKey2 stands for a keyring re-sealing with key 2: a value of key 1 comes back with
// key 2's id and the rest unchanged; a value of key 2 is left alone; key 9 does not open.
func toKey2(kind bot.SealedKind, place string, v []byte) ([]byte, error) {
	switch bot.KeyID(v) {
	case 2:
		return nil, nil
	case 9:
		return nil, bot.ErrUnsealed
	}
	return append([]byte{2}, v[1:]...), nil
}

// outboxValues reads an outbox's messages in order, without a consumer.
func outboxValues(t *testing.T, s *redis.Store, ctx context.Context, name string) []string {
	t.Helper()
	ds, err := s.ReadOutbox(ctx, name, "reader-"+t.Name(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Sealed))
		if err := s.AckOutbox(ctx, name, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestResealOutboxKeepsOrderAndDeliversOnce: an outbox's messages are re-sealed in the
// order the student reads them, a message being delivered right now is left for a later
// run, and one pending for a consumer that died is moved and then delivered once.
func TestResealOutboxKeepsOrderAndDeliversOnce(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Client(t)
	s := redis.New(client, redis.Options{Prefix: prefix})
	for _, v := range []string{"\x01first", "\x02second", "\x01third", "\x09broken"} {
		if err := s.Enqueue(ctx, "web:a", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.Reseal(ctx, toKey2)
	if err != nil {
		t.Fatal(err)
	}
	c := counts[bot.SealedOutbox]
	if c.Resealed != 2 || c.Unreadable != 1 || c.ByKey[2] != 3 || c.ByKey[9] != 1 || c.ByKey[1] != 0 {
		t.Errorf("counts %+v", *c)
	}
	want := []string{"\x02first", "\x02second", "\x02third", "\x09broken"}
	if got := outboxValues(t, s, ctx, "web:a"); !slices.Equal(got, want) {
		t.Errorf("outbox after reseal: %q, want %q", got, want)
	}

	// A consumer has just read the first message and is sending it.
	for _, v := range []string{"\x01one", "\x01two"} {
		if err := s.Enqueue(ctx, "telegram", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	inFlight, err := s.ReadOutbox(ctx, "telegram", "replica-1", 1, 0)
	if err != nil || len(inFlight) != 1 {
		t.Fatalf("read %v, %v", inFlight, err)
	}
	counts, err = s.Reseal(ctx, toKey2)
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[bot.SealedOutbox]; c.Busy != 2 || c.Resealed != 0 || c.ByKey[1] != 2 {
		t.Errorf("with a message being delivered: %+v, want both left (busy) on key 1", *c)
	}

	// The consumer died a while ago instead: its message moves, and when it comes back
	// it finds the message gone and gets the moved copy, once.
	if err := client.Do(ctx, "XCLAIM", prefix+"{out:telegram}", "deliver", "replica-1", 0, inFlight[0].ID, "IDLE", time.Hour.Milliseconds()).Err(); err != nil {
		t.Fatal(err)
	}
	counts, err = s.Reseal(ctx, toKey2)
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[bot.SealedOutbox]; c.Resealed != 2 || c.ByKey[2] != 2 {
		t.Errorf("with a dead consumer's message: %+v, want both moved to key 2", *c)
	}
	var got []string
	for range 3 {
		ds, err := s.ReadOutbox(ctx, "telegram", "replica-1", 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got = append(got, string(d.Sealed))
			if err := s.AckOutbox(ctx, "telegram", d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := []string{"\x02one", "\x02two"}; !slices.Equal(got, want) {
		t.Errorf("the returning consumer got %q, want %q", got, want)
	}
}

// TestResealSessionKeepsItsIdleTime: a re-sealed session expires when it would have, not
// a whole idle time after the rotation.
func TestResealSessionKeepsItsIdleTime(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Client(t)
	s := redis.New(client, redis.Options{Prefix: prefix, SessionTTL: time.Hour})
	l, _, err := s.Lock(ctx, "conv")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, l, []byte("\x01session")); err != nil {
		t.Fatal(err)
	}
	key := prefix + "s:{conv}"
	if err := client.PExpire(ctx, key, 10*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	counts, err := s.Reseal(ctx, toKey2)
	if err != nil || counts[bot.SealedSession].Resealed != 1 {
		t.Fatalf("reseal: %+v, %v", counts[bot.SealedSession], err)
	}
	_, data, err := s.Lock(ctx, "conv")
	if err != nil || string(data) != "\x02session" {
		t.Fatalf("session after reseal: %q, %v", data, err)
	}
	if ttl := client.PTTL(ctx, key).Val(); ttl <= 0 || ttl > 10*time.Minute {
		t.Errorf("the session's time to live became %v; it was 10m", ttl)
	}
}

// TestResealCaseKeepsADeskChange: a desk action saved while the rotation works on the case
// is not overwritten; the case is read again and both changes are kept.
func TestResealCaseKeepsADeskChange(t *testing.T) {
	ctx := context.Background()
	s := redistest.New(t, redis.Options{})
	c := bot.Case{Code: "ABCD-EFGH", IntakeID: "intake-1", Kind: bot.CaseHandoff, Status: bot.StatusPending,
		Story: []byte("\x01story"), ReturnAddr: []byte("\x01addr"), Created: time.Now().UTC()}
	if _, err := s.CreateCase(ctx, c, bot.Record{Year: 2026, Month: 3, Kind: bot.CaseHandoff}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"\x01hello", ""} {
		if err := s.AppendEntry(ctx, c.Code, bot.Entry{At: c.Created, Kind: bot.EntryMessage, Text: []byte(text)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed := false
	fn := func(kind bot.SealedKind, place string, v []byte) ([]byte, error) {
		if kind == bot.SealedStory && !claimed {
			// A counsellor claims the case between the rotation's read and its save.
			claimed = true
			fresh, _ := s.GetCase(ctx, c.Code)
			fresh.Status, fresh.Counsellor = bot.StatusClaimed, "anna"
			if err := s.SaveCase(ctx, fresh); err != nil {
				t.Fatal(err)
			}
		}
		return toKey2(kind, place, v)
	}
	counts, err := s.Reseal(ctx, fn)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetCase(ctx, c.Code)
	if got.Status != bot.StatusClaimed || got.Counsellor != "anna" || !bytes.Equal(got.Story, []byte("\x02story")) || !bytes.Equal(got.ReturnAddr, []byte("\x02addr")) {
		t.Errorf("case after rotation with a claim in between: %s by %q, story %q, address %q", got.Status, got.Counsellor, got.Story, got.ReturnAddr)
	}
	entries, _ := s.Entries(ctx, c.Code)
	if len(entries) != 2 || string(entries[0].Text) != "\x02hello" || len(entries[1].Text) != 0 || !entries[0].At.Equal(c.Created) {
		t.Errorf("thread after rotation: %+v", entries)
	}
	for kind, n := range map[bot.SealedKind]int{bot.SealedStory: 1, bot.SealedAddress: 1, bot.SealedEntry: 1} {
		if c := counts[kind]; c.Resealed != n || c.ByKey[2] != n || len(c.ByKey) != 1 {
			t.Errorf("%s: %+v, want %d re-sealed", kind, *c, n)
		}
	}
}
