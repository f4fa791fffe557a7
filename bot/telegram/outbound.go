package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"

	"intake/bot"
)

// Telegram's limits.
const (
	// maxMessage is the longest message text, in UTF-16 code units (what Telegram counts).
	maxMessage = 4096
	// maxCallbackData is the most bytes a button can carry back.
	maxCallbackData = 64
)

// Rate limits (429): a call is tried this often, and a chat told to wait longer than
// maxRetryWait is not waited for (the caller fails and tries again later).
const (
	maxAttempts  = 3
	maxRetryWait = time.Minute
)

// inlineKeyboard is the reply_markup of a message with buttons. It is our own type, not the
// library's: models.InlineKeyboardButton always serialises "copy_text":{"text":""}, which
// is not a button kind we mean to send.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// noKeyboard removes a message's buttons when it is edited.
var noKeyboard = &inlineKeyboard{InlineKeyboard: [][]inlineButton{}}

// keyboard puts one button on each row: labels are whole sentences and read best stacked.
func (c *Channel) keyboard(buttons []bot.Button) *inlineKeyboard {
	var rows [][]inlineButton
	for _, b := range buttons {
		switch {
		case b.Label == "" || b.Data == "":
			c.log.Error("button without label or data left out")
			continue
		case len(b.Data) > maxCallbackData:
			// Telegram refuses the whole message for one such button; without it the
			// student can still type the label.
			c.log.Error("button left out: its data is longer than Telegram allows", "bytes", len(b.Data), "max", maxCallbackData)
			continue
		}
		rows = append(rows, []inlineButton{{Text: b.Label, CallbackData: b.Data}})
	}
	if len(rows) == 0 {
		return nil
	}
	return &inlineKeyboard{InlineKeyboard: rows}
}

// sendMessages sends msgs to a chat in order. Texts go without a parse mode, as plain
// text: what a student or counsellor typed, *_[< included, shows exactly as typed, and no
// escaping can be forgotten.
func (c *Channel) sendMessages(ctx context.Context, chat int64, msgs []bot.Message) error {
	for _, m := range msgs {
		parts := splitText(m.Text, maxMessage)
		if len(parts) == 0 {
			if len(m.Buttons) > 0 {
				c.log.Error("message with buttons but no text not sent")
			}
			continue
		}
		kb := c.keyboard(m.Buttons)
		for i, part := range parts {
			params := &tgbot.SendMessageParams{ChatID: chat, Text: part}
			if i == len(parts)-1 && kb != nil {
				params.ReplyMarkup = kb // the buttons go under the last part, next to the question
			}
			err := c.call(ctx, chat, "sendMessage", func(ctx context.Context) error {
				_, err := c.tg.SendMessage(ctx, params)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// call runs one Bot API call for a chat, honouring Telegram's "retry after" for that chat
// only: turns run in their chat's own lane (see dispatch), so while one chat waits the
// others go on. (The outbox is one loop per replica; there a wait also delays the
// deliveries queued behind it, at most maxAttempts-1 times retry_after.) The error it
// returns is safe to log (see describe).
func (c *Channel) call(ctx context.Context, chat int64, method string, f func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := c.limits.wait(ctx, chat); err != nil {
			return newCallError(method, err)
		}
		err := f(ctx)
		if err == nil {
			return nil
		}
		var tooMany *tgbot.TooManyRequestsError
		if errors.As(err, &tooMany) {
			c.limits.hold(chat, time.Duration(max(tooMany.RetryAfter, 1))*time.Second)
			c.log.Warn("telegram asked to slow down for a chat", "method", method, "retry_after_s", tooMany.RetryAfter, "attempt", attempt)
			if attempt < maxAttempts {
				continue
			}
		}
		return newCallError(method, err)
	}
}

// errRateLimited means Telegram asked to wait longer than is worth waiting in line.
var errRateLimited = errors.New("rate limited by telegram; try again later")

// limiter remembers, per chat, until when Telegram asked us to wait. It holds chat ids in
// memory only, and drops them once their wait is over.
type limiter struct {
	mu    sync.Mutex
	until map[int64]time.Time
}

func newLimiter() *limiter { return &limiter{until: map[int64]time.Time{}} }

func (l *limiter) hold(chat int64, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for other, t := range l.until {
		if !now.Before(t) {
			delete(l.until, other)
		}
	}
	if t := now.Add(d); t.After(l.until[chat]) {
		l.until[chat] = t
	}
}

// wait returns when the chat may be written to again.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	l.mu.Lock()
	t, ok := l.until[chat]
	if ok && !time.Now().Before(t) {
		delete(l.until, chat)
		ok = false
	}
	l.mu.Unlock()
	if !ok {
		return nil
	}
	d := time.Until(t)
	if d > maxRetryWait {
		return errRateLimited
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// callError is a failed Bot API call, described without anything the library might have
// put in its message (answer bodies carry names and texts). It still matches the library's
// sentinels and bot.ErrUnreachable with errors.Is.
type callError struct {
	method, desc string
	kinds        []error
}

func (e *callError) Error() string   { return "telegram " + e.method + ": " + e.desc }
func (e *callError) Unwrap() []error { return e.kinds }

func newCallError(method string, err error) error {
	e := &callError{method: method, desc: describe(err)}
	for _, k := range []error{tgbot.ErrorForbidden, tgbot.ErrorBadRequest, tgbot.ErrorUnauthorized, tgbot.ErrorNotFound, tgbot.ErrorConflict, context.Canceled, context.DeadlineExceeded, errRateLimited} {
		if errors.Is(err, k) {
			e.kinds = append(e.kinds, k)
		}
	}
	if unreachable(err) {
		e.kinds = append(e.kinds, bot.ErrUnreachable)
	}
	return e
}

// unreachable reports whether Telegram said this chat can never be written to again: the
// student blocked the bot or deleted their account.
func unreachable(err error) bool {
	if errors.Is(err, tgbot.ErrorForbidden) {
		return true // "bot was blocked by the user", "user is deactivated"
	}
	return errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "chat not found")
}

var methodPattern = regexp.MustCompile(`for method (\w+)`)

// describe says what went wrong in a way that is safe to log. The library's messages can
// hold answer bodies (names, usernames, message texts) and, for some network errors, the
// request URL with the token; so only known-safe parts are kept: the error kind, Telegram's
// own description of an API error, and the network error without its URL.
func describe(err error) string {
	var (
		tooMany *tgbot.TooManyRequestsError
		migrate *tgbot.MigrateError
		urlErr  *url.Error
		callErr *callError
	)
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &callErr):
		return callErr.desc
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, errRateLimited):
		return errRateLimited.Error()
	case errors.As(err, &tooMany):
		return fmt.Sprintf("too many requests (retry after %d s)", tooMany.RetryAfter)
	case errors.As(err, &migrate):
		return fmt.Sprintf("the group became a supergroup with chat id %d: set %s to it", migrate.MigrateToChatID, EnvGroup)
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
		return "the bot token was refused: check " + EnvToken
	case errors.Is(err, tgbot.ErrorForbidden), errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorConflict):
		// "<kind>, <Telegram's description>", e.g. "forbidden, Forbidden: bot was blocked by the user".
		return clip(oneLine(err.Error()), 200)
	case errors.As(err, &urlErr):
		return "network: " + clip(oneLine(urlErr.Err.Error()), 200)
	}
	msg := err.Error()
	for _, fixed := range []string{"invalid webhook secret token", "some updates lost", "failed to send update"} {
		if strings.HasPrefix(msg, fixed) {
			return fixed
		}
	}
	if m := methodPattern.FindStringSubmatch(msg); m != nil {
		return "unexpected answer to " + m[1] + " (details left out: they may hold personal data)"
	}
	return "unexpected error (details left out: they may hold personal data)"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// units counts a text the way Telegram does, in UTF-16 code units.
func units(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// splitText cuts a text into parts Telegram accepts: at line breaks where it can, else at
// a space, else anywhere. Blank parts are left out (Telegram refuses empty messages).
func splitText(s string, limit int) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if units(s) <= limit {
		return []string{s}
	}
	var (
		parts []string
		cur   strings.Builder
		n     int
	)
	add := func(p string) {
		if p = strings.TrimRight(p, "\n"); strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	flush := func() {
		add(cur.String())
		cur.Reset()
		n = 0
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		for units(line) > limit {
			flush()
			head, rest := cutLine(line, limit)
			add(head)
			line = rest
		}
		if l := units(line); n+l > limit {
			flush()
		}
		cur.WriteString(line)
		n += units(line)
	}
	flush()
	return parts
}

// cutLine cuts the first at most limit units off s, at the last space if there is one.
func cutLine(s string, limit int) (head, rest string) {
	n, space, end := 0, -1, 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > limit {
			break
		}
		n += w
		if r == ' ' {
			space = i
		}
		end = i + utf8.RuneLen(r)
	}
	switch {
	case space > 0:
		return s[:space], s[space+1:]
	case end == 0: // a limit below one character: take one anyway, or the caller never ends
		_, size := utf8.DecodeRuneInString(s)
		end = size
	}
	return s[:end], s[end:]
}
