package main

import "testing"

// TestMaxCasesPerHourConfig: the cap on new cases is on by default, 0 turns it off, and a
// value that is not a number of cases stops the service with a message naming it.
func TestMaxCasesPerHourConfig(t *testing.T) {
	cases := []struct {
		env     string
		want    int
		refused bool
	}{
		{"", defaultMaxCasesPerHour, false},
		{"0", 0, false},
		{"5", 5, false},
		{"-1", 0, true},
		{"twenty", 0, true},
		{"2.5", 0, true},
	}
	for _, c := range cases {
		t.Setenv("INTAKE_MAX_CASES_PER_HOUR", c.env)
		cfg, err := loadConfig()
		switch {
		case c.refused && err == nil:
			t.Errorf("%q accepted as %d", c.env, cfg.maxCasesPerHour)
		case !c.refused && err != nil:
			t.Errorf("%q: %v", c.env, err)
		case !c.refused && cfg.maxCasesPerHour != c.want:
			t.Errorf("%q: cap %d, want %d", c.env, cfg.maxCasesPerHour, c.want)
		}
	}
}
