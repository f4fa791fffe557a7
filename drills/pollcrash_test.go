package drills

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/telegram/telegramtest"
)

// Drill 4 sizes: conversations, and kills of the serve process while they run.
const (
	pollStudents = 30
	pollKills    = 8
	pollDeadline = 90 * time.Second
	// lostAfter is how long a step waits for a reply that is not complete when its update
	// was confirmed, before it calls the update lost. With the offset moved only past
	// handled updates it never waits; it is well above the longest turn, a 4 s lock
	// left by a kill included.
	lostAfter = 20 * time.Second
)

// TestPollCrash: 30 conversations to a registration or a handoff, their updates fetched
// with getUpdates by a serve process in poll mode, which is killed with SIGKILL at 8
// random moments and started again. Every update is answered (a process killed between
// fetching an update and answering it must leave it to the next poll), no update is
// confirmed before its reply went out, every conversation ends with no step skipped or
// repeated (a reply may come twice only where a kill cut its update's handling), and
// every intake made exactly one case and one registry record.
func TestPollCrash(t *testing.T) {
	checkTexts(t, handoffPath, registrationPath)
	rng := &lockedRand{r: seed(t)}
	w := newWorld(t, false)
	p := w.servePoll("r1")
	feed := &pollFeed{api: w.api, cut: map[int64]bool{}, down: map[int64]bool{}}

	d := crashDrill{
		w: w, p: p, rng: rng,
		students: crashConversations(w.api, pollStudents, 7_370_000_000),
		kills:    pollKills, deadline: pollDeadline,
		step:   feed.step,
		killed: feed.killed,
	}
	kills := d.run()

	var repeated, cut, down, early int
	for _, s := range d.students {
		repeated, cut, down, early = repeated+s.repeated, cut+s.cut, down+s.down, early+s.early
	}
	busy := 0 // turns that waited in vain for a lock a killed turn left; their update came again
	for line := range strings.Lines(w.logs()) {
		if strings.Contains(line, "turn failed") && strings.Contains(line, bot.ErrBusy.Error()) {
			busy++
		}
	}
	t.Logf("%d conversations, %d steps, %d kills: %d steps were cut by a kill while the service had their update, %d waited to be fetched while it was down, %d turns found a killed turn's lock and were handled again; %d messages came twice",
		len(d.students), d.steps(), kills, cut, down, busy, repeated)
	if early > 0 {
		t.Errorf("%d updates were confirmed before their reply was complete: a kill at that moment would have lost the rest of the reply", early)
	}
	if left := w.api.Unconfirmed(); len(left) > 0 {
		t.Errorf("%d updates are still unconfirmed after every conversation ended: %v", len(left), left)
	}
	d.checkIntakes()
}

// pollFeed brings the students' updates to the service as Telegram does in poll mode, and
// keeps which of them a kill caught.
type pollFeed struct {
	api *telegramtest.Server
	// pushing makes taking an update id and queueing the update one step, so that updates
	// are queued in the order of their ids, as Telegram's are.
	pushing sync.Mutex

	mu sync.Mutex
	// cut holds the updates handed out to a process that was killed before it confirmed
	// them; down those still waiting to be handed out when a process was killed.
	cut, down map[int64]bool
}

// step does s's next step: its update is queued for getUpdates, and the step is over once
// the service confirmed it (moved its offset past it), which it does only after the update
// was handled and its reply sent. A reply still incomplete at that moment counts as early;
// one that never comes means the update was lost.
func (f *pollFeed) step(ctx context.Context, s *student) error {
	st := s.path[s.next]
	id, err := f.push(s, st)
	if err != nil {
		return s.fail(st, err.Error())
	}
	if err := f.api.Wait(ctx, func() bool { return !slices.Contains(f.api.Unconfirmed(), id) }); err != nil {
		return s.fail(st, fmt.Sprintf("update %d not confirmed (%v); handed out %d times", id, err, f.api.Handouts(id)))
	}
	if want := s.seen + len(st.says); len(f.api.Messages(s.user.ID)) < want {
		s.early++
		wctx, cancel := context.WithTimeout(ctx, lostAfter)
		_, err := f.api.WaitMessages(wctx, s.user.ID, want)
		cancel()
		switch {
		case ctx.Err() != nil:
			return s.fail(st, fmt.Sprintf("update %d was confirmed before its reply was complete, and the drill ended waiting for the rest (%v)", id, err))
		case err != nil:
			return s.fail(st, fmt.Sprintf("update %d was confirmed, but its reply never came: the update was lost (%v)", id, err))
		}
	}
	f.mu.Lock()
	cut, down := f.cut[id], f.down[id]
	f.mu.Unlock()
	s.cut, s.down = s.cut+count(cut), s.down+count(down)
	return s.check(st, cut)
}

// push queues the update of step st and returns its id.
func (f *pollFeed) push(s *student, st step) (int64, error) {
	f.pushing.Lock()
	defer f.pushing.Unlock()
	u, err := s.update(st)
	if err != nil {
		return 0, err
	}
	f.api.Push(u)
	return u.ID(), nil
}

// killed notes, right after a kill, the updates the killed process had been handed and
// had not confirmed: their handling was cut anywhere from before the turn to after the
// reply, so that reply may go out again when the restarted process gets them. No process
// polls now; an update the dead process's last, cut getUpdates still takes counts as
// down, rightly: nobody read it.
func (f *pollFeed) killed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range f.api.Unconfirmed() {
		if f.api.Handouts(id) > 0 {
			f.cut[id] = true
		} else {
			f.down[id] = true
		}
	}
}
