package bot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestTurnIDs: every turn's log lines carry an id of their own, random, so an operator can
// follow one turn without the log saying whose it was. Two turns of one conversation get
// different ids; the same conversation replayed on a fresh engine gets different ids again
// (so they are not computed from the key or the message); no id holds the key or its hash.
func TestTurnIDs(t *testing.T) {
	const key = "conversation-key-canary-5d41402abc4b2a76"
	sum := sha256.Sum256([]byte(key))
	keyHash := hex.EncodeToString(sum[:])

	run := func() []string {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		store := redistest.New(t, redis.Options{})
		e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Keys: bottest.Keys(t), Logger: log}, bottest.DefaultContent(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []bot.Inbound{{Open: true}, {Text: "1"}} {
			in.Channel, in.Key, in.LangHint = "test", key, "en"
			if _, err := e.Handle(context.Background(), in); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var rec struct{ Msg, Turn string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if rec.Msg == "turn handled" {
				ids = append(ids, rec.Turn)
			}
		}
		if len(ids) != 2 {
			t.Fatalf("%d turn lines with an id, want 2:\n%s", len(ids), logs.String())
		}
		return ids
	}

	first, again := run(), run()
	if first[0] == first[1] {
		t.Errorf("two turns of one conversation share the id %q", first[0])
	}
	seen := map[string]bool{}
	for _, id := range append(first, again...) {
		if id == "" || seen[id] {
			t.Errorf("turn id %q is empty or repeats across replays %v %v: not random per turn", id, first, again)
		}
		seen[id] = true
		if strings.Contains(key, id) || strings.Contains(id, key) || strings.Contains(keyHash, id) || strings.Contains(id, keyHash[:16]) {
			t.Errorf("turn id %q holds the conversation key or its hash", id)
		}
	}
}
