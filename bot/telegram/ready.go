package telegram

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"
)

// Ready says whether the channel does its work: Run is running and, in poll mode, this
// replica polls a Bot API that answers, or stands by while another replica holds the poll
// lease. In webhook mode Telegram calls the service, so running is enough. The error is a
// short fixed sentence, for an operator's eyes; it holds no id, token or library detail.
func (c *Channel) Ready() error {
	if !c.running.Load() || c.stopped.Err() != nil {
		return errors.New("telegram: not running")
	}
	if c.cfg.Mode == ModeWebhook {
		return nil
	}
	switch {
	case c.leaseSeen.Elsewhere():
		return nil // another replica polls
	case !c.leaseSeen.Held():
		return errors.New("telegram: poll lease not taken yet")
	case c.api.state.Load() != apiAnswered:
		return errors.New("telegram: the Bot API does not answer")
	}
	return nil
}

// Outcomes of the last Bot API call.
const (
	apiNotYet int32 = iota
	apiAnswered
	apiFailed
)

// apiHealth remembers whether the last Bot API call was answered. In poll mode a long poll
// is always running, so it is fresh within the poll timeout.
type apiHealth struct{ state atomic.Int32 }

// client is the HTTP client the library calls the Bot API with: its usual one, watched.
func (h *apiHealth) client() *http.Client {
	// Turns of many chats send at once; the default transport keeps only 2 idle
	// connections per host, so the rest would open a new TLS connection to the Bot API
	// for every message.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: pollTimeout, Transport: watchedTransport{base: base, h: h}}
}

// pollTimeout is the library's default poll timeout, kept when the client is replaced.
const pollTimeout = time.Minute

// watchedTransport notes each call's outcome. A refused token (401, or 404 for a token
// path that does not exist), another poller on the same token (409) and server errors
// count as not answered; any other status is
// an answer (a 403 from a student who blocked the bot says nothing about the connection).
// A call this process cancelled itself says nothing either.
type watchedTransport struct {
	base http.RoundTripper
	h    *apiHealth
}

func (t watchedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	switch {
	case err != nil:
		if r.Context().Err() == nil {
			t.h.state.Store(apiFailed)
		}
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusNotFound,
		resp.StatusCode == http.StatusConflict, resp.StatusCode >= 500:
		t.h.state.Store(apiFailed)
	default:
		t.h.state.Store(apiAnswered)
	}
	return resp, err
}
