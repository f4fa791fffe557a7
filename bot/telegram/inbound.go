package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"intake/bot"
	"intake/bot/limit"
)

// msgTextOnly is the reply to a photo, file, sticker, voice message, location or contact.
const msgTextOnly = "channel.text_only"

// textOnlyFallback is used when the texts lack msgTextOnly (an older locale folder).
const textOnlyFallback = "Ik kan alleen tekst lezen: typ je bericht of tik op een knop. / I can only read text: please type your message or tap a button."

// queue puts an update behind its chat's earlier ones; updates of different chats run in
// parallel. It runs in the poll loop or the webhook's request, in the order Telegram sent
// the updates, so it only decides and queues: it never waits for Redis or Telegram.
//
// A student's update counts against their conversation's rate. Over it, the update is held
// back and runs when the conversation has a token again (up to limit.Backlog of them;
// more are dropped): losing a student's words is worse than answering late. An update
// that asks for help in danger is never dropped for the rate (limit.UrgentBacklog more
// may wait), so its turn marks the conversation urgent for the counsellors. The student
// hears at once what cannot wait: the 24/7 numbers when the update asks for help in
// danger, and, the first time, that they are going too fast. Button taps in the counsellor
// group keep their order but are not limited. Updates the channel does not serve (group
// chatter, channel posts, edits) are dropped here, unread.
//
// finish is called with the outcome once u was handled (nil at once for an update the
// channel does not serve). queue reports false when u was dropped; finish is then never
// called.
//
// A panic while it reads and queues a student's update is answered (see beforeTurn) and
// counts as handled: finish(nil), so a webhook delivery is not repeated into the same
// panic.
func (c *Channel) queue(u *models.Update, finish func(error)) (accepted bool) {
	var b beforeTurn
	defer func() {
		if p := recover(); p != nil {
			c.panicBeforeTurn("queue", p, &b)
			if !b.passed {
				finish(nil)
			}
			accepted = true
		}
	}()
	chat, student, ok := c.route(u)
	if !ok {
		b.passed = true
		finish(nil)
		return true
	}
	if !student {
		run := func() { finish(c.handle(u, beforeTurn{})) }
		if !c.chats.Queue("group:"+strconv.FormatInt(chat, 10), run) {
			c.log.Warn("counsellor group update dropped: too many waiting")
			return false
		}
		return true
	}
	b.chat = chat
	b.in = c.peek(u, chat)
	in := b.in
	if f := beforeQueue.Load(); f != nil {
		(*f)(u)
	}
	run := func() { finish(c.handle(u, beforeTurn{chat: chat, in: in})) }
	if !c.taken.first(in.UpdateID) {
		// Telegram delivering an update again, because its first delivery got no 200, is
		// not the student writing again: it keeps its place in the lane but takes no
		// token, or an outage would end in "you are going too fast".
		b.passed = c.chats.Queue(in.Key, run)
		return b.passed
	}
	urgent := c.d.Engine.Urgent(in)
	admit := c.chats.Admit
	if urgent {
		admit = c.chats.AdmitUrgent
	}
	admitted, first := admit(in.Key, run)
	b.passed = admitted != limit.Dropped
	if admitted == limit.Now {
		return true
	}
	c.d.Engine.Meter().Limited(Name, "conversation")
	if admitted == limit.Dropped {
		c.log.Warn("update dropped: the conversation is over its rate and its backlog is full")
	}
	if first || urgent {
		c.chats.Priority(in.Key, func() { c.overLimit(in, chat, first) })
	}
	return b.passed
}

// peek is the engine's view of a student's update, for the rate limit: its conversation
// key, language hint, and text or button data.
func (c *Channel) peek(u *models.Update, chat int64) bot.Inbound {
	if q := u.CallbackQuery; q != nil {
		in := c.inbound(u.ID, &q.From, chat)
		in.Data = q.Data
		return in
	}
	in := c.inbound(u.ID, u.Message.From, chat)
	in.Text = u.Message.Text
	return in
}

// overLimit tells a student over the rate what cannot wait (see dispatch). It runs in the
// conversation's lane, before the updates held back.
func (c *Channel) overLimit(in bot.Inbound, chat int64, first bool) {
	defer c.recoverPanic("over limit")
	ctx, cancel := context.WithTimeout(c.drain, turnTimeout)
	defer cancel()
	msgs := c.d.Engine.OverLimit(ctx, in, first)
	if err := c.sendMessages(ctx, chat, msgs); err != nil {
		c.log.Warn("rate-limit notice not delivered", "err", err)
	}
}

// route returns the chat an update belongs to, if the channel serves it: private messages
// and button taps of students (student), and button taps in the counsellor group.
func (c *Channel) route(u *models.Update) (chat int64, student, ok bool) {
	switch {
	case u.CallbackQuery != nil:
		chat, kind, _, ok := callbackChat(u.CallbackQuery)
		if !ok || u.CallbackQuery.From.IsBot {
			return 0, false, false
		}
		if kind == models.ChatTypePrivate {
			return chat, true, true
		}
		if c.cfg.CounsellorGroup != 0 && chat == c.cfg.CounsellorGroup {
			return chat, false, true
		}
	case u.Message != nil:
		m := u.Message
		if m.Chat.Type == models.ChatTypePrivate && m.From != nil && !m.From.IsBot {
			return m.Chat.ID, true, true
		}
	}
	return 0, false, false
}

// callbackChat is the chat and message a tapped button belongs to. Telegram sends the
// message as "inaccessible" when it is too old to show in full; its chat is still there.
func callbackChat(q *models.CallbackQuery) (chat int64, kind models.ChatType, msgID int, ok bool) {
	switch {
	case q.Message.Message != nil:
		m := q.Message.Message
		return m.Chat.ID, m.Chat.Type, m.ID, true
	case q.Message.InaccessibleMessage != nil:
		m := q.Message.InaccessibleMessage
		return m.Chat.ID, m.Chat.Type, m.MessageID, true
	}
	return 0, "", 0, false // a button of an inline message: not ours
}

// beforeQueue and beforeHandle let tests make the channel panic while it queues a
// student's update (in the library's worker) or before the update's turn (in its lane);
// unset otherwise.
var beforeQueue, beforeHandle atomic.Pointer[func(*models.Update)]

// handle serves one update; b is what queue read of a student's update (zero for the
// counsellor group's). It runs in the chat's lane (see dispatch). It returns errAgain when
// the update should be delivered again (see turn). A panic before a student's turn is
// answered (see beforeTurn); either way a panic counts as handled (nil), so a webhook
// delivery is not repeated into the same panic.
func (c *Channel) handle(u *models.Update, b beforeTurn) error {
	b.inLane = true
	defer func() {
		if p := recover(); p != nil {
			c.panicBeforeTurn("update", p, &b)
		}
	}()
	if c.drain.Err() != nil {
		return errAgain // shut down: not started, so not half done
	}
	if f := beforeHandle.Load(); f != nil {
		(*f)(u)
	}
	// Not Run's context: a turn that started on shutdown still sends its reply.
	ctx, cancel := context.WithTimeout(c.drain, turnTimeout)
	defer cancel()
	switch {
	case u.CallbackQuery != nil:
		return c.callback(ctx, &b, u.ID, u.CallbackQuery)
	case u.Message != nil:
		return c.message(ctx, &b, u.ID, u.Message)
	}
	return nil
}

// beforeTurn is what the channel knows of a student's update while it reads and queues it,
// up to its turn, so that a panic on the way still answers the student (panicBeforeTurn):
// an update lost with only a log line would leave them waiting for an answer that never
// comes, perhaps in danger.
type beforeTurn struct {
	chat int64       // the student's chat; 0 until known (and for the counsellor group)
	in   bot.Inbound // as far as read: the conversation, language hint, text or button
	// passed is set once the update went on (queued, or its turn or reply began): from
	// then on its answer comes from there, and a panic is only logged.
	passed bool
	// inLane: the panic happened in the chat's lane, where the answer may be sent at once;
	// elsewhere (the library's one worker) it is queued on the lane.
	inLane bool
}

// panicBeforeTurn logs a panic recovered in the channel's handling of an update and, when it
// came before a student's update went on and their chat is known, tells them that
// something went wrong (failedBeforeTurn). Like recoverPanic, the log holds where, never
// what.
func (c *Channel) panicBeforeTurn(where string, p any, b *beforeTurn) {
	tell := b.chat != 0 && !b.passed
	c.log.Error("telegram handler panicked", "where", where, "student_told", tell,
		"panic", bot.PanicKind(p), "stack", bot.PanicStack())
	if !tell {
		return
	}
	chat, in := b.chat, b.in
	if b.inLane {
		c.failedBeforeTurn(chat, in)
		return
	}
	key := in.Key
	if key == "" { // the panic came before the conversation was known
		key = "chat:" + strconv.FormatInt(chat, 10)
	}
	if !c.chats.Priority(key, func() { c.failedBeforeTurn(chat, in) }) {
		c.log.Warn("student not told of a failed update: the lanes are closed or too much is waiting")
	}
}

// failedBeforeTurn tells a student that their update could not be handled: the engine's
// calm error, after the 24/7 numbers when the update asked for help in danger.
func (c *Channel) failedBeforeTurn(chat int64, in bot.Inbound) {
	defer c.recoverPanic("failure notice")
	ctx, cancel := context.WithTimeout(c.drain, turnTimeout)
	defer cancel()
	if err := c.sendMessages(ctx, chat, c.d.Engine.FailedBeforeTurn(ctx, in)); err != nil {
		c.log.Warn("failure notice not delivered", "err", err)
	}
}

// inbound maps a student's update to the engine's terms. Only the user id (hashed at once
// into the key), the chat id (sealed by the engine) and the language code are read.
func (c *Channel) inbound(updateID int64, from *models.User, chat int64) bot.Inbound {
	return bot.Inbound{
		Channel:  Name,
		Key:      c.d.Names.Key(Name, strconv.FormatInt(from.ID, 10)),
		UpdateID: "tg:" + strconv.FormatInt(updateID, 10),
		LangHint: from.LanguageCode,
		Reply:    bot.Address{Outbox: Name, To: strconv.FormatInt(chat, 10)},
	}
}

// message serves a student's message; b.passed is set once its reply is on its way.
func (c *Channel) message(ctx context.Context, b *beforeTurn, updateID int64, m *models.Message) error {
	in := c.inbound(updateID, m.From, m.Chat.ID)
	if m.Text == "" {
		if hasMedia(m) {
			b.passed = true
			c.textOnly(ctx, m.Chat.ID, in)
		}
		return nil
	}
	// Commands ("/start", "/help@our_bot") pass as text: the engine knows them.
	in.Text = m.Text
	b.passed = true
	return c.turn(ctx, m.Chat.ID, in)
}

// hasMedia reports whether a message carries something other than text. Only whether the
// field is there is looked at: a photo is never downloaded, a contact's number never read.
func hasMedia(m *models.Message) bool {
	return len(m.Photo) > 0 || m.Document != nil || m.Sticker != nil || m.Voice != nil ||
		m.Video != nil || m.VideoNote != nil || m.Audio != nil || m.Animation != nil ||
		m.Location != nil || m.Venue != nil || m.Contact != nil || m.Poll != nil ||
		m.Dice != nil || m.Story != nil || m.PaidMedia != nil || m.Checklist != nil
}

// callback serves a button tap: a counsellor's claim in the group, or a student's answer
// (b.passed is set once its turn begins).
func (c *Channel) callback(ctx context.Context, b *beforeTurn, updateID int64, q *models.CallbackQuery) error {
	chat, kind, msgID, _ := callbackChat(q)
	if kind != models.ChatTypePrivate {
		c.claim(ctx, q, chat, msgID)
		return nil
	}
	// Answer at once, so the app stops its spinner, and take the buttons off the message
	// that was tapped: they belong to a question that is now answered.
	c.answer(ctx, q.ID, "", false)
	if err := c.call(ctx, chat, "editMessageReplyMarkup", func(ctx context.Context) error {
		_, err := c.tg.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chat, MessageID: msgID, ReplyMarkup: noKeyboard})
		return err
	}); err != nil {
		c.log.Debug("buttons of a tapped message not removed", "err", err)
	}
	if q.Data == "" {
		return nil
	}
	in := c.inbound(updateID, &q.From, chat)
	in.Data = q.Data
	b.passed = true
	return c.turn(ctx, chat, in)
}

// errAgain means an update was not (fully) handled: the webhook answers 503, so Telegram
// delivers it again.
var errAgain = errors.New("telegram: update not handled; deliver it again")

// turn runs one engine turn and sends its reply. It returns errAgain when the update
// should come again: the turn failed (it saved nothing, so running it again is safe), or
// its reply did not go out (the engine kept it and sends it again). Both ways updates come
// confirm an update only once it was handled (the webhook answers 503, the poll loop keeps
// its offset), so an update failed this way is handled again, after the conversation's
// lock a killed process left has run out.
func (c *Channel) turn(ctx context.Context, chat int64, in bot.Inbound) error {
	stopTyping := c.typingAfter(ctx, chat)
	r, err := c.d.Engine.Handle(ctx, in)
	stopTyping()
	if err != nil {
		c.log.Error("turn failed", "err", err)
		// The calm error reply goes out once per update, and not at all while the
		// conversation is only busy: its previous turn still runs, or a killed process
		// left its lock, which runs out by itself within seconds.
		if errors.Is(err, bot.ErrBusy) || !c.failed.first(in.UpdateID) {
			return errAgain
		}
	}
	if serr := c.sendMessages(ctx, chat, r.Messages); serr != nil {
		c.log.Warn("reply not delivered", "err", serr)
		if !errors.Is(serr, bot.ErrUnreachable) {
			return errAgain
		}
		return nil
	}
	if err != nil {
		return errAgain
	}
	c.d.Engine.Delivered(in, r)
	return nil
}

// typingAfter shows "typing…" if the turn is still running after the typing delay. The
// returned stop waits for an indicator being sent, so it never arrives after the reply
// (Telegram would then show "typing…" under the answer for seconds).
func (c *Channel) typingAfter(ctx context.Context, chat int64) (stop func()) {
	delay := c.cfg.TypingDelay
	if delay == 0 {
		delay = DefaultTypingDelay
	}
	if delay < 0 {
		c.typing(ctx, chat)
		return func() {}
	}
	sent := make(chan struct{})
	t := time.AfterFunc(delay, func() {
		defer close(sent)
		c.typing(ctx, chat)
	})
	return func() {
		if !t.Stop() {
			<-sent
		}
	}
}

// typing shows "typing…" while the engine works. It is a nicety: never waited or retried.
func (c *Channel) typing(ctx context.Context, chat int64) {
	if _, err := c.tg.SendChatAction(ctx, &tgbot.SendChatActionParams{ChatID: chat, Action: models.ChatActionTyping}); err != nil {
		c.log.Debug("typing indicator not sent", "err", describe(err))
	}
}

func (c *Channel) answer(ctx context.Context, id, text string, alert bool) {
	if _, err := c.tg.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text, ShowAlert: alert}); err != nil {
		c.log.Debug("button tap not answered", "err", describe(err))
	}
}

// textOnly tells the student, in their language, that only text is read, and why.
func (c *Channel) textOnly(ctx context.Context, chat int64, in bot.Inbound) {
	cat := c.d.Engine.Content().Catalog
	text := textOnlyFallback
	for _, lang := range []string{c.studentLang(ctx, in), "en"} {
		if cat.Has(lang, msgTextOnly) {
			if t, err := cat.Text(lang, msgTextOnly, nil); err == nil {
				text = t
				break
			}
		}
	}
	if err := c.sendMessages(ctx, chat, []bot.Message{{Text: text}}); err != nil {
		c.log.Warn("text-only reply not delivered", "err", err)
	}
}

// studentLang is the language of the student's conversation, or the app's language for a
// student without one.
func (c *Channel) studentLang(ctx context.Context, in bot.Inbound) string {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if s, err := c.d.Engine.Session(sctx, in.Key); err == nil && s != nil && s.Lang != "" {
		return s.Lang
	}
	lang := strings.ToLower(in.LangHint)
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	if lang == "" {
		return "nl"
	}
	return lang
}

func parseChat(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id != 0
}
