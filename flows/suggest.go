package flows

import (
	"fmt"
	"strings"
)

// maxSuggestLen bounds the words compared, so a pathological file cannot make the
// quadratic distance computation slow; real names are far shorter.
const maxSuggestLen = 64

// didYouMean returns ` (did you mean "x"?)` when one of the candidates is a likely typing
// mistake for word, and "" otherwise. Most wrong names in a script are typos of a right
// one, and naming it saves the reader a search.
func didYouMean(word string, candidates []string) string {
	best := Closest(word, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Closest returns the candidate word most likely meant (a typing mistake: at most two
// edits away, and fewer edits than word has characters), or "" when there is none or word
// is itself a candidate.
func Closest(word string, candidates []string) string {
	if len(word) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", 3 // more than two edits away is a different word, not a typo
	for _, c := range candidates {
		if c == word {
			return ""
		}
		if len(c) > maxSuggestLen {
			continue
		}
		if d := editDistance(strings.ToLower(word), c); d < bestDist && d < len([]rune(word)) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in characters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
