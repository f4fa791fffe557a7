package bot

import "context"

// FailedBeforeTurn is what a channel tells a student whose update it could not take to a
// turn, because its own handling of the update failed (a recovered panic) before the turn
// began: the calm error a failed turn gets, after the 24/7 numbers when the update asks for
// help in danger (see Urgent), so a student in danger never hears nothing. Like OverLimit it
// runs no turn and changes nothing stored; it only reads the conversation's language, and
// in.Key may be empty when the channel failed before it knew the conversation.
func (e *Engine) FailedBeforeTurn(ctx context.Context, in Inbound) []Message {
	lang, hasCase := resolveLang(in.LangHint), false
	if in.Key != "" {
		lang, hasCase = e.conversationOf(ctx, in)
	}
	out := e.helpNow(e.urgentReply(in), lang, hasCase)
	calm := in
	calm.Text = "" // its crisis words, if any, were answered with the numbers above
	return append(out, e.failure(calm, lang).Messages...)
}
