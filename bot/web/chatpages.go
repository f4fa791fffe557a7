package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"intake/bot"
	"intake/flows"
	"intake/locales"
)

// --- the page --------------------------------------------------------------------------

// page is GET /: the latest messages of the conversation, its buttons, the text field and
// the commands. A browser without a conversation gets a new one, opened.
func (h *chatHandler) page(w http.ResponseWriter, r *http.Request) {
	c, ok := h.conversation(r)
	if h.limited(w, r, c, false) { // a page load is not a turn: only the address counts
		return
	}
	if !ok {
		c = h.newConversation(w, r)
	}
	ctx, now := r.Context(), h.now()
	sess := h.session(ctx, c)
	view := h.recent.get(c.key, now)
	if view == nil {
		switch {
		case sess != nil && sess.Thread && sess.CaseCode != "":
			// Opening a finished intake would start a new one and leave the thread; a
			// student coming back to the page is still writing to their counsellor.
			view = &shown{lang: sess.Lang, at: now, messages: []shownMessage{
				{Message: bot.Message{Text: h.text(pageLang(sess.Lang), "web.thread.hint", nil)}, note: true},
			}}
			h.recent.put(c.key, view)
		default:
			reply, err := h.e.Handle(ctx, h.inbound(r, c, bot.Inbound{Open: true}))
			if err != nil {
				h.log.Error("chat: opening the conversation failed", "err", err)
			}
			sess = h.session(ctx, c)
			view = &shown{lang: convLang(sess, r), messages: wrap(reply.Messages, false), at: now}
			if err == nil {
				h.recent.put(c.key, view)
			}
		}
	}
	if sess != nil && sess.CaseCode != "" {
		view.messages = append(view.messages, h.deliver(ctx, c, sess.Lang)...)
	}
	h.renderChat(w, r, c, sess, view)
}

// session reads the conversation's session; an unreadable store counts as none (the turn
// that follows says something went wrong).
func (h *chatHandler) session(ctx context.Context, c conv) *bot.Session {
	s, err := h.e.Session(ctx, c.key)
	if err != nil {
		h.log.Error("chat: reading the conversation failed", "err", err)
		return nil
	}
	return s
}

// convLang is the conversation's language, or what the engine would greet in.
func convLang(s *bot.Session, r *http.Request) string {
	if s != nil && s.Lang != "" {
		return s.Lang
	}
	hint := langHint(r)
	if hint == "" {
		return locales.DefaultLang
	}
	base, _, _ := strings.Cut(strings.ToLower(hint), "-")
	if locales.IsFull(base) || base == "de" {
		return base
	}
	return "en"
}

func (h *chatHandler) inbound(r *http.Request, c conv, in bot.Inbound) bot.Inbound {
	in.Channel, in.Key, in.LangHint = "web", c.key, langHint(r)
	in.Reply = bot.Address{Outbox: c.outbox(), Own: true}
	return in
}

// deliverConsumer is the one consumer name of every web outbox. Each conversation has its
// own outbox, so the name only has to be stable: a page load or event stream that read a
// message and died before acknowledging it leaves the message pending for "web", and the
// next read of the outbox, by any replica, gets it again. Delivery is at least once: two
// tabs of one conversation may both show a message, and a message sent to a connection
// that broke unnoticed is lost from the page, though never from the case: "my case" shows
// the thread again.
const deliverConsumer = "web"

// deliver drains the conversation's outbox: the counsellor messages that came since.
func (h *chatHandler) deliver(ctx context.Context, c conv, lang string) []shownMessage {
	var got []shownMessage
	_, err := h.e.Deliver(ctx, c.outbox(), deliverConsumer, 0, func(_ context.Context, _ string, msgs []bot.Message) error {
		batch := wrap(msgs, true)
		h.recent.add(c.key, lang, batch, h.now())
		got = append(got, batch...)
		return nil
	})
	if err != nil {
		h.log.Error("chat: delivering counsellor messages failed", "err", err)
	}
	return got
}

func wrap(msgs []bot.Message, team bool) []shownMessage {
	out := make([]shownMessage, len(msgs))
	for i, m := range msgs {
		out[i] = shownMessage{Message: m, team: team}
	}
	return out
}

// --- turns -----------------------------------------------------------------------------

// say is POST /chat/say: a tapped button (data) or typed text, one turn.
func (h *chatHandler) say(w http.ResponseWriter, r *http.Request) {
	c, ok := h.formRequest(w, r)
	if !ok {
		return
	}
	in := bot.Inbound{Text: r.PostForm.Get("text")}
	if d := r.PostForm.Get("data"); d != "" {
		in = bot.Inbound{Data: d}
	}
	reply, err := h.e.Handle(r.Context(), h.inbound(r, c, in))
	h.answer(w, r, c, in, reply, err, nil)
}

// maxReceiptField bounds what is passed on from the receipt form (a code is 9 characters,
// a passphrase 19); anything longer is wrong anyway.
const maxReceiptField = 64

// Receipt attempts, the arithmetic that makes guessing one infeasible:
//
// A receipt is a case code (8 symbols of 32: 40 bits) and a passphrase (16 symbols of 32:
// 80 bits), both drawn at random. The engine allows each case code 5 wrong passphrases an
// hour from anywhere (bot.Engine's receipt limit), so even an attacker who knows a code
// needs 2^80 / 5 ≈ 2.4·10^23 hours for an even chance; it also means a code under attack
// is locked for its owner, who is told to wait an hour. Without a code, a guess must hit
// one of the N open cases in 2^120 pairs: with N = 1000 about 2^-110 per guess. This chat
// adds, per address, 5 attempts at once and then one a minute (Receipts), and every wrong
// one waits ReceiptDelay and costs a second token: about 720 guesses a day per address.
// Even a million addresses (2^20) guessing for a year (2^18 guesses each, 2^38 in all)
// reach about 2^-72 of a chance. The attacker's cheapest path is the student's own device,
// which is why the page says to keep the receipt private and offers no way to look one up.

// receipt is POST /chat/receipt: "I have a receipt". It links this conversation to the
// case, so its thread shows here and what the student types goes to their counsellor.
func (h *chatHandler) receipt(w http.ResponseWriter, r *http.Request) {
	c, ok := h.formRequest(w, r)
	if !ok {
		return
	}
	ip, now := h.opts.ClientIP(r), h.now()
	if !h.receipts.Allow(ip, now) {
		h.hit("ip")
		h.slowDown(w, r, c, h.receipts.Wait(ip, now), "web.receipt.slow")
		return
	}
	code := cut(r.PostForm.Get("code"), maxReceiptField)
	pass := cut(r.PostForm.Get("pass"), maxReceiptField)
	in := bot.Inbound{Receipt: &bot.Receipt{Code: code, Pass: pass}}
	reply, err := h.e.Handle(r.Context(), h.inbound(r, c, in))
	sess := h.session(r.Context(), c)
	right := sess != nil && sess.CaseCode != "" &&
		sess.CaseCode == strings.ToUpper(strings.TrimSpace(code)) && sess.Pass == strings.ToLower(strings.TrimSpace(pass))
	if !right && err == nil {
		// A wrong receipt costs twice and waits: guessing gets slower than typing.
		h.receipts.Charge(ip, now, 1)
		select {
		case <-time.After(h.opts.ReceiptDelay):
		case <-r.Context().Done():
			return
		}
	}
	h.answer(w, r, c, in, reply, err, sess)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// answer shows the result of a turn: as JSON for the page's script, else a redirect to
// the page (POST, 303, GET). sess is the session after the turn when already read.
func (h *chatHandler) answer(w http.ResponseWriter, r *http.Request, c conv, in bot.Inbound, reply bot.Reply, turnErr error, sess *bot.Session) {
	ctx := r.Context()
	if turnErr != nil {
		h.log.Error("chat turn failed", "err", turnErr)
	}
	if sess == nil {
		sess = h.session(ctx, c)
	}
	view := &shown{lang: convLang(sess, r), messages: wrap(reply.Messages, false), at: h.now()}
	view.receipt = sess != nil && sess.CaseCode != "" && sess.Pass != "" && (h.handedOff(reply.Path) || asksCase(in))
	erased := turnErr == nil && sess == nil
	if erased {
		// stop or forget erased the conversation: a new secret, so nothing that follows
		// can be linked to it, and its last page is forgotten.
		h.recent.drop(c.key)
		c = h.newConversation(w, r)
	}
	h.recent.put(c.key, view)
	if !wantsJSON(r) {
		http.Redirect(w, r, "/#now", http.StatusSeeOther)
		return
	}
	v := h.chatView(c, sess, view)
	out := turnJSON{
		HTML: h.fragment("bubbles", v), Receipt: h.fragment("receipt", v),
		Once: v.Once, CSRF: v.CSRF, Lang: v.Lang, Case: v.HasCase, Reload: erased,
	}
	h.writeJSON(w, http.StatusOK, out)
}

// turnJSON is the answer to a turn sent by the page's script: the new bubbles and receipt
// box as HTML from the same templates as the page, so both paths show the same thing.
type turnJSON struct {
	HTML    string `json:"html"`
	Receipt string `json:"receipt,omitempty"`
	Once    string `json:"once"`
	CSRF    string `json:"csrf"`
	Lang    string `json:"lang"`
	Case    bool   `json:"case"`
	Reload  bool   `json:"reload,omitempty"`
	Again   bool   `json:"again,omitempty"`
	Error   string `json:"error,omitempty"`
}

// handedOff reports whether the turn passed a node that hands the case to the team.
func (h *chatHandler) handedOff(path []string) bool {
	for _, id := range path {
		for _, f := range h.e.Content().Flows {
			if n := f.Nodes[id]; n != nil && n.Do == flows.ActionHandoff {
				return true
			}
		}
	}
	return false
}

// asksCase reports whether the student asked for their case (the "my case" control, or
// /case typed).
func asksCase(in bot.Inbound) bool {
	if in.Data == "g:"+bot.CmdCase {
		return true
	}
	t := strings.TrimSpace(in.Text)
	if !strings.HasPrefix(t, "/") {
		return false
	}
	name, _, _ := strings.Cut(t[1:], " ")
	name, _, _ = strings.Cut(name, "@")
	return strings.EqualFold(name, bot.CmdCase)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// formRequest checks a form post: a conversation, the rate limits, a body under the cap,
// its token, and a nonce not used before. It answers the request itself when any fails.
func (h *chatHandler) formRequest(w http.ResponseWriter, r *http.Request) (conv, bool) {
	c, ok := h.conversation(r)
	if !ok {
		h.refuse(w, r, http.StatusForbidden, "web.expired")
		return c, false
	}
	if h.limited(w, r, c, true) {
		return c, false
	}
	switch readForm(w, r) {
	case formTooBig:
		h.tooLong(w, r, c)
		return c, false
	case formUnreadable:
		h.refuse(w, r, http.StatusBadRequest, "web.refused")
		return c, false
	}
	if !sameToken(r.PostForm.Get("csrf"), c.csrf()) {
		h.refuse(w, r, http.StatusForbidden, "web.refused")
		return c, false
	}
	if once := r.PostForm.Get("once"); once != "" && !h.nonces.reserve(c.key+"\x00"+once, h.now()) {
		// The same form again (a double tap, a resent POST): nothing is done twice, and
		// the page shows what the first one did.
		if wantsJSON(r) {
			h.writeJSON(w, http.StatusOK, turnJSON{Again: true})
		} else {
			http.Redirect(w, r, "/#now", http.StatusSeeOther)
		}
		return c, false
	}
	return c, true
}

// tooLong answers a body over the cap with the engine's own "too long" text, above what
// the page showed: the student keeps their place, and nothing was sent.
func (h *chatHandler) tooLong(w http.ResponseWriter, r *http.Request, c conv) {
	sess := h.session(r.Context(), c)
	lang := pageLang(convLang(sess, r))
	text := h.text(lang, "engine.too_long", map[string]any{"max": bot.DefaultMaxText})
	msgs := []shownMessage{{Message: bot.Message{Text: text}, note: true}}
	if old := h.recent.get(c.key, h.now()); old != nil {
		msgs = append(msgs, old.messages...)
	}
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusRequestEntityTooLarge, turnJSON{Error: text, Lang: lang})
		return
	}
	view := &shown{lang: lang, messages: msgs, at: h.now()}
	h.renderChatStatus(w, c, sess, view, http.StatusRequestEntityTooLarge)
}

// --- limits ----------------------------------------------------------------------------

// limited takes a token from the address's bucket and, when there is a conversation, from
// the conversation's, and answers the request itself when either is empty.
func (h *chatHandler) limited(w http.ResponseWriter, r *http.Request, c conv, hasConv bool) bool {
	now := h.now()
	ip := h.opts.ClientIP(r)
	if !h.perIP.Allow(ip, now) {
		h.hit("ip")
		h.slowDown(w, r, c, h.perIP.Wait(ip, now), "web.slow")
		return true
	}
	if hasConv && !h.perConv.Allow(c.key, now) {
		h.hit("conversation")
		h.slowDown(w, r, c, h.perConv.Wait(c.key, now), "web.slow")
		return true
	}
	return false
}

// hit counts a refusal by the limit of scope ("ip", "conversation").
func (h *chatHandler) hit(scope string) { h.e.Meter().Limited("web", scope) }

// slowDown is the polite refusal of a limited request, in the student's language. A message
// asking for help in danger gets the 24/7 numbers above it: help is never rate limited away.
func (h *chatHandler) slowDown(w http.ResponseWriter, r *http.Request, c conv, wait time.Duration, id string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	lang := h.langOf(r)
	msg := h.text(lang, id, nil)
	if help := h.urgentHelp(w, r, c); help != "" {
		msg = help + "\n\n" + msg
	}
	h.refuseWith(w, r, http.StatusTooManyRequests, lang, msg)
}

// urgentHelp is the engine's immediate answer to a refused message that asks for help in
// danger (crisis words, the urgent command or button), or "". Only the text of a message
// of a conversation is read, within the form's cap, and nothing is done with it.
func (h *chatHandler) urgentHelp(w http.ResponseWriter, r *http.Request, c conv) string {
	if r.Method != http.MethodPost || r.URL.Path != "/chat/say" || c.key == "" {
		return ""
	}
	if readForm(w, r) != formOK {
		return ""
	}
	in := bot.Inbound{Text: r.PostForm.Get("text"), Data: r.PostForm.Get("data")}
	if !h.e.Urgent(in) {
		return ""
	}
	var texts []string
	for _, m := range h.e.OverLimit(r.Context(), h.inbound(r, c, in), false) {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n\n")
}

// --- downloads, exit, privacy ----------------------------------------------------------

// receiptFile is GET /chat/receipt.txt: the receipt of this conversation's case as a text
// file, built from the session (never from what a page showed).
func (h *chatHandler) receiptFile(w http.ResponseWriter, r *http.Request) {
	c, ok := h.conversation(r)
	if h.limited(w, r, c, ok) {
		return
	}
	var sess *bot.Session
	if ok {
		sess = h.session(r.Context(), c)
	}
	if sess == nil || sess.CaseCode == "" || sess.Pass == "" {
		h.refuse(w, r, http.StatusNotFound, "web.receipt.none")
		return
	}
	body := h.receiptText(pageLang(sess.Lang), sess)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="receipt.txt"`)
	w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"))
}

func (h *chatHandler) receiptText(lang string, s *bot.Session) string {
	return h.text(lang, "web.receipt.file", map[string]any{"case_code": s.CaseCode, "passphrase": s.Pass})
}

// exit is the quick exit without script (GET, a plain link) and its beacon with script
// (POST): it forgets the session cookie, so Back finds a new, empty conversation instead of
// this one, then sends the browser to the neutral site. A link from another site cannot
// end someone's conversation.
func (h *chatHandler) exit(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") != "cross-site" {
		if c, ok := h.conversation(r); ok {
			h.recent.drop(c.key)
		}
		h.clearCookie(w, r)
	}
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, h.opts.ExitURL, http.StatusSeeOther)
}

func (h *chatHandler) privacy(w http.ResponseWriter, r *http.Request) {
	lang := h.langOf(r)
	h.render(w, http.StatusOK, "privacy", h.plainView(lang))
}

func (h *chatHandler) notFound(w http.ResponseWriter, r *http.Request) {
	h.refuse(w, r, http.StatusNotFound, "web.notfound")
}

// refuse answers with a short page (or JSON for the script) holding one sentence.
func (h *chatHandler) refuse(w http.ResponseWriter, r *http.Request, status int, id string) {
	lang := h.langOf(r)
	h.refuseWith(w, r, status, lang, h.text(lang, id, nil))
}

// refuseWith is refuse with the message's text.
func (h *chatHandler) refuseWith(w http.ResponseWriter, r *http.Request, status int, lang, msg string) {
	if wantsJSON(r) {
		h.writeJSON(w, status, turnJSON{Error: msg, Lang: lang})
		return
	}
	v := h.plainView(lang)
	v.Message = msg
	h.render(w, status, "notice", v)
}

// langOf is the page language of a request: its conversation's, as far as this process
// knows it without asking the store, else the browser's.
func (h *chatHandler) langOf(r *http.Request) string {
	if c, ok := h.conversation(r); ok {
		if s := h.recent.get(c.key, h.now()); s != nil {
			return pageLang(s.lang)
		}
	}
	return hintLang(r)
}

// --- rendering -------------------------------------------------------------------------

// chatView is what the chat templates get.
type chatView struct {
	Lang    string // of the page around the conversation
	L       texts
	CSRF    string
	Once    string
	ExitURL string
	Bubbles []bubbleView
	Receipt *receiptView
	HasCase bool
	Message string // the sentence of a notice page
}

type bubbleView struct {
	Text    string
	Lang    string // set when the bubble's language is not the page's
	Buttons []bot.Button
	Team    bool
	Note    bool
	First   bool
}

type receiptView struct {
	Code, Pass, Plain string
}

// texts renders the page's own texts (web.*) in its language.
type texts struct {
	h    *chatHandler
	lang string
}

// T returns the text of id. The privacy text's durations come from the engine's
// configuration, so every text gets them.
func (l texts) T(id string) string { return l.h.text(l.lang, id, l.h.e.PrivacyData(l.lang)) }

// text renders id from the live catalog, else from the texts shipped with the binary (an
// edited catalog may lack the page's ids; the page must still have words on it).
func (h *chatHandler) text(lang, id string, data map[string]any) string {
	if s, err := h.e.Content().Catalog.Text(lang, id, data); err == nil {
		return s
	}
	s, err := h.shipped.Text(lang, id, data)
	if err != nil {
		h.log.Error("chat text missing", "id", id, "lang", lang, "err", err)
		return id
	}
	return s
}

func (h *chatHandler) plainView(lang string) chatView {
	return chatView{Lang: lang, L: texts{h, lang}, ExitURL: h.opts.ExitURL}
}

func (h *chatHandler) chatView(c conv, sess *bot.Session, view *shown) chatView {
	lang := pageLang(view.lang)
	v := h.plainView(lang)
	v.CSRF, v.Once = c.csrf(), newNonce()
	v.HasCase = sess != nil && sess.CaseCode != ""
	for i, m := range view.messages {
		b := bubbleView{Text: m.Text, Buttons: m.Buttons, Team: m.team, Note: m.note, First: i == 0}
		if view.lang != lang {
			b.Lang = view.lang
		}
		v.Bubbles = append(v.Bubbles, b)
	}
	if view.receipt && sess != nil && sess.CaseCode != "" && sess.Pass != "" {
		v.Receipt = &receiptView{Code: sess.CaseCode, Pass: sess.Pass, Plain: h.receiptText(lang, sess)}
	}
	return v
}

func (h *chatHandler) renderChat(w http.ResponseWriter, r *http.Request, c conv, sess *bot.Session, view *shown) {
	h.renderChatStatus(w, c, sess, view, http.StatusOK)
}

func (h *chatHandler) renderChatStatus(w http.ResponseWriter, c conv, sess *bot.Session, view *shown, status int) {
	h.render(w, status, "chat", h.chatView(c, sess, view))
}

func parseChatPages() map[string]*template.Template {
	funcs := template.FuncMap{"paras": paras}
	pages := map[string]*template.Template{}
	for _, name := range []string{"chat", "privacy", "notice"} {
		t := template.New(name).Funcs(funcs)
		pages[name] = template.Must(t.ParseFS(chatFiles, "chat/layout.html", "chat/parts.html", "chat/"+name+".html"))
	}
	return pages
}

// paras splits a text into paragraphs at blank lines.
func paras(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (h *chatHandler) render(w http.ResponseWriter, status int, name string, v chatView) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.Error("chat page not rendered", "page", name, "err", err)
		http.Error(w, "The page could not be shown. / De pagina kon niet worden getoond.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragment renders one part of the chat page (bubbles, receipt) on its own.
func (h *chatHandler) fragment(name string, v chatView) string {
	var buf bytes.Buffer
	if err := h.pages["chat"].ExecuteTemplate(&buf, name, v); err != nil {
		h.log.Error("chat fragment not rendered", "part", name, "err", err)
		return ""
	}
	return buf.String()
}

func (h *chatHandler) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		h.log.Debug("chat answer not written", "err", err)
	}
}
