package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A platform delivers an update again when it never heard that the update arrived: the
// process died after the turn was saved but before or while its reply went out, the
// acknowledgement was lost, or a slow replica got a second copy while another handled the
// first. The turn itself is never run twice (the session's Seen list); what a second
// delivery may still need is the reply. So the session keeps the reply to its latest update
// (sealed with the rest of it), and a repeat of that update gets it again, unless the
// reply is known to have reached the student: the channel calls Delivered once it is sent.
//
// The window that remains: a process killed while a reply is going out, before the
// platform was told the update arrived, leaves no mark, so that reply is sent again in
// full; the student may see the messages sent before the kill twice. Nothing short of a
// write per message could tell how far it got. And a repeat arriving while another replica
// still sends the reply waits up to markWait for that replica's mark.

// LastReply is the reply to the latest update of a conversation, kept until the next.
type LastReply struct {
	Update   string    `json:"u"`
	Messages []Message `json:"m,omitempty"`
}

// SentMarks remembers, per conversation, the latest update whose reply reached the
// student. It holds no content: a conversation key and a platform's update id.
type SentMarks interface {
	// MarkSent records marks (conversation key → update id) for a while.
	MarkSent(ctx context.Context, marks map[string]string) error
	// SentMark returns the conversation's mark, "" when there is none.
	SentMark(ctx context.Context, key string) (string, error)
}

const (
	// markDelay is how long a mark waits for others to be written with it: on a busy
	// service one write carries the marks of many turns, so marking adds no round trip
	// to a turn.
	markDelay = 10 * time.Millisecond
	// markPoll is how often the store is asked for a mark that is waited for.
	markPoll = 50 * time.Millisecond
)

// markWait is how long a repeated update waits for the mark of a reply that another
// replica may still be sending, before sending it again. It is well above the time a
// reply of a few messages takes to go out, even on a busy machine, and well below the
// time another turn of the conversation waits for its lock. Tests shorten it.
var markWait = 2 * time.Second

// Delivered records that r, the reply to in, has reached the student, so a later
// delivery of the same update gets no second copy. Marks are written a moment later,
// together. A repeat that sent nothing marks nothing: its reply was marked before, or its
// update is older than the conversation's latest, whose mark must stay.
func (e *Engine) Delivered(in Inbound, r Reply) {
	if in.UpdateID == "" || in.Key == "" || r.Repeat && len(r.Messages) == 0 {
		return
	}
	e.marks.add(in.Key, in.UpdateID)
}

// seen reports whether the update was handled before in this conversation.
func (t *turn) seen() bool {
	for _, id := range t.s.Seen {
		if id == t.in.UpdateID {
			return true
		}
	}
	return false
}

// repeat answers an update delivered again. Its turn was done and saved; the reply to the
// latest update is sent again unless it is known to have arrived. An older update's reply
// is not: later replies followed it, and repeating it would take the student back.
func (t *turn) repeat() error {
	t.repeated = true
	if last := t.s.Last; last != nil && last.Update == t.in.UpdateID && !t.e.replyArrived(t.ctx, t.log, t.in) {
		t.out = append(t.out, last.Messages...)
	}
	return nil
}

// keepReply stores the turn's reply in the session for a repeat of its update.
func (t *turn) keepReply() {
	if t.in.UpdateID == "" || t.repeated || t.erase {
		return
	}
	t.s.Last = &LastReply{Update: t.in.UpdateID, Messages: t.out}
}

// replyArrived reports whether the reply to in is marked as delivered: by this process, or
// in the store. A missing mark is waited for a little, as the replica that sent the reply
// may not have written it yet; a store that cannot answer counts as no mark, since a
// reply twice is better than none.
func (e *Engine) replyArrived(ctx context.Context, log *slog.Logger, in Inbound) bool {
	if e.marks.has(in.Key, in.UpdateID) {
		return true
	}
	if e.cfg.Sent == nil {
		return false
	}
	deadline := time.Now().Add(markWait)
	for {
		mark, err := e.cfg.Sent.SentMark(ctx, in.Key)
		switch {
		case err != nil:
			log.Warn("delivery mark unreadable; the reply is sent again", "err", err)
			return false
		case mark == in.UpdateID || e.marks.has(in.Key, in.UpdateID):
			return true
		case time.Now().After(deadline):
			return false
		}
		t := time.NewTimer(markPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// markBatch collects delivery marks and writes them together, markDelay after the first.
type markBatch struct {
	store SentMarks
	log   *slog.Logger
	// flushing keeps writes in order: a newer mark never lands before an older one.
	flushing sync.Mutex

	mu      sync.Mutex
	pending map[string]string // conversation key → update id, not yet written
	writing map[string]string // being written now
	timer   *time.Timer
}

func newMarkBatch(store SentMarks, log *slog.Logger) *markBatch {
	return &markBatch{store: store, log: log, pending: map[string]string{}}
}

func (b *markBatch) add(key, update string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending[key] = update
	if b.store != nil && b.timer == nil {
		b.timer = time.AfterFunc(markDelay, b.flush)
	}
	if b.store == nil && len(b.pending) > 10000 {
		// Without a store the marks serve only this process's own repeats: keep the
		// newest few, dropping the rest, rather than grow without end.
		b.pending = map[string]string{key: update}
	}
}

func (b *markBatch) has(key, update string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pending[key] == update || b.writing[key] == update
}

// FlushMarks writes the delivery marks still waiting for their batch. The service calls it
// when stopping, after its last turn: a mark lost there would make a restarted replica send
// that reply again if the platform repeats the update.
func (e *Engine) FlushMarks() {
	b := e.marks
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
	}
	ready := b.store != nil && len(b.pending) > 0
	b.mu.Unlock()
	if ready {
		b.flush()
	}
}

func (b *markBatch) flush() {
	b.flushing.Lock()
	defer b.flushing.Unlock()
	b.mu.Lock()
	b.writing, b.pending, b.timer = b.pending, map[string]string{}, nil
	batch := b.writing
	b.mu.Unlock()
	if len(batch) == 0 {
		return // written by a flush just before this one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.store.MarkSent(ctx, batch); err != nil {
		// Lost marks cost at most a reply sent twice, if the update comes again.
		b.log.Warn("delivery marks not stored", "marks", len(batch), "err", err)
	}
	b.mu.Lock()
	b.writing = nil
	b.mu.Unlock()
}
