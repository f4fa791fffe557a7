package stats

import (
	"html/template"
	"io"
)

// htmlTable is a table ready for the page template.
type htmlTable struct {
	Head    []string
	Rows    []htmlRow
	Notes   []string
	Chart   template.HTML // inline SVG, built with every text escaped (see esc)
	Caption string
	// HasPercent and HasCompare say which columns the rows have.
	HasPercent, HasCompare bool
}

type htmlRow struct {
	Label, Count, Percent, Compare string
	Sub, Total                     bool
}

type htmlSection struct {
	Title  string
	Lead   []string
	Tables []htmlTable
}

type htmlPage struct {
	Lang, Title string
	Intro       []string
	Sections    []htmlSection
}

// htmlStyle keeps the page readable on screen and on paper: no colour carries meaning.
const htmlStyle = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#000;background:#fff;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;margin:1rem 0;min-width:24rem}
th,td{border-bottom:1px solid #777;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #000}
tr.sub td:first-child{padding-left:1.6rem}
tr.total td{font-weight:bold;border-top:2px solid #000}
figure{margin:1rem 0 2rem}
figure svg{max-width:100%;height:auto}
figcaption{font-style:italic}
p.note{font-size:.92rem}
@media print{body{margin:0}figure{break-inside:avoid}}
`

var pageTemplate = template.Must(template.New("page").Parse(`{{define "body"}}<article class="intake-stats">
<h1>{{.Title}}</h1>
{{range .Intro}}<p>{{.}}</p>
{{end}}{{range .Sections}}<section>
<h2>{{.Title}}</h2>
{{range .Lead}}<p>{{.}}</p>
{{end}}{{range $t := .Tables}}<table>
<thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Sub}} class="sub"{{end}}{{if .Total}} class="total"{{end}}><td>{{.Label}}</td><td>{{.Count}}</td>{{if $t.HasPercent}}<td>{{.Percent}}</td>{{end}}{{if $t.HasCompare}}<td>{{.Compare}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{if .Chart}}<figure>
{{.Chart}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}{{end}}</section>
{{end}}</article>{{end}}`))

// The whole page wraps the fragment; parsed into the same set so it can call "body".
var _ = template.Must(pageTemplate.New("page-doc").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + htmlStyle + `</style>
</head>
<body>
{{template "body" .}}
</body>
</html>
`))

func newHTMLPage(r Report, l *Labels) htmlPage {
	v := newView(r, l)
	page := htmlPage{Lang: v.lang, Title: v.title, Intro: v.intro}
	for _, s := range v.sections {
		hs := htmlSection{Title: s.title, Lead: s.lead}
		for _, t := range s.tables {
			ht := htmlTable{Head: t.head, Notes: t.notes, HasPercent: t.t.Percent, HasCompare: t.t.Compare}
			for _, row := range t.rows {
				hr := htmlRow{Label: row.label, Count: countText(row.count, v.k), Sub: row.sub, Total: row.total}
				if t.t.Percent {
					hr.Percent = percentText(row.percent, false)
				}
				if t.t.Compare {
					hr.Compare = percentText(row.compare, false)
				}
				ht.Rows = append(ht.Rows, hr)
			}
			if t.fig != nil && !t.t.Withheld {
				ht.Chart = template.HTML(chartSVG(r, t.t, l, "c-"+t.t.ID))
				ht.Caption = t.fig.caption
			}
			hs.Tables = append(hs.Tables, ht)
		}
		page.Sections = append(page.Sections, hs)
	}
	return page
}

// WriteHTML writes the report as one self-contained HTML page: styles inline, charts as
// inline SVG, nothing loaded from elsewhere (its Content-Security-Policy forbids it).
func WriteHTML(w io.Writer, r Report, l *Labels) error {
	if l == nil {
		return errNoLabels
	}
	return pageTemplate.ExecuteTemplate(w, "page-doc", newHTMLPage(r, l))
}

// WriteHTMLFragment writes the report as an <article> to put into a page of one's own
// (the desk); HTMLStyle is its style sheet.
func WriteHTMLFragment(w io.Writer, r Report, l *Labels) error {
	if l == nil {
		return errNoLabels
	}
	return pageTemplate.ExecuteTemplate(w, "body", newHTMLPage(r, l))
}

// HTMLStyle is the CSS WriteHTML puts in its page, for a page that embeds the fragment.
const HTMLStyle = htmlStyle
