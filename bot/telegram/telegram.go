// Package telegram is the Telegram channel: a thin adapter between the Bot API (through
// github.com/go-telegram/bot) and the engine. Students talk to the bot in a private chat;
// counsellors get case notices in a group and claim cases there. Updates arrive by long
// polling (held by one replica at a time, under a lease) or by webhook (any replica). Either
// way Telegram is told an update arrived only once it was handled and its reply sent (or it
// is not one the channel serves, or was dropped over the rate limit): the webhook answers
// 200 then, the poll loop moves its offset past it then (poll.go). A replica killed
// meanwhile loses nothing; Telegram brings the update again, and the engine answers it once.
//
// The adapter reads only what a turn needs from an update: the user id (turned into the
// pseudonymous key at once), the chat id (sealed as the return address), the language code,
// the text or button data. Names, usernames, photos and phone numbers are never read,
// logged or stored.
//
// Each student's conversation is rate limited (limit.PerConversation): what goes over it is
// held back and answered a little later, the student is told once to slow down, and crisis
// words get the 24/7 numbers at once (see queue). The limit lives in the memory of the
// replica that receives the updates. In poll mode one replica at a time polls, so the limit
// is exact; in webhook mode every replica limits separately, so a conversation whose
// updates a load balancer spreads over n replicas gets up to n times the rate.
package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"intake/bot"
	"intake/bot/limit"
)

// Name is the channel's name in conversation keys, sessions, cases and statistics, and the
// name of its outbox.
const Name = "telegram"

const (
	// leaseName is the lease that lets one replica long-poll.
	leaseName = "telegram-poll"
	// announceGroup is this channel's consumer group of the announcement stream.
	announceGroup = "telegram"
	// secretHeader carries the webhook secret.
	secretHeader = "X-Telegram-Bot-Api-Secret-Token"
	// maxUpdateBytes bounds a webhook body; a text update is a few kilobytes.
	maxUpdateBytes = 1 << 20
	// turnTimeout bounds the work on one update, 429 waits included.
	turnTimeout = 30 * time.Second
	// drainGrace is how long updates already taken in are still handled after Run's
	// context ended, so their replies are not lost.
	drainGrace = 10 * time.Second
	// repollEvery is how often the poll loop asks for new updates while some are still
	// being handled (Telegram then answers at once, so the call cannot wait for them).
	repollEvery = 250 * time.Millisecond
	// parallelTurns bounds how many chats are served at once.
	parallelTurns = 64
)

// lanesConfig is how a channel's chat lanes are made: every conversation at
// limit.PerConversation with limit.Backlog held back, at most parallelTurns turns at once.
// Tests give the lanes a clock they move by hand (export_test.go).
var lanesConfig = func() limit.LanesConfig { return limit.LanesConfig{Parallel: parallelTurns} }

// Deps are what the channel works with. Desk and Announcements are needed for a counsellor
// group, Leases for poll mode.
type Deps = bot.ChannelDeps

// Channel is the Telegram channel of one replica.
type Channel struct {
	cfg     Config
	d       Deps
	log     *slog.Logger
	tg      *tgbot.Bot
	httpc   *http.Client // the library's client, which the poll loop calls getUpdates with
	apiBase string       // the Bot API's address, without a trailing slash
	hand    inHand       // updates polled and not yet confirmed
	limits  *limiter
	chats   *limit.Lanes
	cases   caseReader
	deskURL string

	// stopped ends when Run's context ends: the webhook then refuses updates and the
	// poll loop fetches no more. drain ends drainGrace later: updates already taken in are
	// still handled until then; later ones are not, and as Telegram was not told they
	// arrived, it delivers them again.
	stopped     context.Context
	stopStopped context.CancelFunc
	drain       context.Context
	stopDrain   context.CancelFunc
	running     atomic.Bool
	// taken holds the updates taken in, so one delivered again is not charged to the
	// student's rate; failed those whose failure the student was told of (see turn).
	taken, failed onceSet
	// leaseSeen and api tell Ready whether this replica polls, stands by, or is stuck.
	leaseSeen bot.LeaseWatch
	api       apiHealth

	// Timing; tests shorten it.
	leaseTTL    time.Duration // how long a poll lease lasts without renewal
	leaseEvery  time.Duration // how often the lease is taken or renewed
	block       time.Duration // how long one outbox or announcement read waits
	drainGrace  time.Duration // see drain
	repollEvery time.Duration // see repollEvery
}

// New returns the channel. It makes no network call: Run finds out whether the token works.
func New(cfg Config, d Deps) (*Channel, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Replica == "":
		return nil, errors.New("telegram: no replica name (stable per replica, e.g. the host name)")
	case d.Engine == nil || d.Names == nil:
		return nil, errors.New("telegram: an engine and pseudonyms are required")
	case cfg.Mode == ModePoll && d.Leases == nil:
		return nil, errors.New("telegram: poll mode needs leases, so only one replica polls")
	case cfg.CounsellorGroup != 0 && (d.Desk == nil || d.Announcements == nil):
		return nil, errors.New("telegram: a counsellor group needs the desk and the announcement stream")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	c := &Channel{
		cfg: cfg, d: d, log: d.Logger.With("channel", Name),
		limits: newLimiter(), chats: limit.NewLanes(lanesConfig()),
		leaseTTL: 15 * time.Second, leaseEvery: 5 * time.Second, block: 2 * time.Second,
		drainGrace: drainGrace, repollEvery: repollEvery,
		apiBase: "https://api.telegram.org",
	}
	if cfg.DeskURL != "" {
		c.deskURL = strings.TrimRight(cfg.DeskURL, "/") + "/"
	}
	if d.Desk != nil {
		c.cases = d.Desk // not a nil *Desk in the interface
	}
	c.httpc = c.api.client()
	c.stopped, c.stopStopped = context.WithCancel(context.Background())
	c.drain, c.stopDrain = context.WithCancel(context.Background())
	// The library only sends: updates come through our own poll loop (poll.go) or webhook
	// handler, which tell Telegram an update arrived only once it was handled.
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		// The library's defaults print whole updates and answer bodies (names included).
		tgbot.WithErrorsHandler(c.libraryError),
		tgbot.WithDebugHandler(func(string, ...any) {}),
		tgbot.WithHTTPClient(pollTimeout, c.httpc),
	}
	if cfg.ServerURL != "" {
		c.apiBase = strings.TrimRight(cfg.ServerURL, "/")
		opts = append(opts, tgbot.WithServerURL(c.apiBase))
	}
	b, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", describe(err))
	}
	c.tg = b
	return c, nil
}

// Run serves the channel until ctx ends: the long poll (while this replica holds the
// lease) or the webhook's update queue, the outbox of messages for students, and the
// counsellor group's notices. It returns an error only when the token is refused; other
// failures are logged and retried. Call it once.
func (c *Channel) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("telegram: Run called twice")
	}
	stop := context.AfterFunc(ctx, func() {
		c.stopStopped()
		time.AfterFunc(c.drainGrace, c.stopDrain)
	})
	defer stop()
	defer c.stopDrain()
	defer c.stopStopped()
	if err := c.setCommands(ctx); err != nil {
		return err
	}
	c.log.Info("telegram channel running", "config", c.cfg)
	var wg sync.WaitGroup
	wg.Go(func() { c.deliverLoop(ctx) })
	if c.cfg.CounsellorGroup != 0 {
		wg.Go(func() { c.announceLoop(ctx) })
	}
	switch c.cfg.Mode {
	case ModePoll:
		wg.Go(func() { c.pollLoop(ctx) })
	case ModeWebhook:
		// Updates come through WebhookHandler and are handled within its request.
	}
	wg.Wait()
	c.chats.Close() // updates taken in are handled (within the drain), their replies sent
	return nil
}

// setCommands fills the command menu: English for everyone, Dutch for Dutch apps. A refused
// token ends Run; anything else only costs the menu, so it is logged.
func (c *Channel) setCommands(ctx context.Context) error {
	for _, lang := range []string{"", "nl", "en"} {
		var cmds []models.BotCommand
		for _, name := range bot.Commands {
			cmds = append(cmds, models.BotCommand{Command: name, Description: bot.CommandDescription(lang, name)})
		}
		// Bounded: an unreachable Telegram at start must not hold up the outbox.
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.tg.SetMyCommands(sctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang})
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
			return fmt.Errorf("telegram: %w", newCallError("setMyCommands", err))
		default:
			c.log.Warn("command menu not set", "err", describe(err))
			return nil
		}
	}
	return nil
}

// pollLoop long-polls while this replica holds the lease, and tries to take it while it
// does not.
func (c *Channel) pollLoop(ctx context.Context) {
	holder := c.cfg.Replica
	for {
		taken := time.Now()
		held, err := c.lease(ctx, holder)
		c.leaseSeen.Record(held, err)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("telegram poll lease unavailable", "err", err)
		}
		if held {
			c.pollWhileHeld(ctx, holder, taken.Add(c.leaseTTL))
			c.leaseSeen.Forget()
		}
		if !sleep(ctx, c.leaseEvery) {
			return
		}
	}
}

// lease takes or renews the poll lease, giving up after leaseEvery: an unanswered Redis
// must not keep the holder from noticing that its lease runs out.
func (c *Channel) lease(ctx context.Context, holder string) (bool, error) {
	lctx, cancel := context.WithTimeout(ctx, c.leaseEvery)
	defer cancel()
	return c.d.Leases.Lease(lctx, leaseName, holder, c.leaseTTL)
}

// pollWhileHeld polls and renews the lease until it is lost, runs out unrenewed, or ctx
// ends; then it stops polling and gives the lease up. expires is when the lease ends
// unless renewed: it counts from before the call that took it, so it is never late.
//
// When ctx ends the lease is kept, and renewed, while the updates in hand are handled
// (within the drain) and confirmed with a last getUpdates: until then no other replica
// may poll. A lease lost or about to run out stops all polling at once; what was in hand
// and not confirmed then comes again to the next poller.
func (c *Channel) pollWhileHeld(ctx context.Context, holder string, expires time.Time) {
	c.log.Info("this replica holds the telegram poll lease: polling")
	fetch, stopFetching := context.WithCancel(ctx)
	defer stopFetching()
	mayPoll, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPolling()
	polling := make(chan struct{})
	go func() {
		defer close(polling)
		// getUpdates fails while a webhook is set; poll mode means no webhook.
		if _, err := c.tg.DeleteWebhook(fetch, &tgbot.DeleteWebhookParams{}); err != nil && fetch.Err() == nil {
			c.log.Warn("could not remove a webhook before polling", "err", describe(err))
		}
		c.pollUpdates(fetch, mayPoll)
	}()
	ticker := time.NewTicker(c.leaseEvery)
	defer ticker.Stop()
	// Polling stops one renewal interval before the lease could expire: after expiry,
	// another replica may poll, and Telegram allows one poller per bot.
	deadline := time.NewTimer(time.Until(expires) - c.leaseEvery)
	defer deadline.Stop()
	renewCtx, done := ctx, ctx.Done()
	for held := true; held; {
		select {
		case <-polling:
			held = false
		case <-done:
			// Stopping: fetch no more, but keep the lease until the loop confirmed what
			// it handled.
			stopFetching()
			renewCtx, done = context.WithoutCancel(ctx), nil
		case <-deadline.C:
			c.log.Warn("telegram poll lease could not be renewed: polling stops before it expires")
			held = false
		case <-ticker.C:
			start := time.Now()
			ok, err := c.lease(renewCtx, holder)
			switch {
			case renewCtx.Err() != nil:
				// ctx ended during the call: the case above keeps the lease on.
			case err == nil && ok:
				deadline.Reset(time.Until(start.Add(c.leaseTTL)) - c.leaseEvery)
			case err == nil:
				c.log.Warn("telegram poll lease taken by another replica: polling stops")
				held = false
			default:
				c.log.Warn("telegram poll lease not renewed; trying again", "err", err)
			}
		}
	}
	stopPolling()
	stopFetching()
	<-polling
	// Give it up now rather than at expiry, so another replica takes over at once. ctx may
	// be done (shutdown), hence a context of its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := c.d.Leases.ReleaseLease(rctx, leaseName, holder); err != nil {
		c.log.Warn("telegram poll lease not released; it expires by itself", "err", err)
	}
	c.log.Info("stopped polling telegram")
}

// deliverLoop sends what the desk queued for students (counsellor messages, proposals).
func (c *Channel) deliverLoop(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		_, err := c.d.Engine.Deliver(ctx, Name, c.cfg.Replica, c.block, c.deliver)
		if err == nil {
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		c.log.Warn("telegram outbox: delivery failed; trying again", "err", err, "retry_in", backoff)
		sleep(ctx, backoff)
	}
}

// deliver is the send function of the outbox.
func (c *Channel) deliver(ctx context.Context, to string, msgs []bot.Message) error {
	chat, ok := parseChat(to)
	if !ok {
		return fmt.Errorf("telegram: unreadable chat address: %w", bot.ErrUnreachable)
	}
	return c.sendMessages(ctx, chat, msgs)
}

// announceLoop posts case notices into the counsellor group.
func (c *Channel) announceLoop(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		anns, err := c.d.Announcements.ReadAnnouncements(ctx, announceGroup, c.cfg.Replica, 10, c.block)
		for _, a := range anns {
			if err = c.announce(ctx, a); err != nil {
				break // it stays pending and comes back first on the next read
			}
			// Posted is posted: acknowledge even while stopping, or it is posted twice.
			if err = c.d.Announcements.AckAnnouncement(context.WithoutCancel(ctx), announceGroup, a.ID); err != nil {
				break
			}
		}
		if err == nil {
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		c.log.Warn("telegram counsellor notices: failed; trying again", "err", err, "retry_in", backoff)
		sleep(ctx, backoff)
	}
}

// WebhookHandler receives updates in webhook mode. A request without the right secret
// token is refused with 401 or 403 and not processed (the library's own handler would
// answer 200 and drop it silently). In poll mode every request gets 404.
func (c *Channel) WebhookHandler() http.Handler {
	if c.cfg.Mode != ModeWebhook {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the telegram channel runs in poll mode", http.StatusNotFound)
		})
	}
	secret := []byte(c.cfg.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer c.recoverPanic("webhook")
		if c.stopped.Err() != nil {
			// Run has ended: an update taken now would never be handled. Telegram tries
			// again later, by then on a replica that runs.
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get(secretHeader)
		if got == "" {
			c.log.Warn("telegram webhook request refused: no secret token")
			http.Error(w, "secret token missing", http.StatusUnauthorized)
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), secret) != 1 {
			c.log.Warn("telegram webhook request refused: wrong secret token")
			http.Error(w, "wrong secret token", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUpdateBytes)
		var u models.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
				c.log.Warn("telegram webhook request refused: body over the cap", "max_bytes", maxUpdateBytes)
				http.Error(w, "request body over 1 MB", http.StatusRequestEntityTooLarge)
				return
			}
			// Only the kind of error: the body may hold a student's words.
			c.log.Warn("telegram webhook request refused: update unreadable", "err_type", fmt.Sprintf("%T", err))
			http.Error(w, "update unreadable", http.StatusBadRequest)
			return
		}
		// The answer waits until the update was handled and its reply sent (the library's
		// own handler answers at once). Until Telegram has a 2xx it keeps the update and
		// delivers it again, so a replica killed meanwhile loses nothing: another one, or
		// this one restarted, handles it, and the engine resends a reply that was saved
		// but may not have gone out.
		done := make(chan error, 1)
		if !c.queue(&u, func(err error) { done <- err }) {
			http.Error(w, "too many updates waiting for this chat; deliver it later", http.StatusServiceUnavailable)
			return
		}
		select {
		case err := <-done:
			if err != nil {
				http.Error(w, "update not handled; deliver it again", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
			// Telegram stopped waiting and will deliver the update again; the turn still
			// ends, and the engine keeps its reply for that delivery.
		}
	})
}

// recoverPanic, deferred, logs a panic and lets the goroutine go on. The log holds where
// it happened, never what: a panic value could be built from a message text, and the
// arguments in a stack trace could be chat ids.
func (c *Channel) recoverPanic(where string) {
	p := recover()
	if p == nil {
		return
	}
	c.log.Error("telegram handler panicked; update dropped", "where", where, "panic", bot.PanicKind(p), "stack", bot.PanicStack())
}

// libraryError logs what the library reports while it sends.
func (c *Channel) libraryError(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.log.Warn("telegram library error", "err", describe(err))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return time.Second
	}
	return min(2*d, 30*time.Second)
}
