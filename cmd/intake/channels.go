package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"intake/bot/discord"
	"intake/bot/telegram"
)

// platformChannel is a chat platform the service runs when it is configured.
type platformChannel interface {
	Run(ctx context.Context) error
	// Ready is nil while the channel is connected or stands by for another replica.
	Ready() error
}

// channels builds the Telegram and Discord channels configured in the environment. Their
// webhook handlers (Telegram in webhook mode) go on mux. A channel that is not configured
// is simply off; one that is configured wrongly stops the service with its error.
func (s *service) channels(mux *http.ServeMux, publicURL string) (map[string]platformChannel, error) {
	return s.channelsFrom(os.Getenv, mux, publicURL)
}

// channelsFrom is channels with the settings read through getenv: `intake bench` gives
// its own, so it never picks up a real token.
func (s *service) channelsFrom(getenv func(string) string, mux *http.ServeMux, publicURL string) (map[string]platformChannel, error) {
	replica := getenv("INTAKE_REPLICA")
	if replica == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("name this replica with INTAKE_REPLICA (hostname unknown: %v)", err)
		}
		replica = host
	}
	deskURL := strings.TrimSuffix(publicURL, "/") + "/desk/"
	out := map[string]platformChannel{}

	tc, ok, err := telegram.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if ok {
		tc.DeskURL, tc.Replica = deskURL, replica
		ch, err := telegram.New(tc, telegram.Deps{
			Engine: s.engine, Desk: s.desk, Names: s.names, Leases: s.store, Announcements: s.store, Logger: s.log,
		})
		if err != nil {
			return nil, err
		}
		if tc.Mode == "webhook" {
			mux.Handle("/telegram/webhook", ch.WebhookHandler())
		}
		out["telegram ("+tc.Mode+")"] = ch
	}

	dc, ok, err := discord.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if ok {
		dc.DeskURL, dc.Replica = deskURL, replica
		ch, err := discord.New(dc, discord.Deps{
			Engine: s.engine, Desk: s.desk, Names: s.names, Leases: s.store, Announcements: s.store, Logger: s.log,
		})
		if err != nil {
			return nil, err
		}
		out["discord"] = ch
	}
	return out, nil
}
