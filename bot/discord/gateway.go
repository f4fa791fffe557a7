package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"intake/bot"
)

// holdGateway takes the gateway lease whenever it is free and keeps the gateway connected
// while this replica holds it.
func (c *Channel) holdGateway(ctx context.Context) {
	for {
		ok, err := c.leases.Lease(ctx, LeaseName, c.cfg.Replica, c.leaseTTL)
		c.leaseSeen.Record(ok, err)
		switch {
		case ok:
			c.term(ctx)
			c.leaseSeen.Forget()
		case err != nil && ctx.Err() == nil:
			c.log.Warn("gateway lease unavailable", "err", err)
		}
		if !pause(ctx, c.leaseRenew) {
			return
		}
	}
}

// term is one lease term: connect, reconnect after a drop, renew the lease, and close the
// connection when the lease is lost or ctx ends. A dropped connection is resumed by the
// same gateway session (Discord replays what was missed); a new term starts a new one.
func (c *Channel) term(ctx context.Context) {
	c.log.Info("holding the gateway lease; connecting to Discord")
	gw, err := c.session()
	if err != nil {
		c.log.Error("gateway session not created", "err", err)
		return
	}
	down := make(chan struct{}, 1)
	gw.AddHandler(c.onMessage)
	gw.AddHandler(c.onInteraction)
	gw.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { c.safely("ready", func() { c.onReady(r) }) })
	gw.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) {
		select {
		case down <- struct{}{}:
		default:
		}
	})

	open := false
	renewed := time.Now()
	renew := time.NewTicker(c.leaseRenew)
	defer renew.Stop()
	connect := time.NewTimer(0)
	defer connect.Stop()
	backoff := time.Second
	defer func() {
		if open {
			_ = gw.Close() // waits a second for the close handshake
		}
		c.setGateway(false)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := c.leases.ReleaseLease(rctx, LeaseName, c.cfg.Replica); err != nil {
			c.log.Warn("gateway lease not released; it expires by itself", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			c.log.Info("stopping: closing the gateway and releasing the lease")
			return
		case <-connect.C:
			if err := gw.Open(); err != nil {
				if fatal := gatewayRefusal(err); fatal != nil {
					c.fail(fatal)
					return
				}
				c.log.Warn("gateway connection failed; trying again", "in", backoff, "err", errorKind(err))
				connect.Reset(backoff)
				backoff = min(2*backoff, time.Minute)
				continue
			}
			open, backoff = true, time.Second
			c.setGateway(true)
			c.log.Info("gateway connected")
		case <-down:
			if open {
				open = false
				c.setGateway(false)
				c.log.Warn("gateway connection lost; reconnecting")
				connect.Reset(0)
			}
		case <-renew.C:
			ok, err := c.leases.Lease(ctx, LeaseName, c.cfg.Replica, c.leaseTTL)
			switch {
			case ok:
				renewed = time.Now()
			case err == nil:
				c.log.Warn("gateway lease lost to another replica; disconnecting")
				return
			case ctx.Err() != nil:
			case time.Since(renewed) >= c.leaseTTL-c.leaseRenew:
				// Another replica may take the lease any moment now: stop before it
				// connects, so two never handle the same events.
				c.log.Warn("gateway lease could not be renewed in time; disconnecting", "err", err)
				return
			default:
				c.log.Warn("gateway lease not renewed; trying again", "err", err)
			}
		}
	}
}

func (c *Channel) setGateway(open bool) {
	c.mu.Lock()
	c.gateway = open
	c.mu.Unlock()
}

// gatewayRefusal is the error to end Run with when Discord refuses the connection for
// good: the token (HTTP 401, gateway close 4004) or the intents (4013, 4014); nil
// otherwise.
func gatewayRefusal(err error) error {
	var ce *websocket.CloseError
	switch {
	case httpStatus(err) == http.StatusUnauthorized:
		return ErrTokenRefused
	case errors.As(err, &ce) && ce.Code == 4004:
		return ErrTokenRefused
	case errors.As(err, &ce) && (ce.Code == 4013 || ce.Code == 4014):
		return fmt.Errorf("discord: the gateway refused the intents (close code %d); DirectMessages must be allowed", ce.Code)
	}
	return nil
}

// onReady learns the application id and (once per process) sets the slash commands. It
// runs inside the gateway handshake, so the REST call goes to the background.
func (c *Channel) onReady(r *discordgo.Ready) {
	id := ""
	if r.Application != nil {
		id = r.Application.ID
	}
	if id == "" && r.User != nil {
		id = r.User.ID // a bot's user id is its application id
	}
	c.mu.Lock()
	register := id != "" && c.appID == ""
	c.appID = id
	c.mu.Unlock()
	if !register {
		return
	}
	c.spawn(func() {
		c.safely("commands", func() {
			if err := c.registerCommands(id); err != nil {
				c.log.Warn("slash commands not set; students can still type them", "err", errorKind(err))
				c.mu.Lock()
				c.appID = "" // try again on the next READY
				c.mu.Unlock()
			}
		})
	})
}

// registerCommands sets the global commands as slash commands in DMs with the bot (not in
// the counsellor guild), described in English and Dutch.
func (c *Channel) registerCommands(appID string) error {
	var cmds []*discordgo.ApplicationCommand
	for _, name := range bot.Commands {
		desc := func(lang string) string { return bot.CommandDescription(lang, name) }
		cmds = append(cmds, &discordgo.ApplicationCommand{
			Type:                     discordgo.ChatApplicationCommand,
			Name:                     name,
			Description:              desc("en"),
			DescriptionLocalizations: &map[discordgo.Locale]string{discordgo.Dutch: desc("nl")},
			Contexts:                 &[]discordgo.InteractionContextType{discordgo.InteractionContextBotDM},
			IntegrationTypes:         &[]discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall},
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.rest.ApplicationCommandBulkOverwrite(appID, "", cmds, discordgo.WithContext(ctx))
	return err
}

// deliverLoop is one outbox consumer: it sends counsellor messages and appointment
// proposals to students' DMs.
func (c *Channel) deliverLoop(ctx context.Context, consumer string) {
	backoff := time.Second
	for ctx.Err() == nil {
		_, err := c.engine.Deliver(ctx, Name, consumer, c.readWait, c.send)
		if err == nil {
			backoff = time.Second
			continue
		}
		if errors.Is(err, ErrTokenRefused) {
			c.fail(ErrTokenRefused)
			return
		}
		if ctx.Err() != nil {
			return
		}
		// A failed message stays in the outbox and comes first next time.
		c.log.Warn("outbox delivery failed; trying again", "in", backoff, "err", err)
		if !pause(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// libLog is where discordgo's own log lines go (the last Channel made).
var (
	libLog     atomic.Pointer[slog.Logger]
	libLogOnce sync.Once
)

// routeLibraryLog sends discordgo's log to log: only the format string, never its
// arguments, which can hold the token, ids, URLs with interaction tokens and message
// content.
func routeLibraryLog(log *slog.Logger) {
	libLog.Store(log)
	libLogOnce.Do(func() {
		discordgo.Logger = func(level, _ int, format string, _ ...any) {
			l := libLog.Load()
			msg := "discordgo: " + strings.Join(strings.Fields(format), " ")
			switch level {
			case discordgo.LogError:
				l.Error(msg)
			case discordgo.LogWarning:
				l.Warn(msg)
			default:
				l.Debug(msg)
			}
		}
	})
}
