// Package web is intake's HTTP edge: the student web chat on "/" and the counsellor desk
// under "/desk/".
//
// The chat (NewChat) is the anonymous channel: no account, a random session secret in a
// session cookie as the only link between a browser and its conversation, and the engine's
// turns behind plain HTML forms, so it works without JavaScript (Tor Browser at its safest
// setting). A small script, when it runs, sends the same forms with fetch, shows new
// messages in place and receives counsellor messages as server-sent events; the server
// logic is the same either way. A quick exit is on every page. See chat.go for the session
// key and the rate limits (intake/bot/limit), chatpages.go for turns and pages (and the
// arithmetic of receipt guessing), chatevents.go for live updates, chatmemory.go for the
// memory of the last reply.
//
// The desk (NewDesk) is server-rendered pages (login, the queue, a case with its thread
// and forms, the .ics of a booked appointment) over bot.Desk, which does every check of
// role and claim itself; it needs no JavaScript at all.
//
// Both load nothing from another origin: templates, stylesheets and the chat's script are
// embedded. Every value is escaped by html/template, so text containing markup shows as
// the text it is. shared.go holds what both use: security headers, form tokens, capped
// form bodies, assets and the memory of used form nonces.
package web
