package stats

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The charts are hand-made SVG rather than gonum/plot: gonum/plot has no pie chart and
// fills bars with colours only, while these charts must read in black and white (hatch
// patterns, direct labels) and must leave hidden cells out, which is a few dozen lines
// of SVG here but wrapping and post-editing a plotting library's output there. Without
// a font library the text width is estimated (charW); the labels are short.

const (
	chartFont = `font-family="DejaVu Sans, Arial, Helvetica, sans-serif"`
	fontSize  = 13
	charW     = 7.4 // estimated width of an average character at fontSize, in px
	margin    = 16
)

// fills are the slice and bar fills, told apart without colour: greys of clearly
// different darkness alternate with black-on-white patterns. White is left for the
// hidden cells.
var fills = []string{"solid:#262626", "hatch", "solid:#8c8c8c", "dots", "solid:#d4d4d4", "cross", "lines"}

// svgDefs defines the patterns, with ids made unique by p (several charts share an HTML
// page).
func svgDefs(b *strings.Builder, p string) {
	fmt.Fprintf(b, `<defs>`+
		`<pattern id="%[1]s-hatch" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)"><rect width="7" height="7" fill="#fff"/><line x1="0" y1="0" x2="0" y2="7" stroke="#000" stroke-width="2.5"/></pattern>`+
		`<pattern id="%[1]s-dots" patternUnits="userSpaceOnUse" width="6" height="6"><rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="1.5" fill="#000"/></pattern>`+
		`<pattern id="%[1]s-cross" patternUnits="userSpaceOnUse" width="8" height="8"><rect width="8" height="8" fill="#fff"/><path d="M0 0L8 8M8 0L0 8" stroke="#000" stroke-width="1.2"/></pattern>`+
		`<pattern id="%[1]s-lines" patternUnits="userSpaceOnUse" width="6" height="6"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="3" x2="6" y2="3" stroke="#000" stroke-width="1.5"/></pattern>`+
		`</defs>`, p)
}

// fill returns the fill attribute value of fills[i].
func fill(p string, i int) string {
	f := fills[i%len(fills)]
	if c, ok := strings.CutPrefix(f, "solid:"); ok {
		return c
	}
	return "url(#" + p + "-" + f + ")"
}

// esc escapes text for SVG (XML) content and attributes.
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace

func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func textWidth(s string) float64 { return float64(len([]rune(s))) * charW }

// WriteSVG writes the chart of the table with id (TableFaculty, TableCategory or
// TableFollowUp) as a standalone SVG file.
func WriteSVG(w io.Writer, r Report, id string, l *Labels) error {
	if l == nil {
		return errNoLabels
	}
	t, ok := r.Table(id)
	if !ok || t.Chart == "" {
		return fmt.Errorf("stats: table %q has no chart", id)
	}
	_, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+chartSVG(r, t, l, "c-"+t.ID)+"\n")
	return err
}

// chartSVG draws the chart of t; p prefixes its ids.
func chartSVG(r Report, t Table, l *Labels, p string) string {
	title := l.text("fig."+t.ID) + " (" + strconv.Itoa(r.Year) + ")"
	if t.Chart == ChartPie {
		return pieSVG(t, l, p, title)
	}
	return barsSVG(r, t, l, p, title)
}

// svgOpen starts an svg element of the size with an accessible title.
func svgOpen(b *strings.Builder, w, h float64, p, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" role="img" aria-labelledby="%[3]s-title" %[4]s font-size="%[5]d">`,
		num(w), num(h), p, chartFont, fontSize)
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`, p, esc(title))
	svgDefs(b, p)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#fff"/>`)
	fmt.Fprintf(b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`, margin, esc(title))
}

// slice is one piece of the pie.
type slice struct {
	label  string
	value  int
	pct    string
	hidden bool // the hidden cells together, drawn white
}

func pieSVG(t Table, l *Labels, p, title string) string {
	var slices []slice
	for _, row := range t.Rows {
		if row.Count.State == Shown && row.Count.Value > 0 {
			slices = append(slices, slice{label: capital(l.Value(t.Var, row.Value)), value: row.Count.Value, pct: percentText(row.Percent, false)})
		}
	}
	// The hidden cells are one slice: its size is Base minus the shown cells anyway,
	// while a slice each would draw each hidden count.
	if t.HiddenSum > 0 {
		slices = append(slices, slice{label: "× (" + l.text("chart.hidden") + ")", value: t.HiddenSum, hidden: true})
	}
	const r = 130.0
	cx, cy := float64(margin)+r, 44+r
	legendX := cx + r + 36
	h := math.Max(cy+r+margin, 52+float64(len(slices))*26+margin)
	labelW := 0.0
	for _, s := range slices {
		labelW = math.Max(labelW, textWidth(s.label+" — "+s.pct))
	}
	w := math.Max(legendX+24+labelW+margin, textWidth(title)*15/fontSize+2*margin)
	var b strings.Builder
	svgOpen(&b, w, h, p, title)
	if t.Base == 0 || len(slices) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="60">%s</text></svg>`, margin, esc(l.text("chart.none")))
		return b.String()
	}
	angle := -math.Pi / 2
	for i, s := range slices {
		f := sliceFill(p, i, s)
		a := 2 * math.Pi * float64(s.value) / float64(t.Base)
		if len(slices) == 1 {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s" fill="%s" stroke="#000" stroke-width="1.5"/>`, num(cx), num(cy), num(r), f)
		} else {
			x0, y0 := cx+r*math.Cos(angle), cy+r*math.Sin(angle)
			x1, y1 := cx+r*math.Cos(angle+a), cy+r*math.Sin(angle+a)
			large := 0
			if a > math.Pi {
				large = 1
			}
			fmt.Fprintf(&b, `<path d="M%s %sL%s %sA%s %s 0 %d 1 %s %sZ" fill="%s" stroke="#000" stroke-width="1.5"/>`,
				num(cx), num(cy), num(x0), num(y0), num(r), num(r), large, num(x1), num(y1), f)
		}
		// The percentage in the slice, on a white box so it reads on any fill.
		if s.pct != "" && a >= 0.3 {
			mx, my := cx+0.68*r*math.Cos(angle+a/2), cy+0.68*r*math.Sin(angle+a/2)
			bw := textWidth(s.pct) + 8
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="18" rx="3" fill="#fff" stroke="#000" stroke-width="0.8"/>`,
				num(mx-bw/2), num(my-9), num(bw))
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(mx), num(my+4.5), esc(s.pct))
		}
		angle += a
	}
	// The legend names every slice with its percentage, so even a slice too thin for a
	// label inside is read directly.
	for i, s := range slices {
		y := 52 + float64(i)*26
		f := sliceFill(p, i, s)
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="18" height="18" fill="%s" stroke="#000" stroke-width="1.2"/>`, num(legendX), num(y), f)
		text := s.label
		if s.pct != "" {
			text += " — " + s.pct
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, num(legendX+26), num(y+14), esc(text))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func sliceFill(p string, i int, s slice) string {
	if s.hidden {
		return "#ffffff"
	}
	return fill(p, i)
}

func barsSVG(r Report, t Table, l *Labels, p, title string) string {
	series := 1
	if t.Compare {
		series = 2
	}
	const barH, barGap, groupGap = 16.0, 3.0, 12.0
	groupH := float64(series)*barH + float64(series-1)*barGap + groupGap
	labels := make([]string, len(t.Rows))
	labelW, maxPct := 0.0, 1
	for i, row := range t.Rows {
		labels[i] = capital(l.Value(t.Var, row.Value))
		labelW = math.Max(labelW, textWidth(labels[i]))
		for _, c := range []Cell{row.Percent, row.Compare} {
			if c.State == Shown {
				maxPct = max(maxPct, c.Value)
			}
		}
	}
	labelW = math.Min(labelW, 320) + 10
	const w = 720.0
	x0 := margin + labelW
	plotW := w - x0 - margin - 44
	top := 40.0
	if series == 2 {
		top = 62
	}
	h := top + float64(len(t.Rows))*groupH + margin
	var b strings.Builder
	svgOpen(&b, w, h, p, title)
	if series == 2 {
		// Legend: this year solid, the previous year hatched.
		lx := float64(margin)
		for s, year := range []int{r.Year, r.CompareYear} {
			f := "#262626"
			if s == 1 {
				f = fill(p, 1)
			}
			fmt.Fprintf(&b, `<rect x="%s" y="34" width="18" height="14" fill="%s" stroke="#000" stroke-width="1"/>`, num(lx), f)
			fmt.Fprintf(&b, `<text x="%s" y="46">%d</text>`, num(lx+24), year)
			lx += 90
		}
	}
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1"/>`, num(x0), num(top-4), num(x0), num(h-margin+2))
	for i, row := range t.Rows {
		y := top + float64(i)*groupH
		mid := y + (groupH-groupGap)/2
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(x0-8), num(mid+4.5), esc(labels[i]))
		cells := []Cell{row.Percent, row.Compare}
		for s := 0; s < series; s++ {
			c := cells[s]
			by := y + float64(s)*(barH+barGap)
			f := "#262626"
			if s == 1 {
				f = fill(p, 1)
			}
			text := percentText(c, false)
			bl := 0.0
			if c.State == Shown {
				bl = plotW * float64(c.Value) / float64(maxPct)
				if bl > 0 {
					fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#000" stroke-width="1"/>`,
						num(x0), num(by), num(bl), num(barH), f)
				}
			}
			if text == "" {
				continue
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, num(x0+bl+5), num(by+barH-3.5), esc(text))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
