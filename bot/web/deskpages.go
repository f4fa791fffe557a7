package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"intake/bot"
)

// --- login -----------------------------------------------------------------------------

// loginData is the login page's content.
type loginData struct {
	Name     string
	Next     string
	Note     string
	Continue bool // offer "continue" for a login that the browser did not send (see below)
}

func (h *deskHandler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if token := h.cookie(r, cookieLogin); token != "" {
		if _, err := h.d.Authenticate(r.Context(), token); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	why := r.URL.Query().Get("m")
	// A link to a case from outside (a notice in a counsellor chat) arrives without the
	// SameSite=Strict login cookie; following a link on this page sends it again.
	h.showLogin(w, r, http.StatusOK, loginData{Next: next, Note: loginNotes[why], Continue: why == "login" && next != "/desk/"}, "")
}

func (h *deskHandler) showLogin(w http.ResponseWriter, r *http.Request, status int, data loginData, errMsg string) {
	// The form's token before there is a login: a random value in a cookie that must come
	// back with the form (double submit), so another site cannot log someone in.
	pre := h.cookie(r, cookiePre)
	if pre == "" {
		pre = newNonce()
		h.setCookie(w, cookiePre, pre, 0)
	}
	h.render(w, r, status, "login", page{Title: "Log in", CSRF: pre, Error: errMsg, Data: data})
}

func (h *deskHandler) login(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, nil) {
		return
	}
	f := r.PostForm
	data := loginData{Name: strings.TrimSpace(f.Get("name")), Next: safeNext(f.Get("next"))}
	if !sameToken(f.Get("csrf"), h.cookie(r, cookiePre)) {
		h.showLogin(w, r, http.StatusForbidden, data,
			"The login form had expired or your browser did not send its cookie. Please enter your name and password again.")
		return
	}
	password := f.Get("password")
	switch {
	case data.Name == "" || password == "":
		h.showLogin(w, r, http.StatusUnauthorized, data, "Enter your name and your password.")
		return
	case len(data.Name) > 64 || len(password) > 1024:
		// No account has such a name (at most 32 characters); spare the store and hash.
		h.showLogin(w, r, http.StatusUnauthorized, data, "The name or password is wrong.")
		return
	}
	token, acc, err := h.d.Login(r.Context(), data.Name, password)
	switch {
	case errors.Is(err, bot.ErrBadLogin):
		h.showLogin(w, r, http.StatusUnauthorized, data, "The name or password is wrong.")
		return
	case errors.Is(err, bot.ErrSlowDown):
		h.showLogin(w, r, http.StatusTooManyRequests, data, "Too many attempts. Wait 15 minutes, then try again.")
		return
	case err != nil:
		h.internal(w, r, nil, err)
		return
	}
	h.log.Info("desk login", "role", acc.Role)
	h.clearCookie(w, cookiePre)
	h.setCookie(w, cookieLogin, token, 0)
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

func (h *deskHandler) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.d.Logout(r.Context(), s.token); err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.clearCookie(w, cookieLogin)
	http.Redirect(w, r, "/desk/login?m=out", http.StatusSeeOther)
}

// --- queue -----------------------------------------------------------------------------

func (h *deskHandler) home(w http.ResponseWriter, r *http.Request, s *session) {
	if s.acc.Role != bot.RoleCounsellor {
		h.countersOnly(w, r, s, http.StatusOK)
		return
	}
	pending, mine, err := h.d.Queue(r.Context(), s.acc)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "queue", page{
		Title: "Queue", Account: s.acc, CSRF: s.csrf, Flash: h.takeFlash(w, r),
		Data: h.queueView(pending, mine),
	})
}

// --- case ------------------------------------------------------------------------------

func (h *deskHandler) casePage(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderCase(w, r, s, http.StatusOK, r.PathValue("code"), "", nil)
}

// renderCase shows the case page, with errMsg on top and, after a refused form, what the
// counsellor had typed in it.
func (h *deskHandler) renderCase(w http.ResponseWriter, r *http.Request, s *session, status int, code, errMsg string, form url.Values) {
	det, err := h.d.Case(r.Context(), s.acc, code)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		h.noSuchCase(w, r, s)
		return
	case errors.Is(err, bot.ErrForbidden):
		h.countersOnly(w, r, s, http.StatusForbidden)
		return
	case err != nil:
		h.internal(w, r, s, err)
		return
	}
	p := page{
		Title: "Case " + det.Code, Account: s.acc, CSRF: s.csrf, Error: errMsg,
		Data: h.caseView(det, form),
	}
	if status == http.StatusOK {
		p.Flash = h.takeFlash(w, r)
	}
	h.render(w, r, status, "case", p)
}

func (h *deskHandler) ics(w http.ResponseWriter, r *http.Request, s *session) {
	name, body, err := h.d.ICS(r.Context(), s.acc, r.PathValue("code"))
	if err != nil {
		h.refused(w, r, s, err, nil)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(body)
}

// action runs one case form. Success redirects (POST-redirect-GET) with a flash; a
// refusal shows the case page again with the reason, and the counsellor's input kept.
func (h *deskHandler) action(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, code, f := r.Context(), r.PathValue("code"), r.PostForm
	to := casePath(code)
	var err error
	var done string // the flash key of success
	switch r.PathValue("action") {
	case "claim":
		done = "claimed"
		err = h.d.Claim(ctx, s.acc, code)
	case "release":
		done, to = "released", "/desk/"
		err = h.d.Release(ctx, s.acc, code)
	case "close":
		done, to = "closed", "/desk/"
		err = h.d.Close(ctx, s.acc, code, f.Get("followup"), f.Get("referral"))
	case "send":
		done = "sent"
		err = h.once(r, s, func() error { return h.d.Send(ctx, s.acc, code, f.Get("text")) })
	case "propose":
		done = "proposed"
		err = h.once(r, s, func() error {
			slots, err := parseSlots(f, h.d.Hours().Loc)
			if err != nil {
				return err
			}
			return h.d.Propose(ctx, s.acc, code, slots)
		})
	default:
		h.notFound(w, r)
		return
	}
	switch {
	case errors.Is(err, errAgain):
		h.redirectFlash(w, r, to, "again")
	case err != nil:
		h.refused(w, r, s, err, f)
	default:
		h.redirectFlash(w, r, to, done)
	}
}

var errAgain = errors.New("form sent again")

// once runs action unless the form's nonce has gone through already.
func (h *deskHandler) once(r *http.Request, s *session, action func() error) error {
	nonce := r.PostForm.Get("once")
	if nonce == "" {
		return action()
	}
	key := s.acc.Name + "\x00" + nonce
	if !h.nonces.reserve(key, h.now()) {
		return errAgain
	}
	err := action()
	if err != nil {
		h.nonces.forget(key)
	}
	return err
}

// refused answers a desk error: each gets its sentence, and nothing was changed.
func (h *deskHandler) refused(w http.ResponseWriter, r *http.Request, s *session, err error, form map[string][]string) {
	code := r.PathValue("code")
	var invalid bot.InvalidError
	switch {
	case errors.Is(err, bot.ErrNotFound):
		h.noSuchCase(w, r, s)
	case errors.Is(err, bot.ErrForbidden):
		h.countersOnly(w, r, s, http.StatusForbidden)
	case errors.Is(err, bot.ErrLoginExpired): // the account was removed meanwhile
		h.clearCookie(w, cookieLogin)
		h.toLogin(w, r, "expired")
	case errors.Is(err, bot.ErrAlreadyClaimed):
		h.renderCase(w, r, s, http.StatusConflict, code, "Another counsellor has already claimed this case, so nothing was changed.", nil)
	case errors.Is(err, bot.ErrNotYours):
		h.renderCase(w, r, s, http.StatusForbidden, code, "This case is not claimed by you, so you cannot act on it. Nothing was changed.", nil)
	case errors.Is(err, bot.ErrCaseClosed):
		h.renderCase(w, r, s, http.StatusConflict, code, "This case is closed or was withdrawn by the student, so nothing was changed.", nil)
	case errors.As(err, &invalid):
		msg := invalid.Msg
		if r.Method == http.MethodPost {
			msg += " Nothing was sent or changed."
		}
		h.renderCase(w, r, s, http.StatusUnprocessableEntity, code, msg, form)
	default:
		h.internal(w, r, s, err)
	}
}

// datetime-local sends minutes, or seconds when a browser adds them.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// parseSlots reads the propose form: up to three slots; a slot without a time is left out.
func parseSlots(f url.Values, loc *time.Location) ([]bot.Slot, error) {
	var slots []bot.Slot
	for i := 1; i <= 3; i++ {
		n := strconv.Itoa(i)
		start := strings.TrimSpace(f.Get("start" + n))
		if start == "" {
			continue
		}
		var t time.Time
		var err error
		for _, layout := range localLayouts {
			if t, err = time.ParseInLocation(layout, start, loc); err == nil {
				break
			}
		}
		if err != nil {
			return nil, bot.InvalidError{Msg: fmt.Sprintf("Time %d: the date and time could not be read; use the form 2026-03-02T10:00.", i)}
		}
		minutes, err := strconv.Atoi(strings.TrimSpace(f.Get("minutes" + n)))
		if err != nil {
			return nil, bot.InvalidError{Msg: fmt.Sprintf("Time %d: give the length of the meeting in minutes.", i)}
		}
		slots = append(slots, bot.Slot{Form: f.Get("form" + n), Start: t, Minutes: minutes})
	}
	return slots, nil
}
