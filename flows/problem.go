package flows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a script or a test file, at the place an editor shows.
type Problem struct {
	Pos Pos
	Msg string
}

// String renders the problem as "file:line:col: message", the form editors and terminals
// turn into a link. A problem about a whole file (one that could not be read) has no line
// and renders as "file: message"; one about the whole folder has no file either.
func (p Problem) String() string {
	if p.Pos.File == "" {
		return p.Msg
	}
	return p.Pos.String() + ": " + p.Msg
}

// Problems is every problem found, so the support officer can fix them all in one go
// instead of one per run.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there are no problems. Returning a nil Problems
// as an error directly would give a non-nil error interface.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Sort orders the problems by file, line and column, the order a reader fixes them in.
// Problems at the same place keep a stable order by message, so output never flickers.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}

// add records a problem; the message is built like fmt.Sprintf.
func (ps *Problems) add(pos Pos, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}
