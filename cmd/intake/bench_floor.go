package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime/pprof"
)

// floorRun is n workers, each reading and writing its own key through the store's client:
// the least a turn of the same conversations could cost. Each round writes a value (random,
// so as incompressible as a sealed session) of size() bytes, the sessions' average so far.
func floorRun(ctx context.Context, bed *benchBed, n int, size func() int) (*benchResult, func(*budget)) {
	res := &benchResult{}
	var value []byte
	team := workers(n, func(i int) turnFunc {
		key := fmt.Sprintf("%d-%d", n, i)
		return func(ctx context.Context) (bool, error) {
			return false, bed.store.ReadWrite(ctx, key, value)
		}
	})
	return res, func(spend *budget) {
		if len(value) != size() {
			value = make([]byte, size())
			_, _ = rand.Read(value) // crypto/rand.Read never fails (Go 1.24+)
		}
		pprof.Do(ctx, pprof.Labels("bench", "floor"), func(ctx context.Context) {
			drive(ctx, bed.store, res, team, spend)
		})
	}
}
