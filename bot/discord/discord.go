// Package discord is the Discord channel: students talk to the bot in direct messages
// (options as buttons, the global commands as slash commands), counsellor messages reach
// them through the "discord" outbox, and new cases are announced in a counsellor channel
// with a Claim button.
//
// It is a thin adapter: a Discord event becomes a bot.Inbound (pseudonymous key, sealed
// return address, text or button data, language hint) and a bot.Reply becomes Discord
// messages; the conversation itself is the engine's. It reads only the ids it needs from
// events, never names, avatars or e-mail addresses, and logs no ids, texts or tokens.
//
// Several replicas may run it against one Redis: every replica delivers the outbox and
// posts announcements, but only the holder of the "discord-gateway" lease keeps the
// gateway connection, so each event is handled once, and each conversation's rate limit
// (limit.PerConversation, see admit) is counted in one place and is exact.
package discord

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"intake/bot"
	"intake/bot/limit"
)

// Name is the channel's name in sessions, cases, pseudonyms and statistics, and the name
// of its outbox.
const Name = "discord"

// LeaseName is the lease whose holder keeps the gateway connection.
const LeaseName = "discord-gateway"

// announceGroup is this channel's consumer group of the announcement stream.
const announceGroup = "discord"

// Defaults of the timings; tests shorten them.
const (
	defaultLeaseTTL   = 15 * time.Second
	defaultLeaseRenew = 5 * time.Second
	// deliverWorkers outbox consumers run per replica, so one student's rate-limited DM
	// channel does not hold up messages to everyone else.
	deliverWorkers = 4
	// defaultReadWait bounds one blocking read of the outbox or announcements: stopping
	// waits for the read in flight.
	defaultReadWait = 2 * time.Second
	// turnTimeout bounds one turn with its replies.
	turnTimeout = 60 * time.Second
	// maxRateWait is the longest 429 retry-after honoured in place; a longer one fails the
	// send, and the outbox tries again later.
	maxRateWait = 30 * time.Second
)

// Deps are what the channel works with. Desk and Announcements are needed only with a
// counsellor channel.
type Deps = bot.ChannelDeps

// Channel is the Discord channel of one replica.
type Channel struct {
	cfg    Config
	engine *bot.Engine
	desk   caseDesk
	names  *bot.Pseudonyms
	leases bot.Leases
	ann    bot.Announcements
	log    *slog.Logger
	token  string // "Bot " + token, for discordgo
	// rest makes every REST call; it never opens a gateway connection, so every replica
	// can send. Each lease term opens a gateway session of its own.
	rest *discordgo.Session

	leaseTTL, leaseRenew time.Duration
	readWait             time.Duration

	lanes *limit.Lanes
	work  sync.WaitGroup // interaction responses, claims and command updates in flight
	// fail ends Run with an error no retry can mend.
	fail context.CancelCauseFunc

	mu       sync.Mutex
	stopping bool   // Run is waiting for the work in flight; no new work starts
	appID    string // from READY, for the slash commands
	gateway  bool   // a gateway session is open
	// turnDone, when set (tests), is called after a turn's replies were sent.
	turnDone func()

	// leaseSeen tells Ready whether this replica holds the gateway or stands by.
	leaseSeen bot.LeaseWatch
}

// caseDesk is what the channel needs of *bot.Desk.
type caseDesk interface {
	Notice(ctx context.Context, code string) (*bot.QueueItem, error)
	Account(ctx context.Context, name string) (*bot.Account, error)
	Claim(ctx context.Context, who *bot.Account, code string) error
}

// New returns the channel; Run starts it.
func New(cfg Config, d Deps) (*Channel, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.Token, _ = checkToken(cfg.Token)
	switch {
	case d.Engine == nil || d.Names == nil || d.Leases == nil:
		return nil, errors.New("discord: Engine, Names and Leases are required")
	case cfg.CounsellorChannel != "" && (d.Desk == nil || d.Announcements == nil):
		return nil, errors.New("discord: a counsellor channel needs Desk and Announcements")
	}
	if cfg.DeskURL != "" && !strings.HasSuffix(cfg.DeskURL, "/") {
		cfg.DeskURL += "/"
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	log := d.Logger.With("channel", Name)
	routeLibraryLog(log)
	c := &Channel{
		cfg: cfg, engine: d.Engine, names: d.Names, leases: d.Leases,
		ann: d.Announcements, log: log, token: "Bot " + cfg.Token,
		leaseTTL: defaultLeaseTTL, leaseRenew: defaultLeaseRenew, readWait: defaultReadWait,
	}
	if d.Desk != nil {
		c.desk = d.Desk
	}
	c.lanes = limit.NewLanes(limit.LanesConfig{})
	rest, err := c.session()
	if err != nil {
		return nil, err
	}
	c.rest = rest
	return c, nil
}

// session returns a discordgo session set up the way this package uses it.
func (c *Channel) session() (*discordgo.Session, error) {
	s, err := discordgo.New(c.token)
	if err != nil {
		return nil, errors.New("discord: create session") // its error could hold the token
	}
	// No state cache: it would keep user objects (names, avatars) in memory.
	s.StateEnabled = false
	// Rate limits are honoured by send (context-aware), not by sleeping inside discordgo.
	s.ShouldRetryOnRateLimit = false
	// Reconnecting is the lease term's job, so a closed session never reopens by itself.
	s.ShouldReconnectOnError = false
	s.ShouldReconnectVoiceOnSessionError = false
	// Handlers run in the gateway's read loop, in order; they only queue work (lanes).
	s.SyncEvents = true
	s.LogLevel = discordgo.LogWarning
	// Direct messages only: no guild messages, members or presences reach this process.
	// Interactions (buttons, slash commands, claims) arrive whatever the intents.
	s.Identify.Intents = discordgo.IntentsDirectMessages
	return s, nil
}

// ErrTokenRefused means Discord refused the bot token; Run ends with it.
var ErrTokenRefused = errors.New("discord: the bot token was refused; check " + EnvToken + " (developer portal: Bot, Reset Token)")

// Run runs the channel until ctx ends: the gateway while this replica holds the lease,
// and in any case the outbox delivery and the counsellor notices. It returns when all its
// work has stopped: nil, or an error that no retry can mend (ErrTokenRefused). Call it
// once.
func (c *Channel) Run(ctx context.Context) error {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	c.fail = fail
	var wg sync.WaitGroup
	start := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	start(c.holdGateway)
	for i := range deliverWorkers {
		consumer := c.cfg.Replica + "/" + strconv.Itoa(i)
		start(func(ctx context.Context) { c.deliverLoop(ctx, consumer) })
	}
	if c.cfg.CounsellorChannel != "" {
		start(c.announceLoop)
	}
	<-ctx.Done()
	wg.Wait()
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.work.Wait()
	c.lanes.Close()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// spawn runs f in the background as work Run waits for. Once Run is stopping, f is
// dropped and spawn reports false.
func (c *Channel) spawn(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return false
	}
	c.work.Add(1)
	go func() {
		defer c.work.Done()
		f()
	}()
	return true
}

// pause waits d or until ctx ends, and reports whether ctx is still going.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// safely runs f, logging a panic instead of dying with it: a bad event must never take
// the process down with every other conversation. The log names the panic's kind and the
// stack without argument values, never the value itself, which could hold event data
// (see bot.PanicKind).
func (c *Channel) safely(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic recovered", "in", what, "panic", bot.PanicKind(r), "stack", bot.PanicStack())
		}
	}()
	f()
}
