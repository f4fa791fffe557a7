// Package bot is the domain root of intake: the conversation engine that walks a student
// through a flow script, the session it keeps between turns, the messages that come in and
// go out, and the small interfaces the engine needs from storage and channels. It imports
// only flows and locales; channels (bot/console, bot/telegram, ...) and storage
// (storage/redis) import it.
package bot
