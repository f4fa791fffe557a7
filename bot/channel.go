package bot

import "log/slog"

// ChannelDeps are what a platform channel (Telegram, Discord) works with: the engine for
// turns and deliveries, the desk for counsellor claims from a group, pseudonyms for
// conversation keys, leases so one replica holds a platform connection, the announcement
// stream for group notices, and a logger.
type ChannelDeps struct {
	Engine        *Engine
	Desk          *Desk
	Names         *Pseudonyms
	Leases        Leases
	Announcements Announcements
	Logger        *slog.Logger
}
