package limit

import (
	"sync"
	"time"
)

// Backlog is how many messages of a conversation over its rate are held back and run as
// its tokens come back (one a second), before more are dropped. Losing a student's words
// is worse than answering late, so a flustered student who sends a story in twenty pieces,
// or taps a button again and again, loses nothing; twenty is also at most twenty seconds
// of waiting, so a reply still belongs to what they wrote, and it bounds what a flooding
// account can make this process hold: PerConversation.Burst + Backlog messages (and
// UrgentBacklog more that ask for help in danger).
const Backlog = 20

// UrgentBacklog is how many messages that ask for help in danger a conversation may have
// waiting beyond Backlog (see AdmitUrgent). Such a message must never be lost to the rate:
// the student gets the 24/7 numbers at once anyway, but only its turn marks the
// conversation and its case urgent, so that a counsellor sees it. One urgent turn is enough
// for that (marking is idempotent); a few more keep the words of a student who writes
// their crisis in several pieces while flooding. Five waits at most five more seconds
// behind the backlog and bounds what a script sending crisis words without end can make
// this process hold: PerConversation.Burst + Backlog + UrgentBacklog messages.
const UrgentBacklog = 5

// maxPriority bounds the priority work waiting per conversation: the notice that it is
// over its rate and the crisis numbers, at most one of each at a time.
const maxPriority = 2

// Admission is what Lanes.Admit did with a message.
type Admission int

const (
	// Now: the message is queued and runs in its turn.
	Now Admission = iota
	// Held: the conversation is over its rate; the message is queued and runs when a
	// token comes back.
	Held
	// Dropped: the conversation is over its rate and its backlog is full (for a message
	// admitted as urgent: the urgent backlog beyond it too), or the lanes are closed; the
	// message is not queued.
	Dropped
)

func (a Admission) String() string {
	switch a {
	case Now:
		return "now"
	case Held:
		return "held"
	}
	return "dropped"
}

// Clock is the time Lanes go by; tests use a clock they move by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// LanesConfig configures Lanes; zero values get the defaults.
type LanesConfig struct {
	// Rate is each conversation's rate (PerConversation).
	Rate Rate
	// Backlog is how many messages over the rate each conversation may have waiting
	// (Backlog); negative: none.
	Backlog int
	// UrgentBacklog is how many messages admitted as urgent may wait beyond Backlog
	// (UrgentBacklog); negative: none.
	UrgentBacklog int
	// Parallel bounds how much work runs at once over all conversations (0: no bound).
	// A conversation waiting for a token does not count.
	Parallel int
	// MaxKeys bounds the rate limiter's memory (DefaultMaxKeys).
	MaxKeys int
	Clock   Clock
}

// Lanes run the messages of each conversation one at a time, in arrival order, and
// conversations in parallel: a slow turn, or a conversation that floods, holds up only
// itself. The engine's lock alone would keep two turns of one conversation from
// interleaving, but not keep their order.
//
// A conversation over its rate has its messages held back, up to the backlog, and run in
// order as its tokens come back; beyond the backlog they are dropped, except a message
// that asks for help in danger, which has a small backlog of its own on top (AdmitUrgent).
// Priority work of a conversation (telling the student to slow down, the crisis numbers)
// runs before its held messages, without waiting for a token.
type Lanes struct {
	rate    *Limiter
	backlog int
	urgent  int // how many urgent messages may wait beyond the backlog
	clock   Clock
	slots   chan struct{} // nil: no bound

	mu      sync.Mutex
	lanes   map[id]*lane // present while the conversation has work
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

type lane struct {
	jobs     []job
	held     int      // jobs that wait for a token
	priority []func() // run before the jobs
	wake     chan struct{}
}

type job struct {
	run  func()
	held bool // needs a token before it runs
}

// NewLanes returns lanes with cfg.
func NewLanes(cfg LanesConfig) *Lanes {
	cfg.Rate = cfg.Rate.Or(PerConversation)
	switch {
	case cfg.Backlog == 0:
		cfg.Backlog = Backlog
	case cfg.Backlog < 0:
		cfg.Backlog = 0
	}
	switch {
	case cfg.UrgentBacklog == 0:
		cfg.UrgentBacklog = UrgentBacklog
	case cfg.UrgentBacklog < 0:
		cfg.UrgentBacklog = 0
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	l := &Lanes{
		rate: New(cfg.Rate, cfg.MaxKeys), backlog: cfg.Backlog, urgent: cfg.UrgentBacklog, clock: cfg.Clock,
		lanes: map[id]*lane{}, closing: make(chan struct{}),
	}
	if cfg.Parallel > 0 {
		l.slots = make(chan struct{}, cfg.Parallel)
	}
	return l
}

// maxQueued bounds the messages of a conversation queued with a token: more than a burst
// only piles up behind turns slower than the rate. Held messages are bounded by the
// backlog on top of it.
func (l *Lanes) maxQueued() int { return l.rate.rate.Burst + l.backlog }

// Admit queues run on the lane of key (a conversation) under its rate. first is true for
// the first message held or dropped since the conversation's rate limit last cleared (its
// bucket was full again): the moment to tell the student, once.
func (l *Lanes) Admit(key string, run func()) (a Admission, first bool) {
	return l.admit(key, 0, run)
}

// AdmitUrgent is Admit for a message that asks for help in danger: where Admit would drop
// it because the conversation's backlog is full, it is still held, in its place in the
// conversation's order, as long as fewer than the urgent backlog wait beyond the backlog.
// Only a flood of such messages beyond that is dropped. Every other message stays bounded
// by the backlog alone, so the urgent room is left for urgent messages.
func (l *Lanes) AdmitUrgent(key string, run func()) (a Admission, first bool) {
	return l.admit(key, l.urgent, run)
}

// admit is Admit with extra room beyond the bounds of what is queued and held.
func (l *Lanes) admit(key string, extra int, run func()) (a Admission, first bool) {
	k := l.rate.id(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Dropped, false
	}
	ln := l.lanes[k]
	if ln == nil || ln.held == 0 {
		// Nothing is held back: the message may run now, if it has a token.
		var ok bool
		if ok, first = l.rate.take(k, l.clock.Now()); ok {
			if ln != nil && len(ln.jobs) >= l.maxQueued()+extra {
				return Dropped, false // turns slower than the rate piled up
			}
			l.push(k, job{run: run})
			return Now, false
		}
	}
	if room := l.backlog + extra; room == 0 || (ln != nil && ln.held >= room) {
		return Dropped, first
	}
	ln = l.push(k, job{run: run, held: true})
	ln.held++
	return Held, first
}

// Queue queues run on the lane of key without a rate: work that must keep its order but
// is not a student's message (a counsellor's claim). It reports false when the lane is
// full or the lanes are closed.
func (l *Lanes) Queue(key string, run func()) bool {
	k := l.rate.id(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	if ln := l.lanes[k]; ln != nil && len(ln.jobs) >= l.maxQueued() {
		return false
	}
	l.push(k, job{run: run})
	return true
}

// Priority runs run on the lane of key before its waiting messages and without a token,
// as soon as the work running now is done. It reports false when the lanes are closed or
// the conversation already has maxPriority such runs waiting.
func (l *Lanes) Priority(key string, run func()) bool {
	k := l.rate.id(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	ln := l.lane(k)
	if len(ln.priority) >= maxPriority {
		return false
	}
	ln.priority = append(ln.priority, run)
	select {
	case ln.wake <- struct{}{}: // a lane waiting for a token runs it first
	default:
	}
	return true
}

// push appends j to k's lane, starting the lane when it was idle. Called with l.mu held.
func (l *Lanes) push(k id, j job) *lane {
	ln := l.lane(k)
	ln.jobs = append(ln.jobs, j)
	return ln
}

// lane returns k's lane, starting it when it was idle. Called with l.mu held.
func (l *Lanes) lane(k id) *lane {
	ln := l.lanes[k]
	if ln == nil {
		ln = &lane{wake: make(chan struct{}, 1)}
		l.lanes[k] = ln
		l.wg.Add(1)
		go l.drain(k, ln)
	}
	return ln
}

// drain runs k's lane until it has nothing left.
func (l *Lanes) drain(k id, ln *lane) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		if len(ln.priority) > 0 {
			f := ln.priority[0]
			ln.priority = ln.priority[1:]
			l.mu.Unlock()
			l.runOne(f)
			continue
		}
		if len(ln.jobs) == 0 {
			delete(l.lanes, k)
			l.mu.Unlock()
			return
		}
		j := ln.jobs[0]
		l.mu.Unlock()
		if j.held && !l.token(k, ln) {
			continue // woken for priority work
		}
		l.mu.Lock()
		ln.jobs[0] = job{}
		ln.jobs = ln.jobs[1:]
		if j.held {
			ln.held--
		}
		l.mu.Unlock()
		l.runOne(j.run)
	}
}

// token waits until k has a token and takes it. It reports false when woken for priority
// work first. Once the lanes are closing it takes none: what is queued runs at once, and
// the caller's work decides whether it still can.
func (l *Lanes) token(k id, ln *lane) bool {
	for {
		now := l.clock.Now()
		if ok, _ := l.rate.take(k, now); ok {
			return true
		}
		select {
		case <-l.clock.After(l.rate.wait(k, now)):
		case <-ln.wake:
			return false
		case <-l.closing:
			return true
		}
	}
}

// runOne runs f in a free slot; the slot is given back even if f panics (f recovers its
// own panics; this only keeps the count right).
func (l *Lanes) runOne(f func()) {
	if l.slots != nil {
		l.slots <- struct{}{}
		defer func() { <-l.slots }()
	}
	f()
}

// Close takes no more work, stops holding messages back, and returns when every lane has
// run dry.
func (l *Lanes) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.closing)
	}
	l.mu.Unlock()
	l.wg.Wait()
}
