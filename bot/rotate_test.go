package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// keyring returns a keyring of keys (by id) sealing with current.
func keyring(t *testing.T, current byte, keys map[byte][]byte) *bot.Keyring {
	t.Helper()
	k, err := bot.NewKeyring(keys, current)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyedService is an engine and a desk on store sealing with keys: one replica's
// configuration.
func keyedService(t *testing.T, store *redis.Store, keys *bot.Keyring) (*bot.Engine, *bot.Desk) {
	t.Helper()
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Outbox: store, Accounts: store, Keys: keys}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	return e, bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e, Keys: keys})
}

// TestRotationLetsTheOldKeyGo: everything sealed with key 1 (a conversation mid-intake, a
// claimed case with its times and messages both ways, a counsellor message waiting in the
// outbox) is sealed again with key 2; with key 1 removed the student continues, the
// counsellor reads the thread and the waiting message is delivered, and Redis holds no
// value of key 1.
func TestRotationLetsTheOldKeyGo(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Client(t)
	store := redis.New(client, redis.Options{Prefix: prefix})
	k1, k2 := bot.RandomKey(), bot.RandomKey()

	e1, d1 := keyedService(t, store, keyring(t, 1, map[byte][]byte{1: k1}))
	if err := d1.AddAccount(ctx, "anna", bot.RoleCounsellor, bottest.Password("anna")); err != nil {
		t.Fatal(err)
	}
	anna := account(t, d1, "anna")
	mid := newStudent(t, e1, "en")
	mid.key = "student-mid-intake"
	toStory(t, mid)
	s := newStudent(t, e1, "en")
	code := handoff(t, s, "He waits outside my room every evening.")
	if err := d1.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	s.inbox()
	if err := d1.Send(ctx, anna, code, "Are you safe right now?"); err != nil {
		t.Fatal(err)
	}
	s.inbox()
	s.say("Yes, I am at my parents' house.")
	if err := d1.Send(ctx, anna, code, "Can we call tomorrow at ten?"); err != nil {
		t.Fatal(err)
	}

	both := keyring(t, 2, map[byte][]byte{1: k1, 2: k2})
	before, err := bot.Rotate(ctx, store, both, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := bot.Rotate(ctx, store, both, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[bot.SealedKind]int{bot.SealedSession: 2, bot.SealedStory: 1, bot.SealedAddress: 1, bot.SealedEntry: 3, bot.SealedOutbox: 1, bot.SealedClock: 1}
	for kind, n := range want {
		c := r.Kinds[kind]
		if c.Resealed != n || c.ByKey[2] != n || len(c.ByKey) != 1 || before.Kinds[kind].ByKey[1] != n {
			t.Errorf("%s: before %v; resealed %d, now %v; want %d moved from key 1 to key 2", kind, before.Kinds[kind].ByKey, c.Resealed, c.ByKey, n)
		}
	}
	if before.Old() != 9 || r.Old() != 0 {
		t.Errorf("old values before %d (want 9), after %d (want 0)", before.Old(), r.Old())
	}
	again, err := bot.Rotate(ctx, store, both, false)
	if err != nil || again.Old() != 0 || again.ByKey()[2] != 9 || again.Kinds[bot.SealedSession].Resealed != 0 {
		t.Errorf("a second run must find everything done and change nothing: %+v, %v", again, err)
	}

	only2 := keyring(t, 2, map[byte][]byte{2: k2})
	check, err := bot.Rotate(ctx, store, only2, true)
	if err != nil || check.Old() != 0 || check.ByKey()[2] != 9 {
		t.Errorf("check with key 2 alone: %v old, by key %v, %v", check.Old(), check.ByKey(), err)
	}
	if ids := sealedKeyIDs(t, redistest.Dump(t, client, prefix), prefix); ids[1] != 0 || ids[2] != 9 {
		t.Errorf("values per key id in a dump of Redis: %v, want only key 2, 9 values", ids)
	}

	e2, d2 := keyedService(t, store, only2)
	mid.e, s.e = e2, e2
	reply := mid.say("It started after the study trip.")
	if mid.node() == "story" || strings.Contains(texts(reply), mid.text("engine.flow_changed")) {
		t.Errorf("the conversation mid-intake did not continue:\n%s", texts(reply))
	}
	if got := s.inbox(); len(got) != 1 || !strings.Contains(got[0].Text, "Can we call tomorrow at ten?") {
		t.Errorf("the waiting counsellor message was not delivered: %v", got)
	}
	s.say("Yes, ten is fine.")
	det, err := d2.Case(ctx, account(t, d2, "anna"), code)
	if err != nil {
		t.Fatal(err)
	}
	var thread []string
	for _, it := range det.Thread {
		if it.Text != "" {
			thread = append(thread, it.From+": "+it.Text)
		}
	}
	wantThread := []string{"counsellor: Are you safe right now?", "student: Yes, I am at my parents' house.",
		"counsellor: Can we call tomorrow at ten?", "student: Yes, ten is fine."}
	if det.Story != "He waits outside my room every evening." || !slices.Equal(thread, wantThread) {
		t.Errorf("the desk reads story %q and thread %q", det.Story, thread)
	}
}

// sealedKeyIDs counts the sealed values in a dump of the store's keys by their key id,
// reading each kind of key the way the store writes it.
func sealedKeyIDs(t *testing.T, dump map[string]string, prefix string) map[byte]int {
	t.Helper()
	ids := map[byte]int{}
	for k, v := range dump {
		name := strings.TrimPrefix(k, prefix)
		switch {
		case strings.HasPrefix(name, "s:{") && strings.HasSuffix(name, "}"):
			ids[bot.KeyID([]byte(v))]++
		case strings.HasPrefix(name, "{case}:c:"):
			var c bot.Case
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			for _, p := range c.SealedParts() {
				if len(*p.Value) > 0 {
					ids[bot.KeyID(*p.Value)]++
				}
			}
		case strings.HasPrefix(name, "{case}:t:"):
			for _, line := range strings.Split(v, "\n") {
				var e bot.Entry
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				if len(e.Text) > 0 {
					ids[bot.KeyID(e.Text)]++
				}
			}
		case strings.HasPrefix(name, "{out:"):
			// Dump writes each stream message as "ID map[d:SEALED]".
			for rest := v; ; {
				i := strings.Index(rest, " map[d:")
				if i < 0 {
					break
				}
				rest = rest[i+len(" map[d:"):]
				ids[rest[0]]++
			}
		}
	}
	return ids
}

// TestRotationDuringTurnsLosesNoUpdate: students keep talking while rotations run over
// and over, and every turn's save survives. The replicas still seal with key 1 (the first
// step of a rollout) while the rotation seals with key 2, so every pass finds every
// conversation to seal again between its turns: the most writes racing the turns.
func TestRotationDuringTurnsLosesNoUpdate(t *testing.T) {
	ctx := context.Background()
	store := redistest.New(t, redis.Options{})
	keys := map[byte][]byte{1: bot.RandomKey(), 2: bot.RandomKey()}
	e, _ := keyedService(t, store, keyring(t, 1, keys))
	rotating := keyring(t, 2, keys)

	const students, turns = 4, 16 // 16: the session remembers the last 16 update ids
	stop := make(chan struct{})
	var resealed atomic.Int64
	rotated := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				rotated <- nil
				return
			default:
			}
			r, err := bot.Rotate(ctx, store, rotating, false)
			if err != nil {
				rotated <- err
				return
			}
			resealed.Add(int64(r.Kinds[bot.SealedSession].Resealed))
		}
	}()
	var wg sync.WaitGroup
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("busy-%d", i)
			var sent []string
			for n := range turns {
				id := fmt.Sprintf("u%d", n)
				sent = append(sent, id)
				_, err := e.Handle(ctx, bot.Inbound{Channel: "test", Key: key, UpdateID: id, LangHint: "en", Text: "/help"})
				if err != nil {
					t.Errorf("student %d, turn %d: %v", i, n, err)
					return
				}
			}
			sess, err := e.Session(ctx, key)
			if err != nil || sess == nil || !slices.Equal(sess.Seen, sent) {
				t.Errorf("student %d: the session remembers updates %v, want %v (%v)", i, sessSeen(sess), sent, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-rotated; err != nil {
		t.Fatal(err)
	}
	if resealed.Load() == 0 {
		t.Error("no rotation sealed a session again while the students talked: the test raced nothing")
	}
}

func sessSeen(s *bot.Session) []string {
	if s == nil {
		return nil
	}
	return s.Seen
}
