package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// deliverGroup is the one consumer group of every outbox: each delivery goes to one of the
// channel's consumers, however many replicas run one.
const deliverGroup = "deliver"

// outboxKey is the stream of one outbox. The whole name is the hash tag, so outboxes spread
// over a cluster while each stream stays in one slot.
func (s *Store) outboxKey(name string) string { return s.prefix + "{out:" + name + "}" }

// checkOutbox refuses names that would break the key's hash tag or its readability.
func checkOutbox(name string) error {
	switch {
	case name == "":
		return errors.New("no outbox name")
	case strings.ContainsAny(name, "{}"):
		return errors.New("outbox name holds a brace")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return errors.New("outbox name holds a control character")
	}
	return nil
}

// checkRead rejects reader arguments Redis would misread.
func checkRead(group, consumer string, count int) error {
	switch {
	case group == "":
		return errors.New("no consumer group")
	case consumer == "":
		return errors.New("no consumer name")
	case count < 1:
		return fmt.Errorf("count %d: want at least 1", count)
	}
	return nil
}

// luaXAddSeq adds a stream entry whose id is a sequence number ("0-1", "0-2", ...) instead
// of the time XADD * would write: ids keep the entries' order and say nothing about when
// they were made. A stream made before ids were sequences has time ids, below which XADD
// cannot go: it keeps getting time ids until it is deleted (SECURITY.md, "Times").
// xaddSeq(key, trim args, field/value list) returns the new id.
const luaXAddSeq = `
local function xaddSeq(key, trim, fields)
	local args = {'XADD', key}
	for _, a in ipairs(trim) do
		args[#args + 1] = a
	end
	local at = #args + 1
	args[at] = '0-*'
	for _, a in ipairs(fields) do
		args[#args + 1] = a
	end
	local id = redis.pcall(unpack(args))
	if type(id) == 'table' and id.err then
		args[at] = '*'
		id = redis.call(unpack(args))
	end
	return id
end
`

// announceScript adds an announcement. KEYS: stream. ARGV: code, reason, MAXLEN.
var announceScript = goredis.NewScript(luaXAddSeq + `
return xaddSeq(KEYS[1], {'MAXLEN', '~', ARGV[3]}, {'code', ARGV[1], 'reason', ARGV[2]})
`)

// ackAnnouncementScript acknowledges an announcement for one group and deletes it once no
// group needs it any more: every group has read past it and none holds it pending. Each
// channel adapter reads every announcement in its own group, so one group's
// acknowledgement alone must not delete it.
// KEYS: stream. ARGV: group, id. Returns 1 when the announcement was deleted, else 0.
var ackAnnouncementScript = goredis.NewScript(`
local function below(a, b)
	local am, as = string.match(a, '^(%d+)-(%d+)$')
	local bm, bs = string.match(b, '^(%d+)-(%d+)$')
	am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
	return am < bm or (am == bm and as < bs)
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
	return 0
end
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
	local name, last
	for i = 1, #g, 2 do
		if g[i] == 'name' then
			name = g[i + 1]
		elseif g[i] == 'last-delivered-id' then
			last = g[i + 1]
		end
	end
	if not last or below(last, ARGV[2]) then
		return 0
	end
	if #redis.call('XPENDING', KEYS[1], name, ARGV[2], ARGV[2], 1) > 0 then
		return 0
	end
end
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

// Announce adds an announcement to the stream, which keeps about the last 10000.
// CreateCase announces new handoffs itself; this is for reminders ("waiting").
func (s *Store) Announce(ctx context.Context, a bot.Announcement) error {
	if a.Code == "" {
		return errors.New("announce: no case code")
	}
	err := announceScript.Run(ctx, s.c, []string{s.announceKey()}, a.Code, a.Reason, announceMaxLen).Err()
	if err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	return nil
}

// ReadAnnouncements returns up to count announcements for consumer in group: first the
// ones it read before and did not acknowledge, then new ones, waiting up to block for new
// ones when it has none pending (0: no wait). The group is created on first use and starts
// at the beginning of the stream. Each group gets every announcement once (at least once:
// until acknowledged), so each channel adapter uses its own group.
//
// Consumers must use a stable name (the channel and replica, say, not a random one per
// start): a consumer that died with unacknowledged announcements gets them again only
// when it comes back under the same name. Announcements trimmed from the stream while
// pending are acknowledged and skipped.
//
// Round trips: two (the pending read, then the new read); one when count pending ones
// were there; plus one the first time this Store reads the group (creating it), and one
// when trimmed ones had to be acknowledged. ReadOutbox costs the same.
func (s *Store) ReadAnnouncements(ctx context.Context, group, consumer string, count int, block time.Duration) ([]bot.Announcement, error) {
	if err := checkRead(group, consumer, count); err != nil {
		return nil, fmt.Errorf("read announcements: %w", err)
	}
	msgs, err := s.readGroup(ctx, s.announceKey(), group, consumer, count, block)
	if err != nil {
		return nil, fmt.Errorf("read announcements: %w", err)
	}
	out := make([]bot.Announcement, 0, len(msgs))
	for _, m := range msgs {
		code, _ := m.Values["code"].(string)
		reason, _ := m.Values["reason"].(string)
		out = append(out, bot.Announcement{ID: m.ID, Code: code, Reason: reason})
	}
	return out, nil
}

// AckAnnouncement marks an announcement handled for group, and deletes it from the stream
// once every group has handled it (one script, one round trip). Until then it stays for
// the other groups; an announcement no group ever reads is trimmed away later.
func (s *Store) AckAnnouncement(ctx context.Context, group, id string) error {
	if err := ackAnnouncementScript.Run(ctx, s.c, []string{s.announceKey()}, group, id).Err(); err != nil {
		return fmt.Errorf("ack announcement: %w", err)
	}
	return nil
}

// enqueueScript adds a delivery with a sequence id and sets the outbox's expiry.
// KEYS: outbox. ARGV: sealed delivery, expiry as unix ms.
var enqueueScript = goredis.NewScript(luaXAddSeq + `
xaddSeq(KEYS[1], {}, {'d', ARGV[1]})
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`)

// Enqueue adds a sealed delivery to the named outbox. Outboxes are not trimmed: a message
// stays until a consumer acknowledges it.
func (s *Store) Enqueue(ctx context.Context, outbox string, sealed []byte) error {
	if err := checkOutbox(outbox); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	err := enqueueScript.Run(ctx, s.c, []string{s.outboxKey(outbox)}, sealed, outboxExpiry(time.Now())).Err()
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// OutboxTTL is how long an outbox is kept after its last message: a student who never
// comes back (a closed browser tab) does not leave sealed messages behind for ever; the
// case thread still holds them for the counsellor.
const OutboxTTL = 30 * 24 * time.Hour

// outboxExpiry is when an outbox written at now expires, in unix ms: OutboxTTL later,
// rounded up to the end of that day (UTC), so the expiry Redis keeps with the key tells
// the day of the last message, not its time.
func outboxExpiry(now time.Time) int64 {
	return now.Add(OutboxTTL).Truncate(24 * time.Hour).Add(24 * time.Hour).UnixMilli()
}

// DeleteOutbox removes an outbox and whatever waits in it (forget on a conversation's own
// outbox).
func (s *Store) DeleteOutbox(ctx context.Context, outbox string) error {
	if err := checkOutbox(outbox); err != nil {
		return fmt.Errorf("delete outbox: %w", err)
	}
	if err := s.c.Del(ctx, s.outboxKey(outbox)).Err(); err != nil {
		return fmt.Errorf("delete outbox: %w", err)
	}
	return nil
}

// ReadOutbox returns up to count deliveries of the outbox for consumer: first the ones it
// read before and did not acknowledge, then new ones, waiting up to block for new ones
// when it has none pending (0: no wait). All consumers of an outbox share one group, so
// each delivery goes to one of them. As for ReadAnnouncements, consumers must use a stable
// name: a consumer that died gets its unacknowledged deliveries again when it comes back
// under the same name, and only then.
//
// A blocked read is not interrupted by ctx (go-redis waits for the server's reply), so
// keep block short, a few seconds, for a prompt shutdown.
func (s *Store) ReadOutbox(ctx context.Context, outbox, consumer string, count int, block time.Duration) ([]bot.Delivery, error) {
	if err := checkOutbox(outbox); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if err := checkRead(deliverGroup, consumer, count); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	msgs, err := s.readGroup(ctx, s.outboxKey(outbox), deliverGroup, consumer, count, block)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]bot.Delivery, 0, len(msgs))
	for _, m := range msgs {
		d, _ := m.Values["d"].(string)
		out = append(out, bot.Delivery{ID: m.ID, Sealed: []byte(d)})
	}
	return out, nil
}

// AckOutbox marks a delivery done and removes it from the outbox: XACK and XDEL in one
// MULTI, one round trip. Acknowledging twice, or an unknown id, is no error.
func (s *Store) AckOutbox(ctx context.Context, outbox, id string) error {
	if err := checkOutbox(outbox); err != nil {
		return fmt.Errorf("ack outbox: %w", err)
	}
	key := s.outboxKey(outbox)
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.XAck(ctx, key, deliverGroup, id)
		p.XDel(ctx, key, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack outbox: %w", err)
	}
	return nil
}

// readGroup reads stream as consumer of group: its pending entries first (ID 0), then, when
// there is room left, new ones (ID >), blocking only when nothing was pending. Pending
// entries whose message was deleted (trimmed) come back without values: they are
// acknowledged and left out.
func (s *Store) readGroup(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]goredis.XMessage, error) {
	if err := s.ensureGroup(ctx, stream, group); err != nil {
		return nil, err
	}
	pending, err := s.xreadgroup(ctx, stream, group, consumer, "0", count, -1)
	if isNoGroup(err) {
		// The stream (and with it the group) was deleted since this Store created it.
		s.groups.Delete(stream + "\x00" + group)
		if err := s.ensureGroup(ctx, stream, group); err != nil {
			return nil, err
		}
		pending, err = s.xreadgroup(ctx, stream, group, consumer, "0", count, -1)
	}
	if err != nil {
		return nil, err
	}
	var out, gone []goredis.XMessage
	for _, m := range pending {
		if len(m.Values) == 0 {
			gone = append(gone, m)
			continue
		}
		out = append(out, m)
	}
	if len(gone) > 0 {
		ids := make([]string, len(gone))
		for i, m := range gone {
			ids[i] = m.ID
		}
		if err := s.c.XAck(ctx, stream, group, ids...).Err(); err != nil {
			return nil, err
		}
	}
	if len(pending) >= count {
		return out, nil
	}
	wait := time.Duration(-1) // go-redis: a negative Block sends no BLOCK at all
	if block > 0 && len(pending) == 0 {
		// BLOCK 0 means forever, so anything below a millisecond waits one.
		wait = max(block, time.Millisecond)
	}
	fresh, err := s.xreadgroup(ctx, stream, group, consumer, ">", count-len(pending), wait)
	if err != nil {
		return nil, err
	}
	return append(out, fresh...), nil
}

// xreadgroup reads one stream from id; none (not an error) when nothing came.
func (s *Store) xreadgroup(ctx context.Context, stream, group, consumer, id string, count int, block time.Duration) ([]goredis.XMessage, error) {
	res, err := s.c.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group:    group,
		Consumer: consumer,
		Streams:  []string{stream, id},
		Count:    int64(count),
		Block:    block,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var msgs []goredis.XMessage
	for _, st := range res {
		msgs = append(msgs, st.Messages...)
	}
	return msgs, nil
}

// ensureGroup creates group on stream (and the stream) once per Store; BUSYGROUP means
// another replica already did.
func (s *Store) ensureGroup(ctx context.Context, stream, group string) error {
	k := stream + "\x00" + group
	if _, ok := s.groups.Load(k); ok {
		return nil
	}
	err := s.c.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group: %w", err)
	}
	if err == nil && strings.HasPrefix(stream, s.prefix+"{out:") {
		// A read created the outbox: let it expire like one that received messages.
		if err := s.c.PExpireAt(ctx, stream, time.UnixMilli(outboxExpiry(time.Now()))).Err(); err != nil {
			return fmt.Errorf("create group: %w", err)
		}
	}
	s.groups.Store(k, struct{}{})
	return nil
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}
