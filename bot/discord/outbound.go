package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"intake/bot"
)

// Discord's limits.
const (
	maxContent  = 2000 // characters of one message
	maxPerRow   = 5    // buttons in one action row
	maxRows     = 5    // action rows in one message
	maxLabel    = 80   // characters of a button label
	maxCustomID = 100  // bytes of a button's custom id
)

// noMentions keeps every @everyone, role or user mention in a text from pinging anyone.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// render turns one bot message into the Discord messages that carry it: the text escaped
// and split to fit, the buttons on the last part (25 per message; more go on messages of
// their own).
func (c *Channel) render(m bot.Message) []*discordgo.MessageSend {
	var out []*discordgo.MessageSend
	for _, part := range split(m.Text) {
		out = append(out, &discordgo.MessageSend{Content: part, AllowedMentions: noMentions()})
	}
	rows := c.buttonRows(m.Buttons)
	for len(rows) > 0 {
		n := min(len(rows), maxRows)
		if len(out) == 0 || out[len(out)-1].Components != nil {
			out = append(out, &discordgo.MessageSend{AllowedMentions: noMentions()})
		}
		out[len(out)-1].Components = rows[:n]
		rows = rows[n:]
	}
	return out
}

// buttonRows lays buttons out five to a row. A button whose data Discord cannot carry is
// left out (and logged), rather than making the whole message fail.
func (c *Channel) buttonRows(bs []bot.Button) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	var row []discordgo.MessageComponent
	for _, b := range bs {
		if b.Data == "" || len(b.Data) > maxCustomID {
			c.log.Error("button left out: its data does not fit a Discord custom id", "bytes", len(b.Data))
			continue
		}
		row = append(row, discordgo.Button{Label: label(b.Label), Style: discordgo.PrimaryButton, CustomID: b.Data})
		if len(row) == maxPerRow {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return rows
}

// label fits a button label: Discord shows labels as typed (no markdown), at most 80
// characters, never empty.
func label(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "…"
	}
	if utf8.RuneCountInString(s) > maxLabel {
		r := []rune(s)
		return strings.TrimSpace(string(r[:maxLabel-1])) + "…"
	}
	return s
}

// markdown are the characters Discord's markdown acts on anywhere in a line. Escaping them
// with a backslash makes student and counsellor text show exactly as typed.
var markdown = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "|", `\|`, ">", `\>`, "`", "\\`", "[", `\[`,
)

// escapeLine escapes one line; '#' (headings) and '-' (lists) act only at the start.
func escapeLine(line string) string {
	e := markdown.Replace(line)
	rest := strings.TrimLeft(e, " ")
	if strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "-") {
		i := len(e) - len(rest)
		e = e[:i] + `\` + e[i:]
	}
	return e
}

// split escapes text and cuts it into parts of at most maxContent characters, at line
// breaks where it can, else at spaces, and never inside an escape.
func split(text string) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	var parts []string
	var cur strings.Builder
	curLen := 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
		curLen = 0
	}
	add := func(line string) {
		n := utf8.RuneCountInString(line)
		if curLen > 0 && curLen+1+n > maxContent {
			flush()
		}
		if curLen > 0 {
			cur.WriteByte('\n')
			curLen++
		}
		cur.WriteString(line)
		curLen += n
	}
	for _, raw := range strings.Split(text, "\n") {
		if e := escapeLine(raw); utf8.RuneCountInString(e) <= maxContent {
			add(e)
			continue
		}
		for _, seg := range cutLine(raw) {
			add(escapeLine(seg))
		}
	}
	flush()
	return parts
}

// cutLine cuts a line whose escaped form is too long into segments whose escaped forms
// fit (one character is kept free for a line-start escape), preferring spaces.
func cutLine(line string) []string {
	const budget = maxContent - 1
	var segs []string
	runes := []rune(line)
	for len(runes) > 0 {
		n, size, lastSpace := 0, 0, -1
		for n < len(runes) {
			w := 1
			if strings.ContainsRune("\\*_~|>`[", runes[n]) {
				w = 2
			}
			if size+w > budget {
				break
			}
			if runes[n] == ' ' {
				lastSpace = n
			}
			size += w
			n++
		}
		if n < len(runes) && lastSpace > 0 {
			n = lastSpace
		}
		segs = append(segs, string(runes[:n]))
		runes = runes[n:]
		for len(runes) > 0 && runes[0] == ' ' {
			runes = runes[1:]
		}
	}
	return segs
}

// send delivers a turn's or the outbox's messages to a DM channel, in order. An error
// wrapping bot.ErrUnreachable means the student can never be reached there again.
func (c *Channel) send(ctx context.Context, channelID string, msgs []bot.Message) error {
	for _, m := range msgs {
		for _, part := range c.render(m) {
			if err := c.post(ctx, channelID, part); err != nil {
				return err
			}
		}
	}
	return nil
}

// post sends one message, waiting out a 429 (context-aware, unlike discordgo's own retry,
// which sleeps whatever the context) and trying again.
func (c *Channel) post(ctx context.Context, channelID string, m *discordgo.MessageSend) error {
	for attempt := 1; ; attempt++ {
		_, err := c.rest.ChannelMessageSendComplex(channelID, m, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
		if wait, ok := rateLimited(err); ok && wait <= maxRateWait && attempt < 4 {
			if !pause(ctx, wait) {
				return fmt.Errorf("discord: send: %w", ctx.Err())
			}
			continue
		}
		return sendError(err)
	}
}

// rateLimited reports a 429 and how long Discord asks to wait.
func rateLimited(err error) (retryAfter time.Duration, ok bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return rl.RetryAfter, true
	}
	return 0, false
}

// unreachableCodes are the API errors after which a DM can never be delivered: the
// student blocked the bot or closed DMs (50007), or the channel or user is gone.
var unreachableCodes = map[int]bool{
	discordgo.ErrCodeCannotSendMessagesToThisUser: true,
	discordgo.ErrCodeUnknownChannel:               true,
	discordgo.ErrCodeUnknownUser:                  true,
}

// sendError turns a discordgo error into one that is safe to log and return: no URL (it
// can hold a channel id or an interaction token), no response body.
func sendError(err error) error {
	if httpStatus(err) == http.StatusUnauthorized {
		return ErrTokenRefused
	}
	if code := apiCode(err); unreachableCodes[code] {
		return fmt.Errorf("discord: send: API error %d: %w", code, bot.ErrUnreachable)
	}
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("discord: send: %w", ctxErr)
		}
	}
	return errors.New("discord: send: " + errorKind(err))
}

// apiCode is the JSON error code of a REST error, 0 for other errors.
func apiCode(err error) int {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Message != nil {
		return rest.Message.Code
	}
	return 0
}

// httpStatus is the HTTP status of a REST error, 0 for other errors.
func httpStatus(err error) int {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Response != nil {
		return rest.Response.StatusCode
	}
	return 0
}

// urlPattern finds URLs in library error texts.
var urlPattern = regexp.MustCompile(`(?i)\b(https?|wss?)://\S+`)

// errorKind describes an error from discordgo or the network without URLs, ids, tokens
// or response bodies.
func errorKind(err error) string {
	var rest *discordgo.RESTError
	var rl *discordgo.RateLimitError
	var ue *url.Error
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &rest):
		status := 0
		if rest.Response != nil {
			status = rest.Response.StatusCode
		}
		return fmt.Sprintf("HTTP %d, API error %d", status, apiCode(err))
	case errors.As(err, &rl):
		if rl.RateLimit != nil && rl.TooManyRequests != nil {
			return fmt.Sprintf("rate limited, retry after %v", rl.RetryAfter)
		}
		return "rate limited"
	case errors.As(err, &ue):
		return ue.Op + " request: " + errorKind(ue.Err)
	case errors.Is(err, discordgo.ErrJSONUnmarshal):
		return "unreadable response"
	}
	return urlPattern.ReplaceAllString(err.Error(), "<url>")
}
