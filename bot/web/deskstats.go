package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"

	"intake/bot"
	"intake/locales"
	"intake/stats"
)

// Records reads a year's anonymous registry records (storage/redis's Store.Records).
type Records func(ctx context.Context, year int) ([]bot.Record, error)

// statsData is the statistics page: the report of one year against the year before, with
// the default small-count protection (a desk page is shared more easily than a file).
type statsData struct {
	Year, Compare int
	Years         []int
	Report        template.HTML
}

// statsPage shows section 2 of the annual report for a year. Every role may see it: it
// holds counts only, never a case.
func (h *deskHandler) statsPage(w http.ResponseWriter, r *http.Request, s *session) {
	year := h.now().Year()
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= year {
		year = y
	}
	recs, err := h.records(r.Context(), year)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	prev, err := h.records(r.Context(), year-1)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	rep := stats.Compute(year, recs, prev, stats.Options{CompareYear: year - 1})
	var b bytes.Buffer
	if err := stats.WriteHTMLFragment(&b, rep, h.labels); err != nil {
		h.internal(w, r, s, err)
		return
	}
	data := statsData{Year: year, Compare: year - 1, Report: template.HTML(b.String())} // stats escapes every label
	for y := h.now().Year(); y >= h.now().Year()-5; y-- {
		data.Years = append(data.Years, y)
	}
	h.render(w, r, http.StatusOK, "stats", page{Title: "Statistics " + strconv.Itoa(year), Account: s.acc, CSRF: s.csrf, Data: data})
}

// statsAssets builds the statistics labels (the desk is English) and their style sheet,
// served as a file because the desk's CSP allows no inline style.
func statsAssets() (*stats.Labels, asset) {
	cat, err := locales.Load(locales.Default)
	if err != nil {
		panic(err) // embedded: validated by the tests
	}
	labels, err := stats.NewLabels(cat, "en")
	if err != nil {
		panic(err)
	}
	body := []byte(stats.HTMLStyle)
	sum := sha256.Sum256(body)
	return labels, asset{name: "stats.css", ctype: "text/css; charset=utf-8", body: body, tag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}
