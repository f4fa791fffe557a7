package telegramtest

import "time"

// Failure is a rule that makes matching calls fail; see Fail.
type Failure struct {
	s          *Server
	method     string
	chat       int64
	code       int
	desc       string
	retryAfter int
	times      int
	served     []time.Time
}

// Fail makes the next times calls of method to chat (0: any chat) fail with code and
// description desc (as Telegram words it, e.g. "Forbidden: bot was blocked by the user"),
// and retry_after seconds when retryAfter > 0. times < 0 fails them all. Rules are tried
// in the order they were made.
func (s *Server) Fail(method string, chat int64, code int, desc string, retryAfter, times int) *Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &Failure{s: s, method: method, chat: chat, code: code, desc: desc, retryAfter: retryAfter, times: times}
	s.fails = append(s.fails, f)
	return f
}

// Served returns when each call this rule failed was made.
func (f *Failure) Served() []time.Time {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return append([]time.Time(nil), f.served...)
}
