package redis_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestKeysHoldNoPlatformID stores everything one conversation leaves behind and checks the
// exact key layout: keys are built only from what the engine passes (a pseudonym, ids it
// drew), so the platform user id appears in no key and no value.
func TestKeysHoldNoPlatformID(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	const platformID = "987654321"
	mac := hmac.New(sha256.New, []byte("test pepper"))
	mac.Write([]byte("telegram:" + platformID))
	conv := hex.EncodeToString(mac.Sum(nil))

	sealed := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	saveSession(t, s, conv, string(sealed(300)))
	if _, err := s.FirstSeen(ctx, "telegram", "550001", time.Hour); err != nil {
		t.Fatalf("dedupe: %v", err)
	}
	if err := s.PutFlow(ctx, "intake", "9c4e57bf", []byte("id: intake\n")); err != nil {
		t.Fatalf("put flow: %v", err)
	}
	cs := bot.Case{
		Code: "K7Q2-M9XD", IntakeID: "6f1c0a9e2b", Kind: bot.CaseHandoff, Status: bot.StatusPending,
		Channel: "telegram", Lang: "nl", Fields: map[string]string{"category": "stalking"},
		Story: sealed(500), ReturnAddr: sealed(60), Created: created,
	}
	r := bot.Record{Year: 2025, Month: 11, Channel: "telegram", Kind: bot.CaseHandoff, Fields: cs.Fields}
	if _, err := s.CreateCase(ctx, cs, r); err != nil {
		t.Fatalf("create case: %v", err)
	}
	// The desk's side: a thread, a reply waiting in the outbox, an account with a login
	// session and a failed login.
	if err := s.AppendEntry(ctx, cs.Code, bot.Entry{At: created, From: bot.FromCounsellor, Kind: bot.EntryMessage, Text: sealed(200)}); err != nil {
		t.Fatalf("append entry: %v", err)
	}
	if err := s.Enqueue(ctx, "telegram", sealed(300)); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if _, err := s.ReadOutbox(ctx, "telegram", "telegram-1", 10, 0); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	if _, err := s.ReadAnnouncements(ctx, "telegram", "telegram-1", 10, 0); err != nil {
		t.Fatalf("read announcements: %v", err)
	}
	if err := s.PutAccount(ctx, bot.Account{Name: "anna", Role: bot.RoleCounsellor, PassHash: "$argon2id$x"}); err != nil {
		t.Fatalf("put account: %v", err)
	}
	const tokenHash = "3f9a0c1d2e4b5a6978877665544332211f0e0d0c0b0a09080706050403020100"
	if err := s.PutLogin(ctx, tokenHash, "anna", time.Hour); err != nil {
		t.Fatalf("put login: %v", err)
	}
	if _, err := s.CountFailure(ctx, "anna", time.Hour); err != nil {
		t.Fatalf("count failure: %v", err)
	}
	// A turn in progress also holds the lock key.
	l, _, err := s.Lock(ctx, conv)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer func() { _ = s.Unlock(ctx, l) }()

	want := []string{
		prefix + "s:{" + conv + "}",
		prefix + "s:{" + conv + "}:lock",
		prefix + "d:telegram:550001",
		prefix + "f:intake:9c4e57bf",
		prefix + "{case}:c:K7Q2-M9XD",
		prefix + "{case}:i:6f1c0a9e2b",
		prefix + "{case}:pending",
		prefix + "{case}:reg:2025",
		prefix + "{case}:open",
		prefix + "{case}:announce",
		prefix + "{case}:t:K7Q2-M9XD",
		prefix + "{out:telegram}",
		prefix + "{desk}:acct:anna",
		prefix + "{desk}:accts",
		prefix + "{desk}:login:" + tokenHash,
		prefix + "{desk}:fail:anna",
	}
	dump := redistest.Dump(t, c, prefix)
	var got []string
	for key, value := range dump {
		got = append(got, key)
		if strings.Contains(key, platformID) {
			t.Errorf("key %q holds the platform id", key)
		}
		if strings.Contains(value, platformID) {
			t.Errorf("the value of key %q holds the platform id", key)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys:\n got  %q\n want %q", got, want)
	}
}
