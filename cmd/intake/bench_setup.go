package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"intake/storage/redis"
)

// benchOptions are the flags of the full bench.
type benchOptions struct {
	levels   levelList
	duration time.Duration
	turns    int
	sections sectionList
	sessions int
	// intakes is how many intakes the memory section walks to the end, to measure a case.
	intakes int
	// cpuProfile is a file to write a CPU profile of the run to; "" for none.
	cpuProfile string
}

func (o *benchOptions) check() error {
	if len(o.levels) == 0 {
		o.levels = levelList{1, 100, 1000}
	}
	if len(o.sections) == 0 {
		o.sections = sectionList{"turns", "telegram", "memory"}
	}
	switch {
	case o.turns < 0:
		return usageError{"--turns must be positive"}
	case o.turns == 0 && o.duration <= 0:
		return usageError{"--duration must be positive (or give --turns)"}
	case o.sessions < 1:
		return usageError{"--sessions must be at least 1"}
	case o.intakes < 4:
		return usageError{"--cases must be at least 4"}
	}
	return nil
}

func (o benchOptions) has(section string) bool { return slices.Contains(o.sections, section) }

// per describes how long each run lasts, for the report.
func (o benchOptions) per() string {
	if o.turns > 0 {
		return fmt.Sprintf("%d turns", o.turns)
	}
	return o.duration.String()
}

// levelList is --conversations: "1,100,1000".
type levelList []int

func (l *levelList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *levelList) Set(v string) error {
	*l = nil
	for part := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a number of conversations (want e.g. 1,100,1000)", part)
		}
		*l = append(*l, n)
	}
	return nil
}

// sectionList is --sections: "turns,telegram,memory".
type sectionList []string

func (l *sectionList) String() string { return strings.Join(*l, ",") }

func (l *sectionList) Set(v string) error {
	*l = nil
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains([]string{"turns", "telegram", "memory"}, part) {
			return fmt.Errorf("%q is not a section (choose from turns, telegram, memory)", part)
		}
		*l = append(*l, part)
	}
	return nil
}

// benchBed is what the bench runs on: the service wired to Redis (REDIS_URL, else an
// in-process one) with throwaway keys, under a key prefix of its own. It may run against a
// production Redis: cleanup deletes every key under that prefix and nothing else.
type benchBed struct {
	svc     *service
	store   *redis.Store
	prefix  string
	backend string // for the report
	real    bool   // a real Redis, not the in-process miniredis
	close   func()
}

func openBench(stdout io.Writer) (*benchBed, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	cfg.keyConfig = throwawayKeys()
	var id [6]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	cfg.redisPrefix = "intakebench:" + hex.EncodeToString(id[:]) + ":"
	cfg.maxCasesPerHour = 0 // the bench hands off hundreds of cases a minute: no cap
	store, addr, closeStore, err := openStore(cfg, true, stdout)
	if err != nil {
		return nil, err
	}
	svc, err := newService(cfg, store, contentSource{}, discardLogger())
	if err != nil {
		closeStore()
		return nil, err
	}
	bed := &benchBed{svc: svc, store: store, prefix: cfg.redisPrefix, close: closeStore, real: cfg.redisURL != ""}
	bed.backend = "in-memory redis (miniredis; set REDIS_URL for a real server)"
	if bed.real {
		bed.backend = "redis at " + addr
	}
	return bed, nil
}

// cleanup deletes every key the bench wrote, says so, and closes the store. It runs with a
// context of its own, so an interrupted bench still cleans up.
func (b *benchBed) cleanup(stdout io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := b.store.DeleteAll(ctx)
	if err != nil {
		fmt.Fprintf(stdout, "cleanup FAILED after %d keys: %v; delete the keys starting with %q by hand\n", n, err, b.prefix)
	} else {
		fmt.Fprintf(stdout, "cleanup: deleted the bench's %d keys (prefix %s)\n", n, b.prefix)
	}
	b.close()
}

// benchAll runs the chosen sections on one bed and cleans up after them.
func benchAll(o benchOptions, stdout io.Writer) error {
	bed, err := openBench(stdout)
	if err != nil {
		return err
	}
	defer bed.cleanup(stdout)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "bench: embedded default flow, %s, GOMAXPROCS %d, load average %s\n", bed.backend, runtime.GOMAXPROCS(0), loadAverage())
	// The machine may be busy with other work: say how busy, so figures can be judged.
	defer func() { fmt.Fprintf(stdout, "\nload average at the end: %s\n", loadAverage()) }()
	var failed []string
	for _, s := range o.sections {
		var err error
		switch s {
		case "turns":
			err = benchTurns(ctx, bed, o, stdout)
		case "telegram":
			err = benchTelegram(ctx, bed, o, stdout)
		case "memory":
			err = benchMemory(ctx, bed, o, stdout)
		}
		if err != nil {
			fmt.Fprintf(stdout, "%s: FAILED: %v\n", s, err)
			failed = append(failed, s)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted")
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench sections failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// loadAverage is the 1, 5 and 15 minute load average (Linux), or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
