package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// createCaseScript stores a case once per intake: when the intake already made one it returns
// that code and writes nothing.
// KEYS: case, intake, registry year, pending. ARGV: code, case JSON, record id, record JSON,
// "1" to queue, queue score.
// Returns the case code, or 0 when the code belongs to another intake.
var createCaseScript = goredis.NewScript(`
local stored = redis.call('GET', KEYS[2])
if stored then
	return stored
end
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[4])
if ARGV[5] == '1' then
	redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
end
return ARGV[1]
`)

// withdrawCaseScript erases a case's content, marks it withdrawn and takes it off the queue.
// KEYS: case, pending. ARGV: code, withdrawn status. Returns 1, or 0 when there is no case.
// The JSON field names are bot.Case's tags.
var withdrawCaseScript = goredis.NewScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then
	return 0
end
local c = cjson.decode(raw)
c['story'] = nil
c['addr'] = nil
c['status'] = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(c), 'KEEPTTL')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// caseKey and its siblings share the {case} hash tag, so the case scripts touch one slot.
func (s *Store) caseKey(code string) string     { return s.prefix + "{case}:c:" + code }
func (s *Store) intakeKey(intake string) string { return s.prefix + "{case}:i:" + intake }
func (s *Store) pendingKey() string             { return s.prefix + "{case}:pending" }
func (s *Store) registryKey(year int) string {
	return s.prefix + "{case}:reg:" + strconv.Itoa(year)
}

// recordID derives a registry record's field from the intake id: stable, so a retried
// intake writes its record once, and one-way, so the registry holds no intake id.
func recordID(intake string) string {
	sum := sha256.Sum256([]byte(intake))
	return hex.EncodeToString(sum[:])[:32]
}

// CreateCase stores c and, atomically with it, its registry record r, once per IntakeID: a
// retried turn gets back the code stored the first time. A handoff also joins the queue.
// ErrCodeTaken when c.Code belongs to another intake.
func (s *Store) CreateCase(ctx context.Context, c bot.Case, r bot.Record) (string, error) {
	if err := checkCase(c, r); err != nil {
		return "", fmt.Errorf("create case: %w", err)
	}
	// An empty map would come back from the withdraw script's cjson round trip as [] on
	// some servers (miniredis); nil stays null everywhere.
	if len(c.Fields) == 0 {
		c.Fields = nil
	}
	caseJSON, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("create case: encode case: %w", err)
	}
	recJSON, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("create case: encode record: %w", err)
	}
	queue := "0"
	if c.Kind == bot.CaseHandoff {
		queue = "1"
	}
	keys := []string{s.caseKey(c.Code), s.intakeKey(c.IntakeID), s.registryKey(r.Year), s.pendingKey()}
	res, err := createCaseScript.Run(ctx, s.c, keys,
		c.Code, caseJSON, recordID(c.IntakeID), recJSON, queue, c.Created.UnixMilli()).Result()
	if err != nil {
		return "", fmt.Errorf("create case: %w", err)
	}
	switch v := res.(type) {
	case string:
		return v, nil
	case int64:
		return "", fmt.Errorf("create case: %w", bot.ErrCodeTaken)
	default:
		return "", fmt.Errorf("create case: unexpected script reply %T", res)
	}
}

// checkCase rejects what would store a case that cannot be found or queued correctly.
func checkCase(c bot.Case, r bot.Record) error {
	switch {
	case c.Code == "":
		return errors.New("no case code")
	case c.IntakeID == "":
		return errors.New("no intake id")
	case c.Kind != bot.CaseRegistration && c.Kind != bot.CaseHandoff:
		return fmt.Errorf("unknown kind %q", c.Kind)
	case c.Created.IsZero():
		return errors.New("no creation time")
	case r.Year <= 0:
		return errors.New("record without a year")
	}
	return nil
}

// WithdrawCase erases the case's story and return address, takes it off the queue and marks
// it withdrawn; the registry record stays. A case that is not there is no error: there is
// nothing left to erase.
func (s *Store) WithdrawCase(ctx context.Context, code string) error {
	keys := []string{s.caseKey(code), s.pendingKey()}
	if err := withdrawCaseScript.Run(ctx, s.c, keys, code, bot.StatusWithdrawn).Err(); err != nil {
		return fmt.Errorf("withdraw case: %w", err)
	}
	return nil
}

// GetCase returns the case, or nil, nil when there is none.
func (s *Store) GetCase(ctx context.Context, code string) (*bot.Case, error) {
	raw, err := s.c.Get(ctx, s.caseKey(code)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get case: %w", err)
	}
	var c bot.Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("get case: decode: %w", err)
	}
	return &c, nil
}

// PendingCases lists the codes waiting for a counsellor, oldest first.
func (s *Store) PendingCases(ctx context.Context) ([]string, error) {
	codes, err := s.c.ZRange(ctx, s.pendingKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("pending cases: %w", err)
	}
	return codes, nil
}
