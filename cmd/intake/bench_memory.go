package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"

	"intake/bot"
	"intake/storage/redis"
)

// memorySample is how many of the stored sessions get turns while RSS is watched.
const memorySample = 1000

// benchMemory reports what Redis holds per active session and per case, and intake's RSS
// while o.sessions sessions are stored: a turn loads one session, so RSS must not grow
// with the number stored.
func benchMemory(ctx context.Context, bed *benchBed, o benchOptions, stdout io.Writer) error {
	if !bed.real {
		fmt.Fprintln(stdout, "\nmemory: skipped, it needs a real Redis (MEMORY USAGE, INFO memory): set REDIS_URL")
		return nil
	}
	fmt.Fprintln(stdout, "\nmemory")
	if err := memoryPerCase(ctx, bed, o.intakes, stdout); err != nil {
		return err
	}
	return memoryPerSession(ctx, bed, o.sessions, stdout)
}

// memoryPerCase walks students through whole intakes and divides what the case keys grew
// by the cases made (handoffs and registrations alike: each is a case record).
func memoryPerCase(ctx context.Context, bed *benchBed, intakes int, stdout io.Writer) error {
	before, err := bed.store.MemoryUsage(ctx)
	if err != nil {
		return err
	}
	res := benchRun(ctx, bed.svc, intakes/4, 4)
	if res.failed > 0 {
		return fmt.Errorf("%d turns failed while making cases", res.failed)
	}
	after, err := bed.store.MemoryUsage(ctx)
	if err != nil {
		return err
	}
	cases := after["cases"].Keys - before["cases"].Keys
	if cases == 0 {
		return errors.New("no case was made")
	}
	fmt.Fprintf(stdout, "  per case (%d intakes made %d cases, %d of them handoffs; MEMORY USAGE of every key, growth / cases):\n", intakes/4*4, cases, len(res.handoffs))
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	var total float64
	for _, kind := range slices.Sorted(maps.Keys(after)) {
		if kind == "sessions" || kind == "session locks" || kind == "delivery marks" || kind == "floor" {
			continue
		}
		grew := float64(after[kind].Bytes-before[kind].Bytes) / float64(cases)
		if grew == 0 {
			continue
		}
		total += grew
		fmt.Fprintf(w, "    %s\t%.0f bytes\t\n", kind, grew)
	}
	fmt.Fprintf(w, "    case in all\t%.0f bytes\t\n", total)
	w.Flush()
	return nil
}

// memoryPerSession stores n sealed sessions of realistic size through the store, as turns
// store them, reading Redis's memory and intake's RSS on the way, then runs turns on a
// sample of them.
func memoryPerSession(ctx context.Context, bed *benchBed, n int, stdout io.Writer) error {
	engine := benchEngine(bed.svc, nil)
	template, err := midIntakeSession(ctx, bed, engine)
	if err != nil {
		return err
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = bed.svc.names.Key("bench", fmt.Sprint("stored-", i))
	}
	sealed, err := engine.SealSession(keys[0], template)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  per active session (%d sessions stored as turns store them: lock, save sealed %d bytes, unlock):\n", n, len(sealed))

	type reading struct {
		what       string
		rss, heap  int64
		usedMemory int64
	}
	var readings []reading
	read := func(what string) error {
		rss, heap := processMemory()
		used, err := bed.store.UsedMemory(ctx)
		readings = append(readings, reading{what, rss, heap, used})
		return err
	}
	if err := read("before"); err != nil {
		return err
	}
	usageBefore, err := bed.store.MemoryUsage(ctx)
	if err != nil {
		return err
	}
	steps := []int{n / 10, n}
	if n < 10 {
		steps = []int{n}
	}
	done := 0
	for _, upTo := range steps {
		if err := storeSessions(ctx, bed.store, engine, template, keys[done:upTo]); err != nil {
			return err
		}
		done = upTo
		if err := read(fmt.Sprintf("%d stored", done)); err != nil {
			return err
		}
	}
	usageAfter, err := bed.store.MemoryUsage(ctx)
	if err != nil {
		return err
	}

	sample := min(memorySample, n)
	res := &benchResult{}
	var next atomic.Int64
	drive(ctx, bed.store, res, workers(50, func(int) turnFunc {
		var st *student
		left := 0
		return func(ctx context.Context) (bool, error) {
			if left > 0 {
				left--
				in, _ := st.next()
				return st.turn(ctx, engine, in)
			}
			i := next.Add(1) - 1
			if i >= int64(sample) {
				return false, errWorkerDone
			}
			// Spread over all stored sessions. Open shows the question the session waits
			// at, as to a student coming back to the chat; two answers follow.
			st = &student{key: keys[int(i)*n/sample], rng: rand.New(rand.NewPCG(uint64(i), 7))}
			left = 2
			return st.turn(ctx, engine, bot.Inbound{Open: true})
		}
	}), nil)
	if res.failed > 0 {
		return fmt.Errorf("%d turns on stored sessions failed", res.failed)
	}
	if err := read(fmt.Sprintf("%d turns on %d of them", res.turns, sample)); err != nil {
		return err
	}

	sessions := usageAfter["sessions"].Keys - usageBefore["sessions"].Keys
	bytes := usageAfter["sessions"].Bytes - usageBefore["sessions"].Bytes
	first, stored := readings[0], readings[len(steps)]
	fmt.Fprintf(stdout, "    MEMORY USAGE of the session keys:  %.0f bytes per session (%d keys)\n", float64(bytes)/float64(max(sessions, 1)), sessions)
	fmt.Fprintf(stdout, "    INFO used_memory growth:           %.0f bytes per session (the whole server: key table and expiry entries too, and anyone else's writes meanwhile)\n",
		float64(stored.usedMemory-first.usedMemory)/float64(n))
	if marks := usageAfter["delivery marks"]; marks.Keys > 0 {
		fmt.Fprintf(stdout, "    a Telegram or Discord conversation also keeps a delivery mark for an hour: %.0f bytes (%d keys)\n", float64(marks.Bytes)/float64(marks.Keys), marks.Keys)
	}
	fmt.Fprintln(stdout, "  intake process (after a GC that returns free memory to the OS):")
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "    \tRSS\tGo heap\tRedis used_memory\t")
	for _, r := range readings {
		fmt.Fprintf(w, "    %s\t%s\t%s\t%s\t\n", r.what, mib(r.rss), mib(r.heap), mib(r.usedMemory))
	}
	w.Flush()
	return nil
}

// midIntakeSession walks one student into an intake until it has told its story (or a
// handful of answers), and returns that session: the realistic size of an active one.
func midIntakeSession(ctx context.Context, bed *benchBed, engine *bot.Engine) (*bot.Session, error) {
	st := newStudent(bed.svc.names, "template", 1)
	for range maxIntakeTurns {
		in, _ := st.next()
		if _, err := st.turn(ctx, engine, in); err != nil {
			return nil, err
		}
		s, err := engine.Session(ctx, st.key)
		if err != nil {
			return nil, err
		}
		if s != nil && !s.Done && (s.Vars["story"] != "" || len(s.Vars) >= 6) {
			return s, nil
		}
	}
	return nil, errors.New("no student got far into an intake")
}

// storeSessions writes template, sealed for each key, through the store's lock and save,
// from a few workers at once.
func storeSessions(ctx context.Context, store *redis.Store, engine *bot.Engine, template *bot.Session, keys []string) error {
	var next atomic.Int64
	res := &benchResult{}
	drive(ctx, store, res, workers(32, func(int) turnFunc {
		return func(ctx context.Context) (bool, error) {
			i := next.Add(1) - 1
			if i >= int64(len(keys)) {
				return false, errWorkerDone
			}
			s := *template
			s.IntakeID = fmt.Sprintf("%032x", i) // every intake its own, like real ones
			sealed, err := engine.SealSession(keys[i], &s)
			if err != nil {
				return false, err
			}
			l, _, err := store.Lock(ctx, keys[i])
			if err != nil {
				return false, err
			}
			return false, store.Save(ctx, l, sealed)
		}
	}), nil)
	if res.failed > 0 {
		return fmt.Errorf("%d of %d sessions not stored", res.failed, len(keys))
	}
	return ctx.Err()
}

// processMemory returns this process's resident set (VmRSS; 0 where /proc is missing)
// and the Go heap in use, after a GC that gives free memory back to the OS.
func processMemory() (rss, heap int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return vmRSS(), int64(m.HeapInuse)
}

// vmRSS reads VmRSS from /proc/self/status (Linux), in bytes; 0 when unavailable.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

func mib(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
