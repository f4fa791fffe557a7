package bot

import (
	"time"

	"intake/locales"
)

// How long things are kept unless configured otherwise. The session store and the purge
// use the same defaults; the privacy text states whatever the engine is configured with.
const (
	DefaultSessionTTL = 24 * time.Hour
	DefaultRetention  = 90 * 24 * time.Hour
)

// MsgPrivacy is the privacy text: what is kept about a student and what is not, who can
// read it and for how long. The flow shows it from the menu, the web chat on its privacy
// page, and a student we only greet (German) reads it with the greeting.
const MsgPrivacy = "privacy.stored"

// Duration words, filled with the number as n.
const (
	msgDay     = "duration.day"
	msgDays    = "duration.days"
	msgHour    = "duration.hour"
	msgHours   = "duration.hours"
	msgMinute  = "duration.minute"
	msgMinutes = "duration.minutes"
)

// PrivacyData is the template data of the privacy text in lang: the configured session
// lifetime and retention time in words ("24 hours", "90 dagen").
func (e *Engine) PrivacyData(lang string) map[string]any {
	return map[string]any{
		"session_ttl": e.span(lang, e.cfg.SessionTTL),
		"retention":   e.span(lang, e.cfg.Retention),
	}
}

// span says d in lang in whole days from two days on, else in whole hours, else in
// minutes (rounded up: a text may say a little more than is kept, never less). A day is
// said as "24 hours": a student reads that as exact, "1 day" as vague.
func (e *Engine) span(lang string, d time.Duration) string {
	one, many, unit := msgMinute, msgMinutes, time.Minute
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		one, many, unit = msgDay, msgDays, 24*time.Hour
	case d >= time.Hour && d%time.Hour == 0:
		one, many, unit = msgHour, msgHours, time.Hour
	}
	n := int64((d + unit - 1) / unit)
	id := many
	if n == 1 {
		id = one
	}
	s, err := e.Content().Catalog.Text(lang, id, map[string]any{"n": n})
	if err != nil {
		// Only a language without duration words gets here; the validator makes sure the
		// full ones have them.
		return d.String()
	}
	return s
}

// privacyFirst puts the privacy text, in the greeting's own language, between a greeting
// we only have in that language (German) and its language buttons, so the student knows
// what is kept before anything is.
func (t *turn) privacyFirst() {
	lang := t.lang()
	if locales.IsFull(lang) || !t.cat.Has(lang, MsgPrivacy) || len(t.out) == 0 {
		return
	}
	last := &t.out[len(t.out)-1]
	buttons := last.Buttons
	last.Buttons = nil
	t.say(MsgPrivacy, t.e.PrivacyData(lang))
	t.attach(buttons)
}
