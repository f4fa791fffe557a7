package telegramtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// pollHold is the longest getUpdates waits for an update before answering with none. The
// real server holds for the client's timeout; a short hold keeps a stopping bot from waiting.
const pollHold = 300 * time.Millisecond

// maxBatch is the most updates one getUpdates hands out, and its default limit (Telegram's).
const maxBatch = 100

// queued is an update waiting to be confirmed.
type queued struct {
	id     int64
	raw    json.RawMessage
	handed bool // handed out at least once
}

// Push queues updates for getUpdates, in this order. They stay queued until a getUpdates
// confirms them (an offset above their id) after they were handed out. An update pushed
// again after it was confirmed (a test of duplicates) is handed out once more whatever its
// id, as if Telegram delivered it again.
func (s *Server) Push(updates ...Update) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range updates {
		b, err := json.Marshal(u)
		if err != nil {
			panic("telegramtest: update does not encode: " + err.Error())
		}
		s.queue = append(s.queue, &queued{id: u.ID(), raw: b})
	}
	s.notify(0)
}

// Polls returns how many getUpdates calls came through replica's URL ("" for URL).
func (s *Server) Polls(replica string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls[replica]
}

// PollOverlap reports whether two replicas ever had a getUpdates open at the same time,
// which Telegram refuses (409 Conflict) and a bot must never try.
func (s *Server) PollOverlap() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlap
}

// Unconfirmed returns the ids of the pushed updates no getUpdates has confirmed yet, in the
// order they were pushed: those not handed out yet, and those a bot took but did not
// confirm (by Telegram's rules it gets them again).
func (s *Server) Unconfirmed() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.queue))
	for _, q := range s.queue {
		ids = append(ids, q.id)
	}
	return ids
}

// Handouts returns how often getUpdates handed out the update with id.
func (s *Server) Handouts(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handouts[id]
}

// Offsets returns the offset of every getUpdates call kept (0 for a call without one),
// oldest first.
func (s *Server) Offsets() []int64 {
	var out []int64
	for _, c := range s.Calls("getUpdates") {
		n, _ := strconv.ParseInt(c.Form["offset"], 10, 64)
		out = append(out, n)
	}
	return out
}

// getUpdates works as Telegram's: an offset confirms the updates handed out with a lower id
// (they are never handed out again); the answer holds the updates from the offset on, at
// most limit (default and most 100). When there are none it holds the request until some
// are pushed, the client gives up, or the timeout passed (at most pollHold; the default
// timeout 0 answers at once).
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, replica string, form map[string]string) {
	offset, _ := strconv.ParseInt(form["offset"], 10, 64)
	limit, err := strconv.Atoi(form["limit"])
	if err != nil || limit <= 0 || limit > maxBatch {
		limit = maxBatch
	}
	timeout, _ := strconv.Atoi(form["timeout"])
	hold := min(pollHold, time.Duration(max(timeout, 0))*time.Second)

	s.mu.Lock()
	s.polls[replica]++
	s.inflight[replica]++
	for other, n := range s.inflight {
		if other != replica && n > 0 {
			s.overlap = true
		}
	}
	s.record(Call{Replica: replica, Method: "getUpdates", Form: form, At: time.Now()})
	if offset > 0 {
		kept := s.queue[:0]
		for _, q := range s.queue {
			if !q.handed || q.id >= offset {
				kept = append(kept, q)
			}
		}
		clear(s.queue[len(kept):])
		s.queue = kept
	}
	s.notify(0)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight[replica]--
		s.notify(0)
		s.mu.Unlock()
	}()

	timer := time.NewTimer(hold)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var batch []json.RawMessage
		if r.Context().Err() == nil { // a poller that gave up takes nothing
			for _, q := range s.queue {
				if len(batch) == limit {
					break
				}
				if q.id >= offset || !q.handed {
					q.handed = true
					s.handouts[q.id]++
					batch = append(batch, q.raw)
				}
			}
		}
		if len(batch) > 0 {
			s.record(Call{Replica: replica, Method: "getUpdates:served", Form: map[string]string{"n": strconv.Itoa(len(batch))}, At: time.Now()})
		}
		ch := s.changed
		s.mu.Unlock()
		if len(batch) > 0 {
			reply(w, http.StatusOK, "", 0, batch)
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			reply(w, http.StatusOK, "", 0, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}
