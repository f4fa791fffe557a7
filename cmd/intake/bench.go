package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"intake/bot"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--conversations 1,100,1000] [--duration 5s | --turns N] [--sections turns,telegram,memory] [--sessions 100000]\n       intake bench --students N --intakes M   (one walk of whole intakes)", stderr)
	students := fs.Int("students", 50, "one walk: simulated students talking at the same time")
	intakes := fs.Int("intakes", 4, "one walk: intakes each student completes")
	var o benchOptions
	fs.Var(&o.levels, "conversations", "concurrency levels: conversations talking at the same time (default 1,100,1000)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each run (walk, browse, floor; service, echo) lasts at each level")
	fs.IntVar(&o.turns, "turns", 0, "instead of --duration: turns (or updates) each run makes at each level")
	fs.Var(&o.sections, "sections", "what to measure: turns, telegram, memory (default all three)")
	fs.IntVar(&o.sessions, "sessions", 100000, "memory: sessions stored in Redis while intake's RSS is watched")
	fs.IntVar(&o.intakes, "cases", 200, "memory: intakes walked to the end (each makes a case) to measure what a case costs")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole bench to `file` (read it with go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	walk := false
	fs.Visit(func(f *flag.Flag) { walk = walk || f.Name == "students" || f.Name == "intakes" })
	if walk {
		if *students < 1 || *intakes < 1 {
			return usageError{"--students and --intakes must be at least 1"}
		}
		return benchWalk(*students, *intakes, stdout)
	}
	if err := o.check(); err != nil {
		return err
	}
	return benchAll(o, stdout)
}

// benchWalk lets students complete whole intakes at once and prints what that cost.
func benchWalk(students, intakes int, stdout io.Writer) error {
	bed, err := openBench(stdout)
	if err != nil {
		return err
	}
	defer bed.cleanup(stdout)
	svc := bed.svc
	fmt.Fprintf(stdout, "bench: %d students × %d intakes through the embedded default flow, %s\n", students, intakes, bed.backend)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res := benchRun(ctx, svc, students, intakes)
	fmt.Fprintf(stdout, "turns:            %d in %s (%d failed)\n", res.turns, res.elapsed.Round(time.Millisecond), res.failed)
	fmt.Fprintf(stdout, "throughput:       %.0f turns/s\n", res.rate())
	fmt.Fprintf(stdout, "turn latency:     p50 %s, p99 %s, max %s\n", res.pct(0.50), res.pct(0.99), res.pct(1))
	fmt.Fprintf(stdout, "  of which handoffs (%d, with the receipt hashed): p50 %s, p99 %s\n", len(res.handoffs), pct(res.handoffs, 0.50), pct(res.handoffs, 0.99))
	fmt.Fprintf(stdout, "redis round trips per turn: %.2f\n", res.tripsPerTurn())
	fmt.Fprintf(stdout, "stored session:   %.0f bytes on average (sealed), %d at most\n", res.avgBytes(), res.maxBytes.Load())
	if res.failed > 0 {
		return fmt.Errorf("%d turns failed", res.failed)
	}
	return nil
}

// benchResult is what one run measured: every turn's latency, and what the engine stored.
type benchResult struct {
	turns, failed int
	elapsed       time.Duration
	latencies     []time.Duration
	handoffs      []time.Duration
	trips         int64 // Redis round trips during the run
	firstErr      error // of the first failed turn
	bytes, saves  atomic.Int64
	maxBytes      atomic.Int64
}

func (r *benchResult) pct(p float64) time.Duration { return pct(r.latencies, p) }

// rate is the throughput in turns per second.
func (r *benchResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.turns) / r.elapsed.Seconds()
}

func (r *benchResult) tripsPerTurn() float64 {
	if r.turns == 0 {
		return 0
	}
	return float64(r.trips) / float64(r.turns)
}

// pct is the p-quantile of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i].Round(10 * time.Microsecond)
}

func (r *benchResult) avgBytes() float64 {
	if r.saves.Load() == 0 {
		return 0
	}
	return float64(r.bytes.Load()) / float64(r.saves.Load())
}

// sizeStore measures what the engine stores per session.
type sizeStore struct {
	bot.SessionStore
	r *benchResult
}

func (s sizeStore) Save(ctx context.Context, l bot.Lock, data []byte) error {
	n := int64(len(data))
	s.r.bytes.Add(n)
	s.r.saves.Add(1)
	for {
		m := s.r.maxBytes.Load()
		if n <= m || s.r.maxBytes.CompareAndSwap(m, n) {
			break
		}
	}
	return s.SessionStore.Save(ctx, l, data)
}

// benchEngine is an engine on the service's store and content whose saves are counted in
// res (res nil: not counted).
func benchEngine(svc *service, res *benchResult) *bot.Engine {
	var sessions bot.SessionStore = svc.store
	if res != nil {
		sessions = sizeStore{svc.store, res}
	}
	engine, err := bot.NewEngine(bot.Config{
		Sessions: sessions, Cases: svc.store, Archive: svc.store,
		Keys: benchKeys(), Logger: discardLogger(),
	}, svc.engine.Content())
	if err != nil {
		panic(err) // the content was already accepted by the same constructor
	}
	return engine
}

// benchRun lets each student complete its intakes, walking the flow at random (see
// student).
func benchRun(ctx context.Context, svc *service, students, intakes int) *benchResult {
	res := &benchResult{}
	engine := benchEngine(svc, res)
	drive(ctx, svc.store, res, workers(students, func(i int) turnFunc {
		st := newStudent(svc.names, fmt.Sprint("walk-", i), uint64(i))
		started := 0
		return func(ctx context.Context) (bool, error) {
			in, fresh := st.next()
			if fresh {
				if started == intakes {
					return false, errWorkerDone
				}
				started++
			}
			return st.turn(ctx, engine, in)
		}
	}), nil)
	return res
}

func lastButtons(r bot.Reply) []bot.Button {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if len(r.Messages[i].Buttons) > 0 {
			return r.Messages[i].Buttons
		}
	}
	return nil
}

func benchKeys() *bot.Keyring {
	k, err := bot.NewKeyring(map[byte][]byte{1: bot.RandomKey()}, 1)
	if err != nil {
		panic(err) // a fresh random key of the right size always makes a keyring
	}
	return k
}
