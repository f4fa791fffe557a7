package telegram

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Echo is about the least a bot built on go-telegram/bot can do with an update: it answers
// each private message with its text and each button tap with the button's data, and
// nothing else: no engine, no Redis, no order per chat, no retries. `intake bench` runs it
// and the channel against the same fake Bot API under the same load, so the ratio of the
// two shows what the channel, the engine and Redis add to what the client library and the
// fake cost anyway. It takes updates by webhook, as the channel in webhook mode.
type Echo struct {
	tg *tgbot.Bot
}

// NewEcho returns an echo bot for token on the Bot API at serverURL (a fake's), taking
// webhook updates that carry secret.
func NewEcho(token, serverURL, secret string) (*Echo, error) {
	e := &Echo{}
	b, err := tgbot.New(token,
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(strings.TrimRight(serverURL, "/")),
		tgbot.WithWebhookSecretToken(secret),
		tgbot.WithDefaultHandler(e.handle),
		tgbot.WithErrorsHandler(func(error) {}),
		tgbot.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram echo: %s", describe(err))
	}
	e.tg = b
	return e, nil
}

// Run takes updates from WebhookHandler until ctx ends.
func (e *Echo) Run(ctx context.Context) { e.tg.StartWebhook(ctx) }

// WebhookHandler receives the updates.
func (e *Echo) WebhookHandler() http.Handler { return e.tg.WebhookHandler() }

func (e *Echo) handle(ctx context.Context, b *tgbot.Bot, u *models.Update) {
	var chat int64
	var text string
	switch {
	case u.Message != nil:
		chat, text = u.Message.Chat.ID, u.Message.Text
	case u.CallbackQuery != nil:
		c, _, _, ok := callbackChat(u.CallbackQuery)
		if !ok {
			return
		}
		chat, text = c, u.CallbackQuery.Data
	}
	if chat == 0 || text == "" {
		return
	}
	_, _ = b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: text})
}
