package telegramtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// pollHold is how long getUpdates waits for an update before answering with none. The real
// server holds for the client's timeout; a short hold keeps a stopping bot from waiting.
const pollHold = 300 * time.Millisecond

// Push queues updates for getUpdates, in this order.
func (s *Server) Push(updates ...Update) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range updates {
		b, err := json.Marshal(u)
		if err != nil {
			panic("telegramtest: update does not encode: " + err.Error())
		}
		s.queue = append(s.queue, b)
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

// getUpdates answers at once when updates are queued, else holds the request until some
// are, the client gives up, or pollHold passed (then: none). An update is handed out once:
// the fake has no offsets, so a bot that crashes with updates in hand loses them here,
// where Telegram would hand them out again.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, replica string) {
	s.mu.Lock()
	s.polls[replica]++
	s.inflight[replica]++
	for other, n := range s.inflight {
		if other != replica && n > 0 {
			s.overlap = true
		}
	}
	s.record(Call{Replica: replica, Method: "getUpdates", At: time.Now()})
	s.notify(0)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight[replica]--
		s.notify(0)
		s.mu.Unlock()
	}()

	hold := time.NewTimer(pollHold)
	defer hold.Stop()
	for {
		s.mu.Lock()
		var batch []json.RawMessage
		if r.Context().Err() == nil { // a poller that gave up takes nothing: it would be lost
			batch, s.queue = s.queue, nil
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
		case <-hold.C:
			reply(w, http.StatusOK, "", 0, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}
