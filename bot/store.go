package bot

import (
	"context"
	"errors"
	"time"
)

// ErrLockLost means a turn held the conversation lock too long and another turn may have
// taken it: the turn's result is discarded and the turn is run again.
var ErrLockLost = errors.New("conversation lock lost")

// ErrBusy means the conversation lock could not be had in time.
var ErrBusy = errors.New("conversation busy")

// ErrCodeTaken means a new case's code already belongs to another intake; the engine
// draws another code.
var ErrCodeTaken = errors.New("case code already taken")

// Lock is a held conversation lock; Token proves ownership when saving.
type Lock struct {
	Key   string
	Token string
}

// SessionStore keeps sessions as opaque sealed bytes. A turn is Lock (which also loads) then
// Save or Delete or Unlock: two turns of one conversation never interleave, even in two
// processes.
type SessionStore interface {
	// Lock waits until the conversation's lock is free, takes it, and returns the stored
	// session (nil when there is none). It gives up with ErrBusy when ctx ends first.
	Lock(ctx context.Context, key string) (Lock, []byte, error)
	// Save stores the session with the idle TTL and releases the lock; ErrLockLost when the
	// lock is no longer held by this token (nothing is written then).
	Save(ctx context.Context, l Lock, data []byte) error
	// Delete removes the session and releases the lock; ErrLockLost as for Save.
	Delete(ctx context.Context, l Lock) error
	// Unlock releases the lock without writing; ErrLockLost when it was no longer held.
	Unlock(ctx context.Context, l Lock) error
}

// Deduper remembers update ids so an update delivered twice is handled once.
type Deduper interface {
	// FirstSeen records id and reports whether it was new.
	FirstSeen(ctx context.Context, channel, id string, ttl time.Duration) (bool, error)
}

// FlowArchive keeps every published script version, so a conversation pinned to an older
// version can finish on it after a restart or on another replica.
type FlowArchive interface {
	PutFlow(ctx context.Context, id, hash string, source []byte) error
	// GetFlow returns nil, nil when the version is unknown.
	GetFlow(ctx context.Context, id, hash string) ([]byte, error)
}

// Case kinds.
const (
	CaseRegistration = "registration" // only recorded; nobody follows up
	CaseHandoff      = "handoff"      // waits in the queue for a counsellor
)

// Case statuses.
const (
	StatusPending   = "pending"
	StatusWithdrawn = "withdrawn"
)

// Case is what an intake hands over. Its coded fields are the answers from the schema;
// the story and return address are sealed by the engine before they reach the store.
type Case struct {
	Code     string            `json:"code"`
	IntakeID string            `json:"intake"`
	Kind     string            `json:"kind"`
	Status   string            `json:"status"`
	Channel  string            `json:"ch"`
	Lang     string            `json:"lang"`
	Fields   map[string]string `json:"fields"`
	Story    []byte            `json:"story,omitempty"`
	// ReturnAddr is the sealed channel address for counsellor replies.
	ReturnAddr []byte    `json:"addr,omitempty"`
	Created    time.Time `json:"created"`
}

// Record is one anonymous registry line: coded answers, year and month, no text, no id.
type Record struct {
	Year    int               `json:"y"`
	Month   int               `json:"m"`
	Channel string            `json:"ch"`
	Kind    string            `json:"kind"`
	Fields  map[string]string `json:"f"`
}

// CaseStore keeps handed-off cases and registry records.
type CaseStore interface {
	// CreateCase stores c and, atomically with it, its registry record, once per IntakeID:
	// a retried turn gets back the code stored the first time. ErrCodeTaken when c.Code
	// belongs to another intake.
	CreateCase(ctx context.Context, c Case, r Record) (code string, err error)
	// WithdrawCase erases the case's content (story, return address), takes it off the
	// queue and marks it withdrawn; the registry record stays (it holds nothing personal).
	// A missing or already withdrawn case is not an error, so forget can be repeated.
	WithdrawCase(ctx context.Context, code string) error
	// GetCase returns the case, or nil, nil when there is none.
	GetCase(ctx context.Context, code string) (*Case, error)
	// PendingCases lists the codes waiting for a counsellor, oldest first.
	PendingCases(ctx context.Context) ([]string, error)
}
