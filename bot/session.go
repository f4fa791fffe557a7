package bot

// Session is the state of one conversation between turns. It lives only in the session
// store, sealed (AES-GCM) as a whole, so the story and the answers are never stored in
// clear; the engine keeps nothing about a conversation in memory between turns.
type Session struct {
	Lang string `json:"lang"`
	// Flow, FlowHash and FlowVersion pin the script version the conversation runs on, so a
	// new version published mid-conversation never breaks it.
	Flow        string `json:"flow"`
	FlowHash    string `json:"hash"`
	FlowVersion int    `json:"ver"`
	// Node is the step the conversation waits at; "" before the flow has started (while a
	// student with a language we only greet in picks Dutch or English).
	Node string `json:"node"`
	// History holds the nodes that were waited at before Node, for the back command.
	History []string `json:"hist,omitempty"`
	// Vars holds the answers; a present key with "" means skipped.
	Vars map[string]string `json:"vars,omitempty"`
	// Return is the node a correction goes back to (the summary), "" when not correcting.
	Return string `json:"ret,omitempty"`
	// Seq counts the questions shown; buttons carry it so a tap on an old message is known.
	Seq int `json:"seq"`
	// IntakeID is random per intake: it makes registering and handing off idempotent when a
	// turn is retried after a crash, and links nothing to the student.
	IntakeID string `json:"intake"`
	// CaseCode is set once the intake handed off a case.
	CaseCode string `json:"case,omitempty"`
	// Done is set when the flow reached its end; the next message starts a fresh intake.
	Done bool `json:"done,omitempty"`
	// Channel is the channel the conversation runs on (console, telegram, ...).
	Channel string `json:"ch"`
	// Seen holds the last update ids handled. Checking them under the conversation lock and
	// saving them with the turn means a redelivered update is never handled twice, and a
	// turn that failed (nothing saved) is still handled when the platform delivers it again.
	Seen []string `json:"seen,omitempty"`
	// Last is the reply to the latest update, sent again when that update is delivered
	// again and its reply may not have arrived (see redeliver.go).
	Last *LastReply `json:"last,omitempty"`
	// Reply is where the channel reaches the student later (the session is sealed whole).
	Reply Address `json:"addr,omitzero"`
	// Pass is the receipt passphrase of CaseCode, kept so it can be shown again on request
	// in this conversation; the case itself holds only its hash.
	Pass string `json:"pass,omitempty"`
	// Urgent holds the urgency reasons seen in this conversation (a crisis signal), which a
	// case handed off from it carries to the top of the queue.
	Urgent []string `json:"urgent,omitempty"`
	// Thread is set while the student's typed text goes to their counsellor.
	Thread bool `json:"thread,omitempty"`
	// Retry is set while the conversation waits at a node whose action (storing the case)
	// the store refused under the cap on new cases; its button runs the action again.
	Retry bool `json:"retry,omitempty"`
}
