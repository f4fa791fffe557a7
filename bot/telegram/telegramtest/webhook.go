package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// SecretHeader carries the webhook's secret token in every update Telegram posts.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Webhook retry timing: Telegram tries an update again until an attempt is answered 2xx,
// after a pause that grows. The fake's pauses are short, so a test does not wait long for
// a restarted bot; webhookTimeout bounds one attempt.
const (
	firstRetry     = 10 * time.Millisecond
	maxRetry       = 500 * time.Millisecond
	webhookTimeout = 60 * time.Second
)

// SetWebhook sets where Post delivers updates and the secret token it sends along, as the
// Bot API's setWebhook does (a bot calling setWebhook itself sets one address and secret).
func (s *Server) SetWebhook(secret string, urls ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookSecret, s.hookURLs = secret, append([]string(nil), urls...)
}

// Delivery is how posting one update went.
type Delivery struct {
	// Attempts counts the POSTs made. Failed describes each attempt that got no 2xx (its
	// status, or the connection error), in order.
	Attempts int
	Failed   []string
	// To is the address whose answer was 2xx.
	To string
}

// Post delivers u by webhook as Telegram does: a JSON POST with the secret token header to
// one of urls (the webhook's addresses when none are given), picked at random for every
// attempt, repeated after a short, growing pause until an attempt is answered 2xx. It
// returns the delivery, with ctx's error when ctx ended first.
func (s *Server) Post(ctx context.Context, u Update, urls ...string) (Delivery, error) {
	s.mu.Lock()
	secret := s.hookSecret
	if len(urls) == 0 {
		urls = s.hookURLs
	}
	s.mu.Unlock()
	var d Delivery
	if len(urls) == 0 {
		return d, errors.New("telegramtest: no webhook address: call SetWebhook or give one")
	}
	body, err := json.Marshal(u)
	if err != nil {
		return d, fmt.Errorf("telegramtest: update does not encode: %w", err)
	}
	pause := firstRetry
	for {
		to := urls[rand.IntN(len(urls))]
		d.Attempts++
		status, err := s.postOnce(ctx, to, secret, body)
		if err == nil && status/100 == 2 {
			d.To = to
			return d, nil
		}
		if err != nil {
			d.Failed = append(d.Failed, err.Error())
		} else {
			d.Failed = append(d.Failed, fmt.Sprintf("status %d", status))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return d, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, maxRetry)
	}
}

func (s *Server) postOnce(ctx context.Context, to, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(SecretHeader, secret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
