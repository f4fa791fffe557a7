package bottest

import (
	"context"
	"sync/atomic"

	"intake/bot"
	"intake/storage/redis"
)

// PanickyStore is the test store with a bug on demand: once armed, the next CreateCase,
// AppendEntry or Entries panics with the armed value instead of running. Turns call these
// while a student's story or message is in hand, so a recovery path can be tested with
// everything identifying in flight.
type PanickyStore struct {
	*redis.Store
	armed atomic.Pointer[string]
}

// Arm makes the next case or thread call panic with value.
func (s *PanickyStore) Arm(value string) { s.armed.Store(&value) }

func (s *PanickyStore) trip() {
	if v := s.armed.Swap(nil); v != nil {
		panic(*v)
	}
}

func (s *PanickyStore) CreateCase(ctx context.Context, c bot.Case, r bot.Record) (string, error) {
	s.trip()
	return s.Store.CreateCase(ctx, c, r)
}

func (s *PanickyStore) AppendEntry(ctx context.Context, code string, e bot.Entry) error {
	s.trip()
	return s.Store.AppendEntry(ctx, code, e)
}

func (s *PanickyStore) Entries(ctx context.Context, code string) ([]bot.Entry, error) {
	s.trip()
	return s.Store.Entries(ctx, code)
}
