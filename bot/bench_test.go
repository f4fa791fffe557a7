package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"intake/bot"
)

// BenchmarkTurn measures one turn (lock and load, step, seal, save and unlock) of a student
// walking between the menu and the team page, and reports Redis round trips per turn.
// Several conversations run in parallel, as on a busy night.
func BenchmarkTurn(b *testing.B) {
	e, store := newEngine(b)
	ctx := context.Background()
	trips := store.RoundTrips()
	var id int64
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprint("bench-", nextID(&id))
		r, err := e.Handle(ctx, bot.Inbound{Channel: "bench", Key: key, Open: true, LangHint: "en"})
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			// The menu's third button is the team page; the team page's last is the menu.
			bs := buttons(r)
			pick := bs[len(bs)-1]
			if len(bs) == 3 {
				pick = bs[2]
			}
			if r, err = e.Handle(ctx, bot.Inbound{Channel: "bench", Key: key, Data: pick.Data}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(store.RoundTrips()-trips)/float64(b.N), "roundtrips/turn")
}

var idMu sync.Mutex

func nextID(p *int64) int64 {
	idMu.Lock()
	defer idMu.Unlock()
	*p++
	return *p
}
