package bot

import (
	"fmt"
	"time"
)

var (
	dutchWeekdays = [7]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"}
	dutchMonths   = [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"}
)

// when writes a moment in office time the way a person would say it: "maandag 7 december
// om 9.00 uur", "Monday 7 December at 9:00".
func (e *Engine) when(lang string, t time.Time) string {
	t = t.In(e.cfg.Hours.Loc)
	if lang == "nl" {
		return fmt.Sprintf("%s %d %s om %d.%02d uur", dutchWeekdays[t.Weekday()], t.Day(), dutchMonths[t.Month()-1], t.Hour(), t.Minute())
	}
	return fmt.Sprintf("%s %d %s at %d:%02d", t.Weekday(), t.Day(), t.Month(), t.Hour(), t.Minute())
}
