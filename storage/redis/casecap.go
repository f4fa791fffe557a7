package redis

import (
	"strconv"
	"time"
)

// The cap on new cases keeps a flood of scripted reports from burying the real ones in the
// counsellors' queue and from growing the store without end. It is counted in Redis, so
// all replicas share one count, in a counter per clock hour (UTC) that createCaseScript
// reads and raises in the same call that stores the case: no extra round trip, and two
// replicas cannot both take the last place. A fixed window is the simplest count an
// operator can check ("at most N in each clock hour"); its price is that up to 2N may
// arrive in the minutes around the turn of an hour, which is still a bound.
//
// The counter holds a number and nothing else; it lives in the {case} slot with the case
// keys its script writes, and expires soon after its hour (caseCapTTL), so no count of
// past hours stays behind.

// caseCapWindow is the window of the cap; the counter's key names its number.
const caseCapWindow = time.Hour

// caseCapTTL keeps an hour's counter a little beyond its hour, so a replica whose clock
// runs somewhat behind still counts into the same one.
const caseCapTTL = 2 * caseCapWindow

// caseCap is the cap of one Store: at most max new cases per window, by now's clock.
type caseCap struct {
	max int
	now func() time.Time
}

func newCaseCap(o Options) caseCap {
	c := caseCap{max: max(o.MaxCasesPerHour, 0), now: o.Now}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// caseCapKey is the counter of the current window.
func (s *Store) caseCapKey() string {
	window := s.cases.now().Unix() / int64(caseCapWindow/time.Second)
	return s.prefix + "{case}:cap:" + strconv.FormatInt(window, 10)
}
