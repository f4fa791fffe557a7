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

// ErrConflict means a case changed between reading and saving it; read it again.
var ErrConflict = errors.New("case changed meanwhile")

// ErrCodeTaken means a new case's code already belongs to another intake; the engine
// draws another code.
var ErrCodeTaken = errors.New("case code already taken")

// Lock is a held conversation lock; Token proves ownership when saving.
type Lock struct {
	Key   string
	Token string
	// Sure is until when the store knows, by its own clock, that nobody else can hold the
	// lock (it set the lock's expiry after this moment), so ending the turn before then
	// needs no ownership check. Zero: always check.
	Sure time.Time
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

// CaseStore keeps handed-off cases, their threads and registry records.
type CaseStore interface {
	// CreateCase stores c and, atomically with it, its registry record, once per IntakeID:
	// a retried turn gets back the code stored the first time. ErrCodeTaken when c.Code
	// belongs to another intake. A handoff is announced (see Announcements) in the same
	// atomic step, so a crash cannot store a case nobody hears of.
	CreateCase(ctx context.Context, c Case, r Record) (code string, err error)
	// WithdrawCase erases the case's content (story, return address, thread), takes it off
	// the queue and marks it withdrawn; the registry record stays (it holds nothing
	// personal). A missing or already withdrawn case is not an error, so forget can be
	// repeated.
	WithdrawCase(ctx context.Context, code string) error
	// GetCase returns the case, or nil, nil when there is none.
	GetCase(ctx context.Context, code string) (*Case, error)
	// SaveCase writes c only if the stored case still has revision c.Rev, and then stores
	// it with Rev+1 (c.Rev is updated); ErrConflict when someone changed it meanwhile. It
	// keeps the queue indexes in step with c.Status, and when c is closed it writes
	// c.FollowUp into the case's registry record in the same atomic step.
	SaveCase(ctx context.Context, c *Case) error
	// PendingCases lists the codes waiting for a counsellor, oldest first.
	PendingCases(ctx context.Context) ([]string, error)
	// OpenCases returns every pending or claimed case, oldest first.
	OpenCases(ctx context.Context) ([]*Case, error)
	// AppendEntry adds an entry to the case's thread.
	AppendEntry(ctx context.Context, code string, e Entry) error
	// Entries returns the case's thread, oldest first.
	Entries(ctx context.Context, code string) ([]Entry, error)
}

// Announcements is the stream of "a case needs a counsellor" events that channel
// adapters post into counsellor groups. Delivery is at least once: an event is read by
// one consumer of a group and stays pending until acknowledged.
type Announcements interface {
	// Announce adds an event (CreateCase announces new handoffs itself).
	Announce(ctx context.Context, a Announcement) error
	// ReadAnnouncements returns up to count events for consumer in group: first its own
	// unacknowledged ones, then new ones, waiting up to block for new ones (0: no wait).
	ReadAnnouncements(ctx context.Context, group, consumer string, count int, block time.Duration) ([]Announcement, error)
	AckAnnouncement(ctx context.Context, group, id string) error
}

// Outbox is the durable queue of messages for students, one stream per outbox name (a
// channel, or one console conversation). A message written while the channel is down is
// delivered when it is back.
type Outbox interface {
	// Enqueue adds a sealed delivery to the named outbox.
	Enqueue(ctx context.Context, outbox string, sealed []byte) error
	// ReadOutbox returns up to count deliveries for consumer: its unacknowledged ones first,
	// then new ones, waiting up to block (0: no wait).
	ReadOutbox(ctx context.Context, outbox, consumer string, count int, block time.Duration) ([]Delivery, error)
	// AckOutbox marks a delivery done and removes it.
	AckOutbox(ctx context.Context, outbox, id string) error
	// DeleteOutbox removes an outbox with what waits in it.
	DeleteOutbox(ctx context.Context, outbox string) error
}

// AccountStore keeps desk accounts and their login sessions.
type AccountStore interface {
	PutAccount(ctx context.Context, a Account) error
	// GetAccount returns nil, nil when there is no such account.
	GetAccount(ctx context.Context, name string) (*Account, error)
	DeleteAccount(ctx context.Context, name string) error
	ListAccounts(ctx context.Context) ([]Account, error)
	// PutLogin stores a login session under the hash of its token.
	PutLogin(ctx context.Context, tokenHash, name string, ttl time.Duration) error
	// GetLogin returns the account name of a login session, "" when there is none.
	GetLogin(ctx context.Context, tokenHash string) (string, error)
	DeleteLogin(ctx context.Context, tokenHash string) error
	// CountFailure counts a failed login for name within window and returns the count.
	CountFailure(ctx context.Context, name string, window time.Duration) (int, error)
	ResetFailures(ctx context.Context, name string) error
}

// Leases let one replica at a time do what must not run twice: hold the Telegram long poll
// or the Discord gateway. A holder renews its lease well within the ttl; when it dies the
// lease expires and another replica takes over.
type Leases interface {
	// Lease takes or renews the named lease for holder and reports whether holder has it.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}
