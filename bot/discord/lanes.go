package discord

import (
	"log/slog"
	"sync"
)

// maxQueued bounds the events waiting behind a conversation's running turn; more are
// dropped (a student cannot type that fast; a flood should not eat memory).
const maxQueued = 32

// lanes runs work one conversation at a time, in arrival order, and conversations in
// parallel: a slow turn (a lock wait, a rate-limited reply) holds up only its own
// conversation. The engine's lock alone would keep turns from interleaving but not keep
// their order.
type lanes struct {
	log     *slog.Logger
	mu      sync.Mutex
	waiting map[string][]func() // present while the key's lane runs
	closed  bool
	wg      sync.WaitGroup
}

func newLanes(log *slog.Logger) *lanes {
	return &lanes{log: log, waiting: map[string][]func(){}}
}

// run queues f on key's lane and returns at once; after close it drops f.
func (l *lanes) run(key string, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if q, busy := l.waiting[key]; busy {
		if len(q) >= maxQueued {
			l.log.Warn("conversation floods the bot; event dropped")
			return
		}
		l.waiting[key] = append(q, f)
		return
	}
	l.waiting[key] = nil
	l.wg.Add(1)
	go l.drain(key, f)
}

func (l *lanes) drain(key string, f func()) {
	defer l.wg.Done()
	for f != nil {
		f()
		l.mu.Lock()
		if q := l.waiting[key]; len(q) > 0 {
			f, l.waiting[key] = q[0], q[1:]
		} else {
			delete(l.waiting, key)
			f = nil
		}
		l.mu.Unlock()
	}
}

// close takes no more work and returns when every lane has run dry.
func (l *lanes) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
}
