package limit_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"intake/bot/limit"
	"intake/bot/limit/limittest"
)

var t0 = time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)

// log records what ran, in order.
type log struct {
	mu  sync.Mutex
	ran []string
	ch  chan struct{}
}

func newLog() *log { return &log{ch: make(chan struct{}, 1000)} }

func (l *log) job(name string) func() {
	return func() {
		l.mu.Lock()
		l.ran = append(l.ran, name)
		l.mu.Unlock()
		l.ch <- struct{}{}
	}
}

func (l *log) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ran)
}

// waitFor waits until n jobs ran in all.
func (l *log) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(l.got()) < n {
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("only %d of %d jobs ran: %v", len(l.got()), n, l.got())
		}
	}
}

func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// TestLanesAdmission: what a burst of messages from one conversation gets, message by
// message, while the clock stands still. Messages that ask for help in danger are admitted
// with AdmitUrgent: they have room of their own beyond the backlog, other messages do not.
func TestLanesAdmission(t *testing.T) {
	rate := limit.Rate{Burst: 3, Every: time.Second}
	const N, H, D = limit.Now, limit.Held, limit.Dropped
	cases := []struct {
		name          string
		backlog       int
		urgentBacklog int
		urgent        []int // the messages admitted as urgent (1-based)
		want          []limit.Admission
		first         int // the message that is first over the limit (1-based; 0: none)
	}{
		{"within the burst", 2, 0, nil, []limit.Admission{N, N, N}, 0},
		{"held, then dropped beyond the backlog", 2, 0, nil, []limit.Admission{N, N, N, H, H, D, D}, 4},
		{"no backlog: dropped at once", -1, 0, nil, []limit.Admission{N, N, N, D, D}, 4},
		{"urgent within the backlog: held like any", 2, 2, []int{4}, []limit.Admission{N, N, N, H, H, D}, 4},
		{"urgent beyond a full backlog: held, the next plain one dropped", 2, 2, []int{6, 8},
			[]limit.Admission{N, N, N, H, H, H, D, H, D}, 4},
		{"a flood of urgent messages: bounded by the urgent backlog", 2, 2, []int{4, 5, 6, 7, 8},
			[]limit.Admission{N, N, N, H, H, H, H, D}, 4},
		{"urgent first over the limit", 2, 2, []int{4}, []limit.Admission{N, N, N, H}, 4},
		{"no backlog: only urgent messages held", -1, 1, []int{5, 6}, []limit.Admission{N, N, N, D, H, D}, 4},
		{"no urgent backlog: urgent dropped beyond the backlog", 2, -1, []int{6}, []limit.Admission{N, N, N, H, H, D}, 4},
		{"the default urgent backlog", 1, 0, seq(5, 11), []limit.Admission{N, N, N, H, H, H, H, H, H, D}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := limittest.NewClock(t0)
			block := make(chan struct{}) // the first job runs until the test ends
			l := limit.NewLanes(limit.LanesConfig{Rate: rate, Backlog: c.backlog, UrgentBacklog: c.urgentBacklog, Clock: clock})
			defer l.Close()
			defer close(block)
			for i := 1; i <= len(c.want); i++ {
				run := func() {}
				if i == 1 {
					run = func() { <-block }
				}
				admit := l.Admit
				if slices.Contains(c.urgent, i) {
					admit = l.AdmitUrgent
				}
				a, first := admit("student", run)
				if a != c.want[i-1] {
					t.Errorf("message %d: %v, want %v", i, a, c.want[i-1])
				}
				if first != (i == c.first) {
					t.Errorf("message %d: first %v", i, first)
				}
			}
		})
	}
}

// TestLanesUrgentBehindSlowTurns: when turns slower than the rate piled up a full queue,
// a plain message is dropped but an urgent one still queued, up to the urgent backlog.
func TestLanesUrgentBehindSlowTurns(t *testing.T) {
	clock := limittest.NewClock(t0)
	l := limit.NewLanes(limit.LanesConfig{Rate: limit.Rate{Burst: 5, Every: time.Second}, Backlog: 1, UrgentBacklog: 1, Clock: clock})
	defer l.Close()
	block, started := make(chan struct{}), make(chan struct{})
	defer close(block)
	l.Admit("student", func() { close(started); <-block })
	<-started
	var got []limit.Admission
	admit := func(f func(string, func()) (limit.Admission, bool)) {
		a, _ := f("student", func() {})
		got = append(got, a)
	}
	for range 4 {
		admit(l.Admit) // four wait behind the slow first turn
	}
	clock.Advance(time.Hour) // the bucket is full again: five more have tokens
	admit(l.Admit)
	admit(l.Admit)       // six wait: burst + backlog
	admit(l.Admit)       // dropped: the queue is full
	admit(l.AdmitUrgent) // queued in the urgent room
	admit(l.AdmitUrgent) // dropped: the urgent room is taken too
	want := []limit.Admission{limit.Now, limit.Now, limit.Now, limit.Now, limit.Now, limit.Now, limit.Dropped, limit.Now, limit.Dropped}
	if !slices.Equal(got, want) {
		t.Fatalf("admissions %v, want %v", got, want)
	}
}

// TestLanesHoldAndRelease: a flood from one conversation runs in order, held messages run
// as tokens come back, nothing within the backlog is lost, and another conversation is
// never held up by it.
func TestLanesHoldAndRelease(t *testing.T) {
	clock := limittest.NewClock(t0)
	l := limit.NewLanes(limit.LanesConfig{Rate: limit.Rate{Burst: 3, Every: time.Second}, Backlog: 4, Clock: clock})
	defer l.Close()
	ran := newLog()
	var got []limit.Admission
	for i := 1; i <= 10; i++ {
		a, _ := l.Admit("flood", ran.job(fmt.Sprint("f", i)))
		got = append(got, a)
	}
	want := []limit.Admission{limit.Now, limit.Now, limit.Now, limit.Held, limit.Held, limit.Held, limit.Held, limit.Dropped, limit.Dropped, limit.Dropped}
	if !slices.Equal(got, want) {
		t.Fatalf("admissions %v, want %v", got, want)
	}
	ran.waitFor(t, 3)
	// The clock stands still: the held ones wait, and a quiet conversation is not slowed.
	for i := 1; i <= 3; i++ {
		if a, _ := l.Admit("quiet", ran.job(fmt.Sprint("q", i))); a != limit.Now {
			t.Fatalf("quiet message %d: %v", i, a)
		}
	}
	ran.waitFor(t, 6)
	if g := ran.got(); !slices.Equal(g[:3], names("f", 1, 3)) || !slices.Equal(filter(g, "q"), names("q", 1, 3)) {
		t.Fatalf("ran %v", g)
	}
	// Priority work runs before the held messages, without a token.
	l.Priority("flood", ran.job("notice"))
	ran.waitFor(t, 7)
	if g := ran.got(); g[6] != "notice" {
		t.Fatalf("priority work did not run before the held messages: %v", g)
	}
	// One token a second: move the clock until all four held messages ran, in order.
	for i := 0; i < 20 && len(ran.got()) < 11; i++ {
		clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond) // let the lane take its token before the next move
	}
	ran.waitFor(t, 11)
	if f := filter(ran.got(), "f"); !slices.Equal(f, names("f", 1, 7)) {
		t.Fatalf("the flood ran %v, want f1..f7 in order", f)
	}
}

// TestLanesCloseReleasesHeld: stopping does not wait for tokens; what was held runs.
func TestLanesCloseReleasesHeld(t *testing.T) {
	clock := limittest.NewClock(t0)
	l := limit.NewLanes(limit.LanesConfig{Rate: limit.Rate{Burst: 1, Every: time.Hour}, Backlog: 2, Clock: clock})
	ran := newLog()
	for i := 1; i <= 3; i++ {
		l.Admit("student", ran.job(fmt.Sprint("m", i)))
	}
	l.Close()
	if g := ran.got(); !slices.Equal(g, names("m", 1, 3)) {
		t.Fatalf("after Close ran %v", g)
	}
	if a, _ := l.Admit("student", func() {}); a != limit.Dropped {
		t.Errorf("a message after Close: %v", a)
	}
	if l.Queue("group", func() {}) || l.Priority("student", func() {}) {
		t.Error("work accepted after Close")
	}
}

// TestLanesQueueIsNotLimited: work queued without a rate (a counsellor's claim) is never
// held, only bounded.
func TestLanesQueueIsNotLimited(t *testing.T) {
	clock := limittest.NewClock(t0)
	l := limit.NewLanes(limit.LanesConfig{Rate: limit.Rate{Burst: 1, Every: time.Hour}, Backlog: 1, Clock: clock})
	defer l.Close()
	ran := newLog()
	block, started := make(chan struct{}), make(chan struct{})
	l.Queue("group", func() { close(started); <-block })
	<-started
	accepted := 0
	for i := 1; i <= 5; i++ {
		if l.Queue("group", ran.job(fmt.Sprint("c", i))) {
			accepted++
		}
	}
	close(block)
	ran.waitFor(t, accepted)
	if accepted != 2 { // burst + backlog waiting at most
		t.Errorf("%d of 5 accepted behind a running claim, want 2", accepted)
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func filter(s []string, prefix string) []string {
	var out []string
	for _, x := range s {
		if len(x) > len(prefix) && x[:len(prefix)] == prefix && x[len(prefix)] >= '0' && x[len(prefix)] <= '9' {
			out = append(out, x)
		}
	}
	return out
}
