package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"intake/bot/limit"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
)

// telegramToken is the fake Bot API's token: it looks like one and opens nothing.
const telegramToken = "123456789:AAbenchTokenForTheFakeBotAPIonly_0123"

// telegramUpdates is how many updates each chat sends (/start, then taps): no more than a
// conversation may send at once (limit.PerConversation's burst), so the bench measures the
// service and not the rate limit, which would hold the rest back to one a second.
var telegramUpdates = min(10, limit.PerConversation.Burst)

// replyWait bounds the wait for one reply; a turn that does not answer within it failed.
const replyWait = 30 * time.Second

// benchTelegram runs the service's Telegram channel (webhook mode, with the engine and
// Redis) and an echo bot on the same client library, taking turns, against one fake Bot
// API on loopback, with the same load at each level: that many chats at once,
// each sending /start and then tapping buttons, waiting for the reply to each before the
// next.
//
// Webhook, not polling: in poll mode every update of every chat passes through one
// getUpdates loop, and the fake's handing out of batches (under its one lock, woken by
// every call it records) would set the pace. By webhook each update is its own POST, as
// many at once as there are chats, so what is measured is the channel's own path:
// webhook handler, per-chat queue, engine turn, replies.
func benchTelegram(ctx context.Context, bed *benchBed, o benchOptions, stdout io.Writer) error {
	api := telegramtest.NewServer(telegramToken)
	defer api.Close()
	secret := randomSecret()
	// Both bots stop before the fake does, and before the bench cleans Redis up.
	var running parts
	ctx, stop := context.WithCancel(ctx)
	defer running.Wait(time.Minute)
	defer stop()

	serviceURL, stopped, err := startTelegramService(ctx, &running, bed, api, secret)
	if err != nil {
		return err
	}
	echoURL, err := startEcho(ctx, &running, api, secret)
	if err != nil {
		return err
	}
	// Telegram sends the secret given to setWebhook with every update; the addresses are
	// given to each post.
	api.SetWebhook(secret)

	fmt.Fprintf(stdout, "\ntelegram: at each level that many chats at once each send /start and %d button taps, waiting for each reply;\n", telegramUpdates-1)
	fmt.Fprintf(stdout, "  the service (channel by webhook, engine, Redis) and the echo bot run %s each, in %d slices taking turns, against one fake Bot API on loopback\n", o.per(), rounds)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "chats\tservice updates/s\tp50\tp99\tapi calls/update\techo updates/s\tp50\tp99\tapi calls/update\tservice/echo\t")
	var chats atomic.Int64
	chats.Store(1_000_000)
	failed := 0
	var firstErr error
	for _, n := range o.levels {
		api.Reset() // the fake keeps every message until then
		svc, runService := telegramRun(ctx, bed, api, serviceURL, n, &chats, true)
		echo, runEcho := telegramRun(ctx, bed, api, echoURL, n, &chats, false)
		interleave(ctx, o, runService, runEcho)
		ratio := 0.0
		if echo.rate() > 0 {
			ratio = svc.rate() / echo.rate()
		}
		fmt.Fprintf(w, "%d\t%.0f\t%s\t%s\t%.1f\t%.0f\t%s\t%s\t%.1f\t%.2f\t\n", n,
			svc.rate(), svc.pct(0.50), svc.pct(0.99), float64(svc.trips)/float64(max(svc.turns, 1)),
			echo.rate(), echo.pct(0.50), echo.pct(0.99), float64(echo.trips)/float64(max(echo.turns, 1)), ratio)
		failed += svc.failed + echo.failed
		firstErr = cmp.Or(firstErr, svc.firstErr, echo.firstErr)
		if ctx.Err() != nil {
			break
		}
	}
	w.Flush()
	select {
	case err := <-stopped:
		return fmt.Errorf("the telegram channel stopped: %v", err)
	default:
	}
	fmt.Fprintln(stdout, "  p50/p99: from posting an update to the reply (the service: the message with the next buttons) arriving at the fake")
	if failed > 0 {
		return fmt.Errorf("%d updates got no reply (first: %v)", failed, firstErr)
	}
	return nil
}

// startTelegramService runs the service's Telegram channel in webhook mode on the bench's
// service, wired as `intake serve` wires it, and returns its webhook address. The settings
// are the bench's own, never the environment's (which may hold a real token).
func startTelegramService(ctx context.Context, running *parts, bed *benchBed, api *telegramtest.Server, secret string) (string, <-chan error, error) {
	env := map[string]string{
		telegram.EnvToken:         telegramToken,
		telegram.EnvMode:          telegram.ModeWebhook,
		telegram.EnvWebhookSecret: secret,
		telegram.EnvServerURL:     api.URL(),
		"INTAKE_REPLICA":          "bench",
	}
	mux := bed.svc.routes()
	platforms, err := bed.svc.channelsFrom(func(k string) string { return env[k] }, mux, "http://127.0.0.1")
	if err != nil {
		return "", nil, err
	}
	addr, _, err := serveHTTP(ctx, running, "bench service http", "127.0.0.1:0", mux, time.Second)
	if err != nil {
		return "", nil, err
	}
	if len(platforms) != 1 {
		return "", nil, fmt.Errorf("want the telegram channel alone, got %d channels", len(platforms))
	}
	stopped := make(chan error, 1)
	for _, ch := range platforms {
		running.Go("bench telegram channel", func() { stopped <- ch.Run(ctx) })
	}
	return "http://" + addr + "/telegram/webhook", stopped, nil
}

// startEcho runs the echo bot on its own loopback address and returns its webhook address.
func startEcho(ctx context.Context, running *parts, api *telegramtest.Server, secret string) (string, error) {
	echo, err := telegram.NewEcho(telegramToken, api.URL(), secret)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", echo.WebhookHandler())
	addr, _, err := serveHTTP(ctx, running, "bench echo http", "127.0.0.1:0", mux, time.Second)
	if err != nil {
		return "", err
	}
	running.Go("bench echo bot", func() { echo.Run(ctx) })
	return "http://" + addr + "/echo", nil
}

// telegramRun is n chats with the bot at hook, and the run that lets them talk for a
// budget; each chat sends telegramUpdates updates, then a new chat takes its place. service
// says whether the bot is the service (replies end with the next question's buttons) or the
// echo bot (one reply each). res.trips counts the Bot API calls the bot made.
func telegramRun(ctx context.Context, bed *benchBed, api *telegramtest.Server, hook string, n int, chats *atomic.Int64, service bool) (*benchResult, func(*budget)) {
	res := &benchResult{}
	team := workers(n, func(int) turnFunc {
		var c *benchChat
		return func(ctx context.Context) (bool, error) {
			if c == nil || c.sent == telegramUpdates {
				c = &benchChat{api: api, hook: hook, service: service, user: telegramtest.User{ID: chats.Add(1), Lang: "en"}}
			}
			return false, c.step(ctx)
		}
	})
	return res, func(spend *budget) {
		// Runs take turns, so the calls made meanwhile are this bot's. trips: here the Bot
		// API calls, not Redis round trips.
		before := apiCalls(api)
		trips := res.trips
		drive(ctx, bed.store, res, team, spend)
		res.trips = trips + apiCalls(api) - before
	}
}

// apiCalls counts the calls a bot makes to answer updates.
func apiCalls(api *telegramtest.Server) int64 {
	var n int64
	for _, m := range []string{"sendMessage", "sendChatAction", "answerCallbackQuery", "editMessageReplyMarkup", "editMessageText"} {
		n += int64(api.CallCount(m))
	}
	return n
}

// benchChat is one student's private chat with the bot under test.
type benchChat struct {
	api     *telegramtest.Server
	hook    string
	service bool
	user    telegramtest.User
	sent    int
	seen    int                  // messages of the chat already read
	last    telegramtest.Message // the newest reply
}

// step sends the chat's next update and waits for its reply: /start first, then a tap on
// the newest reply. With the service the taps go between the menu and the team page (the
// menu's third option, the team page's second), so every reply ends in buttons.
func (c *benchChat) step(ctx context.Context) error {
	u := c.api.TextUpdate(c.user, "/start")
	if c.sent > 0 {
		data := "tap"
		if c.service {
			data = menuOrTeam(buttonData(c.last.Buttons))
			if data == "" {
				c.sent = telegramUpdates // lost the way: the next step starts a new chat
				return errors.New("no menu or team button in the reply")
			}
		}
		u = c.api.TapUpdate(c.user, c.last, data)
	}
	c.sent++
	ctx, cancel := context.WithTimeout(ctx, replyWait)
	defer cancel()
	if _, err := c.api.Post(ctx, u, c.hook); err != nil {
		c.sent = telegramUpdates
		return fmt.Errorf("post update: %w", err)
	}
	for {
		msgs, err := c.api.WaitMessages(ctx, c.user.ID, c.seen+1)
		if err != nil {
			c.sent = telegramUpdates
			return err
		}
		c.seen = len(msgs)
		c.last = msgs[len(msgs)-1]
		if !c.service || len(c.last.Buttons) > 0 {
			return nil
		}
	}
}

func randomSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func buttonData(buttons []telegramtest.Button) []string {
	out := make([]string, len(buttons))
	for i, b := range buttons {
		out[i] = b.Data
	}
	return out
}
