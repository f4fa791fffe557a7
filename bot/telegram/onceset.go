package telegram

import "sync"

// onceSet remembers ids of this process, to do something once per id: it tells a student
// of a failed update once, however often Telegram delivers it again. It holds update ids
// only (a counter of the bot's, not of anyone), and forgets them all past a bound.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

const onceSetMax = 10000

// first reports whether id is new, and remembers it.
func (s *onceSet) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[id]; ok {
		return false
	}
	if s.seen == nil || len(s.seen) >= onceSetMax {
		s.seen = map[string]struct{}{}
	}
	s.seen[id] = struct{}{}
	return true
}
