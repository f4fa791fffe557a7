package telegram

import "sync"

// serial runs work for each chat in arrival order, one at a time, while different chats run
// in parallel (up to a bound). The library runs every handler in its own goroutine, which
// loses the order of two quick messages from one student (LIBRARY-NOTES, issue #64); one
// worker for everything would make every student wait for the slowest.
type serial struct {
	mu     sync.Mutex
	queues map[int64][]func() // a key is present while that chat's worker runs
	wg     sync.WaitGroup
	slots  chan struct{}
	// maxQueue bounds the updates waiting per chat, so a flood from one account cannot
	// grow memory without end.
	maxQueue int
}

func newSerial(parallel, maxQueue int) *serial {
	return &serial{queues: map[int64][]func(){}, slots: make(chan struct{}, parallel), maxQueue: maxQueue}
}

// do queues f behind the chat's earlier work; false when the chat's queue is full.
func (s *serial) do(chat int64, f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, running := s.queues[chat]
	if len(q) >= s.maxQueue {
		return false
	}
	s.queues[chat] = append(q, f)
	if !running {
		s.wg.Add(1)
		go s.run(chat)
	}
	return true
}

func (s *serial) run(chat int64) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		q := s.queues[chat]
		if len(q) == 0 {
			delete(s.queues, chat)
			s.mu.Unlock()
			return
		}
		f := q[0]
		q[0] = nil
		s.queues[chat] = q[1:]
		s.mu.Unlock()

		s.runOne(f)
	}
}

// runOne runs f in a free slot; the slot is given back even if f panics (f recovers its
// own panics; this only keeps the count right).
func (s *serial) runOne(f func()) {
	s.slots <- struct{}{}
	defer func() { <-s.slots }()
	f()
}

// wait returns when every queued piece of work has run.
func (s *serial) wait() { s.wg.Wait() }
