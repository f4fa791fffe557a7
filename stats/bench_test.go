package stats

import (
	"io"
	"math/rand/v2"
	"testing"

	"intake/bot"
)

// syntheticYear returns n records of year with every field drawn at random, some left
// unanswered, and a mix of bot channels, registrations, open and closed handoffs.
func syntheticYear(year, n int) []bot.Record {
	rng := rand.New(rand.NewPCG(uint64(year), uint64(n)))
	pick := func(values []string) string {
		i := rng.IntN(len(values) + 1)
		if i == len(values) {
			return ""
		}
		return values[i]
	}
	channels := []string{"telegram", "discord", "web", "teams", "email"}
	recs := make([]bot.Record, n)
	for i := range recs {
		f := map[string]string{}
		for _, d := range []spec{specGender, specFaculty, specRelation, specCategory} {
			if v := pick(d.values); v != "" {
				f[d.v] = v
			}
		}
		if v := pick(dimReporter.values); v != "" {
			f["reporter"] = v
		}
		switch f["category"] {
		case "sexual_violence":
			f["sv_kind"] = pick(specSV.values)
		case "aggression":
			f["aggression_kind"] = pick(specAgg.values)
		}
		r := bot.Record{Year: year, Month: 1 + rng.IntN(12), Channel: channels[rng.IntN(len(channels))], Fields: f}
		switch rng.IntN(3) {
		case 0:
			r.Kind = bot.CaseRegistration
		case 1:
			r.Kind = bot.CaseHandoff
		default:
			r.Kind, r.FollowUp = bot.CaseHandoff, pick(bot.FollowUps)
		}
		recs[i] = r
	}
	return recs
}

// BenchmarkCompute counts and protects a year of 100,000 records with a comparison year
// of as many (requirement: well under a second).
func BenchmarkCompute(b *testing.B) {
	recs, prev := syntheticYear(2026, 100_000), syntheticYear(2025, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		Compute(2026, recs, prev, Options{})
	}
}

// BenchmarkReport is the whole report: compute, then Markdown, HTML and CSV.
func BenchmarkReport(b *testing.B) {
	recs, prev := syntheticYear(2026, 100_000), syntheticYear(2025, 100_000)
	l := labels(b, "nl")
	b.ReportAllocs()
	for b.Loop() {
		r := Compute(2026, recs, prev, Options{})
		for _, f := range Formats {
			if err := Write(io.Discard, r, l, f); err != nil {
				b.Fatal(err)
			}
		}
	}
}
