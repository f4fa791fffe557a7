package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

const (
	S = Shown
	M = Small
	H = Hidden
)

func TestProtect(t *testing.T) {
	cases := []struct {
		counts []int
		k      int
		want   []State
		ok     bool
	}{
		{[]int{10, 20}, 5, []State{S, S}, true},
		{[]int{0, 0, 10}, 5, []State{S, S, S}, true},
		{[]int{1, 2, 3}, 1, []State{S, S, S}, true},
		{[]int{1, 2, 3}, 0, []State{S, S, S}, true},
		// One small cell: the total minus 10 and 20 would give it; hiding 10 leaves it
		// anything from 1 to 4 (the two add up to 11, and "×" is at least 5).
		{[]int{1, 10, 20}, 5, []State{M, H, S}, true},
		// Hiding the 5 would not do: 1+5 = 6 and "×" >= 5 tell the small one is 1.
		{[]int{1, 5, 20}, 5, []State{M, S, H}, true},
		// Three small cells adding up to 9 can each be 1 to 4: nothing more to hide.
		{[]int{3, 3, 3, 50}, 5, []State{M, M, M, S}, true},
		// Two small cells adding up to 8 must both be 4.
		{[]int{4, 4, 50}, 5, []State{M, M, H}, true},
		// ... and adding up to 2 must both be 1.
		{[]int{1, 1, 50, 60}, 5, []State{M, M, H, S}, true},
		// Adding up to 5 they can be 1+4, 2+3, ...: protected by each other.
		{[]int{1, 4, 50}, 5, []State{M, M, S}, true},
		// Too few to protect at all.
		{[]int{2}, 5, []State{M}, false},
		{[]int{2, 0, 0}, 5, []State{M, S, S}, false},
		{[]int{1, 3}, 5, []State{M, M}, false},
		// The gender of 2025 at the default threshold.
		{[]int{69, 31, 1, 3}, 5, []State{S, H, M, M}, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.counts, c.k), func(t *testing.T) {
			got, ok := protect(c.counts, c.k)
			if ok != c.ok || (ok && !slices.Equal(got, c.want)) {
				t.Errorf("protect = %v, %v; want %v, %v", got, ok, c.want, c.ok)
			}
			if ok {
				checkUnrecoverable(t, c.counts, got, c.k)
			}
		})
	}
}

// TestProtectRandom checks on many random tables, by enumerating everything a reader
// could take the hidden cells to be, that no small cell is narrowed below "1 to k-1";
// and that a withheld table could not have been protected by hiding more.
func TestProtectRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2025))
	for range 3000 {
		k := 2 + rng.IntN(5)
		counts := make([]int, 1+rng.IntN(6))
		for i := range counts {
			switch rng.IntN(3) {
			case 0:
				counts[i] = rng.IntN(k) // small or zero
			case 1:
				counts[i] = k + rng.IntN(4)
			default:
				counts[i] = rng.IntN(25)
			}
		}
		states, ok := protect(counts, k)
		if ok {
			checkUnrecoverable(t, counts, states, k)
			continue
		}
		all := make([]State, len(counts))
		for i, c := range counts {
			switch {
			case c > 0 && c < k:
				all[i] = Small
			case c > 0:
				all[i] = Hidden
			}
		}
		if protected(counts, all, k) {
			t.Errorf("%v (k=%d) withheld, but hiding every cell would protect it", counts, k)
		}
	}
}

// checkUnrecoverable enumerates the hidden cells a reader could imagine — small ones
// 1..k-1, "×" ones at least k, all adding up to the total minus the shown cells — and
// fails when some small cell cannot take every value from 1 to k-1.
func checkUnrecoverable(t *testing.T, counts []int, states []State, k int) {
	t.Helper()
	sum := 0
	var hidden []int
	for i, s := range states {
		switch s {
		case Small:
			if counts[i] < 1 || counts[i] >= k {
				t.Fatalf("%v: cell %d is marked small", counts, i)
			}
			fallthrough
		case Hidden:
			hidden = append(hidden, i)
			sum += counts[i]
		case Shown:
			if counts[i] > 0 && counts[i] < k {
				t.Fatalf("%v (k=%d): small cell %d is shown", counts, k, i)
			}
		}
	}
	possible := make([]map[int]bool, len(counts))
	for _, i := range hidden {
		possible[i] = map[int]bool{}
	}
	vals := make([]int, len(counts))
	var try func(j, left int)
	try = func(j, left int) {
		if j == len(hidden) {
			if left == 0 {
				for _, i := range hidden {
					possible[i][vals[i]] = true
				}
			}
			return
		}
		i := hidden[j]
		lo, hi := k, left
		if states[i] == Small {
			lo, hi = 1, min(k-1, left)
		}
		for v := lo; v <= hi; v++ {
			vals[i] = v
			try(j+1, left-v)
		}
	}
	try(0, sum)
	for _, i := range hidden {
		if states[i] != Small {
			continue
		}
		for v := 1; v < k; v++ {
			if !possible[i][v] {
				t.Errorf("%v (k=%d, states %v): a reader can tell small cell %d is not %d", counts, k, states, i, v)
				return
			}
		}
	}
}

func TestRoundingNotes(t *testing.T) {
	pct := spec{values: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}, percent: true}
	cases := []struct {
		counts []int
		k      int
		want   []RoundingNote
	}{
		{[]int{1, 1, 1}, 1, []RoundingNote{{Total: 99}}},
		{[]int{1, 2}, 1, nil},
		{[]int{1, 1, 1, 1, 1, 1}, 1, []RoundingNote{{Total: 102}}},
		{[]int{2, 2, 2, 1}, 1, []RoundingNote{{Total: 101}}},
		{[]int{25, 17, 16, 12, 9, 6, 5, 5, 3, 3, 3}, 1, []RoundingNote{{Total: 101}}},
		{[]int{50, 50}, 1, nil},
		{[]int{0, 0}, 1, nil},
		// 13 of 104 is 12.5 %: rounded half up, as the report does.
		{[]int{13, 91}, 1, []RoundingNote{{Total: 101}}},
		// With hidden cells the total is not said, whether or not it is 100.
		{[]int{1, 1, 1}, 2, []RoundingNote{{Total: 0}}},
		{[]int{30, 60, 4, 6}, 5, []RoundingNote{{Total: 0}}},
	}
	for _, c := range cases {
		s := pct
		s.values = s.values[:len(c.counts)]
		tab := build(s, append(slices.Clone(c.counts), 0), 0, c.k, nil)
		if !slices.Equal(tab.Rounding, c.want) {
			t.Errorf("%v (k=%d): rounding %+v, want %+v", c.counts, c.k, tab.Rounding, c.want)
		}
	}
}

// TestReportHoldsNoHiddenValue: a hidden cell's value is not in the Report at all, so no
// renderer (nor the desk's page later) can show it; nor does a sorted table's order
// depend on it.
func TestReportHoldsNoHiddenValue(t *testing.T) {
	recs, prev := fixture(t)
	r := Compute(2025, recs, prev, Options{}) // the default threshold
	if r.MinCell != DefaultMinCell {
		t.Fatalf("min cell %d, want the default %d", r.MinCell, DefaultMinCell)
	}
	hidden := 0
	var walk func(tab Table)
	walk = func(tab Table) {
		seenHidden := false
		for _, row := range tab.Rows {
			for _, c := range []Cell{row.Count, row.Percent, row.Compare} {
				if c.State != Shown && c.Value != 0 {
					t.Errorf("%s %s: hidden cell holds %d", tab.ID, row.Value, c.Value)
				}
			}
			if row.Count.State == Small || row.Count.State == Hidden {
				hidden++
				seenHidden = true
			} else if seenHidden && row.Value != "unknown" && (tab.ID == TableCategory || tab.ID == TableFaculty || tab.ID == TableRelation) {
				t.Errorf("%s: shown row %s after a hidden one", tab.ID, row.Value)
			}
			if row.Breakdown != nil {
				walk(*row.Breakdown)
			}
		}
	}
	for _, tab := range r.Tables {
		walk(tab)
	}
	// Gender (man, non-binary, not said), faculty (FASoS, FPN), category (three of 3).
	if hidden != 8 {
		t.Errorf("%d hidden cells, want 8", hidden)
	}
}

func TestMinCellOption(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, DefaultMinCell}, {1, 0}, {-3, 0}, {2, 2}, {10, 10}} {
		if got := (Options{MinCell: c.in}).minCell(); got != c.want {
			t.Errorf("MinCell %d: threshold %d, want %d", c.in, got, c.want)
		}
	}
}
