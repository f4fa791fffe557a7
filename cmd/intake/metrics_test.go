package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// talker is a student talking to the service's engine the way a channel would.
type talker struct {
	t    *testing.T
	svc  *service
	in   bot.Inbound // channel, key, language and return address of every turn
	last bot.Reply
}

func (c *talker) send(in bot.Inbound) {
	c.t.Helper()
	in.Channel, in.Key, in.LangHint, in.Reply = c.in.Channel, c.in.Key, c.in.LangHint, c.in.Reply
	r, err := c.svc.engine.Handle(context.Background(), in)
	if err != nil {
		c.t.Fatalf("turn: %v", err)
	}
	c.last = r
}

// tap taps the button showing the text of message id.
func (c *talker) tap(id string) {
	c.t.Helper()
	label, err := c.svc.engine.Content().Catalog.Text(c.in.LangHint, id, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, m := range c.last.Messages {
		for _, b := range m.Buttons {
			if b.Label == label {
				c.send(bot.Inbound{Data: b.Data})
				return
			}
		}
	}
	c.t.Fatalf("no button %q (%s) in the last reply", label, id)
}

// handoff walks an intake that hands a case with story to a counsellor, and returns the
// case code.
func (c *talker) handoff(story string) string {
	c.t.Helper()
	c.send(bot.Inbound{Open: true})
	for _, id := range []string{"menu.report", "category.stalking", "relation.student_student", "reporter.self"} {
		c.tap(id)
	}
	c.send(bot.Inbound{Text: story})
	for _, id := range []string{"profile.no", "outcome.advice", "contact.chat", "urgency.no", "summary.confirm_talk"} {
		c.tap(id)
	}
	s, err := c.svc.engine.Session(context.Background(), c.in.Key)
	if err != nil || s == nil || s.CaseCode == "" {
		c.t.Fatalf("no case handed off (%v)", err)
	}
	return s.CaseCode
}

// metricsPage scrapes the admin address's /metrics.
func metricsPage(t *testing.T, svc *service) string {
	t.Helper()
	rec := httptest.NewRecorder()
	adminRoutes(svc.metrics, http.NotFoundHandler(), discardLogger()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func seriesValue(t *testing.T, page, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no series %s on the page", series)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestMetricsCountWithoutIDsOrText: a student with a planted platform id hands off a case
// with a planted story, a counsellor claims it and writes back, another conversation comes
// in on a "channel" whose name is really an id, a rate limit is hit under an id-like scope,
// and the support officer saves a broken script. The admin /metrics page counts all of it,
// and shows none of the planted values, the conversation key or the case code.
func TestMetricsCountWithoutIDsOrText(t *testing.T) {
	ctx := context.Background()
	src := copyContent(t)
	svc, err := newService(config{keyConfig: throwawayKeys()}, redistest.New(t, redis.Options{}), src, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	const (
		platformID  = "918273645001"
		story       = "CANARY my neighbour waits for me at the library every night"
		idChannel   = "chan-7731904"
		idScope     = "user-918273645002"
		counsellor  = "CANARY counsellor words for the student"
		brokenFlows = "next: nowhere-canary"
	)
	key := svc.names.Key("web", platformID)
	student := &talker{t: t, svc: svc, in: bot.Inbound{Channel: "web", Key: key, LangHint: "en",
		Reply: bot.Address{Outbox: "web:" + key, Own: true}}}
	code := student.handoff(story)
	webTurns := 11

	page := metricsPage(t, svc)
	if got := seriesValue(t, page, "intake_cases_waiting"); got != 1 {
		t.Errorf("intake_cases_waiting = %v after one handoff, want 1", got)
	}

	if err := svc.desk.AddAccount(ctx, "anna", bot.RoleCounsellor, bottest.Password("anna")); err != nil {
		t.Fatal(err)
	}
	_, anna, err := svc.desk.Login(ctx, "anna", bottest.Password("anna"))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.desk.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := svc.desk.Send(ctx, anna, code, counsellor); err != nil {
		t.Fatal(err)
	}
	// The claim notice and the counsellor's message.
	delivered, err := svc.engine.Deliver(ctx, "web:"+key, "test", 0, func(context.Context, string, []bot.Message) error { return nil })
	if err != nil || delivered == 0 {
		t.Fatalf("nothing delivered (%v)", err)
	}
	other := &talker{t: t, svc: svc, in: bot.Inbound{Channel: idChannel, Key: svc.names.Key(idChannel, platformID), LangHint: "en"}}
	other.send(bot.Inbound{Open: true})
	svc.engine.Meter().Limited(idChannel, idScope)

	script := filepath.Join(src.flowsDir, "intake.yaml")
	orig, _ := os.ReadFile(script)
	if err := os.WriteFile(script, []byte(strings.Replace(string(orig), "next: relation", brokenFlows, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	svc.reload(ctx, "test")

	page = metricsPage(t, svc)
	for series, want := range map[string]float64{
		`intake_turns_total{channel="web",result="ok"}`:            float64(webTurns),
		`intake_turns_total{channel="other",result="ok"}`:          1,
		`intake_turn_duration_seconds_count{channel="web"}`:        float64(webTurns),
		`intake_claims_total`:                                      1,
		`intake_deliveries_total{channel="web",result="ok"}`:       float64(delivered),
		`intake_rate_limited_total{channel="other",scope="other"}`: 1,
		`intake_flow_reloads_total{result="invalid"}`:              1,
		`intake_cases_waiting`:                                     0,
	} {
		if got := seriesValue(t, page, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	canaries := bottest.NewCanaries(platformID, story, key, code, idChannel, idScope, counsellor, "nowhere-canary", "anna")
	canaries.Check(t, "/metrics", page)
}
