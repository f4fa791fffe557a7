package bot_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestNoTimeOfDayInStorage runs a case through its whole life (handoff, claim, messages
// both ways, an appointment, close, the retention purge) next to a registration, and after
// each stage reads everything in Redis: no key or clear value may hold a time finer than a
// day, neither as unix seconds or milliseconds near the test's clock or the server's, nor as
// an RFC 3339 time that is not midnight. While the case is open its exact times are kept
// sealed (the desk still counts waiting time to the minute); once closed, the case and its
// thread, unsealed with the test keys, hold days only.
func TestNoTimeOfDayInStorage(t *testing.T) {
	ctx := context.Background()
	loc := bot.DefaultOfficeHours().Loc
	today := time.Now().In(loc)
	// A Tuesday afternoon near the real clock, so ids or scores written from the server's
	// clock would also fall in the window the check looks at.
	now := time.Date(today.Year(), today.Month(), today.Day(), 14, 37, 21, 123456789, loc)
	for now.Weekday() != time.Tuesday {
		now = now.AddDate(0, 0, -1)
	}
	arrived := now
	clock := func() time.Time { return now }
	client, prefix := redistest.Client(t)
	store := redis.New(client, redis.Options{Prefix: prefix})
	keys := testKeys(t)
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Outbox: store,
		Accounts: store, Keys: keys, Now: clock}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	d := bot.NewDesk(bot.DeskConfig{Cases: store, Accounts: store, Outbox: store, Engine: e,
		Keys: keys, Now: clock, Audit: store})
	if err := d.AddAccount(ctx, "anna", bot.RoleCounsellor, bottest.Password("anna")); err != nil {
		t.Fatal(err)
	}
	anna := account(t, d, "anna")
	// A channel posts the announcements to its counsellor group and acknowledges them.
	notices := func() {
		anns, err := store.ReadAnnouncements(ctx, "telegram", "tg-1", 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range anns {
			if err := store.AckAnnouncement(ctx, "telegram", a.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(stage string) {
		t.Helper()
		for key, value := range redistest.Dump(t, client, prefix) {
			for _, bad := range finerThanADay(key+"\n"+value, loc, now, time.Now()) {
				t.Errorf("%s: %s holds %s", stage, key, bad)
			}
		}
	}

	s := newStudent(t, e, "en")
	code := handoff(t, s, "He follows me home after the lab.")
	notices()
	reg := newStudent(t, e, "en")
	reg.key += "-registration"
	toStory(t, reg)
	reg.say("Someone keeps leaving notes on my bike.")
	reg.tap("profile.no")
	reg.tap("outcome.registration")
	reg.tap("summary.confirm_register")
	regCode := reg.session().CaseCode

	// The metrics get the exact arrival from the desk, which opens the sealed clock.
	if n, oldest, err := d.PendingStats(ctx); err != nil || n != 1 || !oldest.Equal(arrived) {
		t.Errorf("desk pending stats: %d, %v, %v; want 1 case that arrived at %v", n, oldest, err, arrived)
	}

	now = now.Add(25 * time.Minute)
	pending, _, err := d.Queue(ctx, anna)
	if err != nil || len(pending) != 1 || pending[0].Waiting != 25*time.Minute {
		t.Fatalf("queue %+v, %v: the desk must count waiting time from the exact arrival", pending, err)
	}
	if err := d.Claim(ctx, anna, code); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, anna, code, "Thank you for telling us. Shall we talk?"); err != nil {
		t.Fatal(err)
	}
	s.inbox()
	now = now.Add(3*time.Minute + 7*time.Second)
	s.say("Yes, please.")
	slot := time.Date(now.Year(), now.Month(), now.Day()+2, 10, 15, 0, 0, loc)
	if err := d.Propose(ctx, anna, code, []bot.Slot{{Form: "teams", Start: slot, Minutes: 45}}); err != nil {
		t.Fatal(err)
	}
	var pick string
	for _, m := range s.inbox() {
		if len(m.Buttons) > 0 {
			pick = m.Buttons[0].Data
		}
	}
	s.send(bot.Inbound{Data: pick})
	check("open case with a booked appointment")

	// The exact times are there, sealed: the desk's calendar file has the appointment.
	if _, ics, err := d.ICS(ctx, anna, code); err != nil || !strings.Contains(string(ics), "DTSTART:"+slot.UTC().Format("20060102T150405Z")) {
		t.Fatalf("calendar file of the open case: %v\n%s", err, ics)
	}
	raw, err := store.GetCase(ctx, code)
	if err != nil || len(raw.Clock) == 0 {
		t.Fatalf("the open case has no sealed clock: %+v, %v", raw, err)
	}
	plain, err := keys.Open(raw.Clock, []byte("clock:"+code))
	if err != nil || !strings.Contains(string(plain), arrived.UTC().Format(time.RFC3339Nano)) {
		t.Fatalf("the sealed clock does not hold the arrival %v: %s, %v", arrived, plain, err)
	}

	now = now.Add(26 * time.Hour)
	if err := d.Close(ctx, anna, code, "advice", ""); err != nil {
		t.Fatal(err)
	}
	s.inbox()
	notices()
	check("closed case")
	closed, err := store.GetCase(ctx, code)
	if err != nil || closed == nil {
		t.Fatalf("closed case: %v", err)
	}
	if closed.Clock != nil || !closed.ClaimedAt.IsZero() || !closed.Announced.IsZero() || closed.Proposal != nil {
		t.Errorf("a closed case keeps its operational times: %+v", closed)
	}
	for what, at := range map[string]time.Time{"created": closed.Created, "closed": closed.ClosedAt, "appointment": closed.Booked.Start} {
		if !wholeDay(at, loc) {
			t.Errorf("closed case: %s is %v, not a day", what, at)
		}
	}
	entries, err := store.Entries(ctx, code)
	if err != nil || len(entries) < 5 {
		t.Fatalf("thread: %d entries, %v", len(entries), err)
	}
	clockTime := regexp.MustCompile(`\d{1,2}[:.]\d{2}`)
	for i, en := range entries {
		if !wholeDay(en.At, loc) {
			t.Errorf("thread entry %d (%s) is dated %v, not a day", i, en.Kind, en.At)
		}
		if len(en.Text) == 0 {
			continue
		}
		text, err := keys.Open(en.Text, []byte("thread:"+code))
		if err != nil {
			t.Fatalf("open thread entry %d: %v", i, err)
		}
		if clockTime.Match(text) {
			t.Errorf("thread entry %d (%s) holds a time of day: %q", i, en.Kind, text)
		}
	}
	if _, _, err := d.ICS(ctx, anna, code); err == nil {
		t.Error("a closed case still gives a calendar file, so it still knows the time")
	}

	now = now.Add(bot.DefaultRetention + 48*time.Hour)
	n, err := store.PurgeBefore(ctx, now.Add(-bot.DefaultRetention), 0)
	if err != nil || n != 2 {
		t.Fatalf("purge: %d cases, %v; want the closed case and the registration", n, err)
	}
	check("after the purge")
	if c, _ := store.GetCase(ctx, regCode); c == nil || !c.Purged || !wholeDay(c.Created, loc) {
		t.Errorf("registration after the purge: %+v", c)
	}
}

var (
	unixNumber = regexp.MustCompile(`\d{9,}`)
	rfc3339    = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
)

// finerThanADay lists what in s looks like a time finer than a day: unix seconds or
// milliseconds within two days of one of the given moments that are not the start of a
// day, and RFC 3339 times that are not midnight.
func finerThanADay(s string, loc *time.Location, near ...time.Time) []string {
	var bad []string
	for _, m := range unixNumber.FindAllString(s, -1) {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue
		}
		for _, at := range []time.Time{time.Unix(n, 0), time.UnixMilli(n)} {
			for _, ref := range near {
				if d := at.Sub(ref); d > -48*time.Hour && d < 48*time.Hour && !wholeDay(at, loc) {
					bad = append(bad, "the unix time "+m)
				}
			}
		}
	}
	for _, m := range rfc3339.FindAllString(s, -1) {
		if !strings.Contains(m, "T00:00:00") || strings.Contains(m, "T00:00:00.") {
			bad = append(bad, "the time "+m)
		}
	}
	return bad
}

// wholeDay reports whether t is the start of a day, in office time or in UTC.
func wholeDay(t time.Time, loc *time.Location) bool {
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	return !t.IsZero() && (midnight(t.In(loc)) || midnight(t.UTC()))
}

// TestStoredDayIsMidnight: the check above must be able to fail: it finds a time of day in
// a case as the store held it before days, and passes the same case cut to its day.
func TestStoredDayIsMidnight(t *testing.T) {
	loc := bot.DefaultOfficeHours().Loc
	at := time.Date(2025, 11, 4, 14, 37, 21, 0, loc)
	precise, _ := json.Marshal(bot.Case{Code: "ABCD-EFGH", Created: at, ClaimedAt: at.Add(time.Hour)})
	if bad := finerThanADay(string(precise)+" score "+strconv.FormatInt(at.UnixMilli(), 10), loc, at); len(bad) != 3 {
		t.Errorf("found %q in a case with times of day, want both times and the score", bad)
	}
	day, _ := json.Marshal(bot.Case{Code: "ABCD-EFGH", Created: bot.DefaultOfficeHours().Day(at)})
	if bad := finerThanADay(string(day), loc, at); len(bad) != 0 {
		t.Errorf("found %q in a case holding its day only", bad)
	}
}
