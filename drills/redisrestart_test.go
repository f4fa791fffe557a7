package drills

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
)

// Drill 2 sizes and times.
const (
	outageStudents = 30
	outageDeadline = 90 * time.Second
	// outageFor is how long Redis stays down; readyWithin bounds how long /readyz may take
	// to say so, and to say it is back.
	outageFor   = 2 * time.Second
	readyWithin = 15 * time.Second
)

// TestRedisRestart: Redis with AOF (appendfsync everysec) is killed with SIGKILL while
// conversations run to their handoff, and started again on the same port and folder.
// Every case a student was shown a code for is still there, intake reconnects without a
// restart, /readyz answers 503 during the outage and 200 after it, and every conversation
// continues to its end (a student may get the calm error reply while Redis is away).
func TestRedisRestart(t *testing.T) {
	checkTexts(t, handoffPath)
	rng := &lockedRand{r: seed(t)}
	w := newWorld(t, true)
	p := w.serve("r1")
	w.api.SetWebhook(webhookSecret, p.webhook())
	ctx, cancel := context.WithTimeout(context.Background(), outageDeadline)
	defer cancel()

	students := make([]*student, outageStudents)
	var finished atomic.Int64
	var shownMu sync.Mutex
	var shown []string // receipt codes, as students get them
	errs := make(chan error, len(students))
	var wg sync.WaitGroup
	for i := range students {
		s := newStudent(w.api, 7_360_000_000+int64(i), handoffPath)
		s.allowErrors = true
		students[i] = s
		// Staggered, so some have their receipt before Redis goes and others are midway.
		start := time.Duration(i) * 150 * time.Millisecond
		think := rng.between(200*time.Millisecond, 500*time.Millisecond)
		wg.Go(func() {
			sleep(ctx, start)
			for !s.done() {
				sleep(ctx, think)
				if err := s.step(ctx); err != nil {
					errs <- err
					cancel()
					return
				}
			}
			shownMu.Lock()
			shown = append(shown, s.code)
			shownMu.Unlock()
			finished.Add(1)
		})
	}

	// The outage, when a third of the students have their receipt.
	type outcome struct {
		codesBefore []string
		down, back  time.Duration // how long /readyz took to say 503, and 200 again
		problem     string
	}
	var out outcome
	outageDone := make(chan struct{})
	go func() {
		defer close(outageDone)
		for finished.Load() < outageStudents/3 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		shownMu.Lock()
		out.codesBefore = append([]string(nil), shown...)
		shownMu.Unlock()
		w.redis.kill()
		killed := time.Now()
		if !waitStatus(ctx, p.url("/readyz"), http.StatusServiceUnavailable, readyWithin) {
			out.problem = "/readyz did not answer 503 while Redis was down"
			return
		}
		out.down = time.Since(killed)
		sleep(ctx, outageFor)
		if status, _ := get(p.url("/readyz")); status != http.StatusServiceUnavailable {
			out.problem = "/readyz answered " + strconv.Itoa(status) + " while Redis was still down"
			return
		}
		if err := w.redis.start(); err != nil {
			out.problem = err.Error()
			return
		}
		restarted := time.Now()
		if !waitStatus(ctx, p.url("/readyz"), http.StatusOK, readyWithin) {
			out.problem = "/readyz did not answer 200 again after Redis came back"
			return
		}
		out.back = time.Since(restarted)
	}()
	wg.Wait()
	<-outageDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if out.problem != "" {
		t.Error(out.problem)
	}
	if t.Failed() || ctx.Err() != nil {
		t.Fatalf("drill ended (%v); service log:\n%s", ctx.Err(), p.logTail(60))
	}
	if !p.alive() || p.runs != 1 {
		t.Errorf("intake serve was restarted or died (runs %d, alive %v); it should have reconnected by itself", p.runs, p.alive())
	}
	calm := 0
	for _, s := range students {
		calm += w.api.Count(s.user.ID, text("engine.error"))
	}
	t.Logf("Redis killed after %d receipts; /readyz said 503 after %v and 200 %v after the restart; students got the calm error reply %d times",
		len(out.codesBefore), out.down.Round(time.Millisecond), out.back.Round(time.Millisecond), calm)

	// Every case a student was shown a code for is there: those from before the kill came
	// back from the AOF.
	if len(out.codesBefore) == 0 {
		t.Error("no student had a receipt before Redis was killed: the drill proved nothing about the AOF")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codes := map[string]bool{}
	var private []string
	for _, s := range students {
		private = append(private, strconv.FormatInt(s.user.ID, 10))
		if s.code == "" || codes[s.code] {
			t.Errorf("student %d: receipt code %q missing or shown twice", s.user.ID, s.code)
			continue
		}
		codes[s.code] = true
		if c, err := w.redis.store.GetCase(ctx, s.code); err != nil || c == nil || c.Kind != bot.CaseHandoff {
			t.Errorf("student %d was shown case %s, but after the restart it is %+v (%v)", s.user.ID, s.code, c, err)
		}
	}
	if n := len(w.redis.keys("{case}:c:*")); n != outageStudents {
		t.Errorf("%d cases in Redis, want %d", n, outageStudents)
	}
	if n := w.redis.records(); n != outageStudents {
		t.Errorf("%d registry records, want %d", n, outageStudents)
	}
	w.checkLogs(append(private, story)...)
}

// waitStatus polls url until it answers status, for at most within.
func waitStatus(ctx context.Context, url string, status int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if got, _ := get(url); got == status {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
