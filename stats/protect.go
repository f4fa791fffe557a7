package stats

import "slices"

// DefaultMinCell is the smallest count shown as it is. Five is the threshold most
// statistics offices use for published counts about people, and it suits the registry:
// a year has about a hundred reports from a community where colleagues and fellow
// students know each other, so "1 non-binary student from one faculty" can point at a
// person, while at five most of section 2 stays visible (a higher threshold would hide
// half of the categories).
const DefaultMinCell = 5

// State says how a cell is shown.
type State uint8

const (
	// Shown cells show their exact Value.
	Shown State = iota
	// Small cells are from 1 to MinCell-1; they show as "<MinCell".
	Small
	// Hidden cells are hidden so that a small cell cannot be recomputed; they show as "×".
	// A hidden percentage is also shown as "×".
	Hidden
	// Empty cells have nothing to show (no percentage in a count-only table, no previous
	// year); they show as blank.
	Empty
)

// protect decides which of counts can be shown when their total is known, with k the
// smallest count shown as it is (k <= 1: all). It returns the state of each cell, and
// false when no choice protects the small cells (the table is then withheld).
//
// A reader of the table knows: every shown count; that each "<k" cell is 1..k-1; that
// each "×" cell is at least k (else it would be "<k"); and so the sum of all hidden
// cells. A small cell is protected when these allow every value from 1 to k-1 for it, so
// the table tells no more about it than "<k". Cells are hidden greedily: the smallest
// shown cell that protects all small cells at once, or else the largest (which frees
// the most room) and try again. Tables have a dozen cells at most, so this is cheap.
func protect(counts []int, k int) ([]State, bool) {
	states := make([]State, len(counts))
	if k <= 1 {
		return states, true
	}
	for i, c := range counts {
		if c > 0 && c < k {
			states[i] = Small
		}
	}
	for !protected(counts, states, k) {
		var cands []int
		for i, c := range counts {
			if states[i] == Shown && c > 0 {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			return states, false
		}
		slices.SortStableFunc(cands, func(a, b int) int { return counts[a] - counts[b] })
		pick := cands[len(cands)-1]
		for _, i := range cands {
			states[i] = Hidden
			ok := protected(counts, states, k)
			states[i] = Shown
			if ok {
				pick = i
				break
			}
		}
		states[pick] = Hidden
	}
	return states, true
}

// protected reports whether every small cell can be anything from 1 to k-1 as far as the
// reader can tell (see protect).
func protected(counts []int, states []State, k int) bool {
	sum, small, hidden := 0, 0, 0
	for i, s := range states {
		switch s {
		case Small:
			small++
			sum += counts[i]
		case Hidden:
			hidden++
			sum += counts[i]
		}
	}
	if small == 0 {
		return true
	}
	// The least the other hidden cells can hold; the most is unbounded once a "×" cell
	// is among them, else (k-1) each.
	minOthers := (small-1)*1 + hidden*k
	if sum-minOthers < k-1 {
		return false // the cell cannot be as large as k-1
	}
	if hidden == 0 && sum-(small-1)*(k-1) > 1 {
		return false // the cell cannot be as small as 1
	}
	return true
}
