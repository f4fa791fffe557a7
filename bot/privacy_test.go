package bot_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestCanariesNeverStoredOrLogged plants a platform id and a story sentence, runs a whole
// intake with a handoff, and proves neither (nor its plain SHA-256) appears in any Redis
// key or value, or in the debug log.
func TestCanariesNeverStoredOrLogged(t *testing.T) {
	const platformID = "tg-user-918273645"
	const story = "CANARY the tutor grabbed my arm in room 4.021"
	client, prefix := redistest.Client(t)
	store := redis.New(client, redis.Options{Prefix: prefix})
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Keys: testKeys(t), Logger: log}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	names, _ := bot.NewPseudonyms(bytes.Repeat([]byte{3}, 32))
	s := newStudent(t, e, "en")
	s.key = names.Key("telegram", platformID)
	toStory(t, s)
	s.say(story)
	s.tap("profile.no")
	s.tap("outcome.advice")
	s.tap("contact.chat")
	s.tap("urgency.no")
	s.tap("summary.confirm_talk")
	s.say("/nonsense " + story) // an unknown command echoes only the command word
	if s.session().CaseCode == "" {
		t.Fatal("no case was handed off")
	}

	canaries := []string{platformID, story, "grabbed my arm"}
	for _, c := range []string{platformID, story} {
		sum := sha256.Sum256([]byte(c))
		canaries = append(canaries, hex.EncodeToString(sum[:]), string(sum[:]))
	}
	dump := redistest.Dump(t, client, prefix)
	if len(dump) == 0 {
		t.Fatal("nothing stored: the test would prove nothing")
	}
	for k, v := range dump {
		for _, c := range canaries {
			if strings.Contains(k, c) || strings.Contains(v, c) {
				t.Errorf("canary %q found in Redis key %q", c, k)
			}
		}
	}
	for _, c := range canaries {
		if strings.Contains(logs.String(), c) {
			t.Errorf("canary %q found in the log", c)
		}
	}
}
