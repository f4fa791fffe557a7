package web

import (
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	langtag "golang.org/x/text/language"

	"intake/bot"
	"intake/bot/limit"
	"intake/locales"
)

// ChatOptions configure the student web chat. The zero value is a working chat for
// development; production sets Secure (or serves over TLS) and, behind a proxy, ClientIP.
type ChatOptions struct {
	// Secure marks the session cookie Secure (and names it __Host-) even when the request
	// did not arrive over TLS itself (TLS ended at a proxy). Requests over TLS always are.
	Secure bool
	// ExitURL is where the quick exit goes: an ordinary website that says nothing about
	// this chat (DefaultExitURL when empty). It must be an absolute http(s) URL.
	ExitURL string
	// ClientIP returns the address a request counts against for rate limiting. The default
	// is the connection's peer (RemoteAddr); behind a reverse proxy, return the client
	// address the proxy adds. IPv6 addresses are counted per /64.
	ClientIP func(*http.Request) string
	// Rate limits (zero values get the defaults below).
	PerIP           limit.Rate // every conversation request from one address
	PerConversation limit.Rate // every request of one conversation
	Receipts        limit.Rate // receipt attempts from one address
	// ReceiptDelay is how long an answer to a wrong receipt waits (default 1s).
	ReceiptDelay time.Duration
	// Events tunes the live updates: how long one read of the outbox waits (default 5s),
	// how long one event stream lasts before the browser reconnects (default 5 min), and
	// how many streams one process serves at once (default 1000).
	EventsBlock  time.Duration
	EventsMaxAge time.Duration
	MaxStreams   int
	Logger       *slog.Logger
	Now          func() time.Time
}

// Limit is a rate of the chat's limits: Burst requests at once, then one more per Every.
type Limit = limit.Rate

// Default limits. A conversation has the limit of every channel (limit.PerConversation):
// a person answers at most about once a second, a script in tens of milliseconds. One
// address is shared by many students behind a university or mobile network's NAT, so its
// limit is wider than one conversation's. Receipts: see the arithmetic above receipt.
var (
	DefaultPerIP           = limit.Rate{Burst: 30, Every: 300 * time.Millisecond}
	DefaultPerConversation = limit.PerConversation
	DefaultReceipts        = limit.Rate{Burst: 5, Every: time.Minute}
)

// DefaultExitURL is the quick exit's default: a weather search, as ordinary a page as there
// is. It is on another site on purpose: a page of our own would leave this chat's address
// in the address bar and in the tab's history, which is what a quick exit must not do.
const DefaultExitURL = "https://www.google.com/search?q=weather"

// chatCSP lets the page load its own script, stylesheet, and talk to its own origin
// (fetch, server-sent events); nothing from anywhere else, no inline script or style.
const chatCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed chat
var chatFiles embed.FS

// chatHandler serves the student web chat. Like the desk it keeps no conversation state
// of its own beyond process memory that may be lost at any time: the last reply shown
// (recentReplies), used form nonces, rate-limit buckets.
type chatHandler struct {
	e        *bot.Engine
	names    *bot.Pseudonyms
	opts     ChatOptions
	log      *slog.Logger
	now      func() time.Time
	pages    map[string]*template.Template
	css, js  asset
	recent   *recentReplies
	nonces   *formNonces
	perIP    *limit.Limiter
	perConv  *limit.Limiter
	receipts *limit.Limiter
	shipped  *locales.Catalog // the embedded texts, for web.* ids an edited catalog lacks
	streams  atomic.Int64
	next     http.Handler
}

// NewChat returns the student web chat: the page on "/" and everything under "/chat/".
// Mount it on "/" of the service's mux (the desk keeps "/desk/").
func NewChat(e *bot.Engine, names *bot.Pseudonyms, opts ChatOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if u, err := url.Parse(opts.ExitURL); opts.ExitURL == "" || err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		if opts.ExitURL != "" {
			opts.Logger.Warn("chat exit URL is not an absolute http(s) URL; using the default")
		}
		opts.ExitURL = DefaultExitURL
	}
	if opts.ClientIP == nil {
		opts.ClientIP = peerIP
	}
	opts.PerIP = opts.PerIP.Or(DefaultPerIP)
	opts.PerConversation = opts.PerConversation.Or(DefaultPerConversation)
	opts.Receipts = opts.Receipts.Or(DefaultReceipts)
	if opts.ReceiptDelay == 0 {
		opts.ReceiptDelay = time.Second
	}
	if opts.EventsBlock == 0 {
		opts.EventsBlock = 5 * time.Second
	}
	if opts.EventsMaxAge == 0 {
		opts.EventsMaxAge = 5 * time.Minute
	}
	if opts.MaxStreams == 0 {
		opts.MaxStreams = 1000
	}
	shipped, err := locales.Load(locales.Default)
	if err != nil {
		panic(err) // embedded and tested: cannot fail
	}
	h := &chatHandler{
		e: e, names: names, opts: opts, log: opts.Logger, now: opts.Now,
		pages:    parseChatPages(),
		css:      mustAsset(chatFiles, "chat/chat.css", "chat.css", "text/css; charset=utf-8"),
		js:       mustAsset(chatFiles, "chat/chat.js", "chat.js", "text/javascript; charset=utf-8"),
		recent:   newRecentReplies(recentTTL, maxRecent),
		nonces:   newFormNonces(),
		perIP:    limit.New(opts.PerIP, 0),
		perConv:  limit.New(opts.PerConversation, 0),
		receipts: limit.New(opts.Receipts, 0),
		shipped:  shipped,
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("POST /chat/say", h.say)
	mux.HandleFunc("POST /chat/receipt", h.receipt)
	mux.HandleFunc("GET /chat/receipt.txt", h.receiptFile)
	mux.HandleFunc("GET /chat/events", h.events)
	mux.HandleFunc("GET /chat/privacy", h.privacy)
	mux.HandleFunc("GET /chat/exit", h.exit)
	mux.HandleFunc("POST /chat/exit", h.exit)
	mux.HandleFunc("GET /chat/chat.css", h.css.serve)
	mux.HandleFunc("GET /chat/chat.js", h.js.serve)
	mux.HandleFunc("/", h.notFound)

	// As on the desk: cross-origin POSTs are refused before any handler (Sec-Fetch-Site,
	// Origin); the form token tied to the session cookie is the second lock.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.refuse(w, r, http.StatusForbidden, "web.refused")
	}))
	h.next = cop.Handler(mux)
	return h
}

func (h *chatHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer h.recoverPanic(w, r) // see recover.go
	securityHeaders(w.Header(), chatCSP)
	h.next.ServeHTTP(w, r)
}

// --- the session cookie ----------------------------------------------------------------

// The conversation is keyed by a random 256-bit secret that only the browser holds, in a
// session cookie (no Max-Age: closing the browser ends it). The store only ever sees
// names.Key("web", secret), a keyed hash, so a copy of Redis leads back to no browser, and
// the cookie cannot be rebuilt from Redis.
const (
	chatCookie       = "chat"
	chatCookieSecure = "__Host-chat" // Secure, Path=/, no Domain: the browser enforces all three
	secretBytes      = 32
	chatFormPurpose  = "intake chat form token v1"
)

// conv is one request's conversation.
type conv struct {
	secret string
	key    string
}

func (c conv) csrf() string   { return formToken(c.secret, chatFormPurpose) }
func (c conv) outbox() string { return "web:" + c.key }

func (h *chatHandler) secure(r *http.Request) bool { return h.opts.Secure || r.TLS != nil }

func (h *chatHandler) cookieName(r *http.Request) string {
	if h.secure(r) {
		return chatCookieSecure
	}
	return chatCookie
}

// conversation returns the request's conversation, or ok false when the browser sent no
// well-formed secret (a forged or truncated cookie counts as none).
func (h *chatHandler) conversation(r *http.Request) (conv, bool) {
	ck, err := r.Cookie(h.cookieName(r))
	if err != nil || len(ck.Value) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return conv{}, false
	}
	if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(b) != secretBytes {
		return conv{}, false
	}
	return h.conv(ck.Value), true
}

func (h *chatHandler) conv(secret string) conv {
	return conv{secret: secret, key: h.names.Key("web", secret)}
}

// newConversation draws a secret and sets the cookie.
func (h *chatHandler) newConversation(w http.ResponseWriter, r *http.Request) conv {
	c := h.conv(base64.RawURLEncoding.EncodeToString(bot.RandomKey()[:secretBytes]))
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(r), Value: c.secret, Path: "/",
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode,
	})
	return c
}

func (h *chatHandler) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

// --- languages -------------------------------------------------------------------------

// langHint is the browser's preferred language for the engine: the first of its
// languages the bot greets in, else its first language at all (the engine answers anyone
// else in English).
func langHint(r *http.Request) string {
	tags, _, err := langtag.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return ""
	}
	for _, t := range tags {
		base, _ := t.Base()
		switch base.String() {
		case "nl", "en", "de":
			return t.String()
		}
	}
	return tags[0].String()
}

// pageLang is the language of the page around the conversation: the conversation's own
// when the whole bot speaks it, else English (German is only greeted in).
func pageLang(conversation string) string {
	if locales.IsFull(conversation) {
		return conversation
	}
	return "en"
}

// hintLang is the page language for a request without a conversation.
func hintLang(r *http.Request) string {
	hint := langHint(r)
	if hint == "" {
		return locales.DefaultLang
	}
	base, _, _ := strings.Cut(strings.ToLower(hint), "-")
	return pageLang(base)
}

// --- client addresses ------------------------------------------------------------------

// peerIP is the connection's address; IPv6 counts per /64, which one host usually has
// whole.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
