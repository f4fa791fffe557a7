package drills

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// addCounsellor makes a desk account the way an operator does: `intake desk user add`,
// with the password piped in.
func (w *world) addCounsellor(name string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "desk", "user", "add", name)
	cmd.Env = append(cleanEnv(), "REDIS_URL="+w.redis.url(), "INTAKE_PEPPER="+w.pepper, "INTAKE_SEAL_KEY="+w.seal)
	cmd.Stdin = strings.NewReader(password(name) + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("intake desk user add %s: %v\n%s", name, err, out)
	}
}

func password(name string) string { return name + "-drill-password" }

// counsellor is a counsellor's browser on the desk of one replica: a cookie jar, and the
// form token of the login.
type counsellor struct {
	name string
	base string
	c    *http.Client
	csrf string
}

// login fills in the desk's login form on p and keeps the login's form token.
func login(ctx context.Context, p *intake, name string) (*counsellor, error) {
	jar, _ := cookiejar.New(nil)
	c := &counsellor{name: name, base: "http://" + p.addr, c: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		// A form's answer is a redirect (done) or a page with a status (refused): keep it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	_, page, err := c.do(ctx, http.MethodGet, "/desk/login", nil)
	if err != nil {
		return nil, err
	}
	status, _, err := c.do(ctx, http.MethodPost, "/desk/login", url.Values{
		"csrf": {formValue(page, "csrf")}, "next": {"/desk/"}, "name": {name}, "password": {password(name)},
	})
	if err != nil || status != http.StatusSeeOther {
		return nil, fmt.Errorf("log in %s on %s: status %d, %v", name, p.name, status, err)
	}
	status, page, err = c.do(ctx, http.MethodGet, "/desk/", nil)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("desk of %s on %s: status %d, %v", name, p.name, status, err)
	}
	c.csrf = formValue(page, "csrf")
	return c, nil
}

// act sends a case form (claim, send, ...) with the login's token and returns the status:
// 303 when it was done.
func (c *counsellor) act(ctx context.Context, code, action string, form url.Values) (int, error) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	status, _, err := c.do(ctx, http.MethodPost, "/desk/case/"+code+"/"+action, form)
	return status, err
}

// casePage is the case as this counsellor sees it on the desk.
func (c *counsellor) casePage(ctx context.Context, code string) (string, error) {
	status, page, err := c.do(ctx, http.MethodGet, "/desk/case/"+code, nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("case page %s: status %d", code, status)
	}
	return html.UnescapeString(page), err
}

func (c *counsellor) do(ctx context.Context, method, path string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// formValue is the value of the first input named name in page ("" when there is none).
func formValue(page, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// counsellors logs each name in on its own replica, round the replicas.
func (w *world) counsellors(ctx context.Context, names ...string) []*counsellor {
	w.t.Helper()
	var out []*counsellor
	for i, name := range names {
		w.addCounsellor(name)
		c, err := login(ctx, w.procs[i%len(w.procs)], name)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}
