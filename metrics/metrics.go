// Package metrics counts what operators watch and serves it to Prometheus: turns and their
// latency per channel, deliveries, claims, rate-limit hits, flow reloads, and the case queue
// (how many cases wait for a counsellor and how long the oldest has waited).
//
// Privacy: a label value is a channel name or a fixed word of this package, never an id, a
// key, a case code or text. Values that are not on the package's short lists are counted
// as "other", so a caller passing the wrong string cannot leak it into a scrape.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Channels are the channel label values; anything else is "other".
var Channels = []string{"telegram", "discord", "web", "console"}

// Scopes are the rate-limit scope label values; anything else is "other".
var Scopes = []string{"conversation", "ip", "cases", "global"}

// Reload results, the values of the result label of intake_flow_reloads_total.
const (
	ReloadPublished = "published" // the edit went live
	ReloadInvalid   = "invalid"   // validation found problems; the running version stays
	ReloadFailed    = "failed"    // unreadable files or the store refused; the running version stays
)

// other stands for any label value that is not on a list.
const other = "other"

// queueTimeout bounds the store read a scrape makes for the queue gauges.
const queueTimeout = 2 * time.Second

// Queue is what the queue gauges read at scrape time.
type Queue interface {
	// PendingStats says how many cases wait for a counsellor and when the oldest of them
	// arrived (the zero time when none waits).
	PendingStats(ctx context.Context) (waiting int, oldest time.Time, err error)
}

// QueueFunc is a Queue made of a function, for a queue that is wired after the metrics
// (the desk needs the engine, which needs the metrics).
type QueueFunc func(ctx context.Context) (waiting int, oldest time.Time, err error)

// PendingStats calls f.
func (f QueueFunc) PendingStats(ctx context.Context) (int, time.Time, error) { return f(ctx) }

// Metrics is the service's set of metrics with its own registry (nothing registers on the
// global one). It implements bot.Meter.
type Metrics struct {
	reg         *prometheus.Registry
	turns       *prometheus.CounterVec
	turnSeconds *prometheus.HistogramVec
	deliveries  *prometheus.CounterVec
	limited     *prometheus.CounterVec
	claims      prometheus.Counter
	reloads     *prometheus.CounterVec
	problems    prometheus.Gauge
}

// New returns the metrics, with the queue gauges read from q at each scrape (q may be nil:
// no queue gauges) and the Go runtime and process collectors.
func New(q Queue) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_turns_total",
			Help: "Conversation turns handled, by channel and result (ok or failed).",
		}, []string{"channel", "result"}),
		turnSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "intake_turn_duration_seconds",
			Help:    "Time to handle one turn (lock, load, step, save), by channel.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_deliveries_total",
			Help: "Messages from the desk delivered to students, by channel and result (ok or failed).",
		}, []string{"channel", "result"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_rate_limited_total",
			Help: "Messages or requests refused by a rate limit, by channel and scope.",
		}, []string{"channel", "scope"}),
		claims: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "intake_claims_total",
			Help: "Cases claimed by a counsellor.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_flow_reloads_total",
			Help: "Attempts to publish edited flows, by result: published, invalid (validation failed), failed.",
		}, []string{"result"}),
		problems: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "intake_flow_problems",
			Help: "Problems found in the last edit of the flows (0 once an edit is published).",
		}),
	}
	m.reg.MustRegister(m.turns, m.turnSeconds, m.deliveries, m.limited, m.claims, m.reloads, m.problems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.reg.MustRegister(queueCollector{q: q})
	}
	// Every series exists from the start, at zero, so rates and alerts work before the first
	// event.
	for _, ch := range append(slices.Clone(Channels), other) {
		for _, r := range []string{"ok", "failed"} {
			m.turns.WithLabelValues(ch, r)
			m.deliveries.WithLabelValues(ch, r)
		}
	}
	for _, r := range []string{ReloadPublished, ReloadInvalid, ReloadFailed} {
		m.reloads.WithLabelValues(r)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format. A collector that fails (the
// queue when Redis is away) is left out of that scrape and logged; the rest is served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      errorLog{log},
		Registry:      m.reg, // counts its own scrapes and errors (promhttp_*)
	})
}

// Turn counts one engine turn on channel.
func (m *Metrics) Turn(channel string, took time.Duration, failed bool) {
	ch := word(channel, Channels)
	m.turns.WithLabelValues(ch, result(failed)).Inc()
	m.turnSeconds.WithLabelValues(ch).Observe(took.Seconds())
}

// Limited counts one message or request refused by a rate limit.
func (m *Metrics) Limited(channel, scope string) {
	m.limited.WithLabelValues(word(channel, Channels), word(scope, Scopes)).Inc()
}

// Claimed counts one case claimed by a counsellor.
func (m *Metrics) Claimed() { m.claims.Inc() }

// Delivered counts one outbox message sent (or not) to a student on channel.
func (m *Metrics) Delivered(channel string, failed bool) {
	m.deliveries.WithLabelValues(word(channel, Channels), result(failed)).Inc()
}

// Reloaded counts one attempt to publish edited flows: result is ReloadPublished,
// ReloadInvalid or ReloadFailed; problems is how many validation found.
func (m *Metrics) Reloaded(result string, problems int) {
	m.reloads.WithLabelValues(word(result, []string{ReloadPublished, ReloadInvalid, ReloadFailed})).Inc()
	if result != ReloadFailed {
		m.problems.Set(float64(problems))
	}
}

func result(failed bool) string {
	if failed {
		return "failed"
	}
	return "ok"
}

// word returns v when it is one of allowed, else "other".
func word(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return other
}

// queueCollector reads the case queue at scrape time: one cheap store call (a count and
// the oldest entry), not a gauge kept up to date by every desk action on every replica.
type queueCollector struct{ q Queue }

var (
	waitingDesc = prometheus.NewDesc("intake_cases_waiting",
		"Cases waiting for a counsellor to claim them.", nil, nil)
	oldestDesc = prometheus.NewDesc("intake_case_oldest_waiting_seconds",
		"How long the oldest unclaimed case has waited (0 when none waits).", nil, nil)
)

// errQueueUnreadable is what a scrape reports when the store does not answer; the store's
// own error stays out of it.
var errQueueUnreadable = errors.New("case queue unreadable (is redis reachable?)")

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- oldestDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueTimeout)
	defer cancel()
	n, oldest, err := c.q.PendingStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(waitingDesc, errQueueUnreadable)
		return
	}
	age := 0.0
	if n > 0 && !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}

// errorLog passes promhttp's errors to the service log.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }
