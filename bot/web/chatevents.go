package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"intake/bot"
)

// Event streams: with script, the page opens GET /chat/events once its conversation has a
// case, and counsellor messages arrive there as they are sent.
//
// The handler is Engine.Deliver in a loop, each read waiting up to EventsBlock for a new
// message; a message is acknowledged only after it was written and flushed to the
// connection, so one that could not be written stays pending for the consumer "web" and
// comes with the next read (deliverConsumer says what at-least-once means here). A stream
// ends after EventsMaxAge and the browser reconnects (retry: 3s): that bounds the work of a
// forgotten tab and lets a replica drain its connections. Every minute the stream checks
// that the conversation still has its case (forget ends it).
//
// A conversation without a case gets 204, which tells EventSource to stop: the page opens
// the stream again after the turn that hands off or brings back a case.
const (
	keepAlive      = 20 * time.Second
	sessionRecheck = time.Minute
	writeWait      = 30 * time.Second
)

func (h *chatHandler) events(w http.ResponseWriter, r *http.Request) {
	c, ok := h.conversation(r)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx := r.Context()
	ip, now := h.opts.ClientIP(r), h.now()
	if !h.perIP.Allow(ip, now) {
		h.hit("ip")
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(h.perIP.Wait(ip, now).Seconds()+1))))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	sess := h.session(ctx, c)
	if sess == nil || sess.CaseCode == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if h.streams.Add(1) > int64(h.opts.MaxStreams) {
		h.streams.Add(-1)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	defer h.streams.Add(-1)

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("X-Accel-Buffering", "no") // a buffering proxy would hold messages back
	w.WriteHeader(http.StatusOK)
	write := func(s string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(writeWait)) // lifts a server-wide WriteTimeout
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
		return rc.Flush()
	}
	if write("retry: 3000\n\n") != nil {
		return
	}
	lang := sess.Lang
	start, checked, wrote := time.Now(), time.Now(), time.Now()
	for ctx.Err() == nil && time.Since(start) < h.opts.EventsMaxAge {
		var werr error
		_, err := h.e.Deliver(ctx, c.outbox(), deliverConsumer, h.opts.EventsBlock, func(_ context.Context, _ string, msgs []bot.Message) error {
			batch := wrap(msgs, true)
			v := h.chatView(c, sess, &shown{lang: lang, messages: batch})
			v.Once = "" // the page puts its own current nonce into new forms
			for i := range v.Bubbles {
				v.Bubbles[i].First = false
			}
			data, _ := json.Marshal(turnJSON{HTML: h.fragment("bubbles", v), Lang: v.Lang, Case: true})
			if werr = write("event: turn\ndata: " + string(data) + "\n\n"); werr != nil {
				return werr // not acknowledged: the next read delivers it again
			}
			h.recent.add(c.key, lang, batch, h.now())
			wrote = time.Now()
			return nil
		})
		if werr != nil || ctx.Err() != nil {
			return
		}
		if err != nil {
			h.log.Error("chat: event stream delivery failed", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(h.opts.EventsBlock):
			}
		}
		if time.Since(wrote) >= keepAlive {
			if write(": keep-alive\n\n") != nil {
				return
			}
			wrote = time.Now()
		}
		if time.Since(checked) >= sessionRecheck {
			checked = time.Now()
			if sess = h.session(ctx, c); sess == nil || sess.CaseCode == "" {
				write("event: end\ndata: {}\n\n")
				return
			}
			lang = sess.Lang
		}
	}
}
