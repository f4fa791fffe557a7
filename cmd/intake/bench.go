package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"intake/bot"
	"intake/bot/console"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--students N] [--intakes M]", stderr)
	students := fs.Int("students", 50, "simulated students talking at the same time")
	intakes := fs.Int("intakes", 4, "intakes each student completes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *students < 1 || *intakes < 1 {
		return usageError{"--students and --intakes must be at least 1"}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	cfg.pepper, cfg.sealKey = bot.RandomKey(), bot.RandomKey()
	store, addr, closeStore, err := openStore(cfg, true, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := newService(cfg, store, contentSource{}, discardLogger())
	if err != nil {
		return err
	}
	backend := "in-memory redis (miniredis; set REDIS_URL for a real server)"
	if cfg.redisURL != "" {
		backend = "redis at " + addr
	}
	fmt.Fprintf(stdout, "bench: %d students × %d intakes through the embedded default flow, %s\n", *students, *intakes, backend)

	res := benchRun(context.Background(), svc, *students, *intakes)
	fmt.Fprintf(stdout, "turns:            %d in %s (%d failed)\n", res.turns, res.elapsed.Round(time.Millisecond), res.failed)
	fmt.Fprintf(stdout, "throughput:       %.0f turns/s\n", float64(res.turns)/res.elapsed.Seconds())
	fmt.Fprintf(stdout, "turn latency:     p50 %s, p99 %s, max %s\n", res.pct(0.50), res.pct(0.99), res.pct(1))
	fmt.Fprintf(stdout, "  of which handoffs (%d, Argon2id of the receipt): p50 %s, p99 %s\n", len(res.handoffs), pct(res.handoffs, 0.50), pct(res.handoffs, 0.99))
	fmt.Fprintf(stdout, "redis round trips per turn: %.2f\n", float64(store.RoundTrips()-res.tripsBefore)/float64(res.turns))
	fmt.Fprintf(stdout, "stored session:   %.0f bytes on average (sealed), %d at most\n", res.avgBytes(), res.maxBytes.Load())
	if res.failed > 0 {
		return fmt.Errorf("%d turns failed", res.failed)
	}
	return nil
}

type benchResult struct {
	turns, failed int
	elapsed       time.Duration
	latencies     []time.Duration
	handoffs      []time.Duration
	tripsBefore   int64
	bytes, saves  atomic.Int64
	maxBytes      atomic.Int64
}

func (r *benchResult) pct(p float64) time.Duration { return pct(r.latencies, p) }

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

// benchRun lets students walk the flow at random: any option, a typed story half the time
// where one is asked, until each has finished its intakes.
func benchRun(ctx context.Context, svc *service, students, intakes int) *benchResult {
	res := &benchResult{tripsBefore: svc.store.RoundTrips()}
	engine, err := bot.NewEngine(bot.Config{
		Sessions: sizeStore{svc.store, res}, Cases: svc.store, Archive: svc.store,
		Keys: benchKeys(), Logger: discardLogger(),
	}, svc.engine.Content())
	if err != nil {
		panic(err) // the content was already accepted by the same constructor
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for s := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 7))
			key := svc.names.Key("bench", fmt.Sprint(s))
			var lat, hand []time.Duration
			failed := 0
			send := func(in bot.Inbound) bot.Reply {
				in.Channel, in.Key = console.Name, key
				t0 := time.Now()
				r, err := engine.Handle(ctx, in)
				took := time.Since(t0)
				lat = append(lat, took)
				if slices.Contains(r.Path, "handoff") {
					hand = append(hand, took)
				}
				if err != nil {
					failed++
				}
				return r
			}
			for range intakes {
				r := send(bot.Inbound{Text: "/start", LangHint: []string{"nl", "en"}[rng.IntN(2)]})
				for steps := 0; steps < 200; steps++ {
					b := lastButtons(r)
					if len(b) == 0 {
						break
					}
					pick := b[rng.IntN(len(b))]
					if strings.HasSuffix(pick.Data, ":s") && rng.IntN(2) == 0 {
						r = send(bot.Inbound{Text: "Het gebeurde na het college, bij de fietsenstalling. Ik weet niet wat ik moet doen."})
						continue
					}
					r = send(bot.Inbound{Data: pick.Data})
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.handoffs = append(res.handoffs, hand...)
			res.turns += len(lat)
			res.failed += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	slices.Sort(res.handoffs)
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
