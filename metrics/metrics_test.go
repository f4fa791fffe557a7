package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/metrics"
)

var _ bot.Meter = (*metrics.Metrics)(nil)

// queue is a fixed case queue, or a broken one.
type queue struct {
	n      int
	oldest time.Time
	err    error
}

func (q queue) PendingStats(context.Context) (int, time.Time, error) { return q.n, q.oldest, q.err }

// scrape returns what Prometheus would read.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d\n%s", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// value is the value of the series line (name with its labels, as printed), or -1.
func value(t *testing.T, page, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// TestCountersMove: each thing the service counts shows on the page with the count an
// operator expects, every series exists at zero before anything happened, and a value that
// is not a known channel or scope is counted as "other".
func TestCountersMove(t *testing.T) {
	m := metrics.New(queue{n: 3, oldest: time.Now().Add(-90 * time.Second)})
	before := scrape(t, m)
	for _, series := range []string{
		`intake_turns_total{channel="telegram",result="ok"}`,
		`intake_deliveries_total{channel="web",result="failed"}`,
		`intake_flow_reloads_total{result="invalid"}`,
		`intake_claims_total`,
	} {
		if got := value(t, before, series); got != 0 {
			t.Errorf("before anything happened %s = %v, want 0", series, got)
		}
	}

	m.Turn("web", 20*time.Millisecond, false)
	m.Turn("web", 30*time.Millisecond, false)
	m.Turn("telegram", 2*time.Second, true)
	m.Delivered("discord", false)
	m.Delivered("discord", true)
	m.Claimed()
	m.Limited("web", "ip")
	m.Limited("whatever-918273645", "chat 4242")
	m.Reloaded(metrics.ReloadInvalid, 4)
	page := scrape(t, m)
	want := map[string]float64{
		`intake_turns_total{channel="web",result="ok"}`:                    2,
		`intake_turns_total{channel="telegram",result="failed"}`:           1,
		`intake_turn_duration_seconds_count{channel="web"}`:                2,
		`intake_turn_duration_seconds_bucket{channel="web",le="0.025"}`:    1,
		`intake_turn_duration_seconds_bucket{channel="telegram",le="2.5"}`: 1,
		`intake_deliveries_total{channel="discord",result="ok"}`:           1,
		`intake_deliveries_total{channel="discord",result="failed"}`:       1,
		`intake_claims_total`: 1,
		`intake_rate_limited_total{channel="web",scope="ip"}`:                1,
		`intake_rate_limited_total{channel="other",scope="other"}`:           1,
		`intake_flow_reloads_total{result="invalid"}`:                        1,
		`intake_flow_problems`:                                               4,
		`intake_cases_waiting`:                                               3,
		`intake_turn_duration_seconds_bucket{channel="telegram",le="0.001"}`: 0,
	}
	for series, w := range want {
		if got := value(t, page, series); got != w {
			t.Errorf("%s = %v, want %v", series, got, w)
		}
	}
	if age := value(t, page, "intake_case_oldest_waiting_seconds"); age < 90 {
		t.Errorf("oldest waiting %v s, want at least 90", age)
	}
	if strings.Contains(page, "918273645") || strings.Contains(page, "4242") {
		t.Errorf("a label value that is not a known word reached the page:\n%s", page)
	}

	m.Reloaded(metrics.ReloadPublished, 0)
	if got := value(t, scrape(t, m), "intake_flow_problems"); got != 0 {
		t.Errorf("after a published edit intake_flow_problems = %v, want 0", got)
	}
}

// TestQueueUnreadable: while Redis is away the queue gauges are left out of the scrape
// (not shown as an empty queue), the rest is served, and the store's error text is not.
func TestQueueUnreadable(t *testing.T) {
	m := metrics.New(queue{err: errors.New("dial tcp 10.1.2.3:6379: secret-host refused")})
	m.Claimed()
	rec := httptest.NewRecorder()
	m.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	page := rec.Body.String()
	if rec.Code != http.StatusOK || value(t, page, "intake_claims_total") != 1 {
		t.Fatalf("status %d; the other metrics must still be served:\n%s", rec.Code, page)
	}
	if value(t, page, "intake_cases_waiting") != -1 {
		t.Error("an unreadable queue is shown with a value")
	}
	if strings.Contains(page, "secret-host") {
		t.Error("the store's error text reached the page")
	}
}
