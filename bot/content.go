package bot

import (
	"fmt"

	"intake/flows"
	"intake/locales"
)

// Content is one published set of scripts and texts. It is immutable: a reload builds a new
// Content and the engine swaps it in whole, so a turn never sees half of an edit.
type Content struct {
	Flows   map[string]*flows.Flow
	Catalog *locales.Catalog
	// Crisis holds the crisis phrases and the 24/7 numbers; nil screens nothing.
	Crisis *flows.Crisis
}

// NewContent checks every flow against the catalog and the engine's own message ids, and
// returns the problems instead of a Content when anything is wrong: an invalid script never
// goes live.
func NewContent(fl []*flows.Flow, cat *locales.Catalog) (*Content, flows.Problems) {
	var problems flows.Problems
	c := &Content{Flows: map[string]*flows.Flow{}, Catalog: cat}
	for _, f := range fl {
		problems = append(problems, flows.Validate(f, cat.IDs())...)
		c.Flows[f.ID] = f
	}
	for _, lang := range locales.Full {
		for _, id := range EngineMessages {
			if !cat.Has(lang, id) {
				problems = append(problems, flows.Problem{
					Pos: flows.Pos{File: lang + ".toml", Line: 1, Col: 1},
					Msg: fmt.Sprintf("message id %q is missing in locale %s (the bot itself needs it; add it to locales/%s.toml)", id, lang, lang),
				})
			}
		}
	}
	for _, v := range flows.Schema {
		if v.Text {
			continue
		}
		for _, val := range v.Values {
			id := valueID(v.Name, val)
			for _, lang := range locales.Full {
				if !cat.Has(lang, id) {
					problems = append(problems, flows.Problem{
						Pos: flows.Pos{File: lang + ".toml", Line: 1, Col: 1},
						Msg: fmt.Sprintf("message id %q is missing in locale %s (the summary shows it; add it to locales/%s.toml)", id, lang, lang),
					})
				}
			}
		}
	}
	if len(problems) > 0 {
		problems.Sort()
		return nil, problems
	}
	return c, nil
}

// EngineMessages are the ids the engine itself renders, outside any script.
var EngineMessages = []string{
	msgLanguageChoose, msgLanguageSet, msgHelp, msgHelpButton, msgHelpPick, msgHelpBack,
	msgChoose, msgStale, msgUnknownCommand, msgEmpty, msgTooLong, msgInvalidText,
	msgBackStart, msgBackDone, msgStopped, msgForgotten, msgUrgent, msgEnded,
	msgFlowChanged, msgError, msgValueNone,
	msgCaseClaimed, msgCaseFromCounsellor, msgCaseProposal, msgCaseSlotNone, msgCaseBooked,
	msgCaseDeclined, msgCaseClosed, msgCaseSent, msgCaseNone, msgCaseShow, msgCaseStale,
	msgCaseBackToMenu, msgCaseThreadStudent, msgCaseThreadCounsellor,
	msgCrisis, msgCrisisSafe, msgCrisisUnsafe, msgCrisisGlad, msgCrisisCall, msgCrisisCallNoCase, msgUrgentButton,
	msgReceiptWrong, msgReceiptWait, MsgTextOnly, MsgSlowDown, msgCasesBusy, msgCasesBusyRetry,
	MsgPrivacy, msgDay, msgDays, msgHour, msgHours, msgMinute, msgMinutes,
	"form.in_person_ssc", "form.in_person_phs", "form.teams", "form.phone",
}

const (
	msgLanguageChoose = "engine.language.choose"
	msgLanguageSet    = "engine.language.set"
	msgHelp           = "engine.help"
	msgHelpButton     = "engine.help.button"
	msgHelpPick       = "engine.help.pick"
	msgHelpBack       = "engine.help.back"
	msgChoose         = "engine.choose"
	msgStale          = "engine.stale"
	msgUnknownCommand = "engine.unknown_command"
	msgEmpty          = "engine.empty"
	msgTooLong        = "engine.too_long"
	msgInvalidText    = "engine.invalid_text"
	msgBackStart      = "engine.back.start"
	msgBackDone       = "engine.back.done"
	msgStopped        = "engine.stopped"
	msgForgotten      = "engine.forgotten"
	msgUrgent         = "engine.urgent"
	msgEnded          = "engine.ended"
	msgFlowChanged    = "engine.flow_changed"
	msgError          = "engine.error"
	msgValueNone      = "value.none"

	msgCaseClaimed          = "case.claimed"
	msgCaseFromCounsellor   = "case.from_counsellor"
	msgCaseProposal         = "case.proposal"
	msgCaseSlotNone         = "case.slot_none"
	msgCaseBooked           = "case.booked"
	msgCaseDeclined         = "case.declined"
	msgCaseClosed           = "case.closed"
	msgCaseSent             = "case.sent"
	msgCaseNone             = "case.none"
	msgCaseShow             = "case.show"
	msgCaseStale            = "case.stale"
	msgCaseBackToMenu       = "case.back_to_menu"
	msgCaseThreadStudent    = "case.thread.student"
	msgCaseThreadCounsellor = "case.thread.counsellor"

	msgCrisis       = "crisis.reply"
	msgCrisisSafe   = "crisis.safe"
	msgCrisisUnsafe = "crisis.unsafe"
	msgCrisisGlad   = "crisis.glad"
	msgCrisisCall   = "crisis.call"
	// msgCrisisCallNoCase is msgCrisisCall before the student sent a report: nobody on
	// the team sees the conversation yet, and the student must not think otherwise.
	msgCrisisCallNoCase = "crisis.call_no_case"
	msgUrgentButton     = "engine.urgent.button"

	// MsgTextOnly is what channels answer to photos, files and voice messages.
	MsgTextOnly     = "channel.text_only"
	msgReceiptWrong = "receipt.wrong"
	msgReceiptWait  = "receipt.wait"
)

func valueID(variable, value string) string { return "value." + variable + "." + value }
