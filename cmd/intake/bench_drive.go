package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"intake/bot"
	"intake/bot/console"
	"intake/storage/redis"
)

// turnFunc makes one timed turn of a worker and reports whether it was a handoff.
type turnFunc func(ctx context.Context) (handoff bool, err error)

// errWorkerDone from a turnFunc means the worker has nothing more to do; that call is not a
// turn.
var errWorkerDone = errors.New("worker done")

// rounds is how many slices each run of a level is cut into. The runs take turns slice by
// slice, so that other work on the machine at some moment weighs on all of them alike.
const rounds = 5

// budget ends one slice of a run: after a time, or after a number of turns shared by all
// its workers.
type budget struct {
	end   time.Time
	turns bool
	left  atomic.Int64
}

// newBudget is one round's share of what o gives each run.
func newBudget(o benchOptions) *budget {
	b := &budget{}
	if o.turns > 0 {
		b.turns = true
		b.left.Store(int64(max(o.turns/rounds, 1)))
	} else {
		b.end = time.Now().Add(o.duration / rounds)
	}
	return b
}

// take reports whether one more turn may start.
func (b *budget) take() bool {
	if b.turns {
		return b.left.Add(-1) >= 0
	}
	return time.Now().Before(b.end)
}

// interleave runs each run for a round's share of o's budget, in turn, rounds times.
func interleave(ctx context.Context, o benchOptions, runs ...func(*budget)) {
	for range rounds {
		for _, run := range runs {
			if ctx.Err() != nil {
				return
			}
			run(newBudget(o))
		}
	}
}

// workers makes n workers; each keeps its state (its conversation) from round to round.
func workers(n int, worker func(i int) turnFunc) []turnFunc {
	out := make([]turnFunc, n)
	for i := range out {
		out[i] = worker(i)
	}
	return out
}

// drive runs the team of workers at once until each is done, the budget (when not nil) is spent or
// ctx ends, and adds to res every turn's latency, the time taken and the Redis round trips.
func drive(ctx context.Context, store *redis.Store, res *benchResult, team []turnFunc, spend *budget) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	trips := store.RoundTrips()
	start := time.Now()
	for _, turn := range team {
		wg.Go(func() {
			var lat, hand []time.Duration
			failed := 0
			var firstErr error
			for ctx.Err() == nil && (spend == nil || spend.take()) {
				t0 := time.Now()
				handoff, err := turn(ctx)
				took := time.Since(t0)
				if errors.Is(err, errWorkerDone) || ctx.Err() != nil {
					break // an interrupted turn is neither measured nor a failure
				}
				lat = append(lat, took)
				if handoff {
					hand = append(hand, took)
				}
				if err != nil {
					failed++
					firstErr = cmp.Or(firstErr, err)
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.handoffs = append(res.handoffs, hand...)
			res.turns += len(lat)
			res.failed += failed
			res.firstErr = cmp.Or(res.firstErr, firstErr)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed += time.Since(start)
	res.trips += store.RoundTrips() - trips
	slices.Sort(res.latencies)
	slices.Sort(res.handoffs)
}

// maxIntakeTurns ends an intake that wanders (the flow has loops, e.g. menu and team page)
// with a fresh /start.
const maxIntakeTurns = 200

// browseTurns is how long a browsing student goes back and forth before it starts again:
// every step adds to the session's history (for /back, up to 50 steps), so a session
// browsed for ever would be larger than a real one.
const browseTurns = 20

// student walks the default flow at random, as the console channel: any option, and a
// typed story half the time where one is asked, then /start for the next intake.
type student struct {
	key   string
	rng   *rand.Rand
	last  bot.Reply
	turns int // in the current intake
	// browse keeps to the menu and the team page, back and forth: turns that store no
	// case and hash no receipt.
	browse bool
}

func newStudent(names *bot.Pseudonyms, id string, seed uint64) *student {
	return &student{key: names.Key("bench", id), rng: rand.New(rand.NewPCG(seed, 7))}
}

// benchStory is what a student types where the flow asks for the story.
const benchStory = "Het gebeurde na het college, bij de fietsenstalling. Ik weet niet wat ik moet doen."

// next is what the student sends next; fresh is true when it starts an intake.
func (s *student) next() (in bot.Inbound, fresh bool) {
	b := lastButtons(s.last)
	limit := maxIntakeTurns
	if s.browse {
		limit = browseTurns
	}
	if len(b) == 0 || s.turns >= limit {
		s.turns = 0
		return bot.Inbound{Text: "/start", LangHint: []string{"nl", "en"}[s.rng.IntN(2)]}, true
	}
	s.turns++
	if s.browse {
		data := make([]string, len(b))
		for i, x := range b {
			data[i] = x.Data
		}
		if pick := menuOrTeam(data); pick != "" {
			return bot.Inbound{Data: pick}, false
		}
	}
	pick := b[s.rng.IntN(len(b))]
	if strings.HasSuffix(pick.Data, ":s") && s.rng.IntN(2) == 0 {
		return bot.Inbound{Text: benchStory}, false
	}
	return bot.Inbound{Data: pick.Data}, false
}

// turn sends in through engine and keeps the reply for the next step.
func (s *student) turn(ctx context.Context, engine *bot.Engine, in bot.Inbound) (handoff bool, err error) {
	in.Channel, in.Key = console.Name, s.key
	s.last, err = engine.Handle(ctx, in)
	if err != nil {
		return false, fmt.Errorf("turn: %w", err)
	}
	return slices.Contains(s.last.Path, "handoff"), nil
}

// menuOrTeam picks, from the data of a reply's buttons, the menu's "the team" (its third
// option), else the team page's "to the menu" (its second); "" when neither is there.
func menuOrTeam(data []string) string {
	for _, want := range []string{":o:2", ":o:1"} {
		for _, d := range data {
			if strings.HasSuffix(d, want) {
				return d
			}
		}
	}
	return ""
}
