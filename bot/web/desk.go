package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"intake/bot"
	"intake/stats"
)

// DeskOptions configure the desk handler.
type DeskOptions struct {
	// Secure sets the Secure flag (and the __Secure- name prefix) on the desk's cookies.
	// Leave it false only for plain-HTTP development on localhost.
	Secure bool
	Logger *slog.Logger
	Now    func() time.Time
	// Records feeds the statistics page (/desk/stats); nil leaves the page out.
	Records Records
}

// deskCSP allows nothing but the desk's own stylesheet and forms: no script at all.
const deskCSP = "default-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed desk
var deskFiles embed.FS

// deskHandler serves /desk/. It holds no state about cases or logins (bot.Desk and the
// store do), so several replicas can serve one desk; the only process memory is the
// short-lived set of used form nonces (see formNonces).
type deskHandler struct {
	d      *bot.Desk
	secure bool
	log    *slog.Logger
	now    func() time.Time
	pages  map[string]*template.Template
	css    asset
	// records, labels and statsCSS serve the statistics page (off when records is nil).
	records  Records
	labels   *stats.Labels
	statsCSS asset
	next     http.Handler
	nonces   *formNonces
}

// NewDesk returns the counsellor desk: every page and form under /desk/. Mount it on
// "/desk/" of the service's mux.
func NewDesk(d *bot.Desk, opts DeskOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &deskHandler{
		d: d, secure: opts.Secure, log: opts.Logger, now: opts.Now,
		pages: parsePages(), nonces: newFormNonces(),
		css:     mustAsset(deskFiles, "desk/desk.css", "desk.css", "text/css; charset=utf-8"),
		records: opts.Records,
	}
	if h.records != nil {
		h.labels, h.statsCSS = statsAssets()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /desk/{$}", h.authed(h.home))
	mux.HandleFunc("GET /desk/login", h.loginPage)
	mux.HandleFunc("POST /desk/login", h.login)
	mux.HandleFunc("POST /desk/logout", h.post(h.logout))
	mux.HandleFunc("GET /desk/case/{code}", h.authed(h.casePage))
	mux.HandleFunc("GET /desk/case/{code}/ics", h.authed(h.ics))
	mux.HandleFunc("POST /desk/case/{code}/{action}", h.post(h.action))
	mux.HandleFunc("GET /desk/desk.css", h.css.serve)
	if h.records != nil {
		mux.HandleFunc("GET /desk/stats", h.authed(h.statsPage))
		mux.HandleFunc("GET /desk/stats.css", h.statsCSS.serve)
	}
	mux.HandleFunc("/desk/", h.notFound)

	// Cross-origin POSTs are refused before they reach a handler (Sec-Fetch-Site and
	// Origin); the CSRF token below is the second lock, for browsers that send neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, nil, http.StatusForbidden, "Form refused",
			"This form was sent from another site, so nothing was done.", "/desk/", "Go to the desk")
	}))
	h.next = cop.Handler(mux)
	return h
}

func (h *deskHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer h.recoverPanic(w, r) // see recover.go
	securityHeaders(w.Header(), deskCSP)
	h.next.ServeHTTP(w, r)
}

// --- cookies ---------------------------------------------------------------------------

// Cookie names; with Secure the browser also refuses them from plain HTTP (__Secure-).
const (
	cookieLogin = "desk_login"
	cookiePre   = "desk_prelogin"
	cookieFlash = "desk_flash"
)

func (h *deskHandler) cookieName(name string) string {
	if h.secure {
		return "__Secure-" + name
	}
	return name
}

func (h *deskHandler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: "/desk/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (h *deskHandler) clearCookie(w http.ResponseWriter, name string) { h.setCookie(w, name, "", -1) }

func (h *deskHandler) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(h.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// --- login state -----------------------------------------------------------------------

// session is a request's login: the account, its token and the CSRF token of its forms.
type session struct {
	acc   *bot.Account
	token string
	csrf  string
}

// csrfToken is the form token of a login (see formToken).
func csrfToken(loginToken string) string { return formToken(loginToken, "intake desk form token v1") }

// authenticate returns the request's login, or answers the request itself (to the login
// page, or an error page) and returns nil.
func (h *deskHandler) authenticate(w http.ResponseWriter, r *http.Request) *session {
	token := h.cookie(r, cookieLogin)
	if token == "" {
		h.toLogin(w, r, "login")
		return nil
	}
	acc, err := h.d.Authenticate(r.Context(), token)
	switch {
	case errors.Is(err, bot.ErrLoginExpired):
		h.clearCookie(w, cookieLogin)
		h.toLogin(w, r, "expired")
		return nil
	case err != nil:
		h.internal(w, r, nil, err)
		return nil
	}
	return &session{acc: acc, token: token, csrf: csrfToken(token)}
}

// authed wraps a GET page that needs a login.
func (h *deskHandler) authed(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s := h.authenticate(w, r); s != nil {
			fn(w, r, s)
		}
	}
}

// post wraps a form action that needs a login: body cap, then the CSRF token.
func (h *deskHandler) post(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.authenticate(w, r)
		if s == nil || !h.parseForm(w, r, s) {
			return
		}
		if !sameToken(r.PostForm.Get("csrf"), s.csrf) {
			h.errorPage(w, r, s, http.StatusForbidden, "Form refused",
				"This form had no valid security token (it may come from an old page or another site), so nothing was done. Go back, reload the page and try again.",
				returnPath(r), "Back to the page")
			return
		}
		fn(w, r, s)
	}
}

// parseForm reads a capped body; a body over the cap gets a page saying so.
func (h *deskHandler) parseForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	switch readForm(w, r) {
	case formOK:
		return true
	case formTooBig:
		msg := "The form was larger than 64 KB, so nothing was done. Shorten the text and send it again."
		if code := r.PathValue("code"); s != nil && code != "" {
			h.renderCase(w, r, s, http.StatusRequestEntityTooLarge, code, msg, nil)
			return false
		}
		h.errorPage(w, r, s, http.StatusRequestEntityTooLarge, "Form too large", msg, returnPath(r), "Back to the page")
		return false
	}
	h.errorPage(w, r, s, http.StatusBadRequest, "Form not readable", "The form could not be read, so nothing was done.", returnPath(r), "Back to the page")
	return false
}

var codeShape = regexp.MustCompile(`^[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$`)

// returnPath is the page a request belongs to: its case page, or the queue.
func returnPath(r *http.Request) string {
	if code := r.PathValue("code"); codeShape.MatchString(code) {
		return casePath(code)
	}
	return "/desk/"
}

func casePath(code string) string { return "/desk/case/" + url.PathEscape(strings.ToUpper(code)) }

// safeNext keeps a ?next= to the desk's own pages, so the login page cannot be used to
// send someone elsewhere.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/desk/case/") && codeShape.MatchString(strings.TrimPrefix(next, "/desk/case/")) {
		return next
	}
	return "/desk/"
}

// loginNotes are the fixed messages the login page shows for ?m=.
var loginNotes = map[string]string{
	"login":   "Please log in to use the desk.",
	"expired": "Your login has expired. Please log in again; you will be taken back to the page you were on.",
	"out":     "You are logged out.",
}

func (h *deskHandler) toLogin(w http.ResponseWriter, r *http.Request, why string) {
	q := url.Values{"m": {why}}
	if next := returnPath(r); next != "/desk/" {
		q.Set("next", next)
	}
	http.Redirect(w, r, "/desk/login?"+q.Encode(), http.StatusSeeOther)
}

// --- flash -----------------------------------------------------------------------------

// flashes are the one-line results of actions, passed from a POST to the page it redirects
// to by key in a short-lived cookie: never text from the request.
var flashes = map[string]string{
	"claimed":  "You claimed this case. The student has been told that a counsellor has picked it up.",
	"released": "The case is back in the queue for another counsellor.",
	"sent":     "Your message is in the thread and on its way to the student.",
	"proposed": "The proposed times were sent to the student.",
	"closed":   "The case is closed.",
	"again":    "That form had already been sent; nothing was done twice.",
}

func (h *deskHandler) redirectFlash(w http.ResponseWriter, r *http.Request, to, key string) {
	h.setCookie(w, cookieFlash, key, 60)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeFlash returns the pending flash message and clears it.
func (h *deskHandler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	key := h.cookie(r, cookieFlash)
	if key == "" {
		return ""
	}
	h.clearCookie(w, cookieFlash)
	return flashes[key]
}

// --- rendering -------------------------------------------------------------------------

// page is what every template gets.
type page struct {
	Title   string
	Account *bot.Account
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"lines": lines}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "queue", "case", "role", "error", "stats"} {
		t := template.New(name).Funcs(funcs)
		pages[name] = template.Must(t.ParseFS(deskFiles, "desk/layout.html", "desk/"+name+".html"))
	}
	return pages
}

// lines splits text at line breaks, so the templates can keep them with <br> (readable
// without the stylesheet too).
func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func (h *deskHandler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("desk page not rendered", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Message  string
	Link     string
	LinkText string
}

func (h *deskHandler) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, title, msg, link, linkText string) {
	p := page{Title: title, Data: errorData{Message: msg, Link: link, LinkText: linkText}}
	if s != nil {
		p.Account, p.CSRF = s.acc, s.csrf
	}
	h.render(w, r, status, "error", p)
}

// internal answers an unexpected failure. The log gets the route and the error, never
// case codes or content.
func (h *deskHandler) internal(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.log.Error("desk request failed", "route", r.Pattern, "err", err)
	h.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side. Reload the page to see what was saved, then try again.", returnPath(r), "Back to the page")
}

func (h *deskHandler) notFound(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/desk/case/"); ok && !strings.Contains(rest, "/") {
		h.noSuchCase(w, r, nil)
		return
	}
	h.errorPage(w, r, nil, http.StatusNotFound, "No such page", "There is no such page on the desk.", "/desk/", "Go to the queue")
}

func (h *deskHandler) noSuchCase(w http.ResponseWriter, r *http.Request, s *session) {
	h.errorPage(w, r, s, http.StatusNotFound, "No such case",
		"There is no such case. Check the case code; a code has eight letters and digits, like K7Q2-M9XD.", "/desk/", "Go to the queue")
}

// countersOnly is what a support or admin account sees instead of case content.
func (h *deskHandler) countersOnly(w http.ResponseWriter, r *http.Request, s *session, status int) {
	h.render(w, r, status, "role", page{Title: "Case content is for counsellors", Account: s.acc, CSRF: s.csrf})
}
