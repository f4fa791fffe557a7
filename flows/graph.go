package flows

import (
	"fmt"
	"strings"
)

// Graph draws a flow as text in the given format: "mermaid" (paste into any Mermaid
// viewer, or a Markdown file on GitHub) or "dot" (Graphviz). Each node shows its id and
// its action. Each button is an arrow labelled with its value, or with its label id when
// it has no value or shares it with another button of the node. An arrow taken at once
// (next without a question) is dotted, the arrow after typed text is labelled "text", and
// a correction's way back (return) is thick. The start node has its own shape, and a link
// to a node that does not exist ends in a box marked "missing", so the drawing helps find
// broken links too. The output depends only on the flow: one version always draws the same.
func Graph(f *Flow, format string) (string, error) {
	g := buildGraph(f)
	switch format {
	case "mermaid":
		return g.mermaid(f), nil
	case "dot":
		return g.dot(f), nil
	}
	return "", fmt.Errorf("unknown graph format %q: use mermaid or dot", format)
}

// edgeKind is what moves the conversation along an arrow.
type edgeKind int

const (
	edgeChoice edgeKind = iota // the student taps a button
	edgeText                   // the student types text (or skips it)
	edgeAuto                   // nothing: the node moves on at once
	edgeReturn                 // a correction goes back to where it started
)

type graphNode struct {
	label   string
	start   bool
	missing bool // linked to but not defined
}

type graphEdge struct {
	from, to int
	label    string
	kind     edgeKind
}

// graph is a flow reduced to boxes and arrows, drawn by each format in turn.
type graph struct {
	nodes []graphNode
	edges []graphEdge
}

// buildGraph lays out the flow in file order, so the same flow always draws the same.
func buildGraph(f *Flow) graph {
	var g graph
	index := map[string]int{}
	for _, id := range f.Order {
		n := f.Nodes[id]
		label := id
		if n.Do != "" {
			label += "\ndo: " + n.Do
		}
		index[id] = len(g.nodes)
		g.nodes = append(g.nodes, graphNode{label: label, start: id == f.Start})
	}
	// node returns the index of a box, adding a "missing" box for an unknown id.
	node := func(id string) int {
		if i, ok := index[id]; ok {
			return i
		}
		index[id] = len(g.nodes)
		g.nodes = append(g.nodes, graphNode{label: id + "\n(missing)", missing: true})
		return index[id]
	}

	returns := map[[2]int]bool{} // draw each way back once, however many buttons start it
	for _, id := range f.Order {
		n := f.Nodes[id]
		from := index[id]
		for _, o := range n.Options {
			next := o.Next
			if next == "" {
				next = n.Next
			}
			if next == "" {
				continue
			}
			to := node(next)
			label := optionLabel(n, o)
			g.edges = append(g.edges, graphEdge{from: from, to: to, label: label, kind: edgeChoice})
			if o.Return != "" {
				back := [2]int{to, node(o.Return)}
				if !returns[back] {
					returns[back] = true
					g.edges = append(g.edges, graphEdge{from: back[0], to: back[1], label: "return", kind: edgeReturn})
				}
			}
		}
		switch {
		case n.Next == "" || len(n.Options) > 0:
		case n.Input != "":
			g.edges = append(g.edges, graphEdge{from: from, to: node(n.Next), label: "text", kind: edgeText})
		default:
			g.edges = append(g.edges, graphEdge{from: from, to: node(n.Next), kind: edgeAuto})
		}
	}
	return g
}

// optionLabel names a button on its arrow: by its value, which is short, unless another
// button of the node has the same value (or it has none); then by its label id.
func optionLabel(n *Node, o *Option) string {
	if o.Value == "" {
		return o.Label.ID
	}
	for _, other := range n.Options {
		if other != o && other.Value == o.Value {
			return o.Label.ID
		}
	}
	return o.Value
}

// mermaid renders the graph as a Mermaid flowchart.
func (g graph) mermaid(f *Flow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%%%% flow %s, version %d (%s)\n", mermaidText(f.ID), f.Version, f.Hash)
	b.WriteString("flowchart TD\n")
	for i, n := range g.nodes {
		open, closing := "[", "]"
		if n.start {
			open, closing = "([", "])"
		}
		fmt.Fprintf(&b, "    n%d%s\"%s\"%s\n", i, open, mermaidText(n.label), closing)
	}
	for _, e := range g.edges {
		arrow := mermaidArrows[e.kind]
		if e.label == "" {
			fmt.Fprintf(&b, "    n%d %s n%d\n", e.from, arrow, e.to)
		} else {
			fmt.Fprintf(&b, "    n%d %s|\"%s\"| n%d\n", e.from, arrow, mermaidText(e.label), e.to)
		}
	}
	for i, n := range g.nodes {
		if n.missing {
			fmt.Fprintf(&b, "    style n%d stroke:#c00,stroke-dasharray:5 5\n", i)
		}
	}
	return b.String()
}

// mermaidArrows draws each kind of arrow: plain, dotted for moving on at once, thick for a
// correction's way back.
var mermaidArrows = map[edgeKind]string{edgeChoice: "-->", edgeText: "-->", edgeAuto: "-.->", edgeReturn: "==>"}

// mermaidText escapes text for a quoted Mermaid label: Mermaid reads #...; as a character
// code and gives quotes and angle brackets a meaning of their own.
func mermaidText(s string) string {
	return strings.NewReplacer(
		"#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", "<br/>", "\r", "",
	).Replace(s)
}

// dot renders the graph in Graphviz's dot language.
func (g graph) dot(f *Flow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// flow %s, version %d (%s)\n", dotText(f.ID), f.Version, f.Hash)
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(f.ID))
	b.WriteString("    node [shape=box, style=rounded];\n")
	for i, n := range g.nodes {
		attrs := "label=" + dotQuote(n.label)
		if n.start {
			attrs += ", peripheries=2"
		}
		if n.missing {
			attrs += `, style="rounded,dashed", color=red`
		}
		fmt.Fprintf(&b, "    n%d [%s];\n", i, attrs)
	}
	for _, e := range g.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		switch e.kind {
		case edgeAuto:
			attrs = append(attrs, "style=dashed")
		case edgeReturn:
			attrs = append(attrs, "style=bold", "color=blue")
		}
		if len(attrs) == 0 {
			fmt.Fprintf(&b, "    n%d -> n%d;\n", e.from, e.to)
		} else {
			fmt.Fprintf(&b, "    n%d -> n%d [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote returns s as a quoted dot string.
func dotQuote(s string) string { return `"` + dotText(s) + `"` }

// dotText escapes s for use inside a quoted dot string (or a comment line).
func dotText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "").Replace(s)
}
