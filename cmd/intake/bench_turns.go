package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime/pprof"
	"text/tabwriter"
)

// benchTurns measures the engine at each concurrency level and, right after it, the floor
// at the same level: the same go-redis client doing one read and one write of a value the
// size of the sessions the engine just stored, per turn. engine/floor says how much of what
// Redis and the client could do the engine gets.
//
// The engine runs twice per level: students walking the whole flow at random (the real
// mix, with case writes and receipt hashes), and students browsing between the menu and the team page (turns
// that store no case: lock and load, step, seal, save and unlock only).
func benchTurns(ctx context.Context, bed *benchBed, o benchOptions, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\nturns: at each level every run lasts %s, in %d slices taking turns; every conversation waits for its reply before it sends again\n", o.per(), rounds)
	fmt.Fprintln(stdout, "  walk:   students walk the default flow at random, with every case write and receipt hash on the way")
	fmt.Fprintln(stdout, "  browse: students go back and forth between the menu and the team page (lock and load, step, seal, save and unlock)")
	fmt.Fprintln(stdout, "  floor:  the same go-redis client, one GET and one SET of a value as large as the walk's average sealed session")
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "conversations\trun\tturns/s\tp50\tp99\tredis trips/turn\thandoffs\tsession bytes\tengine/floor\t")
	failed := 0
	var firstErr error
	for _, n := range o.levels {
		walk, runWalk := engineRun(ctx, bed, n, false)
		browse, runBrowse := engineRun(ctx, bed, n, true)
		size := func() int { return max(int(walk.avgBytes()), 1) }
		floor, runFloor := floorRun(ctx, bed, n, size)
		interleave(ctx, o, runWalk, runBrowse, runFloor)
		for _, r := range []struct {
			name string
			res  *benchResult
		}{{"walk", walk}, {"browse", browse}, {"floor", floor}} {
			ratio := "-"
			if r.res != floor && floor.rate() > 0 {
				ratio = fmt.Sprintf("%.2f", r.res.rate()/floor.rate())
			}
			bytes := fmt.Sprint(int(r.res.avgBytes()))
			if r.res == floor {
				bytes = fmt.Sprint(size())
			}
			fmt.Fprintf(w, "%d\t%s\t%.0f\t%s\t%s\t%.2f\t%d\t%s\t%s\t\n", n, r.name,
				r.res.rate(), r.res.pct(0.50), r.res.pct(0.99), r.res.tripsPerTurn(), len(r.res.handoffs), bytes, ratio)
			failed += r.res.failed
			firstErr = cmp.Or(firstErr, r.res.firstErr)
		}
		if ctx.Err() != nil {
			break
		}
	}
	w.Flush()
	fmt.Fprintln(stdout, "  p50/p99: one turn's latency; handoffs: turns that handed a case off")
	if failed > 0 {
		return fmt.Errorf("%d turns failed (first: %v)", failed, firstErr)
	}
	return nil
}

// engineRun is n students, each in its own conversation, and the run that lets them talk
// for a budget; browse keeps them between the menu and the team page.
func engineRun(ctx context.Context, bed *benchBed, n int, browse bool) (*benchResult, func(*budget)) {
	res := &benchResult{}
	engine := benchEngine(bed.svc, res)
	label := "walk"
	if browse {
		label = "browse"
	}
	team := workers(n, func(i int) turnFunc {
		st := newStudent(bed.svc.names, fmt.Sprintf("%s%d-%d", label, n, i), uint64(n)<<32|uint64(i))
		st.browse = browse
		return func(ctx context.Context) (bool, error) {
			in, _ := st.next()
			return st.turn(ctx, engine, in)
		}
	})
	return res, func(spend *budget) {
		// The label tells the runs apart in a --cpuprofile (go tool pprof -tagfocus bench=walk).
		pprof.Do(ctx, pprof.Labels("bench", label), func(ctx context.Context) {
			drive(ctx, bed.store, res, team, spend)
		})
	}
}
