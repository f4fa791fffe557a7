package stats

import (
	"bufio"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown. With charts set it refers to the chart
// files WriteDir puts beside it (<table id>.svg); without, it has only the tables, as a
// Markdown stream cannot carry images.
func WriteMarkdown(w io.Writer, r Report, l *Labels, charts bool) error {
	if l == nil {
		return errNoLabels
	}
	v := newView(r, l)
	b := bufio.NewWriter(w)
	b.WriteString("# " + mdText(v.title) + "\n\n")
	for _, p := range v.intro {
		b.WriteString(mdText(p) + "\n\n")
	}
	for _, s := range v.sections {
		b.WriteString("## " + mdText(s.title) + "\n\n")
		for _, p := range s.lead {
			b.WriteString(mdText(p) + "\n\n")
		}
		for _, t := range s.tables {
			writeMDTable(b, t, v.k)
			if t.fig != nil && charts && !t.t.Withheld {
				b.WriteString("![" + mdText(t.fig.caption) + "](" + t.fig.file + ")\n\n")
				b.WriteString("*" + mdText(t.fig.caption) + "*\n\n")
			}
		}
	}
	return b.Flush()
}

func writeMDTable(b *bufio.Writer, t vtable, k int) {
	row := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	head := make([]string, len(t.head))
	align := make([]string, len(t.head))
	for i, h := range t.head {
		head[i] = mdText(h)
		align[i] = "--:"
	}
	align[0] = ":--"
	row(head)
	row(align)
	for _, r := range t.rows {
		label := mdText(r.label)
		if r.sub {
			label = "↳ " + label
		}
		cells := []string{label, countText(r.count, k)}
		if t.t.Percent {
			cells = append(cells, percentText(r.percent, false))
		}
		if t.t.Compare {
			cells = append(cells, percentText(r.compare, false))
		}
		for i := 1; i < len(cells); i++ {
			cells[i] = mdText(cells[i])
		}
		if r.total {
			for i, c := range cells {
				if c != "" {
					cells[i] = "**" + c + "**"
				}
			}
		}
		row(cells)
	}
	b.WriteString("\n")
	for _, n := range t.notes {
		b.WriteString(mdText(n) + "\n\n")
	}
}

// mdText escapes what Markdown would read as markup in a label or note from the locale
// files: table pipes, emphasis, links, code, and "<" or "&" that could open a tag or an
// entity. "<5" stays readable as it is.
func mdText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '|', '*', '_', '`', '[', ']':
			b.WriteByte('\\')
		case '<':
			if i+1 < len(s) && (isLetter(s[i+1]) || strings.IndexByte("/!?", s[i+1]) >= 0) {
				b.WriteByte('\\')
			}
		case '&':
			if i+1 < len(s) && (isLetter(s[i+1]) || s[i+1] == '#') {
				b.WriteByte('\\')
			}
		case '#':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '\n', '\r':
			c = ' '
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
