package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// announceMaxLen bounds the announcement stream (approximately: MAXLEN ~ lets Redis trim
// whole blocks). Announcements are only "look at the queue" nudges; the queue itself is
// the open index, so trimming old ones loses nothing a counsellor needs.
const announceMaxLen = 10000

// luaNullEmpty is shared by the scripts that decode, change and re-encode JSON. cjson
// cannot tell an empty object from an empty array once decoded, and the servers differ in
// what they write back (Redis writes {}, miniredis []), so either way Go could fail to
// decode [] into a map or {} into a slice. Every empty table becomes null instead, which
// Go decodes into any field type as its zero value. miniredis has no cjson.null; there
// the field is dropped, which Go reads the same way.
const luaNullEmpty = `
local function nullEmpty(t)
	for k, v in pairs(t) do
		if type(v) == 'table' then
			if next(v) == nil then
				t[k] = cjson.null
			else
				nullEmpty(v)
			end
		end
	end
end
`

// luaQueueScore is the score a handoff keeps in the queue indexes: a sequence number, one
// more than the newest case in the open index (which holds every queued case), so the
// queue keeps its order without a time in clear. A case in the open index keeps its score.
const luaQueueScore = `
local function queueScore(open, code)
	local score = redis.call('ZSCORE', open, code)
	if score then
		return score
	end
	local last = redis.call('ZRANGE', open, -1, -1, 'WITHSCORES')
	if #last == 0 then
		return 1
	end
	return tonumber(last[2]) + 1
end
`

// createCaseScript stores a case once per intake: when the intake already made one it returns
// that code and writes nothing (so a retried turn announces nothing either, and is never
// refused by the cap on new cases).
// A new case counts against the cap on new cases (casecap.go): the hour's counter is read,
// and raised only when the case is stored, in the same script.
// A handoff joins the queue indexes with the next queue score (luaQueueScore) and is
// announced with a sequence id (luaXAddSeq). A registration enters the done index at once,
// scored by its creation day, so its sealed story is purged the retention time after it
// was made.
// KEYS: case, intake, registry year, pending, open, announce, done, the hour's case
// counter. ARGV: code, case JSON, record id, record JSON, "1" for a handoff (queue and
// announce it), done score, announce MAXLEN, cap (0: none), counter TTL in ms.
// Returns the case code, 0 when the code belongs to another intake, or -1 when the cap is
// reached.
var createCaseScript = goredis.NewScript(luaQueueScore + luaXAddSeq + `
local stored = redis.call('GET', KEYS[2])
if stored then
	return stored
end
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
local cap = tonumber(ARGV[8])
if cap > 0 then
	if tonumber(redis.call('GET', KEYS[8]) or '0') >= cap then
		return -1
	end
	if redis.call('INCR', KEYS[8]) == 1 then
		redis.call('PEXPIRE', KEYS[8], ARGV[9])
	end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[4])
if ARGV[5] == '1' then
	local score = queueScore(KEYS[5], ARGV[1])
	redis.call('ZADD', KEYS[4], score, ARGV[1])
	redis.call('ZADD', KEYS[5], score, ARGV[1])
	xaddSeq(KEYS[6], {'MAXLEN', '~', ARGV[7]}, {'code', ARGV[1], 'reason', 'new'})
else
	redis.call('ZADD', KEYS[7], ARGV[6], ARGV[1])
end
return ARGV[1]
`)

// withdrawCaseScript erases a case's content and thread, marks it withdrawn, takes it off
// both queue indexes and bumps its revision, so a desk action that read the case before
// cannot save the erased story back. The thread and index entries go even when the case
// itself is gone.
// KEYS: case, pending, open, thread. ARGV: code, withdrawn status.
// Returns 1, or 0 when there is no case. The JSON field names are bot.Case's tags.
var withdrawCaseScript = goredis.NewScript(luaNullEmpty + `
redis.call('DEL', KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local raw = redis.call('GET', KEYS[1])
if not raw then
	return 0
end
local c = cjson.decode(raw)
if c['status'] == ARGV[2] then
	return 1
end
c['story'] = nil
c['addr'] = nil
c['clock'] = nil
c['status'] = ARGV[2]
c['rev'] = (tonumber(c['rev']) or 0) + 1
nullEmpty(c)
redis.call('SET', KEYS[1], cjson.encode(c), 'KEEPTTL')
return 1
`)

// saveCaseScript writes a case only when its stored revision is the expected one, keeps the
// queue indexes in step, and writes the follow-up of a closed case into its registry
// record. The new JSON comes from Go with the next revision already in it; the script only
// decodes the stored case to read its revision and status, so the case is stored exactly
// as Go encoded it.
// A queued case keeps its queue score (luaQueueScore), so a released case goes back to its
// place. A closed handoff joins the done index (scored by its closing day) for the
// retention purge; a handoff that is not closed leaves it. Registrations are left as they
// are: they joined it when created.
// KEYS: case, pending, open, done, then the registry hashes to look for the record in.
// ARGV: code, expected revision, case JSON, "1" to be pending, "1" to be open, follow-up
// ("" to leave the record alone), record id, withdrawn status, done ("1" add, "0" remove,
// "" leave alone), done score.
// Returns 1 when saved, 0 on a revision mismatch, -1 when there is no case, -2 when the
// case is withdrawn, -3 when the follow-up has no registry record to go into.
var saveCaseScript = goredis.NewScript(luaNullEmpty + luaQueueScore + `
local raw = redis.call('GET', KEYS[1])
if not raw then
	return -1
end
local cur = cjson.decode(raw)
if (tonumber(cur['rev']) or 0) ~= tonumber(ARGV[2]) then
	return 0
end
if cur['status'] == ARGV[8] then
	return -2
end
if ARGV[6] ~= '' then
	local key, rec
	for i = 5, #KEYS do
		rec = redis.call('HGET', KEYS[i], ARGV[7])
		if rec then
			key = KEYS[i]
			break
		end
	end
	if not key then
		return -3
	end
	local r = cjson.decode(rec)
	r['followup'] = ARGV[6]
	nullEmpty(r)
	redis.call('HSET', key, ARGV[7], cjson.encode(r))
end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
local score = 0
if ARGV[4] == '1' or ARGV[5] == '1' then
	score = queueScore(KEYS[3], ARGV[1])
end
if ARGV[4] == '1' then
	redis.call('ZADD', KEYS[2], score, ARGV[1])
else
	redis.call('ZREM', KEYS[2], ARGV[1])
end
if ARGV[5] == '1' then
	redis.call('ZADD', KEYS[3], score, ARGV[1])
else
	redis.call('ZREM', KEYS[3], ARGV[1])
end
if ARGV[9] == '1' then
	redis.call('ZADD', KEYS[4], ARGV[10], ARGV[1])
elseif ARGV[9] == '0' then
	redis.call('ZREM', KEYS[4], ARGV[1])
end
return 1
`)

// purgeCaseScript erases the story, return address and thread of a closed handoff or a
// registration, marks it purged and bumps its revision (so a desk action that read the case
// before cannot save the story back), and takes the code off the done index. Cases in any
// other status keep their content; the code leaves the index all the same.
// KEYS: case, thread, done. ARGV: code, closed status, registered status.
// Returns 1 when content was purged, 0 when there was nothing to purge.
var purgeCaseScript = goredis.NewScript(luaNullEmpty + `
redis.call('ZREM', KEYS[3], ARGV[1])
local raw = redis.call('GET', KEYS[1])
if not raw then
	return 0
end
local c = cjson.decode(raw)
if c['status'] ~= ARGV[2] and c['status'] ~= ARGV[3] then
	return 0
end
redis.call('DEL', KEYS[2])
if c['purged'] == true then
	return 0
end
c['story'] = nil
c['addr'] = nil
c['clock'] = nil
c['purged'] = true
c['rev'] = (tonumber(c['rev']) or 0) + 1
nullEmpty(c)
redis.call('SET', KEYS[1], cjson.encode(c), 'KEEPTTL')
return 1
`)

// appendEntryScript adds a thread entry, only to a case that is there and not withdrawn: a
// counsellor's reply racing the student's withdrawal must not bring an erased thread back.
// An entry with an id already among the latest recentEntries is there already (see
// bot.Entry.ID) and is not added again.
// KEYS: case, thread. ARGV: entry JSON, withdrawn status, entry id or "", recentEntries.
// Returns 1 when added (or there already), -1 when there is no case, -2 when it is
// withdrawn.
var appendEntryScript = goredis.NewScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then
	return -1
end
if cjson.decode(raw)['status'] == ARGV[2] then
	return -2
end
if ARGV[3] ~= '' then
	for _, e in ipairs(redis.call('LRANGE', KEYS[2], -tonumber(ARGV[4]), -1)) do
		if cjson.decode(e)['id'] == ARGV[3] then
			return 1
		end
	end
end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`)

// caseKey and its siblings share the {case} hash tag, so the case scripts touch one slot.
func (s *Store) caseKey(code string) string     { return s.prefix + "{case}:c:" + code }
func (s *Store) intakeKey(intake string) string { return s.prefix + "{case}:i:" + intake }
func (s *Store) pendingKey() string             { return s.prefix + "{case}:pending" }
func (s *Store) openKey() string                { return s.prefix + "{case}:open" }
func (s *Store) doneKey() string                { return s.prefix + "{case}:done" }
func (s *Store) announceKey() string            { return s.prefix + "{case}:announce" }
func (s *Store) threadKey(code string) string   { return s.prefix + "{case}:t:" + code }
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
// retried turn gets back the code stored the first time and writes nothing. A handoff also
// joins the pending and open indexes and is announced ({code, reason "new"} on the
// announcement stream) in the same script. ErrCodeTaken when c.Code belongs to another
// intake; bot.ErrTooManyCases when Options.MaxCasesPerHour new cases were stored this hour
// (nothing is written then).
func (s *Store) CreateCase(ctx context.Context, c bot.Case, r bot.Record) (string, error) {
	if err := checkCase(c, r); err != nil {
		return "", fmt.Errorf("create case: %w", err)
	}
	// Stored without empty containers, as the scripts write them back (see luaNullEmpty).
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
	handoff := "0"
	if c.Kind == bot.CaseHandoff {
		handoff = "1"
	}
	keys := []string{s.caseKey(c.Code), s.intakeKey(c.IntakeID), s.registryKey(r.Year),
		s.pendingKey(), s.openKey(), s.announceKey(), s.doneKey(), s.caseCapKey()}
	res, err := createCaseScript.Run(ctx, s.c, keys, c.Code, caseJSON, recordID(c.IntakeID),
		recJSON, handoff, c.Created.UnixMilli(), announceMaxLen, s.cases.max, ms(caseCapTTL)).Result()
	if err != nil {
		return "", fmt.Errorf("create case: %w", err)
	}
	switch v := res.(type) {
	case string:
		return v, nil
	case int64:
		if v < 0 {
			return "", fmt.Errorf("create case: %w", bot.ErrTooManyCases)
		}
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
	case c.Kind == bot.CaseHandoff && c.Status != bot.StatusPending:
		// The queue indexes follow the status; a handoff enters them as pending.
		return fmt.Errorf("a new handoff must be %s, not %q", bot.StatusPending, c.Status)
	case r.Year <= 0:
		return errors.New("record without a year")
	}
	return nil
}

// WithdrawCase erases the case's story, return address and thread, takes it off the queue
// indexes and marks it withdrawn, with a new revision so that no desk action holding the
// case from before can save the content back; the registry record stays. A case that is
// not there, or already withdrawn, is no error: there is nothing left to erase.
func (s *Store) WithdrawCase(ctx context.Context, code string) error {
	keys := []string{s.caseKey(code), s.pendingKey(), s.openKey(), s.threadKey(code)}
	if err := withdrawCaseScript.Run(ctx, s.c, keys, code, bot.StatusWithdrawn).Err(); err != nil {
		return fmt.Errorf("withdraw case: %w", err)
	}
	return nil
}

// SaveCase writes c only if the stored case still has revision c.Rev, stores it with Rev+1
// and sets c.Rev to that; bot.ErrConflict when the case changed meanwhile (nothing is
// written then). In the same script it puts a pending handoff in the pending index, a
// pending or claimed one in the open index and takes it out of them otherwise, and when c
// is closed with a follow-up it writes c.FollowUp into the case's registry record, leaving
// the record's other fields as they are.
//
// Withdrawal bumps the revision too, so a desk action that read the case before it gets
// bot.ErrConflict, reads again and sees it withdrawn. A withdrawn case read afterwards
// cannot be saved at all (its content is erased for good), nor can a case that was never
// created, nor can SaveCase withdraw one (WithdrawCase erases the content).
func (s *Store) SaveCase(ctx context.Context, c *bot.Case) error {
	if err := checkSave(c); err != nil {
		return fmt.Errorf("save case: %w", err)
	}
	next := *c
	next.Rev++
	caseJSON, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("save case: encode: %w", err)
	}
	handoff := c.Kind == bot.CaseHandoff
	pending := flag(handoff && c.Status == bot.StatusPending)
	open := flag(handoff && (c.Status == bot.StatusPending || c.Status == bot.StatusClaimed))
	followUp := ""
	if c.Status == bot.StatusClosed {
		followUp = c.FollowUp
	}
	// The record is filed under the year the engine gave it, which is the local year of
	// the intake, while Created is usually UTC: around New Year the two differ by one, so
	// the script looks in the neighbouring years too. The record id is unique per intake,
	// so it is found in at most one of them.
	y := c.Created.Year()
	keys := []string{s.caseKey(c.Code), s.pendingKey(), s.openKey(), s.doneKey(),
		s.registryKey(y), s.registryKey(y + 1), s.registryKey(y - 1)}
	// A closed handoff waits in the done index for the purge, from its closing time on;
	// once purged it has nothing left to purge.
	done, doneAt := "", c.ClosedAt
	if doneAt.IsZero() {
		doneAt = c.Created
	}
	if handoff {
		done = flag(c.Status == bot.StatusClosed && !c.Purged)
	}
	res, err := saveCaseScript.Run(ctx, s.c, keys, c.Code, c.Rev, caseJSON, pending, open,
		followUp, recordID(c.IntakeID), bot.StatusWithdrawn, done, doneAt.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("save case: %w", err)
	}
	switch res {
	case 1:
		c.Rev = next.Rev
		return nil
	case 0:
		return fmt.Errorf("save case: %w", bot.ErrConflict)
	case -1:
		return errors.New("save case: no such case")
	case -2:
		return errors.New("save case: the case is withdrawn")
	case -3:
		return errors.New("save case: its registry record is missing, so the follow-up cannot be recorded")
	}
	return fmt.Errorf("save case: unexpected script reply %d", res)
}

// checkSave rejects what SaveCase cannot index or that would skip WithdrawCase's erasure.
func checkSave(c *bot.Case) error {
	switch {
	case c == nil:
		return errors.New("no case")
	case c.Code == "":
		return errors.New("no case code")
	case c.IntakeID == "":
		return errors.New("no intake id")
	case c.Created.IsZero():
		return errors.New("no creation time")
	case c.Status == bot.StatusWithdrawn:
		return errors.New("withdraw a case with WithdrawCase, which erases its content")
	case c.Status != bot.StatusPending && c.Status != bot.StatusClaimed && c.Status != bot.StatusClosed && c.Status != bot.StatusRegistered:
		return fmt.Errorf("unknown status %q", c.Status)
	}
	return nil
}

// flag renders a script boolean argument.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
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

// OpenCases returns every pending or claimed handoff, oldest first: the open index, then
// the cases in one MGET (two round trips, one when there are none). A case withdrawn or
// closed between the two reads is left out.
func (s *Store) OpenCases(ctx context.Context) ([]*bot.Case, error) {
	codes, err := s.c.ZRange(ctx, s.openKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	if len(codes) == 0 {
		return nil, nil
	}
	keys := make([]string, len(codes))
	for i, code := range codes {
		keys[i] = s.caseKey(code)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	cases := make([]*bot.Case, 0, len(vals))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // gone since ZRANGE
		}
		var c bot.Case
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, fmt.Errorf("open cases: decode case %d of %d: %w", i+1, len(codes), err)
		}
		if c.Status != bot.StatusPending && c.Status != bot.StatusClaimed {
			continue
		}
		cases = append(cases, &c)
	}
	return cases, nil
}

// recentEntries is how far back AppendEntry looks for an entry with the same id. A retry
// comes within seconds of its first try, and only the conversation's own turn (which holds
// its lock) and counsellors append in between.
const recentEntries = 20

// AppendEntry adds e to the end of the case's thread. It refuses a case that is not there
// or is withdrawn, so a late reply cannot recreate a thread WithdrawCase erased.
func (s *Store) AppendEntry(ctx context.Context, code string, e bot.Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append entry: encode: %w", err)
	}
	keys := []string{s.caseKey(code), s.threadKey(code)}
	res, err := appendEntryScript.Run(ctx, s.c, keys, raw, bot.StatusWithdrawn, e.ID, recentEntries).Int()
	if err != nil {
		return fmt.Errorf("append entry: %w", err)
	}
	switch res {
	case 1:
		return nil
	case -1:
		return errors.New("append entry: no such case")
	case -2:
		return errors.New("append entry: the case is withdrawn")
	}
	return fmt.Errorf("append entry: unexpected script reply %d", res)
}

// Entries returns the case's thread, oldest first (none for an unknown or withdrawn case).
func (s *Store) Entries(ctx context.Context, code string) ([]bot.Entry, error) {
	raws, err := s.c.LRange(ctx, s.threadKey(code), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("entries: %w", err)
	}
	entries := make([]bot.Entry, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &entries[i]); err != nil {
			return nil, fmt.Errorf("entries: decode entry %d: %w", i, err)
		}
	}
	return entries, nil
}

// purgeBatch is how many codes PurgeBefore reads from the done index at a time.
const purgeBatch = 500

// PurgeBefore erases the content (story, return address, thread) of every closed handoff
// closed before cutoff and every registration created before it, at most max of them (all
// when max <= 0), one script per case, and returns how many cases lost content. The cases
// keep their coded fields and status with Purged set; their registry records are not
// touched. Running it again purges nothing twice.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time, max int) (int, error) {
	n := 0
	for max <= 0 || n < max {
		count := int64(purgeBatch)
		if max > 0 && int64(max-n) < count {
			count = int64(max - n)
		}
		codes, err := s.c.ZRangeByScore(ctx, s.doneKey(), &goredis.ZRangeBy{
			Min: "-inf", Max: "(" + strconv.FormatInt(cutoff.UnixMilli(), 10), Count: count,
		}).Result()
		if err != nil {
			return n, fmt.Errorf("purge: %w", err)
		}
		for _, code := range codes {
			keys := []string{s.caseKey(code), s.threadKey(code), s.doneKey()}
			res, err := purgeCaseScript.Run(ctx, s.c, keys, code, bot.StatusClosed, bot.StatusRegistered).Int()
			if err != nil {
				return n, fmt.Errorf("purge: %w", err)
			}
			n += res
		}
		if int64(len(codes)) < count {
			break
		}
	}
	return n, nil
}
