package bot_test

import (
	"errors"
	"testing"

	"intake/bot"
)

// TestLeaseWatch: what a channel's readiness is built on — the last lease answer decides,
// and a failed call or an ended term means nobody knows.
func TestLeaseWatch(t *testing.T) {
	steps := []struct {
		name            string
		do              func(*bot.LeaseWatch)
		held, elsewhere bool
	}{
		{"nothing known at first", func(*bot.LeaseWatch) {}, false, false},
		{"taken", func(w *bot.LeaseWatch) { w.Record(true, nil) }, true, false},
		{"store unreachable", func(w *bot.LeaseWatch) { w.Record(false, errors.New("down")) }, false, false},
		{"another replica has it", func(w *bot.LeaseWatch) { w.Record(false, nil) }, false, true},
		{"taken again", func(w *bot.LeaseWatch) { w.Record(true, nil) }, true, false},
		{"term over", func(w *bot.LeaseWatch) { w.Forget() }, false, false},
	}
	var w bot.LeaseWatch
	for _, s := range steps {
		s.do(&w)
		if w.Held() != s.held || w.Elsewhere() != s.elsewhere {
			t.Errorf("%s: held %v elsewhere %v, want %v %v", s.name, w.Held(), w.Elsewhere(), s.held, s.elsewhere)
		}
	}
}
