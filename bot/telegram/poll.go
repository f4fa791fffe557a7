package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Long polling, at least once. Telegram keeps an update until a getUpdates asks for the
// updates from a higher id on (the offset), and then forgets it for good. The library's
// own loop moves the offset past an update as soon as it was fetched, before it was
// handled, so a replica killed in between lost it: the student's message got no answer,
// ever. This loop moves the offset only past updates that were handled and answered (or
// that the channel decided not to serve, or dropped over the rate limit), so a replica
// killed at any moment leaves its unfinished updates with Telegram, and whoever polls next
// gets them again. An update handled twice that way is answered once: the engine keeps the
// turn's reply in the session and knows the update id (see bot/redeliver.go).
//
// Updates of different chats finish out of order, so the offset stays at the oldest
// unfinished one. Telegram then hands out everything from there on again at each call,
// at once; the loop skips what it has in hand and, while anything is still running,
// calls again only when all of it finished or after repollEvery, for updates that are new.

const (
	// pollLimit is the most updates one getUpdates returns: Telegram's maximum and
	// default, as the library asks. Everything the channel has in hand from the oldest
	// unfinished update on counts, so a chat whose updates are held back over the rate
	// holds up new ones only once a hundred arrived after its own.
	pollLimit = 100
	// longPoll is the getUpdates timeout in seconds, as the library sets it: a second
	// under the HTTP client's timeout, so Telegram answers first.
	longPoll = int((pollTimeout - time.Second) / time.Second)
	// maxTries is how often an update is handled that asks to be delivered again, before
	// it is let go: a failure that repeats must not hold the offset, and every chat behind
	// it, for ever.
	maxTries = 5
	// confirmTimeout bounds the last getUpdates at shutdown, which only confirms.
	confirmTimeout = 5 * time.Second
	// maxPollAnswer bounds the answer to one getUpdates: a hundred updates of at most a
	// few kilobytes each.
	maxPollAnswer = 16 << 20
)

// allowedUpdates are the kinds of update the channel reads.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery}

// pollUpdates fetches updates and queues them until fetch ends. Then, unless mayPoll has
// ended too (the lease is gone, so another replica may poll), it waits for the updates in
// hand, at most until the drain ends, and confirms those that finished, so a restart does
// not handle them again.
func (c *Channel) pollUpdates(fetch, mayPoll context.Context) {
	var backoff time.Duration
	for fetch.Err() == nil {
		raws, err := c.getUpdates(fetch, c.hand.offset(), longPoll)
		if err != nil {
			if fetch.Err() != nil {
				break
			}
			backoff = pollBackoff(backoff, err)
			c.log.Warn("telegram poll failed; trying again", "err", describe(err), "retry_in", backoff)
			sleep(fetch, backoff)
			continue
		}
		backoff = 0
		c.takeIn(raws)
		// Telegram hands out again, at once, what is still in hand: call again when all
		// of it finished (the offset moves), or after a while for new updates.
		if idle := c.hand.idle(); idle != nil {
			t := time.NewTimer(c.repollEvery)
			select {
			case <-fetch.Done():
			case <-idle:
			case <-t.C:
			}
			t.Stop()
		}
	}
	if mayPoll.Err() != nil {
		return
	}
	if idle := c.hand.idle(); idle != nil {
		select {
		case <-idle:
		case <-c.drain.Done(): // what is unfinished now comes again after a restart
		case <-mayPoll.Done():
			return
		}
	}
	ctx, cancel := context.WithTimeout(mayPoll, confirmTimeout)
	defer cancel()
	if _, err := c.getUpdates(ctx, c.hand.offset(), 0); err != nil {
		c.log.Warn("telegram: handled updates not confirmed; the next poll gets them again and they are answered once", "err", describe(err))
	}
}

// takeIn queues the updates of one getUpdates that are not in hand already.
func (c *Channel) takeIn(raws []json.RawMessage) {
	first, some := int64(0), false
	for _, raw := range raws {
		u, err := readUpdate(raw)
		if u == nil {
			// Without its id it cannot be confirmed or skipped; Telegram's ids only grow,
			// so the next update's confirmation takes it along.
			c.log.Warn("telegram update without an id skipped", "err_type", fmt.Sprintf("%T", err))
			continue
		}
		if !some || u.ID < first {
			first, some = u.ID, true
		}
		if !c.hand.take(u.ID) {
			continue
		}
		if err != nil {
			// Only the kind of error: the update may hold a student's words.
			c.log.Warn("telegram update unreadable; skipped", "err_type", fmt.Sprintf("%T", err))
			c.hand.finish(u.ID, nil)
			continue
		}
		if !c.dispatchPolled(u) {
			// Dropped (over the rate with a full backlog, or a full lane): by design, as
			// a webhook update is not, since Telegram would only bring it back at once.
			c.hand.finish(u.ID, nil)
		}
	}
	c.hand.forget(first, some)
}

// dispatchPolled queues u and reports whether it was queued. queue answers a panic of its
// own (see beforeTurn); this recover only keeps the loop going should the answering fail too.
func (c *Channel) dispatchPolled(u *models.Update) (queued bool) {
	defer c.recoverPanic("dispatch")
	id := u.ID
	return c.queue(u, func(err error) {
		if c.hand.finish(id, err) {
			c.log.Warn("telegram update let go after failing repeatedly", "tries", maxTries)
		}
	})
}

// readUpdate decodes one update. An update the client types cannot read still gives its id
// (with the error), so it can be confirmed; nil means not even that.
func readUpdate(raw json.RawMessage) (*models.Update, error) {
	var u models.Update
	err := json.Unmarshal(raw, &u)
	if err == nil && u.ID > 0 {
		return &u, nil
	}
	var id struct {
		ID int64 `json:"update_id"`
	}
	if json.Unmarshal(raw, &id) != nil || id.ID <= 0 {
		return nil, err
	}
	return &models.Update{ID: id.ID}, err
}

// getUpdatesParams is the body of a getUpdates call.
type getUpdatesParams struct {
	Offset         int64    `json:"offset,omitempty"`
	Limit          int      `json:"limit"`
	Timeout        int      `json:"timeout"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// apiAnswer is the Bot API's envelope around every answer.
type apiAnswer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates calls the Bot API's getUpdates through the client the library sends with
// (so Ready sees its outcome), confirming the updates below offset (0: none) and waiting
// up to timeout seconds for new ones. It returns the updates undecoded. Errors are of the
// library's kinds (tgbot.ErrorConflict, *tgbot.TooManyRequestsError, ...), for describe;
// they never hold the URL, which holds the token.
func (c *Channel) getUpdates(ctx context.Context, offset int64, timeout int) ([]json.RawMessage, error) {
	body, err := json.Marshal(getUpdatesParams{Offset: offset, Limit: pollLimit, Timeout: timeout, AllowedUpdates: allowedUpdates})
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+"/bot"+c.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("getUpdates: the Bot API address is unusable") // the error would hold the token
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", err) // a *url.Error: describe leaves its URL out
	}
	defer resp.Body.Close()
	var a apiAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPollAnswer)).Decode(&a); err != nil {
		return nil, fmt.Errorf("getUpdates: answer unreadable (status %d): %w", resp.StatusCode, errAnswerUnreadable)
	}
	if !a.OK {
		return nil, apiError(a)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(a.Result, &raws); err != nil {
		return nil, fmt.Errorf("getUpdates: %w", errAnswerUnreadable)
	}
	return raws, nil
}

// errAnswerUnreadable stands for a JSON error, whose text could quote the answer.
var errAnswerUnreadable = errors.New("the Bot API's answer is not the expected JSON")

// apiError is a refused call as the library reports it, so describe and errors.Is work as
// for the library's calls.
func apiError(a apiAnswer) error {
	switch a.ErrorCode {
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{Message: "too many requests, " + a.Description, RetryAfter: a.Parameters.RetryAfter}
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tgbot.ErrorUnauthorized, a.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tgbot.ErrorNotFound, a.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tgbot.ErrorConflict, a.Description)
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, a.Description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, a.Description)
	}
	return &callError{method: "getUpdates", desc: fmt.Sprintf("the Bot API answered %d", a.ErrorCode)}
}

// pollBackoff is the wait before the next poll after a failed one: as the library's loop,
// from 100 ms doubling up to 5 s, and at least what a 429 asks for.
func pollBackoff(d time.Duration, err error) time.Duration {
	switch {
	case d == 0:
		d = 100 * time.Millisecond
	default:
		d = min(2*d, 5*time.Second)
	}
	if tooMany, ok := errors.AsType[*tgbot.TooManyRequestsError](err); ok {
		d = max(d, time.Duration(tooMany.RetryAfter)*time.Second)
	}
	return d
}

// inHand keeps the updates fetched and not yet confirmed, and where the offset may go.
// It outlives one lease: a replica that polls again gets back updates it still handles,
// and must not start them twice.
type inHand struct {
	mu      sync.Mutex
	updates map[int64]*heldUpdate
	top     int64         // the highest id fetched
	running int           // updates queued and not finished
	idleCh  chan struct{} // closed when running drops to 0; nil while it is 0
}

type heldUpdate struct {
	state updateState
	tries int
}

type updateState int

const (
	updateRunning updateState = iota
	updateDone                // handled, answered, or not to be served: may be confirmed
	updateAgain               // not handled: handle it when Telegram hands it out again
)

// take reports whether the update with id should be queued: it is new, or its last
// handling asked for it again. It then counts as running.
func (h *inHand) take(id int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.top = max(h.top, id)
	u := h.updates[id]
	switch {
	case u == nil:
		if h.updates == nil {
			h.updates = map[int64]*heldUpdate{}
		}
		u = &heldUpdate{}
		h.updates[id] = u
	case u.state != updateAgain:
		return false
	}
	u.state = updateRunning
	u.tries++
	if h.running == 0 {
		h.idleCh = make(chan struct{})
	}
	h.running++
	return true
}

// finish records how the update with id ended: nil is done, an error asks for it again,
// up to maxTries handlings; it reports whether the update was let go after those. Only
// the first finish of a running update counts.
func (h *inHand) finish(id int64, err error) (gaveUp bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.updates[id]
	if u == nil || u.state != updateRunning {
		return false
	}
	switch {
	case err == nil:
		u.state = updateDone
	case u.tries >= maxTries:
		u.state, gaveUp = updateDone, true
	default:
		u.state = updateAgain
	}
	h.running--
	if h.running == 0 {
		close(h.idleCh)
		h.idleCh = nil
	}
	return gaveUp
}

// idle returns nil when no update is running, else a channel closed once none is.
func (h *inHand) idle() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running == 0 {
		return nil
	}
	return h.idleCh
}

// offset is the offset for the next getUpdates: the oldest update not done, or past the
// newest when all are done (0 before the first update: confirm nothing). Updates it
// confirms are forgotten.
func (h *inHand) offset() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := int64(0)
	if h.top > 0 {
		next = h.top + 1
	}
	for id, u := range h.updates {
		if u.state != updateDone && id < next {
			next = id
		}
	}
	for id, u := range h.updates {
		if u.state == updateDone && id < next {
			delete(h.updates, id)
		}
	}
	return next
}

// forget drops what Telegram no longer has after a getUpdates answered from first on
// (some: it answered with updates at all): updates below first, or all when it answered
// none, were confirmed, by this replica or one that polled meanwhile. Running ones stay
// until they finish.
func (h *inHand) forget(first int64, some bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, u := range h.updates {
		if u.state != updateRunning && (!some || id < first) {
			delete(h.updates, id)
		}
	}
}
