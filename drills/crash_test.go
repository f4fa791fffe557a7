package drills

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/telegram/telegramtest"
)

// Drill 1 sizes: conversations, and kills of the serve process while they run.
const (
	crashStudents = 100
	crashKills    = 20
	crashDeadline = 120 * time.Second
)

// TestCrash: 100 conversations to a registration or a handoff while the serve process is
// killed with SIGKILL at 20 random moments and started again. Every conversation ends,
// each student saw their path's messages with no step skipped or repeated (a reply may come
// twice only where a kill cut its update's delivery), and every intake made exactly one
// case and one registry record.
func TestCrash(t *testing.T) {
	checkTexts(t, handoffPath, registrationPath)
	rng := &lockedRand{r: seed(t)}
	w := newWorld(t, false)
	p := w.serve("r1")
	w.api.SetWebhook(webhookSecret, p.webhook())

	d := crashDrill{
		w: w, p: p, rng: rng,
		students: crashConversations(w.api, crashStudents, 7_340_000_000),
		kills:    crashKills, deadline: crashDeadline,
		step: func(ctx context.Context, s *student) error { return s.step(ctx) },
	}
	kills := d.run()

	var repeated, cut, down, busy int
	for _, s := range d.students {
		repeated, cut, down, busy = repeated+s.repeated, cut+s.cut, down+s.down, busy+s.busy
	}
	t.Logf("%d conversations, %d steps, %d kills: %d steps were cut by a kill while the service had them, %d found it down, %d were answered 503 (a killed turn's lock); %d messages came twice",
		len(d.students), d.steps(), kills, cut, down, busy, repeated)
	d.checkIntakes()
}

// crashDrill is one run of a crash drill: students go through their paths while the serve
// process p is killed with SIGKILL at random moments and started again.
type crashDrill struct {
	w        *world
	p        *intake
	rng      *lockedRand
	students []*student
	// kills is how many times p is killed; deadline bounds the whole run.
	kills    int
	deadline time.Duration
	// step does a student's next step and checks its reply.
	step func(ctx context.Context, s *student) error
	// killed, when set, runs right after each kill, before p starts again.
	killed func()
}

// crashConversations makes n students with ids from first on, half of them on the handoff
// path and half on the registration path.
func crashConversations(api *telegramtest.Server, n int, first int64) []*student {
	students := make([]*student, n)
	for i := range students {
		path := handoffPath
		if i%2 == 1 {
			path = registrationPath
		}
		students[i] = newStudent(api, first+int64(i), path)
	}
	return students
}

// steps is how many steps the students' paths have together.
func (d *crashDrill) steps() int {
	total := 0
	for _, s := range d.students {
		total += len(s.path)
	}
	return total
}

// run lets every student go through their path while p is killed and started again, and
// returns how many kills there were. It ends the test with what was stuck when a step
// fails, a restart fails, or the deadline passes.
func (d *crashDrill) run() int {
	t := d.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.deadline)
	defer cancel()

	// The kills come at random points of the drill's progress (steps answered), not of the
	// clock, so all of them fall while conversations run however fast this machine is;
	// each a random moment after its point, so it lands anywhere in a turn.
	// They fall in the first two thirds, so conversations stalled by the last kills (the
	// lock of a killed turn lasts 4 s) still end well within the deadline.
	points := map[int]bool{}
	for len(points) < d.kills {
		points[1+d.rng.intN(d.steps()*2/3)] = true
	}
	var progress atomic.Int64
	var kills []time.Time
	var restartErr error
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for _, point := range slices.Sorted(maps.Keys(points)) {
			for progress.Load() < int64(point) && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
			sleep(ctx, d.rng.between(0, 150*time.Millisecond))
			if ctx.Err() != nil {
				return
			}
			d.p.kill()
			kills = append(kills, time.Now())
			if d.killed != nil {
				d.killed()
			}
			if restartErr = d.p.start(); restartErr != nil {
				cancel()
				return
			}
		}
	}()

	errs := make(chan error, len(d.students))
	var wg sync.WaitGroup
	for _, s := range d.students {
		// Quick taps, but within the rate limit per conversation: a burst of ten, then one a
		// second (a delivery repeated after a kill is not charged again).
		think := d.rng.between(300*time.Millisecond, 700*time.Millisecond)
		wg.Go(func() {
			for !s.done() {
				sleep(ctx, think)
				if err := d.step(ctx, s); err != nil {
					errs <- err
					cancel()
					return
				}
				progress.Add(1)
			}
		})
	}
	wg.Wait()
	<-killed
	close(errs)
	if restartErr != nil {
		t.Fatalf("restart after kill %d: %v", len(kills), restartErr)
	}
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() || ctx.Err() != nil {
		stuck := 0
		for _, s := range d.students {
			if !s.done() && stuck < 3 {
				stuck++
				t.Errorf("student %d stopped at step %d of %d\nchat:\n%s", s.user.ID, s.next+1, len(s.path), s.chat())
			}
		}
		t.Fatalf("drill ended (%v) after %d of %d kills; service log:\n%s", ctx.Err(), len(kills), d.kills, d.p.logTail(60))
	}
	return len(kills)
}

// checkIntakes checks what the students' intakes left in Redis, and the logs: one case and
// one registry record per intake, every receipt naming its own handoff case, and nothing
// of a student in what the serve processes logged.
func (d *crashDrill) checkIntakes() {
	t, w := d.w.t, d.w
	t.Helper()
	n := len(d.students)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases, intakes := w.redis.keys("{case}:c:*"), w.redis.keys("{case}:i:*")
	if len(cases) != n || len(intakes) != n {
		t.Errorf("%d cases and %d intakes with a case in Redis, want %d of each", len(cases), len(intakes), n)
	}
	if got := w.redis.records(); got != n {
		t.Errorf("%d registry records, want %d", got, n)
	}
	kinds := map[string]int{}
	for _, key := range cases {
		c, err := w.redis.store.GetCase(ctx, key[len("{case}:c:"):])
		if err != nil || c == nil {
			t.Fatalf("case %s: %v", key, err)
		}
		kinds[c.Kind]++
	}
	if kinds[bot.CaseHandoff] != n/2 || kinds[bot.CaseRegistration] != n/2 {
		t.Errorf("cases by kind %v, want %d handoffs and %d registrations", kinds, n/2, n/2)
	}
	codes := map[string]bool{}
	var private []string
	for _, s := range d.students {
		private = append(private, strconv.FormatInt(s.user.ID, 10))
		if &s.path[0] != &handoffPath[0] { // a registration shows no code
			continue
		}
		if s.code == "" || codes[s.code] {
			t.Errorf("student %d: receipt code %q missing or shown to another student too", s.user.ID, s.code)
			continue
		}
		codes[s.code] = true
		if c, err := w.redis.store.GetCase(ctx, s.code); err != nil || c == nil || c.Kind != bot.CaseHandoff {
			t.Errorf("student %d was shown case %s, but it is %+v (%v)", s.user.ID, s.code, c, err)
		}
	}
	w.checkLogs(append(private, story)...)
}
