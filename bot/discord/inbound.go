package discord

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"intake/bot"
	"intake/bot/limit"
	"intake/locales"
)

// msgTextOnly is the reply to photos, files, stickers and other non-text messages.
const msgTextOnly = "channel.text_only"

// ackTimeout bounds an interaction response: Discord drops the interaction after 3 s.
const ackTimeout = discordgo.InteractionDeadline

// onMessage handles a message the bot can see: a student's DM. It reads the author's id
// and bot flag, the DM channel id, the message id and the text, nothing else about them.
func (c *Channel) onMessage(_ *discordgo.Session, m *discordgo.MessageCreate) {
	var b beforeTurn
	c.guard("message", &b, func() {
		if m.Message == nil || m.GuildID != "" || m.Author == nil || m.Author.Bot || m.Author.System {
			return // guild messages are not for the bot; its own DMs come back as events too
		}
		if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
			return // system messages (pins, calls)
		}
		b.in = bot.Inbound{
			Channel:  Name,
			UpdateID: "dc:" + m.ID,
			Text:     m.Content,
			Reply:    bot.Address{Outbox: Name, To: m.ChannelID},
		}
		b.in.Key = c.names.Key(Name, m.Author.ID)
		in := b.in
		// Attachments are never downloaded: their metadata can identify the student.
		notText := len(m.Attachments) > 0 || len(m.StickerItems) > 0 || len(m.MessageSnapshots) > 0 || m.Poll != nil
		c.admit(&b, func() {
			lb := beforeTurn{in: in, inLane: true}
			c.guard("message turn", &lb, func() { c.textTurn(&lb, notText) })
		})
	})
}

// admit queues f, the turn of b.in, on the conversation's lane under its rate, and sets
// b.passed when it is queued. Over the rate the turn is held back and runs when the
// conversation has a token again (up to limit.Backlog of them; more are dropped): losing a
// student's words is worse than answering late. An event that asks for help in danger is
// never dropped for the rate (limit.UrgentBacklog more may wait), so its turn marks the
// conversation urgent for the counsellors. The student hears at once what cannot wait: the
// 24/7 numbers when the event asks for help in danger, and, the first time, that they are
// going too fast.
func (c *Channel) admit(b *beforeTurn, f func()) limit.Admission {
	in := b.in
	if f := beforeAdmit.Load(); f != nil {
		(*f)(in)
	}
	urgent := c.engine.Urgent(in)
	admit := c.lanes.Admit
	if urgent {
		admit = c.lanes.AdmitUrgent
	}
	admitted, first := admit(in.Key, f)
	b.passed = admitted != limit.Dropped
	if admitted == limit.Now {
		return admitted
	}
	c.engine.Meter().Limited(Name, "conversation")
	if admitted == limit.Dropped {
		c.log.Warn("event dropped: the conversation is over its rate and its backlog is full")
	}
	if first || urgent {
		c.lanes.Priority(in.Key, func() {
			c.safely("over limit", func() { c.overLimit(in, first) })
		})
	}
	return admitted
}

// overLimit tells a student over the rate what cannot wait (see admit). It runs in the
// conversation's lane, before the turns held back.
func (c *Channel) overLimit(in bot.Inbound, first bool) {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := c.send(ctx, in.Reply.To, c.engine.OverLimit(ctx, in, first)); err != nil {
		c.log.Warn("rate-limit notice not delivered", "err", err)
	}
}

// textTurn answers typed text; notText says the message also carried something else.
// b.passed is set once a reply is on its way.
func (c *Channel) textTurn(b *beforeTurn, notText bool) {
	in := b.in
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	defer c.turnFinished()
	if notText {
		b.passed = strings.TrimSpace(in.Text) == "" // then this is the whole answer
		c.sayTextOnly(ctx, in)
	}
	if strings.TrimSpace(in.Text) == "" {
		return
	}
	if err := c.rest.ChannelTyping(in.Reply.To, discordgo.WithContext(ctx)); err != nil {
		c.log.Debug("typing indicator not shown", "err", errorKind(err))
	}
	b.passed = true
	c.turn(ctx, in, nil)
}

// beforeTurn is what the channel knows of a student's event while it reads and queues it,
// up to its turn, so that a panic on the way still answers the student (see guard): an
// event lost with only a log line would leave them waiting for an answer that never comes,
// perhaps in danger.
type beforeTurn struct {
	in bot.Inbound // as far as read: Reply.To once the DM channel is known
	// passed is set once the event went on (queued, or its turn or reply began): from then
	// on its answer comes from there, and a panic is only logged.
	passed bool
	// inLane: the stage runs in the conversation's lane, where the answer may be sent at
	// once; elsewhere (the gateway's read loop) it is queued on the lane.
	inLane bool
}

// beforeAdmit lets tests make the event handler panic just before it queues a student's
// turn; unset otherwise.
var beforeAdmit atomic.Pointer[func(bot.Inbound)]

// guard runs f, a stage of a student's event before its turn, like safely: a panic is
// logged by kind and place, never by value. Unless the event had gone on, the student is
// then told that something went wrong (failedBeforeTurn), when their DM channel is known.
func (c *Channel) guard(what string, b *beforeTurn, f func()) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		tell := b.in.Reply.To != "" && !b.passed
		c.log.Error("panic recovered", "in", what, "student_told", tell,
			"panic", bot.PanicKind(p), "stack", bot.PanicStack())
		if !tell {
			return
		}
		in := b.in
		if b.inLane {
			c.safely("failure notice", func() { c.failedBeforeTurn(in) })
			return
		}
		key := in.Key
		if key == "" { // the panic came before the conversation was known
			key = "dm:" + in.Reply.To
		}
		if !c.lanes.Priority(key, func() { c.safely("failure notice", func() { c.failedBeforeTurn(in) }) }) {
			c.log.Warn("student not told of a failed event: the lanes are closed or too much is waiting")
		}
	}()
	f()
}

// failedBeforeTurn tells a student that their event could not be handled: the engine's
// calm error, after the 24/7 numbers when the event asked for help in danger.
func (c *Channel) failedBeforeTurn(in bot.Inbound) {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := c.send(ctx, in.Reply.To, c.engine.FailedBeforeTurn(ctx, in)); err != nil {
		c.log.Warn("failure notice not delivered", "err", err)
	}
}

// turn runs one turn and sends its reply. first, when set, takes the first message part
// (a slash command's deferred response); it reports false when it could not.
func (c *Channel) turn(ctx context.Context, in bot.Inbound, first func(*discordgo.MessageSend) bool) {
	r, err := c.engine.Handle(ctx, in)
	if err != nil {
		// The reply is the engine's calm error message; the detail is for the log.
		c.log.Error("turn failed", "err", err)
	}
	var parts []*discordgo.MessageSend
	for _, m := range r.Messages {
		parts = append(parts, c.render(m)...)
	}
	if first != nil {
		if len(parts) > 0 && first(parts[0]) {
			parts = parts[1:]
		} else if len(parts) == 0 {
			first(nil)
		}
	}
	for _, p := range parts {
		if err := c.post(ctx, in.Reply.To, p); err != nil {
			c.log.Warn("reply not delivered", "err", err)
			return
		}
	}
	if err == nil {
		// An event Discord sends again (a resumed gateway replays it) gets no second reply.
		c.engine.Delivered(in, r)
	}
}

func (c *Channel) turnFinished() {
	c.mu.Lock()
	f := c.turnDone
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

// sayTextOnly explains, in the conversation's language, that only text is read.
func (c *Channel) sayTextOnly(ctx context.Context, in bot.Inbound) {
	lang := locales.DefaultLang
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second) // a busy conversation: default
	defer cancel()
	if s, err := c.engine.Session(sctx, in.Key); err == nil && s != nil && s.Lang != "" {
		lang = s.Lang
		if !locales.IsFull(lang) {
			lang = "en" // greeted in a language we only greet in: English is likelier read
		}
	}
	text, err := c.engine.Content().Catalog.Text(lang, msgTextOnly, nil)
	if err != nil {
		c.log.Error("text-only message not rendered", "lang", lang, "err", err)
		return
	}
	if err := c.send(ctx, in.Reply.To, []bot.Message{{Text: text}}); err != nil {
		c.log.Warn("text-only message not delivered", "err", err)
	}
}

// onInteraction handles a button press or slash command: a student's in a DM, or a
// counsellor's Claim in the counsellor channel.
func (c *Channel) onInteraction(_ *discordgo.Session, ev *discordgo.InteractionCreate) {
	var b beforeTurn // a student's; a counsellor's claim is answered by the claim itself
	c.guard("interaction", &b, func() {
		if ev.Interaction == nil {
			return
		}
		i := ev.Interaction
		switch {
		case i.GuildID == "" && i.User != nil:
			c.dmInteraction(&b, i)
		case i.GuildID != "" && i.Member != nil && i.Member.User != nil:
			c.guildInteraction(i)
		}
	})
}

// dmInteraction answers at once (Discord's 3-second rule), then queues the turn on the
// conversation's lane behind that answer. b follows the event up to its turn (guard).
func (c *Channel) dmInteraction(b *beforeTurn, i *discordgo.Interaction) {
	b.in = bot.Inbound{
		Channel:  Name,
		UpdateID: "dc:" + i.ID,
		LangHint: string(i.Locale),
		Reply:    bot.Address{Outbox: Name, To: i.ChannelID},
	}
	b.in.Key = c.names.Key(Name, i.User.ID)
	switch i.Type {
	case discordgo.InteractionMessageComponent:
		b.in.Data = i.MessageComponentData().CustomID
		in := b.in
		acked := c.respond(i, pressed(i.Message, in.Data))
		c.admit(b, func() {
			<-acked
			c.safely("button turn", func() {
				ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
				defer cancel()
				defer c.turnFinished()
				c.turn(ctx, in, nil)
			})
		})
	case discordgo.InteractionApplicationCommand:
		b.in.Text = "/" + i.ApplicationCommandData().Name
		in := b.in
		acked := c.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		admitted := c.admit(b, func() {
			ok := <-acked
			c.safely("command turn", func() {
				ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
				defer cancel()
				defer c.turnFinished()
				c.turn(ctx, in, func(m *discordgo.MessageSend) bool {
					return ok && c.editResponse(ctx, i, m)
				})
			})
		})
		if admitted == limit.Dropped {
			// Nothing will fill the "thinking…" response: take it away.
			c.spawn(func() {
				if <-acked {
					c.safely("dropped command", func() {
						ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
						defer cancel()
						c.editResponse(ctx, i, nil)
					})
				}
			})
		}
	}
}

// respond sends an interaction response in the background and reports on the returned
// channel whether it worked.
func (c *Channel) respond(i *discordgo.Interaction, r *discordgo.InteractionResponse) <-chan bool {
	done := make(chan bool, 1)
	started := c.spawn(func() {
		ok := false
		defer func() { done <- ok }()
		c.safely("interaction response", func() {
			ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
			defer cancel()
			if err := c.rest.InteractionRespond(i, r, discordgo.WithContext(ctx)); err != nil {
				c.log.Warn("interaction not answered", "type", int(r.Type), "err", errorKind(err))
				return
			}
			ok = true
		})
	})
	if !started {
		done <- false
	}
	return done
}

// editResponse puts m into a deferred slash-command response (nil: the turn said nothing,
// so the "thinking" response is removed).
func (c *Channel) editResponse(ctx context.Context, i *discordgo.Interaction, m *discordgo.MessageSend) bool {
	if m == nil {
		if err := c.rest.InteractionResponseDelete(i, discordgo.WithContext(ctx)); err != nil {
			c.log.Warn("command response not removed", "err", errorKind(err))
		}
		return true
	}
	content, comps := m.Content, m.Components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	edit := &discordgo.WebhookEdit{Content: &content, Components: &comps, AllowedMentions: m.AllowedMentions}
	if _, err := c.rest.InteractionResponseEdit(i, edit, discordgo.WithContext(ctx)); err != nil {
		c.log.Warn("command response not edited; sending as a message", "err", errorKind(err))
		return false
	}
	return true
}

// pressed is the response to a button press: the same message with its buttons disabled
// and the pressed one marked, so a stale tap cannot confuse the flow and the student sees
// what they chose.
func pressed(m *discordgo.Message, data string) *discordgo.InteractionResponse {
	if m == nil {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	rows := []discordgo.MessageComponent{}
	for _, comp := range m.Components {
		var row *discordgo.ActionsRow
		switch r := comp.(type) {
		case *discordgo.ActionsRow:
			row = r
		case discordgo.ActionsRow:
			row = &r
		default:
			continue
		}
		var out []discordgo.MessageComponent
		for _, x := range row.Components {
			var b discordgo.Button
			switch v := x.(type) {
			case *discordgo.Button:
				b = *v
			case discordgo.Button:
				b = v
			default:
				continue
			}
			b.Disabled = true
			if b.Style != discordgo.LinkButton {
				b.Style = discordgo.SecondaryButton
				if b.CustomID == data {
					b.Style = discordgo.SuccessButton
				}
			}
			out = append(out, b)
		}
		if len(out) > 0 {
			rows = append(rows, discordgo.ActionsRow{Components: out})
		}
	}
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: m.Content, Components: rows, AllowedMentions: noMentions()},
	}
}

// guildInteraction handles a press in a guild: only Claim buttons in the counsellor
// channel mean something.
func (c *Channel) guildInteraction(i *discordgo.Interaction) {
	if i.Type != discordgo.InteractionMessageComponent || c.cfg.CounsellorChannel == "" || i.ChannelID != c.cfg.CounsellorChannel {
		return
	}
	code, ok := strings.CutPrefix(i.MessageComponentData().CustomID, claimPrefix)
	if !ok {
		return
	}
	account := c.cfg.Counsellors[i.Member.User.ID]
	if account == "" {
		c.respond(i, ephemeral(notCounsellor))
		return
	}
	acked := c.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	c.spawn(func() {
		<-acked
		c.safely("claim", func() { c.claim(i, account, code) })
	})
}
