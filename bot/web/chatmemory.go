package web

import (
	"sync"
	"time"

	"intake/bot"
)

// --- what the page shows ---------------------------------------------------------------

// shown is what a conversation's page shows: the messages of its last turn and the
// counsellor messages delivered since. It lives only in process memory, for the redirect
// after a form (POST, 303, GET) and a reload; there is no stored history, so a person who
// picks up the device later finds at most the latest exchange, and after recentTTL not
// even that. When the GET lands on another replica, or after a restart, the page falls
// back to opening the conversation, which shows the waiting question again.
type shown struct {
	lang     string
	messages []shownMessage
	receipt  bool // the turn handed off or asked for the receipt: show the receipt box
	at       time.Time
}

type shownMessage struct {
	bot.Message
	team bool // delivered from the counsellor's side, outside the student's turn
	note bool // a hint of the page itself, not the bot's
}

const (
	recentTTL = 30 * time.Minute
	maxRecent = 50_000
)

// recentReplies maps conversation keys to what their page shows.
type recentReplies struct {
	ttl   time.Duration
	max   int
	mu    sync.Mutex
	m     map[string]*shown
	swept time.Time
}

func newRecentReplies(ttl time.Duration, max int) *recentReplies {
	return &recentReplies{ttl: ttl, max: max, m: map[string]*shown{}}
}

// get returns a copy of what key's page shows, or nil.
func (rr *recentReplies) get(key string, now time.Time) *shown {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	s := rr.m[key]
	if s == nil || now.Sub(s.at) > rr.ttl {
		delete(rr.m, key)
		return nil
	}
	c := *s
	c.messages = append([]shownMessage(nil), s.messages...)
	return &c
}

// put replaces what key's page shows.
func (rr *recentReplies) put(key string, s *shown) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if s.at.Sub(rr.swept) > time.Minute || len(rr.m) >= rr.max {
		rr.swept = s.at
		for k, v := range rr.m {
			if s.at.Sub(v.at) > rr.ttl {
				delete(rr.m, k)
			}
		}
		for k := range rr.m {
			if len(rr.m) < rr.max {
				break
			}
			delete(rr.m, k)
		}
	}
	rr.m[key] = s
}

// add appends delivered messages to what key's page shows (creating it in lang).
func (rr *recentReplies) add(key, lang string, msgs []shownMessage, now time.Time) {
	rr.mu.Lock()
	s := rr.m[key]
	if s != nil && now.Sub(s.at) <= rr.ttl {
		s.messages = append(s.messages, msgs...)
		s.at = now
		rr.mu.Unlock()
		return
	}
	rr.mu.Unlock()
	rr.put(key, &shown{lang: lang, messages: msgs, at: now})
}

func (rr *recentReplies) drop(key string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	delete(rr.m, key)
}
