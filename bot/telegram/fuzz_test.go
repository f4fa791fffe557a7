package telegram_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-telegram/bot/models"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/telegram"
	"intake/bot/telegram/telegramtest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// Update kinds the fuzzer builds (kind&7 % 6).
const (
	fuzzPrivateText   = iota // a student's message
	fuzzPrivateTap           // a student's button tap on a message Telegram still shows
	fuzzOldTap               // a tap on a message too old to show ("inaccessible", date 0)
	fuzzGroupText            // a message in some group
	fuzzCounsellorTap        // a tap in the counsellor group (a Claim button)
	fuzzMedia                // a student's photo with a caption
)

// FuzzTelegramUpdate: any update Telegram could send (a message or a button tap, in a
// private chat, some group or the counsellor group, from a person or a bot, with any text,
// button data, language code, names and ids) goes through the library's decoding and the
// channel's own without a panic. A student's message or tap is answered in words, in their
// own chat only and within Telegram's limits; nothing else is answered with a message;
// and nothing of the update (text, data, names, ids) is in the log. kind picks the update
// (kind&7 % 6), whether it comes from a bot (kind & 8), and whether a tap in the counsellor
// group comes from a counsellor (kind & 16).
func FuzzTelegramUpdate(f *testing.F) {
	for _, seed := range []struct {
		kind       uint8
		text       string
		from       int64
		lang, name string
	}{
		{fuzzPrivateText, "/start", 918273645, "en", "Canaryfirstname"},
		{fuzzPrivateText, "/help@intake_test_bot extra", 918273646, "nl", "Anna"},
		{fuzzPrivateText, "I want to report something", 918273647, "en-GB", ""},
		{fuzzPrivateText, "   ", 918273648, "", "x"},
		{fuzzPrivateText, "\xff\xfe", 1, "zz-ZZ", "\xff"},
		{fuzzPrivateText, strings.Repeat("😢", 5000), 2, "de", "L"},
		{fuzzPrivateTap, "1:o:0", 918273645, "en", "Canaryfirstname"},
		{fuzzPrivateTap, "g:forget", 918273649, "en", "B"},
		{fuzzPrivateTap, "", 918273650, "en", "C"},
		{fuzzOldTap, "1:o:0", 918273651, "nl", "D"},
		{fuzzGroupText, "/start@intake_test_bot", 918273652, "en", "E"},
		{fuzzCounsellorTap, "claim:K7Q2-M9XD", counsellor, "en", "anna"},
		{fuzzCounsellorTap | 16, "claim:", counsellor, "en", "anna"},
		{fuzzCounsellorTap, "claim:K7Q2-M9XD", stranger, "en", "someone"},
		{fuzzMedia, "Canary caption on a photo", 918273653, "en", "F"},
		{fuzzPrivateText | 8, "/start", 918273654, "en", "G"},
	} {
		f.Add(seed.kind, seed.text, seed.from, seed.lang, seed.name)
	}
	api := telegramtest.NewServer(testToken)
	f.Cleanup(api.Close)
	client, prefix := redistest.Client(f)
	store := redis.New(client, redis.Options{Prefix: prefix})
	log, logs := bottest.DebugLog()
	e := bottest.LoggedEngine(f, store, log)
	names, err := bot.NewPseudonyms(bytes.Repeat([]byte{7}, bot.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	cfg := telegram.Config{Token: testToken, Mode: telegram.ModePoll, ServerURL: api.URL(), Replica: "fuzz"}
	withGroup(&cfg)
	ch, err := telegram.New(cfg, telegram.Deps{Engine: e, Desk: bottest.Desk(f, e, store, "anna"), Names: names, Leases: store, Announcements: store, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	var ids atomic.Int64
	f.Fuzz(func(t *testing.T, kind uint8, text string, from int64, lang, name string) {
		if from < 0 {
			from = -from
		}
		from = from%1_000_000_000_000 + 1 // a user id, as Telegram gives them
		id := ids.Add(1)
		u, chat := fuzzUpdate(t, id, kind, text, from, lang, name)
		api.Reset()
		logged := len(logs.String())
		served := telegram.HandleNow(ch, u)

		var sent int
		for _, c := range api.Calls("") {
			if to, ok := c.Form["chat_id"]; ok && to != strconv.FormatInt(chat, 10) {
				t.Fatalf("%s to chat %s, but the update came from chat %d", c.Method, to, chat)
			}
			if c.Method != "sendMessage" {
				continue
			}
			sent++
			if txt := c.Form["text"]; strings.TrimSpace(txt) == "" || len(utf16(txt)) > telegram.MaxMessage {
				t.Fatalf("sent a message of %d UTF-16 units (empty or over Telegram's limit)", len(utf16(txt)))
			}
		}
		what := kind & 7 % 6
		student := what != fuzzGroupText && what != fuzzCounsellorTap && kind&8 == 0
		// A tap without data and a message without text or media ask nothing.
		asked := text != "" || what == fuzzMedia
		switch {
		case student && asked && !served:
			t.Fatal("a student's update was not served")
		case student && asked && sent == 0:
			t.Fatalf("a student's update got no answer; calls:\n%s", api.CallLog())
		case !student && sent > 0:
			t.Fatalf("%d messages sent for an update that is not a student's", sent)
		case sent > 20:
			t.Fatalf("%d messages for one update", sent)
		}
		log := logs.String()[logged:]
		if strings.Contains(log, "panicked") {
			t.Fatalf("the update panicked:\n%s", log)
		}
		for _, s := range []string{text, name, strconv.FormatInt(from, 10), strconv.FormatInt(chat, 10)} {
			if len(strings.TrimSpace(s)) >= 6 && strings.Contains(log, s) {
				t.Fatalf("%q from the update is in the log:\n%s", s, log)
			}
		}
	})
}

// fuzzUpdate builds an update as JSON, the way Telegram sends it, and decodes it with the
// library, as polling and the webhook do. It returns the update and its chat.
func fuzzUpdate(t *testing.T, id int64, kind uint8, text string, from int64, lang, name string) (*models.Update, int64) {
	t.Helper()
	user := map[string]any{"id": from, "is_bot": kind&8 != 0, "first_name": name, "username": name + "_u", "language_code": lang}
	private := map[string]any{"id": from, "type": "private", "first_name": name}
	tapOn := func(chat map[string]any, date int64) map[string]any {
		return map[string]any{
			"id": "cb" + strconv.FormatInt(id, 10), "from": user, "chat_instance": "42", "data": text,
			"message": map[string]any{"message_id": 7, "date": date, "chat": chat, "text": "an earlier question"},
		}
	}
	u := map[string]any{"update_id": id}
	chat := from
	switch kind & 7 % 6 {
	case fuzzPrivateText:
		u["message"] = map[string]any{"message_id": id, "date": 1764000000, "from": user, "chat": private, "text": text}
	case fuzzPrivateTap:
		u["callback_query"] = tapOn(private, 1764000000)
	case fuzzOldTap:
		u["callback_query"] = tapOn(private, 0)
	case fuzzGroupText:
		chat = -from
		u["message"] = map[string]any{"message_id": id, "date": 1764000000, "from": user, "chat": map[string]any{"id": chat, "type": "group", "title": name}, "text": text}
	case fuzzCounsellorTap:
		chat = group
		if kind&16 != 0 {
			user["id"] = counsellor
		}
		u["callback_query"] = tapOn(map[string]any{"id": group, "type": "supergroup", "title": "Counsellors"}, 1764000000)
	case fuzzMedia:
		photo := []map[string]any{{"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}}
		u["message"] = map[string]any{"message_id": id, "date": 1764000000, "from": user, "chat": private, "photo": photo, "caption": text}
	}
	raw, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var upd models.Update
	if err := json.Unmarshal(raw, &upd); err != nil {
		t.Fatalf("the library cannot decode %s: %v", raw, err)
	}
	return &upd, chat
}
