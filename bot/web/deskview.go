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

// The desk is English; these are its names for the coded answers of an intake. A value
// without a name (a newer script) shows as itself, readable enough.
var (
	fieldNames = map[string]string{
		"category": "Category", "sv_kind": "Kind of sexual violence", "aggression_kind": "Kind of aggression",
		"relation": "Relation", "reporter": "Reported by", "outcome": "Wished outcome",
		"contact": "Preferred contact", "faculty": "Faculty", "gender": "Gender",
		"when": "When it happened", "urgent": "Student asks for urgent help",
	}
	fieldOrder  = []string{"category", "sv_kind", "when", "aggression_kind", "relation", "reporter", "outcome", "contact", "urgent", "faculty", "gender"}
	valueLabels = map[string]map[string]string{
		"category": {
			"sexual_violence": "Sexual violence", "inappropriate": "Inappropriate behaviour",
			"unprofessional": "Unprofessional behaviour", "worrying": "Worrying behaviour",
			"unequal_treatment": "Unequal treatment", "intimidation": "Intimidation",
			"discrimination": "Discrimination", "bullying": "Bullying", "stalking": "Stalking",
			"aggression": "Aggression", "other": "Other",
		},
		"sv_kind":         {"physical": "physical", "verbal_online": "verbal or online"},
		"aggression_kind": {"verbal": "verbal", "physical": "physical", "psychological": "psychological"},
		"relation": {
			"student_student": "student – student", "student_staff": "student – staff",
			"student_citizen": "student – someone outside the university", "unknown": "not known",
		},
		"reporter": {
			"self": "the student themself", "third_student": "another student",
			"third_staff": "a staff member", "third_other": "someone else",
		},
		"outcome": {"registration": "Registration only", "advice": "Advice", "intervention": "Informal intervention"},
		"contact": {"chat": "Chat", "in_person": "In person", "teams": "Teams", "phone": "Phone"},
		"faculty": {
			"law": "Law", "sbe": "SBE", "fse": "FSE", "fhml": "FHML", "fasos": "FASoS",
			"fpn": "FPN", "unknown": "not said",
		},
		"gender": {"woman": "woman", "man": "man", "non_binary": "non-binary", "not_said": "not said"},
		"when":   {"recent": "in the last few days", "earlier": "longer ago", "not_said": "not said"},
		"urgent": {"yes": "yes", "no": "no"},
	}
	// urgentReasons name why a case is urgent: the rule that fired, never the words.
	urgentReasons = map[string]string{
		bot.UrgentCrisis:        "crisis words in a message",
		bot.UrgentUnsafe:        "student said they were not safe",
		bot.UrgentRecentSV:      "sexual violence in the last few days",
		bot.UrgentStudentAnswer: "student asked for urgent help",
	}
	languages     = map[string]string{"nl": "Dutch", "en": "English", "de": "German"}
	followUpNames = map[string]string{
		"registration": "Registration", "advice": "Advice", "intervention": "Informal intervention",
		"referral": "Referral", "guidance": "Guidance", "complaint": "Formal complaint", "other": "Other",
	}
)

func fieldValue(field string, fields map[string]string) string {
	v, ok := fields[field]
	if !ok || v == "" {
		return "—"
	}
	if l, ok := valueLabels[field][v]; ok {
		return l
	}
	return strings.ReplaceAll(v, "_", " ")
}

// category is the category with its sub-kind, if any.
func category(fields map[string]string) string {
	c := fieldValue("category", fields)
	for _, sub := range []string{"sv_kind", "aggression_kind"} {
		if _, ok := fields[sub]; ok {
			c += " (" + fieldValue(sub, fields) + ")"
		}
	}
	return c
}

func language(code string) string {
	if l, ok := languages[code]; ok {
		return l
	}
	return code
}

func followUpName(f string) string {
	if n, ok := followUpNames[f]; ok {
		return n
	}
	return f
}

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

// --- queue -----------------------------------------------------------------------------

type queueRow struct {
	Code, URL                                      string
	Category, Relation, Outcome, Contact, Language string
	Waiting                                        string
	Arrived                                        when
	Overdue                                        bool
	Urgent                                         string
}

// urgency is the reasons a case is urgent, in words; "" when it is not.
func urgency(reasons []string) string {
	var out []string
	for _, r := range reasons {
		if name, ok := urgentReasons[r]; ok {
			out = append(out, name)
		} else {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
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
				Category: category(it.Fields), Relation: fieldValue("relation", it.Fields),
				Outcome: fieldValue("outcome", it.Fields), Contact: fieldValue("contact", it.Fields),
				Language: language(it.Lang), Waiting: waiting(it.Waiting, day),
				Arrived: h.when(it.Created), Overdue: it.Overdue, Urgent: urgency(it.Urgent),
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
		Arrived: h.when(det.Created), Waiting: waiting(det.Waiting, h.d.Hours().WorkingDay()),
		Overdue: det.Overdue, Urgent: urgency(det.Urgent), Mine: det.Mine, Reachable: det.Reachable,
		Story: det.Story, FollowUp: followUpName(det.FollowUp), ReferredTo: det.ReferredTo,
		ClosedAt: h.when(det.ClosedAt), MaxText: bot.MaxThreadText,
	}
	for _, f := range fieldOrder {
		if _, ok := det.Fields[f]; ok || f == "category" || f == "relation" || f == "outcome" {
			v.Fields = append(v.Fields, fieldRow{fieldNames[f], fieldValue(f, det.Fields)})
		}
	}
	v.Fields = append(v.Fields, fieldRow{"Language", language(det.Lang)}, fieldRow{"Channel", det.Channel})

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
		v.FollowUps = append(v.FollowUps, choice{f, followUpName(f)})
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
	row := threadRow{At: h.when(e.At), Text: e.Text}
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
