package discord_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/discord"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// Event kinds the fuzzer builds (kind&7 % 6).
const (
	fuzzDM           = iota // a direct message
	fuzzGuildMessage        // a message in a server channel (the bot must not read it)
	fuzzButton              // a button press in a DM
	fuzzCommand             // a slash command in a DM
	fuzzClaim               // a button press in a server channel (a Claim in the counsellor channel)
	fuzzAttachment          // a DM with a file and text
)

// messageTypes are what a message's type may be: default, reply, and two system messages
// (a pin, a member joining) that are not a student's words.
var messageTypes = []int{0, 19, 6, 7}

// FuzzDiscordEvent: any message or interaction Discord could send (a DM, a server message,
// a button press, a slash command, a Claim, from a person or a bot, with any text, custom
// id, command name, locale and ids) goes through discordgo's decoding and the channel's own
// without a panic. A student's DM, button or command is answered in words, in their DM
// only and within Discord's limits; a server message gets nothing; and nothing of the event
// (text, ids, names) is in the log. kind picks the event (kind&7 % 6), the message type
// (kind>>3 & 3), whether a message's author is a bot (kind & 32; bots cannot press
// buttons or run commands), and whether a Claim comes from a counsellor (kind & 64).
func FuzzDiscordEvent(f *testing.F) {
	for _, seed := range []struct {
		kind            uint8
		text            string
		author, channel uint64
		locale          string
	}{
		{fuzzDM, "hallo", 49, 68, "nl"}, {fuzzDM, "/start", 50, 69, "en-GB"}, {fuzzDM, "  ", 51, 70, ""},
		{fuzzDM | 1<<3, "I want to report something", 52, 71, "en-US"}, {fuzzDM | 2<<3, "pinned", 53, 72, "en-GB"},
		{fuzzDM | 32, "a bot's DM", 54, 73, "en-GB"}, {fuzzGuildMessage, "hello server", 55, 74, "de"},
		{fuzzButton, "1:o:0", 56, 75, "en-GB"}, {fuzzButton, "g:forget", 57, 76, "nl"}, {fuzzButton, "", 58, 77, "xx"},
		{fuzzButton, "c:K7Q2-M9XD:abcd:0", 59, 78, "en-GB"}, {fuzzCommand, "start", 60, 79, "en-GB"},
		{fuzzCommand, "language", 61, 80, "nl"}, {fuzzCommand, "no-such-command", 62, 81, "en-GB"},
		{fuzzClaim, "claim:K7Q2-M9XD", 63, 82, "en-GB"}, {fuzzClaim | 64, "claim:K7Q2-M9XD", 64, 83, "en-GB"},
		{fuzzClaim | 64, "claim:", 65, 84, "en-GB"}, {fuzzAttachment, "see the photo", 66, 85, "en-GB"},
		{fuzzDM, strings.Repeat("*_~`|> ", 700), 67, 86, "en-GB"}, {fuzzDM, "\xff\xfe @everyone", 68, 87, "en-GB"},
	} {
		f.Add(seed.kind, seed.text, seed.author, seed.channel, seed.locale)
	}
	client, prefix := redistest.Client(f)
	store := redis.New(client, redis.Options{Prefix: prefix})
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(f, store, log)
	names, err := bot.NewPseudonyms(bytes.Repeat([]byte{7}, bot.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	cfg := discord.Config{
		Token: fakeToken, CounsellorChannel: staffRoom, Counsellors: map[string]string{annaID: "anna"},
		DeskURL: "https://desk.example/", Replica: "fuzz",
	}
	c, err := discord.New(cfg, discord.Deps{Engine: e, Desk: bottest.Desk(f, e, store, "anna"), Names: names, Leases: store, Announcements: store, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	rest := &restRecorder{}
	discord.SetHTTPClient(c, &http.Client{Transport: rest})
	discord.Settle(c)
	var ids atomic.Int64
	ids.Store(700000000000000000)
	f.Fuzz(func(t *testing.T, kind uint8, text string, author, channel uint64, locale string) {
		ev := fuzzEvent{
			kind: kind & 7 % 6, text: text, locale: locale, id: strconv.FormatInt(ids.Add(1), 10),
			author:  strconv.FormatUint(200000000000000000+author%100000000000000000, 10),
			channel: strconv.FormatUint(600000000000000000+channel%100000000000000000, 10),
			typ:     messageTypes[kind>>3&3], bot: kind&32 != 0,
		}
		if ev.kind == fuzzClaim {
			ev.channel = staffRoom
			if kind&64 != 0 {
				ev.author = annaID
			}
		}
		rest.reset()
		logged := len(logs.String())
		ev.send(t, c)
		discord.Settle(c)

		posts, answered := 0, false
		for _, call := range rest.taken() {
			if ch, ok := channelOf(call.Path); ok && ch != ev.channel {
				t.Fatalf("%s %s, but the event came from channel %s", call.Method, call.Path, ev.channel)
			}
			switch {
			case strings.Contains(call.Path, "/interactions/"):
				answered = true
			case call.Method == http.MethodPost && strings.HasSuffix(call.Path, "/messages"),
				call.Method == http.MethodPatch && strings.Contains(call.Path, "/webhooks/"):
				posts++
				content, _ := call.Body["content"].(string)
				comps, _ := call.Body["components"].([]any)
				if utf8.RuneCountInString(content) > 2000 || strings.TrimSpace(content) == "" && len(comps) == 0 {
					t.Fatalf("a message of %d characters and %d rows (empty, or over Discord's limit)", utf8.RuneCountInString(content), len(comps))
				}
			}
		}
		fromBot := ev.bot && (ev.kind == fuzzDM || ev.kind == fuzzAttachment)
		student := !fromBot && ev.kind != fuzzGuildMessage && ev.kind != fuzzClaim
		switch {
		case student && (ev.kind == fuzzButton || ev.kind == fuzzCommand) && (!answered || posts == 0):
			t.Fatalf("a student's interaction got answered=%v and %d messages; calls: %v", answered, posts, rest.taken())
		case student && (ev.kind == fuzzDM || ev.kind == fuzzAttachment) && (ev.typ == 0 || ev.typ == 19) &&
			(strings.TrimSpace(text) != "" || ev.kind == fuzzAttachment) && posts == 0:
			t.Fatalf("a student's DM got no answer; calls: %v", rest.taken())
		case !student && posts > 0:
			t.Fatalf("%d messages for an event that is not a student's: %v", posts, rest.taken())
		case posts > 20:
			t.Fatalf("%d messages for one event", posts)
		}
		log := logs.String()[logged:]
		if strings.Contains(log, "panic recovered") {
			t.Fatalf("the event panicked:\n%s", log)
		}
		for _, s := range []string{text, ev.author, ev.channel, canaryName} {
			if len(strings.TrimSpace(s)) >= 6 && strings.Contains(log, s) {
				t.Fatalf("%q from the event is in the log:\n%s", s, log)
			}
		}
	})
}

// fuzzEvent is one gateway event.
type fuzzEvent struct {
	kind                uint8
	text, locale        string
	id, author, channel string
	typ                 int
	bot                 bool
}

// send builds the event as JSON, as Discord sends it, decodes it with discordgo, as its
// gateway does, and hands it to the channel's handler.
func (ev fuzzEvent) send(t *testing.T, c *discord.Channel) {
	t.Helper()
	user := map[string]any{"id": ev.author, "username": canaryName, "global_name": canaryGlob, "discriminator": "0"}
	if ev.kind == fuzzDM || ev.kind == fuzzAttachment || ev.kind == fuzzGuildMessage {
		user["bot"] = ev.bot
	}
	msg := map[string]any{
		"id": ev.id, "channel_id": ev.channel, "type": ev.typ, "content": ev.text, "author": user,
		"attachments": []any{}, "timestamp": "2026-12-05T03:00:00.000000+00:00",
	}
	interaction := map[string]any{
		"id": ev.id, "application_id": appID, "token": "itoken-" + ev.id, "version": 1,
		"channel_id": ev.channel, "locale": ev.locale, "user": user, "context": 1,
	}
	var handle func(raw []byte)
	switch ev.kind {
	case fuzzDM, fuzzGuildMessage, fuzzAttachment:
		if ev.kind == fuzzGuildMessage {
			msg["guild_id"] = guildID
		}
		if ev.kind == fuzzAttachment {
			msg["attachments"] = []any{map[string]any{"id": ev.id, "filename": "photo.jpg", "size": 1, "url": "https://cdn.example/photo.jpg", "proxy_url": "https://cdn.example/p.jpg"}}
		}
		handle = func(raw []byte) {
			var m discordgo.MessageCreate
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("discordgo cannot decode %s: %v", raw, err)
			}
			discord.OnMessage(c, &m)
		}
	case fuzzButton, fuzzClaim, fuzzCommand:
		interaction["type"] = 3
		interaction["data"] = map[string]any{"custom_id": ev.text, "component_type": 2}
		interaction["message"] = map[string]any{"id": "1" + ev.id[1:], "channel_id": ev.channel, "content": "an earlier question", "type": 0,
			"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": "Yes", "custom_id": ev.text}}}}}
		if ev.kind == fuzzCommand {
			interaction["type"] = 2
			interaction["data"] = map[string]any{"id": "800000000000000008", "name": ev.text, "type": 1}
			delete(interaction, "message")
		}
		if ev.kind == fuzzClaim {
			delete(interaction, "user")
			interaction["guild_id"] = guildID
			interaction["member"] = map[string]any{"user": user, "nick": canaryNick, "roles": []any{}}
		}
		handle = func(raw []byte) {
			var i discordgo.InteractionCreate
			if err := json.Unmarshal(raw, &i); err != nil {
				t.Fatalf("discordgo cannot decode %s: %v", raw, err)
			}
			discord.OnInteraction(c, &i)
		}
	}
	body := msg
	if ev.kind != fuzzDM && ev.kind != fuzzGuildMessage && ev.kind != fuzzAttachment {
		body = interaction
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	handle(raw)
}

// channelOf is the channel id of a REST path under /channels/, if it is one.
func channelOf(path string) (string, bool) {
	_, rest, ok := strings.Cut(path, "/channels/")
	if !ok {
		return "", false
	}
	ch, _, _ := strings.Cut(rest, "/")
	return ch, true
}

// restRecorder is Discord's REST API in process: it answers every call as Discord would
// for a call that worked, and records them.
type restRecorder struct {
	mu    sync.Mutex
	calls []restCall
}

type restCall struct {
	Method, Path string
	Body         map[string]any
}

func (r *restRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body map[string]any
	if req.Body != nil {
		raw, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(raw, &body)
	}
	r.mu.Lock()
	r.calls = append(r.calls, restCall{Method: req.Method, Path: req.URL.Path, Body: body})
	r.mu.Unlock()
	status, out := http.StatusOK, `{"id":"100000000000000099","channel_id":"1","content":""}`
	switch {
	case strings.HasSuffix(req.URL.Path, "/callback"), strings.HasSuffix(req.URL.Path, "/typing"), req.Method == http.MethodDelete:
		status, out = http.StatusNoContent, ""
	}
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Request: req,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(out)),
	}, nil
}

func (r *restRecorder) reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

func (r *restRecorder) taken() []restCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]restCall(nil), r.calls...)
}
