package discord

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Config configures the Discord channel.
type Config struct {
	// Token is the bot token from the developer portal (with or without the "Bot " prefix).
	Token string
	// CounsellorChannel is the id of the channel new cases are announced in; "" for none.
	CounsellorChannel string
	// Counsellors maps the Discord user id of each counsellor who may claim from the
	// channel to their desk account name.
	Counsellors map[string]string
	// DeskURL is the desk's base address; a notice links DeskURL + "case/" + code.
	DeskURL string
	// Replica names this replica, stable across restarts and unique among replicas: it
	// holds the gateway lease and names the outbox and announcement consumers.
	Replica string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvToken       = "INTAKE_DISCORD_TOKEN"
	EnvChannel     = "INTAKE_DISCORD_CHANNEL"
	EnvCounsellors = "INTAKE_DISCORD_COUNSELLORS"
)

var (
	// snowflake is a Discord id: a decimal number of up to 20 digits.
	snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)
	// accountName is the desk's rule for account names (bot/desk.go).
	accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)
)

// ConfigFromEnv reads the channel's configuration. Without INTAKE_DISCORD_TOKEN the channel
// is not configured (false, nil). DeskURL and Replica are not read here: they belong to
// the whole service. Errors name the variable and never repeat the token.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	raw := getenv(EnvToken)
	if raw == "" {
		return Config{}, false, nil
	}
	token, err := checkToken(raw)
	if err != nil {
		return Config{}, true, err
	}
	cfg := Config{Token: token, CounsellorChannel: strings.TrimSpace(getenv(EnvChannel))}
	if cfg.CounsellorChannel != "" && !snowflake.MatchString(cfg.CounsellorChannel) {
		return Config{}, true, fmt.Errorf("%s must be a channel id (digits only; in Discord: right-click the channel, Copy Channel ID)", EnvChannel)
	}
	cfg.Counsellors, err = parseCounsellors(getenv(EnvCounsellors))
	if err != nil {
		return Config{}, true, err
	}
	if len(cfg.Counsellors) > 0 && cfg.CounsellorChannel == "" {
		return Config{}, true, fmt.Errorf("%s is set but %s is not: counsellors claim cases from the notices in that channel", EnvCounsellors, EnvChannel)
	}
	return cfg, true, nil
}

// checkToken trims the token and drops a "Bot " prefix. It never puts the token into an
// error.
func checkToken(raw string) (string, error) {
	token := strings.TrimSpace(raw)
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bot "))
	switch {
	case token == "":
		return "", fmt.Errorf("%s is empty", EnvToken)
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", fmt.Errorf("%s contains spaces or control characters; copy the token again from the developer portal (Bot, Reset Token)", EnvToken)
	case strings.Count(token, ".") != 2:
		return "", fmt.Errorf("%s does not look like a bot token (three parts separated by dots); copy it from the developer portal (Bot, Reset Token), not the client secret or public key", EnvToken)
	}
	return token, nil
}

// parseCounsellors reads "id:account,id:account".
func parseCounsellors(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, name, ok := strings.Cut(entry, ":")
		id, name = strings.TrimSpace(id), strings.ToLower(strings.TrimSpace(name))
		switch {
		case entry == "":
			return nil, fmt.Errorf("%s: entry %d is empty (write id:account,id:account)", EnvCounsellors, i+1)
		case !ok:
			return nil, fmt.Errorf("%s: entry %d %q has no ':' (write id:account)", EnvCounsellors, i+1, entry)
		case !snowflake.MatchString(id):
			return nil, fmt.Errorf("%s: entry %d: %q is not a Discord user id (digits only; in Discord: right-click the person, Copy User ID)", EnvCounsellors, i+1, id)
		case !accountName.MatchString(name):
			return nil, fmt.Errorf("%s: entry %d: %q is not a desk account name", EnvCounsellors, i+1, name)
		case out[id] != "":
			return nil, fmt.Errorf("%s: user id %s is listed twice", EnvCounsellors, id)
		}
		out[id] = name
	}
	return out, nil
}

// check validates a Config given to New.
func (c Config) check() error {
	if _, err := checkToken(c.Token); err != nil {
		return errors.New("discord: " + err.Error())
	}
	if c.Replica == "" {
		return errors.New("discord: Replica is required (it holds the gateway lease and names the outbox consumer)")
	}
	if c.CounsellorChannel != "" && !snowflake.MatchString(c.CounsellorChannel) {
		return errors.New("discord: CounsellorChannel must be a channel id")
	}
	for id, name := range c.Counsellors {
		if !snowflake.MatchString(id) || !accountName.MatchString(name) {
			return errors.New("discord: Counsellors maps Discord user ids to desk account names")
		}
	}
	return nil
}
