package bot

import "errors"

// ErrTooManyCases means the case store took in as many new cases as it may this hour (the
// cap on new cases, INTAKE_MAX_CASES_PER_HOUR); nothing was stored. The turn keeps the
// student's answers and asks them to try again a little later.
var ErrTooManyCases = errors.New("too many new cases this hour")

// Messages of the cap on new cases.
const (
	msgCasesBusy      = "engine.cases_busy"
	msgCasesBusyRetry = "engine.cases_busy.retry"
)

// The cap applies to urgent cases too. Whether a case is urgent is decided by what the
// student typed or tapped (crisis words, "it happened in the last days", "yes, it's
// urgent"), so an attacker flooding the queue would simply mark every report urgent, and
// a cap that urgent reports pass would cap nothing. What a student in danger needs at that
// moment is help, not a place in a queue no counsellor reads before morning: the refusal
// itself carries the 24/7 numbers, and their report is kept to send a little later.

// casesBusy answers an action the store refused under the cap: the conversation waits at
// the action's node with every answer kept, and its button runs the action again. The
// refused node is taken off the turn's path: it was not passed.
func (t *turn) casesBusy() error {
	t.e.cfg.Meter.Limited(t.in.Channel, "cases")
	t.log.Warn("new case refused: the cap on new cases per hour is reached; the student was asked to try again later", "channel", t.in.Channel)
	t.path = t.path[:len(t.path)-1]
	t.s.Retry = true
	t.s.Seq++
	return t.retryPrompt()
}

// retryPrompt says that the report is not sent yet, why, and the numbers, with a button to
// try again.
func (t *turn) retryPrompt() error {
	t.say(msgCasesBusy, t.e.numbersData())
	t.attach([]Button{{Label: t.text1(msgCasesBusyRetry), Data: buttonData(t.s.Seq, kindRetry)}})
	return nil
}

// waitsToRetry reports whether the conversation waits to run its node's action again.
func (t *turn) waitsToRetry() bool {
	return t.s.Retry && t.s.Node != "" && t.node() != nil && t.node().Do != ""
}

// retry runs the refused action again, and the rest of the flow from it when it works.
func (t *turn) retry() error {
	if !t.waitsToRetry() {
		return t.stale()
	}
	return t.enter(t.s.Node)
}
