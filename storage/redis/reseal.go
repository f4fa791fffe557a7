package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// Key rotation: every sealed value is handed to a bot.ResealFunc and what it returns is
// written back the way the service writes that place, so a rotation never overwrites what
// the service wrote meanwhile.

var _ bot.SealedStore = (*Store)(nil)

// resealAttempts bounds how often one value is read again because it changed under Reseal.
const resealAttempts = 5

// resealLockWait bounds the wait for a conversation's lock; a turn holds it milliseconds.
const resealLockWait = 5 * time.Second

// deliveryGrace is how long ago an outbox message must have been read by a consumer for
// Reseal to move it although it was not acknowledged: a delivery takes seconds, so one
// read earlier belongs to a consumer that died and gets it again when it comes back, and
// then finds it moved. A message read more recently is left for a later run, so nobody
// gets it twice.
const deliveryGrace = time.Minute

// resealSessionScript stores a re-sealed session and releases the lock, only while the
// token holds it, keeping the session's idle TTL (a rotation is not the student's
// activity) and not bringing back a session that expired meanwhile.
// KEYS: session, lock. ARGV: token, session.
// Returns 1 when saved, 0 when the lock was lost, -1 when the session is gone.
var resealSessionScript = goredis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
	return -1
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// resealEntryScript replaces one thread entry, only while it is still the entry that was
// read: entries are only ever appended, or the whole thread deleted (withdrawal, purge).
// KEYS: thread. ARGV: index, entry as read, new entry. Returns 1 when replaced, else 0.
var resealEntryScript = goredis.NewScript(`
if redis.call('LINDEX', KEYS[1], ARGV[1]) ~= ARGV[2] then
	return 0
end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// moveOutboxScript moves the messages of an outbox from a given one to the end of the
// stream, in order, with new values: a stream entry cannot be changed in place. Moving
// every message from the first re-sealed one on, not only the re-sealed ones, keeps the
// order the student reads them in. It refuses when the stream changed since it was read
// (a message added or delivered) and when one of them was read by a consumer less than
// the grace time ago and not acknowledged (it is being delivered). A moved message that
// was pending for a dead consumer comes back to it without values and is acknowledged
// and skipped (see readGroup); its copy is delivered as a new message.
// KEYS: outbox. ARGV: consumer group, grace in ms, then for every message from the first
// to move to the end of the stream its id and its new value.
// Returns how many moved, 0 when the stream changed, -1 when one is being delivered.
var moveOutboxScript = goredis.NewScript(luaXAddSeq + `
local n = (#ARGV - 2) / 2
local tail = redis.call('XRANGE', KEYS[1], ARGV[3], '+')
if #tail ~= n then
	return 0
end
for i = 1, n do
	if tail[i][1] ~= ARGV[2 * i + 1] then
		return 0
	end
end
for i = 1, n do
	local id = ARGV[2 * i + 1]
	local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], id, id, 1)
	if type(p) == 'table' and not p.err and #p > 0 and tonumber(p[1][3]) < tonumber(ARGV[2]) then
		return -1
	end
end
for i = 1, n do
	xaddSeq(KEYS[1], {}, {'d', ARGV[2 * i + 2]})
	redis.call('XDEL', KEYS[1], ARGV[2 * i + 1])
end
return n
`)

// Reseal hands every sealed value in the store to fn and writes back what fn returns (nil:
// leave it), each the way the service writes that place, so it is safe while replicas
// serve:
//   - a session under its conversation lock, keeping its idle TTL;
//   - the sealed parts of a case (bot.Case.SealedParts) with SaveCase's revision check,
//     read again on a conflict; a desk action that read the case before gets
//     bot.ErrConflict and reads it again, as after any change;
//   - a thread entry only while it is still the entry that was read;
//   - the messages of an outbox by moving them, in order, to the end of the stream, unless
//     one is being delivered right now (counted Busy; a later run moves them).
//
// It finds sessions, cases and outboxes with SCAN, on every master of a cluster, so it
// sees what exists when it looks; what the service writes meanwhile is sealed with the
// service's own current key. Values fn leaves alone cost one read and no write, so a run
// can be repeated, and an interrupted one is finished by running it again.
func (s *Store) Reseal(ctx context.Context, fn bot.ResealFunc) (map[bot.SealedKind]*bot.SealedCount, error) {
	counts := map[bot.SealedKind]*bot.SealedCount{}
	for _, k := range bot.SealedKinds {
		counts[k] = bot.NewSealedCount()
	}
	sessions, err := s.keysMatching(ctx, "s:{*}")
	if err != nil {
		return counts, fmt.Errorf("reseal sessions: %w", err)
	}
	for _, key := range sessions {
		conv := strings.TrimSuffix(strings.TrimPrefix(key, s.prefix+"s:{"), "}")
		if err := s.resealSession(ctx, conv, fn, counts[bot.SealedSession]); err != nil {
			return counts, fmt.Errorf("reseal sessions: %w", err)
		}
	}
	cases, err := s.keysMatching(ctx, strings.TrimPrefix(s.caseKey(""), s.prefix)+"*")
	if err != nil {
		return counts, fmt.Errorf("reseal cases: %w", err)
	}
	for _, key := range cases {
		code := strings.TrimPrefix(key, s.caseKey(""))
		if err := s.resealCase(ctx, code, fn, counts); err != nil {
			return counts, fmt.Errorf("reseal case %s: %w", code, err)
		}
		if err := s.resealThread(ctx, code, fn, counts[bot.SealedEntry]); err != nil {
			return counts, fmt.Errorf("reseal thread of case %s: %w", code, err)
		}
	}
	outboxes, err := s.keysMatching(ctx, "{out:*}")
	if err != nil {
		return counts, fmt.Errorf("reseal outboxes: %w", err)
	}
	for _, key := range outboxes {
		name := strings.TrimSuffix(strings.TrimPrefix(key, s.prefix+"{out:"), "}")
		if err := s.resealOutbox(ctx, name, fn, counts[bot.SealedOutbox]); err != nil {
			return counts, fmt.Errorf("reseal outbox: %w", err)
		}
	}
	return counts, nil
}

// resealSession re-seals one session. It reads it without the lock first, so a session
// that needs nothing is not locked at all; one that does is read again under the lock.
func (s *Store) resealSession(ctx context.Context, conv string, fn bot.ResealFunc, count *bot.SealedCount) error {
	keys := s.sessionKeys(conv)
	data, err := s.c.Get(ctx, keys[0]).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil // expired since SCAN
	}
	if err != nil {
		return err
	}
	if fresh, err := fn(bot.SealedSession, conv, data); err != nil || fresh == nil {
		tally(count, data, err)
		return nil
	}
	lockCtx, cancel := context.WithTimeout(ctx, resealLockWait)
	lock, locked, err := s.Lock(lockCtx, conv)
	cancel()
	if err != nil {
		if errors.Is(err, bot.ErrBusy) && ctx.Err() == nil {
			count.Busy++
			count.ByKey[bot.KeyID(data)]++ // as read before the lock
			return nil
		}
		return err
	}
	data = locked
	fresh, err := fn(bot.SealedSession, conv, data)
	if data == nil || err != nil || fresh == nil {
		if uerr := s.Unlock(ctx, lock); uerr != nil {
			return uerr
		}
		if data != nil {
			tally(count, data, err)
		}
		return nil
	}
	res, err := resealSessionScript.Run(ctx, s.c, keys, lock.Token, fresh).Int()
	if err != nil {
		s.release(ctx, lock)
		return err
	}
	switch res {
	case 1:
		count.Resealed++
		count.ByKey[bot.KeyID(fresh)]++
	case 0:
		// Held past the lock TTL (10 s for a few milliseconds' work): a turn may have
		// saved since, so nothing was written; a later run takes it.
		count.Busy++
		count.ByKey[bot.KeyID(data)]++
	}
	return nil
}

// resealCase re-seals the sealed parts of one case (its thread is resealThread's).
func (s *Store) resealCase(ctx context.Context, code string, fn bot.ResealFunc, counts map[bot.SealedKind]*bot.SealedCount) error {
	type part struct {
		kind       bot.SealedKind
		old, fresh []byte
		err        error
	}
	for attempt := 1; ; attempt++ {
		c, err := s.GetCase(ctx, code)
		if err != nil || c == nil {
			return err
		}
		var parts []part
		changed := false
		for _, p := range c.SealedParts() {
			if len(*p.Value) == 0 {
				continue
			}
			fresh, err := fn(p.Kind, code, *p.Value)
			parts = append(parts, part{p.Kind, *p.Value, fresh, err})
			if err == nil && fresh != nil {
				*p.Value, changed = fresh, true
			}
		}
		saved := false
		if changed && attempt <= resealAttempts {
			err = s.SaveCase(ctx, c)
			if errors.Is(err, bot.ErrConflict) {
				continue // changed meanwhile (a desk action, a student's message): read again
			}
			if err != nil {
				return err
			}
			saved = true
		}
		for _, p := range parts {
			count := counts[p.kind]
			switch {
			case p.err != nil || p.fresh == nil:
				tally(count, p.old, p.err)
			case saved:
				count.Resealed++
				count.ByKey[bot.KeyID(p.fresh)]++
			default:
				count.Busy++
				count.ByKey[bot.KeyID(p.old)]++
			}
		}
		return nil
	}
}

// resealThread re-seals the texts of a case's thread entries, one at a time.
func (s *Store) resealThread(ctx context.Context, code string, fn bot.ResealFunc, count *bot.SealedCount) error {
	key := s.threadKey(code)
	raws, err := s.c.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return err
	}
	for i, raw := range raws {
		for attempt := 1; ; attempt++ {
			var e bot.Entry
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return fmt.Errorf("decode entry %d: %w", i, err)
			}
			if len(e.Text) == 0 {
				break
			}
			fresh, err := fn(bot.SealedEntry, code, e.Text)
			if err != nil || fresh == nil {
				tally(count, e.Text, err)
				break
			}
			if attempt > resealAttempts {
				count.Busy++
				count.ByKey[bot.KeyID(e.Text)]++
				break
			}
			e.Text = fresh
			next, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode entry %d: %w", i, err)
			}
			res, err := resealEntryScript.Run(ctx, s.c, []string{key}, i, raw, next).Int()
			if err != nil {
				return err
			}
			if res == 1 {
				count.Resealed++
				count.ByKey[bot.KeyID(fresh)]++
				break
			}
			// Not the entry that was read: the thread was deleted (withdrawn, purged) or
			// another rotation got there first. Read it again.
			raw, err = s.c.LIndex(ctx, key, int64(i)).Result()
			if errors.Is(err, goredis.Nil) {
				return nil // the thread is gone
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// resealOutbox re-seals the messages waiting in one outbox.
func (s *Store) resealOutbox(ctx context.Context, name string, fn bot.ResealFunc, count *bot.SealedCount) error {
	key := s.outboxKey(name)
	for attempt := 1; ; attempt++ {
		msgs, err := s.c.XRange(ctx, key, "-", "+").Result()
		if err != nil {
			return err
		}
		first := -1
		old := make([][]byte, len(msgs))
		fresh := make([][]byte, len(msgs))
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			d, _ := m.Values["d"].(string)
			old[i] = []byte(d)
			fresh[i], errs[i] = fn(bot.SealedOutbox, name, old[i])
			if errs[i] == nil && fresh[i] != nil && first < 0 {
				first = i
			}
		}
		moved := false
		if first >= 0 && attempt <= resealAttempts {
			args := []any{deliverGroup, deliveryGrace.Milliseconds()}
			for i := first; i < len(msgs); i++ {
				v := old[i]
				if errs[i] == nil && fresh[i] != nil {
					v = fresh[i]
				}
				args = append(args, msgs[i].ID, v)
			}
			res, err := moveOutboxScript.Run(ctx, s.c, []string{key}, args...).Int()
			if err != nil {
				return err
			}
			if res == 0 {
				continue // a message came or went meanwhile: read again
			}
			moved = res > 0
		}
		for i := range msgs {
			switch {
			case errs[i] != nil || fresh[i] == nil:
				tally(count, old[i], errs[i])
			case moved:
				count.Resealed++
				count.ByKey[bot.KeyID(fresh[i])]++
			default:
				count.Busy++
				count.ByKey[bot.KeyID(old[i])]++
			}
		}
		return nil
	}
}

// tally counts a value left as it is: under its key id, and as unreadable when fn could
// not open it.
func tally(count *bot.SealedCount, sealed []byte, err error) {
	count.ByKey[bot.KeyID(sealed)]++
	if err != nil {
		count.Unreadable++
	}
}

// keysMatching returns the keys under the prefix matching the glob pattern match after
// it, each once, from every master.
func (s *Store) keysMatching(ctx context.Context, match string) ([]string, error) {
	var mu sync.Mutex // a cluster's masters are scanned concurrently
	seen := map[string]bool{}
	var out []string
	err := s.eachKeys(ctx, match, func(_ context.Context, _ goredis.Cmdable, keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			// SCAN may return a key twice (while the table grows).
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return out, nil
}

// globEscape escapes the characters SCAN's MATCH pattern treats specially, so a prefix
// matches only itself.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`).Replace(s)
}
