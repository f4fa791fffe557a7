package discord_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Ids of the fake world.
const (
	appID      = "100000000000000001"
	botID      = "100000000000000001"
	guildID    = "300000000000000003"
	staffRoom  = "900000000000000009" // the counsellor channel
	fakeToken  = "MTAwMDAwMDAwMDAwMDAwMDAx.fake.token-secret-part"
	canaryName = "CANARY_username_zq"
	canaryGlob = "CANARY Global Name"
	canaryNick = "CANARY nick"
	canaryMail = "canary@example.org"
)

// fakeDiscord is Discord's REST API and gateway on httptest: it records every call in
// order (a global sequence, so tests compare order, never durations), answers like
// Discord, and pushes gateway events to the connected client.
type fakeDiscord struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	calls      []call
	msgs       map[string]*fakeMsg // by message id
	nextID     int
	conns      []*gwConn
	identifies int
	resumes    int
	gwSeq      int64
	// failWith answers POSTs to a channel's messages with an API error code (403).
	failWith map[string]int
	// limited answers the next n POSTs to a channel's messages with 429.
	limited map[string]int
	// attachmentFetched is set when anyone downloads an attachment.
	attachmentFetched bool
}

type call struct {
	Seq    int
	Method string
	Path   string
	Body   map[string]any // the JSON body, when it is an object
	Raw    []byte
	Status int
}

// fakeMsg is a message the bot posted, as Discord keeps it.
type fakeMsg struct {
	ID         string
	Channel    string
	Content    string
	Components json.RawMessage
}

type gwConn struct {
	c  *websocket.Conn
	mu sync.Mutex // writes
}

func (g *gwConn) write(v any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.c.WriteJSON(v)
}

// newFake starts the fake and points discordgo at it until the test ends. discordgo's
// endpoints are package variables, so these tests never run in parallel.
func newFake(t *testing.T) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{t: t, msgs: map[string]*fakeMsg{}, failWith: map[string]int{}, limited: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", f.gateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", f.gateway)
	mux.HandleFunc("GET /ws/", f.websocket)
	mux.HandleFunc("POST /api/v9/channels/{ch}/messages", f.createMessage)
	mux.HandleFunc("PATCH /api/v9/channels/{ch}/messages/{id}", f.editMessage)
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{id}", f.editMessage)
	mux.HandleFunc("GET /attachments/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.attachmentFetched = true
		f.mu.Unlock()
		w.Write([]byte("jpeg"))
	})
	mux.HandleFunc("/", f.other)
	f.srv = httptest.NewServer(mux)
	useEndpoints(t, f.srv.URL)
	t.Cleanup(f.close)
	return f
}

func (f *fakeDiscord) close() {
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, g := range conns {
		g.c.Close()
	}
	f.srv.Close()
}

// useEndpoints points every discordgo endpoint this package uses at base.
func useEndpoints(t *testing.T, base string) {
	vars := []*string{
		&discordgo.EndpointDiscord, &discordgo.EndpointAPI, &discordgo.EndpointGuilds,
		&discordgo.EndpointChannels, &discordgo.EndpointUsers, &discordgo.EndpointGateway,
		&discordgo.EndpointGatewayBot, &discordgo.EndpointWebhooks, &discordgo.EndpointApplications,
		&discordgo.EndpointCDN, &discordgo.EndpointCDNAttachments,
	}
	saved := make([]string, len(vars))
	for i, v := range vars {
		saved[i] = *v
	}
	api := base + "/api/v9/"
	discordgo.EndpointDiscord = base + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointCDN = base + "/"
	discordgo.EndpointCDNAttachments = base + "/attachments/"
	t.Cleanup(func() {
		for i, v := range vars {
			*v = saved[i]
		}
	})
}

// record notes a call and returns its sequence number.
func (f *fakeDiscord) record(r *http.Request, status int) (int, map[string]any) {
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := len(f.calls) + 1
	f.calls = append(f.calls, call{Seq: seq, Method: r.Method, Path: r.URL.Path, Body: body, Raw: raw, Status: status})
	return seq, body
}

func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bot "+fakeToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, `{"url":%q,"shards":1}`, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws/")
}

var upgrader = websocket.Upgrader{}

// websocket is the gateway: Hello, then Identify (READY) or Resume (RESUMED), then
// heartbeats answered until the connection ends.
func (f *fakeDiscord) websocket(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	g := &gwConn{c: c}
	defer c.Close()
	if g.write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 300}}) != nil {
		return
	}
	var first struct {
		Op int `json:"op"`
		D  struct {
			Token     string `json:"token"`
			SessionID string `json:"session_id"`
			Intents   int    `json:"intents"`
		} `json:"d"`
	}
	if c.ReadJSON(&first) != nil {
		return
	}
	f.mu.Lock()
	var ev map[string]any
	switch {
	case first.Op == 2 && first.D.Token == "Bot "+fakeToken:
		f.identifies++
		if first.D.Intents != int(discordgo.IntentsDirectMessages) {
			f.t.Errorf("identify with intents %d, want DirectMessages only (%d)", first.D.Intents, discordgo.IntentsDirectMessages)
		}
		f.gwSeq++
		ev = map[string]any{"op": 0, "t": "READY", "s": f.gwSeq, "d": map[string]any{
			"v": 9, "session_id": fmt.Sprintf("session-%d", f.identifies),
			"user":        map[string]any{"id": botID, "username": "intake-bot", "bot": true},
			"application": map[string]any{"id": appID, "flags": 0},
			"guilds":      []any{}, "private_channels": []any{},
		}}
	case first.Op == 6 && first.D.Token == "Bot "+fakeToken && first.D.SessionID != "":
		f.resumes++
		f.gwSeq++
		ev = map[string]any{"op": 0, "t": "RESUMED", "s": f.gwSeq, "d": map[string]any{}}
	default:
		f.mu.Unlock()
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		return
	}
	f.conns = append(f.conns, g)
	f.mu.Unlock()
	defer f.forget(g)
	if g.write(ev) != nil {
		return
	}
	for {
		var m struct {
			Op int `json:"op"`
		}
		if err := c.ReadJSON(&m); err != nil {
			return
		}
		if m.Op == 1 {
			if g.write(map[string]any{"op": 11}) != nil {
				return
			}
		}
	}
}

func (f *fakeDiscord) forget(g *gwConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.conns {
		if x == g {
			f.conns = append(f.conns[:i], f.conns[i+1:]...)
			return
		}
	}
}

// connections is how many gateway connections are open now.
func (f *fakeDiscord) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

func (f *fakeDiscord) counts() (identifies, resumes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identifies, f.resumes
}

// dispatch sends a gateway event to the connected client.
func (f *fakeDiscord) dispatch(typ string, d any) {
	f.t.Helper()
	f.mu.Lock()
	if len(f.conns) != 1 {
		f.mu.Unlock()
		f.t.Fatalf("dispatch %s: %d gateway connections, want 1", typ, len(f.conns))
	}
	g := f.conns[0]
	f.gwSeq++
	ev := map[string]any{"op": 0, "t": typ, "s": f.gwSeq, "d": d}
	f.mu.Unlock()
	if err := g.write(ev); err != nil {
		f.t.Fatalf("dispatch %s: %v", typ, err)
	}
}

// drop cuts the gateway connection without a close handshake, like a network failure.
func (f *fakeDiscord) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.conns {
		g.c.UnderlyingConn().Close()
	}
}

func (f *fakeDiscord) createMessage(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("ch")
	f.mu.Lock()
	code, limited := f.failWith[ch], f.limited[ch]
	if limited > 0 {
		f.limited[ch]--
	}
	f.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "Bot "+fakeToken:
		f.record(r, http.StatusUnauthorized)
		w.WriteHeader(http.StatusUnauthorized)
	case code != 0:
		f.record(r, http.StatusForbidden)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"message":"Cannot send messages to this user","code":%d}`, code)
	case limited > 0:
		f.record(r, http.StatusTooManyRequests)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`)
	default:
		_, body := f.record(r, http.StatusOK)
		f.mu.Lock()
		f.nextID++
		m := &fakeMsg{ID: fmt.Sprintf("5%017d", f.nextID), Channel: ch}
		m.Content, _ = body["content"].(string)
		m.Components, _ = json.Marshal(body["components"])
		f.msgs[m.ID] = m
		f.mu.Unlock()
		writeMessage(w, m)
	}
}

func (f *fakeDiscord) editMessage(w http.ResponseWriter, r *http.Request) {
	_, body := f.record(r, http.StatusOK)
	m := &fakeMsg{ID: r.PathValue("id"), Channel: r.PathValue("ch")}
	m.Content, _ = body["content"].(string)
	m.Components, _ = json.Marshal(body["components"])
	writeMessage(w, m)
}

func writeMessage(w http.ResponseWriter, m *fakeMsg) {
	w.Header().Set("Content-Type", "application/json")
	comps := m.Components
	if len(comps) == 0 || string(comps) == "null" {
		comps = json.RawMessage("[]")
	}
	json.NewEncoder(w).Encode(map[string]any{
		"id": m.ID, "channel_id": m.Channel, "content": m.Content, "components": comps, "type": 0,
	})
}

// other answers the calls that only need recording: typing, interaction responses,
// follow-ups, slash commands.
func (f *fakeDiscord) other(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case r.Method == "POST" && strings.HasSuffix(p, "/typing"),
		r.Method == "POST" && strings.HasPrefix(p, "/api/v9/interactions/") && strings.HasSuffix(p, "/callback"),
		r.Method == "POST" && strings.HasPrefix(p, "/api/v9/webhooks/"),
		r.Method == "DELETE" && strings.HasPrefix(p, "/api/v9/webhooks/"):
		f.record(r, http.StatusNoContent)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "PUT" && strings.HasPrefix(p, "/api/v9/applications/"+appID+"/commands"):
		f.record(r, http.StatusOK)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[]")
	default:
		f.record(r, http.StatusNotFound)
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404: Not Found","code":0}`)
	}
}

// since returns the calls after sequence number seq.
func (f *fakeDiscord) since(seq int) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls[min(seq, len(f.calls)):]...)
}

// last is the sequence number of the latest call.
func (f *fakeDiscord) last() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// message returns a posted message by id.
func (f *fakeDiscord) message(id string) *fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msgs[id]
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// user is the author object of events, with everything a real one carries that the
// channel must never keep.
func user(id string) map[string]any {
	return map[string]any{
		"id": id, "username": canaryName, "global_name": canaryGlob, "discriminator": "0",
		"avatar": "a_canaryavatarhash", "email": canaryMail, "locale": "en-GB",
	}
}
