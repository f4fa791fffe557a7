package bot

import "context"

// Desk audit actions: what a desk account did to a case.
const (
	AuditView    = "view"    // read the story and thread of a case it has claimed
	AuditClaim   = "claim"   // claimed a case
	AuditRelease = "release" // put a claimed case back in the queue
	AuditMessage = "message" // wrote to the student
	AuditPropose = "propose" // proposed appointment times
	AuditClose   = "close"   // closed a case
	AuditExport  = "ics"     // exported the booked appointment as a calendar file
)

// AuditEntry is one line of the desk audit log: the day (no time of day), the account, the
// case code and the action. It never holds case content.
type AuditEntry struct {
	Day     string `json:"day"` // "2006-01-02" in the office's time zone
	Account string `json:"by"`
	Case    string `json:"case"`
	Action  string `json:"action"`
}

// AuditLog keeps the desk audit log.
type AuditLog interface {
	Audit(ctx context.Context, e AuditEntry) error
}
