package bot

import (
	"time"
	_ "time/tzdata" // office hours are in Europe/Amsterdam even on a host without zoneinfo
)

// OfficeHours are when counsellors work. Waiting times are counted in office time, so a
// case sent on Friday evening is not "overdue" on Monday at nine.
type OfficeHours struct {
	Loc   *time.Location
	Open  time.Duration // since midnight
	Close time.Duration
	// Days open, indexed by time.Weekday.
	Days [7]bool
	// Holidays are closed dates, "2006-01-02" in Loc.
	Holidays map[string]bool
}

// DefaultOfficeHours is Monday to Friday, 9:00 to 17:00, Europe/Amsterdam.
func DefaultOfficeHours() OfficeHours {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err) // embedded by time/tzdata: cannot fail
	}
	return OfficeHours{
		Loc: loc, Open: 9 * time.Hour, Close: 17 * time.Hour,
		Days: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true},
	}
}

// Day returns the start of t's day in office time, the zero time for the zero time. Times
// that are stored as a day are stored as this moment, so they read as midnight there.
func (h OfficeHours) Day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.In(h.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, h.Loc)
}

// WorkingDay is the office time of one full day.
func (h OfficeHours) WorkingDay() time.Duration { return h.Close - h.Open }

// openOn returns the office interval of the day of t, and whether it is a working day.
func (h OfficeHours) openOn(t time.Time) (time.Time, time.Time, bool) {
	t = t.In(h.Loc)
	y, m, d := t.Date()
	if !h.Days[t.Weekday()] || h.Holidays[t.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	// Built from the wall clock, not midnight plus hours: 9:00 stays 9:00 on the day the
	// clocks move.
	open := time.Date(y, m, d, int(h.Open.Hours()), int(h.Open.Minutes())%60, 0, 0, h.Loc)
	closing := time.Date(y, m, d, int(h.Close.Hours()), int(h.Close.Minutes())%60, 0, 0, h.Loc)
	return open, closing, true
}

// IsOpen reports whether t is within office hours.
func (h OfficeHours) IsOpen(t time.Time) bool {
	open, closing, ok := h.openOn(t)
	return ok && !t.Before(open) && t.Before(closing)
}

// NextOpen returns t itself when the office is open, else the next opening time.
func (h OfficeHours) NextOpen(t time.Time) time.Time {
	for day := 0; day < 366; day++ {
		open, closing, ok := h.openOn(t.AddDate(0, 0, day))
		if !ok {
			continue
		}
		if day == 0 && t.Before(closing) {
			if t.Before(open) {
				return open
			}
			return t
		}
		if day > 0 {
			return open
		}
	}
	return t // no working day within a year: misconfigured; say "now" rather than loop
}

// WorkingTime is the office time between from and to.
func (h OfficeHours) WorkingTime(from, to time.Time) time.Duration {
	var total time.Duration
	for day := from; !day.After(to.AddDate(0, 0, 1)); day = day.AddDate(0, 0, 1) {
		open, closing, ok := h.openOn(day)
		if !ok {
			continue
		}
		start, end := maxTime(open, from), minTime(closing, to)
		if end.After(start) {
			total += end.Sub(start)
		}
		if closing.After(to) {
			break
		}
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
