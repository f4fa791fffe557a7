package drills

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
)

// Drill 3 sizes.
const (
	replicaStudents = 30
	replicaDeadline = 90 * time.Second
	// notes is how many messages each student sends at once, one to each replica.
	notes = 3
	// counsellorMessages is how many messages each case's counsellor writes.
	counsellorMessages = 2
)

// TestReplicas: three serve processes on one Redis. Webhook updates go to replicas at
// random, a third of them to two replicas at once; counsellors on different replicas all
// claim every case at once and write to the students; students write several messages at
// once to different replicas. No update is lost, no reply repeated, every case is claimed
// exactly once, and every counsellor message reaches its student exactly once.
func TestReplicas(t *testing.T) {
	checkTexts(t, handoffPath)
	rng := &lockedRand{r: seed(t)}
	w := newWorld(t, false)
	procs := []*intake{w.serve("r1"), w.serve("r2"), w.serve("r3")}
	var hooks []string
	for _, p := range procs {
		hooks = append(hooks, p.webhook())
	}
	w.api.SetWebhook(webhookSecret, hooks...)
	ctx, cancel := context.WithTimeout(context.Background(), replicaDeadline)
	defer cancel()
	fail := func(format string, args ...any) {
		t.Helper()
		cancel()
		for _, p := range procs {
			t.Logf("service log of %s:\n%s", p.name, p.logTail(30))
		}
		t.Fatalf(format, args...)
	}
	counsellors := w.counsellors(ctx, "anna", "bram", "chris")

	// Intakes: every update to a random replica, a third of them to two at once.
	students := make([]*student, replicaStudents)
	var twice atomic.Int64
	errs := make(chan error, len(students))
	var wg sync.WaitGroup
	for i := range students {
		s := newStudent(w.api, 7_350_000_000+int64(i), handoffPath)
		students[i] = s
		think := rng.between(100*time.Millisecond, 300*time.Millisecond)
		wg.Go(func() {
			for !s.done() {
				sleep(ctx, think)
				a := rng.intN(len(hooks))
				to := [][]string{{hooks[a]}}
				if rng.intN(3) == 0 {
					to = append(to, []string{hooks[(a+1+rng.intN(len(hooks)-1))%len(hooks)]})
					twice.Add(1)
				}
				if err := s.step(ctx, to...); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() || ctx.Err() != nil {
		fail("intakes did not all finish (%v)", ctx.Err())
	}
	t.Logf("%d intakes through 3 replicas; %d updates went to two replicas at once", len(students), twice.Load())

	// Claims: every counsellor tries every case, each in its own order, all at once.
	winners := map[string][]string{}
	var mu sync.Mutex
	claimErrs := make(chan error, len(counsellors))
	for _, c := range counsellors {
		order := make([]*student, len(students))
		for i, j := range rng.perm(len(students)) {
			order[i] = students[j]
		}
		wg.Go(func() {
			for _, s := range order {
				status, err := c.act(ctx, s.code, "claim", nil)
				switch {
				case err != nil:
					claimErrs <- err
					return
				case status == http.StatusSeeOther:
					mu.Lock()
					winners[s.code] = append(winners[s.code], c.name)
					mu.Unlock()
				case status != http.StatusConflict:
					claimErrs <- fmt.Errorf("%s claiming %s: status %d, want 303 (claimed) or 409 (taken)", c.name, s.code, status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(claimErrs)
	for err := range claimErrs {
		fail("%v", err)
	}
	byName := map[string]*counsellor{}
	for _, c := range counsellors {
		byName[c.name] = c
	}
	claimer := map[*student]*counsellor{}
	for _, s := range students {
		if len(winners[s.code]) != 1 {
			t.Errorf("case %s claimed by %v, want exactly one counsellor", s.code, winners[s.code])
			continue
		}
		claimer[s] = byName[winners[s.code][0]]
		c, err := w.redis.store.GetCase(ctx, s.code)
		if err != nil || c == nil || c.Status != bot.StatusClaimed || c.Counsellor != winners[s.code][0] {
			t.Errorf("case %s in Redis: %+v, %v; want claimed by %s", s.code, c, err, winners[s.code][0])
		}
	}
	if t.Failed() {
		fail("claims went wrong")
	}

	// Counsellors write to their students, and students write several notes at once, each
	// to another replica.
	sendErrs := make(chan error, len(students)*(counsellorMessages+notes))
	for _, s := range students {
		c := claimer[s]
		for i := range counsellorMessages {
			wg.Go(func() {
				status, err := c.act(ctx, s.code, "send", url.Values{"text": {counsellorText(c, s, i)}})
				if err != nil || status != http.StatusSeeOther {
					sendErrs <- fmt.Errorf("%s writing to case %s: status %d, %v", c.name, s.code, status, err)
				}
			})
		}
		for i := range notes {
			wg.Go(func() {
				if _, err := w.api.Post(ctx, w.api.TextUpdate(s.user, noteText(s, i)), hooks[i%len(hooks)]); err != nil {
					sendErrs <- fmt.Errorf("student %d note %d: %v", s.user.ID, i, err)
				}
			})
		}
	}
	wg.Wait()
	close(sendErrs)
	for err := range sendErrs {
		fail("%v", err)
	}

	// Every counsellor message arrives, and the claim notice; then, a moment later, each
	// is there exactly once.
	claimed, sent := text("case.claimed"), text("case.sent")
	arrived := func() bool {
		for _, s := range students {
			if w.api.Count(s.user.ID, claimed) < 1 || w.api.Count(s.user.ID, sent) < notes {
				return false
			}
			for i := range counsellorMessages {
				if w.api.Count(s.user.ID, counsellorText(claimer[s], s, i)) < 1 {
					return false
				}
			}
		}
		return true
	}
	if err := w.api.Wait(ctx, arrived); err != nil {
		fail("not every counsellor message, claim notice and note reply reached its student: %v", err)
	}
	sleep(ctx, time.Second) // a second copy would be on its way by now
	for _, s := range students {
		counts := map[string]int{claimed: 1, sent: notes}
		for i := range counsellorMessages {
			counts[counsellorText(claimer[s], s, i)] = 1
		}
		for what, want := range counts {
			if n := w.api.Count(s.user.ID, what); n != want {
				t.Errorf("student %d got %q %d times, want %d\nchat:\n%s", s.user.ID, what, n, want, s.chat())
			}
		}
		page, err := claimer[s].casePage(ctx, s.code)
		if err != nil {
			fail("%v", err)
		}
		for i := range notes {
			if n := strings.Count(page, noteText(s, i)); n != 1 {
				t.Errorf("case %s shows the student's note %d %d times, want once", s.code, i, n)
			}
		}
	}
	var private []string
	for _, s := range students {
		private = append(private, strconv.FormatInt(s.user.ID, 10), noteText(s, 0))
	}
	w.checkLogs(append(private, story)...)
}

func counsellorText(c *counsellor, s *student, i int) string {
	return fmt.Sprintf("Message %d of %s about case %s", i+1, c.name, s.code)
}

func noteText(s *student, i int) string {
	return fmt.Sprintf("Note %d of student %d", i+1, s.user.ID)
}
