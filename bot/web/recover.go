package web

import (
	"net/http"

	"intake/bot"
)

// A handler that panics is answered here, not by net/http: the server's own recovery logs
// the panic's value and the client's address ("http: panic serving 203.0.113.7:4242:
// ..."), and either can identify a student. Here the log gets a fixed sentence, the
// route pattern, the panic's kind and the stack without argument values, and the person
// gets a calm page. http.ErrAbortHandler is passed on: it is how a handler asks the
// server to drop the connection quietly.

// recoverPanic, deferred in ServeHTTP, answers a panicked chat request with the engine's
// error sentence, which tells a student in danger whom to call. The page language comes
// from the request's headers only: nothing that might itself have panicked.
func (h *chatHandler) recoverPanic(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	h.log.Error("chat request panicked", "route", r.Pattern, "panic", bot.PanicKind(p), "stack", bot.PanicStack())
	lang := hintLang(r)
	msg := h.text(lang, "engine.error", nil)
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusInternalServerError, turnJSON{Error: msg, Lang: lang})
		return
	}
	v := h.plainView(lang)
	v.Message = msg
	h.render(w, http.StatusInternalServerError, "notice", v)
}

// recoverPanic, deferred in ServeHTTP, answers a panicked desk request with the desk's
// error page.
func (h *deskHandler) recoverPanic(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	h.log.Error("desk request panicked", "route", r.Pattern, "panic", bot.PanicKind(p), "stack", bot.PanicStack())
	h.errorPage(w, r, nil, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side. Reload the page to see what was saved, then try again.", "/desk/", "Go to the desk")
}
