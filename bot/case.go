package bot

import "time"

// Case kinds.
const (
	CaseRegistration = "registration" // only recorded; nobody follows up
	CaseHandoff      = "handoff"      // waits in the queue for a counsellor
)

// Case statuses. A handoff is pending until a counsellor claims it, claimed until it is
// closed; the student can withdraw it at any time. A registration is only registered.
const (
	StatusRegistered = "registered"
	StatusPending    = "pending"
	StatusClaimed    = "claimed"
	StatusClosed     = "closed"
	StatusWithdrawn  = "withdrawn"
)

// FollowUps are the follow-up categories a counsellor codes at close (annual report,
// "opvolging"), in the report's order.
var FollowUps = []string{"registration", "advice", "intervention", "referral", "guidance", "complaint", "other"}

// AppointmentForms are the ways a counsellor can meet a student.
var AppointmentForms = []string{"in_person_ssc", "in_person_phs", "teams", "phone"}

// Case is what an intake hands over. Its coded fields are the answers from the schema;
// the story, the return address and thread texts are sealed before they reach the store.
type Case struct {
	Code     string            `json:"code"`
	IntakeID string            `json:"intake"`
	Kind     string            `json:"kind"`
	Status   string            `json:"status"`
	Channel  string            `json:"ch"`
	Lang     string            `json:"lang"`
	Fields   map[string]string `json:"fields"`
	Story    []byte            `json:"story,omitempty"`
	// ReturnAddr is the sealed Address for counsellor replies.
	ReturnAddr []byte `json:"addr,omitempty"`
	// Created is when the intake handed over. The store holds only its day in clear; the
	// exact moment is in Clock while the case is open (see caseclock.go).
	Created time.Time `json:"created"`
	// Rev is the revision SaveCase checks, so two desk actions never overwrite each other.
	Rev int `json:"rev"`
	// PassHash is the salted hash of the receipt passphrase (CheckReceipt); the passphrase itself is
	// never stored outside the student's sealed session.
	PassHash   string `json:"pass,omitempty"`
	Counsellor string `json:"by,omitempty"`
	// ClaimedAt is kept, sealed in Clock, only while the case is open.
	ClaimedAt time.Time `json:"claimed,omitzero"`
	// ClosedAt is stored as a day.
	ClosedAt   time.Time `json:"closed,omitzero"`
	FollowUp   string    `json:"followup,omitempty"`
	ReferredTo string    `json:"referred,omitempty"`
	// Proposal is the open appointment proposal, Booked the slot the student picked. While
	// the case is open both are sealed in Clock; a closed case keeps the booked slot's day.
	Proposal *Proposal `json:"proposal,omitempty"`
	Booked   *Slot     `json:"booked,omitempty"`
	// Answered is the id (see Entry.ID) of the student's update that answered the last
	// proposal: delivered again after a crash, it gets its answer again instead of
	// "this proposal is no longer open".
	Answered string `json:"answered,omitempty"`
	// Urgent lists why the case is urgent (the rules, never the words); urgent cases lead
	// the queue and are announced again until claimed.
	Urgent []string `json:"urgent,omitempty"`
	// Unreachable is set when the student's channel refused a message for good (they
	// blocked the bot); a new message from the student clears it.
	Unreachable bool `json:"unreachable,omitempty"`
	// Announced is when the case was last announced to counsellors; kept, sealed in Clock,
	// only while the case is open.
	Announced time.Time `json:"announced,omitzero"`
	// Clock is the sealed caseClock of an open case: its exact times and appointment. The
	// engine and the desk fill the fields above from it when they read a case, and nil it.
	Clock []byte `json:"clock,omitempty"`
	// Purged is set when the retention purge erased the story, return address and thread;
	// the coded fields and status stay.
	Purged bool `json:"purged,omitempty"`
}

// Slot is one appointment time offered to a student.
type Slot struct {
	Form    string    `json:"form"`
	Start   time.Time `json:"start"`
	Minutes int       `json:"min"`
}

// Proposal is a set of one to three slots; ID tells an old proposal's buttons from the
// current one's.
type Proposal struct {
	ID    string `json:"id"`
	Slots []Slot `json:"slots"`
}

// Entry kinds of a case thread.
const (
	EntryMessage  = "message"  // Text from the student or the counsellor
	EntryProposal = "proposal" // the counsellor proposed slots
	EntryBooked   = "booked"   // the student picked a slot
	EntryDeclined = "declined" // the student asked for other times
	EntryClaimed  = "claimed"
	EntryReleased = "released"
	EntryClosed   = "closed"
)

// Entry senders.
const (
	FromStudent    = "student"
	FromCounsellor = "counsellor"
)

// Entry is one event in a case thread. Text is sealed; events without text have none.
// At is stored as a day: the thread keeps its order, not the time of day.
type Entry struct {
	At   time.Time `json:"at"`
	From string    `json:"from,omitempty"`
	Kind string    `json:"kind"`
	Text []byte    `json:"text,omitempty"`
	// ID, when set, makes the append idempotent: an entry whose ID is among the thread's
	// latest is not added again. A student's message gets one derived from its update, so
	// an update handled again after a crash (appended, but the turn not saved) does not
	// reach the counsellor twice. It is opaque: a hash, never the update id itself.
	ID string `json:"id,omitempty"`
}

// Announcement is one "a case needs a counsellor" event; it carries no content, only the
// code and why it is announced.
type Announcement struct {
	ID     string `json:"-"`
	Code   string `json:"code"`
	Reason string `json:"reason"` // "new" or "waiting"
}

// Delivery is one sealed message waiting in an outbox.
type Delivery struct {
	ID     string
	Sealed []byte
}

// Address is where a channel reaches a student later: the outbox its consumer reads and
// the channel's own address there (a chat id). Stored only sealed.
type Address struct {
	Outbox string `json:"outbox"`
	To     string `json:"to,omitempty"`
	// Own means the outbox belongs to this conversation alone (web chat, console), so
	// forget deletes it; a platform's shared outbox (telegram) is never deleted.
	Own bool `json:"own,omitempty"`
}

// Roles of desk accounts.
const (
	RoleCounsellor = "counsellor" // cases
	RoleSupport    = "support"    // flows and statistics, never case content
	RoleAdmin      = "admin"      // accounts
)

// Account is a desk login. PassHash is an Argon2id hash.
type Account struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	PassHash string `json:"pass"`
}

// Record is one anonymous registry line: coded answers, year and month, no text, no id.
type Record struct {
	Year     int               `json:"y"`
	Month    int               `json:"m"`
	Channel  string            `json:"ch"`
	Kind     string            `json:"kind"`
	Fields   map[string]string `json:"f"`
	FollowUp string            `json:"followup,omitempty"`
}
