package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"intake/flows"
	"intake/locales"
)

// DefaultNumbers are the Dutch national services (DESIGN.md §5), shown when the content
// has no crisis file (flows/crisis.yaml holds the numbers the support officer edits).
var DefaultNumbers = flows.Numbers{
	Emergency:            "112",
	SexualViolenceCentre: "0800-0188",
	SuicideLine:          "113",
	SuicideLineFree:      "0800-0113",
	VictimSupport:        "0900-0101",
	Police:               "0900-8844",
}

// Config wires an Engine. Sessions, Cases and Keys are required.
type Config struct {
	Sessions SessionStore
	Cases    CaseStore
	Keys     *Keyring
	Archive  FlowArchive // optional: without it an old version survives only in this process
	Outbox   Outbox      // optional: needed to reach students outside their own turns
	// Accounts counts failed receipt attempts; without it receipts are not rate limited.
	Accounts AccountStore
	Numbers  flows.Numbers // used when the content has no crisis file
	Logger   *slog.Logger
	// FlowID is the flow a conversation starts with (default "intake").
	FlowID string
	// LockWait bounds how long a turn waits for another turn of the same conversation.
	LockWait time.Duration
	// MaxText is the longest text a student may type at once, in characters.
	MaxText int
	// Hours are the office hours; their time zone is the one appointment times are shown in.
	Hours OfficeHours
	// Meter counts turns, deliveries, claims and rate-limit hits; optional.
	Meter Meter
	// Sent keeps the marks of replies that reached the student (see Delivered); optional:
	// without it only this process knows, and a repeated update from another replica's
	// turn gets its reply again.
	Sent SentMarks
	// SessionTTL and Retention are what the store and the purge are configured with (an idle
	// session's lifetime; how long case content stays after close). The engine only tells
	// the student, in the privacy text, so the text cannot drift from the configuration.
	SessionTTL time.Duration
	Retention  time.Duration
	Now        func() time.Time
}

// Engine runs conversations. It holds no per-conversation state: every turn loads the
// session under the conversation's lock and saves it before the lock is released.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	content atomic.Pointer[Content]
	// versions keeps every flow version seen, by hash, so pinned sessions can finish on it.
	versions sync.Map
	// marks batches the delivery marks of replies (see Delivered).
	marks *markBatch
}

// DefaultMaxText leaves room under Telegram's 4096-character message limit.
const DefaultMaxText = 4000

// NewEngine returns an engine serving content.
func NewEngine(cfg Config, content *Content) (*Engine, error) {
	if cfg.Sessions == nil || cfg.Cases == nil || cfg.Keys == nil {
		return nil, errors.New("engine needs a session store, a case store and a keyring")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FlowID == "" {
		cfg.FlowID = "intake"
	}
	if cfg.LockWait == 0 {
		cfg.LockWait = 5 * time.Second
	}
	if cfg.MaxText == 0 {
		cfg.MaxText = DefaultMaxText
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Meter == nil {
		cfg.Meter = noMeter{}
	}
	if cfg.Hours.Loc == nil {
		cfg.Hours = DefaultOfficeHours()
	}
	if cfg.Numbers.Emergency == "" {
		cfg.Numbers = DefaultNumbers
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	cfg.Cases = withClock(cfg.Cases, cfg.Keys, cfg.Hours)
	e := &Engine{cfg: cfg, log: cfg.Logger, marks: newMarkBatch(cfg.Sent, cfg.Logger)}
	if err := e.Publish(context.Background(), content); err != nil {
		return nil, err
	}
	return e, nil
}

// Publish makes content live. Conversations in progress keep the flow version they started
// on; new ones get the new version.
func (e *Engine) Publish(ctx context.Context, c *Content) error {
	if c == nil || c.Flows[e.cfg.FlowID] == nil {
		return fmt.Errorf("publish: no flow %q", e.cfg.FlowID)
	}
	for _, f := range c.Flows {
		if e.cfg.Archive != nil {
			if err := e.cfg.Archive.PutFlow(ctx, f.ID, f.Hash, f.Source); err != nil {
				return fmt.Errorf("publish flow %s: %w", f.ID, err)
			}
		}
		e.versions.Store(f.ID+"/"+f.Hash, f)
	}
	e.content.Store(c)
	return nil
}

// Content returns the live content.
func (e *Engine) Content() *Content { return e.content.Load() }

// flowVersion finds the pinned version of a flow: in memory, else in the archive.
func (e *Engine) flowVersion(ctx context.Context, id, hash string) *flows.Flow {
	if f, ok := e.versions.Load(id + "/" + hash); ok {
		return f.(*flows.Flow)
	}
	if e.cfg.Archive == nil {
		return nil
	}
	src, err := e.cfg.Archive.GetFlow(ctx, id, hash)
	if err != nil || src == nil {
		if err != nil {
			e.log.Warn("flow archive unavailable", "flow", id, "err", err)
		}
		return nil
	}
	f, problems := flows.Parse(id+".yaml", src)
	if len(problems) > 0 || f.Hash != hash {
		e.log.Error("archived flow does not parse", "flow", id, "problems", len(problems))
		return nil
	}
	e.versions.Store(id+"/"+hash, f)
	return f
}

// Handle runs one turn. It always returns something to show: on failure the reply is a
// calm localized error and err carries the detail for the log (never personal data).
func (e *Engine) Handle(ctx context.Context, in Inbound) (Reply, error) {
	if in.Key == "" {
		return e.failure(in, ""), errors.New("handle: inbound without conversation key")
	}
	const attempts = 3
	start := time.Now()
	// The turn's log lines carry a random id, never anything derived from the student, so
	// an operator can follow one turn through the log without learning whose it was. The
	// id is in the returned error too, which the channel logs.
	id := randomID()
	log := e.log.With("turn", id)
	if rid := requestID(ctx); rid != "" {
		log = log.With("request", rid)
	}
	for attempt := 1; ; attempt++ {
		r, lang, err := e.turnOnce(ctx, in, log)
		if errors.Is(err, ErrLockLost) && attempt < attempts {
			continue
		}
		e.cfg.Meter.Turn(in.Channel, time.Since(start), err != nil)
		log.Debug("turn handled", "channel", in.Channel, "took", time.Since(start), "failed", err != nil)
		if err != nil {
			return e.failure(in, lang), fmt.Errorf("handle (turn %s): %w", id, err)
		}
		return r, nil
	}
}

func (e *Engine) turnOnce(ctx context.Context, in Inbound, log *slog.Logger) (Reply, string, error) {
	lockCtx, cancel := context.WithTimeout(ctx, e.cfg.LockWait)
	lock, data, err := e.cfg.Sessions.Lock(lockCtx, in.Key)
	cancel()
	if err != nil {
		return Reply{}, "", fmt.Errorf("lock conversation: %w", err)
	}
	// The turn's writes must finish even when the caller has gone: a half-done turn is what
	// would leave a conversation stuck.
	done, cancelDone := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelDone()

	s, unreadable := e.openSession(log, in.Key, data)
	t := e.newTurn(ctx, in, s)
	t.log = log
	if unreadable {
		t.say(msgFlowChanged, nil)
	}
	if err := t.runSafely(); err != nil {
		if uerr := e.cfg.Sessions.Unlock(done, lock); uerr != nil {
			log.Warn("unlock after failed turn", "err", uerr)
		}
		return Reply{}, t.lang(), err
	}
	t.keepReply()
	if t.erase {
		err = e.cfg.Sessions.Delete(done, lock)
	} else {
		err = e.saveSession(done, lock, t.s)
	}
	if err != nil {
		return Reply{}, t.lang(), fmt.Errorf("save conversation: %w", err)
	}
	return Reply{Messages: t.out, Path: t.path, Repeat: t.repeated}, t.lang(), nil
}

func sessionContext(key string) []byte { return sealContext(SealedSession, key) }

// openSession unseals a stored session. An unreadable one (key rotated away, corrupted) is
// replaced by a fresh start rather than leaving the student stuck on an error forever.
func (e *Engine) openSession(log *slog.Logger, key string, data []byte) (*Session, bool) {
	if data == nil {
		return nil, false
	}
	plain, err := e.cfg.Keys.Open(data, sessionContext(key))
	if err == nil {
		var s Session
		if err = json.Unmarshal(plain, &s); err == nil {
			return &s, false
		}
	}
	log.Warn("stored session unreadable; starting the conversation again", "err", err)
	return nil, true
}

func (e *Engine) saveSession(ctx context.Context, lock Lock, s *Session) error {
	sealed, err := e.SealSession(lock.Key, s)
	if err != nil {
		return err
	}
	return e.cfg.Sessions.Save(ctx, lock, sealed)
}

// SealSession encodes and seals s for the conversation key, exactly as a turn stores it.
// `intake bench` fills Redis with realistic sessions through it without running each
// conversation.
func (e *Engine) SealSession(key string, s *Session) ([]byte, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	return e.cfg.Keys.Seal(plain, sessionContext(key)), nil
}

// Session returns a copy of the stored session of a conversation, or nil. It takes the
// conversation lock for a moment, so it never sees a turn half done.
func (e *Engine) Session(ctx context.Context, key string) (*Session, error) {
	lock, data, err := e.cfg.Sessions.Lock(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("lock conversation: %w", err)
	}
	if err := e.cfg.Sessions.Unlock(ctx, lock); err != nil {
		return nil, fmt.Errorf("unlock conversation: %w", err)
	}
	s, _ := e.openSession(e.log, key, data)
	return s, nil
}

// failure is the reply when a turn could not run. It needs no session, so it works even
// when Redis is down.
func (e *Engine) failure(in Inbound, lang string) Reply {
	if lang == "" {
		lang = resolveLang(in.LangHint)
	}
	if !locales.IsFull(lang) {
		lang = locales.DefaultLang
	}
	cat := e.Content().Catalog
	var r Reply
	if e.crisisSignal(in.Text) {
		// Even when the turn itself failed, a student in danger gets the numbers first.
		if text, err := cat.Text(lang, msgCrisis, e.numbersData()); err == nil {
			r.Messages = append(r.Messages, Message{Text: text})
		}
	}
	text, err := cat.Text(lang, msgError, e.numbersData())
	if err != nil {
		// The last resort must still point to help; it is deliberately bilingual.
		text = "Er ging iets mis. Probeer het zo opnieuw. In gevaar? Bel 112. / Something went wrong. Please try again shortly. In danger? Call 112."
	}
	r.Messages = append(r.Messages, Message{Text: text})
	return r
}
