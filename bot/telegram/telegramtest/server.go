// Package telegramtest is a fake Telegram Bot API for tests and benchmarks of bots built on
// github.com/go-telegram/bot. The real client talks to it over loopback HTTP: give URL to
// bot.WithServerURL, or to intake as INTAKE_TELEGRAM_SERVER_URL.
//
// It answers the methods intake calls (getMe, setMyCommands, setWebhook, deleteWebhook,
// getWebhookInfo, getUpdates, sendMessage, editMessageText, editMessageReplyMarkup,
// sendChatAction, answerCallbackQuery) as Telegram does, records what each chat received,
// and brings updates in both of Telegram's ways: queued for getUpdates (Push), handed out
// again until a later getUpdates confirms them with its offset, or posted to webhook
// addresses with the secret token header, again and again until one answers 2xx (Post).
// Calls can be made to fail (Fail), e.g. with a 429 or a 403.
//
// A typical test:
//
//	api := telegramtest.NewServer(token)
//	defer api.Close()
//	// ... start the bot with api.URL() ...
//	student := telegramtest.User{ID: 1001, Lang: "en"}
//	api.Push(api.TextUpdate(student, "/start"))
//	msgs, err := api.WaitMessages(ctx, student.ID, 3)
//	// tap the first button of the last message:
//	api.Push(api.TapUpdate(student, msgs[2], msgs[2].Buttons[0].Data))
//
// It imports nothing of intake and no testing package, so a benchmark binary can use it.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
)

// maxMessage is Telegram's limit on a message text, in UTF-16 code units.
const maxMessage = 4096

// maxCalls bounds how many calls are kept for Calls (they are still counted), so a long
// benchmark does not grow without end; messages are all kept until Reset.
const maxCalls = 20000

// Server is a fake Bot API on a loopback port. It is safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	token  string
	client *http.Client // posts webhook updates

	nextUpdate atomic.Int64

	mu sync.Mutex
	// changed is closed and replaced whenever anything is recorded; chatChanged likewise
	// per chat, whenever a message to that chat is sent or edited.
	changed     chan struct{}
	chatChanged map[int64]chan struct{}
	nextMsg     int
	msgs        []*Message
	byChat      map[int64][]*Message
	calls       []Call
	counts      map[string]int
	answers     []Answer
	answered    map[string]bool
	fails       []*Failure
	queue       []*queued
	handouts    map[int64]int
	polls       map[string]int
	inflight    map[string]int
	overlap     bool
	hookSecret  string
	hookURLs    []string
}

// Message is one message the bot sent.
type Message struct {
	ID        int
	Chat      int64
	Text      string
	Buttons   []Button
	ParseMode string
	At        time.Time
	// Keyboardless is set once its buttons were taken off (editMessageReplyMarkup).
	Keyboardless bool
	// Edits holds its earlier texts when editMessageText changed it, oldest first.
	Edits []string
}

// Button is an inline button: its label and its callback data.
type Button struct{ Text, Data string }

// Call is one Bot API call: the replica it came through (see ReplicaURL), the method and
// its parameters (objects such as reply_markup as their JSON text).
type Call struct {
	Replica, Method string
	Form            map[string]string
	At              time.Time
}

// Answer is one answerCallbackQuery.
type Answer struct {
	ID, Text string
	Alert    bool
}

// NewServer starts a fake Bot API that accepts token. Close it when done.
func NewServer(token string) *Server {
	s := &Server{
		token: token, changed: make(chan struct{}), chatChanged: map[int64]chan struct{}{},
		byChat: map[int64][]*Message{}, counts: map[string]int{}, answered: map[string]bool{},
		polls: map[string]int{}, inflight: map[string]int{}, handouts: map[int64]int{}, nextMsg: 100,
		client: &http.Client{Timeout: webhookTimeout},
	}
	s.nextUpdate.Store(5000)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server at once, cutting calls still held open (getUpdates): from then on
// the bot's calls fail as if Telegram were unreachable. Closing twice is fine.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.client.CloseIdleConnections()
}

// URL is the server's address, for bot.WithServerURL (no trailing slash).
func (s *Server) URL() string { return s.srv.URL }

// ReplicaURL is URL for one of several bots on the same token: the calls made through it
// are recorded with replica's name (Call.Replica, Polls).
func (s *Server) ReplicaURL(replica string) string { return s.srv.URL + "/" + url.PathEscape(replica) }

// Reset forgets the messages, calls and answers recorded so far (not the queued updates,
// the failures or the webhook), e.g. between the rounds of a benchmark.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs, s.byChat, s.calls, s.counts = nil, map[int64][]*Message{}, nil, map[string]int{}
	s.answers, s.answered = nil, map[string]bool{}
	s.notify(0)
}

// notify wakes Wait, and WaitMessages of chat (0: no chat). Call it with mu held.
func (s *Server) notify(chat int64) {
	close(s.changed)
	s.changed = make(chan struct{})
	if ch, ok := s.chatChanged[chat]; ok && chat != 0 {
		close(ch)
		delete(s.chatChanged, chat)
	}
}

// Wait returns once cond holds, checking it whenever the server records something, or
// returns ctx's error when ctx ends first. cond may call the Server's methods.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitMessages returns the messages sent to chat once there are at least n, or ctx's error
// (with what was there) when ctx ends first. It wakes only for that chat, so thousands of
// waiting chats cost little.
func (s *Server) WaitMessages(ctx context.Context, chat int64, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs := s.messagesLocked(chat)
		ch, ok := s.chatChanged[chat]
		if !ok {
			ch = make(chan struct{})
			s.chatChanged[chat] = ch
		}
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return msgs, fmt.Errorf("chat %d has %d messages, waited for %d: %w", chat, len(msgs), n, ctx.Err())
		}
	}
}

// Messages returns copies of the messages sent to chat, oldest first.
func (s *Server) Messages(chat int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chat)
}

func (s *Server) messagesLocked(chat int64) []Message {
	out := make([]Message, 0, len(s.byChat[chat]))
	for _, m := range s.byChat[chat] {
		c := *m
		c.Buttons = append([]Button(nil), m.Buttons...)
		c.Edits = append([]string(nil), m.Edits...)
		out = append(out, c)
	}
	return out
}

// Count returns how many messages to chat contain text.
func (s *Server) Count(chat int64, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.byChat[chat] {
		if strings.Contains(m.Text, text) {
			n++
		}
	}
	return n
}

// Calls returns the recorded calls of method ("" for all), oldest first. Only the first
// 20,000 calls are kept; CallCount counts them all.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// CallCount returns how many calls of method were made.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method]
}

// Answers returns the answered button taps, oldest first.
func (s *Server) Answers() []Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Answer(nil), s.answers...)
}

// Transcript lists every message sent, for a failing test's output.
func (s *Server) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, m := range s.msgs {
		fmt.Fprintf(&b, "  [%d #%d] %q", m.Chat, m.ID, m.Text)
		for _, bt := range m.Buttons {
			fmt.Fprintf(&b, " [%s]", bt.Text)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CallLog lists the calls kept (without getUpdates), for a failing test's output.
func (s *Server) CallLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, c := range s.calls {
		if strings.HasPrefix(c.Method, "getUpdates") {
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s %s\n", c.At.Format("15:04:05.000"), c.Replica, c.Method, c.Form["chat_id"])
	}
	return b.String()
}

// record keeps a call; mu held.
func (s *Server) record(c Call) {
	s.counts[c.Method]++
	if len(s.calls) < maxCalls {
		s.calls = append(s.calls, c)
	}
}

// serve answers /[<replica>/]bot<token>/<method>.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	replica := ""
	if len(parts) == 3 {
		replica, parts = parts[0], parts[1:]
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "bot") || r.Method != http.MethodPost && r.Method != http.MethodGet {
		reply(w, http.StatusNotFound, "Not Found", 0, nil)
		return
	}
	if parts[0] != "bot"+s.token {
		reply(w, http.StatusUnauthorized, "Unauthorized", 0, nil)
		return
	}
	method := parts[1]
	form := readForm(r)
	// Read the body to its end: only then does the server watch the connection, so a held
	// getUpdates learns at once that its client gave up.
	_, _ = io.Copy(io.Discard, r.Body)
	if method == "getUpdates" {
		s.getUpdates(w, r, replica, form)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.record(Call{Replica: replica, Method: method, Form: form, At: now})
	chat, _ := strconv.ParseInt(form["chat_id"], 10, 64)
	defer s.notify(chat)
	for _, f := range s.fails {
		if f.times != 0 && f.method == method && (f.chat == 0 || f.chat == chat) {
			if f.times > 0 {
				f.times--
			}
			f.served = append(f.served, now)
			reply(w, f.code, f.desc, f.retryAfter, nil)
			return
		}
	}
	switch method {
	case "getMe":
		reply(w, http.StatusOK, "", 0, map[string]any{"id": 1, "is_bot": true, "first_name": "Intake", "username": "intake_test_bot"})
	case "setMyCommands", "deleteMyCommands", "sendChatAction":
		reply(w, http.StatusOK, "", 0, true)
	case "setWebhook":
		s.hookSecret, s.hookURLs = form["secret_token"], []string{form["url"]}
		reply(w, http.StatusOK, "", 0, true)
	case "deleteWebhook":
		s.hookSecret, s.hookURLs = "", nil
		reply(w, http.StatusOK, "", 0, true)
	case "getWebhookInfo":
		info := map[string]any{"url": "", "has_custom_certificate": false, "pending_update_count": len(s.queue)}
		if len(s.hookURLs) > 0 {
			info["url"] = s.hookURLs[0]
		}
		reply(w, http.StatusOK, "", 0, info)
	case "answerCallbackQuery":
		id := form["callback_query_id"]
		if s.answered[id] {
			reply(w, http.StatusBadRequest, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0, nil)
			return
		}
		s.answered[id] = true
		s.answers = append(s.answers, Answer{ID: id, Text: form["text"], Alert: form["show_alert"] == "true"})
		reply(w, http.StatusOK, "", 0, true)
	case "sendMessage":
		s.sendMessage(w, form, chat, now)
	case "editMessageReplyMarkup", "editMessageText":
		s.edit(w, method, form, chat)
	default:
		reply(w, http.StatusNotFound, "Not Found: method not found", 0, nil)
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, form map[string]string, chat int64, now time.Time) {
	text := form["text"]
	switch {
	case chat == 0:
		reply(w, http.StatusBadRequest, "Bad Request: chat not found", 0, nil)
		return
	case strings.TrimSpace(text) == "":
		reply(w, http.StatusBadRequest, "Bad Request: message text is empty", 0, nil)
		return
	case len(utf16.Encode([]rune(text))) > maxMessage:
		reply(w, http.StatusBadRequest, "Bad Request: message is too long", 0, nil)
		return
	}
	buttons, ok := keyboard(form["reply_markup"])
	if !ok {
		reply(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object", 0, nil)
		return
	}
	s.nextMsg++
	m := &Message{ID: s.nextMsg, Chat: chat, Text: text, Buttons: buttons, ParseMode: form["parse_mode"], At: now}
	s.msgs = append(s.msgs, m)
	s.byChat[chat] = append(s.byChat[chat], m)
	reply(w, http.StatusOK, "", 0, messageJSON(m))
}

func (s *Server) edit(w http.ResponseWriter, method string, form map[string]string, chat int64) {
	id, _ := strconv.Atoi(form["message_id"])
	var m *Message
	for _, x := range s.byChat[chat] {
		if x.ID == id {
			m = x
		}
	}
	if m == nil {
		reply(w, http.StatusBadRequest, "Bad Request: message to edit not found", 0, nil)
		return
	}
	buttons, ok := keyboard(form["reply_markup"])
	if !ok {
		reply(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object", 0, nil)
		return
	}
	if method == "editMessageReplyMarkup" && len(buttons) == 0 && len(m.Buttons) == 0 {
		reply(w, http.StatusBadRequest, "Bad Request: message is not modified", 0, nil)
		return
	}
	m.Buttons = buttons
	m.Keyboardless = len(buttons) == 0
	if method == "editMessageText" {
		m.Edits = append(m.Edits, m.Text)
		m.Text = form["text"]
	}
	reply(w, http.StatusOK, "", 0, messageJSON(m))
}

// readForm reads a call's parameters: multipart (what go-telegram/bot sends), URL-encoded
// or JSON. Object values become their JSON text, as in a form.
func readForm(r *http.Request) map[string]string {
	form := map[string]string{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				form[k] = v[0]
			}
		}
	case strings.HasPrefix(ct, "application/json"):
		var obj map[string]json.RawMessage
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&obj) == nil {
			for k, v := range obj {
				var str string
				if json.Unmarshal(v, &str) == nil {
					form[k] = str
				} else {
					form[k] = string(v)
				}
			}
		}
	default:
		if err := r.ParseForm(); err == nil {
			for k, v := range r.Form {
				form[k] = v[0]
			}
		}
	}
	return form
}

// keyboard reads a reply_markup. Unknown fields are accepted (the library's own button
// type always carries "copy_text":{"text":""}); each button needs text and at most 64
// bytes of data, as Telegram requires.
func keyboard(markup string) ([]Button, bool) {
	if markup == "" {
		return nil, true
	}
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(markup), &kb); err != nil {
		return nil, false
	}
	var out []Button
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" || b.CallbackData == "" || len(b.CallbackData) > 64 {
				return nil, false
			}
			out = append(out, Button{Text: b.Text, Data: b.CallbackData})
		}
	}
	return out, true
}

// messageJSON is a sent message as the Bot API returns it.
func messageJSON(m *Message) map[string]any {
	return map[string]any{"message_id": m.ID, "date": m.At.Unix(), "chat": chatJSON(m.Chat, nil), "text": m.Text}
}

// chatJSON is a chat object: private for a user's id, a supergroup for a negative id.
func chatJSON(id int64, u *User) map[string]any {
	if id < 0 {
		return map[string]any{"id": id, "type": "supergroup", "title": "Counsellors"}
	}
	c := map[string]any{"id": id, "type": "private"}
	if u != nil {
		u.names(c)
	}
	return c
}

// reply writes a Bot API answer: {"ok":true,"result":...} or an error with its code.
func reply(w http.ResponseWriter, code int, desc string, retryAfter int, result any) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusOK {
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
