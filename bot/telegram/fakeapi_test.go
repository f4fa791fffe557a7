package telegram_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is a Bot API server for the real go-telegram/bot client: every call is a
// multipart POST to /<replica>/bot<token>/<method>; answers are {"ok":...,"result":...}.
// It records what the bot sent, serves queued updates to getUpdates (held open while there
// are none, as the real one is), and fails calls on request.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever anything is recorded
	queue   []json.RawMessage
	nextID  int
	msgs    []*sentMsg
	calls   []apiCall
	answers []cbAnswer
	fails   []*failRule
	// Polling per replica: how many getUpdates each sent, how many are open now, and
	// whether two replicas ever had one open at the same time.
	polls    map[string]int
	inflight map[string]int
	overlap  bool
}

type sentMsg struct {
	ID        int
	Chat      int64
	Text      string
	Buttons   []button
	ParseMode string
	At        time.Time
	// Keyboardless is set when the buttons were removed (editMessageReplyMarkup).
	Keyboardless bool
	Edits        []string
}

type button struct{ Text, Data string }

type apiCall struct {
	Replica, Method string
	Form            map[string]string
	At              time.Time
}

type cbAnswer struct {
	ID, Text string
	Alert    bool
}

// failRule answers matching calls with an error; times < 0 means always.
type failRule struct {
	method     string
	chat       int64
	code       int
	desc       string
	retryAfter int
	times      int
	served     []time.Time
}

func newFakeAPI(t *testing.T, token string) *fakeAPI {
	f := &fakeAPI{t: t, token: token, changed: make(chan struct{}), polls: map[string]int{}, inflight: map[string]int{}, nextID: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the server address a replica uses; the replica's name is the path's first part.
func (f *fakeAPI) url(replica string) string { return f.srv.URL + "/" + replica }

func (f *fakeAPI) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// push queues updates for the next getUpdates, in this order.
func (f *fakeAPI) push(updates ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range updates {
		b, err := json.Marshal(u)
		if err != nil {
			f.t.Fatal(err)
		}
		f.queue = append(f.queue, b)
	}
	f.notify()
}

// fail makes the next times calls of method to chat (0: any chat) fail.
func (f *fakeAPI) fail(method string, chat int64, code int, desc string, retryAfter, times int) *failRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &failRule{method: method, chat: chat, code: code, desc: desc, retryAfter: retryAfter, times: times}
	f.fails = append(f.fails, r)
	return r
}

// wait blocks until cond (called under the lock) holds, failing the test after a while.
func (f *fakeAPI) wait(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			f.t.Fatalf("timed out waiting for %s\nmessages sent:\n%s\ncalls:\n%s", what, f.transcript(), f.callLog())
		}
	}
}

// messages returns a copy of what was sent to chat.
func (f *fakeAPI) messages(chat int64) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.messagesLocked(chat)
}

func (f *fakeAPI) messagesLocked(chat int64) []sentMsg {
	var out []sentMsg
	for _, m := range f.msgs {
		if m.Chat == chat {
			out = append(out, *m)
		}
	}
	return out
}

// countLocked counts the messages to chat that contain s.
func (f *fakeAPI) countLocked(chat int64, s string) int {
	n := 0
	for _, m := range f.msgs {
		if m.Chat == chat && strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

// tapAndAnswer pushes a callback query update and returns the bot's answer to it.
func (f *fakeAPI) tapAndAnswer(update map[string]any) cbAnswer {
	f.t.Helper()
	id := update["callback_query"].(map[string]any)["id"].(string)
	f.push(update)
	var a cbAnswer
	f.wait("the answer to tap "+id, func() bool {
		for _, x := range f.answers {
			if x.ID == id {
				a = x
				return true
			}
		}
		return false
	})
	return a
}

func (f *fakeAPI) answerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.answers)
}

func (f *fakeAPI) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) callLog() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		if c.Method == "getUpdates" {
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s %v\n", c.At.Format("15:04:05.000"), c.Replica, c.Method, c.Form["chat_id"]+c.Form["n"])
	}
	return b.String()
}

func (f *fakeAPI) transcript() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, m := range f.msgs {
		fmt.Fprintf(&b, "  [%d #%d] %q", m.Chat, m.ID, m.Text)
		for _, bt := range m.Buttons {
			fmt.Fprintf(&b, " [%s]", bt.Text)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	// /<replica>/bot<token>/<method>
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 3 || r.Method != http.MethodPost {
		reply(w, 404, "Not Found", 0, nil)
		return
	}
	replica, method := parts[0], parts[2]
	if parts[1] != "bot"+f.token {
		reply(w, 401, "Unauthorized", 0, nil)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		f.t.Errorf("%s: content type %q, want multipart/form-data", method, r.Header.Get("Content-Type"))
	}
	form := map[string]string{}
	if err := r.ParseMultipartForm(1 << 20); err == nil {
		for k, v := range r.MultipartForm.Value {
			form[k] = v[0]
		}
	}
	// Read the body to its end: only then does the server watch the connection, so a
	// held getUpdates learns at once that its client gave up.
	_, _ = io.Copy(io.Discard, r.Body)
	if method == "getUpdates" {
		f.getUpdates(w, r, replica)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notify()
	now := time.Now()
	f.calls = append(f.calls, apiCall{Replica: replica, Method: method, Form: form, At: now})
	chat, _ := strconv.ParseInt(form["chat_id"], 10, 64)
	for _, rule := range f.fails {
		if rule.times != 0 && rule.method == method && (rule.chat == 0 || rule.chat == chat) {
			if rule.times > 0 {
				rule.times--
			}
			rule.served = append(rule.served, now)
			reply(w, rule.code, rule.desc, rule.retryAfter, nil)
			return
		}
	}
	switch method {
	case "getMe":
		reply(w, 200, "", 0, map[string]any{"id": 1, "is_bot": true, "first_name": "Intake", "username": "intake_test_bot"})
	case "setMyCommands", "deleteWebhook", "sendChatAction":
		reply(w, 200, "", 0, true)
	case "answerCallbackQuery":
		f.answers = append(f.answers, cbAnswer{ID: form["callback_query_id"], Text: form["text"], Alert: form["show_alert"] == "true"})
		reply(w, 200, "", 0, true)
	case "sendMessage":
		if form["text"] == "" {
			reply(w, 400, "Bad Request: message text is empty", 0, nil)
			return
		}
		buttons, ok := f.keyboard(form["reply_markup"])
		if !ok {
			reply(w, 400, "Bad Request: can't parse reply keyboard markup JSON object", 0, nil)
			return
		}
		f.nextID++
		m := &sentMsg{ID: f.nextID, Chat: chat, Text: form["text"], Buttons: buttons, ParseMode: form["parse_mode"], At: now}
		f.msgs = append(f.msgs, m)
		reply(w, 200, "", 0, f.message(m))
	case "editMessageReplyMarkup", "editMessageText":
		id, _ := strconv.Atoi(form["message_id"])
		var m *sentMsg
		for _, x := range f.msgs {
			if x.ID == id && x.Chat == chat {
				m = x
			}
		}
		if m == nil {
			reply(w, 400, "Bad Request: message to edit not found", 0, nil)
			return
		}
		buttons, ok := f.keyboard(form["reply_markup"])
		if !ok {
			reply(w, 400, "Bad Request: can't parse reply keyboard markup JSON object", 0, nil)
			return
		}
		m.Buttons = buttons
		m.Keyboardless = len(buttons) == 0
		if method == "editMessageText" {
			m.Edits = append(m.Edits, m.Text)
			m.Text = form["text"]
		}
		reply(w, 200, "", 0, f.message(m))
	default:
		reply(w, 404, "Not Found: method not found", 0, nil)
	}
}

// keyboard reads a reply_markup. Unknown fields are accepted (the library's own button
// type always carries "copy_text":{"text":""}); each button must have text and data.
func (f *fakeAPI) keyboard(markup string) ([]button, bool) {
	if markup == "" {
		return nil, true
	}
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string           `json:"text"`
			CallbackData string           `json:"callback_data"`
			CopyText     *json.RawMessage `json:"copy_text"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(markup), &kb); err != nil {
		return nil, false
	}
	var out []button
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" || b.CallbackData == "" || len(b.CallbackData) > 64 {
				return nil, false
			}
			out = append(out, button{Text: b.Text, Data: b.CallbackData})
		}
	}
	return out, true
}

func (f *fakeAPI) message(m *sentMsg) map[string]any {
	kind := "private"
	if m.Chat < 0 {
		kind = "supergroup"
	}
	return map[string]any{"message_id": m.ID, "date": m.At.Unix(), "chat": map[string]any{"id": m.Chat, "type": kind}, "text": m.Text}
}

// getUpdates answers at once when updates are queued, else holds the request until some
// are, the client gives up, or a short while passed (then: none).
func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, replica string) {
	f.mu.Lock()
	f.polls[replica]++
	f.inflight[replica]++
	for other, n := range f.inflight {
		if other != replica && n > 0 {
			f.overlap = true
		}
	}
	f.calls = append(f.calls, apiCall{Replica: replica, Method: "getUpdates", At: time.Now()})
	f.notify()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight[replica]--
		f.notify()
		f.mu.Unlock()
	}()

	hold := time.NewTimer(300 * time.Millisecond)
	defer hold.Stop()
	for {
		f.mu.Lock()
		var batch []json.RawMessage
		if r.Context().Err() == nil { // a poller that gave up takes nothing: it would be lost
			batch, f.queue = f.queue, nil
		}
		ch := f.changed
		f.mu.Unlock()
		if len(batch) > 0 {
			f.mu.Lock()
			f.calls = append(f.calls, apiCall{Replica: replica, Method: "getUpdates:served", Form: map[string]string{"n": strconv.Itoa(len(batch))}, At: time.Now()})
			f.mu.Unlock()
			reply(w, 200, "", 0, batch)
			return
		}
		select {
		case <-ch:
		case <-hold.C:
			reply(w, 200, "", 0, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func reply(w http.ResponseWriter, code int, desc string, retryAfter int, result any) {
	w.Header().Set("Content-Type", "application/json")
	if code == 200 {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
		return
	}
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
