package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Desk errors; the desk shows each as a plain sentence and changes nothing.
var (
	ErrNotFound       = errors.New("no such case")
	ErrAlreadyClaimed = errors.New("case already claimed by another counsellor")
	ErrNotYours       = errors.New("case is not claimed by you")
	ErrCaseClosed     = errors.New("case is closed or withdrawn")
	ErrForbidden      = errors.New("this account may not do that")
	ErrBadLogin       = errors.New("wrong name or password")
	ErrSlowDown       = errors.New("too many failed logins; wait a few minutes")
	ErrLoginExpired   = errors.New("login expired")
)

// InvalidError is input the desk refuses, with a sentence saying what to fix.
type InvalidError struct{ Msg string }

func (e InvalidError) Error() string { return e.Msg }

// DeskConfig wires a Desk.
type DeskConfig struct {
	Cases    CaseStore
	Accounts AccountStore
	Outbox   Outbox
	Engine   *Engine
	Keys     *Keyring
	Hours    OfficeHours
	// LoginTTL is how long a desk login lasts (default 8 h, one working day).
	LoginTTL time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
	// Audit, when set, records every desk action on a case (no content).
	Audit AuditLog
}

// Desk is what counsellors do with cases: the queue, claims, the anonymous thread,
// appointments and closing. Every method checks the account's role and claim itself, so
// no handler can forget to.
type Desk struct {
	cfg DeskConfig
	log *slog.Logger
}

// Login limits: after maxFailures failed logins for one name within failureWindow, further
// attempts are refused until the window has passed.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
	// MaxThreadText bounds one thread message, as for the student.
	MaxThreadText = DefaultMaxText
	maxReferral   = 200
)

// NewDesk returns a Desk.
func NewDesk(cfg DeskConfig) *Desk {
	if cfg.LoginTTL == 0 {
		cfg.LoginTTL = 8 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Hours.Loc == nil {
		cfg.Hours = DefaultOfficeHours()
	}
	cfg.Cases = withClock(cfg.Cases, cfg.Keys, cfg.Hours)
	return &Desk{cfg: cfg, log: cfg.Logger}
}

// Hours returns the office hours the desk counts waiting time in.
func (d *Desk) Hours() OfficeHours { return d.cfg.Hours }

// QueueItem is one case as the queue shows it: coded fields only, never content.
type QueueItem struct {
	Code       string
	Status     string
	Fields     map[string]string
	Lang       string
	Channel    string
	Created    time.Time
	Counsellor string
	// Waiting is the office time since the case arrived; Overdue when it passed one
	// working day unclaimed.
	Waiting time.Duration
	Overdue bool
	Mine    bool
	// Urgent lists why the case is urgent (UrgentCrisis, ...), empty when it is not.
	Urgent []string
}

// Queue returns the pending cases (oldest first) and the cases claimed by who.
func (d *Desk) Queue(ctx context.Context, who *Account) (pending, mine []QueueItem, err error) {
	if err := mayHandleCases(who); err != nil {
		return nil, nil, err
	}
	open, err := d.cfg.Cases.OpenCases(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: %w", err)
	}
	for _, c := range open {
		item := d.item(c, who)
		switch {
		case c.Status == StatusPending:
			pending = append(pending, item)
		case item.Mine:
			mine = append(mine, item)
		}
	}
	// Urgent first, then oldest first (OpenCases gives oldest first; the sort is stable).
	sort.SliceStable(pending, func(i, j int) bool { return len(pending[i].Urgent) > 0 && len(pending[j].Urgent) == 0 })
	sort.SliceStable(mine, func(i, j int) bool { return len(mine[i].Urgent) > 0 && len(mine[j].Urgent) == 0 })
	return pending, mine, nil
}

// PendingStats says how many cases wait for a counsellor and when the oldest of them
// arrived, exactly (the zero time when none waits), for the metrics. Only the desk can say
// it to the minute: the store keeps the exact arrival of a case sealed.
func (d *Desk) PendingStats(ctx context.Context) (int, time.Time, error) {
	open, err := d.cfg.Cases.OpenCases(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("pending stats: %w", err)
	}
	n, oldest := 0, time.Time{}
	for _, c := range open {
		if c.Status != StatusPending {
			continue
		}
		n++
		if oldest.IsZero() || c.Created.Before(oldest) {
			oldest = c.Created
		}
	}
	return n, oldest, nil
}

func (d *Desk) item(c *Case, who *Account) QueueItem {
	waiting := d.cfg.Hours.WorkingTime(c.Created, d.cfg.Now())
	return QueueItem{
		Code: c.Code, Status: c.Status, Fields: c.Fields, Lang: c.Lang, Channel: c.Channel,
		Created: c.Created, Counsellor: c.Counsellor, Waiting: waiting,
		Overdue: c.Status == StatusPending && waiting >= d.cfg.Hours.WorkingDay(),
		Mine:    c.Counsellor != "" && c.Counsellor == who.Name,
		Urgent:  c.Urgent,
	}
}

// CaseDetail is a case as its counsellor sees it. Story and Thread are filled only for the
// counsellor who claimed it.
type CaseDetail struct {
	QueueItem
	Story      string
	Thread     []ThreadItem
	Proposal   *Proposal
	Booked     *Slot
	FollowUp   string
	ReferredTo string
	ClosedAt   time.Time
	// Reachable is false when the student's channel address is gone (withdrawn).
	Reachable bool
}

// ThreadItem is one opened thread entry.
type ThreadItem struct {
	At   time.Time
	From string
	Kind string
	Text string
}

// Case returns the case for the desk; reading a claimed case's content is audited.
func (d *Desk) Case(ctx context.Context, who *Account, code string) (*CaseDetail, error) {
	det, err := d.detail(ctx, who, code)
	if err == nil && det.Mine {
		d.audit(ctx, who, det.Code, AuditView)
	}
	return det, err
}

// detail is Case without the audit entry.
func (d *Desk) detail(ctx context.Context, who *Account, code string) (*CaseDetail, error) {
	if err := mayHandleCases(who); err != nil {
		return nil, err
	}
	c, err := d.load(ctx, code)
	if err != nil {
		return nil, err
	}
	det := &CaseDetail{
		QueueItem: d.item(c, who), Proposal: c.Proposal, Booked: c.Booked,
		FollowUp: c.FollowUp, ReferredTo: c.ReferredTo, ClosedAt: c.ClosedAt,
		Reachable: len(c.ReturnAddr) > 0 && !c.Unreachable,
	}
	if !det.Mine {
		return det, nil
	}
	if len(c.Story) > 0 {
		story, err := d.cfg.Keys.Open(c.Story, sealContext(SealedStory, c.Code))
		if err != nil {
			return nil, fmt.Errorf("open story of a case: %w", err)
		}
		det.Story = string(story)
	}
	entries, err := d.cfg.Cases.Entries(ctx, c.Code)
	if err != nil {
		return nil, fmt.Errorf("read thread: %w", err)
	}
	for _, e := range entries {
		item := ThreadItem{At: e.At, From: e.From, Kind: e.Kind}
		if len(e.Text) > 0 {
			text, err := d.cfg.Keys.Open(e.Text, entryContext(c.Code))
			if err != nil {
				return nil, fmt.Errorf("open thread entry: %w", err)
			}
			item.Text = string(text)
		}
		det.Thread = append(det.Thread, item)
	}
	return det, nil
}

func entryContext(code string) []byte { return sealContext(SealedEntry, code) }

// load returns a case by code; a code that is malformed or unknown is ErrNotFound.
func (d *Desk) load(ctx context.Context, code string) (*Case, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !caseCodePattern.MatchString(code) {
		return nil, ErrNotFound
	}
	c, err := d.cfg.Cases.GetCase(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("load case: %w", err)
	}
	if c == nil || c.Kind != CaseHandoff {
		return nil, ErrNotFound
	}
	return c, nil
}

var caseCodePattern = regexp.MustCompile(`^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$`)

// update applies change to the stored case, re-reading and retrying when another desk
// action or replica changed it meanwhile; change sees the fresh case every time, so its
// checks (is it still pending?) hold at the moment of the write.
func (d *Desk) update(ctx context.Context, code string, change func(*Case) error) (*Case, error) {
	for attempt := 0; attempt < 10; attempt++ {
		c, err := d.load(ctx, code)
		if err != nil {
			return nil, err
		}
		if err := change(c); err != nil {
			return nil, err
		}
		err = d.cfg.Cases.SaveCase(ctx, c)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("save case: %w", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("save case: %w (too many concurrent changes)", ErrConflict)
}

// Claim gives the case to who; exactly one of several simultaneous claims wins.
func (d *Desk) Claim(ctx context.Context, who *Account, code string) error {
	if err := mayHandleCases(who); err != nil {
		return err
	}
	c, err := d.update(ctx, code, func(c *Case) error {
		switch c.Status {
		case StatusPending:
		case StatusClaimed:
			if c.Counsellor == who.Name {
				return nil // a double-submitted form: already done
			}
			return ErrAlreadyClaimed
		default:
			return ErrCaseClosed
		}
		c.Status, c.Counsellor, c.ClaimedAt = StatusClaimed, who.Name, d.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	d.audit(ctx, who, c.Code, AuditClaim)
	if d.cfg.Engine != nil {
		d.cfg.Engine.Meter().Claimed()
	}
	d.entry(ctx, c, Entry{Kind: EntryClaimed})
	return d.tell(ctx, c, []Message{{Text: d.text(c, msgCaseClaimed, nil)}})
}

// Release puts a claimed case back in the queue.
func (d *Desk) Release(ctx context.Context, who *Account, code string) error {
	c, err := d.mine(ctx, who, code, func(c *Case) error {
		c.Status, c.Counsellor, c.ClaimedAt = StatusPending, "", time.Time{}
		return nil
	})
	if err != nil {
		return err
	}
	d.audit(ctx, who, c.Code, AuditRelease)
	d.entry(ctx, c, Entry{Kind: EntryReleased})
	return nil
}

// mine runs change on a case claimed by who.
func (d *Desk) mine(ctx context.Context, who *Account, code string, change func(*Case) error) (*Case, error) {
	if err := mayHandleCases(who); err != nil {
		return nil, err
	}
	return d.update(ctx, code, func(c *Case) error {
		switch {
		case c.Status == StatusClosed || c.Status == StatusWithdrawn:
			return ErrCaseClosed
		case c.Status != StatusClaimed || c.Counsellor != who.Name:
			return ErrNotYours
		}
		return change(c)
	})
}

// Send writes a message to the student: into the thread, and to their channel.
func (d *Desk) Send(ctx context.Context, who *Account, code, text string) error {
	text = strings.TrimSpace(text)
	if err := checkText(text); err != nil {
		return err
	}
	c, err := d.mine(ctx, who, code, func(*Case) error { return nil })
	if err != nil {
		return err
	}
	if err := d.cfg.Cases.AppendEntry(ctx, c.Code, Entry{At: d.cfg.Now().UTC(), From: FromCounsellor, Kind: EntryMessage, Text: d.cfg.Keys.Seal([]byte(text), entryContext(c.Code))}); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	d.audit(ctx, who, c.Code, AuditMessage)
	return d.tell(ctx, c, []Message{{Text: d.text(c, msgCaseFromCounsellor, map[string]any{"text": text})}})
}

func checkText(text string) error {
	switch {
	case !utf8.ValidString(text):
		return InvalidError{"The message contains characters that cannot be read."}
	case text == "":
		return InvalidError{"The message is empty."}
	case utf8.RuneCountInString(text) > MaxThreadText:
		return InvalidError{fmt.Sprintf("The message is longer than %d characters; please split it.", MaxThreadText)}
	}
	return nil
}

// Propose offers the student one to three appointment slots.
func (d *Desk) Propose(ctx context.Context, who *Account, code string, slots []Slot) error {
	if len(slots) < 1 || len(slots) > 3 {
		return InvalidError{"Propose one, two or three times."}
	}
	now := d.cfg.Now()
	for i, s := range slots {
		switch {
		case !isAppointmentForm(s.Form):
			return InvalidError{fmt.Sprintf("Time %d: choose how you will meet.", i+1)}
		case s.Start.IsZero():
			return InvalidError{fmt.Sprintf("Time %d: give a date and time.", i+1)}
		case !s.Start.After(now):
			return InvalidError{fmt.Sprintf("Time %d is in the past.", i+1)}
		case s.Minutes < 15 || s.Minutes > 240:
			return InvalidError{fmt.Sprintf("Time %d: a meeting lasts between 15 and 240 minutes.", i+1)}
		}
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].Start.Before(slots[j].Start) })
	c, err := d.mine(ctx, who, code, func(c *Case) error {
		c.Proposal = &Proposal{ID: randomToken(4), Slots: slots}
		return nil
	})
	if err != nil {
		return err
	}
	d.audit(ctx, who, c.Code, AuditPropose)
	d.entry(ctx, c, Entry{From: FromCounsellor, Kind: EntryProposal, Text: d.cfg.Keys.Seal([]byte(d.describeSlots(c.Lang, slots)), entryContext(c.Code))})
	var buttons []Button
	for i, s := range slots {
		buttons = append(buttons, Button{Label: d.cfg.Engine.slotLabel(c.Lang, s), Data: proposalData(c.Code, c.Proposal.ID, fmt.Sprint(i))})
	}
	buttons = append(buttons, Button{Label: d.text(c, msgCaseSlotNone, nil), Data: proposalData(c.Code, c.Proposal.ID, "x")})
	return d.tell(ctx, c, []Message{{Text: d.text(c, msgCaseProposal, nil), Buttons: buttons}})
}

func isAppointmentForm(f string) bool {
	for _, x := range AppointmentForms {
		if x == f {
			return true
		}
	}
	return false
}

// Close ends the case with its follow-up category; the registry record gets it in the
// same write.
func (d *Desk) Close(ctx context.Context, who *Account, code, followUp, referredTo string) error {
	referredTo = strings.TrimSpace(referredTo)
	valid := false
	for _, f := range FollowUps {
		valid = valid || f == followUp
	}
	switch {
	case !valid:
		return InvalidError{"Choose the follow-up category."}
	case followUp == "referral" && referredTo == "":
		return InvalidError{"Say where the student was referred to."}
	case utf8.RuneCountInString(referredTo) > maxReferral:
		return InvalidError{fmt.Sprintf("Keep the referral under %d characters.", maxReferral)}
	case followUp != "referral":
		referredTo = ""
	}
	c, err := d.mine(ctx, who, code, func(c *Case) error {
		c.Status, c.FollowUp, c.ReferredTo, c.ClosedAt = StatusClosed, followUp, referredTo, d.cfg.Now().UTC()
		c.Proposal = nil
		return nil
	})
	if err != nil {
		return err
	}
	d.audit(ctx, who, c.Code, AuditClose)
	d.entry(ctx, c, Entry{Kind: EntryClosed})
	return d.tell(ctx, c, []Message{{Text: d.text(c, msgCaseClosed, nil)}})
}

// ICS returns the booked appointment as an iCalendar file. It names the case code, the
// form and the place, never the student.
func (d *Desk) ICS(ctx context.Context, who *Account, code string) (string, []byte, error) {
	det, err := d.detail(ctx, who, code)
	if err != nil {
		return "", nil, err
	}
	if !det.Mine {
		return "", nil, ErrNotYours
	}
	if det.Booked == nil {
		return "", nil, InvalidError{"No appointment has been booked for this case yet."}
	}
	if det.Status != StatusClaimed {
		// A closed case keeps only the day of its appointment (see caseclock.go).
		return "", nil, InvalidError{"The case is closed; only the day of its appointment is kept, so there is no calendar file."}
	}
	d.audit(ctx, who, det.Code, AuditExport)
	s := det.Booked
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	var b strings.Builder
	for _, line := range []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//intake//desk//EN", "BEGIN:VEVENT",
		"UID:" + det.Code + "-" + stamp(s.Start) + "@intake",
		"DTSTAMP:" + stamp(d.cfg.Now()),
		"DTSTART:" + stamp(s.Start),
		"DTEND:" + stamp(s.Start.Add(time.Duration(s.Minutes)*time.Minute)),
		"SUMMARY:" + icsText("Case "+det.Code+": "+formNames[s.Form]),
		"LOCATION:" + icsText(formNames[s.Form]),
		"END:VEVENT", "END:VCALENDAR",
	} {
		b.WriteString(line + "\r\n")
	}
	return "case-" + det.Code + ".ics", []byte(b.String()), nil
}

// icsText escapes a TEXT value (RFC 5545 §3.3.11).
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// formNames are the appointment forms as the desk (English) and calendar files show them.
var formNames = map[string]string{
	"in_person_ssc": "In person, Binnenstad (SSC)",
	"in_person_phs": "In person, Randwyck (PHS)",
	"teams":         "Microsoft Teams",
	"phone":         "Phone",
}

// FormName returns the desk's name of an appointment form.
func FormName(form string) string { return formNames[form] }

// entry appends a thread event; a failure is logged, not returned: the action itself
// succeeded and the case shows its new state.
func (d *Desk) entry(ctx context.Context, c *Case, e Entry) {
	e.At = d.cfg.Now().UTC()
	if err := d.cfg.Cases.AppendEntry(ctx, c.Code, e); err != nil {
		d.log.Error("thread entry not stored", "kind", e.Kind, "err", err)
	}
}

// audit records a desk action on a case; a failure is logged, not returned: the action
// itself succeeded.
func (d *Desk) audit(ctx context.Context, who *Account, code, action string) {
	if d.cfg.Audit == nil {
		return
	}
	e := AuditEntry{Day: d.cfg.Now().In(d.cfg.Hours.Loc).Format("2006-01-02"), Account: who.Name, Case: code, Action: action}
	if err := d.cfg.Audit.Audit(ctx, e); err != nil {
		d.log.Error("audit entry not stored", "action", action, "err", err)
	}
}

// tell queues messages for the student on the channel they last used. A withdrawn case
// has no address: there is nobody to tell.
func (d *Desk) tell(ctx context.Context, c *Case, msgs []Message) error {
	if len(c.ReturnAddr) == 0 || d.cfg.Outbox == nil {
		return nil
	}
	return d.cfg.Engine.enqueue(ctx, c, msgs)
}

// text renders a student message in the case's language.
func (d *Desk) text(c *Case, id string, data map[string]any) string {
	if data == nil {
		data = map[string]any{}
	}
	data["case_code"] = c.Code
	s, err := d.cfg.Engine.Content().Catalog.Text(c.Lang, id, data)
	if err != nil {
		d.log.Error("message not rendered", "id", id, "lang", c.Lang, "err", err)
	}
	return s
}

func proposalData(code, id, pick string) string { return "c:" + code + ":" + id + ":" + pick }

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

func mayHandleCases(who *Account) error {
	if who == nil || who.Role != RoleCounsellor {
		return ErrForbidden
	}
	return nil
}

// Login checks a name and password and returns a login token for a cookie. A name with
// too many recent failures is refused without checking, and a failure costs as much time
// for an unknown name as for a known one.
func (d *Desk) Login(ctx context.Context, name, password string) (string, *Account, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !accountName.MatchString(name) || password == "" {
		return "", nil, ErrBadLogin // no such account can exist
	}
	acc, err := d.cfg.Accounts.GetAccount(ctx, name)
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	hash := dummyHash
	if acc != nil {
		hash = acc.PassHash
	}
	ok := CheckSecret(hash, password) && acc != nil
	if !ok {
		fails, err := d.cfg.Accounts.CountFailure(ctx, name, failureWindow)
		if err != nil {
			return "", nil, fmt.Errorf("login: %w", err)
		}
		if fails > maxFailures {
			return "", nil, ErrSlowDown
		}
		return "", nil, ErrBadLogin
	}
	// The right password after a run of failures still waits out the window: otherwise
	// guessing could go on by watching which attempt is not refused. Counting this attempt
	// is how the count is read; a success resets it.
	fails, err := d.cfg.Accounts.CountFailure(ctx, name, failureWindow)
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if fails > maxFailures {
		return "", nil, ErrSlowDown
	}
	if err := d.cfg.Accounts.ResetFailures(ctx, name); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	token := randomToken(32)
	if err := d.cfg.Accounts.PutLogin(ctx, tokenHash(token), acc.Name, d.cfg.LoginTTL); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	return token, acc, nil
}

var dummyHash = HashSecret("no account has this password")

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Authenticate returns the account of a login token.
func (d *Desk) Authenticate(ctx context.Context, token string) (*Account, error) {
	if token == "" {
		return nil, ErrLoginExpired
	}
	name, err := d.cfg.Accounts.GetLogin(ctx, tokenHash(token))
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if name == "" {
		return nil, ErrLoginExpired
	}
	acc, err := d.cfg.Accounts.GetAccount(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if acc == nil {
		return nil, ErrLoginExpired // the account was removed
	}
	return acc, nil
}

// Logout ends a login.
func (d *Desk) Logout(ctx context.Context, token string) error {
	return d.cfg.Accounts.DeleteLogin(ctx, tokenHash(token))
}

var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// MinPassword is the shortest desk password accepted.
const MinPassword = 12

// AddAccount creates or replaces a desk account.
func (d *Desk) AddAccount(ctx context.Context, name, role, password string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case !accountName.MatchString(name):
		return InvalidError{"A name has 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."}
	case role != RoleCounsellor && role != RoleSupport && role != RoleAdmin:
		return InvalidError{"The role is counsellor, support or admin."}
	case utf8.RuneCountInString(password) < MinPassword:
		return InvalidError{fmt.Sprintf("The password needs at least %d characters.", MinPassword)}
	}
	return d.cfg.Accounts.PutAccount(ctx, Account{Name: name, Role: role, PassHash: HashSecret(password)})
}

// RemoveAccount deletes an account; its logins stop working at their next request.
func (d *Desk) RemoveAccount(ctx context.Context, name string) error {
	acc, err := d.cfg.Accounts.GetAccount(ctx, strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return err
	}
	if acc == nil {
		return InvalidError{fmt.Sprintf("There is no account %q.", name)}
	}
	return d.cfg.Accounts.DeleteAccount(ctx, acc.Name)
}

// Accounts lists the accounts, without their hashes.
func (d *Desk) Accounts(ctx context.Context) ([]Account, error) {
	list, err := d.cfg.Accounts.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].PassHash = ""
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// describeSlots is the thread's record of a proposal: the days, not the times (the thread
// keeps days only; the open case's sealed clock holds the proposal itself).
func (d *Desk) describeSlots(lang string, slots []Slot) string {
	var parts []string
	for _, s := range slots {
		parts = append(parts, d.cfg.Engine.slotDay(lang, s))
	}
	return strings.Join(parts, "\n")
}

// deliveryPayload is what an outbox entry holds, sealed.
type deliveryPayload struct {
	To       string    `json:"to"`
	Code     string    `json:"code,omitempty"`
	Messages []Message `json:"msgs"`
}

// ErrUnreachable is what a channel's send returns (wrapped) when the student can never be
// reached there again (they blocked the bot, left the platform): the message is dropped
// and the case marked, so the counsellor knows, instead of retrying forever.
var ErrUnreachable = errors.New("student unreachable on this channel")

// enqueue seals messages for the student of c into their channel's outbox.
func (e *Engine) enqueue(ctx context.Context, c *Case, msgs []Message) error {
	addr, err := e.openAddress(c)
	if err != nil {
		return err
	}
	plain, err := json.Marshal(deliveryPayload{To: addr.To, Code: c.Code, Messages: msgs})
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	if err := e.cfg.Outbox.Enqueue(ctx, addr.Outbox, e.cfg.Keys.Seal(plain, sealContext(SealedOutbox, addr.Outbox))); err != nil {
		return fmt.Errorf("queue message for the student: %w", err)
	}
	return nil
}

func (e *Engine) openAddress(c *Case) (Address, error) {
	var a Address
	plain, err := e.cfg.Keys.Open(c.ReturnAddr, sealContext(SealedAddress, c.Code))
	if err != nil {
		return a, fmt.Errorf("open return address: %w", err)
	}
	if err := json.Unmarshal(plain, &a); err != nil || a.Outbox == "" {
		return a, fmt.Errorf("return address unreadable")
	}
	return a, nil
}

// Deliver hands the waiting messages of an outbox to send, acknowledging each one that was
// sent; one that failed stays and is tried again on the next call. consumer must be
// stable across restarts, so a crashed consumer's unacknowledged messages come back to it.
func (e *Engine) Deliver(ctx context.Context, outbox, consumer string, block time.Duration, send func(ctx context.Context, to string, msgs []Message) error) (int, error) {
	if e.cfg.Outbox == nil {
		return 0, errors.New("deliver: no outbox configured")
	}
	ds, err := e.cfg.Outbox.ReadOutbox(ctx, outbox, consumer, 50, block)
	if err != nil {
		return 0, fmt.Errorf("deliver: %w", err)
	}
	sent := 0
	for _, dv := range ds {
		plain, err := e.cfg.Keys.Open(dv.Sealed, sealContext(SealedOutbox, outbox))
		var p deliveryPayload
		if err == nil {
			err = json.Unmarshal(plain, &p)
		}
		if err != nil {
			// Unreadable forever (key gone): drop it rather than block the queue.
			e.log.Error("undeliverable outbox entry dropped", "channel", outboxChannel(outbox), "err", err)
			if err := e.cfg.Outbox.AckOutbox(ctx, outbox, dv.ID); err != nil {
				return sent, fmt.Errorf("deliver: %w", err)
			}
			continue
		}
		err = send(ctx, p.To, p.Messages)
		e.cfg.Meter.Delivered(outboxChannel(outbox), err != nil)
		if errors.Is(err, ErrUnreachable) {
			e.log.Warn("student unreachable; message dropped and case marked", "channel", outboxChannel(outbox))
			if err := e.markUnreachable(ctx, p.Code); err != nil {
				return sent, fmt.Errorf("deliver: %w", err)
			}
		} else if err != nil {
			return sent, fmt.Errorf("deliver: send: %w", err)
		}
		// Sent is sent: the acknowledgement must happen even if the caller is stopping,
		// or the student would get the message a second time.
		if err := e.cfg.Outbox.AckOutbox(context.WithoutCancel(ctx), outbox, dv.ID); err != nil {
			return sent, fmt.Errorf("deliver: %w", err)
		}
		sent++
	}
	return sent, nil
}

// Reannounce announces again every pending case that has waited past one working day
// unclaimed, at most once per working day each (urgent ones every hour), and returns how
// many it announced. Run it
// every few minutes on any replica: the revision check makes a concurrent run on another
// replica announce nothing twice.
func (d *Desk) Reannounce(ctx context.Context, ann Announcements) (int, error) {
	open, err := d.cfg.Cases.OpenCases(ctx)
	if err != nil {
		return 0, fmt.Errorf("reannounce: %w", err)
	}
	now := d.cfg.Now()
	day := d.cfg.Hours.WorkingDay()
	n := 0
	for _, c := range open {
		since := c.Announced
		if since.IsZero() {
			since = c.Created
		}
		urgent := len(c.Urgent) > 0
		switch {
		case c.Status != StatusPending:
			continue
		case urgent && now.Sub(since) < urgentReannounceWait:
			// Urgent cases are announced again every hour, day and night, until claimed:
			// a counsellor who reads the group out of hours may still act.
			continue
		case !urgent && d.cfg.Hours.WorkingTime(since, now) < day:
			continue
		}
		c.Announced = now.UTC()
		err := d.cfg.Cases.SaveCase(ctx, c)
		if errors.Is(err, ErrConflict) {
			continue // claimed or announced meanwhile; the next run looks again
		}
		if err != nil {
			return n, fmt.Errorf("reannounce: %w", err)
		}
		if err := ann.Announce(ctx, Announcement{Code: c.Code, Reason: "waiting"}); err != nil {
			return n, fmt.Errorf("reannounce: %w", err)
		}
		n++
	}
	return n, nil
}

// markUnreachable records on the case that its student's channel no longer takes messages.
func (e *Engine) markUnreachable(ctx context.Context, code string) error {
	if code == "" {
		return nil
	}
	for attempt := 0; attempt < 5; attempt++ {
		c, err := e.cfg.Cases.GetCase(ctx, code)
		if err != nil || c == nil || c.Unreachable || c.Status == StatusWithdrawn {
			return err
		}
		c.Unreachable = true
		err = e.cfg.Cases.SaveCase(ctx, c)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return err
	}
	return fmt.Errorf("mark unreachable: %w", ErrConflict)
}

// Account returns a desk account by name, for a channel that knows a counsellor by their
// platform id from configuration (a Claim button in a counsellor group); nil when there is
// no such account. It checks no password: the channel vouches for the person.
func (d *Desk) Account(ctx context.Context, name string) (*Account, error) {
	acc, err := d.cfg.Accounts.GetAccount(ctx, strings.ToLower(strings.TrimSpace(name)))
	if err != nil || acc == nil {
		return nil, err
	}
	acc.PassHash = ""
	return acc, nil
}

// Notice returns what a counsellor group may see of a case: its coded fields, status,
// urgency and waiting time, never its story or thread. It needs no account: a group notice
// is posted by the service, not by a person.
func (d *Desk) Notice(ctx context.Context, code string) (*QueueItem, error) {
	c, err := d.load(ctx, code)
	if err != nil {
		return nil, err
	}
	item := d.item(c, &Account{})
	return &item, nil
}

// outboxChannel is the channel part of an outbox name ("web" of "web:<key>"): logs name the
// channel, never the conversation.
func outboxChannel(outbox string) string {
	channel, _, _ := strings.Cut(outbox, ":")
	return channel
}
