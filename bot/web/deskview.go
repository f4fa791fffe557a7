package web

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"intake/bot"
)

// waiting says an office-time duration in working days, hours and minutes.
func waiting(d, day time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	var parts []string
	if day > 0 && d >= day {
		n := int(d / day)
		parts = append(parts, plural(n, "working day", "working days"))
		d %= day
	}
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m := int(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	return strings.Join(parts, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// when is a moment as the desk shows it, in office time.
type when struct {
	Text string
	ISO  string
}

func (h *deskHandler) when(t time.Time) when {
	if t.IsZero() {
		return when{}
	}
	l := t.In(h.d.Hours().Loc)
	return when{Text: l.Format("Mon 2 Jan 2006, 15:04"), ISO: l.Format(time.RFC3339)}
}

// day is a stored day as the desk shows it: "today", or the date. Threads, closing dates
// and closed cases keep no time of day (SECURITY.md, "Times"), so the desk shows none.
func (h *deskHandler) day(t time.Time) when {
	if t.IsZero() {
		return when{}
	}
	loc := h.d.Hours().Loc
	l := t.In(loc)
	iso := l.Format(time.DateOnly)
	if iso == h.now().In(loc).Format(time.DateOnly) {
		return when{Text: "today", ISO: iso}
	}
	return when{Text: l.Format("Mon 2 Jan 2006"), ISO: iso}
}

// --- queue -----------------------------------------------------------------------------

type queueRow struct {
	Code, URL                                      string
	Category, Relation, Outcome, Contact, Language string
	Waiting                                        string
	Arrived                                        when
	Overdue                                        bool
	Urgent                                         string
}

type queueData struct {
	Pending, Mine []queueRow
}

func (h *deskHandler) queueView(pending, mine []bot.QueueItem) queueData {
	day := h.d.Hours().WorkingDay()
	rows := func(items []bot.QueueItem) []queueRow {
		// Urgent first, then oldest first.
		sort.SliceStable(items, func(i, j int) bool {
			ui, uj := len(items[i].Urgent) > 0, len(items[j].Urgent) > 0
			if ui != uj {
				return ui
			}
			return items[i].Created.Before(items[j].Created)
		})
		out := make([]queueRow, 0, len(items))
		for _, it := range items {
			out = append(out, queueRow{
				Code: it.Code, URL: casePath(it.Code),
				Category: bot.DeskCategory(it.Fields), Relation: bot.DeskValue("relation", it.Fields),
				Outcome: bot.DeskValue("outcome", it.Fields), Contact: bot.DeskValue("contact", it.Fields),
				Language: bot.DeskLanguage(it.Lang), Waiting: waiting(it.Waiting, day),
				Arrived: h.when(it.Created), Overdue: it.Overdue, Urgent: bot.DeskUrgency(it.Urgent),
			})
		}
		return out
	}
	return queueData{Pending: rows(pending), Mine: rows(mine)}
}

// --- case ------------------------------------------------------------------------------

type fieldRow struct{ Label, Value string }

type threadRow struct {
	Who   string
	Class string
	At    when
	Event string
	Text  string
}

type choice struct{ Value, Label string }

type slotForm struct {
	N                    int
	Form, Start, Minutes string
	First                bool
}

type caseData struct {
	Code, URL, ICS string
	Status         string
	Fields         []fieldRow
	Arrived        when
	Waiting        string
	Overdue        bool
	Urgent         string

	Mine      bool // claimed by the viewer, open or closed: content is shown
	Active    bool // claimed by the viewer and open: the forms are shown
	Claimable bool
	ClaimedBy string
	Reachable bool

	Story    string
	Thread   []threadRow
	Proposed []string
	Booked   string

	FollowUp   string
	ReferredTo string
	ClosedAt   when

	// Forms, with what the counsellor had typed after a refused form.
	Once        string
	Text        string
	MaxText     int
	Slots       []slotForm
	Forms       []choice
	FollowUps   []choice
	FollowUpSel string
	Referral    string
	MinStart    string
}

func (h *deskHandler) slotText(s bot.Slot) string {
	start := s.Start.In(h.d.Hours().Loc)
	end := start.Add(time.Duration(s.Minutes) * time.Minute)
	return fmt.Sprintf("%s–%s (%d min), %s", start.Format("Mon 2 Jan 2006, 15:04"), end.Format("15:04"), s.Minutes, bot.FormName(s.Form))
}

func (h *deskHandler) caseView(det *bot.CaseDetail, form url.Values) caseData {
	v := caseData{
		Code: det.Code, URL: casePath(det.Code), ICS: casePath(det.Code) + "/ics",
		Arrived: h.day(det.Created), Waiting: waiting(det.Waiting, h.d.Hours().WorkingDay()),
		Overdue: det.Overdue, Urgent: bot.DeskUrgency(det.Urgent), Mine: det.Mine, Reachable: det.Reachable,
		Story: det.Story, FollowUp: bot.DeskFollowUp(det.FollowUp), ReferredTo: det.ReferredTo,
		ClosedAt: h.day(det.ClosedAt), MaxText: bot.MaxThreadText,
	}
	open := det.Status == bot.StatusPending || det.Status == bot.StatusClaimed
	if open {
		v.Arrived = h.when(det.Created) // kept to the minute, sealed, while the case is open
	}
	for _, f := range bot.DeskFields {
		if _, ok := det.Fields[f]; ok || f == "category" || f == "relation" || f == "outcome" {
			v.Fields = append(v.Fields, fieldRow{bot.DeskFieldName(f), bot.DeskValue(f, det.Fields)})
		}
	}
	v.Fields = append(v.Fields, fieldRow{"Language", bot.DeskLanguage(det.Lang)}, fieldRow{"Channel", det.Channel})

	switch det.Status {
	case bot.StatusPending:
		v.Status, v.Claimable = "Waiting for a counsellor", true
	case bot.StatusClaimed:
		v.Status, v.ClaimedBy = "Claimed by "+det.Counsellor, det.Counsellor
		if det.Mine {
			v.Status, v.Active = "Claimed by you", true
		}
	case bot.StatusClosed:
		v.Status = "Closed"
	case bot.StatusWithdrawn:
		v.Status = "Withdrawn by the student"
	default:
		v.Status = det.Status
	}
	if !det.Mine {
		return v
	}
	for _, e := range det.Thread {
		v.Thread = append(v.Thread, h.threadRow(e))
	}
	if det.Proposal != nil {
		for _, s := range det.Proposal.Slots {
			v.Proposed = append(v.Proposed, h.slotText(s))
		}
	}
	if det.Booked != nil {
		v.Booked = h.slotText(*det.Booked)
		if !open {
			// A closed case keeps only the day of its appointment.
			v.Booked = fmt.Sprintf("%s, %s", h.day(det.Booked.Start).Text, bot.FormName(det.Booked.Form))
		}
	}
	if !v.Active {
		return v
	}
	v.Once = newNonce()
	v.MinStart = h.now().In(h.d.Hours().Loc).Format("2006-01-02T15:04")
	for _, f := range bot.AppointmentForms {
		v.Forms = append(v.Forms, choice{f, bot.FormName(f)})
	}
	for _, f := range bot.FollowUps {
		v.FollowUps = append(v.FollowUps, choice{f, bot.DeskFollowUp(f)})
	}
	for i := 1; i <= 3; i++ {
		n := strconv.Itoa(i)
		s := slotForm{N: i, First: i == 1, Minutes: "45"}
		if form != nil {
			s.Form, s.Start = form.Get("form"+n), form.Get("start"+n)
			if m := form.Get("minutes" + n); m != "" {
				s.Minutes = m
			}
		}
		v.Slots = append(v.Slots, s)
	}
	if form != nil {
		v.Text, v.FollowUpSel, v.Referral = form.Get("text"), form.Get("followup"), form.Get("referral")
	}
	return v
}

func (h *deskHandler) threadRow(e bot.ThreadItem) threadRow {
	row := threadRow{At: h.day(e.At), Text: e.Text}
	switch e.From {
	case bot.FromStudent:
		row.Who, row.Class = "Student", "student"
	case bot.FromCounsellor:
		row.Who, row.Class = "Counsellor", "counsellor"
	default:
		row.Who, row.Class = "Desk", "event"
	}
	switch e.Kind {
	case bot.EntryMessage:
	case bot.EntryProposal:
		row.Event = "Proposed times:"
	case bot.EntryBooked:
		row.Event = "The student booked a time."
	case bot.EntryDeclined:
		row.Event = "The student asked for other times."
	case bot.EntryClaimed:
		row.Event = "A counsellor claimed the case."
	case bot.EntryReleased:
		row.Event = "The case went back to the queue."
	case bot.EntryClosed:
		row.Event = "The case was closed."
	default:
		row.Event = e.Kind
	}
	if e.Kind != bot.EntryMessage && row.Class != "event" {
		row.Class += " event"
	}
	return row
}
